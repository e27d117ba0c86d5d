""" "Fix with fixloop (run tests)" end to end: the real server, the real sandbox, the offline
engine, a real embedded memory in a temporary folder, under VS Code's and Neovim 0.7's
capabilities. The client behaves like an editor: it applies the edits it receives to its
own buffers and sends the resulting changes."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import CLIENTS, SERVER, initialize_in
from tests.support.editing import wait_until
from tests.support.editor import EditorClient, make_editor_client
from tests.support.examples import copy_of_shop
from tests.support.sandbox_processes import containers_of_project

pytestmark = pytest.mark.slow
TITLE = "Fix with fixloop (run tests)"
# A failure no template can fix, in a test slow enough to be cancelled while it runs.
SLOW = "def double(x):\n    return x * 2\n"
SLOW_TESTS = (
    "import time\n\nfrom calc import double\n\n\n"
    "def test_impossible():\n    time.sleep(60)\n    assert double(2) == 'four'\n"
)


def shop_copy(tmp_path: Path, name: str = "shop", memory: bool = True) -> Path:
    """The example project, its memory in the test's folder, tests not run on open (the
    containers a test counts are the fix's own)."""
    root = copy_of_shop(tmp_path, name)
    settings = (
        '\n[tool.fixloop.tests]\nrun = "off"\n\n[tool.fixloop.memory]\n'
        f'enabled = {str(memory).lower()}\npath = "{tmp_path / "memory"}"\n'
    )
    with (root / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write(settings)
    return root


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return shop_copy(tmp_path)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=make_editor_client),
    params=CLIENTS,
)
async def client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, shop: Path
) -> AsyncIterator[None]:
    await initialize_in(lsp_client, request.param, shop)
    yield
    await lsp_client.shutdown_session()


def failing_test_diagnostic(
    line: int, message: str = "AssertionError: assert 0.0 == 0.1"
) -> types.Diagnostic:
    """A failing test as the server publishes it (source `fixloop-tests`)."""
    return types.Diagnostic(
        range=types.Range(
            start=types.Position(line=line, character=4),
            end=types.Position(line=line, character=20),
        ),
        message=message,
        severity=types.DiagnosticSeverity.Error,
        source="fixloop-tests",
    )


async def code_actions(
    client: LanguageClient,
    uri: str,
    line: int = 0,
    diagnostics: list[types.Diagnostic] | None = None,
    end_line: int | None = None,
) -> list[types.CodeAction]:
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=line, character=0),
                end=types.Position(line=line if end_line is None else end_line, character=0),
            ),
            context=types.CodeActionContext(diagnostics=diagnostics or []),
        )
    )
    return [a for a in actions or [] if isinstance(a, types.CodeAction)]


async def execute(client: LanguageClient, command: types.Command | None) -> Any:
    assert command is not None
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
    )


def supports_progress(client: LanguageClient) -> bool:
    window = client.capabilities.window if client.capabilities else None
    return bool(window and window.work_done_progress)


def states(client: EditorClient) -> list[str]:
    return [str(s.get("state")) for s in client.statuses]


async def test_the_quick_fix_on_a_failing_test_runs_the_loop_and_applies_one_versioned_edit(
    client: EditorClient, shop: Path
) -> None:
    uri = (shop / "pricing.py").as_uri()
    text = (shop / "pricing.py").read_text(encoding="utf-8")
    client.open(uri, text)
    failing = failing_test_diagnostic(line=14)
    actions = await code_actions(client, uri, line=14, diagnostics=[failing])
    [fix] = [a for a in actions if a.title == TITLE]
    assert fix.kind == types.CodeActionKind.QuickFix and not fix.is_preferred
    assert (
        list(fix.diagnostics or []) == [failing] and fix.edit is None
    )  # a command, nothing computed
    result = await execute(client, fix.command)
    assert result["status"] == "fixed", result
    [edit] = client.applied_edits
    if edit.document_changes:  # VS Code: versioned, so a stale edit would be refused
        [change] = edit.document_changes
        assert isinstance(change, types.TextDocumentEdit) and change.text_document.version == 1
    version, fixed = client.buffers[uri]
    assert version == 2 and "if quantity >= 10:" in fixed
    assert fixed.replace(">= 10", "> 10") == text  # nothing else touched
    [summary] = [m.message for m in client.messages if "fixed ·" in m.message]
    assert "3 passed" in summary and "iteration" in summary and "offline" in summary
    # Other edits pass these tests too (`> 9`, ...): the user is told why this one.
    assert result["why"].startswith("chosen over") and result["why"] in summary
    seen = client.statuses
    fixing = [s for s in seen if s["state"] == "fixing"]
    # The offline engine's budget is time: no "n/5" rounds for a status bar (it went on
    # to "7/5"), the candidates tried and the time left in the message instead.
    assert fixing and not any("maxIterations" in s or "iteration" in s for s in fixing)
    assert any(re.search(r"\d+ candidates? tried .* s left", s["message"]) for s in fixing)
    assert seen[-1]["state"] == "idle"
    if supports_progress(client):
        [reports] = client.progress_reports.values()
        assert reports[0].cancellable is True  # type: ignore[union-attr]
        assert any("tests failing" in (r.message or "") for r in reports[1:-1])


