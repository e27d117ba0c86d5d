import pytest

from grid import Grid


def test_cells():
    assert Grid(4, 3).cells() == 12


def test_index_of_the_last_cell():
    grid = Grid(4, 3)
    assert grid.index(3, 2) == grid.cells() - 1


def test_outside():
    with pytest.raises(IndexError):
        Grid(2, 2).index(2, 0)
