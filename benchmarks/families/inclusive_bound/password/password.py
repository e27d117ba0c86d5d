MIN_LENGTH = 8


def problems(password):
    """What is wrong with a password; eight characters are long enough."""
    found = []
    if len(password) <= MIN_LENGTH:
        found.append("too short")
    if not any(ch.isdigit() for ch in password):
        found.append("no digit")
    return found


def is_strong(password):
    return not problems(password)
