from podium import podium, winner


def test_podium():
    assert podium([4, 9, 1, 7, 8]) == [9, 8, 7], "highest first"


def test_winner():
    assert winner([3, 12, 5]) == 12


def test_nobody():
    assert winner([]) is None
