def mean(values):
    if not values:
        raise ValueError("mean of no values")
    return int(sum(values) / len(values))


def centered(values):
    m = mean(values)
    return [v - m for v in values]


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else mean(ordered[middle - 1 : middle + 1])
