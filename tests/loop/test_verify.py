"""The verdict on candidates, in process: which whole-suite run makes a fix, which is a
regression, and when no patch can pass (verify.py's state machine; a scripted tester
stands in for the sandbox, whose runs the end-to-end tests cover)."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from fixloop.loop.model import Candidate
from fixloop.loop.ranking import Tried
from fixloop.loop.verify import DEFAULT_TEST_LIMIT, GivenBaseline, Verifier
from fixloop.sandbox.cancellation import Cancellation
from fixloop.sandbox.results import CandidateResult, CaseResult, Frame, Outcome

COMMAND = "python -m pytest -q"
SOURCES = {"shop.py": "def price(): ...\n"}
PASS, FAIL = Outcome.PASSED, Outcome.FAILED


def run(*cases: tuple[str, Outcome], timed_out: bool = False, message: str = "") -> CandidateResult:
    results = tuple(
        CaseResult(test, outcome, message if outcome is FAIL else "") for test, outcome in cases
    )
    failed = any(outcome is FAIL for _, outcome in cases)
    return CandidateResult(results, None if timed_out else int(failed), 1.0, timed_out=timed_out)


class Scripted:
    """A tester answering each (changed text, command) from a script; what ran, kept."""

    def __init__(self, script: Mapping[tuple[str, str], CandidateResult]) -> None:
        self.script = script
        self.runs: list[tuple[str, str]] = []

    def run(
        self, project_root: Path | str, changes: Mapping[str, str], command: str, **_: Any
    ) -> CandidateResult:
        key = (changes.get("shop.py", "unchanged"), command)
        self.runs.append(key)
        return self.script[key]


def verifier(tester: Scripted, given: GivenBaseline | None = None) -> tuple[Verifier, list[str]]:
    said: list[str] = []
    made = Verifier(
        Path("/project"),
        COMMAND,
        tester,
        parallel=1,
        test_timeout=None,
        targets=["shop.py"],
        given=given,
        cancelled=threading.Event(),
        stop_runs=Cancellation(),
        log=lambda event, **data: said.append(event),
    )
    return made, said


def tried(text: str) -> Tried:
    return Tried(Candidate({"shop.py": text}, text, "test"), run(("t.py::bug", PASS)))


def check(
    made: Verifier, baseline: CandidateResult, *texts: str
) -> tuple[list[Tried], list[tuple[str, str, int]]]:
    checked: list[tuple[str, str, int]] = []
    verified = made.best_without_regressions(
        [tried(text) for text in texts],
        baseline,
        SOURCES,
        5.0,
        lambda item, outcome, count: checked.append((item.candidate.description, outcome, count)),
    )
    return verified, checked


WHOLE = GivenBaseline(run(("t.py::bug", FAIL), ("t.py::ok", PASS)), COMMAND)
NARROW = GivenBaseline(run(("t.py::bug", FAIL)), f"{COMMAND} t.py")


GUARD = f"{COMMAND} t.py::ok -x --tb=native"
# The whole suite runs without pytest's assert rewriting; a failing test there is run
# again as the user's command runs it before it counts.
SUITE = f"{COMMAND} --assert=plain"
OK_AGAIN = f"{COMMAND} t.py::ok"


def test_the_first_candidate_that_breaks_nothing_is_the_fix_and_the_rest_never_run() -> None:
    tester = Scripted({
        ("wrong", SUITE): run(("t.py::bug", PASS), ("t.py::ok", FAIL)),
        ("wrong", OK_AGAIN): run(("t.py::ok", FAIL)),
        ("unchanged", OK_AGAIN): run(("t.py::ok", PASS)),  # traced: is the edit run?
        ("right", GUARD): run(("t.py::ok", PASS)),
        ("right", SUITE): run(("t.py::bug", PASS), ("t.py::ok", PASS)),
    })  # fmt: skip
    made, _ = verifier(tester, WHOLE)
    verified, checked = check(made, WHOLE.result, "wrong", "right", "never")
    assert [t.candidate.description for t in verified] == ["right"]
    assert verified[0].result.tally() == {"passed": 2, "failed": 0}  # the whole suite's
    assert checked == [("wrong", "regressions", 1), ("right", "verified", 0)]
    assert made.stop is None and ("never", SUITE) not in tester.runs


def test_a_test_a_candidate_broke_guards_the_rest_without_the_whole_suite() -> None:
    """dateutil: six candidates broke the same test, each found by a 3.5 s whole suite."""
    tester = Scripted({
        ("wrong", SUITE): run(("t.py::bug", PASS), ("t.py::ok", FAIL)),
        ("wrong", OK_AGAIN): run(("t.py::ok", FAIL)),
        ("unchanged", OK_AGAIN): run(("t.py::ok", PASS)),  # traced: is the edit run?
        ("wrong too", GUARD): run(("t.py::ok", FAIL)),
        ("right", GUARD): run(("t.py::ok", PASS)),
        ("right", SUITE): run(("t.py::bug", PASS), ("t.py::ok", PASS)),
    })  # fmt: skip
    made, said = verifier(tester, WHOLE)
    verified, checked = check(made, WHOLE.result, "wrong", "wrong too", "right")
    assert [t.candidate.description for t in verified] == ["right"]
    assert ("wrong too", COMMAND) not in tester.runs and ("wrong too", GUARD) in tester.runs
    assert checked[1] == ("wrong too", "regressions", 1) and "guards" in said
    # Later candidates run the guard after the failing tests, in one run.
    assert made.narrowed_command(WHOLE.result) == f"{COMMAND} -x --tb=native t.py::bug t.py::ok"


def test_a_test_that_ran_the_edited_line_rejects_a_wrong_patch_without_the_whole_suite() -> None:
    """pyjwt: a wrong patch of the line broke five tests of the same file, found by a
    whole suite of 5 s; the tests that ran the line on the unchanged code took 1 s."""
    spectrum = json.dumps({"root": "/project", "tests": [
        {"id": "t.py::bug", "outcome": "failed", "lines": {"shop.py": [1]}},
        {"id": "t.py::near", "outcome": "passed", "lines": {"shop.py": [1]}},
        {"id": "t.py::far", "outcome": "passed", "lines": {"other.py": [1]}},
    ]})  # fmt: skip
    baseline = replace(run(("t.py::bug", FAIL), ("t.py::near", PASS)), probe_data=spectrum)
    given = GivenBaseline(baseline, f"{COMMAND} t.py")
    near = f"{COMMAND} t.py::near -x --tb=native"
    tester = Scripted({
        ("wrong", near): run(("t.py::near", FAIL)),
        ("right", near): run(("t.py::near", PASS)),
        ("right", SUITE): run(("t.py::bug", PASS), ("t.py::near", PASS), ("t.py::far", PASS)),
    })  # fmt: skip
    made, said = verifier(tester, given)
    made.spectrum(baseline, SOURCES)
    verified, checked = check(made, baseline, "wrong", "right")
    assert [t.candidate.description for t in verified] == ["right"]
    assert checked == [("wrong", "regressions", 1), ("right", "verified", 0)]
    assert ("wrong", SUITE) not in tester.runs and "covering" in said
    # Later candidates run that test in their own run, after the failing one.
    assert made.narrowed_command(baseline).endswith("t.py::bug t.py::near")


def test_a_first_run_of_the_whole_suite_needs_no_run_of_the_tests_beside_the_line() -> None:
    spectrum = json.dumps({"root": "/project", "tests": [
        {"id": "t.py::bug", "outcome": "failed", "lines": {"shop.py": [1]}},
        {"id": "t.py::ok", "outcome": "passed", "lines": {"shop.py": [1]}},
    ]})  # fmt: skip
    baseline = replace(WHOLE.result, probe_data=spectrum)
    tester = Scripted({("right", SUITE): run(("t.py::bug", PASS), ("t.py::ok", PASS))})
    made, _ = verifier(tester, GivenBaseline(baseline, COMMAND))
    made.spectrum(baseline, SOURCES)
    verified, _ = check(made, baseline, "right")
    assert tester.runs == [("right", SUITE)] and len(verified) == 1


def test_a_test_the_first_run_never_saw_is_a_regression_only_if_it_passed_before() -> None:
    unchanged = f"{COMMAND} t.py::other"
    tester = Scripted({
        ("patch", SUITE): run(("t.py::bug", PASS), ("t.py::other", FAIL)),
        ("patch", unchanged): run(("t.py::other", FAIL)),
        ("unchanged", unchanged): run(("t.py::other", PASS)),
    })  # fmt: skip
    made, said = verifier(tester, NARROW)
    verified, checked = check(made, NARROW.result, "patch")
    assert verified == [] and checked == [("patch", "regressions", 1)]
    assert said == ["confirm", "unchanged", "regression"]

    tester.script = {**tester.script, ("unchanged", unchanged): run(("t.py::other", FAIL))}
    made, _ = verifier(tester, NARROW)
    verified, checked = check(made, NARROW.result, "patch")
    assert checked == [("patch", "verified", 0)]  # it failed before: no regression


def flaky_timing(traced_lines: list[int]) -> tuple[list[Tried], list[tuple[str, str, int]]]:
    """A patch of line 2 (a function's body) after which a timing test, passing before,
    fails twice; on the unchanged code it passes, having run `traced_lines`."""
    body, fixed = "def price():\n    return 1\n", "def price():\n    return 2\n"
    again = f"{COMMAND} t.py::timing"
    spectrum = json.dumps({"root": "/project", "tests": [
        {"id": "t.py::timing", "outcome": "passed", "lines": {"shop.py": traced_lines}},
    ]})  # fmt: skip
    tester = Scripted({
        (fixed, SUITE): run(("t.py::bug", PASS), ("t.py::ok", PASS), ("t.py::timing", FAIL)),
        (fixed, again): run(("t.py::timing", FAIL)),
        ("unchanged", again): replace(run(("t.py::timing", PASS)), probe_data=spectrum),
    })  # fmt: skip
    baseline = run(("t.py::bug", FAIL), ("t.py::ok", PASS), ("t.py::timing", PASS))
    made, _ = verifier(tester, GivenBaseline(baseline, COMMAND))
    checked: list[tuple[str, str, int]] = []
    verified = made.best_without_regressions(
        [Tried(Candidate({"shop.py": fixed}, "right", "test"), run(("t.py::bug", PASS)))],
        baseline,
        {"shop.py": body},
        5.0,
        lambda item, outcome, count: checked.append((item.candidate.description, outcome, count)),
    )
    return verified, checked


def test_a_test_failing_with_a_patch_whose_edits_it_never_runs_is_flaky_not_a_regression() -> None:
    """mistune: a timing test (`..._are_near_linear`) failed twice on a loaded machine
    and the patch restoring the original code was rejected as a regression."""
    verified, checked = flaky_timing([1])
    assert checked == [("right", "verified", 0)] and len(verified) == 1
    verified, checked = flaky_timing([1, 2])  # it runs the edited line: the patch's doing
    assert verified == [] and checked == [("right", "regressions", 1)]
    # It ran no line of the sources where the tracer sees: it may run them in a process
    # of its own (a command-line test), so its failure may be the patch's.
    verified, checked = flaky_timing([])
    assert verified == [] and checked == [("right", "regressions", 1)]


def test_after_a_first_run_cut_short_a_test_failing_with_and_without_the_patch_is_unfixed() -> None:
    tester = Scripted({
        ("unchanged", f"{COMMAND} --maxfail=5"): run(*((f"t.py::b{n}", FAIL) for n in range(5))),
        ("half", SUITE): run(*((f"t.py::b{n}", PASS) for n in range(5)), ("t.py::b5", FAIL)),
        ("half", f"{COMMAND} t.py::b5"): run(("t.py::b5", FAIL)),
        ("unchanged", f"{COMMAND} t.py::b5"): run(("t.py::b5", FAIL)),
    })  # fmt: skip
    made, _ = verifier(tester)
    made.targets = []  # no target to narrow the first run by: the whole suite, cut short
    baseline = made.baseline(lambda message: None)
    assert made.partial_baseline and made.narrowed_baseline()
    verified, checked = check(made, baseline, "half")
    assert verified == [] and checked == [("half", "failed", 0)]


def test_a_suite_that_times_out_without_the_patch_too_ends_the_session() -> None:
    tester = Scripted({
        ("patch", SUITE): run(timed_out=True),
        ("unchanged", SUITE): run(timed_out=True),
    })  # fmt: skip
    made, _ = verifier(tester, NARROW)
    verified, checked = check(made, NARROW.result, "patch", "other")
    assert verified == [] and checked == []
    assert made.stop is not None and made.stop.environment
    assert made.stop.message == "the tests time out as they are"
    assert ("other", COMMAND) not in tester.runs  # no other candidate pays for the suite


def test_a_candidate_whose_suite_alone_times_out_is_no_fix_and_the_next_one_is_tried() -> None:
    tester = Scripted({
        ("slow", SUITE): run(timed_out=True),
        ("unchanged", SUITE): run(("t.py::bug", FAIL), ("t.py::ok", PASS)),
        ("right", SUITE): run(("t.py::bug", PASS), ("t.py::ok", PASS)),
    })  # fmt: skip
    made, _ = verifier(tester, NARROW)
    verified, checked = check(made, NARROW.result, "slow", "right")
    assert checked == [("slow", "failed", 0), ("right", "verified", 0)]
    assert [t.candidate.description for t in verified] == ["right"] and made.stop is None


def test_a_test_hanging_outside_the_sources_with_and_without_the_patch_ends_the_session() -> None:
    stuck = (Frame("/project/clock.py", 5, in_project=True),)
    hung = CaseResult("t.py::waits", FAIL, "TestTimeout: the test ran past its 10 s limit", stuck)
    tester = Scripted({
        ("patch", SUITE): CandidateResult((CaseResult("t.py::bug", PASS), hung), 1, 1.0),
        ("patch", f"{COMMAND} t.py::waits"): CandidateResult((hung,), 1, 1.0),
        ("unchanged", f"{COMMAND} t.py::waits"): CandidateResult((hung,), 1, 1.0),
    })  # fmt: skip
    made, _ = verifier(tester, NARROW)
    verified, _ = check(made, NARROW.result, "patch")
    assert verified == [] and made.stop is not None and not made.stop.environment
    assert made.stop.message == (
        "no fix found: t.py::waits hangs in clock.py:5, outside the code under repair "
        "(shop.py), with the patch and without it"
    )


def test_candidates_run_the_failing_tests_stopping_at_the_first_failure() -> None:
    made, _ = verifier(Scripted({}), WHOLE)
    assert made.narrowed_command(WHOLE.result) == f"{COMMAND} -x --tb=native t.py::bug"
    mine = Verifier(
        Path("/project"), f"{COMMAND} --tb=long", Scripted({}), parallel=1, test_timeout=None,
        targets=[], given=None, cancelled=threading.Event(), stop_runs=Cancellation(),
        log=lambda event, **data: None,
    )  # fmt: skip
    assert mine.narrowed_command(WHOLE.result) == f"{COMMAND} --tb=long t.py::bug"


def test_a_test_failing_only_without_assert_rewriting_is_no_regression() -> None:
    """A test that reads pytest's assertion message passes only with the rewrite: run
    again as the user's command runs it, it passes, and the fix stands."""
    tester = Scripted({
        ("right", SUITE): run(("t.py::bug", PASS), ("t.py::ok", FAIL)),
        ("right", OK_AGAIN): run(("t.py::ok", PASS)),
    })  # fmt: skip
    made, said = verifier(tester, WHOLE)
    verified, checked = check(made, WHOLE.result, "right")
    assert checked == [("right", "verified", 0)]
    assert [t.candidate.description for t in verified] == ["right"] and "confirm" in said
    # mistune: "verified: 1154 passed, 2 failed" said of a patch whose suite all passed
    assert verified[0].result.tally() == {"passed": 2, "failed": 0}
    assert verified[0].result.passed


def test_a_users_own_assert_mode_is_kept_for_the_whole_suite() -> None:
    mine = Verifier(
        Path("/project"), f"{COMMAND} --assert=rewrite", Scripted({}), parallel=1,
        test_timeout=None, targets=[], given=None, cancelled=threading.Event(),
        stop_runs=Cancellation(), log=lambda event, **data: None,
    )  # fmt: skip
    assert mine.suite_command() == f"{COMMAND} --assert=rewrite"
    made, _ = verifier(Scripted({}), WHOLE)
    assert made.suite_command() == SUITE
    assert Verifier(
        Path("/project"), "npm test", Scripted({}), parallel=1, test_timeout=None, targets=[],
        given=None, cancelled=threading.Event(), stop_runs=Cancellation(),
        log=lambda event, **data: None,
    ).suite_command() == "npm test"  # fmt: skip


def test_the_localization_run_formats_failures_as_pythons_own_traceback() -> None:
    """Its failures are not read (the first run's frames localize): pytest's long
    traceback, formatted for each, only cost time. A user's own choice is kept."""
    made, _ = verifier(Scripted({}), None)
    assert made.spectrum_command() == f"{COMMAND} --tb=native"
    mine = Verifier(
        Path("/project"), f"{COMMAND} --tb=short", Scripted({}), parallel=1,
        test_timeout=None, targets=[], given=None, cancelled=threading.Event(),
        stop_runs=Cancellation(), log=lambda event, **data: None,
    )  # fmt: skip
    assert mine.spectrum_command() == f"{COMMAND} --tb=short"


def test_the_batches_of_a_session_run_in_the_same_threads_until_it_closes() -> None:
    """A thread per slot for the whole session: starting new ones for every batch cost
    milliseconds per batch, tens on a loaded machine."""
    threads: list[threading.Thread] = []

    class Recording(Scripted):
        def run(
            self, project_root: Path | str, changes: Mapping[str, str], command: str, **_: Any
        ) -> CandidateResult:
            threads.append(threading.current_thread())
            return run(("t.py::bug", FAIL))

    made = Verifier(
        Path("/project"), COMMAND, Recording({}), parallel=2, test_timeout=None,
        targets=["shop.py"], given=WHOLE, cancelled=threading.Event(),
        stop_runs=Cancellation(), log=lambda event, **data: None,
    )  # fmt: skip
    ended: list[str] = []
    for batch in range(3):
        candidates = [Candidate({"shop.py": f"{batch}-{n}"}, f"{batch}-{n}", "t") for n in range(4)]
        made.run_candidates(candidates, COMMAND, 5.0, lambda c, r, w: ended.append(c.description))
    assert len(ended) == 12 and len(set(threads)) <= 2
    made.close()
    assert not any(thread.is_alive() for thread in threads)


def test_failing_tests_that_pass_twice_on_the_unchanged_code_are_no_target() -> None:
    """mistune: a timing test failed in the first run only, beside the bug's test; as a
    target it failed the right patch (run under load), and a wrong one was offered."""
    spectrum = json.dumps({"root": "/project", "tests": [
        {"id": "t.py::timing", "outcome": "passed", "lines": {"shop.py": [1]}},
        {"id": "t.py::bug", "outcome": "failed", "lines": {"shop.py": [1]}},
    ]})  # fmt: skip
    baseline = run(("t.py::timing", FAIL), ("t.py::bug", FAIL), ("t.py::ok", PASS))
    again = ("unchanged", f"{COMMAND} t.py::timing")
    made, _ = verifier(Scripted({again: run(("t.py::timing", PASS))}), WHOLE)
    steady = made.without_flaky(baseline, spectrum)
    assert steady is not None and [c.test_id for c in steady.failures] == ["t.py::bug"]
    assert made.flaky == {"t.py::timing"} and made.narrowed_baseline()
    assert made.flaky_message().startswith("nothing to fix: t.py::timing failed")
    made, _ = verifier(Scripted({again: run(("t.py::timing", FAIL))}), WHOLE)
    assert made.without_flaky(baseline, spectrum) is None  # it fails after all: a bug
    failed = spectrum.replace('"passed"', '"failed"')
    assert made.without_flaky(baseline, failed) is None  # failed in the localization: no run


def test_a_patch_failing_many_tests_is_rejected_on_a_few_witnesses() -> None:
    """mistune: a wrong patch failed 256 tests; each was confirmed, then each run on the
    unchanged code, 70 s, before it was rejected. Five tell as much."""
    others = [f"t.py::o{n}" for n in range(8)]
    picked = others[::2]  # spread over the failures: the first few are often alike
    sample = f"{COMMAND} {' '.join(picked)}"
    suite = run(("t.py::bug", PASS), *((t, FAIL) for t in others))
    tester = Scripted({
        ("wrong", SUITE): suite,
        ("wrong", sample): run(*((t, FAIL) for t in picked)),
    })  # fmt: skip
    given = GivenBaseline(run(("t.py::bug", FAIL), *((t, PASS) for t in others)), COMMAND)
    made, _ = verifier(tester, given)
    verified, checked = check(made, given.result, "wrong")
    assert verified == [] and checked == [("wrong", "regressions", 8)]
    assert tester.runs == [("wrong", SUITE), ("wrong", sample)]

    # Unseen by a narrowed first run: a witness is one that passes on the unchanged code.
    tester = Scripted({
        ("wrong", SUITE): suite,
        ("wrong", sample): run(*((t, FAIL) for t in picked)),
        ("unchanged", sample): run(*((t, PASS) for t in picked)),
    })  # fmt: skip
    made, _ = verifier(tester, NARROW)
    verified, checked = check(made, NARROW.result, "wrong")
    assert verified == [] and checked == [("wrong", "regressions", 8)]
    assert ("unchanged", f"{COMMAND} {' '.join(others)}") not in tester.runs

    # Failing on the unchanged code too, after a first run cut short: left unfixed.
    tester.script = {**tester.script, ("unchanged", sample): run(*((t, FAIL) for t in picked))}
    made, _ = verifier(tester, NARROW)
    made.partial_baseline = True
    verified, checked = check(made, NARROW.result, "wrong")
    assert verified == [] and checked == [("wrong", "failed", 0)]


class Timed(Scripted):
    """A scripted tester whose t.py::slow takes 20 s: past any shorter per-test limit
    (the sandbox's is 10 s), it fails as the timeout plugin fails it."""

    needs = 20.0

    def run(
        self, project_root: Path | str, changes: Mapping[str, str], command: str, **kw: Any
    ) -> CandidateResult:
        result = super().run(project_root, changes, command)
        if (kw.get("test_timeout") or 10.0) >= self.needs:
            return result
        late = CaseResult("t.py::slow", FAIL, "TestTimeout: the test ran past its limit")
        cases = tuple(late if c.test_id == "t.py::slow" else c for c in result.cases)
        return CandidateResult(cases, 1, result.duration)


def test_a_slow_test_is_run_again_with_the_limit_the_whole_suite_gave_it() -> None:
    """pyparsing: a 7 s test (on a busy machine) passed the first run's limit once made
    slow; failing the whole suite once, it was run again with the candidates' tight
    limit, and then on the unchanged code with the sandbox's: each time past it, so
    "no fix found: ... hangs ..., with the patch and without it"."""
    again, traced = f"{COMMAND} t.py::slow", f"{COMMAND} t.py::slow"
    tester = Timed({
        ("right", SUITE): run(("t.py::bug", PASS), ("t.py::slow", FAIL)),
        ("right", again): run(("t.py::slow", PASS)),
        ("unchanged", traced): run(("t.py::slow", PASS)),
    })  # fmt: skip
    made, _ = verifier(tester, NARROW)
    made.tight, made.slow_limit = 2.0, 30.0
    verified, checked = check(made, NARROW.result, "right")
    assert made.stop is None and checked == [("right", "verified", 0)]
    assert verified[0].result.tally() == {"passed": 2, "failed": 0}


def slow_first_run(seconds: float) -> tuple[Verifier, list[str]]:
    """A whole suite whose first run sees t.py::slow past the sandbox's limit, a test
    that passes alone in `seconds`."""
    first = f"{COMMAND} --maxfail=5"
    tester = Timed({
        ("unchanged", first): run(("t.py::ok", PASS), ("t.py::slow", PASS)),
        ("unchanged", f"{COMMAND} t.py::slow"): CandidateResult(
            (CaseResult("t.py::slow", PASS, duration=seconds),), 0, seconds
        ),
    })  # fmt: skip
    made, said = verifier(tester)
    made.targets = []
    return made, said


def test_a_first_run_stopped_at_slow_tests_alone_runs_again_with_their_limit() -> None:
    """pyparsing, unchanged, on a busy machine: the first run stopped at two slow tests
    (46 tests of 2,167 run), every failure a "hang"; taken for the bug's, candidates
    were tried, and `>` for `>=` in correct code came closest. Run alone with more time,
    they pass: the first run then runs again with their limit, and passes."""
    made, said = slow_first_run(20.0)
    baseline = made.baseline(lambda message: None)
    assert [c.test_id for c in baseline.failures] == ["t.py::slow"] and made.partial_baseline
    healthy = made.without_slow(baseline)
    assert healthy is not None and healthy.passed and not made.partial_baseline
    assert said[-2:] == ["slow", "baseline_again"] and made.slow_limit == 60.0


def test_a_slow_tests_limit_in_the_suite_leaves_room_for_the_other_shards() -> None:
    """pyparsing: a test of 4.8 s alone ran past 3 times that (12 s) in the first run
    again, beside the other shard, on a busy machine: fixloop then "fixed" correct code."""
    made, _ = slow_first_run(5.0)
    healthy = made.without_slow(made.baseline(lambda message: None))
    assert healthy is not None and healthy.passed and healthy.tally()["passed"] == 2


class Limits(Scripted):
    """A scripted tester that also keeps each run's per-test limit and stop-at-hang."""

    def __init__(self, script: Mapping[tuple[str, str], CandidateResult]) -> None:
        super().__init__(script)
        self.limits: list[tuple[float | None, bool]] = []

    def run(
        self, project_root: Path | str, changes: Mapping[str, str], command: str, **kw: Any
    ) -> CandidateResult:
        self.limits.append((kw.get("test_timeout"), bool(kw.get("stop_at_hang"))))
        return super().run(project_root, changes, command)


def test_a_first_run_that_only_hangs_costs_twice_the_limit_to_be_told_from_a_slow_one() -> None:
    """dateutil's lex-hang: the bug loops forever in the first run's two failing tests.
    Run alone to tell slow from hung, they waited six times the limit (a minute by
    default) before the fix was searched; twice is enough room for a test that only
    shares the machine in the suite, and the run stops at the first hang."""
    hung = CaseResult("t.py::loops", FAIL, "TestTimeout: the test ran past its limit")
    tester = Limits({
        ("unchanged", f"{COMMAND} t.py::loops t.py::also"): CandidateResult((hung,), 1, 20.0),
    })  # fmt: skip
    made, _ = verifier(tester)
    first = CandidateResult((hung, replace(hung, test_id="t.py::also")), 1, 20.0)
    assert made.without_slow(first) is None  # hung, not slow: the bug's to fix
    assert tester.limits == [(2 * DEFAULT_TEST_LIMIT, True)]
