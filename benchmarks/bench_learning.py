"""Does memory learn? The offline engine on families of recurring bugs, through the real
sandbox, with no memory, with memory of the bug's family, and with memory of other families.

    .venv/bin/python benchmarks/bench_learning.py [--families DIR…] [--only FAMILY…]
        [--skip FAMILY/MEMBER…] [--keep DIR] [--trained KEPT_DIR]

    # the figure of issue 14: tuning, held-out, sealed and fresh families side by side
    .venv/bin/python benchmarks/bench_learning.py --families benchmarks/families \
        benchmarks/families_heldout benchmarks/families_sealed benchmarks/families_fresh

benchmarks/families/<family>/<member>/ holds programs with the same kind of bug in
different code (a `<` that should be `<=`, an accumulator started at the wrong value, …):
the families memory's matching was built with. benchmarks/families_heldout/ holds kinds
of bug it was not built for (worked on), benchmarks/families_sealed/ more of them (kept
aside: measured once), benchmarks/families_fresh/ more again, written once the others had
all been looked at and before memory's next change (the honest figure). `--families`
runs several corpora in one run, side by side; `--trained` reuses the training exports
of an earlier `--keep` run (to compare two versions of memory on the same training).
For each member:

- training: a fix session with an empty memory; its attempts are what memory keeps of it.
- no memory: the same session again (an empty memory: nothing to read), timed next to
  the two below.
- family memory: a fresh memory holding the training runs of the *other* members of its
  family (leave-one-out), then a fix session reading it.
- unrelated memory: a fresh memory holding the training runs of every *other* family (of
  every corpus run).

Each training session runs once; its records are exported and imported into the stores
that need them (a copy of one store per family for the unrelated case). Printed per member
and per family what the user waits for: every candidate the session tested (the
alternatives tested once one passes included) and the time until the verified fix is
offered; the position of the offered fix among the candidates tested is shown for
reference. A gain is no memory's total over the mode's (a bug not fixed counts as its
whole session). Needs Docker and the sandbox image (scripts/ensure-docker.sh).
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixloop.loop.engine import Budget, FixSession, Status
from fixloop.loop.offline import OfflineGenerator
from fixloop.loop.recall import SessionMemory
from fixloop.memory import MemoryConfig, MemoryStore
from fixloop.sandbox import SandboxPool

FAMILIES = Path(__file__).resolve().parent / "families"
HELDOUT = Path(__file__).resolve().parent / "families_heldout"
COMMAND = "python -m pytest -q"
BUDGET = Budget(max_iterations=60, wall_clock_seconds=90.0, parallel=2)
MODES = ("no memory", "family memory", "unrelated memory")


@dataclass(frozen=True)
class Member:
    corpus: str
    family: str
    name: str
    folder: Path
    file: str

    @property
    def key(self) -> str:
        return f"{self.family}/{self.name}"


@dataclass(frozen=True)
class Run:
    fixed: bool
    position: int | None  # of the offered fix among the candidates tested, from 1
    tested: int  # every candidate the session tested
    seconds: float
    template: str | None
    generator: str | None


def members(corpora: Sequence[Path], only: Sequence[str] | None) -> list[Member]:
    found = []
    for corpus in corpora:
        for bug in sorted(corpus.glob("*/*/bug.json")):
            family = bug.parent.parent.name
            if only and family not in only:
                continue
            data = json.loads(bug.read_text(encoding="utf-8"))
            found.append(Member(corpus.name, family, bug.parent.name, bug.parent, data["file"]))
    return found


def open_store(path: Path) -> MemoryStore:
    # One process owns every store here: no need to probe what it wrote itself.
    return MemoryStore(MemoryConfig(path=path, spool=path.parent / f"{path.name}-spool.jsonl"))


def fix(pool: SandboxPool, member: Member, store: MemoryStore) -> Run:
    """One fix session on a fresh copy of the member, reading and writing `store`."""
    events: list[Mapping[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="fixloop-family-") as tmp:
        root = Path(tmp) / member.name
        shutil.copytree(
            member.folder, root, ignore=shutil.ignore_patterns("bug.json", "__pycache__")
        )
        session = FixSession(
            root,
            COMMAND,
            [OfflineGenerator()],
            pool,
            targets=[member.file],
            budget=BUDGET,
            memory=SessionMemory(store),
            on_event=lambda kind, data: events.append(data) if kind == "candidate" else None,
        )
        store.available()  # opened (and checked) before the clock starts, as in an editor
        started = time.monotonic()
        result = session.run()
        seconds = time.monotonic() - started
    position = None
    if result.status is Status.FIXED and result.candidate is not None:
        offered = (result.candidate.generator, result.candidate.description)
        position = next(
            (
                n
                for n, event in enumerate(events, 1)
                if (event.get("generator"), event.get("description")) == offered
            ),
            None,
        )
    return Run(
        result.status is Status.FIXED,
        position,
        result.candidates_tried,
        seconds,
        result.candidate.template if result.candidate else None,
        result.candidate.generator if result.candidate else None,
    )


def seeded_store(path: Path, exports: Sequence[Path]) -> MemoryStore:
    """A fresh store holding the records of the given training runs."""
    store = open_store(path)
    for export in exports:
        store.import_(export)
    return store


def print_run(mode: str, member: Member, run: Run) -> None:
    where = f"#{run.position}" if run.position is not None else "-"
    how = f"{run.generator}:{run.template}" if run.fixed else "not fixed"
    print(
        f"  [{mode:16}] {member.key:32} {where:>5} {run.tested:5} tested "
        f"{run.seconds:6.2f} s  {how}",
        flush=True,
    )


def position(run: Run) -> float:
    """A bug not fixed counts as tried to the end of its budget."""
    return float(run.position) if run.position is not None else float(run.tested or 10_000)


def _gain(none: float, other: float) -> str:
    return f"{none / other:4.1f}x" if other else "   -"


def table(runs: Mapping[str, Mapping[str, Run]], chosen: Sequence[Member]) -> None:
    """Per family and per corpus: candidates tested and seconds to the verified fix
    (medians; a gain is no memory's total over the mode's), then the corpora side by side."""
    header = (
        f"{'family':22} {'n':>2} | "
        + " | ".join(f"{mode + ' (tested, s)':>28}" for mode in MODES)
        + " | family gain: tested, time | unrelated gain: tested, time"
    )
    totals: dict[str, list[str]] = {}
    for corpus in dict.fromkeys(m.corpus for m in chosen):
        inside = [m for m in chosen if m.corpus == corpus]
        print(f"{corpus}: candidates tested and seconds until the verified fix (medians)")
        print(header)
        print("-" * len(header))
        for family in [*dict.fromkeys(m.family for m in inside), "all"]:
            group = [m for m in inside if family in ("all", m.family)]
            line = _row(runs, group)
            print(f"{family:22} {len(group):2} | {line}")
            if family == "all":
                totals[corpus] = [line]
        worse = [
            m.key for m in inside if runs[MODES[2]][m.key].tested > runs[MODES[0]][m.key].tested
        ]
        print(f"  unrelated memory tested more than none on: {', '.join(worse) or 'none'}")
        print()
    print("side by side (all members of each corpus):")
    for corpus, (line,) in totals.items():
        print(f"  {corpus:22} | {line}")
    print()
    print("per mode, over all members:")
    for mode in MODES:
        group = [runs[mode][m.key] for m in chosen]
        print(
            f"  {mode:16} median position {statistics.median(position(r) for r in group):6.1f}"
            f", candidates tested median {statistics.median(r.tested for r in group):5.1f}"
            f" (total {sum(r.tested for r in group)})"
            f", time median {statistics.median(r.seconds for r in group):5.2f} s"
            f" (total {sum(r.seconds for r in group):6.1f} s)"
            f", fixed {sum(r.fixed for r in group)}/{len(group)}"
        )


def _row(runs: Mapping[str, Mapping[str, Run]], group: Sequence[Member]) -> str:
    """A bug not fixed counts as its whole session (all it tested, all its time)."""
    cells = []
    tested: list[float] = []
    seconds: list[float] = []
    for mode in MODES:
        mine = [runs[mode][m.key] for m in group]
        fixed = sum(r.fixed for r in mine)
        tested.append(sum(r.tested for r in mine))
        seconds.append(sum(r.seconds for r in mine))
        median_tested = statistics.median(r.tested for r in mine)
        median_seconds = statistics.median(r.seconds for r in mine)
        cells.append(f"{median_tested:6.1f} {median_seconds:6.2f} s ({fixed}/{len(mine)})")
    gains = (
        f"{_gain(tested[0], tested[1])}, {_gain(seconds[0], seconds[1])}",
        f"{_gain(tested[0], tested[2])}, {_gain(seconds[0], seconds[2])}",
    )
    return " | ".join(f"{cell:>28}" for cell in cells) + f" | {gains[0]:>26} | {gains[1]:>29}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--families",
        nargs="+",
        type=Path,
        default=[FAMILIES],
        help="corpora of families, side by side (default: benchmarks/families)",
    )
    parser.add_argument("--only", nargs="*", help="families to run (default: all)")
    parser.add_argument("--skip", nargs="*", default=[], help="members to leave out: FAMILY/MEMBER")
    parser.add_argument("--keep", type=Path, help="keep the stores and exports in this folder")
    parser.add_argument(
        "--trained",
        type=Path,
        help="reuse the training exports of an earlier --keep folder (training runs with an "
        "empty memory: valid while what a record keeps is unchanged)",
    )
    args = parser.parse_args()
    chosen = [m for m in members(args.families, args.only) if m.key not in args.skip]
    families = list(dict.fromkeys(m.family for m in chosen))
    print(f"command: {' '.join(sys.argv)}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"corpora: {', '.join(str(c) for c in args.families)}\n"
        f"families: {len(families)}, members: {len(chosen)}; budget per bug: "
        f"{BUDGET.max_iterations} iterations, {BUDGET.wall_clock_seconds:.0f} s; "
        f"parallel {BUDGET.parallel}"
    )
    work = args.keep or Path(tempfile.mkdtemp(prefix="fixloop-learning-"))
    work.mkdir(parents=True, exist_ok=True)
    runs: dict[str, dict[str, Run]] = {mode: {} for mode in MODES}
    started = time.monotonic()
    try:
        with SandboxPool() as pool:
            exports = reuse(args.trained, chosen) if args.trained else train(pool, chosen, work)
            for family in families:
                others = [exports[m.key] for m in chosen if m.family != family]
                seeded_store(work / "unrelated-seed" / family, others).close()
            # The three modes one after the other per member: the machine's load drifts
            # over a run, and each member's times are compared with each other.
            for member in chosen:
                runs[MODES[0]][member.key] = run = fix(
                    pool, member, open_store(work / "none" / member.key)
                )
                print_run(MODES[0], member, run)
                siblings = [exports[m.key] for m in chosen if m.family == member.family]
                store = seeded_store(
                    work / "family" / member.key,
                    [e for e in siblings if e != exports[member.key]],
                )
                runs[MODES[1]][member.key] = run = fix(pool, member, store)
                print_run(MODES[1], member, run)
                path = work / "unrelated" / member.key
                shutil.copytree(work / "unrelated-seed" / member.family, path)
                runs[MODES[2]][member.key] = run = fix(pool, member, open_store(path))
                print_run(MODES[2], member, run)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print()
    table(runs, chosen)
    print(f"whole benchmark: {time.monotonic() - started:.0f} s")
    return 0


def reuse(kept: Path, chosen: Sequence[Member]) -> dict[str, Path]:
    """The training exports of an earlier run kept with --keep."""
    exports = {m.key: kept / "exports" / f"{m.family}-{m.name}.jsonl" for m in chosen}
    missing = [key for key, path in exports.items() if not path.exists()]
    if missing:
        raise SystemExit(f"no training export in {kept} for: {', '.join(missing)}")
    return exports


def train(pool: SandboxPool, chosen: Sequence[Member], work: Path) -> dict[str, Path]:
    """One session per member on an empty memory: what memory keeps of it, exported."""
    exports = {}
    for member in chosen:
        store = open_store(work / "training" / member.key)
        print_run("training", member, fix(pool, member, store))
        exports[member.key] = work / "exports" / f"{member.family}-{member.name}.jsonl"
        exports[member.key].parent.mkdir(parents=True, exist_ok=True)
        store.export(exports[member.key])
        store.close()
    return exports


if __name__ == "__main__":
    sys.exit(main())
