from template import render


def test_one():
    assert render("Hello {who}!", {"who": "Ada"}) == "Hello Ada!"


def test_two():
    assert render("{a}+{b}", {"a": 1, "b": 2}) == "1+2"


def test_none():
    assert render("plain", {}) == "plain"
