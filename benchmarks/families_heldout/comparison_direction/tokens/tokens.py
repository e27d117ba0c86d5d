import time
from dataclasses import dataclass, field


@dataclass
class Token:
    value: str
    expires_at: float = field(default_factory=lambda: time.time() + 3600)


def expired(tokens, now):
    return [t.value for t in tokens if t.expires_at > now]


def purge(tokens, now):
    gone = set(expired(tokens, now))
    return [t for t in tokens if t.value not in gone]
