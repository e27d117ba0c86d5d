"""What the loop makes of memory: the repair policy over the store's records.

    memory = SessionMemory(store)
    context = memory.prepare(context)          # template prior and past fixes filled in
    recalled = memory.recall(context)          # fixes to test first, candidates ahead
    ...
    record_id = memory.tried(context, candidate, "failed")   # every tested candidate
    ...
    memory.flush()                             # one write at the end of the session

The store (memory/) keeps records and finds similar ones; this module decides what they
are worth to a session. The suggestion is a remembered fix re-applied where its lines
are found again (similarity >= 0.8), or else the offline engine's candidate making an
edit of the kind of the remembered fixes of similar failures (>= 0.3): the way a
recurring kind of bug in other code is recognized, since the failures themselves are
hardly more alike within a kind of bug than across kinds. The kind of an edit
(memory/shapes.py `edit_kind`) is its shape with the names and literals as roles, then
its operators as classes, so that a family learned from code written one way carries over
to code written another. Only candidates at the lines the failure points at count, and
only when most of the remembered fixes whose kind can be made there agree (`transfer`):
memory of other kinds of bug must not cost a session. At most four are tested before
anything else, two at a time (the engine's parallelism; one passing ends it): the closest
of the agreed kind, then of its class of edit, so that the family's fix comes early even
when the closest was not it. One that fails counts against its remembered fix
(`failed_reuses`); one never tested counts for nothing. Each takes its own place in the
engine's order, which is left alone: memory of other kinds of bug costs at most those
four candidates, and none where they are among the engine's first batch.

The verified record's `id` (`FixResult.record_id`) is what the editor later passes to
`MemoryStore.record_verdict` (see the memory package's docstring).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from fixloop.loop.model import (
    AttemptOutcome,
    Candidate,
    PastFix,
    RepairContext,
)
from fixloop.memory.records import (
    AttemptRecord,
    Outcome,
    attempt_from_candidate,
    changed_lines,
    context_code,
    context_signature,
)
from fixloop.memory.redact import MARKER
from fixloop.memory.shapes import EditKind, changed_line, edit_kind, file_edit_kind, kinship

if TYPE_CHECKING:
    from fixloop.memory.queries import RememberedFix
    from fixloop.memory.signature import FailureSignature
    from fixloop.memory.store import MemoryStore

logger = logging.getLogger(__name__)

# A remembered fix's kind is looked for among the engine's first candidates here.
_TRANSFER_MIN_SIMILARITY = 0.3
_TRANSFER_WITHIN = 200
_TRANSFER_NEIGHBOURS = 20
# The least kinship (memory/shapes.py `kinship`) a candidate needs with a remembered fix
# to be tested first, without the vouching of a suggestion: the same class of edit (an
# arithmetic operator for another, a comparison reversed); to be suggested: the same edit
# of names in the same kind of statement (a variable for another in a `return`), the same
# roles (a parameter for a local, an attribute for another) or closer. Measured on
# benchmarks/families_heldout, a class of edit alone guessed the operator wrong as often
# as right, and memory of other kinds of bug guessed it too; a variable for another in any
# statement was memory of wrong returns suggesting a name in a reversed comparison.
_TRANSFER_MIN_KINSHIP = 0.6
_SUGGEST_MIN_KINSHIP = 0.85
# A candidate is tested first only with the support of most of
# the remembered fixes near the failure: their similarity-weighted share of its kind.
_TRANSFER_MIN_SUPPORT = 0.5
# … and only at a line the failure points at: this share of the top suspiciousness (a
# frame of the traceback scores well above the lines the failing tests run alone: 0.5
# lost the fix of benchmarks/families/append_extend to the line that raised).
_TRANSFER_MIN_SUSPICION = 0.3
# What memory's kinds of fix may cost a session is bounded: the closest kind-matched
# candidates (kinship from `_TRANSFER_MIN_KINSHIP`; suggested, vouched for, from
# `_SUGGEST_MIN_KINSHIP`) are tested together before anything else (one sandbox round),
# and each takes its own place in the engine's order when the engine reaches it: what the
# session tests in all grows only by those from beyond its first batch. (Raising their
# templates' prior instead, measured on benchmarks/families_heldout, let memory of other
# kinds of bug put a session's fix a batch of 16 later.)
_RECALLED = 4
# A remembered fix whose track record (success rate x acceptance) is below this — rejected,
# reverted, or failing when re-applied — is not transferred to other code.
_TRANSFER_MIN_RECORD = 0.3


@dataclass(frozen=True)
class Suggestion:
    """A remembered fix re-applied to the current code. Not verified yet: run the tests
    on `candidate` before offering it as verified; then record the attempt with
    `reused_from=fix.record.id`."""

    candidate: Candidate
    fix: RememberedFix
    # The remembered fix's edit made elsewhere (the same kind of bug in other code), not
    # its own lines found again.
    transferred: bool = False

    @property
    def title(self) -> str:
        title = self.fix.title()
        if self.transferred:
            return title.replace("fix seen before", "fix like one seen before", 1)
        return title


# --- reading memory for a session -----------------------------------------------------------


def past_fixes(
    store: MemoryStore, context: RepairContext, k: int = 3, min_similarity: float = 0.5
) -> tuple[PastFix, ...]:
    """For `RepairContext.past_fixes` (the LLM prompt): unrelated fixes only cost tokens,
    hence the floor."""
    fixes = store.similar_fixes(
        context_signature(context),
        context_code(context),
        context.language,
        k,
        min_similarity=min_similarity,
    )
    return tuple(past_fix(fix) for fix in fixes)


def past_fix(fix: RememberedFix) -> PastFix:
    return PastFix(
        failure=fix.record.signature.text(),
        diff=fix.record.patch,
        template=fix.record.template,
        similarity=fix.similarity,
    )


def prior_for(
    store: MemoryStore, context: RepairContext, base: Mapping[str, float] | None = None
) -> dict[str, float]:
    """For `RepairContext.template_prior` / `FixSession(template_prior=…)`; `base`: the
    rates it refines (default: the offline engine's, with the context's own)."""
    if base is None:
        base = {**engine_prior(context.language), **context.template_prior}
    return store.template_prior(
        context_signature(context), context.language, context_code(context), base
    )


def engine_prior(language: str) -> Mapping[str, float]:
    """The offline engine's own template rates (what a learned prior refines)."""
    if language != "python":
        return {}
    from fixloop.loop.offline.generator import DEFAULT_PRIOR

    return DEFAULT_PRIOR


