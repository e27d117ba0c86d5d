"""Dropped arguments, the bug studies' "same function, more arguments", seeded in the
tuning corpus's programs: where the offline generator puts the original among its
candidates. No sandbox: the generator alone, told the faulty line as localization would.

Run:  PYTHONPATH=<checkout>/server /work/main/.venv/bin/python benchmarks/bench_dropped_args.py
          [--within N] [--json-out FILE]

For each program of `benchmarks/corpus/` its fixed version (bug.json's `fixed_line`
applied), then every call of it with an argument with one argument dropped (each
positional one, each keyword), one mutant each. A mutant is kept when the program's own
tests fail on it (host pytest, plugins off). Recorded per mutant: the 1-based rank of the
original text among the first N candidates (None beyond), and the template that made it.
Printed: mutants, found in the first batch (16), within 64, within N, median rank of
those found. Run it with each checkout's `server/` first on PYTHONPATH to compare them.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from fixloop.loop.model import Location, RepairContext
from fixloop.loop.offline.generator import OfflineGenerator

CORPUS = Path(__file__).resolve().parent / "corpus"
BATCH = 16


@dataclass
class Mutant:
    program: str
    line: int
    dropped: str
    rank: int | None = None
    template: str | None = None


def fixed_source(folder: Path) -> tuple[str, str]:
    bug = json.loads((folder / "bug.json").read_text(encoding="utf-8"))
    path = folder / bug["file"]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    fixed = bug["fixed_line"]
    lines[bug["line"] - 1] = "" if fixed is None else fixed + "\n"
    return bug["file"], "".join(lines)


def mutants(text: str) -> Iterator[tuple[int, str, str]]:
    """(line, what was dropped, mutated text) for each argument of each call."""
    tree = ast.parse(text)
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:
        return starts[lineno - 1] + col

    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        parts: list[ast.AST] = [*call.args, *call.keywords]
        parts.sort(key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
        spans = [
            (offset(p.lineno, p.col_offset), offset(p.end_lineno, p.end_col_offset))  # type: ignore[attr-defined]
            for p in parts
        ]
        for index, (start, end) in enumerate(spans):
            dropped = text[start:end]
            if index + 1 < len(spans):
                end = spans[index + 1][0]
            elif index > 0:
                start = spans[index - 1][1]
            yield call.lineno, dropped, text[:start] + text[end:]


def tests_fail(folder: Path, module: str, text: str) -> bool:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / folder.name
        shutil.copytree(folder, work)
        (work / module).write_text(text, encoding="utf-8")
        env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"],
            cwd=work,
            env=env,
            capture_output=True,
            timeout=60,
        )
        return run.returncode != 0


def rank_of(module: str, mutated: str, original: str, line: int, within: int) -> Mutant:
    context = RepairContext(Path("."), {module: mutated}, (), (Location(module, line, 1.0),))
    found = Mutant(module, line, "")
    candidates = OfflineGenerator().candidates(context)
    for position, candidate in enumerate(itertools.islice(candidates, within), start=1):
        if candidate.changes[module] == original:
            found.rank, found.template = position, candidate.template
            break
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--within", type=int, default=300, help="candidates looked at (300)")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    results: list[Mutant] = []
    for folder in sorted(p for p in CORPUS.iterdir() if (p / "bug.json").is_file()):
        module, original = fixed_source(folder)
        if tests_fail(folder, module, original):
            continue  # the fixed program must pass its tests
        for line, dropped, mutated in mutants(original):
            if not tests_fail(folder, module, mutated):
                continue
            mutant = rank_of(module, mutated, original, line, args.within)
            mutant.program, mutant.dropped = folder.name, dropped
            results.append(mutant)
            print(f"{folder.name}:{line} drop `{dropped}`: {mutant.rank} {mutant.template or ''}")
    ranks = [m.rank for m in results if m.rank is not None]
    print(f"\nmutants (tests fail)          {len(results)}")
    print(f"original in the first batch   {sum(r <= BATCH for r in ranks)}")
    print(f"within 64                     {sum(r <= 64 for r in ranks)}")
    print(f"within {args.within:<23}{len(ranks)}")
    print(f"median rank of those found    {statistics.median(ranks) if ranks else '-'}")
    print(
        "by template: "
        + ", ".join(
            f"{t} {n}" for t, n in Counter(m.template for m in results if m.template).most_common()
        )
    )
    if args.json_out:
        args.json_out.write_text(
            json.dumps([asdict(m) for m in results], indent=1), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
