from fixloop.loop.model import Candidate, RepairContext
from fixloop.loop.recall import SessionMemory
from fixloop.memory import MemoryStore, Outcome
from tests.memory.conftest import context_for

SOURCE = "def last(xs):\n    return xs[len(xs)]\n"
FIXED = "def last(xs):\n    return xs[len(xs) - 1]\n"
WRONG = "def last(xs):\n    return xs[0]\n"


def context_now() -> RepairContext:
    return context_for({"seq.py": SOURCE}, "IndexError: list index out of range", line=2)


def test_a_session_learns_and_the_next_one_uses_it(store: MemoryStore) -> None:
    first = SessionMemory(store)
    context = first.prepare(context_now())
    assert (context.template_prior, context.past_fixes) == ({}, ())
    assert first.suggestion(context) is None
    first.tried(context, Candidate({"seq.py": WRONG}, "", "offline", "constant"), Outcome.FAILED)
    verified = first.held(
        first.tried(
            context, Candidate({"seq.py": FIXED}, "", "offline", "off-by-one"), Outcome.VERIFIED
        )
    )
    assert verified is not None
    assert len(first.pending) == 2 and verified.session == first.session
    assert first.flush() and first.pending == []

    second = SessionMemory(store)
    context = second.prepare(context_now())
    assert context.template_prior["off-by-one"] > context.template_prior["constant"]
    assert "xs[len(xs) - 1]" in context.past_fixes[0].diff
    suggestion = second.suggestion(context)
    assert suggestion is not None and suggestion.fix.record.id == verified.id
    assert suggestion.candidate.changes == {"seq.py": FIXED}
    failed = second.held(second.tried(context, suggestion.candidate, "failed"))  # it failed
    assert failed is not None and failed.reused_from == verified.id
    assert second.flush()
    [fix] = store.similar_fixes(suggestion.fix.record.signature, "", "python")
    assert fix.failed_reuses == 1


def test_a_held_back_verified_attempt_is_written_only_when_taken(store: MemoryStore) -> None:
    """The remembered-fix job's memory: failures are written at the end of the session,
    the verified re-application waits until the user takes the fix."""
    first = SessionMemory(store)
    context = first.prepare(context_now())
    first.tried(context, Candidate({"seq.py": FIXED}, "", "offline", "off-by-one"), "verified")
    assert first.flush()

    job = SessionMemory(store, hold_verified=True)
    context = job.prepare(context_now())
    suggestion = job.suggestion(context)
    assert suggestion is not None and job.suggested is suggestion
    job.tried(context, Candidate({"seq.py": WRONG}, "", "offline", "constant"), "failed")
    verified = job.held(job.tried(context, suggestion.candidate, "verified"))
    assert verified is not None and job.flush()
    assert job.held(verified.id) == verified  # kept back, not written
    assert [fix.uses for fix in store.similar_fixes(verified.signature, "", "python")] == [1]
    assert store.record_attempt(verified)  # the user took it
    assert [fix.uses for fix in store.similar_fixes(verified.signature, "", "python")] == [2]


def test_records_are_made_aside_and_kept_in_the_order_tried(store: MemoryStore) -> None:
    """The session goes on while its records are made (redaction costs a parse each):
    what it tried is all there, in order, under the ids it was given."""
    memory = SessionMemory(store)
    context = memory.prepare(context_now())
    texts = [SOURCE.replace("len(xs)]", f"len(xs) - {n}]") for n in range(1, 9)]
    ids = [
        memory.tried(context, Candidate({"seq.py": text}, "", "offline", "const"), "failed")
        for text in texts
    ]
    assert [record.id for record in memory.pending] == ids
    assert [f"len(xs) - {n}]" in r.context_after for n, r in enumerate(memory.pending, 1)] == [
        True
    ] * 8
    assert memory.flush() and memory.pending == []


def test_a_long_session_keeps_its_first_failures_and_every_fix(store: MemoryStore) -> None:
    """Thousands of failed candidates would cost minutes after the budget and crowd out
    every other session: the first ones are kept, and a fix found late still is."""
    memory = SessionMemory(store)
    memory.MAX_FAILED_RECORDS = 5
    context = memory.prepare(context_now())
    failed = [SOURCE.replace("len(xs)]", f"len(xs) - {n}]") for n in range(2, 12)]
    for text in failed:
        memory.tried(context, Candidate({"seq.py": text}, "", "offline", "const"), "failed")
    fixed = memory.tried(context, Candidate({"seq.py": FIXED}, "", "offline", "const"), "verified")
    kept = memory.pending
    assert [r.outcome for r in kept] == [Outcome.FAILED] * 5 + [Outcome.VERIFIED]
    assert "len(xs) - 2]" in kept[0].context_after and kept[-1].id == fixed
    assert memory.flush()
