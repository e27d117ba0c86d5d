"""Shutdown while requests are still being handled: each is cancelled, and the server
answers the shutdown instead of failing it (pygls 2.1.1 changes the dict of pending
requests while it walks it: openlawlibrary/pygls#606)."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from fixloop.lsp.server import create_server
from tests.support.examples import copy_of_shop
from tests.support.in_process import InProcessServer
from tests.support.sandbox_processes import containers_of_project

# A failure no template can fix, in a test slow enough to be running at shutdown.
SLOW = "def double(x):\n    return x * 2\n"
SLOW_TESTS = (
    "import time\n\nfrom calc import double\n\n\n"
    "def test_impossible():\n    time.sleep(60)\n    assert double(2) == 'four'\n"
)


def test_shutdown_cancels_the_requests_still_running_and_succeeds() -> None:
    server = create_server()
    protocol = server.protocol
    pending: dict[Any, Future[Any]] = protocol._request_futures
    running: list[Future[Any]] = []
    for msg_id in ("code-action", "execute-command"):
        future: Future[Any] = Future()
        # As pygls does: a request's future leaves the dict once it is done.
        future.add_done_callback(lambda _, msg_id=msg_id: pending.pop(msg_id, None))
        pending[msg_id] = future
        running.append(future)
    shutdown = protocol.lsp_shutdown(None)
    handler, args, _ = next(shutdown)
    asyncio.run(handler(*args))
    next(shutdown, None)  # pygls's own cancelling of what is still pending
    assert all(future.cancelled() for future in running)
    assert pending == {}


@pytest.mark.slow
def test_shutdown_during_a_fix_leaves_no_job_thread_or_container(tmp_path: Path) -> None:
    """A fix in its 60-second test when `shutdown` comes: the answer comes after every job
    has ended (the session's containers removed), well before the test's minute."""
    root = copy_of_shop(tmp_path)
    settings = '\n[tool.fixloop.tests]\nrun = "off"\n\n[tool.fixloop.memory]\nenabled = false\n'
    with (root / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write(settings)
    (root / "calc.py").write_text(SLOW, encoding="utf-8")
    (root / "tests" / "test_calc.py").write_text(SLOW_TESTS, encoding="utf-8")
    uri = (root / "calc.py").as_uri()
    before = set(threading.enumerate())
    lsp = InProcessServer()
    try:
        lsp.initialize(root, trusted=True, capabilities={})
        document = {"uri": uri, "languageId": "python", "version": 1, "text": SLOW}
        lsp.notify("textDocument/didOpen", {"textDocument": document})
        fix = lsp.send("workspace/executeCommand", {"command": "fixloop.fix", "arguments": [uri]})
        deadline = time.monotonic() + 60
        while not containers_of_project(root) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert containers_of_project(root) != []
        time.sleep(1.0)  # the baseline is in its 60-second test now
        assert [job.key[0] for job in lsp.server.jobs.running()] == ["fix"]
        started = time.monotonic()
        assert "error" not in lsp.request("shutdown", None)
        assert time.monotonic() - started < 15
        assert lsp.server.jobs.running() == []
        assert containers_of_project(root) == []
        # No thread of the fix goes on: only the server's own and idle executor workers.
        harness = {"fixloop-server", "fixloop-stdin", "fixloop-test-client"}
        left = [
            t.name
            for t in threading.enumerate()
            if t not in before and t.name not in harness and not t.name.startswith("asyncio_")
        ]
        assert left == []
        assert lsp.answer(fix)["result"]["status"] == "cancelled"
    finally:
        lsp.close()
