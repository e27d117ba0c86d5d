"""The offline engine on the seeded-bug corpus, through the real sandbox.

    .venv/bin/python benchmarks/bench_repair.py [--only NAME…] [--no-baseline]

For each program in benchmarks/corpus/ (one faulty line, a pytest suite, and the known
right fix in bug.json) a fix session runs with the offline generator, first with fault
localization (traceback frames + coverage spectrum), then without it (every line of the
file, in order, equally suspicious). Printed: how many bugs get a verified fix, how many of
those are the known fix, time to a verified fix, candidates tried, and what localization
saves. Needs Docker and the sandbox image (scripts/ensure-docker.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from fixloop.loop.engine import Budget, FixSession, Status
from fixloop.loop.offline import OfflineGenerator
from fixloop.sandbox import SandboxPool

CORPUS = Path(__file__).resolve().parent / "corpus"
COMMAND = "python -m pytest -q"
BUDGET = Budget(max_iterations=60, wall_clock_seconds=90.0, parallel=2)


@dataclass(frozen=True)
class Outcome:
    name: str
    kind: str
    fixed: bool
    identical: bool
    seconds: float
    tried: int
    # Why not fixed (the session's message), or the fix offered when not the known one.
    note: str = ""


def _squash(line: str) -> str:
    return "".join(line.split())


def repair(pool: SandboxPool, program: Path, localize: bool) -> Outcome:
    bug = json.loads((program / "bug.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="fixloop-corpus-") as tmp:
        root = Path(tmp) / program.name
        shutil.copytree(program, root, ignore=shutil.ignore_patterns("bug.json", "__pycache__"))
        original = (root / bug["file"]).read_text(encoding="utf-8")
        session = FixSession(
            root,
            COMMAND,
            [OfflineGenerator()],
            pool,
            targets=[bug["file"]],
            budget=BUDGET,
            use_localization=localize,
        )
        started = time.monotonic()
        result = session.run()
        seconds = time.monotonic() - started
    identical = False
    note = result.message
    if result.status is Status.FIXED:
        # bug.json: `fixed_line` may hold several lines (an inserted statement), or be
        # null (the fix deletes the line).
        lines = original.splitlines()
        fixed_line = bug["fixed_line"]
        lines[bug["line"] - 1 : bug["line"]] = [] if fixed_line is None else [fixed_line]
        expected = "\n".join(lines)
        identical = _squash(result.changes[bug["file"]]) == _squash(expected)
        note = "" if identical or result.candidate is None else result.candidate.description
    return Outcome(
        program.name,
        bug["kind"],
        result.status is Status.FIXED,
        identical,
        seconds,
        result.candidates_tried,
        note,
    )


def summarize(label: str, outcomes: list[Outcome]) -> None:
    fixed = [o for o in outcomes if o.fixed]
    identical = [o for o in fixed if o.identical]
    total = len(outcomes)
    print(f"{label}:")
    print(
        f"  verified fixes            {len(fixed)}/{total} ({100 * len(fixed) / total:.0f}%)"
        "   target ≥ 90%"
    )
    print(
        f"  identical to the known fix {len(identical)}/{total} "
        f"({100 * len(identical) / total:.0f}%)   target ≥ 75%"
    )
    if fixed:
        print(
            f"  time to a verified fix    median "
            f"{statistics.median(o.seconds for o in fixed):.2f} s"
            f", p90 {sorted(o.seconds for o in fixed)[int(0.9 * (len(fixed) - 1))]:.2f} s"
            "   target median ≤ 5 s"
        )
        print(
            f"  candidates tried          median {statistics.median(o.tried for o in fixed):.0f}"
            f" (fixed bugs), median {statistics.median(o.tried for o in outcomes):.0f} (all)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="corpus programs to run (default: all)")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the run without localization"
    )
    parser.add_argument(
        "--baseline-only", action="store_true", help="only the run without localization"
    )
    args = parser.parse_args()
    programs = sorted(p for p in CORPUS.iterdir() if (p / "bug.json").is_file())
    if args.only:
        programs = [p for p in programs if p.name in args.only]
    print(f"command: {' '.join(sys.argv)}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"corpus: {len(programs)} programs; budget per bug: {BUDGET.max_iterations} iterations,"
        f" {BUDGET.wall_clock_seconds:.0f} s; parallel {BUDGET.parallel}"
    )
    modes = [] if args.baseline_only else [("with localization", True)]
    modes += [] if args.no_baseline else [("without localization", False)]
    results: dict[str, list[Outcome]] = {}
    with SandboxPool() as pool:
        for label, localize in modes:
            results[label] = []
            for program in programs:
                outcome = repair(pool, program, localize)
                results[label].append(outcome)
                mark = "identical" if outcome.identical else ("fixed" if outcome.fixed else "-")
                tag = "FL" if localize else "no FL"
                print(
                    f"  [{tag}] {outcome.name:24} {outcome.kind:22} {mark:9} "
                    f"{outcome.seconds:6.2f} s {outcome.tried:5} tried"
                    + (f"  ({outcome.note})" if outcome.note else ""),
                    flush=True,
                )
    print()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for label, outcomes in results.items():
        summarize(label, outcomes)
        for outcome in outcomes:
            if not outcome.identical:
                what = "offered" if outcome.fixed else "not fixed"
                print(f"    {outcome.name}: {what}: {outcome.note}")
    if len(results) == 2:
        with_fl, without = results["with localization"], results["without localization"]
        both = [(a, b) for a, b in zip(with_fl, without, strict=True) if a.fixed and b.fixed]
        if both:
            ratio = statistics.median(b.tried / max(1, a.tried) for a, b in both)
            print(
                f"localization: median {ratio:.1f}x fewer candidates tried on the {len(both)}"
                " bugs fixed both ways"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
