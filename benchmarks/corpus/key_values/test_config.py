from config import parse_pairs


def test_pairs():
    assert parse_pairs("a=1; b=2") == {"a": "1", "b": "2"}


def test_trailing_separator():
    assert parse_pairs("x = y;") == {"x": "y"}


def test_empty():
    assert parse_pairs("") == {}
