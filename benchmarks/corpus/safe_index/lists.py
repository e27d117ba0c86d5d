def at(items, index):
    """items[index], with index clamped into the list (last item for too large)."""
    if not items:
        raise IndexError("empty list")
    index = min(max(index, 0), len(items))
    return items[index]


def last(items):
    return at(items, len(items))
