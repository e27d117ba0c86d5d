def factorial(n):
    if n < 0:
        raise ValueError("n must not be negative")
    product = 1
    for k in range(1, n):
        product *= k
    return product
