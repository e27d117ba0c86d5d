from cipher import encode, neighbours


def test_encode():
    assert encode("Hello, z", 1) == "ifmmp, a"


def test_neighbours():
    assert neighbours("c") == ("b", "d")


def test_neighbours_wrap():
    assert neighbours("z") == ("y", "a")
    assert neighbours("a") == ("z", "b")
