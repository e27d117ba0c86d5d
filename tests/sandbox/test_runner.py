"""Running candidates: structured results for pytest, node --test and any other command."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.sandbox import Outcome, SandboxConfig, SandboxPool
from tests.sandbox.projects import CALC_BROKEN, calc_project, node_project

pytestmark = pytest.mark.slow

CALC_IDS = {
    "tests/test_calc.py::test_add",
    "tests/test_calc.py::test_sub",
    "tests/test_calc.py::test_mul",
    "tests/test_calc.py::test_div",
    "tests/test_calc.py::TestClamp::test_clamp",
}


@pytest.fixture(scope="module", params=["forkserver", "exec"])
def any_pool(request: pytest.FixtureRequest) -> Iterator[SandboxPool]:
    """Both ways of running pytest: forked from a warm agent, and a fresh process."""
    config = SandboxConfig(
        timeout_seconds=30, parallel=2, pytest_forkserver=request.param == "forkserver"
    )
    with SandboxPool(config) as pool:
        yield pool


def test_a_passing_candidate_reports_every_test_passed(any_pool: SandboxPool, calc: Path) -> None:
    result = any_pool.run(calc, {}, "pytest -q")
    assert result.passed, result.output.text
    assert result.report_format == "junit"
    assert {case.test_id for case in result.cases} == CALC_IDS
    assert result.count(Outcome.PASSED) == 5
    assert result.exit_code == 0
    assert 0 < result.duration < 10


def test_a_failing_candidate_reports_failures_at_the_users_lines(
    any_pool: SandboxPool, calc: Path
) -> None:
    result = any_pool.run(calc, {"calc.py": CALC_BROKEN}, "python -m pytest")
    assert not result.passed
    assert result.exit_code == 1
    outcomes = {case.test_id: case.outcome for case in result.cases}
    assert outcomes["tests/test_calc.py::test_add"] == Outcome.FAILED
    assert outcomes["tests/test_calc.py::test_sub"] == Outcome.PASSED
    div = next(case for case in result.failures if case.test_id.endswith("test_div"))
    assert "ZeroDivisionError" in div.message
    user_frames = [(frame.path, frame.line) for frame in div.frames if frame.in_project]
    assert user_frames == [
        (str(calc / "tests" / "test_calc.py"), 17),
        (str(calc / "calc.py"), 14),
    ]
    assert "/work/" not in result.output.text  # paths in the output are the user's too


def test_named_tests_run_though_one_of_them_is_no_longer_collected(
    any_pool: SandboxPool, calc: Path
) -> None:
    """A test id made of the time changes from one run to the next: naming the old one
    beside others must still run those others (pytest alone stops with exit 4)."""
    command = (
        "python -m pytest -q tests/test_calc.py::test_add 'tests/test_calc.py::test_gone[12:00]'"
        " tests/test_calc.py::TestClamp 'tests/test_calc.py::test_sub'"
    )
    result = any_pool.run(calc, {"calc.py": CALC_BROKEN}, command)
    outcomes = {case.test_id: case.outcome for case in result.cases}
    assert outcomes == {
        "tests/test_calc.py::test_add": Outcome.FAILED,
        "tests/test_calc.py::TestClamp::test_clamp": Outcome.PASSED,
        "tests/test_calc.py::test_sub": Outcome.PASSED,
    }
    assert result.exit_code == 1
    assert "2 deselected" in result.output.text  # test_mul and test_div, not asked for


def test_skipped_tests_are_reported_as_skipped(pool: SandboxPool, calc: Path) -> None:
    skipping = "import pytest\n\n@pytest.mark.skip(reason='later')\ndef test_later():\n    pass\n"
    result = pool.run(calc, {"tests/test_skip.py": skipping}, "pytest -q")
    later = next(case for case in result.cases if case.test_id.endswith("test_later"))
    assert later.outcome == Outcome.SKIPPED
    assert result.passed


def test_a_collection_error_is_an_error_not_a_pass(pool: SandboxPool, calc: Path) -> None:
    result = pool.run(calc, {"calc.py": "def add(a, b)\n    return a + b\n"}, "pytest -q")
    assert not result.passed
    errors = {case.test_id for case in result.cases if case.outcome == Outcome.ERROR}
    assert errors == {"tests/test_calc.py"}
    assert "SyntaxError" in result.output.text


def test_node_test_results_come_from_its_reporter(pool: SandboxPool, tmp_path: Path) -> None:
    project = node_project(tmp_path)
    broken = {"math.js": "function add(a, b) { return a - b; }\nmodule.exports = { add };\n"}
    result = pool.run(project, broken, "node --test")
    assert result.report_format == "node"
    outcomes = {case.test_id: case.outcome for case in result.cases}
    assert outcomes["test/math.test.js::adds"] == Outcome.FAILED
    assert outcomes["test/math.test.js::not yet"] == Outcome.SKIPPED
    assert outcomes["test/math.test.js::group > inner"] == Outcome.FAILED
    adds = next(case for case in result.cases if case.test_id.endswith("::adds"))
    assert "-1 !== 3" in adds.message
    assert (str(project / "test" / "math.test.js"), 5) in [(f.path, f.line) for f in adds.frames]
    fixed = pool.run(project, {}, "node --test")
    assert fixed.passed
    assert fixed.count(Outcome.PASSED) == 3  # adds, group, group > inner


def test_any_other_command_is_judged_by_its_exit_code(pool: SandboxPool, calc: Path) -> None:
    failing = pool.run(calc, {"check.py": "raise SystemExit(3)\n"}, "python3 check.py")
    assert failing.exit_code == 3
    assert failing.report_format == "exit-code"
    assert not failing.passed
    passing = pool.run(calc, {}, "sh -c 'test -f calc.py && echo found'")
    assert passing.passed
    assert "found" in passing.output.text


def test_hypothesis_properties_run_with_their_plugin(any_pool: SandboxPool, calc: Path) -> None:
    prop = (
        "from hypothesis import given, strategies as st\n"
        "from calc import add\n\n"
        "@given(st.integers(), st.integers())\n"
        "def test_commutes(a, b):\n"
        "    assert add(a, b) == add(b, a)\n"
    )
    good = any_pool.run(calc, {"tests/test_prop.py": prop}, "pytest -v tests/test_prop.py")
    assert good.passed, good.output.text
    assert "hypothesis profile 'default'" in good.output.text  # the plugin's report header
    assert "Warning" not in good.output.text
    bad = any_pool.run(
        calc,
        {"tests/test_prop.py": prop, "calc.py": CALC_BROKEN},
        "pytest -q tests/test_prop.py",
    )
    assert not bad.passed
    assert "Falsifying example" in bad.failures[0].message + bad.output.text


def test_changed_files_may_be_given_by_absolute_path(pool: SandboxPool, calc: Path) -> None:
    result = pool.run(calc, {str(calc / "calc.py"): CALC_BROKEN}, "pytest -q")
    assert result.count(Outcome.FAILED) == 2


def test_the_users_edits_on_disk_reach_the_next_candidate(
    pool: SandboxPool, tmp_path: Path
) -> None:
    project = calc_project(tmp_path)
    assert pool.run(project, {}, "pytest -q").passed
    (project / "calc.py").write_text(CALC_BROKEN)
    assert not pool.run(project, {}, "pytest -q").passed


def test_the_output_keeps_head_and_tail(pool: SandboxPool, calc: Path) -> None:
    result = pool.run(calc, {}, "pytest -v")
    assert result.output.text.startswith("=")  # pytest's session header
    assert "5 passed" in result.output.text


def test_interpreter_variables_of_the_command_take_effect(
    any_pool: SandboxPool, tmp_path: Path
) -> None:
    """`PYTHONPATH=lib pytest` is common: it must work with the warm runner too. (Not
    `src`: the sandbox puts a src layout on the path by itself, as an install would.)"""
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "lib.py").write_text("ANSWER = 42\n")
    (tmp_path / "tests").mkdir()
    test = "import lib\n\ndef test_answer():\n    assert lib.ANSWER == 42\n"
    (tmp_path / "tests" / "test_lib.py").write_text(test)
    assert not any_pool.run(tmp_path, {}, "pytest -q").passed
    result = any_pool.run(tmp_path, {}, "PYTHONPATH=code pytest -q")
    assert result.passed, result.output.text


def test_hypothesis_is_warmed_only_when_pytest_loads_no_plugins_itself() -> None:
    """With auto-loading, pytest marks a plugin's whole distribution for rewriting: a
    hypothesis imported already warns, which `filterwarnings = error` makes fatal."""
    from pathlib import Path

    from fixloop.sandbox.commands import parse_command
    from fixloop.sandbox.config import SandboxConfig
    from fixloop.sandbox.runner import plan_candidate

    def preimported(autoload: bool) -> list[str]:
        plan = plan_candidate(
            command=parse_command("python -m pytest -q"),
            changes={},
            config=SandboxConfig(pytest_autoload_plugins=autoload),
            project_root=Path("/project"),
            base="/work/base-1",
            slot=0,
            timeout=10,
            uses_hypothesis=True,
        )
        return list(plan.request["preimport"])

    assert preimported(autoload=False) == ["pytest", "hypothesis"]
    assert preimported(autoload=True) == ["pytest"]


# Stuck where the timeout's signal never lands (it is blocked; in C code it is not
# delivered): only the run's limit ends it, faulthandler's dump says where.
STUCK = (
    "import signal, time\n\n\n"
    "def test_stuck():\n"
    "    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\n"
    "    time.sleep(60)\n"
)


def test_a_hang_the_timeout_cannot_interrupt_still_shows_where_it_is_stuck(
    pool: SandboxPool, tmp_path: Path
) -> None:
    """A test stuck where the timeout's signal never lands (here it is blocked; in C code
    it is not delivered) is killed at the run's limit, its stack dumped first."""
    (tmp_path / "test_stuck.py").write_text(STUCK)
    result = pool.run(tmp_path, {}, "pytest -q", timeout=6, test_timeout=1)
    assert result.timed_out
    text = result.output.text
    assert "Timeout (0:00:03)!" in text, text
    assert 'test_stuck.py", line 6 in test_stuck' in text, text


