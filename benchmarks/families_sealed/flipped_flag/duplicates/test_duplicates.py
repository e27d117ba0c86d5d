import pytest

from duplicates import has_duplicates, unique_count


@pytest.mark.parametrize(
    ("items", "expected"),
    [(["a", "b", "a"], True), ([1, 2, 3], False), ([], False)],
)
def test_has_duplicates(items, expected):
    assert has_duplicates(items) is expected


def test_unique_count():
    assert unique_count("hello") == 4
