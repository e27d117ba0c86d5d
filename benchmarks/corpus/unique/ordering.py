def unique_in_order(items):
    """Items without repeats, in order of first appearance."""
    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
    return out


def duplicates(items):
    seen = set()
    repeated = []
    for item in items:
        if item in seen and item not in repeated:
            repeated.append(item)
        seen.add(item)
    return repeated
