"""A test client that behaves like an editor for the loop's features: it keeps its
buffers, applies `workspace/applyEdit` to them (refusing a stale versioned edit) and sends
the resulting `didChange`, and answers `window/showMessageRequest`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import to_fs_path
from pytest_lsp.client import register_lsp_features

from tests.support.client import FixloopTestClient, _converter, client_features
from tests.support.editing import apply_text_edits


class EditorClient(FixloopTestClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.buffers: dict[str, tuple[int, str]] = {}  # uri → (version, text)
        self.message_requests: list[types.ShowMessageRequestParams] = []
        self.answer: str | None = None  # the action chosen in a showMessageRequest

    def open(self, uri: str, text: str) -> None:
        self.buffers[uri] = (1, text)
        self.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )

    def edit(self, uri: str, text: str) -> int:
        """Replace the buffer's text (typing, an undo): one didChange; the new version."""
        version = self.buffers[uri][0] + 1
        self.buffers[uri] = (version, text)
        self.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        return version

    def save(self, uri: str) -> None:
        self.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    def apply(self, edit: types.WorkspaceEdit) -> bool:
        """Apply an edit to the buffers as an editor does; False when it is stale."""
        for uri, version, edits in _document_edits(edit):
            if uri not in self.buffers:  # a file not open: a buffer of its own, as VS Code
                text = Path(to_fs_path(uri) or "").read_text(encoding="utf-8")
                self.buffers[uri] = (0, apply_text_edits(text, edits))
                continue
            current, text = self.buffers[uri]
            if version is not None and version != current:
                return False
            self.edit(uri, apply_text_edits(text, edits))
        return True


def _document_edits(
    edit: types.WorkspaceEdit,
) -> list[tuple[str, int | None, list[types.TextEdit]]]:
    if edit.document_changes:
        return [
            (c.text_document.uri, c.text_document.version, list(c.edits))  # type: ignore[arg-type]
            for c in edit.document_changes
            if isinstance(c, types.TextDocumentEdit)
        ]
    return [(uri, None, list(edits)) for uri, edits in (edit.changes or {}).items()]


def _apply_edit(
    client: EditorClient, params: types.ApplyWorkspaceEditParams
) -> types.ApplyWorkspaceEditResult:
    client.applied_edits.append(params.edit)
    applied = client.apply(params.edit)
    return types.ApplyWorkspaceEditResult(
        applied=applied, failure_reason=None if applied else "the document changed"
    )


def _message_request(
    client: EditorClient, params: types.ShowMessageRequestParams
) -> types.MessageActionItem | None:
    client.message_requests.append(params)
    if client.answer is None:
        return None
    return types.MessageActionItem(title=client.answer)


def make_editor_client() -> EditorClient:
    client = EditorClient(converter_factory=_converter)
    features = client_features()
    features[types.WORKSPACE_APPLY_EDIT] = _apply_edit  # to the buffers
    features[types.WINDOW_SHOW_MESSAGE_REQUEST] = _message_request
    register_lsp_features(client, features)
    return client
