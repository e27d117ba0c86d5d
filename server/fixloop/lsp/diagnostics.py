"""Publishing diagnostics: a document's syntax and safety findings and its failing tests
(test_diagnostics.py), together, with its version.

A change is analysed and published on the next turn of the event loop, with no debounce
delay: several changes waiting by then are applied in one batch.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from fixloop.analysis.selection import RuleSelection, reported
from fixloop.lsp.convert import to_diagnostic
from fixloop.lsp.feature import Feature

if TYPE_CHECKING:
    from fixloop.analysis.findings import Finding
    from fixloop.config import DiagnosticsSettings
    from fixloop.lsp.documents import OpenDocument
    from fixloop.lsp.server import FixloopServer


# Typing has paused after this long without a change: time for work a keystroke skipped.
_PAUSE_SECONDS = 0.3


class DiagnosticsPublisher(Feature):
    def __init__(self, server: FixloopServer) -> None:
        self._server = server
        self._scheduled: set[str] = set()
        self._refreshes: dict[str, asyncio.TimerHandle] = {}

    def opened(self, opened: OpenDocument) -> None:
        """Publish now, or once parsed when the file is parsed in a thread (the event loop
        keeps answering meanwhile)."""
        if opened.loading:
            opened.parsing = self._server.jobs.start(("parse", opened.uri), self._load(opened))
        else:
            self.publish(opened.uri)

    async def _load(self, opened: OpenDocument) -> None:
        if await self._server.documents.load(opened):
            self.publish(opened.uri)

    def changed(self, opened: OpenDocument) -> None:
        self.schedule(opened.uri)

    def closed(self, opened: OpenDocument) -> None:
        """Nothing is published for it any more; its diagnostics are cleared."""
        self._scheduled.discard(opened.uri)
        if (pending := self._refreshes.pop(opened.uri, None)) is not None:
            pending.cancel()
        self.clear(opened.uri)

    def settings_changed(self) -> None:
        self.republish_all()

    def holds(self, uri: str) -> bool:
        return uri in self._scheduled or uri in self._refreshes

    def schedule(self, uri: str) -> None:
        if (pending := self._refreshes.pop(uri, None)) is not None:
            pending.cancel()  # still typing: the pause has not come yet
        if uri in self._scheduled:
            return
        self._scheduled.add(uri)
        asyncio.get_running_loop().call_soon(self._publish_scheduled, uri)

    def _publish_scheduled(self, uri: str) -> None:
        self._scheduled.discard(uri)
        self.publish(uri)

    def reported_findings(self, opened: OpenDocument) -> list[Finding]:
        """The findings the settings and the file's suppressions leave to report."""
        folders = self._server.folder_settings
        settings = folders.for_uri(opened.uri).diagnostics
        if not settings.enabled or opened.desynced:
            return []
        findings = list(opened.screened.findings)
        if opened.document is not None:
            findings.extend(opened.document.findings())
        relative = _relative(opened.uri, folders.settings_root(opened.uri))
        tree = opened.document.tree if opened.document is not None else None
        return reported(findings, _selection(settings), relative, opened.source, tree)

    def analysis_diagnostics(self, opened: OpenDocument) -> list[types.Diagnostic]:
        encoding = self._server.encoding
        return [to_diagnostic(opened.source, f, encoding) for f in self.reported_findings(opened)]

    def publish(self, uri: str) -> None:
        opened = self._server.documents.get(uri)
        if opened is None or opened.loading:
            return  # published once loaded
        self._server.flush(opened)
        diagnostics = self.analysis_diagnostics(opened)
        diagnostics += self._server.test_diagnostics.diagnostics(opened)
        self._server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=opened.version)
        )
        if opened.document is not None and opened.document.rules_stale:
            self._refresh_after_pause(uri)

    def _refresh_after_pause(self, uri: str) -> None:
        def refresh() -> None:
            self._refreshes.pop(uri, None)
            opened = self._server.documents.get(uri)
            if opened is not None and opened.document is not None:
                self._server.flush(opened)
                opened.document.refresh_rules()
                self.publish(uri)

        if uri not in self._refreshes:
            loop = asyncio.get_running_loop()
            self._refreshes[uri] = loop.call_later(_PAUSE_SECONDS, refresh)

    def clear(self, uri: str) -> None:
        self._server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    def republish_all(self) -> None:
        """After a settings change: re-apply the size limit, then publish everything."""
        for opened in self._server.documents:
            settings = self._server.folder_settings.for_uri(opened.uri)
            self._server.documents.rescreen(opened, settings.diagnostics.max_file_bytes)
            self.publish(opened.uri)


@functools.lru_cache(maxsize=32)
def _selection(settings: DiagnosticsSettings) -> RuleSelection:
    """Made once per settings, not per keystroke (it compiles the per-file globs)."""
    return settings.selection()


def _relative(uri: str, root: Path | None) -> str | None:
    """The file's path relative to its settings' folder (POSIX), for per-file ignores."""
    path = to_fs_path(uri) if uri.startswith("file:") else None
    if not path or root is None:
        return None
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return None
