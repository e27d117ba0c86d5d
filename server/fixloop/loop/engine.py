"""The fix session: baseline → localize → generate → test → reflect → …, until a candidate
is verified or the budget runs out.

The session is synchronous and thread-safe to cancel: the CLI runs it directly, the
server in a worker thread. Candidates of one iteration are verified in parallel; a
candidate whose failing tests pass is then run against the whole suite, and only one
with no regression is offered. A caller that has just run the tests (the editor, on save)
gives that run as the baseline (`GivenBaseline`) instead of having it run again.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fixloop.failures.related import narrower_than_suite, select_tests
from fixloop.loop.audit import introduced_findings
from fixloop.loop.localize import (
    locations_from_frames,
    merge_locations,
    ochiai,
    read_spectrum,
    spectrum_probe,
)
from fixloop.loop.model import (
    Attempt,
    Candidate,
    Failure,
    Generator,
    GeneratorUnavailable,
    Location,
    RepairContext,
    Review,
    Reviewer,
)
from fixloop.loop.patches import is_test_file, normalized, refusal, unified_diff
from fixloop.loop.ranking import Tried as _Tried
from fixloop.loop.ranking import rank_key as _rank
from fixloop.sandbox.cancellation import Cancellation
from fixloop.sandbox.commands import CommandKind, parse_command, with_tests
from fixloop.sandbox.results import (
    CandidateResult,
    CaseResult,
    Outcome,
    ShardingTester,
    Tester,
)

if TYPE_CHECKING:
    from fixloop.memory.session import SessionMemory

# Error messages that mean the tests cannot run here, whatever the code says.
_ENVIRONMENTAL = (  # most telling first: the reason shown is the first one found
    "No module named",
    "ModuleNotFoundError",
    "fixture '",
    "command not found",
    "No such file or directory",
    "ImportError while importing",
)
# Reflection keeps the last few failed attempts: older ones cost tokens and say little.
_REFLECTION_DEPTH = 3
# Groups of passing candidates (`parallel` each) run against the whole suite at most.
_REGRESSION_GROUPS = 3
# The baseline stops after this many failing tests: enough to localize and to fix.
_BASELINE_MAX_FAILURES = 5
# Passing tests traced beside the failing ones for the spectrum, at most.
_SPECTRUM_PASSING = 100
# A test past its limit fails with this in its message (sandbox/_pytest_timeout.py).
_TIMEOUT_MARK = "TestTimeout"
_DEFAULT_TEST_LIMIT = 10.0


def _every_line(sources: Mapping[str, str]) -> list[Location]:
    return [
        Location(path, number, 1.0)
        for path, text in sources.items()
        for number in range(1, text.count("\n") + 2)
    ]


def _environmental_reason(failure: CaseResult, output: str) -> str | None:
    """The line saying a test cannot run here (a missing module, fixture, program), if
    that is why it fails. A collection error's reason is in the output, not its message."""
    texts = [failure.message]
    if failure.outcome is Outcome.ERROR and "::" not in failure.test_id:
        texts.append(output)
    lines = [line for text in texts for line in text.splitlines()]
    for marker in _ENVIRONMENTAL:
        for line in lines:
            if marker in line:
                return line.strip().removeprefix("E").strip()
    return None


