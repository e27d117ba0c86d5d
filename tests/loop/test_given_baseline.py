"""A session started from a test run the caller already made (the editor's run on save):
no baseline of its own, and what the baseline is for still holds: the failures to fix, the
lines to suspect, the early verdicts, and regressions, even from a related-tests run that
did not see the whole suite. Against the real sandbox; each run it makes is noted."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fixloop.failures import run_tests
from fixloop.loop.engine import Budget, FixSession, GivenBaseline, Status
from fixloop.loop.localize import spectrum_probe
from fixloop.loop.model import Candidate, RepairContext
from fixloop.loop.recall import SessionMemory
from fixloop.memory.store import MemoryConfig, MemoryStore
from fixloop.sandbox import SandboxPool
from fixloop.sandbox.results import CandidateResult
from tests.loop.test_engine import BUGGY, COMMAND, RIGHT, TESTS

pytestmark = pytest.mark.slow


# Code the related tests of calc.py (those naming it) do not see: report.py uses calc, and
# its test names only report.
REPORT = "import calc\n\n\ndef banner(x):\n    return f'value {calc.clamp(x, 0, 10)}'\n"
REPORT_TESTS = (
    "from report import banner\n\n\ndef test_banner():\n    assert banner(3) == 'value 3'\n"
)
# Fixes test_above, and breaks what only report's test sees (inside the range).
REGRESSING = RIGHT.replace("    return x\n", "    return x if x != 3 else 0\n")


@dataclass
class Scripted:
    """Yields the texts of calc.py it is given; keeps the contexts it saw."""

    texts: list[str]
    name: str = "scripted"
    reflective: bool = False
    contexts: list[RepairContext] = field(default_factory=list)

    def candidates(self, context: RepairContext) -> Iterator[Candidate]:
        self.contexts.append(context)
        for number, text in enumerate(self.texts, 1):
            yield Candidate({"calc.py": text}, f"candidate {number}", self.name, edit_size=number)


@dataclass
class Noted:
    """The real sandbox, each run noted: (command, changes)."""

    pool: SandboxPool
    runs: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def run(
        self, project_root: Path | str, changes: Any, command: str, **options: Any
    ) -> CandidateResult:
        self.runs.append((command, dict(changes)))
        return self.pool.run(project_root, changes, command, **options)

    def of_the_unchanged_code(self) -> list[str]:
        return [command for command, changes in self.runs if not changes]


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool() as sandbox:
        yield sandbox


def _project(root: Path, source: str = BUGGY, tests: str = TESTS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "calc.py").write_text(source, encoding="utf-8")
    (root / "test_calc.py").write_text(tests, encoding="utf-8")
    return root


def _whole_run(root: Path, pool: SandboxPool) -> GivenBaseline:
    """The whole suite with the coverage probe, as the session's own baseline runs it."""
    return GivenBaseline(pool.run(root, {}, COMMAND, probe=spectrum_probe()), COMMAND)


def _related_run(root: Path, pool: SandboxPool) -> GivenBaseline:
    """The editor's run on saving calc.py: its related tests only."""
    run = run_tests(pool, root, [root / "calc.py"], COMMAND)
    assert not run.selection.whole_suite
    return GivenBaseline(run.result, run.selection.command)


def _with_report(root: Path, report_tests: str = REPORT_TESTS) -> Path:
    (root / "report.py").write_text(REPORT, encoding="utf-8")
    (root / "test_report.py").write_text(report_tests, encoding="utf-8")
    return root


def _session(
    root: Path, tester: Noted, baseline: GivenBaseline, texts: list[str], **kwargs: Any
) -> tuple[FixSession, Scripted]:
    generator = Scripted(texts)
    session = FixSession(
        root,
        COMMAND,
        [generator] if texts else [],
        tester,
        targets=["calc.py"],
        budget=Budget(max_iterations=1, candidates_per_iteration=2, alternative_batches=0),
        baseline=baseline,
        **kwargs,
    )
    return session, generator


def test_a_given_baseline_is_not_run_again(tmp_path: Path, pool: SandboxPool) -> None:
    root = _project(tmp_path)
    given = _whole_run(root, pool)
    tester = Noted(pool)
    session, generator = _session(root, tester, given, [RIGHT])
    result = session.run()
    assert result.status is Status.FIXED and result.changes == {"calc.py": RIGHT}
    assert result.baseline is given.result
    assert tester.of_the_unchanged_code() == []
    # The failing test alone (stopping at its first failure), then the whole suite
    # (without pytest's assert rewriting: it changes messages, not verdicts).
    assert [command for command, _ in tester.runs] == [
        f"{COMMAND} -x --tb=native test_calc.py::test_above",
        f"{COMMAND} --assert=plain",
    ]
    assert [f.test_id for f in generator.contexts[0].failures] == ["test_calc.py::test_above"]


