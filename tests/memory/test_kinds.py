"""A family learned from members written one way helps a member written differently
(other names, strings and tests): memory matches a fix by its kind (memory/shapes.py),
and memory of other kinds of bug does not change the order for the worse. Real embedded
Chroma; the sandbox run is in test_transfer.py and bench_learning.py."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.loop import recall
from fixloop.loop.model import RepairContext
from fixloop.loop.offline import OfflineGenerator
from fixloop.loop.recall import SessionMemory
from fixloop.memory import MemoryConfig, MemoryStore
from tests.memory.conftest import context_for, record_for

# The wrong variable returned, written three ways: a function over a dict tested with an
# assert message, a string helper tested with parametrize, a parser returning its loop
# variable.
RESTOCK = """def restock(levels, threshold, amount):
    updated = dict(levels)
    for item, level in levels.items():
        if level < threshold:
            updated[item] = level + amount
    return levels
"""
INITIALS = """def initials(full_name):
    words = [w for w in full_name.split() if w]
    letters = "".join(word[0].upper() for word in words)
    return full_name
"""
SETTINGS = """def parse_settings(text, separator="="):
    found = {}
    for raw in text.splitlines():
        key, _, value = raw.partition(separator)
        found[key.strip()] = value.strip()
    return raw
"""
# The member to fix: other names, a class, another failure message.
LEDGER = """class Ledger:
    def __init__(self, entries):
        self.entries = list(entries)

    def balance(self):
        credit = sum(e for e in self.entries if e > 0)
        debit = -sum(e for e in self.entries if e < 0)
        net = credit - debit
        return credit
"""
LEDGER_FIXED = LEDGER.replace("return credit", "return net")
# Other kinds of bug: an accumulator overwritten, a list appended instead of extended.
CART = """def total(prices, counts):
    result = 0
    for price, count in zip(prices, counts):
        result = price * count
    return result
"""
FLATTEN = """def flatten(groups):
    items = []
    for group in groups:
        items.append(group)
    return items
