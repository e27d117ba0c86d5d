def last_lines(text, count):
    """The last `count` lines of a text, oldest first."""
    lines = text.splitlines()
    if count <= 0:
        return []
    return lines[-count + 1 :]


def tail_report(text):
    return " | ".join(last_lines(text, 2))
