"""A pytest-lsp client that also records the version of each publishDiagnostics and the
`fixloop/status` notifications, and applies `workspace/applyEdit` requests (pytest-lsp
1.0.1 has no handler for them)."""

from __future__ import annotations

from typing import Any, Union

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features


class FixloopTestClient(LanguageClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.versions: dict[str, int | None] = {}
        self.applied_edits: list[types.WorkspaceEdit] = []
        self.shown_documents: list[types.ShowDocumentParams] = []
        self.statuses: list[dict[str, Any]] = []
        self.registrations: list[types.Registration] = []


def _publish_diagnostics(client: FixloopTestClient, params: types.PublishDiagnosticsParams) -> None:
    client.diagnostics[params.uri] = params.diagnostics
    client.versions[params.uri] = params.version


def _apply_edit(
    client: FixloopTestClient, params: types.ApplyWorkspaceEditParams
) -> types.ApplyWorkspaceEditResult:
    client.applied_edits.append(params.edit)
    return types.ApplyWorkspaceEditResult(applied=True)


def _show_document(
    client: FixloopTestClient, params: types.ShowDocumentParams
) -> types.ShowDocumentResult:
    client.shown_documents.append(params)
    return types.ShowDocumentResult(success=True)


def _register_capability(client: FixloopTestClient, params: types.RegistrationParams) -> None:
    client.registrations.extend(params.registrations)


def _status(client: FixloopTestClient, params: Any) -> None:
    # pygls hands the params of a method it does not know over as a namedtuple.
    client.statuses.append(params if isinstance(params, dict) else dict(params._asdict()))


def _converter() -> Any:
    """lsprotocol reads any code action with a `command` as a Command; a CodeAction may
    carry a command too (an object, where a Command's is a string), as editors know."""
    converter = default_converter()

    def command_or_action(obj: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)  # type: ignore[no-any-return]
        return converter.structure(obj, types.CodeAction)  # type: ignore[no-any-return]

    converter.register_structure_hook(
        Union[types.Command, types.CodeAction],  # noqa: UP007 (the key lsprotocol registered)
        command_or_action,
    )
    return converter


def client_features() -> dict[str, Any]:
    """pytest-lsp's handlers, with this client's own."""
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _publish_diagnostics
    features[types.WORKSPACE_APPLY_EDIT] = _apply_edit
    features[types.WINDOW_SHOW_DOCUMENT] = _show_document
    features["fixloop/status"] = _status
    features[types.CLIENT_REGISTER_CAPABILITY] = _register_capability
    return features


def make_client() -> FixloopTestClient:
    client = FixloopTestClient(converter_factory=_converter)
    register_lsp_features(client, client_features())
    return client
