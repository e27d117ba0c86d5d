import math


def variance(values):
    """Population variance."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = sum(values) / n
    return sum(v - mean for v in values) / n


def stdev(values):
    return math.sqrt(variance(values))
