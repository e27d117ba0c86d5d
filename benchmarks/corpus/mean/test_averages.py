import pytest

from averages import centered, mean


def test_whole():
    assert mean([2, 4]) == 3


def test_fraction():
    assert mean([1, 2]) == 1.5


def test_centered():
    assert centered([1, 2]) == [-0.5, 0.5]


def test_empty():
    with pytest.raises(ValueError):
        mean([])


def test_median_odd():
    from averages import median

    assert median([3, 1, 2]) == 2
