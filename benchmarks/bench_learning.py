"""Does memory learn? The offline engine on families of recurring bugs, through the real
sandbox, with no memory, with memory of the bug's family, and with memory of other families.

    .venv/bin/python benchmarks/bench_learning.py [--only FAMILY…] [--keep DIR]

benchmarks/families/<family>/<member>/ holds programs with the same kind of bug in
different code (a `<` that should be `<=`, an accumulator started at the wrong value, …).
For each member:

- no memory: a fix session with an empty memory (nothing to read: the session runs as
  without memory). Its attempts are what memory keeps of it: this is the training run.
- family memory: a fresh memory holding the training runs of the *other* members of its
  family (leave-one-out), then a fix session reading it.
- unrelated memory: a fresh memory holding the training runs of every *other* family.

Each training session runs once; its records are exported and imported into the stores
that need them (a copy of one store per family for the unrelated case). Printed per member
and per family: the position of the offered fix in the order candidates were tested
("tried before a verified fix", the remembered fix counting as one), every candidate the
session tested, and the time. Needs Docker and the sandbox image (scripts/ensure-docker.sh).
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
COMMAND = "python -m pytest -q"
BUDGET = Budget(max_iterations=60, wall_clock_seconds=90.0, parallel=2)
MODES = ("no memory", "family memory", "unrelated memory")


@dataclass(frozen=True)
class Member:
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


def members(only: Sequence[str] | None) -> list[Member]:
    found = []
    for bug in sorted(FAMILIES.glob("*/*/bug.json")):
        family = bug.parent.parent.name
        if only and family not in only:
            continue
        data = json.loads(bug.read_text(encoding="utf-8"))
        found.append(Member(family, bug.parent.name, bug.parent, data["file"]))
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


def table(runs: Mapping[str, Mapping[str, Run]], chosen: Sequence[Member]) -> None:
    families = sorted({m.family for m in chosen})
    header = (
        f"{'family':20} {'n':>2} | "
        + " | ".join(f"{mode:>16}" for mode in MODES)
        + " | family gain | unrelated gain"
    )
    print("median position of the verified fix (candidates tried, the fix included):")
    print(header)
    print("-" * len(header))
    for family in [*families, "all"]:
        group = [m for m in chosen if family in ("all", m.family)]
        medians = [statistics.median(position(runs[mode][m.key]) for m in group) for mode in MODES]
        fixed = [sum(runs[mode][m.key].fixed for m in group) for mode in MODES]
        cells = " | ".join(
            f"{f'{median:.1f} ({ok}/{len(group)})':>16}"
            for median, ok in zip(medians, fixed, strict=True)
        )
        print(
            f"{family:20} {len(group):2} | {cells} | "
            f"{medians[0] / medians[1]:10.1f}x | {medians[0] / medians[2]:13.1f}x"
        )
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
    worse = [
        m.key for m in chosen if position(runs[MODES[2]][m.key]) > position(runs[MODES[0]][m.key])
    ]
    print(f"  unrelated memory later than no memory on: {', '.join(worse) or 'none'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="families to run (default: all)")
    parser.add_argument("--keep", type=Path, help="keep the stores and exports in this folder")
    args = parser.parse_args()
    chosen = members(args.only)
    families = sorted({m.family for m in chosen})
    print(f"command: {' '.join(sys.argv)}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
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
            exports = train(pool, chosen, work, runs)
            for member in chosen:
                siblings = [exports[m.key] for m in chosen if m.family == member.family]
                store = seeded_store(
                    work / "family" / member.key,
                    [e for e in siblings if e != exports[member.key]],
                )
                runs[MODES[1]][member.key] = run = fix(pool, member, store)
                print_run(MODES[1], member, run)
            for family in families:
                others = [exports[m.key] for m in chosen if m.family != family]
                seed = work / "unrelated-seed" / family
                seeded_store(seed, others).close()
                for member in (m for m in chosen if m.family == family):
                    path = work / "unrelated" / member.key
                    shutil.copytree(seed, path)
                    runs[MODES[2]][member.key] = run = fix(pool, member, open_store(path))
                    print_run(MODES[2], member, run)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print()
    table(runs, chosen)
    print(f"whole benchmark: {time.monotonic() - started:.0f} s")
    return 0


def train(
    pool: SandboxPool, chosen: Sequence[Member], work: Path, runs: dict[str, dict[str, Run]]
) -> dict[str, Path]:
    """One session per member on an empty memory (= no memory); its records exported."""
    exports = {}
    for member in chosen:
        store = open_store(work / "training" / member.key)
        runs[MODES[0]][member.key] = run = fix(pool, member, store)
        print_run(MODES[0], member, run)
        exports[member.key] = work / "exports" / f"{member.family}-{member.name}.jsonl"
        exports[member.key].parent.mkdir(parents=True, exist_ok=True)
        store.export(exports[member.key])
        store.close()
    return exports


if __name__ == "__main__":
    sys.exit(main())
