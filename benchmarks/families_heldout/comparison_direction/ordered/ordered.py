def is_ascending(values):
    """Whether each value is at least the one before it."""
    return all(left >= right for left, right in zip(values, values[1:]))


def first_drop(values):
    for i in range(1, len(values)):
        if values[i] < values[i - 1]:
            return i
    return None
