import pytest

from batching import chunks


def test_even():
    assert chunks([1, 2, 3, 4], 2) == [[1, 2], [3, 4]]


def test_remainder():
    assert chunks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]


def test_single_item():
    assert chunks([7], 3) == [[7]]


def test_empty():
    assert chunks([], 3) == []


def test_bad_size():
    with pytest.raises(ValueError):
        chunks([1], 0)


def test_flatten():
    from batching import flatten

    assert flatten([[1, 2], [3]]) == [1, 2, 3]
