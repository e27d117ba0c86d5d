def restock(levels, threshold, amount):
    """Stock levels after topping up every item below the threshold."""
    updated = dict(levels)
    for item, level in levels.items():
        if level < threshold:
            updated[item] = level + amount
    return levels


def shortage(levels, threshold):
    return sorted(item for item, level in levels.items() if level < threshold)