async def test_the_fix_from_a_test_file_edits_the_code_its_failing_tests_run(
    client: EditorClient, shop: Path
) -> None:
    """Run from the test file, whose failing tests assert a wrong value (no traceback
    passes through pricing.py): the fix lands in pricing.py, a file the editor has not
    opened; the test file is untouched."""
    tests_uri = (shop / "tests" / "test_pricing.py").as_uri()
    pricing_uri = (shop / "pricing.py").as_uri()
    tests = (shop / "tests" / "test_pricing.py").read_text(encoding="utf-8")
    client.open(tests_uri, tests)
    result = await execute(
        client, types.Command(title=TITLE, command="fixloop.fix", arguments=[tests_uri])
    )
    assert result["status"] == "fixed", result
    [edit] = client.applied_edits
    changes = edit.document_changes or []
    touched = [c.text_document.uri for c in changes] or list(edit.changes or {})  # type: ignore[union-attr]
    assert touched == [pricing_uri]
    assert "if quantity >= 10:" in client.buffers[pricing_uri][1]
    assert client.buffers[tests_uri] == (1, tests)


async def test_a_document_changed_during_the_run_gets_no_edit_and_an_offer_to_run_again(
    client: EditorClient, shop: Path
) -> None:
    uri = (shop / "pricing.py").as_uri()
    text = (shop / "pricing.py").read_text(encoding="utf-8")
    client.open(uri, text)
    [fix] = [a for a in await code_actions(client, uri) if a.title == TITLE]
    client.answer = "Run again"
    running = asyncio.ensure_future(execute(client, fix.command))
    await asyncio.sleep(0.3)
    typed = "# typing meanwhile\n" + text
    client.edit(uri, typed)
    (shop / "pricing.py").write_text(typed, encoding="utf-8")  # and saved
    result = await running
    assert result["status"] == "stale"
    [offer] = client.message_requests
    assert "changed while the loop ran" in offer.message
    assert [a.title for a in offer.actions or []] == ["Run again"]
    # "Run again" reran the fix on the text as it is now: one edit, on version 2.
    await wait_until(client, lambda: len(client.applied_edits) == 1, timeout=120)
    version, fixed = client.buffers[uri]
    assert version == 3 and fixed.startswith("# typing meanwhile\n")
    assert "if quantity >= 10:" in fixed


async def test_an_unsaved_buffer_is_not_fixed_behind_the_users_back(
    client: EditorClient, shop: Path
) -> None:
    uri = (shop / "pricing.py").as_uri()
    client.open(uri, "# not saved yet\n" + (shop / "pricing.py").read_text("utf-8"))
    [fix] = [a for a in await code_actions(client, uri) if a.title == TITLE]
    result = await execute(client, fix.command)
    assert result["status"] == "refused" and "save the file first" in result["message"]


@pytest.mark.parametrize("how", ["progress", "command"])
async def test_cancel_stops_the_session_and_its_containers_at_once(
    client: EditorClient, shop: Path, how: str
) -> None:
    if how == "progress" and not supports_progress(client):
        pytest.fail("both editors under test show progress")  # guard against a silent pass
    (shop / "calc.py").write_text(SLOW, encoding="utf-8")
    (shop / "tests" / "test_calc.py").write_text(SLOW_TESTS, encoding="utf-8")
    uri = (shop / "calc.py").as_uri()
    client.open(uri, SLOW)
    [fix] = [a for a in await code_actions(client, uri, line=1) if a.title == TITLE]
    running = asyncio.ensure_future(execute(client, fix.command))
    await wait_until(client, lambda: "fixing" in states(client), timeout=30)
    await wait_until(client, lambda: containers_of_project(shop) != [], timeout=30)
    await asyncio.sleep(1.0)  # the baseline is in its 60-second test now
    started = time.monotonic()
    if how == "progress":
        [token] = client.progress_reports
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    else:
        cancelled = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="fixloop.cancelFix", arguments=[])
        )
        assert cancelled == {"status": "cancelled", "sessions": 1}
    result = await asyncio.wait_for(running, 30)
    assert result["status"] == "cancelled"
    assert time.monotonic() - started < 15  # not the test's 60 seconds
    assert client.applied_edits == []
    await wait_until(client, lambda: containers_of_project(shop) == [], timeout=10)
    assert states(client)[-1] == "idle"


async def test_cancel_request_on_the_command_stops_a_fix_that_would_have_applied(
    client: EditorClient, shop: Path
) -> None:
    """`$/cancelRequest` on the executeCommand request takes the same path as the other
    cancels: the session stops, and the fix it would have found is never applied."""
    (shop / "tests" / "test_slow.py").write_text(
        "import time\n\n\ndef test_slow():\n    time.sleep(6)\n", encoding="utf-8"
    )
    uri = (shop / "pricing.py").as_uri()
    client.open(uri, (shop / "pricing.py").read_text(encoding="utf-8"))
    [fix] = [a for a in await code_actions(client, uri) if a.title == TITLE]
    pending_before = set(client.protocol._request_futures)
    running = asyncio.ensure_future(execute(client, fix.command))
    await wait_until(client, lambda: containers_of_project(shop) != [], timeout=30)
    await asyncio.sleep(1.0)  # the baseline is in its 6-second test now
    [request] = set(client.protocol._request_futures) - pending_before
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=request))
    with pytest.raises(Exception, match="cancel"):  # answered as cancelled (-32800)
        await asyncio.wait_for(running, 30)
    await wait_until(client, lambda: states(client)[-1] == "idle", timeout=60)
    assert client.statuses[-1]["message"] == "fix cancelled"
    await asyncio.sleep(2.0)  # a session going on would verify and apply its fix by now
    assert client.applied_edits == []
    await wait_until(client, lambda: containers_of_project(shop) == [], timeout=10)
