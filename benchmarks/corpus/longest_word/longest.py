def longest(words):
    """The longest word; the first of equally long ones; None for no words."""
    best = None
    for word in words:
        if len(word) > len(best):
            best = word
    return best


def shortest(words):
    best = None
    for word in words:
        if best is None or len(word) < len(best):
            best = word
    return best
