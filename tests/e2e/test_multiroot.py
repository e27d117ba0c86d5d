"""Several workspace folders, each with its own `[tool.fixloop]` settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import CLIENTS, SERVER, initialize_in
from tests.support.client import make_client
from tests.support.editing import open_document, wait_until

RISKY = "import yaml\ndata = yaml.load(text)\n"


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    strict, relaxed = tmp_path / "strict", tmp_path / "relaxed"
    strict.mkdir()
    relaxed.mkdir()
    (relaxed / "pyproject.toml").write_text(
        '[tool.fixloop.diagnostics]\ngroups = ["syntax"]\n', encoding="utf-8"
    )
    return strict, relaxed


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=make_client), params=CLIENTS
)
async def client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, folders: tuple[Path, Path]
) -> AsyncIterator[None]:
    await initialize_in(lsp_client, request.param, *folders)
    yield
    await lsp_client.shutdown_session()


async def test_each_folder_follows_its_own_pyproject(
    client: LanguageClient, folders: tuple[Path, Path]
) -> None:
    strict_uri = (folders[0] / "a.py").as_uri()
    relaxed_uri = (folders[1] / "a.py").as_uri()
    open_document(client, strict_uri, RISKY)
    open_document(client, relaxed_uri, RISKY)
    await wait_until(
        client,
        lambda: (
            len(client.diagnostics.get(strict_uri, [])) == 1 and relaxed_uri in client.diagnostics
        ),
    )
    # Settings may arrive after the first publish: wait for the relaxed folder's to apply.
    await wait_until(client, lambda: list(client.diagnostics[relaxed_uri]) == [])
    assert "yaml.load" in client.diagnostics[strict_uri][0].message


async def test_a_folder_added_later_gets_its_settings(
    client: LanguageClient, folders: tuple[Path, Path], tmp_path: Path
) -> None:
    added = tmp_path / "added"
    added.mkdir()
    (added / "pyproject.toml").write_text(
        '[tool.fixloop.diagnostics]\ngroups = ["syntax"]\n', encoding="utf-8"
    )
    uri = (added / "b.py").as_uri()
    open_document(client, uri, RISKY)
    await wait_until(client, lambda: len(client.diagnostics.get(uri, [])) == 1)
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(uri=added.as_uri(), name="added")], removed=[]
            )
        )
    )
    await wait_until(client, lambda: list(client.diagnostics[uri]) == [])
