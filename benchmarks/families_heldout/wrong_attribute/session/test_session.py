import datetime as dt

import pytest

from session import Session, total_hours

NOON = dt.datetime(2024, 5, 1, 12, 0)


def test_duration():
    assert Session("kim", NOON, NOON + dt.timedelta(minutes=90)).duration() == 5400


def test_open_session():
    with pytest.raises(ValueError, match="still logged in"):
        Session("kim", NOON).duration()


def test_total_hours():
    day = [Session("a", NOON, NOON + dt.timedelta(hours=2)), Session("b", NOON)]
    assert total_hours(day) == 2
