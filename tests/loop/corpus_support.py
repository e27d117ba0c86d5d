"""The seeded-bug corpus (benchmarks/corpus): loading programs, their known fixes, and
running their tests in a subprocess."""

from __future__ import annotations

import ast
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from fixloop.loop.localize import (
    SPECTRUM_ENV,
    SPECTRUM_PLUGIN_MODULE,
    RunCoverage,
    locations_from_frames,
    merge_locations,
    ochiai,
    read_spectrum,
    spectrum_plugin_source,
)
from fixloop.loop.model import Candidate, Failure, Location, RepairContext
from fixloop.loop.offline import OfflineGenerator

CORPUS = Path(__file__).resolve().parents[2] / "benchmarks" / "corpus"


@dataclass(frozen=True)
class Program:
    name: str
    folder: Path
    file: str  # the buggy module, relative to folder
    line: int  # 1-based faulty line
    kind: str
    fixed_line: str | None  # None: the fix deletes the line; may hold several lines

    @property
    def buggy(self) -> str:
        return (self.folder / self.file).read_text(encoding="utf-8")

    @property
    def fixed(self) -> str:
        lines = self.buggy.splitlines(keepends=True)
        replacement = "" if self.fixed_line is None else self.fixed_line + "\n"
        lines[self.line - 1] = replacement
        return "".join(lines)


def programs() -> list[Program]:
    found = []
    for bug in sorted(CORPUS.glob("*/bug.json")):
        data = json.loads(bug.read_text(encoding="utf-8"))
        found.append(
            Program(
                bug.parent.name,
                bug.parent,
                data["file"],
                data["line"],
                data["kind"],
                data["fixed_line"],
            )
        )
    return found


def run_tests(
    program: Program,
    text: str,
    *extra: str,
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> subprocess.CompletedProcess[str]:
    """The program's pytest suite against `text` as its module, in a temporary copy."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for path in program.folder.iterdir():
            if path.suffix == ".py":
                shutil.copy(path, root / path.name)
        (root / program.file).write_text(text, encoding="utf-8")
        env = {
            **os.environ,
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            **(env or {}),
        }
        return subprocess.run(
            [sys.executable, "-B", "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
            cwd=root,
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+), in ', re.MULTILINE)
_SECTION = re.compile(r"^_{3,} (?P<test>\S+) _{3,}$", re.MULTILINE)


def failures_of(program: Program, text: str) -> tuple[Failure, ...]:
    """The failing tests of a run with native tracebacks, with their frames as paths
    relative to the program's folder (innermost last)."""
    result = run_tests(program, text, "--tb=native")
    output = result.stdout
    marks = list(_SECTION.finditer(output))
    failures = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following is not None else len(output)
        section = output[mark.end() : end]
        frames = tuple((Path(m["path"]).name, int(m["line"])) for m in _FRAME.finditer(section))
        message = section.strip().splitlines()[-1] if section.strip() else ""
        failures.append(Failure(mark["test"], message, frames))
    return tuple(failures)


def same_program(a: str, b: str) -> bool:
    """Equal text, or equal syntax trees (formatting aside)."""
    if a == b:
        return True
    try:
        return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError:
        return False


def spectrum_of(program: Program, text: str) -> list[RunCoverage]:
    """Per-test line coverage of the program's suite, through the spectrum plugin."""
    with tempfile.TemporaryDirectory() as tmp:
        plugin_dir = Path(tmp)
        (plugin_dir / f"{SPECTRUM_PLUGIN_MODULE}.py").write_text(spectrum_plugin_source())
        out = plugin_dir / "spectrum.json"
        run_tests(
            program,
            text,
            "-p",
            SPECTRUM_PLUGIN_MODULE,
            env={SPECTRUM_ENV: str(out), "PYTHONPATH": str(plugin_dir)},
        )
        return read_spectrum(out.read_text(encoding="utf-8"))


def located(program: Program, text: str) -> list[Location]:
    """What the engine would know from a real failing run: frames, then Ochiai."""
    sources = {program.file: text}
    frames = locations_from_frames(failures_of(program, text), sources)
    return merge_locations(frames, ochiai(spectrum_of(program, text)))


def rank_of_fix(
    program: Program, locations: Sequence[Location], limit: int = 20_000, **prior: float
) -> tuple[int | None, Candidate | None]:
    """1-based position of the known-right fix among the offline generator's candidates."""
    context = RepairContext(
        program.folder,
        {program.file: program.buggy},
        (),
        tuple(locations),
        template_prior=prior,
    )
    fixed = program.fixed
    candidates = OfflineGenerator(max_candidates=limit).candidates(context)
    for position, candidate in enumerate(candidates, start=1):
        if same_program(candidate.changes[program.file], fixed):
            return position, candidate
    return None, None


def rank_figures(ranks: Sequence[int | None]) -> str:
    """'found 40/47, median 17, p90 155' (median and p90 over all programs, a miss
    counting as infinitely late)."""
    ordered = sorted(r if r is not None else math.inf for r in ranks)
    found = sum(r is not None for r in ranks)
    median = statistics.median_low(ordered)
    p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
    return f"found {found}/{len(ranks)}, median rank {median}, 90th percentile {p90}"


def exit_codes(programs: Sequence[Program], workers: int) -> dict[str, tuple[int, int]]:
    """Each program's pytest exit code as written and with its known fix, in parallel."""

    def run(program: Program) -> tuple[str, tuple[int, int]]:
        buggy = run_tests(program, program.buggy).returncode
        fixed = run_tests(program, program.fixed).returncode
        return program.name, (buggy, fixed)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(run, programs))
