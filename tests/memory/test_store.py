import json
import os
import time
from dataclasses import replace
from pathlib import Path

from fixloop.loop import recall
from fixloop.loop.model import RepairContext
from fixloop.memory import MemoryConfig, MemoryStore, Outcome, Verdict
from fixloop.memory.embedding import HashedNgramEmbedding
from fixloop.memory.records import context_code, context_signature
from tests.memory.conftest import context_for, record_for

CART = """def total(items):
    s = 0
    for i in range(len(items) - 1):
        s += items[i]
    return s
"""
CART_FIXED = CART.replace("len(items) - 1", "len(items)")

# Distractors: other failures, each with a verified fix of its own.
DISTRACTORS = [
    ("KeyError: 'sku'", "def price(c, k):\n    return c[k]\n", "return c[k]", "return c.get(k, 0)"),
    ("TypeError: can only concatenate str (not \"int\") to str",
     "def label(n):\n    return 'n=' + n\n", "'n=' + n", "'n=' + str(n)"),
    ("ZeroDivisionError: division by zero",
     "def mean(xs):\n    return sum(xs) / len(xs)\n", "/ len(xs)", "/ max(1, len(xs))"),
    ("AttributeError: 'NoneType' object has no attribute 'name'",
     "def owner(u):\n    return u.name\n", "u.name", "u.name if u else ''"),
    ("AssertionError: assert 'abc' == 'cba'",
     "def rev(s):\n    return s\n", "return s", "return s[::-1]"),
]  # fmt: skip


def cart_context(test: str = "tests/test_cart.py::test_total") -> RepairContext:
    return context_for(
        {"cart.py": CART}, "AssertionError: assert 3 == 6", test, (("cart.py", 4),), 3
    )


def fill_distractors(store: MemoryStore, copies: int = 4) -> None:
    records = []
    for n in range(copies):
        for message, source, old, new in DISTRACTORS:
            context = context_for(
                {f"m{n}.py": source}, message, f"tests/test_m{n}.py::test_{n}", line=2
            )
            records.append(record_for(context, source.replace(old, new), template="other"))
    # The same failure as the cart's but a different (wrong-place) fix, rejected twice.
    near = cart_context()
    wrong = record_for(near, CART.replace("s = 0", "s = 1"), template="constant")
    records += [wrong, record_for(near, CART.replace("s = 0", "s = 1"), template="constant")]
    assert store.record_attempts(records)
    for record in records[-2:]:
        assert store.record_verdict(record.id, Verdict.REJECTED)


def test_the_right_past_fix_comes_first_among_distractors(store: MemoryStore) -> None:
    fill_distractors(store)
    right = record_for(cart_context(), CART_FIXED, template="off-by-one")
    assert store.record_attempt(right)
    # A new project, another test, the same bug.
    source = "def subtotal(prices):\n    total = 0\n" + CART.split("\n", 2)[2].replace(
        "s ", "total "
    )
    today = context_for({"basket.py": source}, "AssertionError: assert 10 == 17",
                        "tests/test_basket.py::test_subtotal", (("basket.py", 4),), 3)  # fmt: skip
    fixes = store.similar_fixes(context_signature(today), context_code(today), "python", k=5)
    assert fixes[0].record.id == right.id
    assert fixes[0].score > fixes[1].score


def test_rejected_and_reverted_fixes_rank_down(store: MemoryStore) -> None:
    context = cart_context()
    good = record_for(context, CART_FIXED, template="off-by-one")
    bad = record_for(context, CART.replace("s += items[i]", "s += items[i] + 1"), template="add")
    assert store.record_attempts([bad, good])
    signature, code = context_signature(context), context_code(context)
    store.record_verdict(good.id, Verdict.REVERTED)
    assert store.similar_fixes(signature, code, "python")[0].record.id == bad.id
    store.record_verdict(good.id, Verdict.ACCEPTED)
    store.record_verdict(bad.id, Verdict.REJECTED)
    first = store.similar_fixes(signature, code, "python")[0]
    assert first.record.id == good.id
    assert first.title() == "Apply fix seen before (used 1×, 100% accepted)"  # noqa: RUF001


def test_repeats_of_one_fix_are_counted_and_failed_reuses_rank_it_down(
    store: MemoryStore,
) -> None:
    context = cart_context()
    once = record_for(context, CART.replace("s += items[i]", "s += items[i] * 1"), template="a")
    twice = [record_for(context, CART_FIXED, template="off-by-one") for _ in range(2)]
    assert store.record_attempts([once, *twice])
    signature, code = context_signature(context), context_code(context)
    best = store.similar_fixes(signature, code, "python")[0]
    assert (best.record.fix_key, best.uses) == (twice[0].fix_key, 2)
    for _ in range(4):  # re-applied from memory four times, failing the tests each time
        failed = record_for(context, CART_FIXED, Outcome.FAILED, generator="memory",
                            reused_from=twice[0].id)  # fmt: skip
        store.record_attempt(failed)
    assert store.similar_fixes(signature, code, "python")[0].record.id == once.id


def test_template_prior_is_a_rate_not_a_count(store: MemoryStore) -> None:
    context = cart_context()
    records = [record_for(context, CART_FIXED, template="common")]
    records += [record_for(context, CART.replace("0", str(n)), Outcome.FAILED, template="common")
                for n in range(1, 30)]  # fmt: skip
    records += [record_for(context, CART_FIXED, template="rare")]
    records += [record_for(context, CART.replace("s =", "t ="), Outcome.FAILED, template="rare")]
    records += [record_for(context, CART_FIXED, Outcome.FAILED, generator="memory", template="x")]
    assert store.record_attempts(records)
    prior = recall.prior_for(store, context)
    assert set(prior) == {"common", "rare"}
    assert prior["rare"] > prior["common"]
    assert all(0.0 <= rate <= 1.0 for rate in prior.values())


