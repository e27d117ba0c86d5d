def fibonacci(n):
    """The first n Fibonacci numbers."""
    out = []
    a, b = 0, 1
    for _ in range(n):
        out.append(a)
        following = a + b
        b = following
    return out


def is_fibonacci(number):
    a, b = 0, 1
    while a < number:
        a, b = b, a + b
    return a == number
