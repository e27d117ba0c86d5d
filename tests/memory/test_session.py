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