def suggestion(
    store: MemoryStore, context: RepairContext, min_similarity: float = 0.8
) -> Suggestion | None:
    """The best remembered fix that re-applies to the current code; else the engine's
    candidate most of the kind of a remembered fix of a similar failure (the same kind of
    bug in other code, see memory/shapes.py); else None."""
    return _suggestion(store, context, min_similarity).suggestion


def _suggestion(
    store: MemoryStore, context: RepairContext, min_similarity: float = 0.8
) -> Transfer:
    fixes = store.similar_fixes(
        context_signature(context),
        context_code(context),
        context.language,
        _TRANSFER_NEIGHBOURS,
        min_similarity=min(min_similarity, _TRANSFER_MIN_SIMILARITY),
    )
    close = [fix for fix in fixes if fix.similarity >= min_similarity]
    again = reapplied(close, context.sources)
    if again is not None:  # the fix's own lines found again: what memory knows best, alone
        return Transfer((again,))
    return transfer(fixes, context)


def suggestion_for(
    store: MemoryStore,
    signature: FailureSignature,
    code_context: str,
    language: str,
    sources: Mapping[str, str],
    min_similarity: float = 0.8,
) -> Suggestion | None:
    """A remembered fix re-applied to `sources`, looked up by a signature (no context)."""
    fixes = store.similar_fixes(signature, code_context, language, 5, min_similarity=min_similarity)
    return reapplied(fixes, sources)


# --- a remembered fix on today's code -------------------------------------------------------


