from fib import fib, fib_list


def test_base():
    assert fib(0) == 0
    assert fib(1) == 1


def test_ten():
    assert fib(10) == 55


def test_list():
    assert fib_list(6) == [0, 1, 1, 2, 3, 5]
