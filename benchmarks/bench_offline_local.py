"""LOCAL figures for the offline engine on the seeded-bug corpus (benchmarks/corpus).

Run: .venv/bin/python benchmarks/bench_offline_local.py [--verify] [--limit N]

LOCAL ONLY: no Docker. Candidates are tested, with --verify, by forking this process
(pytest imported once) and calling the program's test functions in the child; the real
figure goes through the sandbox once the engine drives it.

Prints, per program and in total:
  - the rank of the known-right fix among the generator's candidates, with the faulty
    line given, and with locations from a real failing run (frames + Ochiai over the
    spectrum plugin's coverage), and without any localization;
  - the templates' measured rates (successes per candidate generated), the figure the
    default prior in fixloop.loop.offline.generator comes from, and the ranks when each
    program is ranked with rates measured on the other programs only (leave-one-out:
    an honest figure for a prior learned from other bugs);
  - with --verify: candidates tried before the first passing one, whether that one is
    the right fix, and the rank of the right fix among the passing ones.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

from tests.loop.corpus_support import (  # noqa: E402
    Program,
    located,
    programs,
    rank_figures,
    rank_of_fix,
    same_program,
)

from fixloop.loop.model import Candidate, Location, RepairContext  # noqa: E402
from fixloop.loop.offline import DEFAULT_PRIOR, OfflineGenerator  # noqa: E402

# Laplace-style smoothing of measured rates: this many pseudo-candidates at the mean rate.
_SMOOTHING = 200


def candidates(program: Program, locations: Sequence[Location], limit: int) -> Iterator[Candidate]:
    context = RepairContext(program.folder, {program.file: program.buggy}, (), tuple(locations))
    return OfflineGenerator(max_candidates=limit).candidates(context)


def measured_rates(
    programs_: Sequence[Program], where: dict[str, list[Location]], limit: int, skip: str = ""
) -> dict[str, float]:
    """Successes per candidate generated, per template, over the programs but `skip`."""
    generated: Counter[str] = Counter()
    successes: Counter[str] = Counter()
    for program in programs_:
        if program.name == skip:
            continue
        fixed = program.fixed
        for candidate in candidates(program, where[program.name], limit):
            template = candidate.template or "?"
            if "+" in template:
                continue  # pairs take the product of their templates' rates
            generated[template] += 1
            if same_program(candidate.changes[program.file], fixed):
                successes[template] += 1
                break
    mean = sum(successes.values()) / max(1, sum(generated.values()))
    return {
        name: (successes[name] + _SMOOTHING * mean) / (generated[name] + _SMOOTHING)
        for name in DEFAULT_PRIOR
    }


def run_in_fork(program: Program, text: str, timeout: int = 2) -> bool:
    """The program's suite against `text`, in a forked child of this process that imports
    the test module and calls its test functions (the corpus's tests take no fixtures;
    `pytest.raises` works outside a pytest run). Fast enough to test thousands of
    candidates; verdicts as pytest's."""
    import pytest  # noqa: F401  (imported once here, inherited by every child)

    with tempfile.TemporaryDirectory() as tmp:
        for path in program.folder.glob("*.py"):
            (Path(tmp) / path.name).write_text(path.read_text())
        (Path(tmp) / program.file).write_text(text)
        pid = os.fork()
        if pid == 0:
            os._exit(_run_tests_here(tmp, timeout))
        _, status = os.waitpid(pid, 0)
        return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _run_tests_here(folder: str, timeout: int) -> int:
    signal.alarm(timeout)  # a hanging candidate fails
    sys.path.insert(0, folder)
    sys.dont_write_bytecode = True
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.setrecursionlimit(3000)
    try:
        for test_file in sorted(Path(folder).glob("test_*.py")):
            module = importlib.import_module(test_file.stem)
            for name, function in vars(module).items():
                if name.startswith("test_") and callable(function):
                    function()
    except BaseException:
        return 1
    return 0


def verify(
    program: Program, where: Sequence[Location], budget: int
) -> tuple[int | None, bool, int | None]:
    """(candidates tried before the first passing one, is it the right fix, rank of the
    right fix among the passing candidates seen within the budget)."""
    first: int | None = None
    first_right = False
    passing = 0
    fixed = program.fixed
    for tried, candidate in enumerate(candidates(program, where, budget), start=1):
        text = candidate.changes[program.file]
        if not run_in_fork(program, text):
            continue
        passing += 1
        right = same_program(text, fixed)
        if first is None:
            first, first_right = tried, right
        if right:
            return first, first_right, passing
    return first, first_right, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=5000, help="candidates per program")
    parser.add_argument("--verify", action="store_true", help="run candidates' tests (slow)")
    parser.add_argument("--budget", type=int, default=300, help="candidates tested per program")
    parser.add_argument("--rates", action="store_true", help="measure rates, leave-one-out")
    args = parser.parse_args()
    corpus = programs()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        real = dict(
            zip(
                (p.name for p in corpus),
                pool.map(lambda p: located(p, p.buggy), corpus),
                strict=True,
            )
        )
    given = {p.name: [Location(p.file, p.line, 1.0)] for p in corpus}
    took = time.perf_counter() - started
    print(f"LOCAL figures, {len(corpus)} programs (localization runs: {took:.1f} s)")
    variants = {
        "faulty line given": given,
        "frames + Ochiai": real,
        "no localization": {p.name: [] for p in corpus},
    }
    for title, where in variants.items():
        ranks = [rank_of_fix(p, where[p.name], args.limit)[0] for p in corpus]
        print(f"  {title:20} {rank_figures(ranks)}")

    if args.rates:
        report_rates(corpus, given, real, args.limit)
    if args.verify:
        report_verified(corpus, real, args.budget)


def report_rates(
    corpus: Sequence[Program],
    given: dict[str, list[Location]],
    real: dict[str, list[Location]],
    limit: int,
) -> None:
    rates = measured_rates(corpus, given, limit)
    print("\nmeasured rates (successes per candidate generated, smoothed), default in use:")
    for name, rate in sorted(rates.items(), key=lambda item: -item[1]):
        print(f"  {name:14} {rate:.4f}   {DEFAULT_PRIOR[name]:.4f}")
    loo = []
    for program in corpus:
        prior = measured_rates(corpus, given, limit, skip=program.name)
        loo.append(rank_of_fix(program, real[program.name], limit, **prior)[0])
    print(f"  leave-one-out rates, frames + Ochiai: {rank_figures(loo)}")


def report_verified(
    corpus: Sequence[Program], real: dict[str, list[Location]], budget: int
) -> None:
    print(f"\nverified locally (forked runner, frames + Ochiai, budget {budget}):")
    outcomes = []
    for program in corpus:
        first, right, among_passing = verify(program, real[program.name], budget)
        outcomes.append((first, right, among_passing))
        print(
            f"  {program.name:18} first passing at {first!s:>5}  right: {right!s:5}"
            f"  the right fix is passing candidate #{among_passing}"
        )
    fixed = [o for o in outcomes if o[0] is not None]
    print(
        f"  a passing candidate for {len(fixed)}/{len(corpus)}; the first passing one is the"
        f" right fix for {sum(o[1] for o in fixed)}; the right fix found within the budget for "
        f"{sum(o[2] is not None for o in outcomes)}; tried before the first passing one: "
        f"{rank_figures([o[0] for o in outcomes])}"
    )


if __name__ == "__main__":
    main()
