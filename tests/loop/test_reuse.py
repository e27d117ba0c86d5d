"""A remembered fix checked on today's code without a fix session (what the editor's
"Apply fix seen before" runs): the first run, memory's suggestion, the failing tests, the
whole suite. Against the real sandbox and a real embedded memory; each run is noted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.failures import run_tests
from fixloop.loop.engine import Budget, FixSession, GivenBaseline
from fixloop.loop.recall import SessionMemory
from fixloop.loop.reuse import ReuseCheck
from fixloop.memory.store import MemoryConfig, MemoryStore
from fixloop.sandbox import SandboxPool
from tests.loop.test_engine import BUGGY, COMMAND, RIGHT, TESTS, Scripted
from tests.loop.test_given_baseline import Noted

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool() as sandbox:
        yield sandbox


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MemoryStore]:
    memory = MemoryStore(MemoryConfig(path=tmp_path / "memory", retry_seconds=0.0))
    yield memory
    memory.close()


def _project(root: Path, source: str = BUGGY, tests: str = TESTS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "calc.py").write_text(source, encoding="utf-8")
    (root / "test_calc.py").write_text(tests, encoding="utf-8")
    return root


def _learn(root: Path, pool: SandboxPool, store: MemoryStore) -> None:
    """A session fixes the bug in `root`: memory remembers the verified fix."""
    session = FixSession(
        root,
        COMMAND,
        [Scripted([RIGHT])],
        pool,
        targets=["calc.py"],
        budget=Budget(max_iterations=1, alternative_batches=0),
        memory=SessionMemory(store),
    )
    assert session.run().fixed


def _check(root: Path, tester: Noted, store: MemoryStore, **options: object) -> ReuseCheck:
    memory = SessionMemory(store, hold_verified=True)
    return ReuseCheck(root, "calc.py", COMMAND, tester, memory, parallel=2, **options)  # type: ignore[arg-type]


def test_a_remembered_fix_is_verified_on_other_code_and_kept_back(
    tmp_path: Path, pool: SandboxPool, store: MemoryStore
) -> None:
    _learn(_project(tmp_path / "first"), pool, store)
    again = _project(tmp_path / "again")
    tester = Noted(pool)

    found = _check(again, tester, store).run()

    assert found is not None
    assert found.changes == {"calc.py": RIGHT}
    assert found.final.passed and len(found.final.cases) == 3  # the whole suite
    assert found.record.outcome.value == "verified"
    assert found.record.reused_from == found.suggestion.fix.record.id
    # The first run, the failing tests with the fix, the whole suite with it.
    assert [bool(changes) for _, changes in tester.runs] == [False, True, True]
    assert (again / "calc.py").read_text() == BUGGY  # the user's file is untouched
    # Held back: written only when the user takes it.
    fixes = store.similar_fixes(found.suggestion.fix.record.signature, "", "python")
    assert [fix.uses for fix in fixes] == [found.suggestion.fix.uses]


def test_with_nothing_remembered_the_sandbox_runs_nothing(
    tmp_path: Path, pool: SandboxPool, store: MemoryStore
) -> None:
    tester = Noted(pool)
    assert _check(_project(tmp_path / "p"), tester, store).run() is None
    assert tester.runs == []


def test_a_given_first_run_is_not_run_again(
    tmp_path: Path, pool: SandboxPool, store: MemoryStore
) -> None:
    _learn(_project(tmp_path / "first"), pool, store)
    again = _project(tmp_path / "again")
    saved = run_tests(pool, again, [again / "calc.py"], COMMAND)
    tester = Noted(pool)

    given = GivenBaseline(saved.result, saved.selection.command)
    found = _check(again, tester, store, given=given).run()

    assert found is not None and found.changes == {"calc.py": RIGHT}
    assert all(changes for _, changes in tester.runs)  # no run of the unchanged code


def test_a_remembered_fix_that_fails_here_counts_against_it(
    tmp_path: Path, pool: SandboxPool, store: MemoryStore
) -> None:
    _learn(_project(tmp_path / "first"), pool, store)
    # Here the tests want the value past the range kept: the remembered fix fails them.
    other = TESTS.replace("assert clamp(11, 0, 10) == 10", "assert clamp(11, 0, 10) == 11")
    here = _project(tmp_path / "here", tests=other)
    tester = Noted(pool)
    check = _check(here, tester, store)

    assert check.run() is None

    assert [bool(changes) for _, changes in tester.runs] == [False, True]  # never the suite
    suggested = check.memory.suggested
    assert suggested is not None and suggested.candidate.changes == {"calc.py": RIGHT}
    [fix] = store.similar_fixes(suggested.fix.record.signature, "", "python")
    assert (fix.uses, fix.failed_reuses) == (1, 1)


def test_a_cancelled_check_offers_nothing_and_counts_nothing(
    tmp_path: Path, pool: SandboxPool, store: MemoryStore
) -> None:
    _learn(_project(tmp_path / "first"), pool, store)
    check = _check(_project(tmp_path / "again"), Noted(pool), store)
    check.cancel()

    assert check.run() is None
    assert check.memory.suggested is None  # memory was never asked

    found = _check(_project(tmp_path / "later"), Noted(pool), store).run()
    assert found is not None
    assert (found.suggestion.fix.uses, found.suggestion.fix.failed_reuses) == (1, 0)
