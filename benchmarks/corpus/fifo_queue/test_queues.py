import pytest

from queues import Queue


def test_fifo():
    q = Queue()
    for i in range(3):
        q.put(i)
    assert [q.get(), q.get(), q.get()] == [0, 1, 2]


def test_len():
    q = Queue()
    q.put("a")
    assert len(q) == 1


def test_single():
    q = Queue()
    q.put("x")
    assert q.get() == "x"


def test_empty():
    with pytest.raises(IndexError):
        Queue().get()
