import pytest

from odds import all_succeed, combined_odds


def test_two_coins():
    assert combined_odds([0.5, 0.5]) == 0.25


def test_certain():
    assert combined_odds([1.0, 1.0, 1.0]) == 1.0


def test_steps():
    assert all_succeed([{"p": 0.5}, {"p": 0.2}]) == pytest.approx(0.1)


def test_invalid():
    with pytest.raises(ValueError):
        combined_odds([1.5])
