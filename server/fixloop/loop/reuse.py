"""A remembered fix checked on today's code, without a fix session: the first run (or the
caller's), memory's suggestion for its failures, that one candidate on the failing tests,
then the whole suite (verify.py). No generator, no budget, no reviewer: there is one
candidate, and it is offered only if the tests pass.

    check = ReuseCheck(root, "pkg/mod.py", "python -m pytest -q", tester, memory, parallel=2)
    found = check.run()          # blocking; `check.cancel()` from any thread
    if found: offer found.changes, written to memory (found.record) when the user takes it

What it tries counts in memory as a session's attempts do (`memory.tried`, one write at the
end): a re-application that fails the tests counts against the remembered fix. The
verified attempt is the caller's to write, when the user takes the fix (`hold_verified`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from fixloop.loop.audit import introduced_findings
from fixloop.loop.first_run import (
    editable_sources,
    hang_outside,
    repair_context,
    verdict_on_baseline,
)
from fixloop.loop.model import RepairContext
from fixloop.loop.patches import refusal
from fixloop.loop.ranking import Tried
from fixloop.loop.verify import GivenBaseline, Say, Verifier
from fixloop.sandbox.cancellation import Cancellation
from fixloop.sandbox.results import CandidateResult, Tester

if TYPE_CHECKING:
    from fixloop.loop.model import AttemptOutcome
    from fixloop.loop.recall import SessionMemory, Suggestion
    from fixloop.memory.records import AttemptRecord


@dataclass(frozen=True)
class Reused:
    """A remembered fix that passed the whole suite on today's code."""

    suggestion: Suggestion
    changes: Mapping[str, str]  # the files with the fix
    final: CandidateResult  # the whole suite's run with it
    record: AttemptRecord  # the verified attempt, not yet written


class ReuseCheck:
    """One check of memory's suggestion for a file's failing tests."""

    def __init__(
        self,
        project_root: Path,
        target: str,
        test_command: str,
        tester: Tester,
        memory: SessionMemory,
        *,
        parallel: int,
        test_timeout: float | None = None,
        given: GivenBaseline | None = None,
        log: Say | None = None,
    ) -> None:
        self.target = target
        self.memory = memory
        self._cancelled = threading.Event()
        self._stop_runs = Cancellation()
        self._verifier = Verifier(
            project_root.resolve(),
            test_command,
            tester,
            parallel=parallel,
            test_timeout=test_timeout,
            targets=[target],
            given=given,
            cancelled=self._cancelled,
            stop_runs=self._stop_runs,
            log=log or _quiet,
        )

    def cancel(self) -> None:
        """Start no more runs, and stop those in progress in the sandbox."""
        self._cancelled.set()
        self._stop_runs.cancel()

    def run(self) -> Reused | None:
        """The verified remembered fix, or None (nothing to fix, nothing remembered that
        applies, or it did not pass). Without a given first run, memory is asked whether it
        holds any fix at all before the sandbox runs anything."""
        verifier = self._verifier
        if verifier.given is None and not self.memory.store.holds_fixes():
            return None
        baseline = verifier.baseline(lambda message: None)
        if baseline.cancelled or self._cancelled.is_set():
            return None
        if verdict_on_baseline(baseline, verifier) is not None:
            return None
        sources = editable_sources(verifier, [self.target], baseline)
        if not sources or hang_outside(baseline, sources, verifier) is not None:
            return None
        try:
            return self._checked(baseline, sources)
        finally:
            verifier.close()
            self.memory.flush()

    def _checked(self, baseline: CandidateResult, sources: dict[str, str]) -> Reused | None:
        found = self._suggestion(baseline, sources)
        if found is None or self._cancelled.is_set():
            return None
        context, suggestion = found
        candidate = suggestion.candidate
        if refusal(context.sources, candidate.changes) is not None:
            return None
        verifier = self._verifier
        timeout = verifier.candidate_timeout(baseline)
        verifier.tight = verifier.test_limit(baseline)
        results: list[CandidateResult] = []
        verifier.run_candidates(
            [candidate],
            verifier.narrowed_command(baseline),
            timeout,
            lambda _candidate, result, _waiting: results.append(result),
        )
        if not results or results[0].cancelled:
            return None  # a cancelled run says nothing about the fix
        if not results[0].passed or introduced_findings(context.sources, candidate.changes):
            self.memory.tried(context, candidate, "failed")
            return None
        records: list[str] = []

        def checked(item: Tried, outcome: str, regressions: int) -> None:
            if not item.result.cancelled:
                kind = cast("AttemptOutcome", outcome)
                record_id = self.memory.tried(context, item.candidate, kind, regressions)
                records.append(record_id if outcome == "verified" else "")

        verified = verifier.best_without_regressions(
            [Tried(candidate, results[0])], baseline, context.sources, timeout, checked
        )
        record = self.memory.held(records[-1]) if verified and records else None
        if not verified or record is None:
            return None
        return Reused(suggestion, dict(candidate.changes), verified[0].result, record)

    def _suggestion(
        self, baseline: CandidateResult, sources: dict[str, str]
    ) -> tuple[RepairContext, Suggestion] | None:
        """Memory's suggestion and the context it was made for. A remembered fix whose own
        lines are found again needs no localization: the spectrum's run (a sandbox run) is
        made only when memory has nothing such, for a fix of the same kind at a
        suspicious line (a transferred one)."""
        verifier = self._verifier
        spectrum = baseline.probe_data
        context = self.memory.prepare(repair_context(verifier, baseline, sources, spectrum))
        suggestion = self.memory.suggestion(context)
        if suggestion is not None and not suggestion.transferred:
            return context, suggestion
        traced = verifier.spectrum(baseline, sources)
        if traced is not spectrum and not self._cancelled.is_set():
            context = self.memory.prepare(repair_context(verifier, baseline, sources, traced))
            suggestion = self.memory.suggestion(context)
        return None if suggestion is None else (context, suggestion)


def _quiet(event: str, **data: Any) -> None:
    """No log: the caller says what the check did."""
