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
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import suppress
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from fixloop.loop.audit import introduced_findings
from fixloop.loop.audit import prepare as prepare_audit
from fixloop.loop.differential import Differential
from fixloop.loop.first_run import Status as Status  # where callers import it
from fixloop.loop.first_run import (
    editable_sources,
    hang_outside,
    repair_context,
    sources_the_failures_run,
    target_folders,
    uncollectable,
    verdict_on_baseline,
)
from fixloop.loop.model import (
    Attempt,
    Candidate,
    Generator,
    GeneratorUnavailable,
    Location,
    RepairContext,
    RepairMemory,
    Review,
    Reviewer,
)
from fixloop.loop.naturalness import scorer_for
from fixloop.loop.patches import normalized, refusal, unified_diff
from fixloop.loop.ranking import Merits, ranked, why
from fixloop.loop.ranking import Tried as _Tried
from fixloop.loop.verify import GivenBaseline as GivenBaseline  # where callers import it
from fixloop.loop.verify import Verifier, result_data
from fixloop.sandbox.cancellation import Cancellation
from fixloop.sandbox.commands import parse_command
from fixloop.sandbox.results import CandidateResult, Tester
from fixloop.words import counted, first_and_more

if TYPE_CHECKING:
    from fixloop.loop.model import AttemptOutcome

_no_merits = Merits()
# Reflection keeps the last few failed attempts: older ones cost tokens and say little.
_REFLECTION_DEPTH = 3


def tally_of(result: CandidateResult | None) -> dict[str, int]:
    """A run's passed/failed counts; zeros when there was no run."""
    return result.tally() if result is not None else {"passed": 0, "failed": 0}


def tally_line(final: CandidateResult, failing_before: int, untouched: int = 0) -> str:
    """A verifying run's summary; its failures that the unchanged code has too, and those
    of tests that never run what the patch edits (flaky), said."""
    verb = "fails" if failing_before == 1 else "fail"
    before = f"; {failing_before} {verb} without the patch too" if failing_before else ""
    flaky = f"; {untouched} flaky (never running the patched lines)" if untouched else ""
    return f"{final.summary()}{before}{flaky}"


