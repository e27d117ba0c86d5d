"""Per-candidate cost on the failing tests: the warm runner against the forked pytest.

Run: .venv/bin/python benchmarks/bench_warm_runner.py [--tests N] [--rounds N]
Needs the engine and the image (scripts/ensure-docker.sh). Prints its figures; not a test.

A generated project (a package of a few modules, a suite of `--tests` tests in several
files, one line of `stats.py` broken so that a few tests fail) and the candidates a
template search tries on that line (operator swaps, constants ±1, other variables, ...).
Each candidate runs the failing tests only, as the loop's candidates do, on a one-slot
pool:
  - forked pytest: pytest.main in a fork of the agent, which has imported pytest (before);
  - warm runner: a fork of a session that has collected those tests already.
It prints the median milliseconds per candidate both ways, as the host sees them (the
Docker round trip included), as the agent measured them, and the CPU the candidate cost
in the container (the agent, W and C, or the forked pytest and its copy; independent of
how busy the machine is), the speed-up, how each candidate ran, and whether the two
verdicts agree on every candidate.

Where a warm candidate's CPU goes (profiled in the container, 2-CPU VM, December 2026;
~12 ms idle, ~15 ms under load): ~4.4 ms whatever the tests (a C that exits at once:
the agent ~1.1, W's plan ~0.5 and fork ~0.9, C's start and exit ~1.3); the rest is
pytest running the items in C, spread over its hooks (no part above ~8%), ~2.6 ms of
it copy-on-write faults (~1,700 of W's pages written by C, ~1.5 us each). Removing the
timeout plugin's watchdog threads, batching the terminal's writes, disabling C's gc or
trimming W's heap changed none of it measurably.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

import fixloop.sandbox.pool as pool_module  # noqa: E402
from fixloop.sandbox import CandidateResult, SandboxConfig, SandboxPool  # noqa: E402

_read_result = pool_module.read_result
CPU: dict[int, float] = {}  # id(result) → the CPU the candidate cost in the container


def _read_result_and_cpu(plan: pool_module.Plan, response: dict[str, object]) -> CandidateResult:
    """read_result, keeping the agent's `cpu_seconds` (not part of CandidateResult)."""
    result = _read_result(plan, response)
    CPU[id(result)] = float(str(response.get("cpu_seconds", 0.0)))
    return result


pool_module.read_result = _read_result_and_cpu  # type: ignore[assignment]

BUGGY_LINE = "    return total / (len(values) - 1)"
STATS = f"""\
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction


@dataclass(frozen=True)
class Summary:
    count: int
    mean: float
    spread: float


def mean(values):
    total = 0
    for value in values:
        total += value
{BUGGY_LINE}


def variance(values):
    centre = mean(values)
    return sum((value - centre) ** 2 for value in values) / len(values)


def spread(values):
    return math.sqrt(variance(values))


def summary(values):
    return Summary(len(values), mean(values), spread(values))


def exact_mean(values):
    return Fraction(sum(Fraction(value) for value in values), len(values))


def money(value):
    return Decimal(value).quantize(Decimal("0.01"))
"""
TEXT = """\
import json
import re

WORD = re.compile(r"[a-z']+")


def words(text):
    return WORD.findall(text.lower())


def counts(text):
    found = {}
    for word in words(text):
        found[word] = found.get(word, 0) + 1
    return found


def as_json(text):
    return json.dumps(counts(text), sort_keys=True)
"""
# Variants of the buggy line a template search would try (the right one among them).
TEMPLATES = [
    "total / (len(values) - 1)",
    "total / (len(values) + 1)",
    "total / len(values)",
    "total / (len(values) - 2)",
    "total * (len(values) - 1)",
    "total // (len(values) - 1)",
    "total / (len(values) - 0)",
    "total - (len(values) - 1)",
    "total + (len(values) - 1)",
    "(total - 1) / len(values)",
    "(total + 1) / len(values)",
    "total / max(1, len(values) - 1)",
    "total / abs(len(values) - 1)",
    "total / (len(values) ** 1)",
    "len(values) / total",
    "total / (len(values) - 1) if values else 0",
    "total / len(values) if values else 0.0",
    "total / (1 - len(values))",
    "-total / (len(values) - 1)",
    "total % (len(values) - 1)",
    "total / (len(values) * 1)",
    "round(total / (len(values) - 1))",
    "int(total / len(values))",
    "float(total) / len(values)",
    "total / float(len(values))",
    "total / (len(values) - 1) + 1",
    "total / (len(values) - 1) - 1",
    "total / len(values) + 0",
    "sum(values) / len(values)",
    "total / (len(values) or 1)",
]


