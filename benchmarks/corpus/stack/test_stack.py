import pytest

from stack import Stack


def test_push_pop():
    s = Stack()
    s.push(1)
    s.push(2)
    assert s.pop() == 2
    assert s.pop() == 1


def test_len():
    s = Stack()
    s.push("a")
    s.push("b")
    assert len(s) == 2


def test_len_after_pop():
    s = Stack()
    s.push("a")
    s.pop()
    assert len(s) == 0


def test_empty_pop():
    with pytest.raises(IndexError):
        Stack().pop()
