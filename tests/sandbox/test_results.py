"""Reading results: pytest's JUnit XML and node's TAP, frames mapped to the user's files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fixloop.sandbox import Outcome
from fixloop.sandbox.results import (
    CandidateResult,
    Output,
    PathMap,
    parse_junit,
    parse_node_events,
    trim_text,
)
from tests.sandbox.projects import CALC_BROKEN, calc_project

# fixloop's node reporter (_node_reporter.py) as node 18 wrote it in the sandbox.
FAILED_STACK = (
    "AssertionError: x\n"
    "    at TestContext.<anonymous> (/work/c/0/test/a.test.js:4:29)\n"
    "    at Test.run (node:internal/test_runner/test:631:25)"
)
NODE_EVENTS = [
    {
        "file": "/work/c/0/test/a.test.js",
        "line": 4,
        "names": ["adds"],
        "outcome": "failed",
        "duration_ms": 2.5,
        "message": "Expected values to be strictly equal:\n\n-1 !== 3",
        "stack": FAILED_STACK,
    },
    {"file": "/work/c/0/test/a.test.js", "names": ["not yet"], "outcome": "skipped"},
    {"file": "/work/c/0/test/a.test.js", "names": ["group", "inner"], "outcome": "passed"},
]
# The last line was cut short when the run was killed.
NODE_REPORT = "\n".join(json.dumps(event) for event in NODE_EVENTS) + '\n{"file": "/work/c/0/te'


def test_junit_xml_from_a_real_pytest_run(tmp_path: Path) -> None:
    project = calc_project(tmp_path / "p")
    (project / "calc.py").write_text(CALC_BROKEN)
    report = tmp_path / "junit.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-o", "junit_family=xunit1", f"--junitxml={report}"]
    subprocess.run(command, cwd=project, capture_output=True, check=False)
    cases = {case.test_id: case for case in parse_junit(report.read_text(), PathMap("/x", project))}

    assert set(cases) == {
        "tests/test_calc.py::test_add",
        "tests/test_calc.py::test_sub",
        "tests/test_calc.py::test_mul",
        "tests/test_calc.py::test_div",
        "tests/test_calc.py::TestClamp::test_clamp",
    }
    assert cases["tests/test_calc.py::test_sub"].outcome == Outcome.PASSED
    add = cases["tests/test_calc.py::test_add"]
    assert add.outcome == Outcome.FAILED
    assert "assert -1 == 5" in add.message
    div = cases["tests/test_calc.py::test_div"]
    assert "ZeroDivisionError" in div.message
    in_project = [(Path(f.path).name, f.line) for f in div.frames if f.in_project]
    assert in_project == [("test_calc.py", 17), ("calc.py", 14)]
    assert all(Path(f.path).is_absolute() for f in div.frames if f.in_project)


def test_expected_failures_are_counted_as_pytest_counts_them(tmp_path: Path) -> None:
    # sqlparse's suite: pytest says "2 xfailed", fixloop's summary said "2 skipped".
    (tmp_path / "test_marks.py").write_text(
        "import pytest\n\n"
        "def test_ok():\n    pass\n\n"
        "@pytest.mark.skip(reason='later')\ndef test_later():\n    pass\n\n"
        "@pytest.mark.xfail(reason='known bug')\ndef test_known():\n    assert False\n\n"
        "@pytest.mark.xfail(strict=True)\ndef test_fixed_meanwhile():\n    pass\n"
    )
    report = tmp_path / "junit.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-o", "junit_family=xunit1", f"--junitxml={report}"]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, check=False)
    cases = parse_junit(report.read_text(), PathMap("/x", tmp_path))
    result = CandidateResult(cases, run.returncode, 0.5)

    assert result.summary() == "1 passed, 1 failed, 1 skipped, 1 xfailed in 0.50 s"
    # A strict xfail that passes fails pytest's run, as it does in fixloop's verdict.
    assert [case.test_id for case in result.failures] == ["test_marks.py::test_fixed_meanwhile"]
    assert not result.passed


def test_node_results_keep_stable_ids_and_map_frames_to_the_project() -> None:
    cases = parse_node_events(NODE_REPORT, PathMap("/work/c/0", Path("/home/me/proj")))
    outcomes = {case.test_id: case.outcome for case in cases}
    assert outcomes == {
        "test/a.test.js::adds": Outcome.FAILED,
        "test/a.test.js::not yet": Outcome.SKIPPED,
        "test/a.test.js::group > inner": Outcome.PASSED,
    }
    failed = cases[0]
    assert "-1 !== 3" in failed.message
    assert [(f.path, f.line) for f in failed.frames] == [("/home/me/proj/test/a.test.js", 4)]
    assert failed.duration == 0.0025


def test_capped_output_keeps_head_error_lines_and_tail() -> None:
    output = Output(
        head="collecting\n",
        error_lines=("E  AssertionError: boom",),
        tail="1 failed\n",
        total_bytes=10_000,
    )
    assert output.truncated
    text = output.text
    assert text.startswith("collecting")
    assert "AssertionError: boom" in text
    assert text.endswith("1 failed\n")
    assert "bytes omitted" in text


def test_trim_text_keeps_error_lines_from_the_middle() -> None:
    text = "start\n" + "noise\n" * 5000 + "ValueError: the cause\n" + "noise\n" * 5000 + "end\n"
    trimmed = trim_text(text, 2000)
    assert len(trimmed) < 2200
    assert trimmed.startswith("start")
    assert "ValueError: the cause" in trimmed
    assert trimmed.endswith("end\n")
