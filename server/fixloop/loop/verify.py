"""Verification: the tests that say whether a candidate is a fix, run as cheaply as the
verdict allows.

The first run of the unchanged code (the tests that import the targets, else the whole
suite; the caller's own run when it gave one), the candidates' runs of the failing tests
alone in parallel, and the whole suite once for the best of those that pass, with the
checks that keep a narrowed first run honest: a test it never ran that fails with the
patch is run on the unchanged code before it counts as a regression, and a suite that
hangs or times out without the patch too ends the session with that reason.

The fix session (engine.py) generates, localizes, ranks and remembers; this module knows
nothing of generators or memory: what it learns of each run goes back through callbacks.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fixloop.failures.related import narrower_than_suite, select_tests
from fixloop.loop.localize import RunCoverage, read_spectrum, spectrum_probe
from fixloop.loop.model import Candidate
from fixloop.loop.ranking import Tried
from fixloop.memory.records import common_ends
from fixloop.memory.signature import enclosing_function
from fixloop.sandbox.cancellation import Cancellation
from fixloop.sandbox.commands import CommandKind, parse_command, with_tests
from fixloop.sandbox.results import (
    CandidateResult,
    CaseResult,
    Outcome,
    ShardingTester,
    Tester,
    WarmingTester,
    with_outcomes_of,
)
from fixloop.words import first_and_more

# The first run of the whole suite stops after this many failing tests: enough to
# localize and to fix.
BASELINE_MAX_FAILURES = 5
# Regressions of a patch looked into for tests that never run what it edits (flaky ones)
# at most: one traced run of them on the unchanged code. More are the patch's.
UNTOUCHED_MAX = 3
# Failing tests of a whole-suite run tried first for a regression, when there are more.
WITNESSES = 5
# The first run of the target's own tests stops after this many: it finds every test the
# bug fails there, so that a candidate fixing five of them is not taken for the fix (a
# whole suite's run to find out); only a few more tracebacks to format.
RELATED_MAX_FAILURES = 100
# Groups of passing candidates (`parallel` each) run against the whole suite at most.
REGRESSION_GROUPS = 3
# A test past its limit fails with this in its message (sandbox/_pytest_timeout.py).
TIMEOUT_MARK = "TestTimeout"
DEFAULT_TEST_LIMIT = 10.0
# A test that ran past the per-test limit is run again alone with this many times the
# limit: one that passes then is slow, not hung. Alone, a test has a slot to itself
# (pyparsing's slowest: 4.8 s alone, past 12 s beside the other shard on a busy
# machine); and a test that does hang, the bug's endless loop most often, costs this
# once before its fix is searched (six times cost dateutil's lex-hang a minute).
SLOW_CHECK_FACTOR = 2.0
# A slow test's limit in later whole-suite runs: this many times its time alone.
SLOW_FACTOR = 6.0
# Passing tests traced beside the failing ones for the spectrum, at most.
SPECTRUM_PASSING = 100
# pytest options that say how failures are reported: a user's choice is kept.
_FAILURE_OPTIONS = ("-x", "--exitfirst", "--maxfail", "--tb", "--full-trace", "-l", "--showlocals")


def timed_out(case: CaseResult) -> bool:
    """Whether a test failed by running past its limit (the sandbox's timeout plugin)."""
    return case.outcome is not Outcome.PASSED and TIMEOUT_MARK in case.message


def result_data(result: CandidateResult) -> dict[str, Any]:
    """A test run as the session log keeps it."""
    return {
        "passed": result.passed,
        "summary": result.summary(),
        "tests": result.tally(),
        "failing": [c.test_id for c in result.failures][:20],
        "duration": round(result.duration, 3),
    }


@dataclass(frozen=True)
class GivenBaseline:
    """A test run the caller already made of the project as it is on disk now (the
    editor's run on save): the session starts from it and runs no baseline of its own.

    `command` is what ran: the session's test command, or that command followed by the
    tests it was narrowed to (the related tests, see fixloop.failures.related). Narrowed
    is enough for most of what a baseline is for: its failures are the ones to fix, and
    name the tests each candidate runs; its coverage probe, when it had one (else the
    traceback frames alone), localizes among the tests that concern the code; its early
    verdicts ("already pass", the environment) speak of the tests it ran. Two things need
    the tests it did not run. Regressions: a candidate's whole-suite run that fails one of
    them runs those tests on the unchanged code (once per session), so that a test that
    failed before is no regression and one that passed before is. The whole suite's
    timeout: the related tests' time says nothing of it, so it is the sandbox's own.
    """

    result: CandidateResult
    command: str

    def is_of(self, test_command: str) -> bool:
        """Whether this run was of `test_command`, whole or narrowed to some of its tests."""
        command, own = self.command.strip(), test_command.strip()
        return command == own or command.startswith(own + " ")


def checked_baseline(given: GivenBaseline | None, test_command: str) -> GivenBaseline | None:
    """A given baseline must come from the session's command, whole or narrowed to some of
    its tests; anything else says nothing of the tests the session verifies against."""
    if given is None:
        return None
    if not given.is_of(test_command):
        raise ValueError(
            f"the given baseline ran {given.command!r}: not the session's test command "
            f"{test_command!r}, whole or narrowed to some of its tests"
        )
    return replace(given, command=given.command.strip())


@dataclass(frozen=True)
class Stop:
    """Why the session ends without a fix, found while verifying: no patch of the targets
    can pass the suite (`environment`: the suite itself cannot run as it is)."""

    message: str
    environment: bool = False


# What verification says of one candidate's whole-suite run: "failed", "regressions" or
# "verified", with the number of regressions (memory keeps it).
Checked = Callable[[Tried, str, int], None]
Say = Callable[..., None]  # (event, **data): the session's log


class Verifier:
    """The sandbox runs of one session; thread-safe to cancel (`cancelled`, `stop_runs`)."""

    def __init__(
        self,
        project_root: Path,
        test_command: str,
        tester: Tester,
        *,
        parallel: int,
        test_timeout: float | None,
        targets: Sequence[str],
        given: GivenBaseline | None,
        cancelled: threading.Event,
        stop_runs: Cancellation,
        log: Say,
    ) -> None:
        self.project_root = project_root
        self.test_command = test_command
        self.tester = tester
        self.parallel = max(1, parallel)
        self.test_timeout = test_timeout  # the budget's per-run limit (None: measured)
        self.targets = list(targets)
        self.given = checked_baseline(given, test_command)
        self._cancelled = cancelled
        self._stop_runs = stop_runs
        self._log = log
        self.partial_baseline = False  # the first run stopped early, or ran some tests
        self._first_command = test_command  # what the first run ran (before its --maxfail)
        self.stop: Stop | None = None
        self._unchanged: dict[str, CaseResult] = {}
        # The lines of the sources each of those tests ran on the unchanged code (traced).
        self._unchanged_lines: dict[str, frozenset[tuple[str, int]]] = {}
        # Tests the first run left out that fail with and without the verified patch and
        # never run a line it edits: not this bug's (a program the sandbox lacks, a test
        # that needs the network); told to the user, not counted against the patch.
        self.failing_regardless: set[str] = set()
        # Tests that failed with the verified patch, passed without it, and never run a
        # line it edits when run alone on the unchanged code (traced): a deterministic
        # test cannot, so they are flaky (timing, load); told, not counted against it.
        self.untouched_failures: set[str] = set()
        # Failing tests of the first run that passed twice on the unchanged code after it
        # (without_flaky): not this bug's, not the candidates' targets.
        self.flaky: set[str] = set()
        # Test modules that cannot be imported here on the unchanged code, for a reason in
        # the environment, with that reason (first_run.uncollectable): no patch is asked
        # to fix them, and their errors in a whole-suite run are not held against one.
        self.uncollectable: dict[str, str] = {}
        self._unchanged_suite: CandidateResult | None = None
        self.tight: float | None = None  # each test's limit for the candidates
        # Each test's limit in whole-suite runs, when the suite has a test slower than the
        # sandbox's (see without_slow); None: the sandbox's.
        self.slow_limit: float | None = None
        # Tests past the limit on the unchanged code, run alone there with more time:
        # their time when they passed, None when they hang (see _with_more_time).
        self._more_time: dict[str, float | None] = {}
        # Tests beyond the failing ones that a whole-suite run showed a candidate breaking
        # (or still failing): each later candidate runs them too, after the failing tests,
        # so that the same mistake costs a few milliseconds, not the whole suite again.
        self.guards: list[str] = []
        # The passing tests of the localization run (on the unchanged code) that ran each
        # line of the sources: a candidate that edits the line runs them before the whole
        # suite, as most regressions of a one-line edit are in the tests that run the line.
        self._covering: dict[tuple[str, int], list[str]] = {}
        # The lines each test of the localization run ran (the same run, parsed once).
        self._localized: dict[str, frozenset[tuple[str, int]]] = {}
        # The candidates' runs, one thread per slot for the whole session: a pool of its
        # own per batch started two threads for every sixteen candidates, each start a
        # wait of milliseconds (tens on a loaded machine) before the batch could begin.
        self._runs: ThreadPoolExecutor | None = None

    def close(self) -> None:
        """End the threads the candidates ran in (the session is over; a run still going,
        when a run's error ended it, is waited for, as a pool per batch did)."""
        if self._runs is not None:
            self._runs.shutdown(wait=True)
            self._runs = None

    def is_pytest(self) -> bool:
        return parse_command(self.test_command).kind is CommandKind.PYTEST

    # --- the first run ----------------------------------------------------------------

    def baseline(self, announce: Callable[[str], None]) -> CandidateResult:
        """The tests on the code as it is: the caller's run when it gave one. Untraced,
        and stopping after a few failures: what to fix is known then, and the rest of the
        suite runs once, for the winner. First the tests that import the targets, when
        they are fewer than the suite: a bug in the targets most often fails those, and
        the rest of the suite need not run twice."""
        if self.given is not None:
            announce("starting from the tests run already")
            return self.given.result
        if not self.is_pytest():
            announce("running the tests as they are")
            return self._first_run(self.test_command, BASELINE_MAX_FAILURES)
        related = self._related_command()
        if related is not None:
            announce("running the tests of the code under repair")
            self._first_command = related
            result = self._first_run(related, RELATED_MAX_FAILURES)
            stopped = result.cancelled or result.infrastructure_error or result.timed_out
            if result.failures or stopped or result.out_of_memory:
                self.partial_baseline = True
                return result
        announce("running the tests as they are")
        self._first_command = self.test_command
        result = self._first_run(self.test_command, BASELINE_MAX_FAILURES)
        # It stopped early: at its fifth failure (in a shard: five in all is the sign), or
        # at a test that hung (the sandbox's timeout plugin ends the run there).
        self.partial_baseline = _stopped_early(result)
        return result

    def _first_run(
        self, command: str, max_failures: int, test_timeout: float | None = None
    ) -> CandidateResult:
        """The unchanged code's tests, stopping after `max_failures` or at a hang (pytest),
        split across the sandbox's slots when it can."""
        run: Callable[..., CandidateResult] = self.tester.run
        if self.is_pytest():
            command = f"{command} --maxfail={max_failures}"
            if isinstance(self.tester, ShardingTester):
                run = self.tester.run_sharded
        return run(
            self.project_root,
            {},
            command,
            timeout=self.test_timeout,
            cancel=self._stop_runs,
            test_timeout=test_timeout,
            stop_at_hang=True,
        )

    def _first_limit(self) -> int:
        """The failures the first run's command stops at (the whole suite's, or the
        target's own tests')."""
        whole = self._first_command == self.test_command
        return BASELINE_MAX_FAILURES if whole else RELATED_MAX_FAILURES

    def _related_command(self) -> str | None:
        """The test command narrowed to the test files that import the targets; None when
        that is the whole suite (or there is no target to go by)."""
        # A test file stands for itself (the fix is then sought in the code it runs); a
        # folder, for the whole suite.
        sources = [self.project_root / t for t in self.targets]
        if not sources or not all(source.is_file() for source in sources):
            return None
        selection = select_tests(self.project_root, sources, self.test_command)
        narrower = narrower_than_suite(self.project_root, selection)
        return selection.command if narrower else None

    def narrowed_baseline(self) -> bool:
        """Whether the first run ran only some of the tests (a given related-tests run, one
        of the targets' own tests, or one that stopped after its first failures)."""
        if self.partial_baseline:
            return True
        return self.given is not None and self.given.command != self.test_command.strip()

    def spectrum(self, baseline: CandidateResult, sources: Mapping[str, str]) -> str | None:
        """Which lines of the sources each test runs, for Ochiai: from the given baseline
        when it recorded them, else from a run of the failing tests' files alone, traced
        in the sources alone (the rest of the suite and the libraries run untraced)."""
        if self.given is not None or not self.is_pytest():
            if self.is_pytest():
                self._read_localization(baseline.probe_data)
            return baseline.probe_data
        failing = [c.test_id for c in baseline.failures if "::" in c.test_id]
        files = {test.split("::")[0] for test in failing}
        if not failing:
            return None
        # The failing tests and the passing ones beside them that the baseline ran: enough
        # for Ochiai to tell the lines they share from those only the failures run. With
        # no source to go by, their files whole: every line of the project is a suspect,
        # and each passing test more tells some of them apart.
        passing = [
            c.test_id
            for c in baseline.cases
            if c.outcome is Outcome.PASSED and c.test_id.split("::")[0] in files
        ][:SPECTRUM_PASSING]
        tests = [*failing, *passing] if sources else sorted(files)
        command = with_tests(self.spectrum_command(), tests)
        result = self.tester.run(
            self.project_root,
            {},
            command,
            timeout=self.suite_timeout(None),
            probe=spectrum_probe(sorted(sources)),
            cancel=self._stop_runs,
            test_timeout=self.test_limit(baseline),
        )
        self._log("localize", command=command, **result_data(result))
        self._read_localization(result.probe_data)
        return result.probe_data

    def _read_localization(self, spectrum: str | None) -> None:
        runs = spectrum_runs(spectrum, self.project_root)
        self._covering = covering_tests(runs)
        self._localized = {run.test_id: run.lines for run in runs}

    def _never_ran_sources(self, test_id: str) -> bool:
        """Whether the localization traced this test and it ran no line of the sources."""
        return test_id in self._localized and not self._localized[test_id]

    def without_unreached(
        self, baseline: CandidateResult, spectrum: str | None, sources: Mapping[str, str]
    ) -> tuple[CandidateResult, str | None] | None:
        """The first run without its failing tests that never ran a line of the sources
        (traced by the localization): no edit there can fix them (the sandbox lacks a
        program, or a test needs the network); they are checked like the tests the first
        run left out, when the whole suite runs for a fix. Only when some failing test
        does run the sources, or the first run stopped at its limit of failures before
        any did: it is then run again without them, to find the failures that do. None
        when nothing changes (every failing test runs the sources, or none does: a test
        that runs the code in a process of its own is not traced)."""
        if not self.is_pytest() or not spectrum:
            return None
        failing = [c.test_id for c in baseline.failures]
        unreached = {t for t in failing if self._never_ran_sources(t)}
        if not unreached:
            return None
        if len(unreached) == len(failing):
            if not self.partial_baseline or self.given is not None:
                return None
            command = f"{self._first_command} {deselected(unreached)}"
            again = self._first_run(command, self._first_limit())
            if again.cancelled or again.infrastructure_error or not again.failures:
                return None
            baseline, spectrum = again, self.spectrum(again, sources)
            unreached = {c.test_id for c in again.failures if self._never_ran_sources(c.test_id)}
            if len(unreached) == len(again.failures):
                return None
        self._log("unreached", tests=sorted(unreached))
        self.partial_baseline = True  # the tests dropped are the whole suite's to check
        kept = tuple(c for c in baseline.cases if c.test_id not in unreached)
        return replace(baseline, cases=kept), spectrum

    def without_flaky(
        self, baseline: CandidateResult, spectrum: str | None
    ) -> CandidateResult | None:
        """The first run without its failing tests that passed in the localization's run
        of the unchanged code and again in a run of them alone as the user's command runs
        them: flaky (timing, load) or failing only after other tests. As targets, any patch
        would "pass" them, or one failing again would sink the right patch; they are
        checked like the tests the first run left out (`flaky` keeps them). None when
        every failure is steady, or the localization did not trace them."""
        ran = {run.test_id: run.failed for run in spectrum_runs(spectrum, self.project_root)}
        passed = sorted(c.test_id for c in baseline.failures if ran.get(c.test_id) is False)
        if not self.is_pytest() or not passed or not all("::" in t for t in passed):
            return None
        again = self.tester.run(
            self.project_root,
            {},
            with_tests(self.test_command, passed),
            timeout=self.suite_timeout(None),
            cancel=self._stop_runs,
            test_timeout=self.test_limit(baseline),
        )
        if again.cancelled or again.infrastructure_error or again.timed_out:
            return None
        flaky = {c.test_id for c in again.cases if c.outcome is Outcome.PASSED}
        if not flaky:
            return None
        self._log("flaky", flaky=sorted(flaky), **result_data(again))
        self.flaky = flaky
        self.partial_baseline = True  # the tests dropped are the whole suite's to check
        return replace(baseline, cases=tuple(c for c in baseline.cases if c.test_id not in flaky))

    def flaky_message(self) -> str:
        """Why there is nothing to fix when every failure of the first run was flaky."""
        return (
            f"nothing to fix: {first_and_more(sorted(self.flaky))} failed in the first run "
            "and passed twice when "
            "run again on the unchanged code (a flaky test, or one that fails only after "
            "other tests)"
        )

    def without_slow(
        self, baseline: CandidateResult, run_again: bool = True
    ) -> CandidateResult | None:
        """The first run with its slow tests passed: a test that ran past the per-test
        limit and passes when run alone with SLOW_CHECK_FACTOR times it is slow, not hung;
        later whole-suite runs give each test a limit above its time. When every failure
        was such a hang, they may be the bug's own (an endless loop): that run then stops
        at the first test that hangs again, for one limit's cost; and if every one was
        slow, the first run (which stopped at them) runs again with their limit, its
        failures the bug's. None when there is no slow test."""
        stuck = [c.test_id for c in baseline.failures if timed_out(c) and "::" in c.test_id]
        if not self.is_pytest() or not stuck:
            return None
        every = len(stuck) == len(baseline.failures)
        limit = SLOW_CHECK_FACTOR * self._sandbox_test_limit()
        again = self._alone(stuck, {}, limit, stop_at_hang=every)
        slow = {c.test_id: c.duration for c in again.cases if c.outcome is Outcome.PASSED}
        if not slow:
            return None
        # Alone, a test has a slot to itself; in a whole suite it shares the machine with
        # the other shards (pyparsing: 4.8 s alone, past 12 s in the suite).
        slowest = max(max(slow.values()), self.slow_limit or 0.0)
        limit = self._give_slow_tests(slowest, self._sandbox_test_limit())
        self._log("slow", slow=sorted(slow), limit=round(limit, 1), **result_data(again))
        cases = tuple(
            replace(case, outcome=Outcome.PASSED, message="", frames=(), duration=slow[t])
            if (t := case.test_id) in slow
            else case
            for case in baseline.cases
        )
        healthy = replace(baseline, cases=cases)
        if healthy.failures or self.given is not None:
            return healthy
        return self._first_run_again(healthy) if run_again else replace(healthy, exit_code=0)

    def _first_run_again(self, healthy: CandidateResult) -> CandidateResult:
        """The first run again with the slow tests' limit: it had stopped at them (pyparsing
        on a busy machine: 46 tests of 2,167 run, two slow ones taken for the bug)."""
        again = self._first_run(
            self._first_command, self._first_limit(), test_timeout=self.slow_limit
        )
        if again.cancelled or again.infrastructure_error or again.timed_out:
            return replace(healthy, exit_code=0)
        self._log("baseline_again", limit=self.slow_limit, **result_data(again))
        if self._first_command == self.test_command:
            self.partial_baseline = _stopped_early(again)
        # It may stop at other slow tests, past the first ones' limit: told apart once more.
        return self.without_slow(again, run_again=False) or again

    def spectrum_command(self) -> str:
        """The test command for the localization run, with Python's own traceback: only
        the lines each test runs are read of it (the failures' frames are the first
        run's), and pytest's long one, formatted for every failure, cost half its time.
        The user's own choice of how tests fail is kept."""
        if any(word.startswith(_FAILURE_OPTIONS) for word in self.test_command.split()):
            return self.test_command
        return f"{self.test_command} --tb=native"

    # --- the candidates -----------------------------------------------------------------

    def narrowed_command(self, baseline: CandidateResult) -> str:
        """The failing tests alone (pytest), so that each candidate costs little: stopping
        at the first that still fails, its traceback Python's own (pytest's long one costs
        tens of milliseconds a failure, and most candidates fail)."""
        ids = [c.test_id for c in baseline.failures if "::" in c.test_id]
        ids += [t for t in self.guards if t not in ids]
        narrowed = with_tests(self.test_command, ids)
        if narrowed == self.test_command:
            return narrowed
        if any(word.startswith(_FAILURE_OPTIONS) for word in narrowed.split()):
            return narrowed  # the user's own choice of how the tests fail
        return with_tests(f"{self.test_command} -x --tb=native", ids)

    def prewarm_soon(self, baseline: CandidateResult, *, leave_free: int = 0) -> None:
        """Get the sandbox's free slots ready for the candidates' runs of the failing
        tests, with the limits they will run with, from a thread of its own while the
        session localizes and generates: the first candidates then run warm too. A slot
        that cannot is left to the runs, which say why."""
        if not isinstance(self.tester, WarmingTester) or not self.is_pytest():
            return
        tester, root = self.tester, self.project_root
        command, limit = self.narrowed_command(baseline), self.test_limit(baseline)

        def prewarm() -> None:
            with suppress(Exception):
                tester.prewarm(
                    root,
                    command,
                    test_timeout=limit,
                    stop_at_hang=True,
                    leave_free=leave_free,
                    cancel=self._stop_runs,
                )

        threading.Thread(target=prewarm, name="fixloop-prewarm", daemon=True).start()

    def run_candidates(
        self,
        batch: Sequence[Candidate],
        command: str,
        timeout: float,
        on_result: Callable[[Candidate, CandidateResult, int], None],
    ) -> None:
        """Run the batch in parallel (`on_result` gets each as it ends, with how many are
        still waiting or running); no new run starts once cancelled."""
        pending = list(batch)
        if self._runs is None:
            self._runs = ThreadPoolExecutor(self.parallel, thread_name_prefix="fixloop-run")
        executor = self._runs
        running: dict[Future[CandidateResult], Candidate] = {}
        while pending or running:
            while pending and len(running) < self.parallel and not self._cancelled.is_set():
                candidate = pending.pop(0)
                future = executor.submit(self._run_candidate, candidate, command, timeout)
                running[future] = candidate
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                candidate = running.pop(future)
                on_result(candidate, future.result(), len(pending) + len(running))

    def _run_candidate(self, candidate: Candidate, command: str, timeout: float) -> CandidateResult:
        """A candidate's run with the tight per-test limit, which makes one that loops
        forever fail fast. When its only failure is a test past that limit stuck outside
        the files it edits (a test that sleeps once the code works: pyjwt's cache-expiry
        test, which failed at once with the bug), the run is made again with the suite's
        limit: that test was slow, not the candidate endless."""

        def run(test_timeout: float | None, more_time: float = 0.0) -> CandidateResult:
            return self.tester.run(
                self.project_root,
                candidate.changes,
                command,
                timeout=timeout + more_time,
                cancel=self._stop_runs,
                test_timeout=test_timeout,
                stop_at_hang=True,
            )

        result = run(self.tight)
        if not self._slow_beyond_tight(result, candidate):
            return result
        again = run(self.slow_limit, self._suite_test_limit())
        return result if again.cancelled or again.infrastructure_error else again

    def _slow_beyond_tight(self, result: CandidateResult, candidate: Candidate) -> bool:
        failures = result.failures
        tight = self.tight
        if tight is None or tight >= self._suite_test_limit() or result.cancelled or not failures:
            return False
        edited = set(candidate.changes)
        return all(
            timed_out(case) and not any(self.relative(f.path) in edited for f in case.frames)
            for case in failures
        )

    # --- the whole suite ----------------------------------------------------------------

    def best_without_regressions(
        self,
        ranked: Sequence[Tried],
        baseline: CandidateResult,
        sources: Mapping[str, str],
        timeout: float,
        checked: Checked,
    ) -> list[Tried]:
        """Run the whole suite on the best few candidates (in rank order) that fixed the
        failing tests, until one breaks no test which passed before; those that do not
        break any (at most one), their results the whole suite's. Tests that already
        failed for other reasons may go on failing. Sets `stop` when no patch can pass."""
        passed_before = {c.test_id for c in baseline.cases if c.outcome is Outcome.PASSED}
        ran_before = {c.test_id for c in baseline.cases}
        targets = {c.test_id for c in baseline.failures}
        suite_timeout = self.suite_timeout(timeout)
        verified: list[Tried] = []
        # When the best break a test, the next ones (a weak failing test lets several
        # wrong edits rank above the right one, never to be tried again).
        for item in ranked[: self.parallel * REGRESSION_GROUPS]:
            if self._cancelled.is_set() or verified:
                break
            if self._breaks_guards(item, timeout) or self._breaks_covering(item, sources, timeout):
                checked(item, "regressions", 1)
                continue
            full = self.whole_suite(item.candidate.changes, suite_timeout)
            if full.cancelled:
                break
            full = self._without_uncollectable(full)
            full = self._slow_in_suite(full, item.candidate.changes, baseline, sources)
            failing = {c.test_id for c in full.failures}
            if (
                full.timed_out
                and self.narrowed_baseline()
                and self._times_out_unchanged(suite_timeout)
            ):
                self.stop = Stop("the tests time out as they are", environment=True)
                break
            broken = full.infrastructure_error or full.timed_out or full.out_of_memory
            if broken or failing & targets or (not full.cases and not full.passed):
                checked(item, "failed", 0)
                continue
            before = (passed_before, ran_before)
            witnessed = self._witnesses(full, item.candidate.changes, before, sources)
            if witnessed is not None:
                outcome, witnesses = witnessed
                self._guard(witnesses)
                key = "witnesses" if outcome == "regressions" else "unfixed"
                self._log(
                    "regression",
                    description=item.candidate.description,
                    **{key: sorted(witnesses)},
                    **result_data(full),
                )
                checked(item, outcome, len(failing) if outcome == "regressions" else 0)
                continue
            full = self._confirmed(full, item.candidate.changes, timeout)
            failing = {c.test_id for c in full.failures}
            regardless: set[str] = set()
            if self.narrowed_baseline() and (unseen := failing - ran_before):
                # Regressions unless they failed on the unchanged code too.
                failed_before = self._failing_unchanged(unseen, sources)
                passed_before |= unseen - failed_before
                if self._cancelled.is_set():
                    break  # the unchanged code's run was stopped: no verdict
                if stuck := self._hanging_outside(failed_before, sources):
                    self.stop = Stop(stuck)
                    break
                reached = self._reaching(failed_before, sources, item.candidate.changes)
                if self.partial_baseline and reached:
                    # Tests of the suite the first run stopped short of, failing with the
                    # bug and with the patch, that run the lines it edits: a whole first
                    # run would have made them targets, so they still fail to be fixed.
                    self._guard(reached)
                    self._log(
                        "regression",
                        description=item.candidate.description,
                        unfixed=sorted(reached),
                        **result_data(full),
                    )
                    checked(item, "failed", 0)
                    continue
                regardless = failed_before - reached
            regressed = failing & passed_before
            untouched = self._untouched(regressed, sources, item.candidate.changes)
            regressed -= untouched
            regressions = len(regressed)
            self._guard(regressed)
            self._log(
                "regression",
                description=item.candidate.description,
                regressions=sorted(regressed),
                **({"failing_regardless": sorted(regardless)} if regardless else {}),
                **({"untouched": sorted(untouched)} if untouched else {}),
                **result_data(full),
            )
            checked(item, "regressions" if regressions else "verified", regressions)
            if not regressions:
                verified.append(replace(item, result=full))
                self.failing_regardless = regardless
                self.untouched_failures = untouched
        return verified

    def _slow_in_suite(
        self,
        full: CandidateResult,
        changes: Mapping[str, str],
        baseline: CandidateResult,
        sources: Mapping[str, str],
    ) -> CandidateResult:
        """A whole-suite run in which tests other than the failing ones ran past the
        per-test limit: those slow on the unchanged code (they passed there, in the first
        run or alone, with more time if need be, in at least 1/SLOW_FACTOR of the limit)
        run again on the patch with SLOW_FACTOR times that time, and pass if they pass
        there, as in the user's own run, which has no limit; later whole-suite runs give
        them that limit. pyparsing from a test file, on a busy machine: the first run,
        that file's tests, saw no slow test, and a slow one of the suite was said to hang
        outside the code under repair. A test quick on the unchanged code that hangs with
        the patch is not run again; one that hangs there too is left to
        `_hanging_outside`."""
        limit = self._suite_test_limit()
        targets = {c.test_id for c in baseline.failures}
        stuck = {
            c.test_id
            for c in full.failures
            if timed_out(c) and "::" in c.test_id and c.test_id not in targets
        }
        if not self.is_pytest() or not stuck:
            return full
        before = {c.test_id: c for c in baseline.cases}
        if self.narrowed_baseline() and (unseen := stuck - set(before)):
            self._failing_unchanged(unseen, sources)  # their time alone, as is needed later
            before |= {t: self._unchanged[t] for t in unseen if t in self._unchanged}
        times = {
            t: c.duration for t in stuck if (c := before.get(t)) and c.outcome is Outcome.PASSED
        }
        hung = [t for t in sorted(stuck) if (c := before.get(t)) and timed_out(c)]
        times |= self._with_more_time(hung)
        slow = {t: d for t, d in times.items() if SLOW_FACTOR * d >= limit}
        if not slow or self._cancelled.is_set():
            return full
        limit = self._give_slow_tests(max(slow.values()), limit)
        again = self._alone(sorted(slow), changes, limit)
        if again.cancelled or again.infrastructure_error or again.timed_out:
            return full
        self._log("slow", slow=sorted(slow), limit=round(limit, 1), **result_data(again))
        return with_outcomes_of(full, again)

    def _with_more_time(self, test_ids: list[str]) -> dict[str, float]:
        """Of tests past the limit on the unchanged code too, those that pass alone there
        with SLOW_CHECK_FACTOR times the sandbox's limit, with their times: slow, not hung
        (pyparsing's slowest, on a busy machine, were said to hang outside the code under
        repair). Once per test and session; a test that does hang costs that limit once,
        before the session ends with where it hangs."""
        unknown = [t for t in test_ids if t not in self._more_time]
        if unknown and not self._cancelled.is_set():
            limit = SLOW_CHECK_FACTOR * self._sandbox_test_limit()
            result = self._alone(unknown, {}, limit)
            if not result.cancelled:
                self._log("more_time", limit=limit, **result_data(result))
                passed = {
                    c.test_id: c.duration for c in result.cases if c.outcome is Outcome.PASSED
                }
                self._more_time.update({t: passed.get(t) for t in unknown})
        return {t: d for t in test_ids if (d := self._more_time.get(t)) is not None}

    def _alone(
        self,
        test_ids: list[str],
        changes: Mapping[str, str],
        limit: float,
        stop_at_hang: bool = True,
    ) -> CandidateResult:
        """These tests run by themselves, each given `limit` seconds (by default the run
        ends at the first that hangs: one hang says it is no slow test)."""
        return self.tester.run(
            self.project_root,
            changes,
            with_tests(self.test_command, test_ids),
            timeout=limit * len(test_ids) + 60.0,
            cancel=self._stop_runs,
            test_timeout=limit,
            stop_at_hang=stop_at_hang,
        )

    def _without_uncollectable(self, result: CandidateResult) -> CandidateResult:
        kept = tuple(c for c in result.cases if c.test_id not in self.uncollectable)
        return replace(result, cases=kept) if len(kept) < len(result.cases) else result

    def _guard(self, test_ids: set[str]) -> None:
        if self.is_pytest():
            self.guards += sorted(t for t in test_ids if "::" in t and t not in self.guards)

    def _breaks_guards(self, item: Tried, timeout: float) -> bool:
        """Whether a candidate that passed the failing tests before the guards grew fails
        one of them: no whole-suite run needed to reject it."""
        if not self.guards or {c.test_id for c in item.result.cases} >= set(self.guards):
            return False
        command = with_tests(self.test_command, self.guards)
        result = self.tester.run(
            self.project_root,
            item.candidate.changes,
            f"{command} -x --tb=native",
            timeout=timeout,
            cancel=self._stop_runs,
            test_timeout=self.tight,
            stop_at_hang=True,
        )
        if result.passed or result.cancelled:
            return False
        self._log("guards", description=item.candidate.description, **result_data(result))
        return True

    def _breaks_covering(self, item: Tried, sources: Mapping[str, str], timeout: float) -> bool:
        """Whether a candidate fails one of the tests that ran the lines it edits and
        passed on the unchanged code (the localization run's): seconds of a whole suite
        saved for a wrong patch, a run of a few tests for the right one. Only when the
        first run left most of the suite out: else the whole suite is no dearer."""
        if not self.narrowed_baseline() or not self._covering:
            return False
        ran = {c.test_id for c in item.result.cases} | set(self.guards)
        tests: list[str] = []
        for path, lines in edited_lines(sources, item.candidate.changes):
            for line in lines:
                tests += (t for t in self._covering.get((path, line), ()) if t not in tests)
        tests = [t for t in tests if t not in ran]
        if not tests:
            return False
        result = self.tester.run(
            self.project_root,
            item.candidate.changes,
            f"{with_tests(self.test_command, tests)} -x --tb=native",
            timeout=timeout,
            cancel=self._stop_runs,
            test_timeout=self.tight,
            stop_at_hang=True,
        )
        failing = {c.test_id for c in result.failures}
        if result.passed or result.cancelled or not failing <= set(tests):
            return False  # a run that says nothing of these tests: the whole suite will
        self._log("covering", description=item.candidate.description, **result_data(result))
        self._guard(failing)
        return True

    def whole_suite(self, changes: Mapping[str, str], timeout: float | None) -> CandidateResult:
        """The whole suite on a candidate: split across the sandbox's slots when it can."""
        command = self.suite_command()
        run: Callable[..., CandidateResult] = self.tester.run
        if isinstance(self.tester, ShardingTester):
            run = self.tester.run_sharded
        return run(
            self.project_root,
            changes,
            command,
            timeout=timeout,
            cancel=self._stop_runs,
            test_timeout=self.slow_limit,
        )

    def suite_command(self) -> str:
        """The test command for a whole-suite run. For pytest, without its rewriting of
        the test modules' asserts: the rewrite (an AST pass over every test module, in
        every run, as the sandbox keeps no bytecode) is often most of a suite's time, and
        it changes the failure messages, not which tests pass. A test that fails in such
        a run is run again with it (`_confirmed`) before it counts. The user's own
        `--assert` is kept."""
        words = self.test_command.split()
        if not self.is_pytest() or any(w.startswith("--assert") for w in words):
            return self.test_command
        return f"{self.test_command} --assert=plain"

    def _witnesses(
        self,
        full: CandidateResult,
        changes: Mapping[str, str],
        before: tuple[set[str], set[str]],
        sources: Mapping[str, str],
    ) -> tuple[str, set[str]] | None:
        """When a patch fails many tests, why to reject it on a few of them that fail
        again as the user's command runs them: ("regressions", those that passed on the
        unchanged code), or, after a first run cut short, ("failed", those that fail there
        too and run the lines it edits: unfixed). One is enough, without confirming each
        failure and running each unseen one on the unchanged code (a wrong patch failed
        256 of mistune's tests: 70 s of runs). None when there are few failures, or no
        witness among the few tried."""
        failing = sorted(c.test_id for c in full.failures)
        if len(failing) <= WITNESSES or not self.is_pytest():
            return None
        passed_before, ran_before = before  # the tests that passed, and ran, on the unchanged code
        known = _spread([t for t in failing if t in passed_before and "::" in t])
        unseen = _spread([t for t in failing if t not in ran_before and "::" in t])
        sample = known or (unseen if self.narrowed_baseline() else [])
        if not sample:
            return None
        again = self.tester.run(
            self.project_root,
            changes,
            with_tests(self.test_command, sample),
            timeout=self.suite_timeout(None),
            cancel=self._stop_runs,
            test_timeout=self.slow_limit,  # the suite's: a slow test passed it there
        )
        if again.cancelled or again.infrastructure_error or again.timed_out:
            return None
        still = {c.test_id for c in again.failures}
        if known:
            return ("regressions", still) if still else None
        failed = self._failing_unchanged(still, sources)
        unchanged = {t: self._unchanged.get(t) for t in still - failed}
        if regressed := {t for t, c in unchanged.items() if c and c.outcome is Outcome.PASSED}:
            return "regressions", regressed
        if self.partial_baseline and (unfixed := self._reaching(failed, sources, changes)):
            return "failed", unfixed
        return None

    def _confirmed(
        self, full: CandidateResult, changes: Mapping[str, str], timeout: float
    ) -> CandidateResult:
        """A whole-suite run whose failing tests are each confirmed by a run of those
        tests as the user's command runs them (with pytest's assert rewriting), when the
        suite ran without it: a test that passes there is not a failure, and the run
        reports it as passed (the tally the user reads is the command's own)."""
        failing = {c.test_id for c in full.failures}
        named = [t for t in sorted(failing) if "::" in t]
        if self.suite_command() == self.test_command or not named or len(named) < len(failing):
            return full
        again = self.tester.run(
            self.project_root,
            changes,
            with_tests(self.test_command, named),
            timeout=timeout,
            cancel=self._stop_runs,
            test_timeout=self.slow_limit,  # the suite's: a slow test passed it there
        )
        if again.cancelled or again.infrastructure_error or again.timed_out or not again.cases:
            return full  # no verdict: as the suite said
        self._log("confirm", command="(the failing tests, asserts rewritten)", **result_data(again))
        return with_outcomes_of(full, again)

    def _failing_unchanged(self, test_ids: set[str], sources: Mapping[str, str]) -> set[str]:
        """Which of these tests, unseen by a narrowed baseline, fail on the unchanged code
        too; each is run there once per session (named, for pytest, and traced in the
        sources: see `_reaching`; else the whole suite). A test that run did not report
        is not known to fail: a regression, to be safe."""
        unknown = sorted(t for t in test_ids if t not in self._unchanged)
        if unknown and not self._cancelled.is_set():
            named = self.is_pytest() and all("::" in t for t in unknown)
            command = with_tests(self.test_command, unknown) if named else self.test_command
            result = self.tester.run(
                self.project_root,
                {},
                command,
                timeout=self.suite_timeout(None),
                probe=spectrum_probe(sorted(sources)) if named and sources else None,
                cancel=self._stop_runs,
                test_timeout=self.slow_limit,  # as the suite it is compared with
            )
            self._log("unchanged", command=command, **result_data(result))
            self._unchanged.update({c.test_id: c for c in result.cases})
            runs = spectrum_runs(result.probe_data, self.project_root)
            self._unchanged_lines.update({run.test_id: run.lines for run in runs})
        bad = (Outcome.FAILED, Outcome.ERROR)
        return {t for t in test_ids if t in self._unchanged and self._unchanged[t].outcome in bad}

    def _untouched(
        self, regressed: set[str], sources: Mapping[str, str], changes: Mapping[str, str]
    ) -> set[str]:
        """Of a few tests that passed before and fail with a patch (run again alone),
        those that never run a line it edits on the unchanged code, traced there (once
        per test and session): the patch cannot be why they fail. All or none: a fixture
        they share runs in the first one's trace alone. Many such tests are a patch's
        real regressions (state one test leaves to the next), not looked into."""
        few = 0 < len(regressed) <= UNTOUCHED_MAX
        if not few or not self.is_pytest() or not all("::" in t for t in regressed):
            return set()
        if _edits_at_import(sources, changes):
            return set()  # every test runs them: no run can tell
        edited = {(path, line) for path, lines in edited_lines(sources, changes) for line in lines}
        traced = self._localized  # the localization's run was on the unchanged code too
        if any(not edited.isdisjoint(traced.get(t, ())) for t in regressed):
            return set()  # known without a run: the patch's
        self._failing_unchanged({t for t in regressed if t not in traced}, sources)
        lines = [self._unchanged_lines.get(t, traced.get(t)) for t in regressed]
        if any(not ran or not edited.isdisjoint(ran) for ran in lines):
            # One ran an edited line, its lines are not known, or it ran no line of the
            # sources in the tracer's reach: it may run them in a process of its own.
            return set()
        return set(regressed)

    def _reaching(
        self, test_ids: set[str], sources: Mapping[str, str], changes: Mapping[str, str]
    ) -> set[str]:
        """Of tests failing with and without a patch, those it may concern: each that ran
        a line the patch edits on the unchanged code, or whose lines are not known. A test
        that never ran an edited line of a function's body fails for a reason the patch
        cannot touch. An edit outside any function (run at import) concerns them all."""
        if _edits_at_import(sources, changes):
            return set(test_ids)
        edited = [(path, line) for path, lines in edited_lines(sources, changes) for line in lines]
        return {
            t
            for t in test_ids
            if t not in self._unchanged_lines or not self._unchanged_lines[t].isdisjoint(edited)
        }

    def _times_out_unchanged(self, timeout: float | None) -> bool:
        """Whether the whole suite times out on the unchanged code too (run once): a
        first run of some of the tests could not know."""
        if self._unchanged_suite is None and not self._cancelled.is_set():
            self._unchanged_suite = self.whole_suite({}, timeout)
            self._log("unchanged", command=self.test_command, **result_data(self._unchanged_suite))
            self._unchanged.update({c.test_id: c for c in self._unchanged_suite.cases})
        return self._unchanged_suite is not None and self._unchanged_suite.timed_out

    def _hanging_outside(self, test_ids: set[str], sources: Mapping[str, str]) -> str | None:
        """Why no edit of the sources can pass the suite: one of these tests (failing on
        the unchanged code too) hangs, and where it is stuck is not in the sources."""
        for test_id in sorted(test_ids):
            case = self._unchanged.get(test_id)
            if case is None or not timed_out(case):
                continue
            if any(self.relative(frame.path) in sources for frame in case.frames):
                continue
            return hang_message(self, case, sources) + ", with the patch and without it"
        return None

    # --- limits -------------------------------------------------------------------------

    def suite_timeout(self, candidate_timeout: float | None) -> float | None:
        """A whole-suite run's timeout: a few candidates' worth, or the sandbox's own when
        the baseline ran only some tests (their time says nothing of the suite's)."""
        if self.test_timeout is not None:
            return self.test_timeout * 3
        if self.narrowed_baseline() or candidate_timeout is None:
            return None
        return candidate_timeout * 3

    def test_limit(self, baseline: CandidateResult) -> float | None:
        """Each test's limit for the candidates: ten times what the tests took in the
        baseline (the failing ones that did not hang, else most of the others: one slow
        test elsewhere says nothing of these), at least 2 s, never above the sandbox's
        own. A candidate that loops forever then fails fast. None: the sandbox's (when the
        baseline says nothing of the times)."""
        own = [c.duration for c in baseline.failures if not timed_out(c)]
        healthy = own or sorted(c.duration for c in baseline.cases if not timed_out(c))
        if not healthy:
            return None
        typical = max(own) if own else healthy[int(0.95 * (len(healthy) - 1))]
        return min(self._sandbox_test_limit(), max(2.0, 10.0 * typical))

    def _suite_test_limit(self) -> float:
        """Each test's limit in whole-suite runs (see `slow_limit`)."""
        return self.slow_limit or self._sandbox_test_limit()

    def _give_slow_tests(self, slowest: float, floor: float) -> float:
        """Raise the suite's per-test limit to SLOW_FACTOR times the slowest test's time
        (never below `floor`, never above SLOW_FACTOR times the sandbox's); the limit."""
        ceiling = SLOW_FACTOR * self._sandbox_test_limit()
        self.slow_limit = min(ceiling, max(floor, SLOW_FACTOR * slowest))
        return self.slow_limit

    def _sandbox_test_limit(self) -> float:
        config = getattr(self.tester, "config", None)
        return float(getattr(config, "test_timeout_seconds", DEFAULT_TEST_LIMIT))

    def candidate_timeout(self, baseline: CandidateResult) -> float:
        if self.test_timeout is not None:
            return self.test_timeout
        # A candidate that hangs costs its whole timeout: scale it to the suite's own time.
        return max(2.0, baseline.duration * 4 + 1.0)

    def relative(self, path: str) -> str | None:
        candidate = Path(path)
        if not candidate.is_absolute():
            return candidate.as_posix()
        try:
            return candidate.resolve().relative_to(self.project_root).as_posix()
        except ValueError:
            return None


def hang_message(verifier: Verifier, case: CaseResult, sources: Mapping[str, str]) -> str:
    """ "no fix found: <test> hangs in <where it was stuck>, outside the code under repair"."""
    stuck = next((f for f in reversed(case.frames) if f.in_project), None)
    where = f" in {verifier.relative(stuck.path) or stuck.path}:{stuck.line}" if stuck else ""
    return (
        f"no fix found: {case.test_id} hangs{where}, outside the code under repair "
        f"({', '.join(sorted(sources))})"
    )


def deselected(test_ids: set[str]) -> str:
    """pytest's options leaving these tests out."""
    return " ".join(f"--deselect {shlex.quote(t)}" for t in sorted(test_ids))


def spectrum_runs(spectrum: str | None, root: Path) -> list[RunCoverage]:
    """Each traced test of a spectrum (a probe's JSON) with the lines it ran; none for a
    spectrum cut short: no test is known to run a line."""
    if not spectrum:
        return []
    try:
        return read_spectrum(spectrum, root)
    except (ValueError, KeyError, TypeError):
        return []


def covering_tests(runs: Sequence[RunCoverage]) -> dict[tuple[str, int], list[str]]:
    """Each line of a traced run, with the passing tests that ran it, in the order they
    ran."""
    covering: dict[tuple[str, int], list[str]] = {}
    for run in runs:
        if not run.failed:
            for line in run.lines:
                covering.setdefault(line, []).append(run.test_id)
    return covering


def edited_lines(
    sources: Mapping[str, str], changes: Mapping[str, str]
) -> Iterator[tuple[str, range]]:
    """The lines of each source file (1-based, in the unchanged text) a candidate edits:
    for an insertion, the lines on either side of it."""
    for path, text in changes.items():
        before = sources.get(path)
        if before is None:
            continue
        old = before.splitlines()
        prefix, suffix = common_ends(old, text.splitlines())
        first, last = prefix + 1, len(old) - suffix
        yield path, range(first, last + 1) if last >= first else range(max(1, prefix), prefix + 2)


def _edits_at_import(sources: Mapping[str, str], changes: Mapping[str, str]) -> bool:
    """Whether a patch edits a line outside any function: run at import, by every test."""
    return any(
        enclosing_function(sources[path], line) is None
        for path, lines in edited_lines(sources, changes)
        for line in lines
    )


def _stopped_early(result: CandidateResult) -> bool:
    """Whether a first run of the whole suite stopped before its end: at its fifth failure
    (in a shard: five in all is the sign), or at a test that hung (the sandbox's timeout
    plugin ends the run there)."""
    return len(result.failures) >= BASELINE_MAX_FAILURES or any(
        timed_out(case) for case in result.failures
    )


def _spread(test_ids: list[str]) -> list[str]:
    """At most WITNESSES of these, evenly spaced: the first few are often one module's,
    all alike (mistune's 256: the first five never ran the edited line, 46 others did)."""
    step = max(1, -(-len(test_ids) // WITNESSES))
    return test_ids[::step][:WITNESSES]
