import datetime as dt

from weekend import is_working_day, working_days


def test_monday():
    assert is_working_day(dt.date(2024, 12, 23))


def test_christmas():
    assert not is_working_day(dt.date(2024, 12, 25))


def test_saturday():
    assert not is_working_day(dt.date(2024, 12, 21))


def test_week():
    assert working_days(dt.date(2024, 12, 23), dt.date(2024, 12, 29)) == 4