def test_a_recurring_failure_gets_the_remembered_fix_reapplied(store: MemoryStore) -> None:
    assert store.record_attempt(record_for(cart_context(), CART_FIXED, template="off-by-one"))
    moved = "import os\n\n\nclass Cart:\n" + "".join(f"    {line}\n" for line in CART.splitlines())
    today = context_for({"shop/cart.py": moved}, "AssertionError: assert 4 == 9",
                        "tests/test_cart.py::test_total", (("shop/cart.py", 8),), 7)  # fmt: skip
    suggestion = recall.suggestion(store, today)
    assert suggestion is not None
    assert suggestion.candidate.generator == "memory"
    assert suggestion.candidate.template == "off-by-one"
    new = suggestion.candidate.changes["shop/cart.py"]
    assert "        for i in range(len(items)):\n" in new
    assert new.replace("range(len(items))", "range(len(items) - 1)") == moved
    assert suggestion.title.startswith("Apply fix seen before (used 1")


def test_no_suggestion_for_a_different_failure(store: MemoryStore) -> None:
    fill_distractors(store, copies=1)
    other = context_for({"w.py": "def f(x):\n    return x.y\n"}, "ImportError: no module", line=2)
    assert recall.suggestion(store, other) is None


def test_past_fixes_fill_the_repair_context(store: MemoryStore) -> None:
    right = record_for(cart_context(), CART_FIXED, template="off-by-one")
    assert store.record_attempt(right)
    [past] = recall.past_fixes(store, cart_context(), k=3)
    assert "range(len(items))" in past.diff and past.template == "off-by-one"
    assert "AssertionError" in past.failure and past.similarity > 0.9


def test_prune_by_age_then_by_cap_per_kind(store: MemoryStore) -> None:
    context = cart_context()
    old = record_for(context, CART_FIXED, created_at=time.time() - 100 * 86400)
    tries = [record_for(context, CART.replace("0", str(n)), Outcome.FAILED) for n in range(1, 6)]
    kept = [record_for(context, CART_FIXED) for _ in range(3)]
    assert store.record_attempts([old, *tries, *kept])
    store.record_verdict(kept[0].id, Verdict.ACCEPTED)
    assert store.prune(max_age_days=90, cap_per_kind=4) == 1 + 4  # the old one, then 4 tries
    stats = store.stats()
    assert stats.outcomes == {"verified": 3, "failed": 1}
    assert store.prune(max_age_days=90, cap_per_kind=1) == 3
    [left] = store.similar_fixes(context_signature(context), "", "python")
    assert left.record.id == kept[0].id  # the accepted fix is the last to go


def test_export_then_import_into_another_store(store: MemoryStore, tmp_path: Path) -> None:
    fill_distractors(store, copies=1)
    exported = tmp_path / "memory.jsonl"
    count = store.export(exported)
    assert count == len(DISTRACTORS) + 2
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert {line["verdict"] for line in lines} == {None, "rejected"}
    other = MemoryStore(MemoryConfig(path=tmp_path / "other"))
    assert other.import_(exported) == count
    assert other.import_(exported) == count  # importing again replaces, never duplicates
    assert other.stats().records == count


def test_embeddings_never_share_a_space(store: MemoryStore, tmp_path: Path) -> None:
    assert store.record_attempt(record_for(cart_context(), CART_FIXED))
    wide = MemoryStore(store.config, embedding=HashedNgramEmbedding(512))
    assert wide.similar_fixes(context_signature(cart_context()), "", "python") == []
    assert wide.record_attempt(record_for(cart_context(), CART_FIXED))
    assert sorted(wide.stats().collections) == [
        "fixloop-fixes-python-hng1-256",
        "fixloop-fixes-python-hng1-512",
    ]


def test_disabled_memory_does_nothing(tmp_path: Path) -> None:
    store = MemoryStore(MemoryConfig(enabled=False, path=tmp_path / "memory"))
    assert not store.record_attempt(record_for(cart_context(), CART_FIXED))
    assert recall.past_fixes(store, cart_context()) == ()
    assert recall.prior_for(store, cart_context()) == {}
    assert not (tmp_path / "memory").exists()


def test_importing_memory_does_not_import_chromadb() -> None:
    import subprocess
    import sys

    script = "import sys, fixloop.memory; print('chromadb' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout.strip() == "False"


def test_prune_if_due_runs_once_per_interval(store: MemoryStore) -> None:
    old = record_for(cart_context(), CART_FIXED, created_at=time.time() - 200 * 86400)
    assert store.record_attempt(old)  # opening the store pruned (due): nothing was there
    assert store.prune_if_due() is None  # pruned less than a day ago
    assert store.prune_if_due(every_days=0) == 1
    assert store.record_attempt(replace(old, id="again"))
    assert store.prune_if_due() is None


def test_opening_the_store_prunes_once_a_day_by_itself(store: MemoryStore) -> None:
    old = record_for(cart_context(), CART_FIXED, created_at=time.time() - 200 * 86400)
    fresh = record_for(cart_context(), CART_FIXED)
    assert store.record_attempts([old, fresh])
    assert store.stats().records == 2  # pruned at open, before these were written
    marker = store.config.spool_path.with_name(store.config.spool_path.stem + ".pruned")
    yesterday = time.time() - 2 * 86400
    os.utime(marker, (yesterday, yesterday))
    reopened = MemoryStore(store.config)
    assert reopened.stats().records == 1  # the old one went when it opened
    reopened.close()
    assert MemoryStore(store.config).stats().records == 1
