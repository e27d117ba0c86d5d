"""Ranking among passing candidates, on the tuning corpus, through the real sandbox.

    .venv/bin/python benchmarks/bench_ranking.py [--only NAME…] [--json OUT]

Each program of benchmarks/corpus/ gets a fix session as `fixloop fix FILE --test CMD
--engine offline` builds it with default settings (the offline templates, the default
budget, no memory). Printed: plausible (a verified fix), identical to the known fix
(bug.json), median time per fix, and the ranking figure: of the bugs where the first
candidate to pass the failing tests was not the known fix, how many the offered fix
corrects (and how many bugs the ranking made worse). With `ranking` events in the session
log (the reviewer-like ranking), the time the ranking itself took per fix is printed too.
With `--weak`, each program keeps only the tests its bug fails: many wrong edits pass
them, and the ranking alone decides.

Tuning corpus only: the held-out corpus is measured elsewhere, never tuned on.
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
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fixloop.config import Settings
from fixloop.loop.build import budget_of
from fixloop.loop.engine import FixSession, Status
from fixloop.loop.offline import OfflineGenerator
from fixloop.sandbox import SandboxPool
from fixloop.testgen.verify import remove_tests, test_names

CORPUS = Path(__file__).resolve().parent / "corpus"
COMMAND = "python -m pytest -q"
VERBOSE = False


@dataclass
class Outcome:
    name: str
    fixed: bool
    identical: bool
    seconds: float
    tried: int
    first_identical: bool | None  # the first candidate to pass the failing tests
    passing: int  # candidates that passed the failing tests
    ranking_seconds: float
    offered: str = ""
    why: str = ""


def _squash(text: str) -> str:
    return "".join(text.split())


def known_fix(original: str, bug: Mapping[str, Any]) -> str:
    lines = original.splitlines()
    fixed_line = bug["fixed_line"]
    lines[bug["line"] - 1 : bug["line"]] = [] if fixed_line is None else [fixed_line]
    return "\n".join(lines)


class _Watched(FixSession):
    """A session that keeps the candidates passing the failing tests, in the order they
    were tested (the engine's own `_verify`, observed)."""

    passing_changes: list[Mapping[str, str]]

    def _verify(self, batch, command, timeout):  # type: ignore[no-untyped-def]
        tried = super()._verify(batch, command, timeout)
        for item in sorted(tried, key=lambda t: t.order):
            if item.result.passed:
                self.passing_changes.append(item.candidate.changes)
        return tried


def weaken(pool: SandboxPool, root: Path) -> None:
    """Keep only the tests that fail on the buggy code (`--weak`): a suite that many wrong
    edits pass, so that the ranking alone decides (run in the sandbox, like any test)."""
    baseline = pool.run(root, {}, COMMAND)
    failing = {case.test_id for case in baseline.failures}
    for test_file in root.glob("test_*.py"):
        content = test_file.read_text(encoding="utf-8")
        passing = {
            name
            for name in test_names(content)
            if not any(t.startswith(f"{test_file.name}::{name}") for t in failing)
        }
        test_file.write_text(remove_tests(content, passing), encoding="utf-8")


def repair(pool: SandboxPool, program: Path, weak: bool = False) -> Outcome:
    bug = json.loads((program / "bug.json").read_text(encoding="utf-8"))
    settings = Settings()
    events: list[tuple[str, Mapping[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="fixloop-rank-") as tmp:
        root = Path(tmp) / program.name
        shutil.copytree(program, root, ignore=shutil.ignore_patterns("bug.json", "__pycache__"))
        original = (root / bug["file"]).read_text(encoding="utf-8")
        if weak:
            weaken(pool, root)
        session = _Watched(
            root,
            COMMAND,
            [OfflineGenerator()],
            pool,
            targets=[bug["file"]],
            budget=budget_of(settings.loop, pool.config.parallel),
            on_event=lambda kind, data: events.append((kind, data)),
        )
        session.passing_changes = []
        started = time.monotonic()
        result = session.run()
        seconds = time.monotonic() - started
    expected = _squash(known_fix(original, bug))

    def identical(changes: Mapping[str, str]) -> bool:
        return _squash(changes.get(bug["file"], original)) == expected

    first = session.passing_changes[0] if session.passing_changes else None
    ranking = [data for kind, data in events if kind == "ranking"]
    if VERBOSE:
        for data in ranking:
            for entry in data.get("candidates", []):
                print(f"      {entry}")
    fixed = result.status is Status.FIXED
    return Outcome(
        name=program.name,
        fixed=fixed,
        identical=fixed and identical(result.changes),
        seconds=seconds,
        tried=result.candidates_tried,
        first_identical=None if first is None else identical(first),
        passing=len(session.passing_changes),
        ranking_seconds=sum(float(r.get("seconds", 0.0)) for r in ranking),
        offered=result.candidate.description if result.candidate else result.message,
        why=str(getattr(result, "why", "") or ""),
    )


def summarize(outcomes: list[Outcome]) -> None:
    total = len(outcomes)
    fixed = [o for o in outcomes if o.fixed]
    identical = [o for o in fixed if o.identical]
    print(f"plausible (verified)         {len(fixed)}/{total}")
    print(f"identical to the known fix   {len(identical)}/{total}")
    if fixed:
        print(f"median time per fix          {statistics.median(o.seconds for o in fixed):.2f} s")
        ranking = [o.ranking_seconds for o in fixed]
        print(
            f"ranking's own time per fix   mean {statistics.mean(ranking):.3f} s"
            f", max {max(ranking):.3f} s"
        )
    wrong_first = [o for o in fixed if o.first_identical is False]
    corrected = [o for o in wrong_first if o.identical]
    worse = [o for o in fixed if o.first_identical and not o.identical]
    print(
        f"first passing candidate not the known fix: {len(wrong_first)}; "
        f"the final ranking corrects {len(corrected)}; "
        f"makes {len(worse)} worse (first passing was the known fix, offered is not)"
    )
    for o in fixed:
        if not o.identical:
            print(f"    {o.name}: offered {o.offered}" + (f" — {o.why}" if o.why else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="corpus programs to run (default: all)")
    parser.add_argument("--json", type=Path, help="write each program's outcome here")
    parser.add_argument(
        "--weak", action="store_true", help="keep only each program's failing tests"
    )
    parser.add_argument("--verbose", action="store_true", help="print each ranking's merits")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    programs = sorted(p for p in CORPUS.iterdir() if (p / "bug.json").is_file())
    if args.only:
        programs = [p for p in programs if p.name in args.only]
    print(f"command: {' '.join(sys.argv)}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    outcomes = []
    with SandboxPool() as pool:
        for program in programs:
            outcome = repair(pool, program, args.weak)
            outcomes.append(outcome)
            mark = "identical" if outcome.identical else ("fixed" if outcome.fixed else "-")
            first = {None: "-", True: "first=known", False: "first≠known"}[outcome.first_identical]
            print(
                f"  {outcome.name:18} {mark:9} {first:11} {outcome.seconds:6.2f} s"
                f" {outcome.tried:4} tried {outcome.passing:3} passing"
                f" rank {outcome.ranking_seconds:.3f} s  {outcome.why}",
                flush=True,
            )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    summarize(outcomes)
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
