"""How fast a test run nobody wants any more gets out of the way (a newer save, a cancelled
fix, Ctrl+C), and what the next run pays for it.

Run: .venv/bin/python benchmarks/bench_cancel.py [--runs N]
Needs the engine and the image (scripts/ensure-docker.sh). Prints its figures; not a test.

On a one-slot pool and a project whose test sleeps 30 s:
  - cancel → the run's result is back (the agent killed the test's processes);
  - the next candidate on that slot, whose agent stayed warm;
against the two ways it could be done without the cancel message:
  - letting the run finish (what test diagnostics did before: its result dropped);
  - killing the slot's agent with the run (every process of its uid), so that the next
    candidate starts a new agent.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

from tests.sandbox.projects import calc_project  # noqa: E402
from tests.support.sandbox_processes import running_in_sandbox  # noqa: E402

from fixloop.sandbox import Cancellation, SandboxConfig, SandboxPool  # noqa: E402

PYTEST = "pytest -q"
SLEEP_SECONDS = 30
SLOW = {
    "tests/test_slow.py": (
        "import subprocess\n\n\ndef test_slow():\n"
        f"    subprocess.run(['sleep', '{SLEEP_SECONDS}'])\n"
    )
}


def start_slow_run(pool: SandboxPool, project: Path, cancel: Cancellation) -> threading.Thread:
    """A slow run in a thread, returned once its test is sleeping in the sandbox."""
    runner = threading.Thread(
        target=pool.run, args=(project, SLOW, PYTEST), kwargs={"cancel": cancel, "timeout": 120}
    )
    runner.start()
    while running_in_sandbox(project, f"sleep {SLEEP_SECONDS}") == 0:
        time.sleep(0.02)
    return runner


def cancelled_then_next(pool: SandboxPool, project: Path) -> tuple[float, float]:
    """(cancel → result, next candidate) in seconds."""
    cancel = Cancellation()
    runner = start_slow_run(pool, project, cancel)
    started = time.perf_counter()
    cancel.cancel()
    runner.join()
    stopped = time.perf_counter() - started
    started = time.perf_counter()
    assert pool.run(project, {}, PYTEST).passed
    return stopped, time.perf_counter() - started


def next_after_a_killed_agent(pool: SandboxPool, project: Path) -> float:
    """The next candidate when the slot's agent was killed (the way without the message)."""
    warm = next(iter(pool._warm.values()))
    slot = warm.slots.get()
    pool._reset_slot(warm, slot)
    warm.slots.put(slot)
    started = time.perf_counter()
    assert pool.run(project, {}, PYTEST).passed
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    stopped, warm_next, cold_next = [], [], []
    with tempfile.TemporaryDirectory(prefix="fixloop-bench-") as directory:
        project = calc_project(Path(directory) / "calc")
        with SandboxPool(SandboxConfig(parallel=1)) as pool:
            for _ in range(3):  # the container, the agent and the caches warm
                pool.run(project, {}, PYTEST)
            for _ in range(runs):
                stop, after = cancelled_then_next(pool, project)
                stopped.append(stop)
                warm_next.append(after)
                cold_next.append(next_after_a_killed_agent(pool, project))

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:7.0f} ms (best {min(values) * 1000:.0f})"

    print(f"A run cancelled while its test sleeps {SLEEP_SECONDS} s (median of {runs}):")
    print(f"  cancel → its result back                    {ms(stopped)}")
    print(f"  letting it finish instead                   {SLEEP_SECONDS * 1000:7.0f} ms (at most)")
    print("The next candidate on that slot:")
    print(f"  agent kept warm (the cancel message)        {ms(warm_next)}")
    print(f"  agent killed with the run, started again    {ms(cold_next)}")


if __name__ == "__main__":
    main()
