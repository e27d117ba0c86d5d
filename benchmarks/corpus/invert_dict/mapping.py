def invert(mapping):
    """value -> key; values must be unique."""
    if len(set(mapping.values())) != len(mapping):
        raise ValueError("values are not unique")
    return {key: value for key, value in mapping.items()}


def lookup_key(mapping, value):
    return invert(mapping).get(value)


def merge_counts(first, second):
    merged = dict(first)
    for key, count in second.items():
        merged[key] = merged.get(key, 0) + count
    return merged
