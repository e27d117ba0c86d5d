"""The loop in the editor, beyond one fix: verdicts learned from what the user does with an
applied fix, the remembered fix of a recurring bug, the order of the actions, `codeAction`
staying instant while a session runs, and a missing Docker as one clear message. The
real server, the real sandbox, a real embedded memory in the test's folder."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from fixloop.memory.store import MemoryConfig, MemoryStore
from tests.e2e.conftest import CLIENTS, SERVER, initialize_in
from tests.e2e.test_fix_command import (
    SLOW,
    SLOW_TESTS,
    TITLE,
    code_actions,
    execute,
    failing_test_diagnostic,
    shop_copy,
    states,
)
from tests.support.editing import push_settings, shown_test_failures, wait_until
from tests.support.editor import EditorClient, make_editor_client

pytestmark = pytest.mark.slow
SEEN_BEFORE = "Apply fix seen before"


@pytest.fixture
def projects(tmp_path: Path) -> tuple[Path, Path]:
    """Two copies of the example with the same bug, sharing one memory."""
    return shop_copy(tmp_path, "shop"), shop_copy(tmp_path, "again")


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=make_editor_client),
    params=CLIENTS,
)
async def client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, projects: tuple[Path, Path]
) -> AsyncIterator[None]:
    await initialize_in(lsp_client, request.param, *projects)
    yield
    await lsp_client.shutdown_session()


def memory_stats(root: Path) -> dict[str, int]:
    store = MemoryStore(MemoryConfig(path=root.parent / "memory"))
    try:
        return dict(store.stats().verdicts)
    finally:
        store.close()


def logged(client: LanguageClient, text: str) -> bool:
    return any(text in m.message for m in client.log_messages)


async def fix(client: EditorClient, root: Path) -> tuple[str, str]:
    """Open pricing.py, run the loop on it; (uri, text before the fix)."""
    uri = (root / "pricing.py").as_uri()
    text = (root / "pricing.py").read_text(encoding="utf-8")
    client.open(uri, text)
    [action] = [a for a in await code_actions(client, uri) if a.title == TITLE]
    result = await execute(client, action.command)
    assert result["status"] == "fixed" and result["record"], result
    assert "if quantity >= 10:" in client.buffers[uri][1]
    return uri, text


async def test_a_fix_undone_counts_as_reverted(
    client: EditorClient, projects: tuple[Path, Path]
) -> None:
    root = projects[0]
    uri, before = await fix(client, root)
    client.edit(uri, before)  # the editor's undo: the text is what it was
    await wait_until(client, lambda: logged(client, "was reverted"), timeout=10)
    await asyncio.sleep(0.5)  # the write happens right after the log line
    assert await asyncio.to_thread(memory_stats, root) == {"reverted": 1}


async def test_a_fix_kept_and_saved_counts_as_accepted(
    client: EditorClient, projects: tuple[Path, Path]
) -> None:
    root = projects[0]
    uri, _ = await fix(client, root)
    kept = "# reviewed\n" + client.buffers[uri][1]
    client.edit(uri, kept)  # the user goes on editing around the fix
    (root / "pricing.py").write_text(kept, encoding="utf-8")
    client.save(uri)
    await wait_until(client, lambda: logged(client, "was accepted"), timeout=10)
    await asyncio.sleep(0.5)
    assert await asyncio.to_thread(memory_stats, root) == {"accepted": 1}


async def test_a_recurring_bug_gets_the_fix_seen_before_verified_and_first_in_line(
    client: EditorClient, projects: tuple[Path, Path]
) -> None:
    first, again = projects
    await fix(client, first)  # memory now has a verified fix for this failure
    uri = (again / "pricing.py").as_uri()
    text = (again / "pricing.py").read_text(encoding="utf-8")
    client.open(uri, text)
    failing = failing_test_diagnostic(line=14)
    whole_file = {"line": 0, "end_line": 28, "diagnostics": [failing]}
    actions = await code_actions(client, uri, **whole_file)  # type: ignore[arg-type]
    assert not any(a.title.startswith(SEEN_BEFORE) for a in actions)  # verified first

    async def offered() -> list[types.CodeAction]:
        while True:
            found = await code_actions(client, uri, **whole_file)  # type: ignore[arg-type]
            if any(a.title.startswith(SEEN_BEFORE) for a in found):
                return found
            await asyncio.sleep(0.5)

    actions = await asyncio.wait_for(offered(), 120)
    titles = [a.title for a in actions]
    remembered = titles.index(next(t for t in titles if t.startswith(SEEN_BEFORE)))
    deterministic = [i for i, a in enumerate(actions) if a.is_preferred]
    assert deterministic == [0] and titles[0].startswith("Use yaml.safe_load")
    assert titles[remembered + 1] == TITLE  # then the loop
    assert titles[remembered] == "Apply fix seen before (used 1×)"  # noqa: RUF001
    action = actions[remembered]
    assert not action.is_preferred and action.kind == types.CodeActionKind.QuickFix
    assert action.edit is not None and client.apply(action.edit)  # the editor applies it
    assert (await execute(client, action.command))["status"] == "applied"
    assert client.buffers[uri] == (2, text.replace("quantity > 10", "quantity >= 10"))
    client.edit(uri, text)  # and undoes it: the re-applied fix is the one reverted
    await wait_until(client, lambda: logged(client, "was reverted"), timeout=10)


async def test_code_action_answers_at_once_while_a_session_runs(
    client: EditorClient, projects: tuple[Path, Path]
) -> None:
    root = projects[0]
    (root / "calc.py").write_text(SLOW, encoding="utf-8")
    (root / "tests" / "test_calc.py").write_text(SLOW_TESTS, encoding="utf-8")
    uri = (root / "calc.py").as_uri()
    client.open(uri, SLOW)
    [action] = [a for a in await code_actions(client, uri, line=1) if a.title == TITLE]
    running = asyncio.ensure_future(execute(client, action.command))
    await wait_until(client, lambda: "fixing" in states(client), timeout=30)
    timings = []
    for _ in range(40):
        started = time.perf_counter()
        await code_actions(client, uri, line=1, diagnostics=[failing_test_diagnostic(1)])
        timings.append(time.perf_counter() - started)
    assert not running.done()  # measured while the session ran
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="fixloop.cancelFix", arguments=[])
    )
    assert (await asyncio.wait_for(running, 30))["status"] == "cancelled"
    # A request queued behind the session would wait for its 60 s test run; the figures
    # (p50/p95 against ruff's server) are in benchmarks/bench_editor_session.py.
    assert max(timings) < 5, f"slowest codeAction {max(timings):.1f} s while a session ran"


async def actions_once_unavailable(
    client: EditorClient, uri: str
) -> tuple[list[types.CodeAction], str]:
    """Ask for code actions as the cursor moves until the loop is found unavailable, then
    five times more at the bug's line: the last answer, and the one message said of it."""

    async def until_unavailable() -> None:
        while "unavailable" not in states(client):
            await code_actions(client, uri)
            await asyncio.sleep(0.2)

    await asyncio.wait_for(until_unavailable(), 30)
    for _ in range(5):
        actions = await code_actions(client, uri, line=14)
    [message] = [m.message for m in client.messages if "run the tests are off" in m.message]
    return actions, message


