from bars import bar, histogram


def test_bar():
    assert bar("cats", 3) == "cats    ###"


def test_zero():
    assert bar("x", 0, width=3) == "x  "


def test_histogram():
    assert histogram({"b": 1, "a": 2}, width=2) == "a ##\nb #"


def test_scaled():
    from bars import scaled

    assert scaled({"a": 40, "b": 10}) == {"a": 20, "b": 5}
