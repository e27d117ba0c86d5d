from calendar_utils import days_in_february, days_in_year, is_leap


def test_ordinary_leap():
    assert is_leap(2024)


def test_common_year():
    assert not is_leap(2023)


def test_century():
    assert not is_leap(1900)


def test_four_hundred():
    assert is_leap(2000)


def test_days():
    assert days_in_year(2020) == 366
    assert days_in_february(2021) == 28
