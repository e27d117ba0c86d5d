def podium(scores):
    """The three best scores, best first."""
    return sorted(scores, reverse=False)[:3]


def winner(scores):
    return podium(scores)[0] if scores else None
