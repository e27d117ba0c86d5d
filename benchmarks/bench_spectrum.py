"""What the coverage spectrum costs, traced as the loop does now (the file under repair
alone) against tracing every project file (as before), with an untraced run as the floor.

Run: .venv/bin/python benchmarks/bench_spectrum.py [--runs N] [--modules N] [--tests N]
Needs the engine and the image (scripts/ensure-docker.sh). Prints its figures; not a test.

The project is generated: a package of N modules whose functions call each other, and a
suite that exercises all of them; the file under repair is one of the modules. Each run is
the same pytest command in the real sandbox; the figure is the run's own duration.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

from fixloop.loop.localize import spectrum_probe  # noqa: E402
from fixloop.sandbox import SandboxConfig, SandboxPool  # noqa: E402
from fixloop.sandbox.results import Probe  # noqa: E402

COMMAND = "python -m pytest -q"


def project(root: Path, modules: int, tests: int) -> str:
    """The generated project; the path of the file under repair."""
    package = root / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for index in range(modules):
        callee = f"from pkg.m{index - 1} import work as inner\n" if index else ""
        body = "inner(x - 1) + " if index else ""
        (package / f"m{index}.py").write_text(
            f"{callee}\n\ndef work(x):\n    total = 0\n    for i in range(50):\n"
            f"        total += (i * x) % 7\n    return {body}total\n"
        )
    lines = [f"from pkg.m{modules - 1} import work", ""]
    for number in range(tests):
        lines += [f"def test_{number}():", f"    assert work({number}) >= 0", ""]
    (root / "test_pkg.py").write_text("\n".join(lines))
    return f"pkg/m{modules // 2}.py"


def timed(pool: SandboxPool, root: Path, probe: Probe | None, runs: int) -> float:
    times = []
    for _ in range(runs):
        result = pool.run(root, {}, COMMAND, probe=probe)
        assert result.cases and not result.failures, result.output.text
        times.append(result.duration)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--modules", type=int, default=20)
    parser.add_argument("--tests", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, SandboxPool(SandboxConfig(parallel=1)) as pool:
        root = Path(folder)
        target = project(root, args.modules, args.tests)
        pool.run(root, {}, COMMAND)  # the warm container and agent, outside the figures
        plain = timed(pool, root, None, args.runs)
        every = timed(pool, root, spectrum_probe(), args.runs)
        target_only = timed(pool, root, spectrum_probe([target]), args.runs)
    print(f"{args.tests} tests over {args.modules} modules, median of {args.runs} runs")
    print(f"{'run':<40}{'seconds':>10}{'vs untraced':>12}")
    for name, seconds in (
        ("untraced (floor)", plain),
        ("spectrum, every project file (before)", every),
        ("spectrum, the file under repair (now)", target_only),
    ):
        print(f"{name:<40}{seconds:>10.3f}{seconds / plain:>12.2f}")


if __name__ == "__main__":
    main()
