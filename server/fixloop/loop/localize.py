"""Fault localization: which lines of the editable sources are suspicious, most first.

Two sources of evidence:
- the failing tests' traceback frames inside the editable sources (innermost first), with
  the rest of each frame's enclosing function at lower scores;
- a coverage spectrum (per test: outcome and lines executed) ranked by Ochiai, for when
  the frames are not enough (a wrong value computed in one function and asserted in a
  test shows no frame in the function at fault). The spectrum comes from the pytest plugin
  in `spectrum_plugin.py`, run inside the sandbox.
"""

from __future__ import annotations

import ast
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fixloop.loop.model import Failure, Location
from fixloop.sandbox.results import Probe

# Each frame further out from the innermost one is this much less suspicious.
_FRAME_DECAY = 0.7
# The lines of a frame's function around it: at most this share of the frame's score,
# fading with distance so the lines just above the frame (where the value was computed)
# come before the rest of the function.
_FUNCTION_SHARE = 0.4
_FUNCTION_DISTANCE_DECAY = 0.9

# The spectrum plugin writes its JSON to the path in this variable.
SPECTRUM_ENV = "FIXLOOP_SPECTRUM"
SPECTRUM_ROOT_ENV = "FIXLOOP_SPECTRUM_ROOT"
SPECTRUM_PLUGIN_MODULE = "fixloop_spectrum"
SPECTRUM_FILES_ENV = "FIXLOOP_SPECTRUM_FILES"


def locations_from_frames(
    failures: Iterable[Failure], sources: Mapping[str, str]
) -> list[Location]:
    """Lines of the editable sources where the failing tests' tracebacks pass, innermost
    frame first; lines seen in more failures rank higher. Then the other lines of each
    frame's enclosing function, at lower scores."""
    scores: dict[tuple[str, int], float] = defaultdict(float)
    nearby: dict[tuple[str, int], float] = defaultdict(float)
    for failure in failures:
        in_sources = [
            (path, line)
            for path, line in (_source_path(p, sources) for p in failure.frames)
            if path is not None
        ]
        for depth, (path, line) in enumerate(reversed(in_sources)):
            score = _FRAME_DECAY**depth
            scores[path, line] += score
            for other, distance in _function_lines(sources[path], line):
                share = _FUNCTION_SHARE * score * _FUNCTION_DISTANCE_DECAY**distance
                nearby[path, other] = max(nearby[path, other], share)
    for key, share in nearby.items():
        if key not in scores:
            scores[key] = share
    return _ranked(scores)


@dataclass(frozen=True)
class RunCoverage:
    """One test of a spectrum: whether it failed and the lines it executed."""

    test_id: str
    failed: bool
    lines: frozenset[tuple[str, int]]


def ochiai(
    spectrum: Iterable[RunCoverage], loaded: Mapping[str, Iterable[int]] | None = None
) -> list[Location]:
    """Lines executed by failing tests, ranked by Ochiai: ef / sqrt(F * (ef + ep)), where
    ef / ep count the failing / passing tests executing the line and F all failing tests.
    Lines no failing test executes are left out. `loaded`: lines each file runs when it is
    imported (see `import_time_lines`), run before every test and seen by all of them: the
    tracer records them in no test, or in the one test that happened to import first."""
    failed_by: dict[tuple[str, int], int] = defaultdict(int)
    passed_by: dict[tuple[str, int], int] = defaultdict(int)
    total_failed = total_passed = 0
    for test in spectrum:
        total_failed += test.failed
        total_passed += not test.failed
        counts = failed_by if test.failed else passed_by
        for key in test.lines:
            counts[key] += 1
    for path, lines in (loaded or {}).items() if total_failed else ():
        for line in lines:
            failed_by[path, line], passed_by[path, line] = total_failed, total_passed
    scores = {
        key: ef / math.sqrt(total_failed * (ef + passed_by.get(key, 0)))
        for key, ef in failed_by.items()
    }
    return _ranked(scores)


