import pytest

from account import Account, InsufficientFunds


def test_deposit():
    a = Account()
    a.deposit(10)
    assert a.balance == 10


def test_withdraw():
    a = Account(10)
    assert a.withdraw(4) == 6


def test_overdraw():
    a = Account(5)
    with pytest.raises(InsufficientFunds):
        a.withdraw(6)
    assert a.balance == 5


def test_negative_deposit():
    with pytest.raises(ValueError):
        Account().deposit(-1)