async def test_a_missing_docker_is_one_clear_message_not_an_error_per_request(
    client: EditorClient, projects: tuple[Path, Path]
) -> None:
    root = projects[0]
    with (root / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write(
            '\n[tool.fixloop.sandbox]\ndocker-host = "unix:///nonexistent/docker.sock"\n'
        )
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={}))
    uri = (root / "pricing.py").as_uri()
    client.open(uri, (root / "pricing.py").read_text(encoding="utf-8"))
    actions, message = await actions_once_unavailable(client, uri)
    assert "Docker" in message
    loop = [a for a in actions if a.title == TITLE]
    if client.capabilities and client.capabilities.text_document:
        disabled_support = client.capabilities.text_document.code_action
        if disabled_support and disabled_support.disabled_support:  # VS Code: greyed out
            [action] = loop
            assert action.disabled is not None and "Docker" in action.disabled.reason
            assert action.command is None
            return
    assert loop == []  # Neovim 0.7 cannot show a disabled action: the message said it


async def test_the_fix_seen_before_follows_the_real_failing_test_diagnostic(
    client: EditorClient, projects: tuple[Path, Path]
) -> None:
    first, again = projects
    await fix(client, first)
    pyproject = again / "pyproject.toml"  # tests run on open in the second project
    pyproject.write_text(
        pyproject.read_text("utf-8").replace('run = "off"', 'run = "onOpenAndSave"')
    )
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={}))
    await asyncio.sleep(0.5)
    uri = (again / "pricing.py").as_uri()
    text = (again / "pricing.py").read_text(encoding="utf-8")
    client.open(uri, text)

    await wait_until(client, lambda: bool(shown_test_failures(client, uri)), timeout=60)

    async def offered() -> types.CodeAction:
        while True:
            [diagnostic, *_] = shown_test_failures(client, uri)
            line = diagnostic.range.start.line
            for action in await code_actions(
                client, uri, line=line, diagnostics=shown_test_failures(client, uri)
            ):
                if action.title.startswith(SEEN_BEFORE):
                    return action
            await asyncio.sleep(0.5)

    action = await asyncio.wait_for(offered(), 120)
    assert action.edit is not None and client.apply(action.edit)
    assert (await execute(client, action.command))["status"] == "applied"
    assert "if quantity >= 10:" in client.buffers[uri][1]


async def test_a_missing_model_is_one_clear_message_and_the_loop_is_not_offered_to_fail(
    client: EditorClient, projects: tuple[Path, Path]
) -> None:
    root = projects[0]
    push_settings(client, {"engine": "llm"})  # and no llm.model
    uri = (root / "pricing.py").as_uri()
    client.open(uri, (root / "pricing.py").read_text(encoding="utf-8"))
    actions, message = await actions_once_unavailable(client, uri)
    assert "no model is configured" in message
    loop = [a for a in actions if a.title == TITLE]
    document = client.capabilities.text_document if client.capabilities else None
    greyed = bool(document and document.code_action and document.code_action.disabled_support)
    assert len(loop) == (1 if greyed else 0)  # VS Code greys it out; Neovim 0.7 leaves it out
    assert all(a.disabled is not None and a.command is None for a in loop)