def test_a_hang_after_many_quick_tests_is_dumped_by_a_watchdog_not_restarted_per_test(
    pool: SandboxPool, tmp_path: Path
) -> None:
    """The stack dump's watchdog thread was started and joined around every test: 0.8 s
    of dateutil's 5 s suite. Quick tests now share one (each notes the threads it sees
    besides its own), and a hang after them is still dumped where it is stuck."""
    (tmp_path / "test_many.py").write_text(
        "import os, threading\n\n"
        "import pytest\n\n"
        "SEEN = set()\n\n\n"
        "@pytest.mark.parametrize('n', range(60))\n"
        "def test_quick(n):\n"
        "    others = set(os.listdir('/proc/self/task')) - {str(threading.get_native_id())}\n"
        "    SEEN.update(others)\n\n\n"
        "def test_few_watchdogs():\n"
        "    assert 1 <= len(SEEN) <= 3, SEEN\n"
    )
    quick = pool.run(tmp_path, {}, "pytest -q test_many.py", test_timeout=5)
    assert quick.passed and quick.count(Outcome.PASSED) == 61, quick.output.text
    (tmp_path / "test_stuck.py").write_text(STUCK)
    result = pool.run(tmp_path, {}, "pytest -q", timeout=8, test_timeout=1)
    assert result.timed_out
    assert 'test_stuck.py", line 6 in test_stuck' in result.output.text, result.output.text


