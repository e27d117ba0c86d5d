from rle import decode, encode


def test_encode():
    assert encode("aaabcc") == [("a", 3), ("b", 1), ("c", 2)]


def test_single_run():
    assert encode("zzz") == [("z", 3)]


def test_empty():
    assert encode("") == []


def test_round_trip():
    assert decode(encode("hello")) == "hello"
