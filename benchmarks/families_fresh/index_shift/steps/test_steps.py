import pytest

from steps import Recipe


def recipe():
    return Recipe("tea", ["boil water", "add leaves", "wait", "pour"])


def test_first_step():
    assert recipe().step(1) == "boil water"


def test_outline():
    assert recipe().outline()[-1] == "4. pour"


def test_out_of_range():
    with pytest.raises(IndexError):
        recipe().step(5)