def _unconcerned(count: int) -> str:
    """How many tests fail without the patch too and never run what it edits, said."""
    if count == 1:
        return "1 test that fails without it too and never runs the lines it edits"
    return f"{count} tests that fail without it too and never run the lines it edits"


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
        "why": result.why,
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
            where = f"{counted(self.candidates_tried, 'candidate')} tried" if self.iteration else ""
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
class FixResult:
    status: Status
    message: str
    diff: str = ""
    changes: Mapping[str, str] = field(default_factory=dict)
    # Each changed file's text the patch was made from: a front end applying it checks
    # that the file still has it.
    originals: Mapping[str, str] = field(default_factory=dict)
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
    # Why the offered patch and not the other passing ones (ranking.why), for the user.
    why: str = ""
    # Failing tests of the final run that fail without the patch too (never running what
    # it edits): an environment's, not the patch's (a program the sandbox lacks, ...).
    failing_before: int = 0
    # Failing tests of the final run that passed without the patch and never run what it
    # edits: flaky (timing, load), not the patch's.
    untouched: int = 0

    def final_summary(self) -> str:
        """The verifying run's tally, saying how many of its failures were there before."""
        return tally_line(self.final, self.failing_before, self.untouched) if self.final else ""

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
        memory: RepairMemory | None = None,
        on_event: EventSink | None = None,
        focus: Location | None = None,
        reviewer: Reviewer | None = None,
        session_id: str | None = None,
        baseline: GivenBaseline | None = None,
        write_memory_later: bool = False,
    ) -> None:
        self.project_root = project_root.resolve()
        self.test_command = test_command
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
        # The caller writes the records itself (`write_memory`) once it has shown the
        # result: the command line prints the fix first, the user need not wait for them.
        self.write_memory_later = write_memory_later
        self._remembered: list[Candidate] = []
        # Memory's candidates are the engine's own, tested first: where its stream reaches
        # one, it takes that one's place in the batch, so that memory moves candidates
        # forward without adding to what the session tests in all.
        self._recalled: set[tuple[tuple[str, str], ...]] = set()
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
        # The sandbox runs: the first run, the candidates', the whole suite for a fix.
        self._verifier = Verifier(
            self.project_root,
            test_command,
            tester,
            parallel=self.budget.parallel,
            test_timeout=self.budget.test_timeout,
            targets=self.targets,
            given=baseline,
            cancelled=self._cancelled,
            stop_runs=self._stop_runs,
            log=self._log,
        )
        self._given = self._verifier.given
        self._why = ""
        self._broke = 0  # passing candidates the whole suite refused, for the reason
        # The next batch of template candidates, made while the current one runs.
        self._ahead: Future[list[Candidate]] | None = None
        self._maker_thread = ThreadPoolExecutor(1, thread_name_prefix="fixloop-next-batch")

    @property
    def model_rounds(self) -> bool:
        """Whether a model's rounds bound the session (`max_iterations`); else time does."""
        return any(g.reflective for g in self.generators)

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
        finally:
            self._verifier.close()
            self._maker_thread.shutdown(wait=False)
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
        if self.targets:  # the originals' audit too: the candidates' is then an edit's
            threading.Thread(target=self._prepare_audit, name="fixloop-audit", daemon=True).start()
        baseline = self._baseline_run()
        given = {"given": self._given.command} if self._given else {}
        self._log("baseline", **result_data(baseline), **given)
        self._baseline_failing = len(baseline.failures)
        self._baseline = baseline
        if baseline.cancelled:
            return self._finish(Status.CANCELLED, "cancelled", baseline)
        if (healthy := self._verifier.without_slow(baseline)) is not None:
            # Slow tests, not hung ones: perhaps all the failures there were.
            baseline = healthy
            self._baseline_failing, self._baseline = len(baseline.failures), baseline
        early = self._verdict_on_baseline(baseline)
        if early is not None:
            return early
        sources = editable_sources(self._verifier, self.targets, baseline)
        spectrum: str | None = None
        if not sources and self._verifier.is_pytest() and self.use_localization:
            # A test file given, or a wrong value asserted in the test: the code to fix
            # is what the failing tests run (traced in every project file but the tests).
            self._emit(Phase.LOCALIZE, "finding the code the failing tests run", baseline)
            spectrum = self._verifier.spectrum(baseline, {})
            folders = target_folders(self._verifier, self.targets)
            sources = sources_the_failures_run(self._verifier, spectrum, folders)
        if not sources:
            return self._finish(
                Status.NOT_FOUND,
                "no source file to repair: the failing tests run no project code outside "
                "the tests (name the file to fix)",
                baseline,
            )
        if left_out := uncollectable(baseline, sources, self._verifier):
            baseline = self._without_uncollectable(baseline, left_out)
            self._baseline_failing, self._baseline = len(baseline.failures), baseline
        if (hang := hang_outside(baseline, sources, self._verifier)) is not None:
            return self._finish(Status.NOT_FOUND, hang, baseline)
        # The slots get ready for the candidates' runs meanwhile: one while the
        # localization run has the other, that one once it is done.
        self._verifier.prewarm_soon(baseline, leave_free=1)
        self._emit(Phase.LOCALIZE, "finding the suspicious lines", baseline)
        baseline, context = self._context(baseline, sources, spectrum)
        self._baseline_failing = len(baseline.failures)
        self._baseline = baseline
        if context is None:
            return self._finish(Status.NOT_FOUND, self._verifier.flaky_message(), baseline)
        self._verifier.prewarm_soon(baseline)
        if self._cancelled.is_set():
            return self._finish(Status.CANCELLED, "cancelled", baseline)
        if self.memory is not None:
            context = self.memory.prepare(context)
            recalled = self.memory.recall(context)  # tried first, verified like any candidate
            self._remembered = [found.candidate for found in recalled.suggestions]
            self._remembered += recalled.ahead
            self._recalled = {normalized(c.changes) for c in self._remembered}
        return self._iterate(context, baseline)

    def _iterate(self, context: RepairContext, baseline: CandidateResult) -> FixResult:
        streams = {id(g): g.candidates(context) for g in self.generators}
        seen: dict[tuple[tuple[str, str], ...], _Tried | None] = {}
        verifier = self._verifier
        narrowed = verifier.narrowed_command(baseline)
        timeout = verifier.candidate_timeout(baseline)
        verifier.tight = verifier.test_limit(baseline)
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
            self._emit(Phase.TEST, f"testing {counted(len(batch), 'candidate')}", baseline)
            if iteration == 1:
                self._build_scorer_meanwhile(context)
            narrowed = verifier.narrowed_command(baseline)  # with the guards found so far
            tried = self._verify(batch, narrowed, timeout, self._maker(streams, context, seen))
            for item in tried:
                seen[normalized(item.candidate.changes)] = item
                if not item.result.passed:
                    self._remember(context, item, "failed")
            passing = self._audited([t for t in tried if t.result.passed], context)
            if passing:
                self._remembered = []  # memory's other guesses are no alternatives
            # A fix from memory (its kind's closest), passing, is what memory vouches for: no
            # search for alternatives (they were searched when it was learned).
            if passing and all(t.candidate.generator != "memory" for t in passing):
                passing += self._audited(
                    self._alternatives(streams, context, seen, narrowed, timeout), context
                )
            if passing:
                self._emit(Phase.REGRESSION, "checking the whole suite", baseline)
                best = self._best_without_regressions(passing, baseline, context, timeout)
                if (ended := verifier.stop) is not None:
                    status = Status.ENVIRONMENT if ended.environment else Status.NOT_FOUND
                    return self._finish(status, ended.message, baseline)
                if best is not None:
                    review = self._review(best, context)
                    if review is None or review.approved:
                        return self._fixed(best, context, baseline)
                    context = self._rejected_in_review(context, best, review)
            self._emit(Phase.REFLECT, "learning from the failures", baseline)
            context = self._reflect(context, [t for t in tried if not t.result.passed])
        return self._finish(Status.NOT_FOUND, self._nothing_verified(), baseline)

    def _build_scorer_meanwhile(self, context: RepairContext) -> None:
        """The ranking's model of the project's code, built while the first candidates
        run in the sandbox: built earlier, it held the interpreter while the localization
        run, memory and the templates (which the candidates wait for) had work to do."""
        threading.Thread(
            target=scorer_for,
            args=(self.project_root, context.sources),
            name="fixloop-ranking",
            daemon=True,
        ).start()

    def _prepare_audit(self) -> None:
        """Analyse the targets as they are now, for `_audited`; a file that cannot be read
        or analysed here is left to the audit, which says why."""
        for path in self.targets:
            with suppress(Exception):
                text = (self.project_root / path).read_text(encoding="utf-8")
                prepare_audit([(path, text)])

    def _closest(self) -> str:
        """The candidate that got nearest, for a session that found no fix: the user may
        take it from there (other failing tests may fail for another reason)."""
        closer = self._best_failing is not None and self._best_failing < self._baseline_failing
        return f"; closest: {self._best_so_far}" if closer else ""

    def _nothing_verified(self) -> str:
        message = f"no verified fix after {self._tried} candidates{self._closest()}"
        rejected = [note for note in self._notes if note.startswith("rejected in review")]
        if rejected:  # the tests passed: why it is not offered is the reviewer's word
            message += f"; {rejected[-1]}"
        python = all(path.endswith(".py") for path in self.targets)
        if self._tried == 0 and not python:
            message += (
                " (the offline templates repair Python; for other languages set a model, "
                "`llm.model`, with engine auto or llm)"
            )
        return message

    # --- phases -----------------------------------------------------------------------

    def _baseline_run(self) -> CandidateResult:
        """The tests on the code as it is (verify.py): the caller's run when it gave one."""
        return self._verifier.baseline(lambda message: self._emit(Phase.BASELINE, message))

    def _verdict_on_baseline(self, baseline: CandidateResult) -> FixResult | None:
        verdict = verdict_on_baseline(baseline, self._verifier)
        return None if verdict is None else self._finish(verdict.status, verdict.message, baseline)

    def _without_uncollectable(
        self, baseline: CandidateResult, modules: dict[str, str]
    ) -> CandidateResult:
        """The first run less the test modules that cannot be imported here: said once,
        and not held against a patch in the whole-suite run (verify.py)."""
        self._verifier.uncollectable = modules
        self._log("uncollectable", modules=modules)
        which, reason = first_and_more(list(modules)), next(iter(modules.values()))
        self._notes.append(
            f"left out: test modules that cannot be imported here ({which}: {reason})"
        )
        return replace(baseline, cases=tuple(c for c in baseline.cases if c.test_id not in modules))

    def _context(
        self, baseline: CandidateResult, sources: dict[str, str], spectrum: str | None = None
    ) -> tuple[CandidateResult, RepairContext | None]:
        """The first run, less its failing tests that never run the sources and its flaky
        ones, and what the generators see of it (`spectrum`: the localization run's, when
        it ran already); None when every failure was flaky: nothing to repair."""
        use = self.use_localization
        if spectrum is None:
            spectrum = self._verifier.spectrum(baseline, sources) if use else baseline.probe_data
        if use and (fewer := self._verifier.without_unreached(baseline, spectrum, sources)):
            baseline, spectrum = fewer
        if use and (steady := self._verifier.without_flaky(baseline, spectrum)) is not None:
            baseline = steady
            if not baseline.failures:
                return baseline, None
        return baseline, repair_context(
            self._verifier,
            baseline,
            sources,
            spectrum,
            focus=self.focus,
            use_localization=use,
            template_prior=self.template_prior,
        )

    def _next_batch(
        self,
        streams: dict[int, Iterator[Candidate]],
        context: RepairContext,
        seen: dict[tuple[tuple[str, str], ...], _Tried | None],
    ) -> list[Candidate]:
        if self._ahead is not None:
            ahead, self._ahead = self._ahead.result(), None
            # Made while the last batch ran: what that batch tested is no longer new.
            fresh = [c for c in ahead if normalized(c.changes) not in seen]
            if fresh:
                return fresh
        batch: list[Candidate] = []
        keys: set[tuple[tuple[str, str], ...]] = set()
        fits = [c for c in self._remembered if refusal(context.sources, c.changes) is None]
        if fits:  # memory's first, as many at a time as run at once (one passing: no more)
            size = max(1, self.budget.parallel)
            self._remembered = fits[size:]
            return fits[:size]
        self._remembered = []
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
                    if key in self._recalled:  # tested early by memory: its place is taken
                        self._recalled.discard(key)
                        size -= 1
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

    def _maker(
        self,
        streams: dict[int, Iterator[Candidate]],
        context: RepairContext,
        seen: dict[tuple[tuple[str, str], ...], _Tried | None],
    ) -> Callable[[], list[Candidate]] | None:
        """What makes the next batch while the current one runs, when nothing it holds can
        change with the results and making it costs nothing but time: template streams
        alone (a model's next round reads the results; a generator that reports usage
        spends tokens by generating), memory's suggestions all taken."""
        spends = any(g.reflective or getattr(g, "usage", None) is not None for g in self.generators)
        if self._remembered or spends:
            return None
        return lambda: self._next_batch(streams, context, seen)

    def _verify(
        self,
        batch: list[Candidate],
        command: str,
        timeout: float,
        make_next: Callable[[], list[Candidate]] | None = None,
    ) -> list[_Tried]:
        """Run the batch in parallel (verify.py); stop starting new runs once cancelled.
        `make_next` makes the next batch meanwhile, on a thread of its own: the slots then
        wait for no template search between batches."""
        ahead = self._maker_thread.submit(make_next) if make_next is not None and batch else None
        tried: list[_Tried] = []
        order = {}
        for candidate in batch:
            self._order += 1
            order[id(candidate)] = self._order

        def ended(candidate: Candidate, result: CandidateResult, waiting: int) -> None:
            tried.append(_Tried(candidate, result, order=order[id(candidate)]))
            self._tried += 1
            self._log_candidate(tried[-1])
            self._note_best(tried[-1], waiting)

        try:
            self._verifier.run_candidates(batch, command, timeout, ended)
        finally:
            if ahead is not None:
                wait([ahead])  # the streams and `seen` are the session thread's again
                self._ahead = ahead
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
        batches = self.budget.alternative_batches
        for index in range(batches):
            if self._cancelled.is_set() or self._out_of_time():
                break
            batch = self._next_batch(streams, context, seen)
            more = self._maker(streams, context, seen) if index < batches - 1 else None
            extra = self._verify(batch, command, timeout, more)
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
        """The best of the candidates that fixed the failing tests and break no test of
        the whole suite which passed before (verify.py): in the reviewer's order
        (ranking.py), the whole suite runs once for the winner."""
        order = self._ranked(passing, context)
        verified = self._verifier.best_without_regressions(
            order,
            baseline,
            context.sources,
            timeout,
            lambda item, outcome, regressions: self._checked(context, item, outcome, regressions),
        )
        if not verified:
            return None
        best = verified[0]
        chosen = next(item for item in order if item.candidate is best.candidate)
        others = [item for item in order if item.candidate is not best.candidate]
        self._why = why(chosen, others, broke=self._broke)
        self._log("chosen", description=best.candidate.description, why=self._why)
        self._record_id = self._verified_records.get(id(best.candidate))
        return best

    def _checked(
        self, context: RepairContext, item: _Tried, outcome: str, regressions: int
    ) -> None:
        """A whole-suite verdict on a candidate: remembered, and counted for the reason
        given with the fix when it broke other tests."""
        self._broke += outcome != "verified"
        self._remember(context, item, outcome, regressions)

    def _ranked(self, passing: list[_Tried], context: RepairContext) -> list[_Tried]:
        """The passing candidates as a reviewer would order them (ranking.py); where
        several remain, generated inputs tell their behaviour apart (differential.py)."""
        started = time.monotonic()
        differential = Differential(
            self.tester,
            self.project_root,
            context.sources,
            self.test_command,
            self._stop_runs,
            stopped=lambda: self._cancelled.is_set() or self._out_of_time(),
        )
        python = all(path.endswith(".py") for item in passing for path in item.candidate.changes)
        # One candidate has no rival to be told from: scoring it with the project's model
        # (0.15 s on marshmallow) would change nothing.
        alone = len(passing) < 2
        scorer = scorer_for(self.project_root, context.sources) if python and not alone else None
        order = ranked(passing, context, scorer, differential.compare if python else None)
        self._log(
            "ranking",
            seconds=round(time.monotonic() - started, 3),
            candidates=[
                {"description": item.candidate.description, **(item.merits or _no_merits).data()}
                for item in order
            ],
        )
        return order

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
        record_id = self.memory.tried(
            context, item.candidate, cast("AttemptOutcome", outcome), regressions
        )
        if outcome == "verified":
            self._verified_records[id(item.candidate)] = record_id

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

    def _fixed(self, best: _Tried, context: RepairContext, baseline: CandidateResult) -> FixResult:
        diff = unified_diff(context.sources, best.candidate.changes)
        if regardless := sorted(self._verifier.failing_regardless):
            which = f"{_unconcerned(len(regardless))} ({first_and_more(regardless)})"
            self._notes.append(f"not counted against the patch: {which}")
        if untouched := sorted(self._verifier.untouched_failures):
            self._notes.append(
                f"not counted against the patch, as flaky: {first_and_more(untouched)}, "
                "failing with it, passing without it, never running the lines it edits"
            )
        tally = tally_line(best.result, len(regardless), len(untouched))
        return replace(
            self._finish(
                Status.FIXED, f"verified: {tally} ({best.candidate.description})", baseline
            ),
            diff=diff,
            changes=dict(best.candidate.changes),
            originals={
                p: context.sources[p] for p in best.candidate.changes if p in context.sources
            },
            candidate=best.candidate,
            final=best.result,
            why=self._why,
            failing_before=len(regardless),
            untouched=len(untouched),
        )

    def write_memory(self) -> str | None:
        """Write what the session tried to memory; a note for the user when the records
        went to the spool instead (memory unavailable)."""
        if self.memory is None or self.memory.flush():
            return None
        return "memory unavailable: this session's attempts wait in its spool"

    def _finish(self, status: Status, message: str, baseline: CandidateResult | None) -> FixResult:
        if not self.write_memory_later and (note := self.write_memory()) is not None:
            self._notes.append(note)
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
            runner=item.result.runner,  # "warm", "fork", "exec": what the test run cost
            # The tests' own time in it (pytest's, per test): the rest is the runner's.
            tests_time=round(sum(case.duration for case in item.result.cases), 4),
            **({"cpu": round(item.result.cpu, 4)} if item.result.cpu is not None else {}),
            **({"warm_fallback": why} if (why := item.result.warm_fallback) else {}),
            **result_data(item.result),
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
                model_rounds=self.model_rounds,
                spent=self._spent(),
            )
        )

    def _spent(self) -> float:
        """The share of the budget spent: time, or a model's rounds when it has fewer left."""
        shares = [1.0 - self._time_left() / max(1e-9, self.budget.wall_clock_seconds)]
        if self.model_rounds:
            shares.append(self._iteration / max(1, self.budget.max_iterations))
        return min(1.0, max(shares))
