"""Document synchronization: open, change, save, close, each forwarded to every feature
(`FixloopServer.features`) once the document store has taken it in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from fixloop.analysis.document import Change
from fixloop.lsp.convert import from_position

if TYPE_CHECKING:
    from fixloop.lsp.server import FixloopServer


def _change(event: types.TextDocumentContentChangeEvent) -> Change:
    if isinstance(event, types.TextDocumentContentChangePartial):
        return Change(event.text, from_position(event.range.start), from_position(event.range.end))
    return Change(event.text)


def did_open(ls: FixloopServer, params: types.DidOpenTextDocumentParams) -> None:
    """Keep the document (a language fixloop knows), then tell every feature."""
    item = params.text_document
    settings = ls.folder_settings.for_uri(item.uri)
    opened = ls.documents.open(
        item.uri,
        item.language_id,
        item.text,
        item.version,
        settings.diagnostics.max_file_bytes,
    )
    if opened is None:
        return
    for feature in ls.features:
        feature.opened(opened)


def did_change(ls: FixloopServer, params: types.DidChangeTextDocumentParams) -> None:
    """Queue the changes; they are applied on the next loop turn (or sooner, on need)."""
    changes = [_change(event) for event in params.content_changes]
    opened = ls.documents.queue(params.text_document.uri, changes, params.text_document.version)
    if opened is not None:
        for feature in ls.features:
            feature.changed(opened)


def did_close(ls: FixloopServer, params: types.DidCloseTextDocumentParams) -> None:
    """Every feature forgets the document (its last changes applied first), then the store."""
    uri = params.text_document.uri
    if (opened := ls.documents.get(uri)) is not None:
        ls.flush(opened)
        for feature in ls.features:
            feature.closed(opened)
        ls.documents.close(uri)


def did_save(ls: FixloopServer, params: types.DidSaveTextDocumentParams) -> None:
    """A save keeps an applied fix (learning from the editor) and runs the tests."""
    for feature in ls.features:
        feature.saved(params.text_document.uri)
