def needs_reorder(item, on_hand, reorder_level):
    """An item is reordered once stock falls to its reorder level or below."""
    if on_hand < reorder_level:
        return True
    return False


def reorder_list(levels, stock):
    return sorted(name for name, level in levels.items() if needs_reorder(name, stock.get(name, 0), level))
