"""Settings per workspace folder: the project's files + the user's config file + environment
+ the editor's `fixloop` section (pulled with `workspace/configuration`), refreshed on
`didChangeConfiguration`, when folders are added or removed, and when the editor's
workspace trust changes.

Trust: `workspace/configuration` answers with values merged from user and workspace scope,
so the server cannot tell a user's value from a repository's by itself. A client says what
it knows in `initializationOptions`:

- `workspaceTrusted` (bool): the editor's workspace trust decides whether the folders'
  own files may set restricted settings (VS Code; `fixloop/workspaceTrust` notifies a
  grant). Without it, `fixloop trust PATH` decides, folder by folder.
- `restrictedSettings: "user"`: the client sends only user-level values of the restricted
  settings (the VS Code extension). Without it, the restricted values a client sends are
  used only when it says the workspace is trusted: an LSP client may read them from the
  project, and `fixloop trust` binds only the project's files.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from fixloop.config import SETTINGS_FILES, LoadedSettings, Settings, config_root, load_project
from fixloop.trust import Trust, TrustStore

if TYPE_CHECKING:
    from fixloop.lsp.server import FixloopServer

logger = logging.getLogger(__name__)
SECTION = "fixloop"
TRUST_NOTIFICATION = "fixloop/workspaceTrust"
WATCH_REGISTRATION = "fixloop/settingsFiles"


class FolderSettings:
    """The settings and trust of each workspace folder; a file takes its innermost
    folder's, or those of the nearest settings file between it and that folder (as ruff
    finds its settings), read once until the settings reload."""

    def __init__(self) -> None:
        self._by_folder: dict[str, LoadedSettings] = {}
        self._editor: dict[str, Mapping[str, Any] | None] = {}  # each folder's section
        self._nested: dict[Path, LoadedSettings] = {}
        self._root_of: dict[Path, Path | None] = {}  # a file's folder → its settings' folder
        self._fallback = load_project(None)
        self._reported: set[str] = set()
        # What the client said in initializationOptions (see the module's docstring).
        self.workspace_trusted: bool | None = None
        self.editor_is_users = False
        self.store_stamp: int | None = None  # the trust store as the settings last read it

    def client_options(self, options: Any) -> None:
        """Read the client's trust options from `initializationOptions`."""
        if not isinstance(options, Mapping):
            return
        trusted = options.get("workspaceTrusted")
        self.workspace_trusted = trusted if isinstance(trusted, bool) else None
        self.editor_is_users = options.get("restrictedSettings") == "user"

    def for_uri(self, uri: str) -> Settings:
        return self._loaded(uri).settings

    def trusted(self, uri: str) -> bool:
        """Whether the folder of `uri` is trusted (its tests may run on their own); before
        the settings load, what the editor said (False when it said nothing)."""
        if not self._by_folder:
            return self.workspace_trusted is True
        return self._loaded(uri).trust is Trust.TRUSTED

    def trust_store_changed(self) -> bool:
        """Whether `fixloop trust` wrote since the settings were read (only it decides when
        the editor says nothing of trust)."""
        return self.workspace_trusted is None and store_stamp() != self.store_stamp

    def how_to_trust(self, folder: Path) -> str:
        if self.workspace_trusted is not None:
            return "trust the workspace"
        return f"run `fixloop trust {folder}`"

    def settings_root(self, uri: str) -> Path | None:
        """The folder whose settings file `uri` follows (the base of its per-file globs):
        a nested one, else its workspace folder; None outside every folder."""
        folder = self._folder_of(uri)
        if folder is None:
            return None
        top = _path(folder)
        nested = self._nested_root(uri, top) if top is not None else None
        return nested or top

    def _folder_of(self, uri: str) -> str | None:
        best = ""
        for folder in self._by_folder:
            prefix = folder.rstrip("/") + "/"
            if uri.startswith(prefix) and len(folder) > len(best):
                best = folder
        return best or None

    def _nested_root(self, uri: str, top: Path) -> Path | None:
        """The nearest folder below `top` with a settings file above `uri`'s file."""
        file = _path(uri)
        if file is None:
            return None
        here = file.parent
        if here not in self._root_of:
            self._root_of[here] = config_root(here, stop=top)
        found = self._root_of[here]
        return found if found is not None and found != top else None

    def _loaded(self, uri: str) -> LoadedSettings:
        folder = self._folder_of(uri)
        if folder is None:
            return self._fallback
        top = _path(folder)
        nested = self._nested_root(uri, top) if top is not None else None
        if nested is None:
            return self._by_folder[folder]
        if nested not in self._nested:
            # The trust filter applies here as at a folder: rule selection is harmless,
            # but a nested file may name restricted settings too.
            loaded = load_project(
                nested,
                editor=self._editor.get(folder),
                trusted=self.workspace_trusted,
                editor_is_users=self.editor_is_users,
            )
            for problem in loaded.settings.problems:
                if problem not in self._reported:
                    self._reported.add(problem)
                    logger.warning("%s: %s", nested, problem)
            self._nested[nested] = loaded
        return self._nested[nested]

    def replace(
        self,
        loaded: Mapping[str, LoadedSettings],
        editor: Mapping[str, Mapping[str, Any] | None] | None = None,
    ) -> list[str]:
        """Install new settings (and forget the nested ones read so far); returns the
        problems not reported before."""
        self._by_folder = dict(loaded)
        self._editor = dict(editor or {})
        self._nested.clear()
        self._root_of.clear()
        problems = [
            problem
            for each in loaded.values()
            for problem in (*each.settings.problems, *_selection_problems(each.settings))
        ]
        new = [p for p in dict.fromkeys(problems) if p not in self._reported]
        self._reported.update(new)
        return new


