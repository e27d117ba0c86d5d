import pytest

from spread import stdev, variance


def test_constant():
    assert variance([3, 3, 3]) == 0


def test_simple():
    assert variance([1, 3]) == 1


def test_stdev():
    assert stdev([2, 4, 4, 4, 5, 5, 7, 9]) == 2


def test_empty():
    with pytest.raises(ValueError):
        variance([])
