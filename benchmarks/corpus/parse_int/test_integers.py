import pytest

from integers import parse_int


def test_positive():
    assert parse_int("42") == 42


def test_plus():
    assert parse_int("+7") == 7


def test_negative():
    assert parse_int(" -15 ") == -15


def test_bad():
    with pytest.raises(ValueError):
        parse_int("4a")
