"""The documents the editor has open, each with its parsed core `Document`.

Changes are queued as they arrive and applied in one batch (one reparse) when something
needs the document: under a burst of keystrokes the parser runs once, not once per key.

A newly opened file is parsed off the event loop (`load`): its changes wait meanwhile. A
file too complex to parse within the budget is kept as text, with a diagnostic saying so.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

from pygls.uris import to_fs_path

from fixloop.analysis.budget import CODE_TOO_COMPLEX, TooComplex, too_complex
from fixloop.analysis.document import Change, Document
from fixloop.analysis.files import Screened, screen
from fixloop.analysis.findings import Finding, Group
from fixloop.analysis.languages import LanguageSpec, language_for
from fixloop.analysis.source import Encoding, PositionError, SourceText, Span

logger = logging.getLogger(__name__)


@dataclass
class OpenDocument:
    uri: str
    language: LanguageSpec
    version: int | None
    document: Document | None  # None while the file is not analysed (too large, binary)
    screened: Screened
    raw: SourceText  # the text, kept up to date while there is no `document`
    pending: list[Change] = field(default_factory=list)
    pending_version: int | None = None
    # Set when an edit did not fit the text: the editor and fixloop disagree until the
    # next full text arrives, and nothing is reported meanwhile.
    desynced: bool = False
    # Set while the first parse runs in a thread: changes wait, nothing is published;
    # `parsing` is that work, for a request that needs the document to await.
    loading: bool = False
    parsing: asyncio.Future[None] | None = None

    async def ready(self) -> None:
        """Wait for the first parse, if it is still running."""
        if self.parsing is not None and not self.parsing.done():
            await asyncio.shield(self.parsing)

    @property
    def source(self) -> SourceText:
        return self.document.source if self.document is not None else self.raw


# Closed documents whose analysis is kept: reopening an unchanged file (switching tabs,
# going back to a definition) then costs no parse.
_RECENTLY_CLOSED = 8


class OpenDocuments:
    def __init__(self) -> None:
        self._open: dict[str, OpenDocument] = {}
        self._closed: OrderedDict[str, Document] = OrderedDict()

    def get(self, uri: str) -> OpenDocument | None:
        return self._open.get(uri)

    def __iter__(self) -> Iterator[OpenDocument]:
        return iter(list(self._open.values()))

    def open(
        self, uri: str, language_id: str, text: str, version: int, max_bytes: int
    ) -> OpenDocument | None:
        language = language_for(to_fs_path(uri) or uri, language_id)
        if language is None:
            return None  # not a language fixloop knows: ignored
        opened = OpenDocument(uri, language, version, None, Screened(False), SourceText(b""))
        data = text.encode("utf-8", "surrogatepass")
        kept = self._closed.pop(uri, None)
        if kept is not None and kept.source.data == data and kept.language == language:
            opened.screened = screen(data, max_bytes)
            if opened.screened.analyse:
                kept.version = version
                opened.document = kept
        if opened.document is None:
            opened.screened = screen(data, max_bytes)
            opened.raw = SourceText(data)
            opened.loading = opened.screened.analyse  # `load` parses it
        self._open[uri] = opened
        return opened

    async def load(self, opened: OpenDocument) -> bool:
        """Parse a document opened with `loading` set, in a thread; False when it was
        closed (or reloaded) meanwhile."""
        data, language, version = opened.raw.data, opened.language, opened.version
        try:
            document: Document | None = await asyncio.to_thread(Document, language, data, version)
        except TooComplex as error:
            document = None
            complex_ = Screened(False, (*opened.screened.findings, _too_complex(error)))
        if self._open.get(opened.uri) is not opened or not opened.loading:
            return False
        opened.loading = False
        if document is None:
            opened.screened = complex_
        else:
            document.defer_large_reruns = True  # refreshed when typing pauses
            opened.document, opened.raw = document, SourceText(b"")
        return True

    @staticmethod
    def _load(opened: OpenDocument, data: bytes, max_bytes: int) -> None:
        opened.screened = screen(data, max_bytes)
        opened.document = None
        opened.loading = False
        if opened.screened.analyse:
            try:
                opened.document = Document(opened.language, data, opened.version)
                opened.document.defer_large_reruns = True  # refreshed when typing pauses
            except TooComplex as error:
                findings = (*opened.screened.findings, _too_complex(error))
                opened.screened = Screened(False, findings)
        opened.raw = SourceText(data) if opened.document is None else SourceText(b"")
        opened.desynced = False

    def rescreen(self, opened: OpenDocument, max_bytes: int) -> None:
        """Load or drop the analysis when the size limit (or the size) has changed."""
        data = opened.source.data
        if opened.loading:  # a lower limit stops the load; its result is then dropped
            if not screen(data, max_bytes).analyse:
                self._load(opened, data, max_bytes)
            return
        if _gave_up(opened):
            return
        if screen(data, max_bytes).analyse != (opened.document is not None):
            self._load(opened, data, max_bytes)

    def close(self, uri: str) -> None:
        closed = self._open.pop(uri, None)
        if closed is None or closed.document is None or closed.pending or closed.desynced:
            return
        if closed.document.rules_stale:
            return
        self._closed[uri] = closed.document
        while len(self._closed) > _RECENTLY_CLOSED:
            self._closed.popitem(last=False)

    def queue(self, uri: str, changes: list[Change], version: int) -> OpenDocument | None:
        opened = self._open.get(uri)
        if opened is None:
            return None
        opened.pending.extend(changes)
        opened.pending_version = version
        return opened

    def flush(self, opened: OpenDocument, encoding: Encoding, max_bytes: int) -> None:
        """Apply the queued changes; an impossible edit marks the document desynced."""
        if not opened.pending or opened.loading:
            return
        changes, opened.pending = opened.pending, []
        opened.version = opened.pending_version
        full = max((i for i, c in enumerate(changes) if c.start is None), default=-1)
        if full >= 0:  # a full text mends everything, including a desync
            self._load(opened, changes[full].text.encode("utf-8", "surrogatepass"), max_bytes)
            changes = changes[full + 1 :]
        if opened.desynced or not changes:
            return
        try:
            if opened.document is not None:
                before = opened.document.source
                try:
                    opened.document.apply_changes(changes, opened.version, encoding)
                except TooComplex as error:  # kept as text until a full text comes
                    opened.document = None
                    opened.raw = _apply_to_text(before, changes, encoding)
                    opened.screened = Screened(False, (_too_complex(error),))
            else:
                opened.raw = _apply_to_text(opened.raw, changes, encoding)
                self.rescreen(opened, max_bytes)
        except PositionError as error:
            logger.warning(
                "%s: edit out of range (%s); waiting for the full text", opened.uri, error
            )
            opened.desynced = True


def _too_complex(error: TooComplex) -> Finding:
    return too_complex(f"{error}; analysed again when its whole text is replaced", Group.SYNTAX)


def _gave_up(opened: OpenDocument) -> bool:
    """Whether parsing this text was given up as too complex (not tried on every edit)."""
    return any(f.code == CODE_TOO_COMPLEX for f in opened.screened.findings)


def _apply_to_text(text: SourceText, changes: list[Change], encoding: Encoding) -> SourceText:
    for change in changes:
        assert change.start is not None and change.end is not None
        span = Span(text.offset_at(change.start, encoding), text.offset_at(change.end, encoding))
        text = text.replace(span, change.text.encode("utf-8", "surrogatepass"))
    return text
