"""The loop's one handle on memory during a fix session.

    memory = SessionMemory(store)
    context = memory.prepare(context)          # template prior and past fixes filled in
    suggestion = memory.suggestion(context)    # a remembered fix to test first, if any
    ...
    record = memory.tried(context, candidate, Outcome.FAILED)   # every tested candidate
    ...
    memory.flush()                             # one write at the end of the session

The suggestion is a remembered fix re-applied where its lines are found again, or else
the engine's likeliest edit of the same shape as a remembered fix of a similar failure
(the same kind of bug in other code). Tested alone before anything else; if it fails,
that counts against the remembered fix (`failed_reuses`). A suggestion never tested
counts for nothing.

The verified record's `id` (`FixResult.record_id`) is what the editor later passes to
`MemoryStore.record_verdict` (see the package docstring).
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fixloop.memory.records import AttemptRecord, Outcome, attempt_from_candidate

if TYPE_CHECKING:
    from fixloop.loop.model import Candidate, RepairContext
    from fixloop.memory.store import MemoryStore, Suggestion


def _changes_key(candidate: Candidate) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(candidate.changes.items()))


@dataclass
class SessionMemory:
    """Reads memory before a session and collects its attempts for one write after."""

    store: MemoryStore
    session: str = field(default_factory=lambda: uuid.uuid4().hex)
    pending: list[AttemptRecord] = field(default_factory=list)
    # A suggested candidate's changes → the remembered fix it re-applies.
    _suggested: dict[tuple[tuple[str, str], ...], str] = field(default_factory=dict)

    def warm_up(self) -> None:
        """Open the store now (from a thread of its own while the baseline runs): opening
        an embedded store costs most of a second that `prepare` need not wait for."""
        self.store.available()

    def prepare(self, context: RepairContext, past_fixes: int = 3) -> RepairContext:
        """The context with `template_prior` and `past_fixes` from memory (unchanged
        when memory is off or unavailable)."""
        prior = self.store.prior_for(context)
        past = self.store.past_fixes(context, past_fixes)
        if not prior and not past:
            return context
        merged = {**context.template_prior, **prior}
        return dataclasses.replace(context, template_prior=merged, past_fixes=past)

    def suggestion(self, context: RepairContext) -> Suggestion | None:
        """A remembered fix re-applied to this code: test it like any candidate."""
        found = self.store.suggestion(context)
        if found is not None:
            self._suggested[_changes_key(found.candidate)] = found.fix.record.id
        return found

    def tried(
        self,
        context: RepairContext,
        candidate: Candidate,
        outcome: Outcome,
        regressions: int = 0,
    ) -> AttemptRecord:
        """Record a tested candidate (kept until `flush`); returns its record."""
        record = attempt_from_candidate(
            context,
            candidate,
            outcome,
            regressions=regressions,
            session=self.session,
            reused_from=self._suggested.get(_changes_key(candidate)),
        )
        self.pending.append(record)
        return record

    def flush(self) -> bool:
        """Write the collected attempts; False when they were spooled for later."""
        records, self.pending = self.pending, []
        return self.store.record_attempts(records) if records else True
