"""Fault localization: traceback frames, Ochiai over a spectrum, and the spectrum plugin
run for real on a corpus program."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixloop.loop.localize import (
    RunCoverage,
    import_time_lines,
    locations_from_frames,
    merge_locations,
    ochiai,
    read_spectrum,
)
from fixloop.loop.model import Failure
from tests.loop.corpus_support import programs, spectrum_of

SOURCE = """def helper(x):
    y = x * 2
    return y + 1


def outer(values):
    total = 0
    for v in values:
        total += helper(v)
    return total
"""


def test_frames_innermost_first_and_outside_sources_ignored() -> None:
    failure = Failure(
        "test_m.py::test_outer",
        "ZeroDivisionError",
        (("test_m.py", 12), ("pkg/m.py", 9), ("pkg/m.py", 3)),
    )
    ranked = locations_from_frames([failure], {"pkg/m.py": SOURCE})
    lines = [loc.line for loc in ranked]
    assert lines[:2] == [3, 9]
    assert all(loc.path == "pkg/m.py" for loc in ranked)
    # The rest of the innermost function follows, the line just above the frame first.
    assert lines.index(2) < lines.index(7)


def test_frames_with_absolute_paths_match_by_suffix() -> None:
    failure = Failure("t", "boom", (("/work/project/pkg/m.py", 3),))
    ranked = locations_from_frames([failure], {"pkg/m.py": SOURCE})
    assert ranked[0].path == "pkg/m.py"
    assert ranked[0].line == 3


def test_lines_in_more_failures_rank_higher() -> None:
    failures = [
        Failure("a", "", (("m.py", 9),)),
        Failure("b", "", (("m.py", 3),)),
        Failure("c", "", (("m.py", 3),)),
    ]
    ranked = locations_from_frames(failures, {"m.py": SOURCE})
    assert [loc.line for loc in ranked[:2]] == [3, 9]


def test_no_frames_in_sources_gives_nothing() -> None:
    failure = Failure("t", "assert 1 == 2", (("test_m.py", 4),))
    assert locations_from_frames([failure], {"m.py": SOURCE}) == []


def test_ochiai_prefers_lines_only_failing_tests_run() -> None:
    spectrum = [
        RunCoverage("pass1", False, frozenset({("m.py", 1), ("m.py", 2)})),
        RunCoverage("pass2", False, frozenset({("m.py", 1), ("m.py", 3)})),
        RunCoverage("fail1", True, frozenset({("m.py", 1), ("m.py", 4)})),
        RunCoverage("fail2", True, frozenset({("m.py", 1), ("m.py", 4), ("m.py", 5)})),
    ]
    ranked = ochiai(spectrum)
    assert ranked[0].line == 4
    assert ranked[0].score == pytest.approx(1.0)
    scores = {loc.line: loc.score for loc in ranked}
    assert scores[1] < scores[4]
    assert 2 not in scores and 3 not in scores  # no failing test runs them


MODULE = """\
\"\"\"Rates.\"\"\"
import re

LIMIT = 3


@cache
def rate(zone, default=LIMIT):
    value = ZONES[zone]
    return value


class Table:
    SIZE = 2

    def get(self):
        return self.SIZE


if LIMIT:
    PATTERN = re.compile("x")
else:
    PATTERN = None
try:
    import json
except ImportError:
    json = None
