import datetime

from months import add_months, days_in_month


def test_simple():
    assert add_months(datetime.date(2024, 1, 15), 1) == datetime.date(2024, 2, 15)


def test_year_wrap():
    assert add_months(datetime.date(2023, 11, 3), 3) == datetime.date(2024, 2, 3)


def test_clamp():
    assert add_months(datetime.date(2023, 1, 31), 1) == datetime.date(2023, 2, 28)


def test_december():
    assert add_months(datetime.date(2023, 12, 5), 0) == datetime.date(2023, 12, 5)


def test_days_in_month():
    assert days_in_month(2024, 2) == 29
