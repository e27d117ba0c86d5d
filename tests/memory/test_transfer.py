"""What memory learns carries over to the same kind of bug in other code, and what the
user says about a fix (`record_verdict`) decides whether it is offered again."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.loop import recall
from fixloop.loop.model import Candidate, RepairContext
from fixloop.loop.recall import SessionMemory
from fixloop.memory import MemoryStore, Outcome, Verdict
from fixloop.memory.records import context_code, context_signature
from tests.memory.conftest import context_for, record_for

FLATTEN = """def flatten(groups):
    items = []
    for group in groups:
        items.append(group)
    return items
"""
TOKENS = """def tokenize(lines):
    words = []
    for line in lines:
        parts = [w.lower() for w in line.split()]
        words.append(parts)
    return words
"""
TOKENS_FIXED = TOKENS.replace("words.append(parts)", "words.extend(parts)")


def flatten_context() -> RepairContext:
    return context_for(
        {"flatten.py": FLATTEN},
        "AssertionError: assert [[1, 2], [3]] == [1, 2, 3]",
        "test_flatten.py::test_flatten",
        (("test_flatten.py", 5),),
        4,
    )


def tokens_context() -> RepairContext:
    return context_for(
        {"tokens.py": TOKENS},
        "AssertionError: assert [['the', 'cat'], ['sat']] == ['the', 'cat', 'sat']",
        "test_tokens.py::test_tokenize",
        (("test_tokens.py", 4),),
        5,
    )


def remember_flatten_fix(store: MemoryStore) -> str:
    fixed = FLATTEN.replace("items.append(group)", "items.extend(group)")
    record = record_for(flatten_context(), fixed, template="swap_builtin")
    assert store.record_attempt(record)
    return record.id


def test_a_fix_carries_over_to_the_same_bug_in_other_code(store: MemoryStore) -> None:
    remembered = remember_flatten_fix(store)
    suggestion = recall.suggestion(store, tokens_context())
    assert suggestion is not None, "the fix's lines are not in this code, its shape is"
    assert suggestion.fix.record.id == remembered
    assert suggestion.candidate.changes == {"tokens.py": TOKENS_FIXED}
    assert suggestion.candidate.generator == "memory"
    assert suggestion.candidate.template == "swap_builtin"
    assert suggestion.title == "Apply fix like one seen before (used 1×)"  # noqa: RUF001


def test_nothing_carries_over_to_an_unrelated_failure(store: MemoryStore) -> None:
    remember_flatten_fix(store)
    source = "import json\n\n\ndef load(path):\n    return json.loads(path.read_text())\n"
    other = context_for({"cfg.py": source}, "ModuleNotFoundError: No module named 'yaml'",
                        "test_cfg.py::test_load", (("cfg.py", 5),), 5)  # fmt: skip
    assert recall.suggestion(store, other) is None
    # Similar failure, but no edit of the remembered fix's shape fits this code.
    no_append = TOKENS.replace("words.append(parts)", "words += parts")
    assert recall.suggestion(store, context_for({"tokens.py": no_append}, "AssertionError: x",
                                        line=5)) is None  # fmt: skip


@pytest.mark.parametrize("verdict", [Verdict.REJECTED, Verdict.REVERTED])
def test_a_rejected_or_reverted_fix_is_not_offered_again(
    store: MemoryStore, verdict: Verdict
) -> None:
    remembered = remember_flatten_fix(store)
    # What the editor does with `FixResult.record_id` once the user undoes or dismisses it.
    assert store.record_verdict(remembered, verdict)
    assert recall.suggestion(store, tokens_context()) is None
    [fix] = store.similar_fixes(
        context_signature(flatten_context()), context_code(flatten_context()), "python"
    )
    assert (fix.rejected, fix.reverted) == ((1, 0) if verdict is Verdict.REJECTED else (0, 1))
    # A reverted fix (applied, then undone) says more than one dismissed.
    assert fix.acceptance < 0.5


def test_an_accepted_fix_ranks_above_a_plain_one_and_a_reverted_one_below(
    store: MemoryStore,
) -> None:
    context = flatten_context()
    fixes = {
        verdict: record_for(context, FLATTEN.replace("items = []", f"items = [] # {n}"))
        for n, verdict in enumerate([Verdict.ACCEPTED, None, Verdict.REJECTED, Verdict.REVERTED])
    }
    assert store.record_attempts(list(fixes.values()))
    for verdict, record in fixes.items():
        if verdict is not None:
            assert store.record_verdict(record.id, verdict)
    ranked = store.similar_fixes(context_signature(context), context_code(context), "python")
    order = {fix.record.id: n for n, fix in enumerate(ranked)}
    ids = [fixes[v].id for v in (Verdict.ACCEPTED, None, Verdict.REJECTED, Verdict.REVERTED)]
    assert [order[i] for i in ids] == [0, 1, 2, 3]


def test_a_suggestion_offered_and_never_taken_does_not_count_against_it(
    store: MemoryStore,
) -> None:
    remembered = remember_flatten_fix(store)
    signature = context_signature(flatten_context())
    code = context_code(flatten_context())
    [before] = store.similar_fixes(signature, code, "python")
    memory = SessionMemory(store)
    context = memory.prepare(tokens_context())
    assert memory.suggestion(context) is not None
    # The session ends another way (another candidate verified, or cancelled): the
    # suggestion is never tested, and nothing is said about it.
    other = Candidate({"tokens.py": TOKENS.replace("parts)", "parts or [])")}, "", "offline")
    memory.tried(context, other, Outcome.FAILED)
    assert memory.flush()
    [after] = store.similar_fixes(signature, code, "python")
    assert after.record.id == remembered
    assert (after.failed_reuses, after.rejected, after.reverted) == (0, 0, 0)
    assert after.score == pytest.approx(before.score)
    assert recall.suggestion(store, tokens_context()) is not None


def test_a_carried_over_fix_that_fails_the_tests_there_ranks_down(store: MemoryStore) -> None:
    remembered = remember_flatten_fix(store)
    memory = SessionMemory(store)
    context = memory.prepare(tokens_context())
    suggestion = memory.suggestion(context)
    assert suggestion is not None
    failed = memory.held(memory.tried(context, suggestion.candidate, Outcome.FAILED))
    assert failed is not None and failed.reused_from == remembered
    assert memory.flush()
    [fix] = store.similar_fixes(
        context_signature(flatten_context()), context_code(flatten_context()), "python"
    )
    assert fix.failed_reuses == 1
    assert recall.suggestion(store, tokens_context()) is None


def test_the_prior_is_a_rate_shrunk_toward_the_engines_own(store: MemoryStore) -> None:
    context = tokens_context()
    base = {"swap_builtin": 0.03, "compare_op": 0.05}
    assert store.record_attempts(
        [
            record_for(context, TOKENS_FIXED, template="swap_builtin"),
            *(
                record_for(
                    context,
                    TOKENS.replace("w.lower()", f"w.lower(){n}"),
                    Outcome.FAILED,
                    template="compare_op",
                )
                for n in ("[0]", "[1:]", "[:1]")
            ),
        ]
    )
    prior = recall.prior_for(store, context, base)
    assert 0.03 < prior["swap_builtin"] < 1.0
    assert prior["compare_op"] < 0.05
    # Nothing near this failure: the engine's rates stand.
    far = context_for({"x.py": "import os\n"}, "ModuleNotFoundError: No module named 'yaml'")
    assert recall.prior_for(store, far, base) == {}


# --- through the loop and the sandbox ---------------------------------------------------

FAMILY = Path(__file__).resolve().parents[2] / "benchmarks" / "families" / "append_extend"


@pytest.fixture(scope="module")
def pool() -> Iterator[object]:
    from fixloop.sandbox import SandboxPool

    with SandboxPool() as sandbox:
        yield sandbox


def _fix(member: str, store: MemoryStore, pool: object, tmp_path: Path) -> tuple[int, str]:
    """(position of the offered fix among the candidates tested, its generator)."""
    from fixloop.loop.engine import Budget, FixSession
    from fixloop.loop.offline import OfflineGenerator

    bug = json.loads((FAMILY / member / "bug.json").read_text())
    root = tmp_path / member
    shutil.copytree(FAMILY / member, root, ignore=shutil.ignore_patterns("bug.json"))
    tested: list[str] = []
    session = FixSession(
        root,
        "python -m pytest -q",
        [OfflineGenerator()],
        pool,  # type: ignore[arg-type]
        targets=[bug["file"]],
        budget=Budget(max_iterations=20, parallel=2),
        memory=SessionMemory(store),
        on_event=lambda kind, data: (
            tested.append(data["description"]) if kind == "candidate" else None
        ),
    )
    result = session.run()
    assert result.fixed and result.candidate is not None and result.record_id
    return tested.index(result.candidate.description) + 1, result.candidate.generator


@pytest.mark.slow
def test_the_loop_tries_a_learned_fix_first_on_the_same_bug_in_other_code(
    store: MemoryStore, pool: object, tmp_path: Path
) -> None:
    first, generator = _fix("flatten", store, pool, tmp_path)
    assert generator == "offline" and first > 1
    position, generator = _fix("tokens", store, pool, tmp_path)
    # In memory's first round (at most four candidates, run two at a time).
    assert generator == "memory" and position <= 4
