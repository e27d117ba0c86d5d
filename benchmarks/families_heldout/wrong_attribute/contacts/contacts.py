from typing import NamedTuple


class Contact(NamedTuple):
    first: str
    last: str
    email: str


def directory(contacts):
    """Contacts sorted by family name, as `Last, First <email>`."""
    ordered = sorted(contacts, key=lambda c: c.first)
    return [f"{c.last}, {c.first} <{c.email}>" for c in ordered]
