"""The status bar's state: a test run on open/save never hides a fix under way."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from fixloop.lsp.status import send_status


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.sent.append(params["state"])


def _server() -> tuple[Any, _Recorder]:
    recorder = _Recorder()
    return cast(Any, SimpleNamespace(protocol=recorder)), recorder


def test_test_runs_give_way_to_a_fix_and_come_back_after_it() -> None:
    server, sent = _server()
    send_status(server, "testing", "running the tests", background=True)
    send_status(server, "fixing", "iteration 1/5", iteration=1, max_iterations=5)
    send_status(server, "idle", "tests: 1 failed", background=True)  # hidden: a fix runs
    send_status(server, "testing", "running the tests", background=True)  # hidden too
    send_status(server, "unavailable", "Docker is not running", background=True)  # shown
    send_status(server, "idle", "fixed")  # the fix's own end
    send_status(server, "testing", "running the tests", background=True)
    assert sent.sent == ["testing", "fixing", "unavailable", "idle", "testing"]


def test_each_server_has_its_own_state() -> None:
    first, first_sent = _server()
    second, second_sent = _server()
    send_status(first, "fixing", "iteration 1/5")
    send_status(second, "testing", "running the tests", background=True)
    assert first_sent.sent == ["fixing"] and second_sent.sent == ["testing"]
    send_status(first, "idle", "fixed")


def test_the_first_of_two_fixes_to_end_leaves_the_status_fixing() -> None:
    from fixloop.lsp.fix_command import FixRuns, _ended

    server, sent = _server()
    server.fix_runs = FixRuns()
    server.fix_runs.running.append(object())  # the other fix, still running
    send_status(server, "fixing", "iteration 1/5")
    _ended(server, "fixed")
    send_status(server, "idle", "tests: 1 failed", background=True)  # still hidden
    server.fix_runs.running.clear()
    _ended(server, "no fix found")
    assert sent.sent == ["fixing", "fixing", "idle"]
