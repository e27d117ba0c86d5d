"""What the sandbox adds to a whole test suite: a real project's suite as fixloop runs it
for a fix, against plain pytest in the same container (the floor: same image, same
interpreter, a copy of the same tree) and the user's own plain pytest on the host.

Run:  .venv/bin/python benchmarks/bench_suite_overhead.py PROJECT [PROJECT ...] [--runs N]
PROJECT is a prepared project tree with its `.venv` (see bench_real_projects.py --setup);
the sandbox prepares its environment the first time. Needs the engine and the image
(scripts/ensure-docker.sh). Prints, per project, the median of N runs of:
  - host: `.venv/bin/python -m pytest -q` in the tree, bytecode kept (the user's run);
  - container: the same command in the sandbox's container, on a copy of its tree, with
    the environment fixloop's runs have (PYTHONPATH to the sources);
  - sandbox: `SandboxPool.run` of the suite (forked pytest, per-test limit, JUnit report);
  - sharded: `SandboxPool.run_sharded`, the run a fix's whole-suite check makes, across
    the sandbox's slots;
and the ratios of the last two to the container's floor. Not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "server")]

from fixloop.sandbox import SandboxConfig, SandboxPool  # noqa: E402
from fixloop.sandbox.runner import PATH  # noqa: E402

COMMAND = "python -m pytest -q"


def timed(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.monotonic()
        run()
        times.append(time.monotonic() - started)
    return statistics.median(times)


def host_run(root: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",)}
    subprocess.run(
        [str(root / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root, env=env, capture_output=True, check=False,
    )  # fmt: skip


def container_run(container: str, base: str, sources: tuple[str, ...]) -> None:
    copy = "/tmp/fixloop-bench-copy"
    paths = ":".join(f"{copy}/{path}" for path in sources)
    script = (
        f"rm -rf {copy} && cp -R --preserve=mode,timestamps {base} {copy} && cd {copy} && "
        f"PYTHONPATH={paths} python3 -m pytest -q -p no:cacheprovider > /dev/null 2>&1"
    )
    subprocess.run(
        ["docker", "exec", "-u", "1000", "-e", f"PATH={PATH}", "-e", "HOME=/tmp",
         container, "sh", "-c", script],
        check=False,
    )  # fmt: skip


def measure(pool: SandboxPool, root: Path, runs: int) -> None:
    first = pool.run(root, {}, COMMAND, timeout=1800)  # the container, prepared and warm
    warm = next(w for (path, _), w in pool._warm.items() if path == root.resolve())
    container, base = warm.container.id, warm.base
    host = timed(lambda: host_run(root), runs)
    floor = timed(lambda: container_run(container, base, warm.source_paths), runs)
    sandbox = timed(lambda: pool.run(root, {}, COMMAND, timeout=1800), runs)
    sharded = timed(lambda: pool.run_sharded(root, {}, COMMAND, timeout=1800), runs)
    print(
        f"{root.name:<14} {len(first.cases):>6} tests | host {host:6.2f} s | "
        f"container {floor:6.2f} s | sandbox {sandbox:6.2f} s ({sandbox / floor:.2f}x) | "
        f"sharded {sharded:6.2f} s ({sharded / floor:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with SandboxPool(SandboxConfig()) as pool:
        for root in args.projects:
            measure(pool, root.resolve(), args.runs)


if __name__ == "__main__":
    main()
