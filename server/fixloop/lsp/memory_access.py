"""The server's handle on memory: one store per memory configuration, opened on first use
(always from a worker thread: opening ChromaDB takes a second or more)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from fixloop.config import Settings
    from fixloop.lsp.server import FixloopServer
    from fixloop.memory.store import MemoryConfig, MemoryStore

logger = logging.getLogger(__name__)


class MemoryAccess:
    def __init__(self, server: FixloopServer) -> None:
        self._server = server
        self._stores: dict[MemoryConfig, MemoryStore] = {}
        self._missing_said = False

    def store_for(self, settings: Settings) -> MemoryStore | None:
        """The store the settings name; None when memory is off or not installed (said
        once in the log). Cheap: nothing opens."""
        if not settings.memory.enabled:
            return None
        from fixloop.memory.extra import memory_missing

        if (missing := memory_missing()) is not None:
            if not self._missing_said:
                self._missing_said = True
                logger.warning("fixloop: %s", missing)
            return None
        from fixloop.memory.store import MemoryConfig, MemoryStore

        config = MemoryConfig.from_settings(settings.memory, settings.llm)
        if config not in self._stores:
            self._stores[config] = MemoryStore(config, on_unavailable=self._say_threadsafe())
        return self._stores[config]

    def _say_threadsafe(self) -> Callable[[str], None]:
        loop = asyncio.get_running_loop()
        server = self._server

        def say(reason: str) -> None:  # once per store and outage (the store decides)
            params = types.ShowMessageParams(
                type=types.MessageType.Warning, message=f"fixloop: {reason}"
            )
            loop.call_soon_threadsafe(server.window_show_message, params)

        return say

    def close(self) -> None:
        for store in self._stores.values():
            store.close()
        self._stores.clear()
