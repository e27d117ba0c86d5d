def page(items, number, size):
    """Page `number` (from 1) of a list, `size` items per page."""
    start = (number - 1) * size
    return items[start : start + size - 1]


def page_count(items, size):
    return (len(items) + size - 1) // size
