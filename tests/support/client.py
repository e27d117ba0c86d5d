"""A pytest-lsp client that also records the version of each publishDiagnostics and
applies `workspace/applyEdit` requests (pytest-lsp 1.0.1 has no handler for them)."""

from __future__ import annotations

from typing import Any

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features


class FixloopTestClient(LanguageClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.versions: dict[str, int | None] = {}
        self.applied_edits: list[types.WorkspaceEdit] = []


def _publish_diagnostics(client: FixloopTestClient, params: types.PublishDiagnosticsParams) -> None:
    client.diagnostics[params.uri] = params.diagnostics
    client.versions[params.uri] = params.version


def _apply_edit(
    client: FixloopTestClient, params: types.ApplyWorkspaceEditParams
) -> types.ApplyWorkspaceEditResult:
    client.applied_edits.append(params.edit)
    return types.ApplyWorkspaceEditResult(applied=True)


def make_client() -> FixloopTestClient:
    client = FixloopTestClient(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _publish_diagnostics
    features[types.WORKSPACE_APPLY_EDIT] = _apply_edit
    register_lsp_features(client, features)
    return client
