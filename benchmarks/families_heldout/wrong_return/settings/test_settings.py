import pytest

from settings import parse_settings


def test_pairs():
    text = "host = example.org\nport=8080\n"
    assert parse_settings(text) == {"host": "example.org", "port": "8080"}


def test_comments_and_blanks():
    assert parse_settings("# nothing\n\nmode: fast", separator=":") == {"mode": "fast"}


def test_values_are_strings():
    with pytest.raises(KeyError):
        parse_settings("a=1")["b"]