def reapplied(fixes: Sequence[RememberedFix], sources: Mapping[str, str]) -> Suggestion | None:
    """The best of `fixes` whose changed lines are found in today's code, re-applied."""
    for fix in fixes:
        changes = reapply(fix.record, sources)
        if changes is None:
            continue
        size = sum(abs(len(text) - len(sources.get(p, ""))) for p, text in changes.items())
        candidate = Candidate(
            changes=changes,
            description=fix.title(),
            generator="memory",
            template=fix.record.template,
            edit_size=max(size, 1),
        )
        return Suggestion(candidate, fix)
    return None


@dataclass(frozen=True)
class Transfer:
    """What memory makes of today's candidates, tested together before anything else:
    the remembered fixes (a fix re-applied, alone; else the candidates most of a
    remembered fix's kind, best first; one passing is offered without a search for
    alternatives), and the engine's candidates of a remembered fix's class of edit (see
    `_RECALLED`)."""

    suggestions: tuple[Suggestion, ...] = ()
    ahead: tuple[Candidate, ...] = ()

    @property
    def suggestion(self) -> Suggestion | None:
        return self.suggestions[0] if self.suggestions else None


def transferred(fixes: Sequence[RememberedFix], context: RepairContext) -> Suggestion | None:
    """The offline engine's candidate (among its first, in its order: most suspicious
    line, likeliest template) whose edit is most of the kind of a remembered fix; the
    earliest among equals. Fixes with a poor track record (rejected, reverted, failing
    when re-applied) are not transferred."""
    return transfer(fixes, context).suggestion


def transfer(fixes: Sequence[RememberedFix], context: RepairContext) -> Transfer:
    """`transferred`, all of it: the candidates to test first and those to add ahead.

    Memory of other kinds of bug must cost a session little: only candidates at the lines
    the failure points at count, and one is taken only when most of the remembered fixes
    (by similarity) whose kind of edit can be made there are of its kind — memory agreeing
    with itself, as a family learned does; and at most `_RECALLED` are."""
    kinds = [
        (kind, fix)
        for fix in fixes
        if fix.success_rate * fix.acceptance >= _TRANSFER_MIN_RECORD
        and (kind := record_kind(fix.record)) is not None
    ]
    if not kinds or context.language != "python":
        return Transfer()
    from fixloop.loop.offline import OfflineGenerator

    suspects = _suspect_lines(context)
    generator = OfflineGenerator(max_candidates=_TRANSFER_WITHIN, max_pairs=0)
    matched: list[tuple[Candidate, list[tuple[float, RememberedFix]]]] = []
    for candidate in generator.candidates(context):
        path = next(iter(candidate.changes))
        original = context.sources.get(path, "")
        if (path, changed_line(original, candidate.changes[path])) not in suspects:
            continue
        kind = candidate_kind(original, candidate.changes[path])
        if kind is not None:
            scores = [(kinship(k, kind), fix) for k, fix in kinds]
            matched.append((candidate, [p for p in scores if p[0] >= _TRANSFER_MIN_KINSHIP]))
    # The vote is among the remembered fixes whose kind of edit can be made here at all.
    voters = {id(fix): fix.similarity for _, scores in matched for _, fix in scores}
    weight = sum(voters.values()) or 1.0
    ranked: list[tuple[float, int, Candidate, RememberedFix]] = []
    for order, (candidate, scores) in enumerate(matched):
        support = sum(fix.similarity for _, fix in scores) / weight
        if scores and support > _TRANSFER_MIN_SUPPORT:
            score, fix = max(scores, key=lambda pair: pair[0])
            ranked.append((score, order, candidate, fix))
    ranked.sort(key=lambda item: (-item[0], item[1]))  # the earliest among equals
    ranked = ranked[:_RECALLED]
    first = [item for item in ranked if item[0] >= _SUGGEST_MIN_KINSHIP]
    suggestions = tuple(
        Suggestion(
            replace(
                candidate,
                generator="memory",
                description=f"{candidate.description} (as in a fix seen before)",
            ),
            fix,
            transferred=True,
        )
        for _, _, candidate, fix in first
    )
    ahead = tuple(item[2] for item in ranked if item not in first)
    return Transfer(suggestions, ahead)


