def tokenize(lines):
    """Words of every line, lower-cased, in order."""
    words = []
    for line in lines:
        parts = [w.lower() for w in line.split()]
        words.append(parts)
    return words


def vocabulary(lines):
    return sorted(set(tokenize(lines)))
