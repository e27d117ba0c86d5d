"""The fix seen before costs no test run of its own when a save has just run the tests: a
save with a failing test and nothing alike in memory runs the tests once, and a recurring
bug still gets its remembered fix, verified. The real server, the real sandbox, a real
embedded memory in the test's folder; the runs counted as the user sees them: each test
run on save is a `testing` status, each run of the remembered-fix lookup a line in the
client's log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import CLIENTS, SERVER, initialize_in
from tests.e2e.test_fix_command import TITLE, code_actions, execute, shop_copy, states
from tests.support.editing import shown_test_failures, wait_until
from tests.support.editor import EditorClient, make_editor_client

pytestmark = pytest.mark.slow
SEEN_BEFORE = "Apply fix seen before"
LOOKUP_RUN = "checking a fix seen before for pricing.py:"


def shop_tested_on_save(tmp_path: Path, name: str) -> Path:
    """The example, its memory in the test's folder, its tests run on every save."""
    root = shop_copy(tmp_path, name)
    pyproject = root / "pyproject.toml"
    settings = pyproject.read_text("utf-8").replace('run = "off"', 'run = "onSave"')
    pyproject.write_text(settings, encoding="utf-8")
    return root


@pytest.fixture
def projects(tmp_path: Path) -> tuple[Path, Path]:
    """Two copies of the example with the same bug, sharing one memory."""
    return shop_tested_on_save(tmp_path, "shop"), shop_tested_on_save(tmp_path, "again")


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


def log_lines(client: LanguageClient, text: str) -> list[str]:
    return [m.message for m in client.log_messages if text in m.message]


async def save_and_wait_for_the_lookup(client: EditorClient, root: Path) -> str:
    """Open pricing.py, save it (its tests run), and wait until the remembered-fix
    lookup for it has ended; its uri."""
    uri = (root / "pricing.py").as_uri()
    client.open(uri, (root / "pricing.py").read_text(encoding="utf-8"))
    client.save(uri)

    def looked() -> bool:
        ended = ("no fix seen before for pricing.py", "a fix seen before for pricing.py passed")
        return any(log_lines(client, line) for line in ended)

    await wait_until(client, looked, timeout=180)
    return uri


async def test_a_save_with_a_failing_test_and_an_empty_memory_runs_the_tests_once(
    client: EditorClient, projects: tuple[Path, Path]
) -> None:
    uri = await save_and_wait_for_the_lookup(client, projects[0])
    assert shown_test_failures(client, uri)  # the save's run found the failure
    assert states(client).count("testing") == 1  # that run
    assert log_lines(client, LOOKUP_RUN) == []  # and nothing else in the sandbox
    assert log_lines(client, "no fix seen before for pricing.py (0 test runs in the sandbox)")


async def test_a_recurring_bug_saved_still_gets_the_fix_seen_before_verified(
    client: EditorClient, projects: tuple[Path, Path]
) -> None:
    first, again = projects
    # The loop fixes the bug in the first project: memory now has a verified fix.
    uri = (first / "pricing.py").as_uri()
    client.open(uri, (first / "pricing.py").read_text(encoding="utf-8"))
    [loop] = [a for a in await code_actions(client, uri, line=14) if a.title == TITLE]
    assert (await execute(client, loop.command))["status"] == "fixed"

    uri = await save_and_wait_for_the_lookup(client, again)
    assert log_lines(client, "a fix seen before for pricing.py passed the tests")
    # Its runs with the fix: the failing test, then the whole suite.
    assert len(log_lines(client, "on the fix seen before in the sandbox")) == 2
    failing = shown_test_failures(client, uri)
    line = failing[0].range.start.line
    [offer] = [
        a
        for a in await code_actions(client, uri, line=line, diagnostics=failing)
        if a.title.startswith(SEEN_BEFORE)
    ]
    assert offer.edit is not None and client.apply(offer.edit)
    assert (await execute(client, offer.command))["status"] == "applied"
    assert "if quantity >= 10:" in client.buffers[uri][1]
