def neighbours(sequence):
    """Each element with the next one: [(a, b), (b, c), ...]."""
    out = []
    for index in range(1, len(sequence) - 1):
        out.append((sequence[index], sequence[index + 1]))
    return out


def steps(values):
    return [b - a for a, b in neighbours(values)]