"""


def restock() -> RepairContext:
    return context_for(
        {"restock.py": RESTOCK},
        "AssertionError: only the bolts were low\nassert {'bolts': 3} == {'bolts': 53}",
        "test_restock.py::test_tops_up_low_items",
        (("test_restock.py", 6),),
        6,
    )


def initials() -> RepairContext:
    return context_for(
        {"initials.py": INITIALS},
        "AssertionError: assert 'ada lovelace' == 'AL'",
        "test_initials.py::test_initials[ada lovelace-AL]",
        (("test_initials.py", 12),),
        4,
    )


def settings() -> RepairContext:
    return context_for(
        {"settings.py": SETTINGS},
        "AssertionError: assert 'port=8080' == {'host': 'example.org', 'port': '8080'}",
        "test_settings.py::test_pairs",
        (("test_settings.py", 7),),
        6,
    )


def ledger() -> RepairContext:
    return context_for(
        {"ledger.py": LEDGER},
        "AssertionError: assert 1200 == 700",
        "tests/test_ledger.py::TestLedger::test_credits_and_debits",
        (("tests/test_ledger.py", 9),),
        9,
    )


def learn_the_family(store: MemoryStore) -> None:
    assert store.record_attempts(
        [
            record_for(restock(), RESTOCK.replace("return levels", "return updated"),
                       template="wrong_var"),
            record_for(initials(), INITIALS.replace("return full_name", "return letters"),
                       template="wrong_var"),
            record_for(settings(), SETTINGS.replace("return raw", "return found"),
                       template="return_value"),
        ]
    )  # fmt: skip


def learn_other_kinds(store: MemoryStore) -> None:
    cart = context_for({"cart.py": CART}, "AssertionError: assert 6 == 10", line=4)
    flatten = context_for({"flat.py": FLATTEN}, "AssertionError: assert [[1]] == [1]", line=4)
    assert store.record_attempts(
        [
            record_for(cart, CART.replace("result = price", "result += price"),
                       template="aug_assign"),
            record_for(flatten, FLATTEN.replace("append", "extend"), template="swap_builtin"),
        ]
    )  # fmt: skip


def position_of_the_fix(context: RepairContext, fixed: str) -> int:
    """Candidates the engine tests before the fix, in its order for this context."""
    for n, candidate in enumerate(OfflineGenerator().candidates(context), 1):
        if candidate.changes["ledger.py"] == fixed:
            return n
    raise AssertionError("the engine never makes the fix")


def test_a_family_learned_one_way_helps_a_member_written_differently(
    store: MemoryStore,
) -> None:
    learn_the_family(store)
    memory = SessionMemory(store)
    context = memory.prepare(ledger())
    recalled = memory.recall(context)
    suggestion = recalled.suggestion
    # Not the remembered lines (none of their names is here): an edit of their kind.
    assert suggestion is not None and suggestion.transferred
    assert suggestion.candidate.changes == {"ledger.py": LEDGER_FIXED}
    # Tested first, together: at most four, the best first.
    assert 1 <= len(recalled.suggestions) + len(recalled.ahead) <= 4
    assert all(s.candidate.generator == "memory" for s in recalled.suggestions)


def test_memory_of_other_kinds_of_bug_does_not_change_the_order_for_the_worse(
    store: MemoryStore,
) -> None:
    learn_other_kinds(store)
    memory = SessionMemory(store)
    context = memory.prepare(ledger())
    recalled = memory.recall(context)
    assert not recalled.suggestions and not recalled.ahead
    assert position_of_the_fix(context, LEDGER_FIXED) <= position_of_the_fix(ledger(), LEDGER_FIXED)


def test_a_mixed_memory_still_finds_the_familys_kind(store: MemoryStore) -> None:
    learn_the_family(store)
    learn_other_kinds(store)
    suggestion = recall.suggestion(store, ledger())
    assert suggestion is not None
    assert suggestion.candidate.changes == {"ledger.py": LEDGER_FIXED}


# --- through the loop and the sandbox -----------------------------------------------------

HELDOUT = Path(__file__).resolve().parents[2] / "benchmarks" / "families_heldout"
# Written after the other family sets had been looked at, before memory's bounds.
FRESH = HELDOUT.parent / "families_fresh"


@pytest.fixture(scope="module")
def pool() -> Iterator[object]:
    from fixloop.sandbox import SandboxPool

    with SandboxPool() as sandbox:
        yield sandbox


def _tested(member: str, store: MemoryStore, pool: object, tmp_path: Path) -> int:
    """Every candidate a fix session of a held-out member tests before offering its fix
    (`member`: family/member in families_heldout, or a folder)."""
    from fixloop.loop.engine import Budget, FixSession

    folder = HELDOUT / member
    bug = json.loads((folder / "bug.json").read_text())
    root = tmp_path / folder.name
    shutil.copytree(folder, root, ignore=shutil.ignore_patterns("bug.json", "__pycache__"))
    session = FixSession(
        root,
        "python -m pytest -q",
        [OfflineGenerator()],
        pool,  # type: ignore[arg-type]
        targets=[bug["file"]],
        budget=Budget(max_iterations=20, parallel=2),
        memory=SessionMemory(store),
    )
    result = session.run()
    assert result.fixed, result.message
    return result.candidates_tried


@pytest.mark.slow
def test_through_the_loop_a_family_written_differently_needs_fewer_candidates(
    pool: object, tmp_path: Path
) -> None:
    """Learned from two members (a sort key of a named tuple, an attribute of a session
    object), a third (an area computed from the wrong side, tested with an assert message)
    is fixed testing fewer candidates; memory of another kind of bug costs nothing."""

    def store(name: str) -> MemoryStore:
        return MemoryStore(MemoryConfig(path=tmp_path / name, retry_seconds=0.0))

    none = _tested("wrong_attribute/rectangle", store("none"), pool, tmp_path / "a")
    family = store("family")
    for member in ("contacts", "session"):
        _tested(f"wrong_attribute/{member}", family, pool, tmp_path / member)
    assert _tested("wrong_attribute/rectangle", family, pool, tmp_path / "b") < none
    other = store("other")
    for member in ("record", "alarm"):
        _tested(f"comparison_direction/{member}", other, pool, tmp_path / member)
    assert _tested("wrong_attribute/rectangle", other, pool, tmp_path / "c") <= none


@pytest.mark.slow
def test_memory_of_other_kinds_of_bug_adds_no_candidates_a_familys_halves_them(
    pool: object, tmp_path: Path
) -> None:
    """A boolean connective swapped (`and` for `or`), in a date helper: memory of a
    reversed comparison and a wrong variable returned (other kinds of bug) may test its
    guesses first, but they take their places in the engine's order — the session tests no
    more candidates than without memory; memory of two members of its own kind, written
    otherwise (an inventory filter, a booking overlap), halves them."""

    def store(name: str) -> MemoryStore:
        return MemoryStore(MemoryConfig(path=tmp_path / name, retry_seconds=0.0))

    member = str(FRESH / "and_or" / "weekend")
    none = _tested(member, store("none"), pool, tmp_path / "a")
    other = store("other")
    for learned in ("comparison_direction/alarm", "wrong_return/ledger"):
        _tested(learned, other, pool, tmp_path / learned.replace("/", "-"))
    assert _tested(member, other, pool, tmp_path / "b") <= none
    family = store("family")
    for learned in ("inventory", "booking"):
        _tested(str(FRESH / "and_or" / learned), family, pool, tmp_path / learned)
    assert 2 * _tested(member, family, pool, tmp_path / "c") <= none
