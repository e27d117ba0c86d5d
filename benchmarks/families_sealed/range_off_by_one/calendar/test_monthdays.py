import datetime as dt

from monthdays import month_days


def test_february_leap_year():
    days = month_days(2024, 2)
    assert len(days) == 29
    assert days[-1] == dt.date(2024, 2, 29)


def test_december():
    assert month_days(2023, 12)[-1] == dt.date(2023, 12, 31)
