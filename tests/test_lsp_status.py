"""The status bar's state comes from the job registry: a test run on open/save never
hides a fix under way, and with two fixes at once it stays `fixing` until both end."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

from fixloop.lsp.fix_command import _ended
from fixloop.lsp.jobs import Jobs
from fixloop.lsp.status import send_status


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.sent.append(params["state"])


def _server() -> tuple[Any, _Recorder]:
    recorder = _Recorder()
    return cast(Any, SimpleNamespace(protocol=recorder, jobs=Jobs())), recorder


async def _a_fix(server: Any, name: str) -> asyncio.Event:
    """A fix job that runs until its event is set."""
    end = asyncio.Event()
    server.jobs.start(("fix", name), end.wait())
    await asyncio.sleep(0)
    return end


async def _ending(server: Any, end: asyncio.Event) -> None:
    end.set()
    for _ in range(3):  # the job ends, then the registry hears of it
        await asyncio.sleep(0)


def test_test_runs_give_way_to_a_fix_and_come_back_after_it() -> None:
    async def check() -> None:
        server, sent = _server()
        send_status(server, "testing", "running the tests", background=True)
        end = await _a_fix(server, "one")
        send_status(server, "fixing", "iteration 1/5", iteration=1, max_iterations=5)
        send_status(server, "idle", "tests: 1 failed", background=True)  # hidden: a fix runs
        send_status(server, "testing", "running the tests", background=True)  # hidden too
        send_status(server, "unavailable", "Docker is not running", background=True)  # shown
        await _ending(server, end)
        _ended(server, "fixed", ("fix", "one"))  # the fix's own end
        send_status(server, "testing", "running the tests", background=True)
        assert sent.sent == ["testing", "fixing", "unavailable", "idle", "testing"]

    asyncio.run(check())


def test_each_server_has_its_own_state() -> None:
    async def check() -> None:
        first, first_sent = _server()
        second, second_sent = _server()
        end = await _a_fix(first, "one")
        send_status(first, "fixing", "iteration 1/5")
        send_status(second, "testing", "running the tests", background=True)
        assert first_sent.sent == ["fixing"] and second_sent.sent == ["testing"]
        end.set()

    asyncio.run(check())


def test_two_fixes_at_once_keep_the_status_until_the_second_ends() -> None:
    async def check() -> None:
        server, sent = _server()
        first = await _a_fix(server, "first")
        second = await _a_fix(server, "second")
        send_status(server, "fixing", "iteration 1/5")
        first.set()
        for _ in range(3):
            await asyncio.sleep(0)
        assert [job.key for job in server.jobs.running("fix")] == [("fix", "second")]
        _ended(server, "fixed", ("fix", "first"))
        send_status(server, "idle", "tests: 1 failed", background=True)  # still hidden
        await _ending(server, second)
        _ended(server, "no fix found", ("fix", "second"))
        send_status(server, "testing", "running the tests", background=True)  # shown again
        assert sent.sent == ["fixing", "fixing", "idle", "testing"]

    asyncio.run(check())


def test_a_fix_that_ended_without_one_says_why_once() -> None:
    from fixloop.loop.engine import FixResult, Status
    from fixloop.lsp.fix_command import _summary

    ended = FixResult(
        Status.NOT_FOUND,
        "out of time after 544 candidates (120 s budget)",
        iterations=35,
        candidates_tried=544,
        duration=121.3,
        engine="offline",
    )
    assert _summary(ended) == (
        "out of time after 544 candidates (120 s budget) · 35 iterations, 544 candidates, "
        "121.3 s · offline"
    )


def test_a_fix_from_memory_counts_in_the_singular() -> None:
    from fixloop.loop.engine import FixResult, Status
    from fixloop.lsp.fix_command import _summary

    remembered = FixResult(
        Status.FIXED,
        "verified",
        iterations=1,
        candidates_tried=1,
        duration=8.4,
        engine="offline",
    )
    assert _summary(remembered) == "fixed · 1 iteration, 1 candidate, 8.4 s · offline"
