from sequence import fibonacci


def test_first():
    assert fibonacci(1) == [0]


def test_several():
    assert fibonacci(7) == [0, 1, 1, 2, 3, 5, 8]


def test_none():
    assert fibonacci(0) == []


def test_is_fibonacci():
    from sequence import is_fibonacci

    assert is_fibonacci(13)
    assert not is_fibonacci(4)