def _suspect_lines(context: RepairContext) -> set[tuple[str, int]]:
    """The lines the failure points at (with no localization, every line is one)."""
    top = max((loc.score for loc in context.locations), default=0.0)
    if top <= 0:
        return {
            (path, n) for path, text in context.sources.items()
            for n in range(1, text.count("\n") + 2)
        }  # fmt: skip
    floor = top * _TRANSFER_MIN_SUSPICION
    return {(loc.path, loc.line) for loc in context.locations if loc.score >= floor}


def record_kind(record: AttemptRecord) -> EditKind | None:
    """The kind of a remembered fix's edit: as recorded (with its names' roles in the
    whole file), else from the lines around it."""
    return EditKind.from_text(record.edit_kind) if record.edit_kind else (
        edit_kind(record.context_before, record.context_after)
    )  # fmt: skip


def candidate_kind(original: str, changed: str) -> EditKind | None:
    """The kind of an edit of a whole file, its names' roles read from the file."""
    return file_edit_kind(original, changed)


def reapply(record: AttemptRecord, sources: Mapping[str, str]) -> dict[str, str] | None:
    """A remembered fix applied to today's code: the lines it changed found by their text
    (not their line numbers) and changed the same way, in the current indentation. The
    changed files (path → new text), or None when the fix does not fit anywhere
    unambiguously. The result still has to pass the tests before it is offered."""
    if MARKER in record.context_before or MARKER in record.context_after:
        return None  # the remembered text lost a secret: re-applying it would break code
    removed, added = changed_lines(record.context_before, record.context_after)
    attempts = [(record.context_before.splitlines(), record.context_after.splitlines())]
    if removed:  # the surrounding lines may have changed since: try the edited lines alone
        attempts.append((removed, added))
    paths = sorted(sources, key=lambda path: path != record.path)
    for old, new in attempts:
        for path in paths:
            changed = _replace_block(sources[path], old, new)
            if changed is not None and changed != sources[path]:
                return {path: changed}
    return None


def _replace_block(text: str, old: list[str], new: list[str]) -> str | None:
    lines = text.splitlines(keepends=True)
    wanted = [line.strip() for line in old]
    if not any(wanted):
        return None
    hits = [
        start
        for start in range(len(lines) - len(wanted) + 1)
        if all(lines[start + k].strip() == wanted[k] for k in range(len(wanted)))
    ]
    if len(hits) != 1:
        return None
    start = hits[0]
    first = next(k for k, line in enumerate(wanted) if line)
    recorded, current = _indent(old[first]), _indent(lines[start + first])
    ending = "\r\n" if lines[start].endswith("\r\n") else "\n"
    block = [_reindent(line, recorded, current) + ending for line in new]
    return "".join(lines[:start] + block + lines[start + len(wanted) :])


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())].rstrip("\r\n")


def _reindent(line: str, recorded: str, current: str) -> str:
    line = line.rstrip("\r\n")
    if line.startswith(recorded):
        return current + line[len(recorded) :]
    return line


# --- the engine's memory --------------------------------------------------------------------


def _changes_key(candidate: Candidate) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(candidate.changes.items()))


