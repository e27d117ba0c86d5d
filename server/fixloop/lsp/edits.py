"""Edits the server sends: the smallest single edit that turns a document's text into
another, wrapped as a versioned `TextDocumentEdit` where the client supports it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from fixloop.analysis.source import Encoding, SourceText, common_prefix, common_suffix
from fixloop.lsp.convert import to_position

if TYPE_CHECKING:
    from fixloop.lsp.server import FixloopServer


def _continuation(byte: int) -> bool:
    return byte & 0xC0 == 0x80


def minimal_edit(source: SourceText, new_text: str, encoding: Encoding) -> types.TextEdit:
    """One edit covering only what differs (the cursor and folds elsewhere stay put)."""
    old, new = source.data, new_text.encode("utf-8", "surrogatepass")
    prefix = common_prefix(old, new)
    while prefix > 0 and prefix < len(old) and _continuation(old[prefix]):
        prefix -= 1  # never split a character
    suffix = common_suffix(old, new, min(len(old), len(new)) - prefix)
    while suffix > 0 and _continuation(old[len(old) - suffix]):
        suffix -= 1
    return types.TextEdit(
        range=types.Range(
            start=to_position(source.position_at(prefix, encoding)),
            end=to_position(source.position_at(len(old) - suffix, encoding)),
        ),
        new_text=new[prefix : len(new) - suffix].decode("utf-8", "surrogatepass"),
    )


DocumentEdits = tuple[str, int | None, list[types.TextEdit]]  # uri, version, its edits


def workspace_edit(
    server: FixloopServer, uri: str, version: int | None, edits: list[types.TextEdit]
) -> types.WorkspaceEdit:
    """Versioned where the client can take it: it then refuses the edit if the document
    changed since `version`."""
    return workspace_edits(server, [(uri, version, edits)])


def workspace_edits(server: FixloopServer, documents: list[DocumentEdits]) -> types.WorkspaceEdit:
    """One edit of several documents, each versioned where the client can take it (None:
    a file the editor has not opened)."""
    if server.client_flags.document_changes:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=version
                    ),
                    edits=list(edits),
                )
                for uri, version, edits in documents
            ]
        )
    return types.WorkspaceEdit(changes={uri: list(edits) for uri, _, edits in documents})
