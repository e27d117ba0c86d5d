"""Document synchronization: open, change, save, close."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types

from fixloop.analysis.document import Change
from fixloop.lsp.convert import from_position

if TYPE_CHECKING:
    from fixloop.lsp.documents import OpenDocument
    from fixloop.lsp.server import FixloopServer


def _change(event: types.TextDocumentContentChangeEvent) -> Change:
    if isinstance(event, types.TextDocumentContentChangePartial):
        return Change(event.text, from_position(event.range.start), from_position(event.range.end))
    return Change(event.text)


async def _load(ls: FixloopServer, opened: OpenDocument) -> None:
    """Parse a newly opened document off the event loop, then publish its diagnostics."""
    if await ls.documents.load(opened):
        ls.diagnostics.publish(opened.uri)


def did_open(ls: FixloopServer, params: types.DidOpenTextDocumentParams) -> None:
    """Parse the document and publish its diagnostics."""
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
    if opened.loading:  # parsed in a thread: the event loop keeps answering meanwhile
        opened.parsing = task = asyncio.ensure_future(_load(ls, opened))
        ls.background.add(task)
        task.add_done_callback(ls.background.discard)
    else:
        ls.diagnostics.publish(item.uri)
    ls.test_diagnostics.opened(item.uri)


def did_change(ls: FixloopServer, params: types.DidChangeTextDocumentParams) -> None:
    """Queue the changes; they are applied and published on the next loop turn."""
    changes = [_change(event) for event in params.content_changes]
    uri = params.text_document.uri
    if ls.documents.queue(uri, changes, params.text_document.version) is not None:
        ls.diagnostics.schedule(uri)


def did_close(ls: FixloopServer, params: types.DidCloseTextDocumentParams) -> None:
    """Forget the document and clear its diagnostics."""
    uri = params.text_document.uri
    if (opened := ls.documents.get(uri)) is not None:
        ls.flush(opened)
        ls.verdicts.closed(uri, None if opened.desynced else opened.source.data)
        ls.remembered.forget(uri)
        ls.documents.close(uri)
        ls.diagnostics.clear(uri)


def did_save(ls: FixloopServer, params: types.DidSaveTextDocumentParams) -> None:
    """A save keeps an applied fix (learning from the editor) and runs the tests."""
    ls.verdicts.saved(params.text_document.uri)
    ls.test_diagnostics.saved(params.text_document.uri)
