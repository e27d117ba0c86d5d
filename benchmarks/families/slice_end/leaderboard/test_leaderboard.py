from leaderboard import top, winners


def test_top_two():
    assert top({"a": 3, "b": 9, "c": 5}, 2) == [("b", 9), ("c", 5)]


def test_winners():
    assert winners({"a": 1, "b": 2, "c": 3, "d": 4}) == ["d", "c", "b"]


def test_more_than_there_are():
    assert top({"a": 1}, 5) == [("a", 1)]
