"""Memory of failures and fixes (ChromaDB): ranks suggestions and learns from verdicts.

A core package with no LSP in it. `import fixloop.memory` costs nothing: its modules
load when a name is first used, and ChromaDB only when a store is first opened, so the
server's start-up never waits for memory.

Storage only: what a fix session makes of the records is the loop's
(`FixSession(..., memory=loop.recall.SessionMemory(store))`, see loop/recall.py): the
offline templates' prior (successes per candidate generated among similar failures,
shrunk toward the engine's own rates), past fixes for the LLM prompt, and one suggestion
tested before anything else: a remembered fix re-applied to today's code, or else the
engine's likeliest edit of the same shape as a remembered fix (the same kind of bug in
other code, shapes.py). Fixes rank by similarity x success rate x acceptance.

The user's verdict (for the editor): a verified session's `FixResult.record_id` names
the record of the fix it offers. When the user dismisses that fix, or applies it and
later undoes it, call

    store.record_verdict(result.record_id, Verdict.REJECTED)   # or REVERTED, ACCEPTED

(blocking: off the event loop). Rejected and reverted fixes rank down (a revert weighs
twice a rejection) and are no longer carried over to other code; an accepted one ranks
up. A suggestion that was offered and never taken needs no call: nothing counts against
it. Only a re-applied fix that failed the tests counts against the remembered one
(`failed_reuses`, recorded by the session itself). `record_verdict` returns False when
the record is unknown or the store is down (the verdict then waits in the spool).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fixloop.memory.records import AttemptRecord, Outcome, Verdict, attempt_from_candidate
    from fixloop.memory.signature import FailureSignature, signature_of
    from fixloop.memory.store import (
        MemoryConfig,
        MemoryStats,
        MemoryStore,
        MemoryUnavailable,
        RememberedFix,
        default_memory_path,
    )

_MODULES = {
    "AttemptRecord": "records",
    "Outcome": "records",
    "Verdict": "records",
    "attempt_from_candidate": "records",
    "FailureSignature": "signature",
    "signature_of": "signature",
    "MemoryConfig": "store",
    "MemoryStats": "store",
    "MemoryStore": "store",
    "MemoryUnavailable": "store",
    "RememberedFix": "store",
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
