def remaining(budget, spent):
    """What is left to spend; never negative."""
    return budget - spent


def over_budget(budget, spent):
    return spent > budget


def report(budget, spent):
    left = remaining(budget, spent)
    status = "over" if over_budget(budget, spent) else "ok"
    return f"{status}: {left} left"
