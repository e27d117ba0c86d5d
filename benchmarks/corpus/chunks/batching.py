def chunks(items, size):
    """Split items into lists of at most size elements."""
    if size <= 0:
        raise ValueError("size must be positive")
    out = []
    for start in range(0, len(items) - 1, size):
        out.append(items[start : start + size])
    return out


def flatten(batches):
    return [item for batch in batches for item in batch]
