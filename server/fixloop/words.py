"""Counts in the words people read: "1 candidate", "2 candidates"."""

from __future__ import annotations

from collections.abc import Sequence


def counted(count: int, noun: str) -> str:
    """`count` and `noun`, plural (an added "s") unless the count is one."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def first_and_more(names: Sequence[str]) -> str:
    """The first of some names, and how many follow: "a", "a and 2 more"."""
    rest = len(names) - 1
    return f"{names[0]} and {rest} more" if rest else names[0]
