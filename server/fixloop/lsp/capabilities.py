"""What the client can do, resolved once at `initialize` into plain booleans."""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types


@dataclass(frozen=True)
class ClientFlags:
    workspace_configuration: bool = False
    apply_edit: bool = False
    document_changes: bool = False
    work_done_progress: bool = False
    code_action_disabled: bool = False  # shows a disabled action with its reason
    watched_files_dynamic: bool = False  # can register workspace/didChangeWatchedFiles

    @classmethod
    def from_capabilities(cls, capabilities: types.ClientCapabilities) -> ClientFlags:
        workspace = capabilities.workspace
        edit = workspace.workspace_edit if workspace else None
        window = capabilities.window
        document = capabilities.text_document
        code_action = document.code_action if document else None
        watched = workspace.did_change_watched_files if workspace else None
        return cls(
            workspace_configuration=bool(workspace and workspace.configuration),
            apply_edit=bool(workspace and workspace.apply_edit),
            document_changes=bool(edit and edit.document_changes),
            work_done_progress=bool(window and window.work_done_progress),
            code_action_disabled=bool(code_action and code_action.disabled_support),
            watched_files_dynamic=bool(watched and watched.dynamic_registration),
        )
