from volume import total_volume, volume


def test_cube():
    assert volume([2, 2, 2]) == 8


def test_box():
    assert volume([3, 4, 5]) == 60


def test_total():
    assert total_volume([[1, 2, 3], [2, 5, 1]]) == 16
