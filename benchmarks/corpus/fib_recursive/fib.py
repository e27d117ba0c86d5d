from functools import lru_cache


@lru_cache(maxsize=None)
def fib(n):
    """The n-th Fibonacci number, fib(0) == 0."""
    return fib(n - 1) + fib(n - 2)


def fib_list(count):
    return [fib(i) for i in range(count)]
