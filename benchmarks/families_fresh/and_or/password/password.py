SYMBOLS = set("!@#$%^&*-_")


def strength(password):
    """0 to 3: one point each for length, mixed case, and a digit or symbol."""
    score = 0
    if len(password) >= 10:
        score += 1
    if any(c.isupper() for c in password) or any(c.islower() for c in password):
        score += 1
    if any(c.isdigit() or c in SYMBOLS for c in password):
        score += 1
    return score


def acceptable(password):
    return strength(password) >= 2
