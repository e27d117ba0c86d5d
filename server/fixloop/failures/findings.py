"""A test run's failures as findings in one source file, each on the line where it surfaced.

Where a failure goes, in this order:
- the deepest traceback frame in the file (the exception passed through it);
- else, when the run recorded which lines each test executed (pytest's spectrum), the
  line of the file this test executed that the failing tests share most and the passing
  tests least (Ochiai; ties go to the earlier line): a wrong value computed here and
  asserted in a test leaves no frame here;
- else line 1, when the test is one of the file's related tests (it names the module);
- else the failure says nothing about this file and is left out.
A run without per-test results that failed, timed out or ran out of memory gives one
finding on line 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from fixloop.failures.related import Selection
from fixloop.loop.localize import RunCoverage, ochiai, read_spectrum
from fixloop.sandbox.results import CandidateResult, CaseResult

# A diagnostic's message stays readable in a hover: long assertion diffs are cut.
_MAX_MESSAGE = 1000
# A line of output that says what went wrong (a command not found included).
_ERROR_LINE = re.compile(r"error|exception|fail|assert|cannot|not found", re.IGNORECASE)


class Placement(StrEnum):
    TRACEBACK = "traceback"  # a frame of the failure is in the file
    COVERAGE = "coverage"  # the failing test executed this line
    FILE = "file"  # a related test, with no line to point at
    RUN = "run"  # the whole run failed without per-test results


@dataclass(frozen=True)
class TestFinding:
    """One failing test in one file: `line` is 1-based; `test_location` is where the test
    itself failed (its file and line), when the traceback shows it."""

    path: Path
    line: int
    message: str
    test_id: str
    placement: Placement
    test_location: tuple[Path, int] | None = None


def findings_for(
    result: CandidateResult, root: Path, source: Path, selection: Selection
) -> list[TestFinding]:
    """The failures of `result` that concern `source` (paths resolved or not)."""
    root, source = root.resolve(), source.resolve()
    if not result.cases:
        return _whole_run_findings(result, source, selection.command)
    spectrum = _spectrum(result.probe_data)
    suspicion = _suspicion(spectrum, root, source)
    executed = {test.test_id: test.lines for test in spectrum}
    findings = []
    for case in result.failures:
        finding = _place(case, root, source, selection, suspicion, executed)
        if finding is not None:
            findings.append(finding)
    return findings


def _place(
    case: CaseResult,
    root: Path,
    source: Path,
    selection: Selection,
    suspicion: Mapping[int, float],
    executed: Mapping[str, frozenset[tuple[str, int]]],
) -> TestFinding | None:
    message = _message(case)
    test_location = _test_location(case, root)
    frames = [frame.line for frame in case.frames if _same(frame.path, source)]
    if frames:
        return TestFinding(
            source, frames[-1], message, case.test_id, Placement.TRACEBACK, test_location
        )
    relative = _relative(source, root)
    lines = [line for path, line in executed.get(case.test_id, ()) if path == relative]
    if lines:
        line = min(lines, key=lambda n: (-suspicion.get(n, 0.0), n))
        return TestFinding(source, line, message, case.test_id, Placement.COVERAGE, test_location)
    test_file = case.test_id.split("::", 1)[0]
    if not selection.whole_suite and test_file in selection.test_files:
        return TestFinding(source, 1, message, case.test_id, Placement.FILE, test_location)
    return None


def _whole_run_findings(result: CandidateResult, source: Path, command: str) -> list[TestFinding]:
    if result.passed or result.infrastructure_error:
        return []
    if result.timed_out:
        what = f"the tests timed out after {result.duration:.0f} s"
    elif result.out_of_memory:
        what = "the tests ran out of memory"
    else:
        what = f"the tests failed (exit code {result.exit_code})"
    last = _last_error_line(result)
    detail = f": {last}" if last else ""
    return [TestFinding(source, 1, f"`{command}`: {what}{detail}", command, Placement.RUN)]


def _last_error_line(result: CandidateResult) -> str:
    """The output's last error line: from the kept error lines of a long output, else from
    the whole of a short one (whose error lines are all in its head)."""
    lines = result.output.error_lines or tuple(
        line for line in result.output.text.splitlines() if _ERROR_LINE.search(line)
    )
    return lines[-1].strip() if lines else ""


def _message(case: CaseResult) -> str:
    text = case.message.strip() or case.outcome.value
    if len(text) > _MAX_MESSAGE:
        text = text[:_MAX_MESSAGE].rstrip() + " …"
    return f"{case.test_id} {case.outcome.value}: {text}"


def _test_location(case: CaseResult, root: Path) -> tuple[Path, int] | None:
    test_file = (root / case.test_id.split("::", 1)[0]).resolve()
    lines = [frame.line for frame in case.frames if _same(frame.path, test_file)]
    return (test_file, lines[-1]) if lines else None


def _spectrum(probe_data: str | None) -> list[RunCoverage]:
    if not probe_data:
        return []
    try:
        return read_spectrum(probe_data)
    except (ValueError, KeyError, TypeError):
        return []  # cut short when the run was killed: the frames still say something


def _suspicion(spectrum: Iterable[RunCoverage], root: Path, source: Path) -> dict[int, float]:
    relative = _relative(source, root)
    return {loc.line: loc.score for loc in ochiai(spectrum) if loc.path == relative}


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _same(frame_path: str, path: Path) -> bool:
    candidate = Path(frame_path)
    return candidate == path or (candidate.is_absolute() and candidate.resolve() == path)
