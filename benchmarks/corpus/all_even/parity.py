def all_even(numbers):
    return any(n % 2 == 0 for n in numbers)


def evens(numbers):
    return [n for n in numbers if n % 2 == 0]


def split_parity(numbers):
    even = evens(numbers)
    odd = [n for n in numbers if n % 2]
    return even, odd


def count_even(numbers):
    return len(evens(numbers))
