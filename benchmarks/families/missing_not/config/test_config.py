from config import parse_settings


def test_values():
    assert parse_settings("a = 1\nb=two") == {"a": "1", "b": "two"}


def test_comments_skipped():
    assert parse_settings("# note\nport = 80\n\n") == {"port": "80"}


def test_empty():
    assert parse_settings("") == {}
