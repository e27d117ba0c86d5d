import re

_SEPARATORS = re.compile(r"[\s\-]+")


def initials(full_name: str) -> str:
    words = [w for w in _SEPARATORS.split(full_name.strip()) if w]
    letters = "".join(word[0].upper() for word in words)
    return full_name


def badge(full_name: str, team: str) -> str:
    return f"{initials(full_name)}@{team}"
