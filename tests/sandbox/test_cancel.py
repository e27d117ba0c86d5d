"""Cancelling a run: it stops at once, its processes are gone, the warm sandbox stays."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from fixloop.sandbox import Cancellation, SandboxPool
from tests.support.sandbox_processes import running_in_sandbox

pytestmark = pytest.mark.slow

SLEEPS = {
    "tests/test_slow.py": (
        "import subprocess\n\n\ndef test_slow():\n    subprocess.run(['sleep', '97'], check=True)\n"
    )
}


def wait_for(condition: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not callable(condition) or not condition():
        assert time.monotonic() < deadline, "the sandbox never got there"
        time.sleep(0.1)


def test_a_cancelled_run_stops_and_its_slot_serves_the_next_candidate(
    pool: SandboxPool, calc: Path
) -> None:
    cancel = Cancellation()
    results = []
    running = threading.Thread(
        target=lambda: results.append(
            pool.run(calc, SLEEPS, "pytest -q", timeout=120, cancel=cancel)
        )
    )
    running.start()
    wait_for(lambda: running_in_sandbox(calc, "sleep 97") == 1)
    cancel.cancel()
    running.join(60)
    assert not running.is_alive(), "the run went on after it was cancelled"
    [result] = results
    assert result.cancelled and not result.passed and not result.timed_out
    assert result.duration < 60  # the test alone sleeps 97 s
    assert result.summary().startswith("cancelled after")
    assert running_in_sandbox(calc, "sleep 97") == 0  # its whole process tree is gone
    # Both slots (the cancelled one included) run candidates as before.
    again = pool.run_many(calc, [{}, {}], "pytest -q")
    assert [r.passed for r in again] == [True, True], [r.output.text for r in again]


def test_a_run_cancelled_before_it_starts_does_not_run(pool: SandboxPool, calc: Path) -> None:
    cancel = Cancellation()
    cancel.cancel()
    result = pool.run(calc, SLEEPS, "pytest -q", timeout=120, cancel=cancel)
    assert result.cancelled and result.exit_code is None
    assert running_in_sandbox(calc, "sleep 97") == 0


def test_a_cancel_after_the_run_ended_does_not_reach_the_next_one(
    pool: SandboxPool, calc: Path
) -> None:
    cancel = Cancellation()
    assert pool.run(calc, {}, "pytest -q", cancel=cancel).passed
    cancel.cancel()  # too late: nothing to stop, and nothing queued for the slot
    for result in pool.run_many(calc, [{}, {}, {}], "pytest -q"):
        assert result.passed and not result.cancelled
