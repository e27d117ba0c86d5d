import pytest

from lists import at, last


def test_inside():
    assert at([1, 2, 3], 1) == 2


def test_negative():
    assert at([1, 2, 3], -5) == 1


def test_too_large():
    assert at([1, 2, 3], 10) == 3


def test_last():
    assert last(["x", "y"]) == "y"


def test_empty():
    with pytest.raises(IndexError):
        at([], 0)