"""


def test_the_lines_a_module_runs_when_imported_are_its_top_level_ones() -> None:
    # Function bodies run when called; their def line and decorators at import.
    assert import_time_lines(MODULE) == [1, 2, 4, 7, 8, 13, 14, 16, 20, 21, 23, 24, 25, 27]
    assert import_time_lines("def broken(:\n") == []


def test_lines_run_at_import_count_as_run_by_every_test() -> None:
    spectrum = [
        RunCoverage("pass1", False, frozenset({("m.py", 9)})),
        RunCoverage("pass2", False, frozenset({("m.py", 9)})),
        RunCoverage("fail", True, frozenset({("m.py", 9), ("m.py", 10)})),
    ]
    # The tracer saw line 4 in no test: without `loaded` it is not suspicious at all.
    assert 4 not in {loc.line for loc in ochiai(spectrum)}
    scores = {loc.line: loc.score for loc in ochiai(spectrum, {"m.py": [4]})}
    assert scores[4] == pytest.approx(scores[9]) == pytest.approx(1 / 3**0.5)
    assert scores[10] == pytest.approx(1.0)
    assert ochiai(spectrum[:2], {"m.py": [4]}) == []  # no failing test: nothing suspect


def test_merge_adds_normalized_scores() -> None:
    frames = locations_from_frames([Failure("t", "", (("m.py", 9),))], {"m.py": SOURCE})
    spectrum = ochiai([RunCoverage("t", True, frozenset({("m.py", 2), ("m.py", 9)}))])
    merged = merge_locations(frames, spectrum)
    assert merged[0].line == 9
    assert {loc.line for loc in merged} >= {2, 9}


def test_read_spectrum_relative_paths_and_skips() -> None:
    text = json.dumps(
        {
            "version": 1,
            "root": "/proj",
            "tests": [
                {"id": "t::a", "outcome": "failed", "lines": {"/proj/pkg/m.py": [3, 4]}},
                {"id": "t::b", "outcome": "passed", "lines": {"pkg/m.py": [3]}},
                {"id": "t::c", "outcome": "skipped", "lines": {}},
            ],
        }
    )
    tests = read_spectrum(text)
    assert [t.test_id for t in tests] == ["t::a", "t::b"]
    assert tests[0].failed and not tests[1].failed
    assert tests[0].lines == {("pkg/m.py", 3), ("pkg/m.py", 4)}


@pytest.mark.slow
def test_spectrum_plugin_on_a_corpus_program() -> None:
    """The plugin, run by pytest in a subprocess, records per-test lines of the program
    (not of its tests) and the outcomes; Ochiai puts the faulty line near the top."""
    program = next(p for p in programs() if p.name == "variance")
    spectrum = spectrum_of(program, program.buggy)
    outcomes = {t.test_id.split("::")[-1]: t.failed for t in spectrum}
    assert outcomes == {
        "test_constant": False,
        "test_simple": True,
        "test_stdev": True,
        "test_empty": False,
    }
    assert all(path == program.file for t in spectrum for path, _ in t.lines)
    ranked = [loc.line for loc in ochiai(spectrum)]
    assert program.line in ranked[:3]


def test_with_no_source_named_the_files_of_the_most_suspicious_lines_are_edited(
    tmp_path: Path,
) -> None:
    """Twelve files whose lines only the failing test runs, and the bug's file, whose
    line a passing test runs too (it ranks below them all): the files of the hundred
    best lines are kept, up to ten, the bug's among them; never a test file, nor a file
    only passing tests ran."""
    from types import SimpleNamespace

    from fixloop.loop.first_run import SPECTRUM_FILES, sources_the_failures_run

    names = [f"pkg/m{n:02}.py" for n in range(12)]
    for name in [*names, "pkg/bug.py", "pkg/calm.py", "tests/helpers_test.py"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    failing = {name: [1] for name in [*names[:8], "pkg/bug.py", "tests/helpers_test.py"]}
    spectrum = json.dumps(
        {
            "version": 1,
            "root": str(tmp_path),
            "tests": [
                {"id": "t::fails", "outcome": "failed", "lines": failing},
                {"id": "t::passes", "outcome": "passed", "lines": {"pkg/bug.py": [1]}},
                {"id": "t::calm", "outcome": "passed", "lines": {"pkg/calm.py": [1]}},
            ],
        }
    )
    sources = sources_the_failures_run(SimpleNamespace(project_root=tmp_path), spectrum)
    assert "pkg/bug.py" in sources and len(sources) <= SPECTRUM_FILES
    assert "pkg/calm.py" not in sources and "tests/helpers_test.py" not in sources
    assert sources["pkg/bug.py"] == "x = 1\n"


def test_a_target_folder_keeps_the_search_inside_it_when_the_failures_run_code_there(
    tmp_path: Path,
) -> None:
    from types import SimpleNamespace

    from fixloop.loop.first_run import sources_the_failures_run

    for name in ("app/core.py", "lib/vendor.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    lines = {"app/core.py": [1], "lib/vendor.py": [1]}
    spectrum = json.dumps(
        {
            "version": 1,
            "root": str(tmp_path),
            "tests": [{"id": "t", "outcome": "failed", "lines": lines}],
        }
    )
    project = SimpleNamespace(project_root=tmp_path)
    assert list(sources_the_failures_run(project, spectrum, ["app"])) == ["app/core.py"]
    # No line of the folder ran: the search is not left empty.
    assert len(sources_the_failures_run(project, spectrum, ["docs"])) == 2
