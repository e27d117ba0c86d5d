import pytest

from mapping import invert, lookup_key


def test_invert():
    assert invert({"a": 1, "b": 2}) == {1: "a", 2: "b"}


def test_empty():
    assert invert({}) == {}


def test_lookup():
    assert lookup_key({"x": 9}, 9) == "x"


def test_duplicates():
    with pytest.raises(ValueError):
        invert({"a": 1, "b": 1})


def test_merge_counts():
    from mapping import merge_counts

    assert merge_counts({"a": 1}, {"a": 2, "b": 1}) == {"a": 3, "b": 1}
