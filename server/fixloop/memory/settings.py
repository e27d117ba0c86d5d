"""The memory's own settings (`[tool.fixloop.memory]`, LSP `fixloop.memory.*`,
`FIXLOOP_MEMORY_*`): a plain frozen dataclass the central settings (fixloop/config.py)
embed; `MemoryConfig.from_settings` turns it into how to reach the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from fixloop.trust import RESTRICTED


@dataclass(frozen=True)
class MemorySettings:
    """Where failures and fixes are remembered. Fields marked RESTRICTED (where the data
    goes) come from a project's files only once it is trusted."""

    enabled: bool = True
    # The embedded store's folder (None: $XDG_DATA_HOME/fixloop/memory).
    path: str | None = field(default=None, metadata=RESTRICTED)
    # A Chroma server shared by a team (`http://host:8000`) instead of the embedded store.
    url: str | None = field(default=None, metadata=RESTRICTED)
    # "hashed" (offline, the default), "hashed:DIM", "openai:MODEL", "sentence-transformers:M"
    embedding: str | None = field(default=None, metadata=RESTRICTED)
    # Records older than this many days are pruned.
    retention_days: int = 90
    # Records kept per kind of failure; beyond it the least useful go first (failed
    # tries, then unrated or rejected fixes, accepted fixes last).
    cap_per_kind: int = 1000


class ModelEndpoint(Protocol):
    """The model endpoint an `openai:` embedding shares (`LlmSettings` is one). A protocol,
    not `LlmSettings` itself: memory is storage and must not import the loop, which
    depends on memory (the loop's settings then stay the loop's to change)."""

    @property
    def base_url(self) -> str | None: ...

    @property
    def api_key_env(self) -> str: ...
