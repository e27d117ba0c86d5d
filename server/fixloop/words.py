"""Counts in the words people read: "1 candidate", "2 candidates"."""


def counted(count: int, noun: str) -> str:
    """`count` and `noun`, plural (an added "s") unless the count is one."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