@dataclass
class SessionMemory:
    """The engine's `RepairMemory` over a store: reads memory before a session and
    collects its attempts for one write after. `hold_verified`: the verified attempt is
    kept back from that write (the remembered-fix job writes it only when the user takes
    the fix; `held` finds it).

    A record is made (its code redacted: a parse and the secret rules over the file, tens
    of milliseconds) on a thread of its own, not the session's: the session goes on to
    its next candidates meanwhile. `pending`, `held` and `flush` wait for them.

    A session keeps its first `MAX_FAILED_RECORDS` failed candidates (the most suspicious
    lines' first): a long offline session tries thousands, whose records cost the user
    a minute and more after its budget and crowd every other session out of the failed
    tries memory ranks templates by. Verified ones and regressions are all kept."""

    MAX_FAILED_RECORDS: ClassVar[int] = 256

    store: MemoryStore
    session: str = field(default_factory=lambda: uuid.uuid4().hex)
    hold_verified: bool = False
    # The last suggestion made (what a verified session without generators offers).
    suggested: Suggestion | None = None
    # A suggested candidate's changes → the remembered fix it re-applies.
    _reused: dict[tuple[tuple[str, str], ...], str] = field(default_factory=dict)
    _records: list[AttemptRecord] = field(default_factory=list)
    _making: list[Future[AttemptRecord]] = field(default_factory=list)
    _maker: ThreadPoolExecutor | None = None
    _failed: int = 0
    # What `prepare` found for the context it returned: `suggestion` need not look again.
    _made: tuple[RepairContext, Transfer] | None = None

    @property
    def pending(self) -> list[AttemptRecord]:
        """The attempts collected and not yet written, in the order they were tried."""
        making, self._making = self._making, []
        for future in making:
            try:
                self._records.append(future.result())
            except Exception:  # memory must never cost the session its result
                logger.exception("recording an attempt failed")
        return self._records

    def warm_up(self) -> None:
        """Open the store now (from a thread of its own while the baseline runs): opening
        an embedded store costs most of a second that `prepare` need not wait for."""
        self.store.available()

    def prepare(self, context: RepairContext, past: int = 3) -> RepairContext:
        """The context with `template_prior` and `past_fixes` from memory (unchanged
        when memory is off or unavailable); what memory makes of its candidates is
        `recall`'s (see `transfer`)."""
        prior = prior_for(self.store, context)
        found = past_fixes(self.store, context, past)
        made = _suggestion(self.store, context)
        prepared = context
        if prior or found:
            merged = {**context.template_prior, **prior}
            prepared = dataclasses.replace(context, template_prior=merged, past_fixes=found)
        self._made = (prepared, made)
        return prepared

    def recall(self, context: RepairContext) -> Transfer:
        """The remembered fixes to test together first, and the candidates to add ahead
        of the engine's first batch (`Transfer`)."""
        if self._made is not None and self._made[0] is context:
            made = self._made[1]  # made by `prepare`
        else:
            made = _suggestion(self.store, context)
        self._made = None
        for found in made.suggestions:
            self._reused[_changes_key(found.candidate)] = found.fix.record.id
        self.suggested = made.suggestion
        return made

    def suggestion(self, context: RepairContext) -> Suggestion | None:
        """The best remembered fix for this code: test it like any candidate."""
        return self.recall(context).suggestion

    def tried(
        self,
        context: RepairContext,
        candidate: Candidate,
        outcome: AttemptOutcome | Outcome,
        regressions: int = 0,
    ) -> str:
        """Record a tested candidate (kept until `flush`); returns its record's id."""
        record_id = uuid.uuid4().hex
        if Outcome(outcome) is Outcome.FAILED:
            self._failed += 1
            if self._failed > self.MAX_FAILED_RECORDS:
                return record_id  # not kept (see the class's docstring)
        if self._maker is None:
            self._maker = ThreadPoolExecutor(1, thread_name_prefix="fixloop-records")
        self._making.append(
            self._maker.submit(
                _record,
                record_id,
                context,
                candidate,
                Outcome(outcome),
                regressions=regressions,
                session=self.session,
                reused_from=self._reused.get(_changes_key(candidate)),
            )
        )
        return record_id

    def held(self, record_id: str | None) -> AttemptRecord | None:
        """A record collected by this session (with `hold_verified`, the verified one stays
        here after `flush`)."""
        return next((r for r in self.pending if r.id == record_id), None)

    def flush(self) -> bool:
        """Write the collected attempts; False when they were spooled for later."""
        collected = self.pending
        if self._maker is not None:
            self._maker.shutdown(wait=False)  # nothing left to make: its thread ends
            self._maker = None
        if self.hold_verified:
            records = [r for r in collected if r.outcome is not Outcome.VERIFIED]
            self._records = [r for r in collected if r.outcome is Outcome.VERIFIED]
        else:
            records, self._records = collected, []
        return self.store.record_attempts(records) if records else True


def _record(
    record_id: str,
    context: RepairContext,
    candidate: Candidate,
    outcome: Outcome,
    **details: Any,
) -> AttemptRecord:
    return replace(attempt_from_candidate(context, candidate, outcome, **details), id=record_id)
