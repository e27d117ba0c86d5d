import datetime

from birthdays import days_until_birthday, next_birthday


def test_later_this_year():
    assert days_until_birthday(datetime.date(2023, 3, 1), datetime.date(1990, 3, 11)) == 10


def test_today():
    assert days_until_birthday(datetime.date(2023, 5, 5), datetime.date(2000, 5, 5)) == 0


def test_next_year():
    d = next_birthday(datetime.date(2023, 12, 30), datetime.date(1999, 1, 2))
    assert d == datetime.date(2024, 1, 2)


def test_days_next_year():
    assert days_until_birthday(datetime.date(2023, 12, 30), datetime.date(1999, 1, 2)) == 3
