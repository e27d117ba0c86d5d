"""Learning from the editor: what the user did with a fix fixloop applied.

- reverted: within the next `KEEP_AFTER_EDITS` changes of the document, its text returns
  to exactly what it was before the fix (an undo, or the old text typed back);
- accepted ("kept"): the document is saved or closed with the fix still in it, or
  `KEEP_AFTER_EDITS` further changes pass without the text returning. A save records
  `accepted` at once, but the watch goes on until the window closes, so an undo right
  after a save still counts as reverted (the later verdict replaces the earlier);
- no verdict: the user rewrote the fixed lines into something else before any of the
  above, or the editor never applied the edit. A suggestion offered and never chosen is
  never watched, so it counts neither for nor against its fix.

"Still in it" means the whole lines the fix wrote are still in the document, unchanged.
Verdicts go to memory (`MemoryStore.record_verdict`) from a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types

from fixloop.analysis.source import common_prefix, common_suffix
from fixloop.lsp.feature import Feature

if TYPE_CHECKING:
    from fixloop.lsp.documents import OpenDocument
    from fixloop.lsp.server import FixloopServer
    from fixloop.memory.records import Verdict
    from fixloop.memory.store import MemoryStore

logger = logging.getLogger(__name__)

KEEP_AFTER_EDITS = 20
# An edit the editor never applied: stop waiting for its text after this many changes.
_UNSEEN_LIMIT = 5


def fixed_lines(before: bytes, after: bytes) -> bytes:
    """The whole lines of `after` that the change from `before` touched (with the line
    before too when it only deleted)."""
    prefix = common_prefix(before, after)
    suffix = common_suffix(before, after, min(len(before), len(after)) - prefix)
    start = after.rfind(b"\n", 0, prefix) + 1
    end_at = after.find(b"\n", len(after) - suffix)
    end = len(after) if end_at < 0 else end_at + 1
    if prefix >= len(after) - suffix:  # nothing written, only deleted: the lines around
        start = after.rfind(b"\n", 0, max(0, start - 1)) + 1
    return after[start:end]


@dataclass
class _Watch:
    record_id: str
    store: MemoryStore
    before: bytes
    after: bytes
    lines: bytes
    seen_applied: bool = False
    applied_version: int | None = None
    changes: int = 0  # changes seen since the fix was applied
    unseen: int = 0
    last_version: int | None = None
    accepted: bool = False

    def present(self, text: bytes) -> bool:
        return text != self.before and self.lines in text


class VerdictWatcher(Feature):
    def __init__(self, server: FixloopServer) -> None:
        self._server = server
        self._watches: dict[str, _Watch] = {}
        self._tasks: set[asyncio.Future[None]] = set()
        # One writer: an `accepted` at a save and a `reverted` just after land in order.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fixloop-verdicts")

    def watch(
        self, opened: OpenDocument, record_id: str, store: MemoryStore, before: bytes, after: bytes
    ) -> None:
        """Start watching a fix the editor has just applied to `opened`."""
        previous = self._watches.pop(opened.uri, None)
        if previous is not None:
            self._conclude_kept(opened.uri, previous, opened.source.data)
        watch = _Watch(record_id, store, before, after, fixed_lines(before, after))
        self._watches[opened.uri] = watch
        self._server.flush(opened)  # the edit's didChange may already be queued
        self.observe(opened)

    def observe(self, opened: OpenDocument) -> None:
        """After each batch of changes is applied to a document."""
        watch = self._watches.get(opened.uri)
        if watch is None or opened.version == watch.last_version:
            return
        watch.last_version = opened.version
        text = opened.source.data
        if not watch.seen_applied:
            if text == watch.after:
                watch.seen_applied, watch.applied_version = True, opened.version
            else:
                watch.unseen += 1
                if watch.unseen > _UNSEEN_LIMIT:
                    del self._watches[opened.uri]
            return
        watch.changes = self._changes_since(watch, opened.version)
        if text == watch.before:
            del self._watches[opened.uri]
            self._record(opened.uri, watch, "reverted")
        elif watch.changes >= KEEP_AFTER_EDITS:
            del self._watches[opened.uri]
            self._conclude_kept(opened.uri, watch, text)

    def saved(self, uri: str) -> None:
        """A save with the fix in place: kept (an undo within the window still wins)."""
        watch = self._watches.get(uri)
        opened = self._server.documents.get(uri)
        if watch is None or opened is None:
            return
        self._server.flush(opened)
        self.observe(opened)
        still_watched = uri in self._watches and watch.seen_applied and not watch.accepted
        if still_watched and watch.present(opened.source.data):
            watch.accepted = True
            self._record(uri, watch, "accepted")

    def closed(self, opened: OpenDocument) -> None:
        """Closing with the fix in place keeps it."""
        watch = self._watches.pop(opened.uri, None)
        if watch is not None and not opened.desynced:
            self._conclude_kept(opened.uri, watch, opened.source.data)

    def holds(self, uri: str) -> bool:
        return uri in self._watches

    def shutdown(self) -> None:
        self.close_all()

    def close_all(self) -> None:
        """At shutdown: the fixes still in the open documents were kept."""
        for uri, watch in list(self._watches.items()):
            opened = self._server.documents.get(uri)
            if opened is not None:
                self._conclude_kept(uri, watch, opened.source.data, wait=True)
        self._watches.clear()

    def _conclude_kept(self, uri: str, watch: _Watch, text: bytes, *, wait: bool = False) -> None:
        if watch.seen_applied and not watch.accepted and watch.present(text):
            watch.accepted = True
            self._record(uri, watch, "accepted", wait=wait)

    @staticmethod
    def _changes_since(watch: _Watch, version: int | None) -> int:
        if isinstance(version, int) and isinstance(watch.applied_version, int):
            return max(0, version - watch.applied_version)
        return watch.changes + 1

    def _record(self, uri: str, watch: _Watch, verdict: str, *, wait: bool = False) -> None:
        from fixloop.memory.records import Verdict

        value = Verdict(verdict)
        self._server.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Info,
                message=f"fixloop: the fix {watch.record_id} in {uri} was {verdict}",
            )
        )
        if wait:
            self._writer.submit(_write, watch.store, watch.record_id, value).result()
            return
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._writer, _write, watch.store, watch.record_id, value)
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)


def _write(store: MemoryStore, record_id: str, verdict: Verdict) -> None:
    try:
        store.record_verdict(record_id, verdict)
    except Exception:  # memory must never cost the editor anything
        logger.exception("recording the verdict %s on %s failed", verdict, record_id)
