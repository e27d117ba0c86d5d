"""How fast the sandbox verifies a candidate: warm pool vs a fresh container per candidate.

Run: .venv/bin/python benchmarks/bench_sandbox.py [--runs N]
Needs the engine and the image (scripts/ensure-docker.sh). Prints its figures; not a test.

On a small project with a 5-test pytest suite it measures, per candidate:
  - the bare pytest process inside the sandbox (no Docker round trip at all): the floor;
  - a fresh `docker run` per candidate (same limits, the candidate's copy bind-mounted);
  - the warm pool running a new pytest process per candidate;
  - the warm pool forking pytest from an agent that has imported it already;
and the throughput of parallel candidates.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

from tests.sandbox.projects import CALC, CALC_BROKEN, calc_project  # noqa: E402

from fixloop.sandbox import SandboxConfig, SandboxPool  # noqa: E402
from fixloop.sandbox.engine import connect  # noqa: E402

PYTEST = "pytest -q"
# Runs inside the sandbox: the pytest process alone, timed where it runs.
BARE = """
import os, statistics, subprocess, sys, time
env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
argv = ["python3", "-B", "-m", "pytest", "-q", "-p", "no:cacheprovider"]
times = []
for _ in range(int(sys.argv[1])):
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - started)
print("bare", statistics.median(times))
"""


def candidates(count: int) -> list[dict[str, str]]:
    """Alternately a correct and a broken calc.py: the loop's mix of passes and failures."""
    return [{"calc.py": CALC if n % 2 == 0 else CALC_BROKEN} for n in range(count)]


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def per_candidate(project: Path, runs: int) -> dict[str, float]:
    """Median seconds per candidate for each way, measured in interleaved rounds so that
    whatever else the machine is doing weighs on every way alike."""
    exec_pool = SandboxPool(SandboxConfig(parallel=1, pytest_forkserver=False))
    fork_pool = SandboxPool(SandboxConfig(parallel=1, pytest_forkserver=True))
    fresh = fresh_container_runner(project)
    times: dict[str, list[float]] = {"bare": [], "fresh": [], "warm": [], "forked": []}
    try:
        for changes in candidates(3):  # start the containers and agents, warm the caches
            exec_pool.run(project, changes, PYTEST)
            fork_pool.run(project, changes, PYTEST)
        for changes in candidates(runs):
            times["bare"].append(bare_pytest(exec_pool, project))
            times["fresh"].append(timed(partial(fresh, changes)))
            times["warm"].append(timed(partial(exec_pool.run, project, changes, PYTEST)))
            times["forked"].append(timed(partial(fork_pool.run, project, changes, PYTEST)))
    finally:
        exec_pool.close()
        fork_pool.close()
    medians = {way: statistics.median(seconds) for way, seconds in times.items()}
    return medians | {f"{way} best": min(seconds) for way, seconds in times.items()}


def bare_pytest(pool: SandboxPool, project: Path) -> float:
    """One pytest process, timed inside the sandbox: no Docker round trip counted."""
    result = pool.run(project, {"bare.py": BARE}, "python3 bare.py 1")
    line = next(line for line in result.output.text.splitlines() if line.startswith("bare"))
    return float(line.split()[1])


def fresh_container_runner(project: Path) -> Callable[[dict[str, str]], None]:
    """A new container per candidate, with the same limits as the pool's."""
    import docker.errors

    config = SandboxConfig(parallel=1)
    client = connect(config)
    with SandboxPool(config) as pool:
        options = pool._isolation(client)
    for name in ("detach", "working_dir"):
        options.pop(name)
    options["tmpfs"] = {"/tmp": "rw,size=64m"}
    env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    argv = ["python3", "-B", "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    copy = project.parent / "fresh-copy"
    shutil.copytree(project, copy)

    def run_fresh(changes: dict[str, str]) -> None:
        (copy / "calc.py").write_text(changes["calc.py"])
        # A failing candidate raises ContainerError: that is an answer, not an error.
        with contextlib.suppress(docker.errors.ContainerError):
            client.containers.run(
                config.image_ref,
                argv,
                volumes={str(copy): {"bind": "/work/p", "mode": "ro"}},
                working_dir="/work/p",
                environment=env,
                remove=True,
                labels={"fixloop": "1", "fixloop.benchmark": "1"},
                **options,
            )

    return run_fresh


def throughput(project: Path, count: int, *, forkserver: bool) -> float:
    config = SandboxConfig(parallel=2, cpus=2.0, pytest_forkserver=forkserver)
    with SandboxPool(config) as pool:
        pool.run_many(project, candidates(4), PYTEST)  # warm both slots
        started = time.perf_counter()
        results = pool.run_many(project, candidates(count), PYTEST)
        elapsed = time.perf_counter() - started
    assert [r.passed for r in results] == [n % 2 == 0 for n in range(count)]
    return count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="candidates per measurement")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="fixloop-bench-") as directory:
        Path(directory).chmod(0o755)  # the sandbox's user reads the bind-mounted project
        project = calc_project(Path(directory) / "calc")
        figures = per_candidate(project, runs)
        load = os.getloadavg()[0]
        rate_exec = throughput(project, runs * 2, forkserver=False)
        rate_forked = throughput(project, runs * 2, forkserver=True)
    bare, fresh, warm, forked = (figures[way] for way in ("bare", "fresh", "warm", "forked"))
    print(f"Per-candidate verification, 5-test pytest suite, {runs} rounds:   median    best")
    for way, label in (
        ("bare", "bare pytest process inside the sandbox"),
        ("fresh", "fresh docker run per candidate"),
        ("warm", "warm pool, new pytest process per candidate"),
        ("forked", "warm pool, pytest forked from a warm runner"),
    ):
        median, best = figures[way] * 1000, figures[f"{way} best"] * 1000
        print(f"  {label:<46} {median:7.1f} ms {best:7.1f} ms")
    print(f"Parallel candidates (2 slots, 2 cores), {runs * 2} candidates:")
    print(f"  new pytest process per candidate  {rate_exec:6.1f} candidates/s")
    print(f"  pytest forked from a warm runner  {rate_forked:6.1f} candidates/s")
    forked_speedup, warm_speedup, overhead = fresh / forked, fresh / warm, (warm - bare) * 1000
    goals = [
        (f"warm pool (default, forked runner) {forked_speedup:.1f}x faster than a fresh "
         "container (goal >= 2.5x)", forked_speedup >= 2.5),
        (f"warm pool, new pytest process: {warm_speedup:.1f}x faster than a fresh container "
         "(goal >= 2.5x)", warm_speedup >= 2.5),
        (f"warm pool, new pytest process: {overhead:.0f} ms over the bare pytest run "
         "(goal <= 60 ms)", overhead <= 60),
        (f"stretch: forked runner {forked * 1000:.0f} ms < bare pytest {bare * 1000:.0f} ms",
         forked < bare),
    ]  # fmt: skip
    print(f"Goals (load average {load:.2f} on {os.cpu_count()} cores while measuring):")
    for text, met in goals:
        print(f"  [{'met' if met else 'MISSED'}] {text}")
    return 0 if all(met for _, met in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
