"""Two workspace folders whose sandbox settings differ, their tests running at the same
time: each run in its own pool, with its own folder's limits, neither disturbing the
other (one pool for the whole server used to be closed under one folder's run when the
other folder's configuration asked for its own)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import CLIENTS, SERVER, initialize_in
from tests.support.client import FixloopTestClient, make_client
from tests.support.editing import open_document, shown_test_failures, wait_until
from tests.support.sandbox_processes import containers_of_process, containers_of_project

pytestmark = pytest.mark.slow

# A slow helper (its test takes ~2.5 s: the runs of both folders overlap) and a bug.
SOURCE = """import time


def slow_double(x):
    time.sleep(2.5)
    return x * 2


def add(a, b):
    return a - b
"""
TESTS = """from calc import add, slow_double


def test_slow_double():
    assert slow_double(2) == 4


def test_add():
    assert add(1, 2) == 3
"""


def _folder(root: Path, sandbox: str) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "calc.py").write_text(SOURCE, encoding="utf-8")
    (root / "tests" / "test_calc.py").write_text(TESTS, encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[tool.fixloop]\ntest-command = "python -m pytest -q"\n\n'
        f"[tool.fixloop.memory]\nenabled = false\n\n[tool.fixloop.sandbox]\n{sandbox}",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    # The strict folder gives a test 1 s; the other the default (10 s).
    strict = _folder(tmp_path / "strict", "test-timeout-seconds = 1\nparallel = 1\n")
    relaxed = _folder(tmp_path / "relaxed", "parallel = 2\n")
    return strict, relaxed


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=make_client), params=CLIENTS
)
async def client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, folders: tuple[Path, Path]
) -> AsyncIterator[None]:
    await initialize_in(lsp_client, request.param, *folders)
    yield
    server = lsp_client._server  # type: ignore[attr-defined]
    await lsp_client.shutdown_session()
    assert containers_of_process(server.pid) == [], "the server left sandbox containers"


def _failing_tests(client: LanguageClient, uri: str) -> dict[str, str]:
    return {
        str(d.data["testId"]).split("::")[-1]: d.message  # type: ignore[index]
        for d in shown_test_failures(client, uri)
    }


async def test_folders_with_their_own_sandbox_settings_test_at_once(
    client: FixloopTestClient, folders: tuple[Path, Path]
) -> None:
    strict, relaxed = folders
    strict_uri, relaxed_uri = (strict / "calc.py").as_uri(), (relaxed / "calc.py").as_uri()
    open_document(client, strict_uri, SOURCE)
    open_document(client, relaxed_uri, SOURCE)

    # Both folders' runs are under way together, each in a container of its own.
    async def both_running() -> None:
        while not (containers_of_project(strict) and containers_of_project(relaxed)):
            await asyncio.sleep(0.1)

    await asyncio.wait_for(both_running(), 60.0)

    def both_shown() -> bool:
        return bool(shown_test_failures(client, strict_uri)) and bool(
            shown_test_failures(client, relaxed_uri)
        )

    await wait_until(client, both_shown, 90.0)
    strict_failures = _failing_tests(client, strict_uri)
    relaxed_failures = _failing_tests(client, relaxed_uri)
    # Each folder's run ended as its own settings say: past 1 s the slow test fails in the
    # strict folder, and passes in the other; the bug fails in both.
    assert set(strict_failures) == {"test_slow_double", "test_add"}, strict_failures
    assert "1" in strict_failures["test_slow_double"]
    assert set(relaxed_failures) == {"test_add"}, relaxed_failures
    # Neither run was stopped under the other: no "could not run" anywhere.
    states = [status.get("state") for status in client.statuses]
    assert "unavailable" not in states
    for message in [*strict_failures.values(), *relaxed_failures.values()]:
        assert "could not run" not in message
