import pytest

from factorial import factorial


@pytest.mark.parametrize(("n", "expected"), [(0, 1), (1, 1), (4, 24), (6, 720)])
def test_factorial(n, expected):
    assert factorial(n) == expected


def test_negative():
    with pytest.raises(ValueError):
        factorial(-2)
