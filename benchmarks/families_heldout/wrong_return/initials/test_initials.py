import pytest

from initials import badge, initials


@pytest.mark.parametrize(
    ("name", "expected"),
    [("ada lovelace", "AL"), ("Jean-Luc Picard", "JLP"), ("  grace  ", "G")],
)
def test_initials(name, expected):
    assert initials(name) == expected


def test_badge():
    assert badge("alan turing", "ops") == "AT@ops"
