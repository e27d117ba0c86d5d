import pytest

from ordered import first_drop, is_ascending


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1, 2, 2, 5], True), ([3, 1], False), ([], True), (["a", "b"], True)],
)
def test_is_ascending(values, expected):
    assert is_ascending(values) is expected


def test_first_drop():
    assert first_drop([1, 4, 2]) == 2