def _selection_problems(settings: Settings) -> list[str]:
    """Codes in select / ignore / per-file-ignores that match no rule (a typo)."""
    return settings.diagnostics.selection().problems()


def _path(uri: str) -> Path | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(path) if path else None


def store_stamp() -> int | None:
    """When the trust store last changed (None: there is none)."""
    try:
        return TrustStore.default().path.stat().st_mtime_ns
    except OSError:
        return None


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
    sections = dict(zip(folders, editor, strict=True))
    known = server.folder_settings
    known.store_stamp = store_stamp()  # before reading it: a later `fixloop trust` is seen
    for folder, section in zip(folders, editor, strict=True):
        path = to_fs_path(folder)
        loaded[folder] = load_project(
            Path(path) if path else None,
            editor=section,
            trusted=known.workspace_trusted,
            editor_is_users=known.editor_is_users,
        )
    server.test_commands.clear()  # a new test-command setting, or new project files
    for problem in server.folder_settings.replace(loaded, sections):
        server.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=f"fixloop: {problem}")
        )
    for feature in server.features:
        feature.settings_changed()


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


async def initialized(ls: FixloopServer, params: types.InitializedParams) -> None:
    """Load settings once the client can answer requests, and ask it to watch the
    settings files."""
    await refresh(ls)
    await _watch_settings_files(ls)


async def _watch_settings_files(ls: FixloopServer) -> None:
    """Have the client report changes to any pyproject.toml or fixloop.toml of the
    workspace (`workspace/didChangeWatchedFiles`), when it can register that."""
    if not ls.client_flags.watched_files_dynamic:
        return
    watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in SETTINGS_FILES]
    registration = types.Registration(
        id=WATCH_REGISTRATION,
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
    )
    try:
        await ls.client_register_capability_async(
            types.RegistrationParams(registrations=[registration])
        )
    except Exception as error:  # a client that refuses must not stop fixloop
        logger.warning("could not register the settings files' watcher: %s", error)


async def did_change_watched_files(
    ls: FixloopServer, params: types.DidChangeWatchedFilesParams
) -> None:
    """A settings file was created, changed or deleted: reload and republish."""
    if any(change.uri.rsplit("/", 1)[-1] in SETTINGS_FILES for change in params.changes):
        await refresh(ls)


async def did_change_configuration(
    ls: FixloopServer, params: types.DidChangeConfigurationParams
) -> None:
    """Settings changed in the editor: reload them and republish."""
    await refresh(ls, params.settings)


async def workspace_trust(ls: FixloopServer, params: Any) -> None:
    """The editor's workspace trust changed (VS Code grants it without a restart)."""
    trusted = params.get("trusted") if isinstance(params, Mapping) else None
    trusted = getattr(params, "trusted", trusted)
    if isinstance(trusted, bool):
        ls.folder_settings.workspace_trusted = trusted
        await refresh(ls)


async def did_change_folders(
    ls: FixloopServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    """A folder was added or removed (pygls already updated its folder list)."""
    await refresh(ls)
