def top(scores, n):
    """The n best (name, score) pairs, best first."""
    ranked = sorted(scores.items(), key=lambda pair: pair[1], reverse=True)
    return ranked[: n - 1]


def winners(scores):
    return [name for name, _ in top(scores, 3)]
