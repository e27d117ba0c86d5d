"""'Fix with fixloop (run tests)' end to end: the real server, the real sandbox, the offline
engine, under VS Code's and Neovim 0.7's capabilities."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.e2e.conftest import CLIENTS, SERVER
from tests.support.client import FixloopTestClient, make_client
from tests.support.editing import apply_text_edits, change_document, open_document, wait_until

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop"
NO_FIX = "def double(x):\n    return x * 2\n"
NO_FIX_TESTS = (
    "from calc import double\n\n\ndef test_impossible():\n    assert double(2) == 'four'\n"
)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(EXAMPLE, root)
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text(encoding="utf-8")
        + "\n[tool.fixloop.memory]\nenabled = false\n",
        encoding="utf-8",
    )
    return root


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=make_client), params=CLIENTS
)
async def client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, shop: Path
) -> AsyncIterator[None]:
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=shop.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=shop.as_uri(), name="shop")],
        )
    )
    yield
    await lsp_client.shutdown_session()


async def _fix_action(client: LanguageClient, uri: str) -> types.CodeAction:
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
            ),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    [action] = [
        a
        for a in actions or []
        if isinstance(a, types.CodeAction) and a.title == "Fix with fixloop (run tests)"
    ]
    return action


async def _execute(client: LanguageClient, action: types.CodeAction) -> Any:
    assert action.command is not None
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=action.command.command, arguments=action.command.arguments
        )
    )


async def test_the_fix_is_verified_and_applied_as_one_edit(
    client: FixloopTestClient, shop: Path
) -> None:
    uri = (shop / "pricing.py").as_uri()
    text = (shop / "pricing.py").read_text(encoding="utf-8")
    open_document(client, uri, text)
    action = await _fix_action(client, uri)
    assert not action.is_preferred
    result = await _execute(client, action)
    assert result["status"] == "fixed", result
    [edit] = client.applied_edits
    if edit.document_changes:  # VS Code: versioned, so a stale edit would be refused
        [change] = edit.document_changes
        assert isinstance(change, types.TextDocumentEdit) and change.text_document.version == 1
        edits = change.edits
    else:
        assert edit.changes is not None
        edits = edit.changes[uri]
    fixed = apply_text_edits(text, edits)  # type: ignore[arg-type]
    assert "if quantity >= 10:" in fixed and fixed.count("\n") == text.count("\n")
    assert any("fixed" in m.message and "passed" in m.message for m in client.messages)
    if (
        client.capabilities
        and client.capabilities.window
        and (client.capabilities.window.work_done_progress)
    ):
        [reports] = client.progress_reports.values()
        assert reports[0].cancellable is True  # type: ignore[union-attr]
        assert any("tests failing" in (r.message or "") for r in reports[1:-1])


async def test_a_document_changed_during_the_run_gets_no_edit(
    client: FixloopTestClient, shop: Path
) -> None:
    uri = (shop / "pricing.py").as_uri()
    open_document(client, uri, (shop / "pricing.py").read_text(encoding="utf-8"))
    action = await _fix_action(client, uri)
    running = asyncio.ensure_future(_execute(client, action))
    await asyncio.sleep(0.3)
    change_document(client, uri, 2, (0, 0), (0, 0), "# typing meanwhile\n")
    result = await running
    assert result["status"] == "stale"
    assert client.applied_edits == []
    assert any("changed while the loop ran" in m.message for m in client.messages)


async def test_an_unsaved_buffer_is_not_fixed_behind_the_users_back(
    client: FixloopTestClient, shop: Path
) -> None:
    uri = (shop / "pricing.py").as_uri()
    open_document(client, uri, "# not saved yet\n" + (shop / "pricing.py").read_text("utf-8"))
    result = await _execute(client, await _fix_action(client, uri))
    assert result["status"] == "refused" and "save the file first" in result["message"]


async def test_cancel_from_the_progress_bar_stops_the_session(
    client: FixloopTestClient, shop: Path
) -> None:
    if not (
        client.capabilities
        and client.capabilities.window
        and client.capabilities.window.work_done_progress
    ):
        pytest.fail("both editors under test show progress")  # guard against a silent pass
    (shop / "calc.py").write_text(NO_FIX, encoding="utf-8")
    (shop / "tests" / "test_calc.py").write_text(NO_FIX_TESTS, encoding="utf-8")
    uri = (shop / "calc.py").as_uri()
    open_document(client, uri, NO_FIX)
    running = asyncio.ensure_future(_execute(client, await _fix_action(client, uri)))
    await wait_until(
        client, lambda: any(len(r) >= 2 for r in client.progress_reports.values()), timeout=30
    )
    [token] = client.progress_reports
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    result = await asyncio.wait_for(running, 30)
    assert result["status"] == "cancelled"
    assert client.applied_edits == []
