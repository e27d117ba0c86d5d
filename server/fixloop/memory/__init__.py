"""Memory of failures and fixes (ChromaDB): ranks suggestions and learns from verdicts.

A core package with no LSP in it. Importing it is cheap: ChromaDB is imported only
when a store is first used.
"""

from __future__ import annotations

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