def test_a_test_a_class_inherits_from_another_module_is_named_as_pytest_selects_it(
    pool: SandboxPool, tmp_path: Path
) -> None:
    """cachetools' suites: the test methods live in a mixin of `tests/__init__.py`; the
    JUnit report names their file, but pytest selects them by the class's module."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text(
        "class CacheTests:\n    def test_size(self):\n        assert self.size() == 2\n"
    )
    (tmp_path / "tests" / "test_lru.py").write_text(
        "from . import CacheTests\n\n\n"
        "class TestLRU(CacheTests):\n    def size(self):\n        return 3\n"
    )
    result = pool.run(tmp_path, {}, "python -m pytest -q tests")
    [case] = result.cases
    assert case.test_id == "tests/test_lru.py::TestLRU::test_size"
    assert case.outcome == Outcome.FAILED
    again = pool.run(tmp_path, {}, f"python -m pytest -q {case.test_id}")
    assert [c.test_id for c in again.cases] == [case.test_id] and again.exit_code == 1


def test_a_suite_whose_report_is_large_is_counted_whole(pool: SandboxPool, tmp_path: Path) -> None:
    """packaging's 62,000 tests write a JUnit report of more than 8 MB: cut there, it was
    no report at all, and the whole suite for a fix said "6198 passed" (one shard's), its
    failures past the cut nameless. Here 3,000 tests with long ids, the last one failing."""
    (tmp_path / "test_many.py").write_text(
        "import pytest\n\n\n"
        "@pytest.mark.parametrize('case', [f'{i:04d}' + 'x' * 2000 for i in range(3000)])\n"
        "def test_case(case):\n"
        "    assert not case.startswith('2999')\n"
    )
    result = pool.run(tmp_path, {}, "python -m pytest -q", timeout=120)
    assert (result.count(Outcome.PASSED), result.count(Outcome.FAILED)) == (2999, 1)
    [failure] = result.failures
    assert failure.test_id.startswith("test_many.py::test_case[2999x")