def import_time_lines(text: str) -> list[int]:
    """The lines of a module that run when it is imported: its top-level statements, and
    theirs in class bodies and top-level `if`/`try`/`with`/loops; of a function only its
    `def` line (decorators and defaults), never its body."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    lines: set[int] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        stmt = pending.pop()
        lines.add(stmt.lineno)
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            lines.update(decorator.lineno for decorator in stmt.decorator_list)
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(stmt, field, ()):
                if isinstance(child, ast.stmt):
                    pending.append(child)
                elif isinstance(child, ast.ExceptHandler | ast.match_case):
                    pending.extend(child.body)
    return sorted(lines)


def merge_locations(
    primary: Sequence[Location], secondary: Sequence[Location], weight: float = 0.5
) -> list[Location]:
    """One ranking from two (e.g. frames and Ochiai): each normalized to a top score of
    1, the secondary weighted down, scores of the same line added."""
    scores: dict[tuple[str, int], float] = defaultdict(float)
    for ranking, factor in ((primary, 1.0), (secondary, weight)):
        top = max((loc.score for loc in ranking), default=0.0)
        if top <= 0:
            continue
        for loc in ranking:
            scores[loc.path, loc.line] += factor * loc.score / top
    return _ranked(scores)


def read_spectrum(text: str, root: str | Path | None = None) -> list[RunCoverage]:
    """Parse the spectrum plugin's JSON. Paths are made relative to `root` (defaults to
    the root the plugin recorded) so they match the engine's relative source paths."""
    data = json.loads(text)
    base = Path(root if root is not None else data.get("root", "."))
    tests = []
    relative: dict[str, str] = {}  # each file's path once, not once per line it ran
    for entry in data.get("tests", []):
        if entry.get("outcome") == "skipped":
            continue
        lines: set[tuple[str, int]] = set()
        for path, numbers in entry.get("lines", {}).items():
            if path not in relative:
                relative[path] = _relative(path, base)
            lines.update((relative[path], int(line)) for line in numbers)
        tests.append(RunCoverage(entry["id"], entry.get("outcome") == "failed", frozenset(lines)))
    return tests


def spectrum_plugin_source() -> str:
    """The plugin's source, to be written as `fixloop_spectrum.py` on the sandbox's
    PYTHONPATH (it imports nothing from fixloop)."""
    return (Path(__file__).parent / "spectrum_plugin.py").read_text(encoding="utf-8")


def _ranked(scores: Mapping[tuple[str, int], float]) -> list[Location]:
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [Location(path, line, score) for (path, line), score in ordered if score > 0]


def _relative(path: str, root: Path) -> str:
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            return candidate.as_posix()
    return candidate.as_posix()


def _source_path(frame: tuple[str, int], sources: Mapping[str, str]) -> tuple[str | None, int]:
    """The editable source a frame is in, if any. Frames may carry absolute paths or a
    different prefix: match on the longest path suffix."""
    path, line = frame
    if path in sources:
        return path, line
    normalized = path.replace("\\", "/")
    for source in sources:
        if normalized.endswith("/" + source):
            return source, line
    return None, line


def _function_lines(text: str, line: int) -> list[tuple[int, int]]:
    """Other statement lines of the innermost function around `line`, each with its
    distance in statements (preceding lines count as nearer than following ones)."""
    spans = _function_spans(text)
    enclosing = [span for span in spans if span[0] <= line <= span[1]]
    if not enclosing:
        return []
    *_, statement_lines = min(enclosing, key=lambda span: span[1] - span[0])
    before = [n for n in statement_lines if n < line]
    after = [n for n in statement_lines if n > line]
    ranked = [(n, i) for i, n in enumerate(reversed(before))]
    ranked += [(n, len(before) // 2 + i + 1) for i, n in enumerate(after)]
    return ranked


@lru_cache(maxsize=64)
def _function_spans(text: str) -> tuple[tuple[int, int, tuple[int, ...]], ...]:
    """(first line, last line, statement lines) of every function in the text."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return ()
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = sorted(
                {
                    inner.lineno
                    for inner in ast.walk(node)
                    if isinstance(inner, ast.stmt) and inner is not node
                }
            )
            spans.append((node.lineno, node.end_lineno or node.lineno, tuple(lines)))
    return tuple(spans)


def spectrum_probe(files: Sequence[str] = ()) -> Probe:
    """The sandbox probe that records which lines each pytest test executes (the spectrum
    the loop ranks by Ochiai, and test diagnostics use to place a failure); in `files`
    alone (project-relative) when given: the rest of the code then runs untraced."""
    return Probe(
        files={f"{SPECTRUM_PLUGIN_MODULE}.py": spectrum_plugin_source()},
        pytest_plugins=(SPECTRUM_PLUGIN_MODULE,),
        output_env=SPECTRUM_ENV,
        root_env=SPECTRUM_ROOT_ENV,
        env={SPECTRUM_FILES_ENV: ",".join(files)} if files else {},
    )