def make_project(root: Path, tests: int) -> tuple[Path, list[str]]:
    """The project and the ids of the tests its bug fails."""
    (root / "tests").mkdir(parents=True)
    (root / "stats.py").write_text(STATS)
    (root / "text.py").write_text(TEXT)
    (root / "tests" / "test_stats.py").write_text(
        "import pytest\n\nfrom stats import exact_mean, mean, money, summary\n\n\n"
        "def test_mean():\n    assert mean([1, 2, 3]) == 2\n\n\n"
        "def test_mean_of_one():\n    assert mean([4]) == 4\n\n\n"
        "def test_summary():\n    assert summary([2, 2]).mean == 2\n\n\n"
        "def test_exact_mean():\n    assert exact_mean([1, 2]) == 1.5\n\n\n"
        "@pytest.mark.parametrize('cents', range(40))\n"
        "def test_money(cents):\n    assert money(cents / 100) == money(str(cents / 100))\n"
    )
    per_file = 50
    for index in range(max(1, (tests - 44) // per_file)):
        (root / "tests" / f"test_text_{index}.py").write_text(
            "import pytest\n\nfrom text import as_json, counts, words\n\n\n"
            f"@pytest.mark.parametrize('n', range({per_file // 2}))\n"
            "def test_counts(n):\n    assert counts('a b ' * n).get('a', 0) == n\n\n\n"
            f"@pytest.mark.parametrize('n', range({per_file // 2}))\n"
            "def test_words(n):\n    assert len(words('x ' * n)) == n\n"
            "    assert as_json('x') == '{\"x\": 1}'\n"
        )
    failing = [
        "tests/test_stats.py::test_mean",
        "tests/test_stats.py::test_mean_of_one",
        "tests/test_stats.py::test_summary",
    ]
    return root, failing


def outcomes(result: CandidateResult) -> tuple[bool, bool, dict[str, str]]:
    cases = {case.test_id: str(case.outcome) for case in result.cases}
    return result.passed, result.timed_out, cases


def run_all(
    pool: SandboxPool, project: Path, command: str, rounds: int
) -> list[tuple[float, CandidateResult]]:
    """(host seconds, result) per candidate run, `rounds` passes over the candidates;
    first the three runs that start the container, the agent and (warm) the session."""
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        result = pool.run(project, {}, command)
        runs.append((time.perf_counter() - started, result))
    for _ in range(rounds):
        for template in TEMPLATES:
            changes = {"stats.py": STATS.replace(BUGGY_LINE, f"    return {template}")}
            started = time.perf_counter()
            result = pool.run(project, changes, command, timeout=10)
            runs.append((time.perf_counter() - started, result))
    return runs


def ms(values: list[float], average: Callable[[list[float]], float] = statistics.median) -> str:
    return f"{average(values) * 1000:7.1f} ms" if values else "      -   "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=400, help="size of the suite")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the candidates")
    options = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="fixloop-bench-") as directory:
        project, failing = make_project(Path(directory) / "project", options.tests)
        # As the loop runs a candidate: the failing tests, stopping at the first that
        # still fails, with Python's own traceback (FixSession._narrowed_command).
        command = "pytest -q -x --tb=native " + " ".join(failing)
        runs = {}
        for name, warm in (("forked", False), ("warm", True)):
            with SandboxPool(SandboxConfig(parallel=1, pytest_warm_runner=warm)) as pool:
                suite = pool.run(project, {}, "pytest -q")
                runs[name] = run_all(pool, project, command, options.rounds)
    (forked_start, forked), (warm_start, warm) = (
        (runs[name][:3], runs[name][3:]) for name in ("forked", "warm")
    )
    agree = [outcomes(a) == outcomes(b) for (_, a), (_, b) in zip(forked, warm, strict=True)]
    # The machine's load changes the times seen, much less the CPU: say what it was.
    load = f"{load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
    print(f"Load average (1 min): {load}, on {os.cpu_count()} CPUs.")
    print(f"Suite: {len(suite.cases)} tests. Candidates: {len(TEMPLATES)} variants of one line,")
    print(f"each run on the {len(failing)} failing tests; {options.rounds} rounds; one slot.")
    print("Median per candidate          forked pytest   warm runner   speed-up")
    median, mean = statistics.median, statistics.mean
    everything = lambda run: True  # noqa: E731
    # The CPU is exact per candidate (not sampled): its mean is its total, shared out.
    rows = [
        ("all, as the host sees it", lambda run: run[0], everything, median),
        ("all, in the agent", lambda run: run[1].duration, everything, median),
        ("all, CPU in the container", lambda run: CPU[id(run[1])], everything, median),
        ("  the same, mean", lambda run: CPU[id(run[1])], everything, mean),
        ("passing candidates (host)", lambda run: run[0], lambda run: run[1].passed, median),
        ("failing candidates (host)", lambda run: run[0], lambda run: not run[1].passed, median),
    ]
    for label, value, chosen, average in rows:
        before = [value(run) for run in forked if chosen(run)]
        after = [value(run) for run in warm if chosen(run)]
        ratio = average(before) / average(after) if after else 0.0
        print(f"  {label:27} {ms(before, average)}    {ms(after, average)}    {ratio:5.1f}x")
    print(
        f"The run that starts the session (the command's second): {ms([warm_start[1][0]])};"
        f" the same run without: {ms([forked_start[1][0]])}"
    )
    ran = [result.runner for _, result in warm]
    print(f"The warm runner ran {ran.count('warm')} of {len(ran)} candidates warm.")
    passing = sum(1 for _, result in warm if result.passed)
    print(f"Verdicts agree on {sum(agree)} of {len(agree)} candidate runs ({passing} pass).")
    for same, (_, a), (_, b) in zip(agree, forked, warm, strict=True):
        if not same:
            print(f"  DISAGREE: forked {a.summary()}, warm {b.summary()}")


if __name__ == "__main__":
    main()
