from changes import biggest_rise, daily_changes


def test_changes():
    assert daily_changes([10, 12, 9, 15]) == [2, -3, 6]


def test_single():
    assert daily_changes([4]) == []


def test_biggest():
    assert biggest_rise([5, 6, 4, 9]) == 5
