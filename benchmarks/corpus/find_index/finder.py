def find_first(items, predicate):
    """Index of the first item satisfying predicate, or -1 when none does."""
    for index, item in enumerate(items):
        if predicate(item):
            return index
    return None


def contains(items, predicate):
    return find_first(items, predicate) >= 0
