"""The documents the editor has open, each with its parsed core `Document`.

Changes are queued as they arrive and applied in one batch (one reparse) when something
needs the document: under a burst of keystrokes the parser runs once, not once per key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from pygls.uris import to_fs_path

from fixloop.analysis.document import Change, Document
from fixloop.analysis.files import Screened, screen
from fixloop.analysis.languages import LanguageSpec, language_for
from fixloop.analysis.source import Encoding, PositionError, SourceText

logger = logging.getLogger(__name__)


@dataclass
class OpenDocument:
    uri: str
    language: LanguageSpec
    version: int | None
    document: Document | None  # None while the file is not analysed (too large, binary)
    screened: Screened
    pending: list[Change] = field(default_factory=list)
    pending_version: int | None = None
    # Set when an edit did not fit the text: the editor and fixloop disagree until the
    # next full text arrives, and nothing is reported meanwhile.
    desynced: bool = False

    @property
    def path(self) -> Path | None:
        path = to_fs_path(self.uri)
        return Path(path) if path else None

    @property
    def source(self) -> SourceText | None:
        return self.document.source if self.document is not None else None


class OpenDocuments:
    def __init__(self) -> None:
        self._open: dict[str, OpenDocument] = {}

    def get(self, uri: str) -> OpenDocument | None:
        return self._open.get(uri)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._open.values()))

    def open(self, uri: str, language_id: str, text: str, version: int, max_bytes: int
             ) -> OpenDocument | None:
        language = language_for(to_fs_path(uri) or uri, language_id)
        if language is None:
            return None  # not a language fixloop knows: ignored
        opened = self._load(uri, language, text.encode("utf-8", "surrogatepass"), version,
                            max_bytes)
        self._open[uri] = opened
        return opened

    @staticmethod
    def _load(uri: str, language: LanguageSpec, data: bytes, version: int | None,
              max_bytes: int) -> OpenDocument:
        screened = screen(data, max_bytes)
        document = Document(language, data, version) if screened.analyse else None
        return OpenDocument(uri, language, version, document, screened)

    def close(self, uri: str) -> None:
        self._open.pop(uri, None)

    def queue(self, uri: str, changes: list[Change], version: int) -> OpenDocument | None:
        opened = self._open.get(uri)
        if opened is None:
            return None
        opened.pending.extend(changes)
        opened.pending_version = version
        return opened

    def flush(self, opened: OpenDocument, encoding: Encoding, max_bytes: int) -> None:
        """Apply the queued changes; an impossible edit marks the document desynced."""
        if not opened.pending:
            return
        changes, opened.pending = opened.pending, []
        version = opened.pending_version
        full = max((i for i, c in enumerate(changes) if c.start is None), default=-1)
        if full >= 0:  # a full text mends everything, including a desync
            data = changes[full].text.encode("utf-8", "surrogatepass")
            self._open[opened.uri] = fresh = self._load(
                opened.uri, opened.language, data, version, max_bytes)
            opened.__dict__.update(fresh.__dict__)
            changes = changes[full + 1 :]
        opened.version = version
        if opened.desynced or opened.document is None or not changes:
            return
        try:
            opened.document.apply_changes(changes, version, encoding)
        except PositionError as error:
            logger.warning("%s: edit out of range (%s); waiting for the full text",
                           opened.uri, error)
            opened.desynced = True