def _first_error(output: str) -> str:
    """The line of a run's output that says why it failed, else its last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if "rror" in line or "cannot" in line or "not found" in line:
            return line[:300]
    return lines[-1][:300] if lines else "no output"


def _timed_out(case: CaseResult) -> bool:
    """Whether a test failed by running past its limit (the sandbox's timeout plugin)."""
    return case.outcome is not Outcome.PASSED and _TIMEOUT_MARK in case.message


def _hang_outside(
    baseline: CandidateResult,
    sources: Mapping[str, str],
    relative: Callable[[str], str | None],
) -> str | None:
    """Why no edit of the sources can help, when every failing test hangs somewhere else:
    the stack where each was stuck never passes through the sources."""
    failures = baseline.failures
    if not failures or not all(_timed_out(case) for case in failures):
        return None
    for case in failures:
        if any(relative(frame.path) in sources for frame in case.frames):
            return None
    case = failures[0]
    stuck = next((f for f in reversed(case.frames) if f.in_project), None)
    where = f" in {relative(stuck.path) or stuck.path}:{stuck.line}" if stuck else ""
    return (
        f"no fix found: {case.test_id} hangs{where}, outside the code under repair "
        f"({', '.join(sorted(sources))})"
    )


def _checked_baseline(given: GivenBaseline | None, test_command: str) -> GivenBaseline | None:
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


def _result_data(result: CandidateResult) -> dict[str, Any]:
    """A test run as the session log keeps it."""
    return {
        "passed": result.passed,
        "summary": result.summary(),
        "tests": result.tally(),
        "failing": [c.test_id for c in result.failures][:20],
        "duration": round(result.duration, 3),
    }


def tally_of(result: CandidateResult | None) -> dict[str, int]:
    """A run's passed/failed counts; zeros when there was no run."""
    return result.tally() if result is not None else {"passed": 0, "failed": 0}


def _outcome_data(result: FixResult) -> dict[str, Any]:
    return {
        "status": result.status.value,
        "message": result.message,
        "verified": result.fixed,
        "diff": result.diff,
        "files": sorted(result.changes),
        "template": result.candidate.template if result.candidate else None,
        "iterations": result.iterations,
        "candidates_tried": result.candidates_tried,
        "duration": round(result.duration, 3),
        "tests": tally_of(result.final or result.baseline),
        "usage": dict(result.usage),
        "tokens": result.tokens,
        "cost": result.cost,
        "notes": list(result.notes),
    }


class Phase(StrEnum):
    BASELINE = "baseline"
    LOCALIZE = "localize"
    GENERATE = "generate"
    TEST = "test"
    AUDIT = "audit"
    REVIEW = "review"
    REGRESSION = "regression"
    REFLECT = "reflect"
    DONE = "done"


class Status(StrEnum):
    FIXED = "fixed"
    ALREADY_PASSING = "already-passing"
    NOT_FOUND = "not-found"
    ENVIRONMENT = "environment-error"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Budget:
    max_iterations: int = 5
    candidates_per_iteration: int = 0  # 0: what suits each generator (see _quota)
    wall_clock_seconds: float = 300.0
    parallel: int = 2
    # Template batches tested after the first passing candidate, for a better one.
    alternative_batches: int = 1
    # Seconds per test run (None: the baseline's own time, scaled; see _candidate_timeout).
    test_timeout: float | None = None
    # What a model may spend (0: no limit); the session stops once it is spent.
    max_tokens: int = 0
    max_cost: float = 0.0


# Receives the session's log: an event kind and its JSON-ready data (see fixloop.sessions).
EventSink = Callable[[str, Mapping[str, Any]], None]


def new_session_id() -> str:
    """Sortable by start time, unique enough for one person's history: 20261121-181502-a3f9c1."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Progress:
    """An event for progress bars: 'iteration 2/5 · 3 of 12 tests failing'."""

    phase: Phase
    iteration: int
    max_iterations: int
    failing: int
    total: int
    candidates_tried: int
    message: str
    # The candidate that got closest so far: "use `>=` … (1 of 2 failing tests still fail)".
    best: str = ""
    # The budget: seconds left of the session's time, and whether a model takes part
    # (whose rounds are counted) or only the templates (which go on while time allows).
    seconds_left: float | None = None
    model_rounds: bool = False
    spent: float = 0.0  # share of the budget spent, 0..1

    def line(self) -> str:
        tests = f"{self.failing} of {self.total} tests failing" if self.total else ""
        if self.model_rounds and self.iteration:
            where = f"iteration {self.iteration}/{self.max_iterations}"
        else:
            where = f"{self.candidates_tried} candidates tried" if self.iteration else ""
        left = f"{self.seconds_left:.0f} s left" if self.seconds_left and self.iteration else ""
        parts = [
            where,
            tests,
            self.message,
            left,
            f"best so far: {self.best}" if self.best else "",
        ]
        return " · ".join(p for p in parts if p)


def _total(usage: Mapping[str, object], key: str) -> float:
    """A usage figure (tokens, cost) summed over the generators that count it."""
    return float(sum(u.get(key, 0) for u in usage.values() if isinstance(u, dict)))


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


@dataclass(frozen=True)
class FixResult:
    status: Status
    message: str
    diff: str = ""
    changes: Mapping[str, str] = field(default_factory=dict)
    candidate: Candidate | None = None
    iterations: int = 0
    candidates_tried: int = 0
    duration: float = 0.0
    baseline: CandidateResult | None = None
    final: CandidateResult | None = None
    # What happened on the way that the user should know (a model that was down, …).
    notes: tuple[str, ...] = ()
    # Tokens and cost by generator (those that count them: the model).
    usage: Mapping[str, object] = field(default_factory=dict)
    # The verified attempt's memory record: the user's verdict on the fix goes there.
    record_id: str | None = None
    session_id: str = ""
    engine: str = ""  # the generators that took part, e.g. "offline" or "llm:gpt-4o+offline"

    @property
    def tokens(self) -> int:
        return int(_total(self.usage, "total_tokens"))

    @property
    def cost(self) -> float:
        return _total(self.usage, "cost")

    @property
    def fixed(self) -> bool:
        return self.status is Status.FIXED


class FixSession:
    """One run of the loop on a project. Call `run()`; `cancel()` from any thread."""

    def __init__(
        self,
        project_root: Path,
        test_command: str,
        generators: Sequence[Generator],
        tester: Tester,
        *,
        targets: Sequence[str] = (),
        budget: Budget | None = None,
        on_progress: Callable[[Progress], None] = lambda progress: None,
        template_prior: Mapping[str, float] | None = None,
        use_localization: bool = True,
        memory: SessionMemory | None = None,
        on_event: EventSink | None = None,
        focus: Location | None = None,
        reviewer: Reviewer | None = None,
        session_id: str | None = None,
        baseline: GivenBaseline | None = None,
    ) -> None:
        self.project_root = project_root.resolve()
        self.test_command = test_command
        self._given = _checked_baseline(baseline, test_command)
        self.generators = list(generators)
        self._all_generators = list(generators)  # the ones that dropped out still count
        self.tester = tester
        self.targets = [t for t in targets]
        self.budget = budget or Budget()
        self.on_progress = on_progress
        self.template_prior = dict(template_prior or {})
        # Off: every line of the sources in order, equally suspicious (for measuring what
        # localization is worth).
        self.use_localization = use_localization
        # What was tried goes to memory (one write at the end); memory's prior, past fixes
        # and remembered suggestion come into the context.
        self.memory = memory
        self._remembered: list[Candidate] = []
        self._record_id: str | None = None
        self._verified_records: dict[int, str] = {}
        self._order = 0
        self._cancelled = threading.Event()
        self._stop_runs = Cancellation()  # stops the test runs in progress, in the sandbox
        self._started = 0.0
        self._tried = 0
        self._iteration = 0
        self._notes: list[str] = []
        self.on_event = on_event
        # The line the user pointed at (`fixloop fix file.py:42`): tried before the rest.
        self.focus = focus
        self.session_id = session_id or new_session_id()
        # Looks at the verified patch before it is offered (optional: a model, when set).
        self.reviewer = reviewer
        self._best_so_far = ""
        self._best_failing: int | None = None
        self._baseline_failing = 0
        self._baseline: CandidateResult | None = None
        # Outcomes on the unchanged code of tests a narrowed given baseline did not run.
        self._unchanged: dict[str, CaseResult] = {}
        self._unchanged_suite: CandidateResult | None = None
        # Why the session ends without a fix, found while verifying (a suite that hangs or
        # times out whatever the patch): (status, message).
        self._verdict: tuple[Status, str] | None = None
        self._partial_baseline = False  # it stopped after its first failures
        self._tight: float | None = None  # each test's limit for the candidates

    def cancel(self) -> None:
        """Stop: no new candidate starts, and those being tested are killed in the sandbox."""
        self._cancelled.set()
        self._stop_runs.cancel()

    # --- the loop ---------------------------------------------------------------------

    def run(self) -> FixResult:
        try:
            result = self._run()
        except Exception as error:
            self._log("end", status="error", message=f"{type(error).__name__}: {error}")
            raise
        self._log("end", **_outcome_data(result))
        return result

    def _run(self) -> FixResult:
        self._started = time.monotonic()
        parse_command(self.test_command)  # a dangerous command is refused before anything
        self._log(
            "start",
            session_id=self.session_id,
            root=str(self.project_root),
            command=self.test_command,
            targets=self.targets,
            focus=asdict(self.focus) if self.focus else None,
            engine=self._engine_name(),
            budget=asdict(self.budget),
            given_baseline=self._given.command if self._given else None,
        )
        if self.memory is not None:  # opened while the baseline runs
            threading.Thread(target=self.memory.warm_up, name="fixloop-memory", daemon=True).start()
        baseline = self._baseline_run()
        given = {"given": self._given.command} if self._given else {}
        self._log("baseline", **_result_data(baseline), **given)
        self._baseline_failing = len(baseline.failures)
        self._baseline = baseline
        if baseline.cancelled:
            return self._finish(Status.CANCELLED, "cancelled", baseline)
        early = self._verdict_on_baseline(baseline)
        if early is not None:
            return early
        sources = self._editable_sources(baseline)
        if not sources:
            return self._finish(
                Status.NOT_FOUND,
                "no source file to repair: name one (TARGET) "
                "or make a failing test's traceback pass through one",
                baseline,
            )
        if (hang := _hang_outside(baseline, sources, self._relative)) is not None:
            return self._finish(Status.NOT_FOUND, hang, baseline)
        self._emit(Phase.LOCALIZE, "finding the suspicious lines", baseline)
        context = self._context(baseline, sources, self._spectrum(baseline, sources))
        if self._cancelled.is_set():
            return self._finish(Status.CANCELLED, "cancelled", baseline)
        if self.memory is not None:
            context = self.memory.prepare(context)
            suggestion = self.memory.suggestion(context)
            if suggestion is not None:  # tried first, verified like any candidate
                self._remembered.append(suggestion.candidate)
        return self._iterate(context, baseline)

    def _iterate(self, context: RepairContext, baseline: CandidateResult) -> FixResult:
        streams = {id(g): g.candidates(context) for g in self.generators}
        seen: dict[tuple[tuple[str, str], ...], _Tried | None] = {}
        narrowed = self._narrowed_command(baseline)
        timeout = self._candidate_timeout(baseline)
        self._tight = self._test_timeout(baseline)
        for iteration in itertools.count(1):
            self._iteration = iteration
            if (stop := self._should_stop(baseline)) is not None:
                return stop
            if iteration > self.budget.max_iterations:
                self._retire_models()  # their rounds are spent; the templates go on
                if not self.generators:
                    break
            self._emit(Phase.GENERATE, "generating candidates", baseline)
            for generator in self.generators:
                if generator.reflective:  # a model sees the new attempts
                    streams[id(generator)] = generator.candidates(context)
            try:
                batch = self._next_batch(streams, context, seen)
            except GeneratorUnavailable as error:
                return self._finish(Status.ENVIRONMENT, str(error), baseline)
            if not batch:
                break
            self._emit(Phase.TEST, f"testing {len(batch)} candidates", baseline)
            tried = self._verify(batch, narrowed, timeout)
            for item in tried:
                seen[normalized(item.candidate.changes)] = item
                if not item.result.passed:
                    self._remember(context, item, "failed")
            passing = self._audited([t for t in tried if t.result.passed], context)
            if passing:
                passing += self._audited(
                    self._alternatives(streams, context, seen, narrowed, timeout), context
                )
                self._emit(Phase.REGRESSION, "checking the whole suite", baseline)
                best = self._best_without_regressions(passing, baseline, context, timeout)
                if self._verdict is not None:
                    return self._finish(*self._verdict, baseline)
                if best is not None:
                    review = self._review(best, context)
                    if review is None or review.approved:
                        return self._fixed(best, context, baseline)
                    context = self._rejected_in_review(context, best, review)
            self._emit(Phase.REFLECT, "learning from the failures", baseline)
            context = self._reflect(context, [t for t in tried if not t.result.passed])
        return self._finish(Status.NOT_FOUND, self._nothing_verified(), baseline)

    def _closest(self) -> str:
        """The candidate that got nearest, for a session that found no fix: the user may
        take it from there (other failing tests may fail for another reason)."""
        closer = self._best_failing is not None and self._best_failing < self._baseline_failing
        return f"; closest: {self._best_so_far}" if closer else ""

    def _nothing_verified(self) -> str:
        message = f"no verified fix after {self._tried} candidates{self._closest()}"
        python = all(path.endswith(".py") for path in self.targets)
        if self._tried == 0 and not python:
            message += (
                " (the offline templates repair Python; for other languages set a model, "
                "`llm.model`, with engine auto or llm)"
            )
        return message

    # --- phases -----------------------------------------------------------------------

    def _baseline_run(self) -> CandidateResult:
        """The tests on the code as it is: the caller's run when it gave one."""
        if self._given is not None:
            self._emit(Phase.BASELINE, "starting from the tests run already")
            return self._given.result
        # Untraced, and stopping after a few failures: what to fix is known then, and the
        # rest of the suite runs once, for the winner (its failures there are checked on
        # the unchanged code before they count as regressions). First the tests that
        # import the targets, when they are fewer than the suite: a bug in the targets
        # most often fails those, and the rest of the suite need not run twice.
        if not self._is_pytest():
            self._emit(Phase.BASELINE, "running the tests as they are")
            return self._first_run(self.test_command)
        related = self._related_command()
        if related is not None:
            self._emit(Phase.BASELINE, "running the tests of the code under repair")
            result = self._first_run(related)
            stopped = result.cancelled or result.infrastructure_error or result.timed_out
            if result.failures or stopped or result.out_of_memory:
                self._partial_baseline = True
                return result
        self._emit(Phase.BASELINE, "running the tests as they are")
        result = self._first_run(self.test_command)
        # It stopped early: at its fifth failure (in a shard: five in all is the sign), or
        # at a test that hung (the sandbox's timeout plugin ends the run there).
        self._partial_baseline = len(result.failures) >= _BASELINE_MAX_FAILURES or any(
            _timed_out(case) for case in result.failures
        )
        return result

    def _first_run(self, command: str) -> CandidateResult:
        """The unchanged code's tests, stopping after a few failures or at a hang (pytest),
        split across the sandbox's slots when it can."""
        run: Callable[..., CandidateResult] = self.tester.run
        if self._is_pytest():
            command = f"{command} --maxfail={_BASELINE_MAX_FAILURES}"
            if isinstance(self.tester, ShardingTester):
                run = self.tester.run_sharded
        return run(
            self.project_root,
            {},
            command,
            timeout=self.budget.test_timeout,
            cancel=self._stop_runs,
            stop_at_hang=True,
        )

    def _related_command(self) -> str | None:
        """The test command narrowed to the test files that import the targets; None when
        that is the whole suite (or there is no target to go by)."""
        sources = [self.project_root / t for t in self.targets if not is_test_file(t)]
        if not sources or len(sources) != len(self.targets):
            return None
        selection = select_tests(self.project_root, sources, self.test_command)
        narrower = narrower_than_suite(self.project_root, selection)
        return selection.command if narrower else None

    def _spectrum(self, baseline: CandidateResult, sources: Mapping[str, str]) -> str | None:
        """Which lines of the sources each test runs, for Ochiai: from the given baseline
        when it recorded them, else from a run of the failing tests' files alone, traced
        in the sources alone (the rest of the suite and the libraries run untraced)."""
        if self._given is not None or not self.use_localization or not self._is_pytest():
            return baseline.probe_data
        failing = [c.test_id for c in baseline.failures if "::" in c.test_id]
        files = {test.split("::")[0] for test in failing}
        if not failing:
            return None
        # The failing tests and the passing ones beside them that the baseline ran: enough
        # for Ochiai to tell the lines they share from those only the failures run.
        passing = [
            c.test_id
            for c in baseline.cases
            if c.outcome is Outcome.PASSED and c.test_id.split("::")[0] in files
        ][:_SPECTRUM_PASSING]
        command = with_tests(self.test_command, [*failing, *passing])
        result = self.tester.run(
            self.project_root,
            {},
            command,
            timeout=self._suite_timeout(None),
            probe=spectrum_probe(sorted(sources)),
            cancel=self._stop_runs,
            test_timeout=self._test_timeout(baseline),
        )
        self._log("localize", command=command, **_result_data(result))
        return result.probe_data

    def _verdict_on_baseline(self, baseline: CandidateResult) -> FixResult | None:
        if baseline.infrastructure_error:
            return self._finish(
                Status.ENVIRONMENT,
                f"the tests could not run: {baseline.infrastructure_error}",
                baseline,
            )
        if baseline.passed:
            which = "the tests it ran" if self._narrowed_baseline() else "the tests"
            return self._finish(
                Status.ALREADY_PASSING, f"{which} already pass: nothing to fix", baseline
            )
        if baseline.timed_out:
            return self._finish(Status.ENVIRONMENT, "the tests time out as they are", baseline)
        if baseline.exit_code == 127 or (self._is_pytest() and not baseline.cases):
            # The command did not get as far as running a test: no failure to fix.
            return self._finish(
                Status.ENVIRONMENT,
                f"the test command ran no test (exit code {baseline.exit_code}): "
                f"{_first_error(baseline.output.text)}",
                baseline,
            )
        if baseline.out_of_memory:
            limit = getattr(getattr(self.tester, "config", None), "memory", "its limit")
            return self._finish(
                Status.ENVIRONMENT,
                f"the tests run out of memory in the sandbox (sandbox.memory = {limit}): "
                "raise it in your settings",
                baseline,
            )
        failures = baseline.failures
        if not failures and baseline.cases:
            return self._finish(
                Status.ENVIRONMENT,
                f"the test command failed ({baseline.summary()}) but no test did",
                baseline,
            )
        reasons = [_environmental_reason(f, baseline.output.text) for f in failures]
        if failures and all(reasons):
            return self._finish(
                Status.ENVIRONMENT,
                f"the tests fail for a reason in the environment, not the code: {reasons[0]}",
                baseline,
            )
        return None

    def _editable_sources(self, baseline: CandidateResult) -> dict[str, str]:
        paths = list(self.targets)
        if not paths:
            for failure in baseline.failures:
                for frame in failure.frames:
                    relative = self._relative(frame.path)
                    if relative and frame.in_project and relative not in paths:
                        paths.append(relative)
        sources = {}
        for path in paths:
            file = self.project_root / path
            if is_test_file(path) or not file.is_file():
                continue
            sources[path] = file.read_text(encoding="utf-8")
        return sources

    def _context(
        self, baseline: CandidateResult, sources: dict[str, str], spectrum: str | None
    ) -> RepairContext:
        failures = tuple(
            Failure(
                case.test_id,
                case.message,
                tuple(
                    (rel, frame.line)
                    for frame in case.frames
                    if (rel := self._relative(frame.path)) is not None
                ),
            )
            for case in baseline.failures
        )
        return RepairContext(
            project_root=self.project_root,
            sources=sources,
            failures=failures,
            locations=tuple(self._locations(failures, sources, spectrum)),
            test_output=baseline.output.text,
            template_prior=self.template_prior,
        )

    def _locations(
        self, failures: tuple[Failure, ...], sources: dict[str, str], spectrum_data: str | None
    ) -> list[Location]:
        """Frames first; the spectrum (Ochiai) adds the lines a traceback cannot show, such
        as a wrong value computed in one function and asserted in a test."""
        frames = locations_from_frames(failures, sources)
        if not self.use_localization:
            return self._focused(_every_line(sources), sources)
        spectrum: list[Location] = []
        if spectrum_data:
            try:
                spectrum = [
                    loc for loc in ochiai(read_spectrum(spectrum_data)) if loc.path in sources
                ]
            except (ValueError, KeyError):
                spectrum = []  # a spectrum cut short: the frames still say something
        merged = merge_locations(frames, spectrum) if spectrum else frames
        return self._focused(merged, sources)

    def _focused(self, ranked: list[Location], sources: dict[str, str]) -> list[Location]:
        """The line the user pointed at first, scored just above the rest (a finite score:
        later arithmetic on scores must stay meaningful)."""
        focus = self.focus
        if focus is None or focus.path not in sources:
            return ranked
        top = max((loc.score for loc in ranked), default=0.0)
        rest = [loc for loc in ranked if (loc.path, loc.line) != (focus.path, focus.line)]
        return [replace(focus, score=top + 1.0), *rest]

    def _is_pytest(self) -> bool:
        return parse_command(self.test_command).kind is CommandKind.PYTEST

    def _next_batch(
        self,
        streams: dict[int, Iterator[Candidate]],
        context: RepairContext,
        seen: dict[tuple[tuple[str, str], ...], _Tried | None],
    ) -> list[Candidate]:
        batch: list[Candidate] = []
        keys: set[tuple[tuple[str, str], ...]] = set()
        if self._remembered:  # a remembered fix is tested alone, before anything else
            remembered = self._remembered.pop(0)
            if refusal(context.sources, remembered.changes) is None:
                return [remembered]
        for generator in list(self.generators):
            stream = streams[id(generator)]
            size = len(batch) + self._quota(generator)
            while len(batch) < size:
                try:
                    candidate = next(stream, None)
                except GeneratorUnavailable as error:
                    # Going on with the others (the offline templates need nothing); with
                    # no other generator the session ends and says why.
                    self.generators.remove(generator)
                    self._notes.append(f"{generator.name}: {error}")
                    if not self.generators:
                        raise
                    break
                if candidate is None:
                    break
                key = normalized(candidate.changes)
                if key in seen or key in keys:
                    earlier = seen.get(key)
                    if earlier is not None:
                        earlier.agreement += 1
                    continue
                if refusal(context.sources, candidate.changes) is not None:
                    seen[key] = None
                    continue
                keys.add(key)
                batch.append(candidate)
        return batch

    def _quota(self, generator: Generator) -> int:
        """How many candidates a generator adds to an iteration: a model's are costly and
        each retry should learn from the last; template candidates are cheap and many."""
        if generator.reflective:
            return 1
        return self.budget.candidates_per_iteration or 8 * max(1, self.budget.parallel)

    def _verify(self, batch: list[Candidate], command: str, timeout: float) -> list[_Tried]:
        """Run the batch in parallel; stop starting new runs once cancelled."""
        tried: list[_Tried] = []
        pending = list(batch)
        order = {}
        for candidate in batch:
            self._order += 1
            order[id(candidate)] = self._order
        with ThreadPoolExecutor(max_workers=max(1, self.budget.parallel)) as executor:
            running: dict[Future[CandidateResult], Candidate] = {}
            while pending or running:
                while (
                    pending and len(running) < self.budget.parallel and not self._cancelled.is_set()
                ):
                    candidate = pending.pop(0)
                    future = executor.submit(
                        self.tester.run,
                        self.project_root,
                        candidate.changes,
                        command,
                        timeout=timeout,
                        cancel=self._stop_runs,
                        test_timeout=self._tight,
                        stop_at_hang=True,
                    )
                    running[future] = candidate
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    candidate = running.pop(future)
                    tried.append(_Tried(candidate, future.result(), order=order[id(candidate)]))
                    self._tried += 1
                    self._log_candidate(tried[-1])
                    self._note_best(tried[-1], len(pending) + len(running))
        return tried

    def _alternatives(
        self,
        streams: dict[int, Iterator[Candidate]],
        context: RepairContext,
        seen: dict[tuple[tuple[str, str], ...], _Tried | None],
        command: str,
        timeout: float,
    ) -> list[_Tried]:
        """One more batch of template candidates once one passes: weak tests let a wrong
        edit pass first, and the edit a careful person would make is often just behind it.
        Not for a model, whose every candidate costs a request."""
        if any(g.reflective for g in self.generators):
            return []
        passing: list[_Tried] = []
        for _ in range(self.budget.alternative_batches):
            if self._cancelled.is_set() or self._out_of_time():
                break
            extra = self._verify(self._next_batch(streams, context, seen), command, timeout)
            for item in extra:
                seen[normalized(item.candidate.changes)] = item
                if not item.result.passed:
                    self._remember(context, item, "failed")
            passing += [t for t in extra if t.result.passed]
        return passing

    def _retire_models(self) -> None:
        """A model's rounds are `max_iterations`: each costs requests. The templates cost
        only sandbox time, so they go on while candidates remain and time allows."""
        self.generators = [g for g in self.generators if not g.reflective]

    def _time_left(self) -> float:
        if not self._started:
            return self.budget.wall_clock_seconds
        return max(0.0, self.budget.wall_clock_seconds - (time.monotonic() - self._started))

    def _out_of_time(self) -> bool:
        return time.monotonic() - self._started > self.budget.wall_clock_seconds

    def _best_without_regressions(
        self,
        passing: list[_Tried],
        baseline: CandidateResult,
        context: RepairContext,
        timeout: float,
    ) -> _Tried | None:
        """Run the whole suite on the best few candidates that fixed the failing tests;
        the best one that breaks no test which passed before is the fix. Tests that
        already failed for other reasons may go on failing."""
        ranked = sorted(passing, key=_rank)
        passed_before = {c.test_id for c in baseline.cases if c.outcome is Outcome.PASSED}
        ran_before = {c.test_id for c in baseline.cases}
        targets = {c.test_id for c in baseline.failures}
        suite_timeout = self._suite_timeout(timeout)
        verified: list[_Tried] = []
        group = max(1, self.budget.parallel)
        # In rank order, until one breaks nothing: the whole suite runs once for the winner.
        # When the best break a test, the next ones (a weak failing test lets several wrong
        # edits rank above the right one, never to be tried again).
        for item in ranked[: group * _REGRESSION_GROUPS]:
            if self._cancelled.is_set() or verified:
                break
            full = self._whole_suite(item.candidate.changes, suite_timeout)
            if full.cancelled:
                break
            failing = {c.test_id for c in full.failures}
            if (
                full.timed_out
                and self._narrowed_baseline()
                and self._times_out_unchanged(suite_timeout)
            ):
                self._verdict = (Status.ENVIRONMENT, "the tests time out as they are")
                break
            broken = full.infrastructure_error or full.timed_out or full.out_of_memory
            if broken or failing & targets or (not full.cases and not full.passed):
                self._remember(context, item, "failed")
                continue
            if self._narrowed_baseline() and (unseen := failing - ran_before):
                # Regressions unless they failed on the unchanged code too.
                failed_before = self._failing_unchanged(unseen)
                passed_before |= unseen - failed_before
                if self._cancelled.is_set():
                    break  # the unchanged code's run was stopped: no verdict
                if stuck := self._hanging_outside(failed_before, context.sources):
                    self._verdict = (Status.NOT_FOUND, stuck)
                    break
                if self._partial_baseline and failed_before:
                    # Tests of the suite the first run stopped short of, failing with the
                    # bug and with the patch: a whole first run would have made them
                    # targets, so they still fail to be fixed. Not verified.
                    self._log(
                        "regression",
                        description=item.candidate.description,
                        unfixed=sorted(failed_before),
                        **_result_data(full),
                    )
                    self._remember(context, item, "failed")
                    continue
            regressions = len(failing & passed_before)
            self._log(
                "regression",
                description=item.candidate.description,
                regressions=sorted(failing & passed_before),
                **_result_data(full),
            )
            self._remember(context, item, "regressions" if regressions else "verified", regressions)
            if not regressions:
                verified.append(replace(item, result=full))
        if not verified:
            return None
        best = min(verified, key=_rank)
        self._record_id = self._verified_records.get(id(best.candidate))
        return best

    def _whole_suite(self, changes: Mapping[str, str], timeout: float | None) -> CandidateResult:
        """The whole suite on a candidate: split across the sandbox's slots when it can."""
        if isinstance(self.tester, ShardingTester):
            return self.tester.run_sharded(
                self.project_root, changes, self.test_command, timeout=timeout,
                cancel=self._stop_runs,
            )  # fmt: skip
        return self.tester.run(
            self.project_root, changes, self.test_command, timeout=timeout, cancel=self._stop_runs
        )

    def _review(self, best: _Tried, context: RepairContext) -> Review | None:
        """The reviewer's verdict on the patch about to be offered; None when there is no
        reviewer or it cannot answer (the tests already vouch for the patch)."""
        if self.reviewer is None or self._cancelled.is_set():
            return None
        self._emit(Phase.REVIEW, "reviewing the verified patch")
        try:
            review = self.reviewer.review(context, best.candidate)
        except Exception as error:  # a reviewer that fails must not cost the fix
            self._notes.append(f"review skipped: {error}")
            return None
        self._log(
            "review",
            description=best.candidate.description,
            approved=review.approved,
            reason=review.reason,
        )
        return review

    def _rejected_in_review(
        self, context: RepairContext, best: _Tried, review: Review
    ) -> RepairContext:
        self._notes.append(f"rejected in review: {best.candidate.description}: {review.reason}")
        attempt = Attempt(
            diff=unified_diff(context.sources, best.candidate.changes),
            outcome=f"passed the tests but was rejected in review: {review.reason}",
            output="",
        )
        attempts = (*context.attempts, attempt)[-_REFLECTION_DEPTH:]
        return replace(context, attempts=attempts)

    def _remember(
        self, context: RepairContext, item: _Tried, outcome: str, regressions: int = 0
    ) -> None:
        if self.memory is None or item.result.cancelled:
            return  # a cancelled run says nothing about the candidate
        from fixloop.memory.records import Outcome as Remembered

        record = self.memory.tried(context, item.candidate, Remembered(outcome), regressions)
        if outcome == "verified":
            self._verified_records[id(item.candidate)] = record.id

    def _reflect(self, context: RepairContext, failed: list[_Tried]) -> RepairContext:
        attempts = list(context.attempts)
        for item in failed[-_REFLECTION_DEPTH:]:
            attempts.append(
                Attempt(
                    diff=unified_diff(context.sources, item.candidate.changes),
                    outcome=item.result.summary(),
                    output=item.result.output.text,
                )
            )
        return replace(context, attempts=tuple(attempts[-_REFLECTION_DEPTH:]))

    # --- helpers ----------------------------------------------------------------------

    def _should_stop(self, baseline: CandidateResult) -> FixResult | None:
        if self._cancelled.is_set():
            return self._finish(Status.CANCELLED, "cancelled", baseline)
        if self._out_of_time():
            return self._finish(
                Status.NOT_FOUND,
                f"out of time after {self._tried} candidates "
                f"({self.budget.wall_clock_seconds:.0f} s budget){self._closest()}",
                baseline,
            )
        usage = self._usage()
        tokens, cost = int(_total(usage, "total_tokens")), _total(usage, "cost")
        if self.budget.max_tokens and tokens >= self.budget.max_tokens:
            return self._finish(
                Status.NOT_FOUND,
                f"token budget spent ({tokens} of {self.budget.max_tokens})",
                baseline,
            )
        if self.budget.max_cost and cost >= self.budget.max_cost:
            return self._finish(
                Status.NOT_FOUND,
                f"cost budget spent ({cost:.4f} of {self.budget.max_cost:.4f})",
                baseline,
            )
        return None

    def _usage(self) -> dict[str, object]:
        return {g.name: g.usage.as_dict() for g in self._all_generators if hasattr(g, "usage")}

    def _engine_name(self) -> str:
        return "+".join(g.name for g in self._all_generators)

    def _narrowed_command(self, baseline: CandidateResult) -> str:
        """The failing tests alone (pytest), so that each candidate costs little: stopping
        at the first that still fails, its traceback Python's own (pytest's long one costs
        tens of milliseconds a failure, and most candidates fail)."""
        ids = [c.test_id for c in baseline.failures if "::" in c.test_id]
        narrowed = with_tests(self.test_command, ids)
        if narrowed == self.test_command:
            return narrowed
        words = narrowed.split()
        chosen = ("-x", "--exitfirst", "--maxfail", "--tb", "--full-trace", "-l", "--showlocals")
        if any(word.startswith(chosen) for word in words):
            return narrowed  # the user's own choice of how the tests fail
        return with_tests(f"{self.test_command} -x --tb=native", ids)

    def _narrowed_baseline(self) -> bool:
        """Whether the baseline ran only some of the tests (a given related-tests run, or
        one that stopped after its first failures)."""
        if self._partial_baseline:
            return True
        return self._given is not None and self._given.command != self.test_command.strip()

    def _failing_unchanged(self, test_ids: set[str]) -> set[str]:
        """Which of these tests, unseen by a narrowed baseline, fail on the unchanged code
        too; each is run there once per session (named, for pytest; else the whole suite).
        A test that run did not report is not known to fail: a regression, to be safe."""
        unknown = sorted(t for t in test_ids if t not in self._unchanged)
        if unknown and not self._cancelled.is_set():
            named = self._is_pytest() and all("::" in t for t in unknown)
            command = with_tests(self.test_command, unknown) if named else self.test_command
            result = self.tester.run(
                self.project_root,
                {},
                command,
                timeout=self._suite_timeout(None),
                cancel=self._stop_runs,
            )
            self._log("unchanged", command=command, **_result_data(result))
            self._unchanged.update({c.test_id: c for c in result.cases})
        bad = (Outcome.FAILED, Outcome.ERROR)
        return {t for t in test_ids if t in self._unchanged and self._unchanged[t].outcome in bad}

    def _times_out_unchanged(self, timeout: float | None) -> bool:
        """Whether the whole suite times out on the unchanged code too (run once): a
        first run of some of the tests could not know."""
        if self._unchanged_suite is None and not self._cancelled.is_set():
            self._unchanged_suite = self._whole_suite({}, timeout)
            self._log("unchanged", command=self.test_command, **_result_data(self._unchanged_suite))
            self._unchanged.update({c.test_id: c for c in self._unchanged_suite.cases})
        return self._unchanged_suite is not None and self._unchanged_suite.timed_out

    def _hanging_outside(self, test_ids: set[str], sources: Mapping[str, str]) -> str | None:
        """Why no edit of the sources can pass the suite: one of these tests (failing on
        the unchanged code too) hangs, and where it is stuck is not in the sources."""
        for test_id in sorted(test_ids):
            case = self._unchanged.get(test_id)
            if case is None or not _timed_out(case):
                continue
            if any(self._relative(frame.path) in sources for frame in case.frames):
                continue
            stuck = next((f for f in reversed(case.frames) if f.in_project), None)
            where = f" in {self._relative(stuck.path) or stuck.path}:{stuck.line}" if stuck else ""
            return (
                f"no fix found: {test_id} hangs{where}, outside the code under repair "
                f"({', '.join(sorted(sources))}), with the patch and without it"
            )
        return None

    def _suite_timeout(self, candidate_timeout: float | None) -> float | None:
        """A whole-suite run's timeout: a few candidates' worth, or the sandbox's own when
        the baseline ran only some tests (their time says nothing of the suite's)."""
        if self.budget.test_timeout is not None:
            return self.budget.test_timeout * 3
        if self._narrowed_baseline() or candidate_timeout is None:
            return None
        return candidate_timeout * 3

    def _test_timeout(self, baseline: CandidateResult) -> float | None:
        """Each test's limit for the candidates: ten times what the tests took in the
        baseline (the failing ones that did not hang, else most of the others: one slow
        test elsewhere says nothing of these), at least 2 s, never above the sandbox's
        own. A candidate that loops forever then fails fast. None: the sandbox's (when the
        baseline says nothing of the times)."""
        own = [c.duration for c in baseline.failures if not _timed_out(c)]
        healthy = own or sorted(c.duration for c in baseline.cases if not _timed_out(c))
        if not healthy:
            return None
        typical = max(own) if own else healthy[int(0.95 * (len(healthy) - 1))]
        return min(self._sandbox_test_limit(), max(2.0, 10.0 * typical))

    def _sandbox_test_limit(self) -> float:
        config = getattr(self.tester, "config", None)
        return float(getattr(config, "test_timeout_seconds", _DEFAULT_TEST_LIMIT))

    def _candidate_timeout(self, baseline: CandidateResult) -> float:
        if self.budget.test_timeout is not None:
            return self.budget.test_timeout
        # A candidate that hangs costs its whole timeout: scale it to the suite's own time.
        return max(2.0, baseline.duration * 4 + 1.0)

    def _relative(self, path: str) -> str | None:
        candidate = Path(path)
        if not candidate.is_absolute():
            return candidate.as_posix()
        try:
            return candidate.resolve().relative_to(self.project_root).as_posix()
        except ValueError:
            return None

    def _fixed(self, best: _Tried, context: RepairContext, baseline: CandidateResult) -> FixResult:
        diff = unified_diff(context.sources, best.candidate.changes)
        return replace(
            self._finish(
                Status.FIXED,
                f"verified: {best.result.summary()} ({best.candidate.description})",
                baseline,
            ),
            diff=diff,
            changes=dict(best.candidate.changes),
            candidate=best.candidate,
            final=best.result,
        )

    def _finish(self, status: Status, message: str, baseline: CandidateResult | None) -> FixResult:
        if self.memory is not None and not self.memory.flush():
            self._notes.append("memory unavailable: this session's attempts wait in its spool")
        self._emit(Phase.DONE, message, baseline)
        return FixResult(
            status=status,
            message=message,
            iterations=self._iteration,
            candidates_tried=self._tried,
            duration=time.monotonic() - self._started,
            baseline=baseline,
            notes=tuple(self._notes),
            usage=self._usage(),
            record_id=self._record_id,
            session_id=self.session_id,
            engine=self._engine_name(),
        )

    def _note_best(self, item: _Tried, waiting: int) -> None:
        """Keep the candidate that leaves the fewest failing tests, for the progress line."""
        result = item.result
        if result.infrastructure_error or result.timed_out or not result.cases:
            return
        if len(result.cases) < self._baseline_failing:
            return  # it stopped at its first failure: how many would fail is not known
        failing = len(result.failures)
        if self._best_failing is not None and failing >= self._best_failing:
            return
        self._best_failing = failing
        targets = self._baseline_failing or failing
        self._best_so_far = (
            f"{item.candidate.description} ({failing} of {targets} failing tests still fail)"
        )
        self._emit(Phase.TEST, f"testing candidates, {waiting} waiting")

    def _log(self, event: str, **data: Any) -> None:
        if self.on_event is not None:
            self.on_event(event, data)

    def _log_candidate(self, item: _Tried) -> None:
        candidate = item.candidate
        self._log(
            "candidate",
            iteration=self._iteration,
            generator=candidate.generator,
            template=candidate.template,
            description=candidate.description,
            edit_size=candidate.edit_size,
            files=sorted(candidate.changes),
            **_result_data(item.result),
        )

    def _audited(self, passing: list[_Tried], context: RepairContext) -> list[_Tried]:
        """The passing candidates that bring in no new safety or secret finding."""
        if passing:
            self._emit(Phase.AUDIT, "auditing the passing candidates")
        kept = []
        for item in passing:
            introduced = introduced_findings(context.sources, item.candidate.changes)
            if not introduced:
                kept.append(item)
                continue
            note = f"not offered: {item.candidate.description} adds {', '.join(introduced)}"
            self._log("audit", description=item.candidate.description, introduced=introduced)
            if note not in self._notes:
                self._notes.append(note)
            self._remember(context, item, "failed")
        return kept

    def _emit(self, phase: Phase, message: str, baseline: CandidateResult | None = None) -> None:
        self._log("phase", phase=phase.value, iteration=self._iteration, message=message)
        baseline = baseline or self._baseline
        failing = len(baseline.failures) if baseline else 0
        total = len(baseline.cases) if baseline else 0
        self.on_progress(
            Progress(
                phase,
                self._iteration,
                self.budget.max_iterations,
                failing,
                total,
                self._tried,
                message,
                self._best_so_far,
                seconds_left=self._time_left(),
                model_rounds=any(g.reflective for g in self.generators),
                spent=self._spent(),
            )
        )

    def _spent(self) -> float:
        """The share of the budget spent: time, or a model's rounds when it has fewer left."""
        shares = [1.0 - self._time_left() / max(1e-9, self.budget.wall_clock_seconds)]
        if any(g.reflective for g in self.generators):
            shares.append(self._iteration / max(1, self.budget.max_iterations))
        return min(1.0, max(shares))
