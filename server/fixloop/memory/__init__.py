"""Memory of failures and fixes (ChromaDB): ranks suggestions and learns from verdicts.

A core package with no LSP in it. `import fixloop.memory` costs nothing: its modules
load when a name is first used, and ChromaDB only when a store is first opened, so the
server's start-up never waits for memory.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fixloop.memory.records import AttemptRecord, Outcome, Verdict, attempt_from_candidate
    from fixloop.memory.session import SessionMemory
    from fixloop.memory.signature import FailureSignature, signature_of
    from fixloop.memory.store import (
        MemoryConfig,
        MemoryStats,
        MemoryStore,
        MemoryUnavailable,
        RememberedFix,
        Suggestion,
        default_memory_path,
    )

_MODULES = {
    "AttemptRecord": "records",
    "Outcome": "records",
    "Verdict": "records",
    "attempt_from_candidate": "records",
    "SessionMemory": "session",
    "FailureSignature": "signature",
    "signature_of": "signature",
    "MemoryConfig": "store",
    "MemoryStats": "store",
    "MemoryStore": "store",
    "MemoryUnavailable": "store",
    "RememberedFix": "store",
    "Suggestion": "store",
    "default_memory_path": "store",
}

__all__ = [
    "AttemptRecord",
    "FailureSignature",
    "MemoryConfig",
    "MemoryStats",
    "MemoryStore",
    "MemoryUnavailable",
    "Outcome",
    "RememberedFix",
    "SessionMemory",
    "Suggestion",
    "Verdict",
    "attempt_from_candidate",
    "default_memory_path",
    "signature_of",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
