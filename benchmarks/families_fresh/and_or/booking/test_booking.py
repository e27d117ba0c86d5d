from datetime import date

from booking import can_book, first_free, overlaps


def test_overlap():
    assert overlaps(date(2024, 5, 1), date(2024, 5, 4), date(2024, 5, 3), date(2024, 5, 6))


def test_back_to_back():
    assert not overlaps(date(2024, 5, 1), date(2024, 5, 3), date(2024, 5, 3), date(2024, 5, 5))


def test_can_book():
    taken = [(date(2024, 5, 1), date(2024, 5, 3))]
    assert can_book(taken, date(2024, 5, 3), date(2024, 5, 4))
    assert not can_book(taken, date(2024, 5, 2), date(2024, 5, 4))


def test_first_free():
    taken = [(date(2024, 5, 1), date(2024, 5, 5))]
    assert first_free(taken, 2, date(2024, 5, 2)) == date(2024, 5, 5)
