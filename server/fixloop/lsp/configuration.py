"""Settings per workspace folder: pyproject + environment + the editor's `fixloop` section
(pulled with `workspace/configuration`), refreshed on `didChangeConfiguration` and when
folders are added or removed."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from fixloop.config import Settings, load_settings

if TYPE_CHECKING:
    from fixloop.lsp.server import FixloopServer

logger = logging.getLogger(__name__)
SECTION = "fixloop"


class FolderSettings:
    """The settings of each workspace folder; a file takes its innermost folder's."""

    def __init__(self) -> None:
        self._by_folder: dict[str, Settings] = {}
        self._fallback = load_settings(None)
        self._reported: set[str] = set()

    def for_uri(self, uri: str) -> Settings:
        best = ""
        for folder in self._by_folder:
            prefix = folder.rstrip("/") + "/"
            if uri.startswith(prefix) and len(folder) > len(best):
                best = folder
        return self._by_folder.get(best, self._fallback)

    def replace(self, settings: Mapping[str, Settings]) -> list[str]:
        """Install new settings; returns the problems not reported before."""
        self._by_folder = dict(settings)
        new = [p for s in settings.values() for p in s.problems if p not in self._reported]
        self._reported.update(new)
        return new


def workspace_folders(server: FixloopServer) -> list[str]:
    folders = [folder.uri for folder in server.workspace.folders.values()]
    root = server.workspace.root_uri
    if not folders and root:
        folders = [root]
    return folders


async def refresh(server: FixloopServer, pushed: Any = None) -> None:
    """Reload every folder's settings, then republish diagnostics."""
    folders = workspace_folders(server)
    editor = await _editor_settings(server, folders, pushed)
    loaded = {}
    for folder, section in zip(folders, editor, strict=True):
        path = to_fs_path(folder)
        loaded[folder] = load_settings(Path(path) if path else None, editor=section)
    server.test_commands.clear()  # a new test-command setting, or new project files
    for problem in server.folder_settings.replace(loaded):
        server.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=f"fixloop: {problem}")
        )
    server.test_diagnostics.settings_changed()
    server.diagnostics.republish_all()


async def _editor_settings(
    server: FixloopServer, folders: list[str], pushed: Any
) -> list[Mapping[str, Any] | None]:
    if server.client_flags.workspace_configuration and folders:
        try:
            result = await server.workspace_configuration_async(
                types.ConfigurationParams(
                    items=[types.ConfigurationItem(scope_uri=f, section=SECTION) for f in folders]
                )
            )
            return [r if isinstance(r, Mapping) else None for r in result]
        except Exception as error:  # a client that fails the request must not stop fixloop
            logger.warning("workspace/configuration failed: %s", error)
    # Clients without the pull model (Neovim 0.7) push settings with didChangeConfiguration;
    # the last ones pushed stay in force until new ones come.
    if isinstance(pushed, Mapping) and isinstance(pushed.get(SECTION), Mapping):
        server.pushed_settings = pushed[SECTION]
    return [server.pushed_settings for _ in folders]


def register(server: FixloopServer) -> None:
    @server.feature(types.INITIALIZED)
    async def initialized(ls: FixloopServer, params: types.InitializedParams) -> None:
        """Load settings once the client can answer requests."""
        await refresh(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: FixloopServer, params: types.DidChangeConfigurationParams
    ) -> None:
        """Settings changed in the editor: reload them and republish."""
        await refresh(ls, params.settings)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_folders(
        ls: FixloopServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        """A folder was added or removed (pygls already updated its folder list)."""
        await refresh(ls)
