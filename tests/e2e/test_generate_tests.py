""" "Generate tests for this function" end to end: the real server, the real sandbox, the
offline engine, under VS Code's and Neovim 0.7's capabilities."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.e2e.conftest import CLIENTS, SERVER, initialize_in
from tests.support.client import FixloopTestClient, make_client
from tests.support.editing import open_document
from tests.support.examples import copy_of_shop

pytestmark = pytest.mark.slow
TITLE = "Generate tests for this function"
BULK_DISCOUNT_LINE = 13  # 0-based: the `if quantity > 10:` line of bulk_discount


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = copy_of_shop(tmp_path)
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text(encoding="utf-8")
        + '\nengine = "offline"\n\n[tool.fixloop.memory]\nenabled = false\n',
        encoding="utf-8",
    )
    return root


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=make_client), params=CLIENTS
)
async def client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, shop: Path
) -> AsyncIterator[None]:
    await initialize_in(lsp_client, request.param, shop)
    yield
    await lsp_client.shutdown_session()


async def actions_at(client: LanguageClient, uri: str, line: int) -> list[types.CodeAction]:
    found = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=line, character=4),
                end=types.Position(line=line, character=4),
            ),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return [a for a in found or [] if isinstance(a, types.CodeAction)]


async def execute(client: LanguageClient, command: types.Command | None) -> Any:
    assert command is not None
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
    )


def open_pricing(client: LanguageClient, shop: Path) -> str:
    uri = (shop / "pricing.py").as_uri()
    open_document(client, uri, (shop / "pricing.py").read_text(encoding="utf-8"))
    return uri


async def test_the_action_creates_a_test_file_whose_tests_pass(
    client: FixloopTestClient, shop: Path
) -> None:
    uri = open_pricing(client, shop)
    actions = await actions_at(client, uri, BULK_DISCOUNT_LINE)
    [action] = [a for a in actions if a.title.startswith(TITLE)]
    assert action.title == f"{TITLE} (bulk_discount)" and action.edit is None  # a command
    assert action.command is not None and action.command.command == "fixloop.generateTests"
    assert list(action.command.arguments or []) == [uri, BULK_DISCOUNT_LINE]
    titles = [a.title for a in actions]
    assert titles.index(action.title) > titles.index("Fix with fixloop (run tests)")

    result = await execute(client, action.command)
    assert result["status"] == "created", result
    [edit] = client.applied_edits
    create, insert = edit.document_changes or []
    target = shop / "tests" / "test_pricing_bulk_discount.py"
    assert isinstance(create, types.CreateFile) and create.uri == target.as_uri()
    assert create.options is not None and create.options.overwrite is False
    assert isinstance(insert, types.TextDocumentEdit) and insert.text_document.uri == create.uri
    [text_edit] = insert.edits
    assert isinstance(text_edit, types.TextEdit)
    content = text_edit.new_text
    assert "from pricing import bulk_discount" in content
    [message] = [m.message for m in client.messages if "tests for bulk_discount" in m.message]
    assert "tests/test_pricing_bulk_discount.py" in message and "passing in the sandbox" in message
    window = client.capabilities.window if client.capabilities else None
    if window and window.work_done_progress:
        [reports] = client.progress_reports.values()
        assert any("sample inputs" in (r.message or "") for r in reports[1:-1])  # type: ignore[union-attr]

    # What the editor does with the edit: the file exists, and its tests pass.
    target.write_text(content, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target)],
        cwd=shop,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(result['tests'])} passed" in run.stdout


async def test_the_action_names_the_function_or_method_and_is_absent_elsewhere(
    client: FixloopTestClient, shop: Path
) -> None:
    uri = open_pricing(client, shop)
    assert not [a for a in await actions_at(client, uri, 1) if a.title.startswith(TITLE)]
    cart = shop / "cart.py"
    text = (
        "class Cart:\n    def add(self, item):\n        return [item]\n\n"
        "    def __len__(self):\n        return 0\n"
    )
    cart.write_text(text, encoding="utf-8")
    open_document(client, cart.as_uri(), text)
    [action] = [a for a in await actions_at(client, cart.as_uri(), 2) if a.title.startswith(TITLE)]
    assert action.title == f"{TITLE} (Cart.add)"
    assert not [a for a in await actions_at(client, cart.as_uri(), 5) if a.title.startswith(TITLE)]


async def test_a_function_that_cannot_be_called_gets_a_clear_message(
    client: FixloopTestClient, shop: Path
) -> None:
    uri = open_pricing(client, shop)
    [action] = [a for a in await actions_at(client, uri, 6) if a.title.startswith(TITLE)]
    assert action.title == f"{TITLE} (load_prices)"
    result = await execute(client, action.command)
    # load_prices only fails for want of PyYAML or of the file: nothing worth pinning.
    assert result["status"] == "rejected", result
    assert client.applied_edits == []
    assert any("load_prices" in m.message for m in client.messages)


def _without_file_creation() -> types.ClientCapabilities:
    capabilities = client_capabilities("visual-studio-code")
    assert capabilities.workspace and capabilities.workspace.workspace_edit
    capabilities.workspace.workspace_edit.resource_operations = [types.ResourceOperationKind.Rename]
    return capabilities


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, client_factory=make_client))
async def plain_client(lsp_client: LanguageClient, shop: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=_without_file_creation(),
            root_uri=shop.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=shop.as_uri(), name="shop")],
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_an_editor_that_cannot_create_files_is_told_so_before_anything_runs(
    plain_client: FixloopTestClient, shop: Path
) -> None:
    uri = open_pricing(plain_client, shop)
    actions = await actions_at(plain_client, uri, BULK_DISCOUNT_LINE)
    [action] = [a for a in actions if a.title.startswith(TITLE)]
    result = await execute(plain_client, action.command)
    assert result["status"] == "refused"
    assert "cannot create files" in result["message"] and "--write" in result["message"]
    assert plain_client.applied_edits == [] and plain_client.progress_reports == {}
    assert any("cannot create files" in m.message for m in plain_client.messages)