def test_the_given_runs_coverage_finds_the_line_no_traceback_shows(
    tmp_path: Path, pool: SandboxPool
) -> None:
    root = _project(tmp_path)  # the assertion fails in the test: no frame in calc.py
    session, generator = _session(root, Noted(pool), _related_run(root, pool), [RIGHT])
    assert session.run().status is Status.FIXED
    [context] = generator.contexts
    first = context.locations[0]
    assert (first.path, first.line) == ("calc.py", 5)  # `return low` where high was meant


def test_a_given_baseline_without_coverage_still_leads_to_the_fix(
    tmp_path: Path, pool: SandboxPool
) -> None:
    root = _project(tmp_path)
    given = GivenBaseline(pool.run(root, {}, COMMAND), COMMAND)  # no probe
    session, _ = _session(root, Noted(pool), given, [RIGHT])
    result = session.run()
    assert result.status is Status.FIXED and result.changes == {"calc.py": RIGHT}


def test_a_related_tests_baseline_does_not_hide_a_regression_in_the_other_tests(
    tmp_path: Path, pool: SandboxPool
) -> None:
    root = _with_report(_project(tmp_path))
    tester = Noted(pool)
    session, _ = _session(root, tester, _related_run(root, pool), [REGRESSING])
    result = session.run()
    assert result.status is Status.NOT_FOUND  # test_banner passed before it: a regression
    # The test the related run did not see, run once on the unchanged code to know that.
    assert tester.of_the_unchanged_code() == [f"{COMMAND} test_report.py::test_banner"]


def test_a_related_tests_baseline_picks_the_fix_that_breaks_nothing(
    tmp_path: Path, pool: SandboxPool
) -> None:
    root = _with_report(_project(tmp_path))
    session, _ = _session(root, Noted(pool), _related_run(root, pool), [REGRESSING, RIGHT])
    result = session.run()
    assert result.status is Status.FIXED and result.changes == {"calc.py": RIGHT}


def test_a_test_the_related_run_did_not_see_failing_before_too_is_no_regression(
    tmp_path: Path, pool: SandboxPool
) -> None:
    broken = REPORT_TESTS.replace("'value 3'", "'value three'")  # fails whatever calc does
    root = _with_report(_project(tmp_path), broken)
    tester = Noted(pool)
    session, _ = _session(root, tester, _related_run(root, pool), [RIGHT])
    result = session.run()
    assert result.status is Status.FIXED and result.changes == {"calc.py": RIGHT}
    assert result.final is not None and [f.test_id for f in result.final.failures] == [
        "test_report.py::test_banner"
    ]
    assert len(tester.of_the_unchanged_code()) == 1


def test_related_tests_that_already_pass_need_no_fix_and_no_run(
    tmp_path: Path, pool: SandboxPool
) -> None:
    root = _project(tmp_path, RIGHT)
    tester = Noted(pool)
    session, _ = _session(root, tester, _related_run(root, pool), [BUGGY])
    result = session.run()
    assert result.status is Status.ALREADY_PASSING
    assert result.message == "the tests it ran already pass: nothing to fix"
    assert tester.runs == []


def test_a_given_baseline_that_cannot_import_is_the_environment_and_no_run(
    tmp_path: Path, pool: SandboxPool
) -> None:
    root = _project(tmp_path, tests="import no_such_module\n\n" + TESTS)
    tester = Noted(pool)
    session, _ = _session(root, tester, _related_run(root, pool), [RIGHT])
    result = session.run()
    assert result.status is Status.ENVIRONMENT and "no_such_module" in result.message
    assert tester.runs == []


def test_a_baseline_of_another_command_is_refused(tmp_path: Path, pool: SandboxPool) -> None:
    root = _project(tmp_path)
    ran = CandidateResult((), 1, 0.1)
    for command in ("python -m pytest", "python -m pytest -qx", "npm test"):
        with pytest.raises(ValueError, match="not the session's test command"):
            _session(root, Noted(pool), GivenBaseline(ran, command), [RIGHT])
    assert GivenBaseline(ran, f"{COMMAND} test_calc.py").is_of(COMMAND)


def test_with_a_given_baseline_memory_is_asked_before_any_run(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """The editor's remembered-fix lookup: no generator, memory's suggestion the only
    candidate. Memory that knows nothing alike costs no run; one that does, the candidate's."""
    store = MemoryStore(MemoryConfig(path=tmp_path / "memory"))
    try:
        first = _project(tmp_path / "first")
        tester = Noted(pool)
        nothing, _ = _session(
            first, tester, _related_run(first, pool), [], memory=SessionMemory(store)
        )
        assert nothing.run().status is Status.NOT_FOUND
        assert tester.runs == []

        learned, _ = _session(
            first, tester, _related_run(first, pool), [RIGHT], memory=SessionMemory(store)
        )
        assert learned.run().status is Status.FIXED

        again = _project(tmp_path / "again")
        tester = Noted(pool)
        recalled, _ = _session(
            again, tester, _related_run(again, pool), [], memory=SessionMemory(store)
        )
        result = recalled.run()
        assert result.status is Status.FIXED and result.changes == {"calc.py": RIGHT}
        assert tester.of_the_unchanged_code() == []
        assert len(tester.runs) == 2  # the failing test with the fix, then the whole suite
    finally:
        store.close()
