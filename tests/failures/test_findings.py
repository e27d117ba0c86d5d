"""Where a failing test is shown: pure mapping from a sandbox result to findings."""

from __future__ import annotations

import json
from pathlib import Path

from fixloop.failures import Selection, findings_for
from fixloop.failures.findings import Placement
from fixloop.sandbox.results import CandidateResult, CaseResult, Frame, Outcome, Output

COMMAND = "python -m pytest -q"
RELATED = Selection(f"{COMMAND} tests/test_shop.py", ("tests/test_shop.py",))


def _project(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    for name in ("shop.py", "other.py", "tests/test_shop.py"):
        (tmp_path / name).write_text("x = 1\n", encoding="utf-8")
    return tmp_path


def _failure(test: str, message: str, *frames: tuple[Path, int]) -> CaseResult:
    return CaseResult(
        test_id=f"tests/test_shop.py::{test}",
        outcome=Outcome.FAILED,
        message=message,
        frames=tuple(Frame(str(path), line, in_project=True) for path, line in frames),
    )


def _covered(test: str, outcome: str, lines: list[int]) -> dict[str, object]:
    return {"id": f"tests/test_shop.py::{test}", "outcome": outcome, "lines": {"shop.py": lines}}


def _result(*cases: CaseResult, spectrum: list[dict[str, object]] | None = None) -> CandidateResult:
    probe = json.dumps({"version": 1, "root": "/work/c/0", "tests": spectrum}) if spectrum else None
    return CandidateResult(cases, exit_code=1, duration=0.1, probe_data=probe)


def test_the_deepest_frame_in_the_file_is_where_the_failure_surfaced(tmp_path: Path) -> None:
    root = _project(tmp_path)
    case = _failure(
        "test_total",
        "ZeroDivisionError: division by zero",
        (root / "tests/test_shop.py", 7),
        (root / "shop.py", 20),
        (root / "shop.py", 4),
        (Path("/usr/lib/python3/decimal.py"), 300),
    )
    [finding] = findings_for(_result(case), root, root / "shop.py", RELATED)
    assert finding.line == 4 and finding.placement is Placement.TRACEBACK
    assert finding.message == (
        "tests/test_shop.py::test_total failed: ZeroDivisionError: division by zero"
    )
    assert finding.test_location == ((root / "tests/test_shop.py").resolve(), 7)


def test_in_the_test_file_the_failure_is_on_the_failing_assert(tmp_path: Path) -> None:
    root = _project(tmp_path)
    case = _failure("test_total", "assert 1 == 2", (root / "tests/test_shop.py", 9))
    [finding] = findings_for(_result(case), root, root / "tests/test_shop.py", RELATED)
    assert (finding.line, finding.placement) == (9, Placement.TRACEBACK)


def test_without_a_frame_the_line_the_failing_tests_share_most_is_chosen(tmp_path: Path) -> None:
    root = _project(tmp_path)
    spectrum = [
        _covered("test_few", "passed", [3, 5]),
        _covered("test_ten", "failed", [3, 4]),
        _covered("test_sum", "failed", [3, 4, 9]),
    ]
    cases = (
        _failure("test_ten", "assert 0.0 == 0.1", (root / "tests/test_shop.py", 9)),
        _failure("test_sum", "assert 20 == 18", (root / "tests/test_shop.py", 13)),
    )
    findings = findings_for(_result(*cases, spectrum=spectrum), root, root / "shop.py", RELATED)
    # Line 4 runs only in failing tests; line 3 also in the passing one.
    assert [(f.line, f.placement) for f in findings] == [(4, Placement.COVERAGE)] * 2


def test_ties_go_to_the_earlier_line(tmp_path: Path) -> None:
    root = _project(tmp_path)
    spectrum = [_covered("test_a", "failed", [17, 15])]
    case = _failure("test_a", "assert 0.0 == 0.1")
    [finding] = findings_for(_result(case, spectrum=spectrum), root, root / "shop.py", RELATED)
    assert finding.line == 15


def test_a_related_test_that_never_reaches_the_file_goes_on_line_1(tmp_path: Path) -> None:
    root = _project(tmp_path)
    case = _failure("test_a", "", (root / "tests/test_shop.py", 3))
    [finding] = findings_for(_result(case), root, root / "shop.py", RELATED)
    assert (finding.line, finding.placement) == (1, Placement.FILE)
    assert finding.message == "tests/test_shop.py::test_a failed: failed"


def test_a_whole_suite_failure_elsewhere_says_nothing_about_this_file(tmp_path: Path) -> None:
    root = _project(tmp_path)
    case = _failure("test_a", "assert False", (root / "tests/test_shop.py", 3))
    assert findings_for(_result(case), root, root / "other.py", Selection(COMMAND)) == []


def test_passing_and_skipped_tests_give_nothing(tmp_path: Path) -> None:
    root = _project(tmp_path)
    cases = (
        CaseResult("tests/test_shop.py::test_a", Outcome.PASSED),
        CaseResult("tests/test_shop.py::test_b", Outcome.SKIPPED, "no network"),
    )
    result = CandidateResult(cases, exit_code=0, duration=0.1)
    assert findings_for(result, root, root / "shop.py", RELATED) == []


def test_a_run_without_per_test_results_fails_on_line_1(tmp_path: Path) -> None:
    root = _project(tmp_path)
    output = Output(head="", error_lines=("Error: expected 3, got 4",), tail="", total_bytes=10)
    result = CandidateResult((), exit_code=1, duration=0.5, output=output)
    [finding] = findings_for(result, root, root / "shop.py", Selection("npm test"))
    assert finding.line == 1 and finding.placement is Placement.RUN
    assert finding.message == (
        "`npm test`: the tests failed (exit code 1): Error: expected 3, got 4"
    )
    timed_out = CandidateResult((), exit_code=None, duration=60.0, timed_out=True)
    [finding] = findings_for(timed_out, root, root / "shop.py", Selection("npm test"))
    assert "timed out after 60 s" in finding.message


def test_a_sandbox_failure_is_no_verdict(tmp_path: Path) -> None:
    root = _project(tmp_path)
    broken = CandidateResult((), exit_code=None, duration=0.0, infrastructure_error="lost")
    assert findings_for(broken, root, root / "shop.py", Selection(COMMAND)) == []


def test_a_long_message_is_cut(tmp_path: Path) -> None:
    root = _project(tmp_path)
    case = _failure("test_a", "x" * 5000, (root / "shop.py", 1))
    [finding] = findings_for(_result(case), root, root / "shop.py", RELATED)
    assert len(finding.message) < 1100 and finding.message.endswith("…")
