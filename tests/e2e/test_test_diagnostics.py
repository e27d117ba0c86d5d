"""Failing tests as diagnostics, end to end: the real server and the real sandbox, on a
copy of the example project, under VS Code's and Neovim 0.7's capabilities."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import CLIENTS, SERVER, initialize_in
from tests.support.client import FixloopTestClient, make_client
from tests.support.editing import (
    open_document,
    push_settings,
    replace_document,
    shown_test_failures,
    wait_until,
)
from tests.support.examples import copy_of_shop
from tests.support.sandbox_processes import containers_of_process, running_in_sandbox

pytestmark = pytest.mark.slow
BUG_LINE = 14  # `if quantity > 10:` in pricing.py, 0-based
# Longer than the debounce plus the start of a run: a run that should not start would
# have said "testing" by then.
QUIET_SECONDS = 2.0


def _copy_shop(tmp_path: Path, run_tests: str | None) -> Path:
    root = copy_of_shop(tmp_path)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    if run_tests is not None:
        text = text.replace("[tool.fixloop]\n", f'[tool.fixloop]\nrun-tests = "{run_tests}"\n')
    pyproject.write_text(text + "\n[tool.fixloop.memory]\nenabled = false\n", encoding="utf-8")
    return root


@pytest.fixture
def run_tests() -> str | None:
    return None  # the default, onOpenAndSave


@pytest.fixture
def shop(tmp_path: Path, run_tests: str | None) -> Path:
    return _copy_shop(tmp_path, run_tests)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=make_client), params=CLIENTS
)
async def client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, shop: Path
) -> AsyncIterator[None]:
    await initialize_in(lsp_client, request.param, shop)
    yield
    server = lsp_client._server  # type: ignore[attr-defined]
    await lsp_client.shutdown_session()
    assert containers_of_process(server.pid) == [], "the server left sandbox containers"


def _statuses(client: FixloopTestClient) -> list[dict[str, Any]]:
    return client.statuses


def _save(client: LanguageClient, uri: str) -> None:
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )


async def _idle_after_testing(client: FixloopTestClient, timeout: float = 60.0) -> None:
    def finished() -> bool:
        states = [s["state"] for s in _statuses(client)]
        return "testing" in states and states[-1] in ("idle", "unavailable")

    await wait_until(client, finished, timeout)


async def test_a_failing_test_shows_on_the_line_of_the_bug_and_clears_when_fixed(
    client: FixloopTestClient, shop: Path
) -> None:
    source = shop / "pricing.py"
    uri = source.as_uri()
    text = source.read_text(encoding="utf-8")
    open_document(client, uri, text)
    await wait_until(client, lambda: bool(shown_test_failures(client, uri)), 60.0)
    failures = shown_test_failures(client, uri)
    assert {d.range.start.line for d in failures} == {BUG_LINE}
    by_test = {d.data["testId"]: d for d in failures}  # type: ignore[index]
    discount = by_test["tests/test_pricing.py::test_discount_starts_at_ten_items"]
    assert "assert 0.0 == 0.1" in discount.message
    assert "test_discount_starts_at_ten_items" in discount.message
    assert discount.severity == types.DiagnosticSeverity.Error
    assert discount.code == "test-failure"
    [related] = discount.related_information or []
    assert related.location.uri == (shop / "tests" / "test_pricing.py").as_uri()
    assert related.location.range.start.line == 8  # the failing assert in the test
    # The safety findings (yaml.load, shell=True) are published together with them.
    assert any(d.source == "fixloop" for d in client.diagnostics[uri])
    assert client.versions[uri] == 1
    await _idle_after_testing(client)

    fixed = text.replace("quantity > 10", "quantity >= 10")
    source.write_text(fixed, encoding="utf-8")
    replace_document(client, uri, 2, fixed)
    _save(client, uri)
    await wait_until(client, lambda: not shown_test_failures(client, uri), 60.0)
    assert any(d.source == "fixloop" for d in client.diagnostics[uri])
    assert client.versions[uri] == 2


async def test_the_test_file_shows_its_own_failing_lines(
    client: FixloopTestClient, shop: Path
) -> None:
    uri = (shop / "tests" / "test_pricing.py").as_uri()
    open_document(client, uri, (shop / "tests" / "test_pricing.py").read_text("utf-8"))
    await wait_until(client, lambda: len(shown_test_failures(client, uri)) == 2, 60.0)
    assert {d.range.start.line for d in shown_test_failures(client, uri)} == {8, 12}


@pytest.mark.parametrize("run_tests", ["onSave"])
async def test_on_save_does_not_run_on_open(
    client: FixloopTestClient, shop: Path, run_tests: str
) -> None:
    uri = (shop / "pricing.py").as_uri()
    open_document(client, uri, (shop / "pricing.py").read_text(encoding="utf-8"))
    await asyncio.sleep(QUIET_SECONDS)
    assert _statuses(client) == [] and not shown_test_failures(client, uri)
    _save(client, uri)
    await wait_until(client, lambda: bool(shown_test_failures(client, uri)), 60.0)
    await _idle_after_testing(client)


@pytest.mark.parametrize("run_tests", ["off"])
async def test_off_never_runs_on_its_own(
    client: FixloopTestClient, shop: Path, run_tests: str
) -> None:
    uri = (shop / "pricing.py").as_uri()
    open_document(client, uri, (shop / "pricing.py").read_text(encoding="utf-8"))
    _save(client, uri)
    await asyncio.sleep(QUIET_SECONDS)
    assert _statuses(client) == [] and not shown_test_failures(client, uri)
    # The command still runs them when asked.
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="fixloop.runTests", arguments=[uri])
    )
    assert result["status"] == "failed" and "2 failed" in result["message"]
    assert {d.range.start.line for d in shown_test_failures(client, uri)} == {BUG_LINE}


async def test_syntax_diagnostics_do_not_wait_for_the_tests(
    client: FixloopTestClient, shop: Path
) -> None:
    (shop / "tests" / "test_slow.py").write_text(
        "import time\n\nimport pricing\n\n\ndef test_slowly():\n    time.sleep(4)\n"
        "    assert pricing.bulk_discount(1) == 0.0\n",
        encoding="utf-8",
    )
    uri = (shop / "pricing.py").as_uri()
    text = (shop / "pricing.py").read_text(encoding="utf-8")
    open_document(client, uri, text)
    await wait_until(client, lambda: any(s["state"] == "testing" for s in _statuses(client)), 30)
    replace_document(client, uri, 2, text + "\ndef broken(:\n")
    await wait_until(
        client,
        lambda: (
            client.versions.get(uri) == 2
            and any(
                d.source == "fixloop" and d.range.start.line > 28 for d in client.diagnostics[uri]
            )
        ),
        5.0,
    )
    # The syntax error is out while the 4 s test still runs: it did not wait for the tests.
    assert _statuses(client)[-1]["state"] == "testing"
    await _idle_after_testing(client)
    assert {d.range.start.line for d in shown_test_failures(client, uri)} == {BUG_LINE}


async def test_the_run_command_answers_with_the_result(
    client: FixloopTestClient, shop: Path
) -> None:
    uri = (shop / "pricing.py").as_uri()
    open_document(client, uri, (shop / "pricing.py").read_text(encoding="utf-8"))
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="fixloop.runTests", arguments=[uri])
    )
    assert result["status"] == "failed"
    assert "1 passed, 2 failed" in result["message"], result


@pytest.mark.parametrize("run_tests", ["sometimes"])
async def test_an_invalid_setting_says_so_and_runs_as_by_default(
    client: FixloopTestClient, shop: Path, run_tests: str
) -> None:
    uri = (shop / "pricing.py").as_uri()
    open_document(client, uri, (shop / "pricing.py").read_text(encoding="utf-8"))
    await wait_until(client, lambda: bool(shown_test_failures(client, uri)), 60.0)
    assert any("sometimes" in m.message for m in client.messages)


# Slow only while the bug is there: longer than the sandbox's 60 s timeout.
SLOW_WHILE_BUGGY = (
    "import subprocess\n\nimport pricing\n\n\ndef test_slowly():\n"
    "    if pricing.bulk_discount(10) == 0.0:\n        subprocess.run(['sleep', '120'])\n"
    "    assert pricing.bulk_discount(1) == 0.0\n"
)


async def test_a_save_during_a_run_cancels_it(client: FixloopTestClient, shop: Path) -> None:
    (shop / "tests" / "test_slow.py").write_text(SLOW_WHILE_BUGGY, encoding="utf-8")
    source = shop / "pricing.py"
    uri = source.as_uri()
    text = source.read_text(encoding="utf-8")
    open_document(client, uri, text)
    # The run on the buggy file is under way in the sandbox (it copied the file as it was).
    for _ in range(300):
        if await asyncio.to_thread(running_in_sandbox, shop, "sleep 120"):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the run on the buggy file never started its slow test")
    fixed = text.replace("quantity > 10", "quantity >= 10")
    source.write_text(fixed, encoding="utf-8")
    replace_document(client, uri, 2, fixed)
    _save(client, uri)
    seen_failures = False

    def second_run_done() -> bool:
        nonlocal seen_failures
        seen_failures = seen_failures or bool(shown_test_failures(client, uri))
        states = [s["state"] for s in _statuses(client)]
        return states.count("testing") == 2 and states[-1] == "idle"

    # Had the first run gone on, the second would wait for its 60 s timeout.
    await wait_until(client, second_run_done, 45.0)
    # The first run (on the buggy file) was stopped: its failures were never shown.
    assert not seen_failures and not shown_test_failures(client, uri)
    statuses = _statuses(client)
    assert [s["state"] for s in statuses] == ["testing", "idle", "testing", "idle"]
    assert "cancelled" in statuses[1]["message"] and "passed" in statuses[3]["message"]


@pytest.fixture
def missing_image(shop: Path) -> None:
    pyproject = shop / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text + '\n[tool.fixloop.sandbox]\nimage = "fixloop-absent"\n', "utf-8")


@pytest.mark.usefixtures("missing_image")
async def test_a_missing_image_is_one_message_not_one_per_save(
    client: FixloopTestClient, shop: Path
) -> None:
    uri = (shop / "pricing.py").as_uri()
    open_document(client, uri, (shop / "pricing.py").read_text(encoding="utf-8"))
    await wait_until(client, lambda: any(s["state"] == "unavailable" for s in _statuses(client)))
    for _ in range(2):
        _save(client, uri)
        await asyncio.sleep(1.0)
    [message] = [m for m in client.messages if "fixloop-absent" in m.message]
    assert message.type == types.MessageType.Warning
    assert "fixloop sandbox build" in message.message
    assert not shown_test_failures(client, uri)
    assert any(d.source == "fixloop" for d in client.diagnostics[uri])  # the rest still works


async def test_turning_the_runs_off_clears_them_and_stops_the_next_ones(
    client: FixloopTestClient, shop: Path
) -> None:
    uri = (shop / "pricing.py").as_uri()
    open_document(client, uri, (shop / "pricing.py").read_text(encoding="utf-8"))
    await wait_until(client, lambda: bool(shown_test_failures(client, uri)), 60.0)
    await _idle_after_testing(client)
    push_settings(client, {"tests": {"run": "off"}})
    await wait_until(client, lambda: not shown_test_failures(client, uri), 10.0)
    assert any(d.source == "fixloop" for d in client.diagnostics[uri])
    runs_before = len(_statuses(client))
    _save(client, uri)
    await asyncio.sleep(QUIET_SECONDS)
    assert len(_statuses(client)) == runs_before and not shown_test_failures(client, uri)
