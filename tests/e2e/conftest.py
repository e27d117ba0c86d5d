"""End-to-end fixtures: the real `fixloop lsp` process driven by pytest-lsp, under the
capabilities of VS Code and of Neovim 0.7."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.support.client import make_client

SERVER = [sys.executable, "-m", "fixloop", "lsp", "--stdio"]
CLIENTS = ["visual-studio-code", "neovim@v0.7.0"]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=make_client), params=CLIENTS
)
async def client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, workspace: Path
) -> AsyncIterator[None]:
    await initialize_in(lsp_client, request.param, workspace)
    yield
    await lsp_client.shutdown_session()


async def initialize_in(
    client: LanguageClient, editor: str, root: Path, *more: Path, trusted: bool = True
) -> None:
    """Initialize as `editor` (a pytest-lsp client name) with `root` as the first workspace
    folder and `more` after it, in a workspace the editor says is `trusted` (or not)."""
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(editor),
            initialization_options={"workspaceTrusted": trusted},
            root_uri=root.as_uri(),
            workspace_folders=[
                types.WorkspaceFolder(uri=folder.as_uri(), name=folder.name)
                for folder in (root, *more)
            ],
        )
    )
