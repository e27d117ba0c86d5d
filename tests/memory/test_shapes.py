"""Edit shapes: the same kind of fix in different code has one shape; different kinds
of fix have different ones."""

from __future__ import annotations

import pytest

from fixloop.memory.shapes import (
    EditKind,
    edit_kind,
    edit_shape,
    file_edit_kind,
    kinship,
    name_roles,
)

SAME_KIND = [
    (  # an inclusive bound
        ("    if on_hand < level:\n        return True\n", "<", "<="),
        ("while lo < hi - 1:\n", "<", "<="),
    ),
    (  # a list appended where it should be extended
        ("    items.append(group)\n", "append", "extend"),
        ("        self.messages.append(batch)\n", "append", "extend"),
    ),
    (  # arguments in the wrong order
        ("    m, s = divmod(60, seconds)\n", "divmod(60, seconds)", "divmod(seconds, 60)"),
        ("    a = math.atan2(y, x)\n", "atan2(y, x)", "atan2(x, y)"),
    ),
    (  # a slice one short
        ("    return ranked[: n - 1]\n", " - 1]", "]"),
        ("    chunk = values[start : start + window - 1]\n", " - 1]", "]"),
    ),
    (  # an accumulator overwritten
        ("        total = price * count\n", "total =", "total +="),
        ("        self.text = chunk\n", "text =", "text +="),
    ),
]


def _shape(text: str, old: str, new: str) -> str | None:
    return edit_shape(text, text.replace(old, new, 1))


@pytest.mark.parametrize("pair", SAME_KIND, ids=lambda pair: pair[0][2])
def test_one_kind_of_fix_in_different_code_has_one_shape(
    pair: tuple[tuple[str, str, str], ...],
) -> None:
    first, second = (_shape(*case) for case in pair)
    assert first is not None and first == second


def test_different_kinds_of_fix_have_different_shapes() -> None:
    shapes = {_shape(*pair[0]) for pair in SAME_KIND}
    assert len(shapes) == len(SAME_KIND)
    # Not just any rename, number or operator: what changed into what.
    assert _shape("x.append(y)\n", "append", "insert") != _shape(*SAME_KIND[1][0])
    assert _shape("if a < b:\n", "<", ">") != _shape(*SAME_KIND[0][0])


def test_the_changed_region_only() -> None:
    before = "import os\n\n\ndef f(xs):\n    return xs[: len(xs) - 1]\n"
    after = before.replace(" - 1]", "]")
    assert edit_shape(before, after) == "- 1 =>"
    assert edit_shape(before, before) is None
    assert edit_shape("a = 1\n", "a = 1\nb = 2\n") == "=> b = 2"


# --- kinds: the same kind of fix in code written differently ------------------------------

FAHRENHEIT = "def c(f):\n    return round((f + 32) * 5 / 9, 1)\n"
SPEED = """class Run:
    def speed(self):
        hours = self.minutes / 60
        return self.km * hours
"""
LEDGER = """def balance(entries):
    credit = sum(e for e in entries if e > 0)
    debit = -sum(e for e in entries if e < 0)
    net = credit - debit
    return credit
"""
RESTOCK = """def restock(levels, amount):
    updated = dict(levels)
    for item, level in levels.items():
        updated[item] = level + amount
    return levels
"""


def _kind(text: str, old: str, new: str) -> EditKind:
    kind = file_edit_kind(text, text.replace(old, new, 1))
    assert kind is not None
    return kind


def test_names_and_literals_become_roles_and_operators_classes() -> None:
    kind = _kind(RESTOCK, "return levels", "return updated")
    assert (kind.shape, kind.roles, kind.names) == (
        "levels => updated",
        "<param> => <local>",
        "<name> => <name>",
    )
    assert kind.statement == "return"
    assert _kind(SPEED, "self.km * hours", "self.km / hours").classes == "<arith> => <arith>"
    assert _kind("x = p.width * 2\n", "width", "height").roles == "<attr> => <attr>"
    assert _kind("r = s.strip()\n", "strip", "lstrip").roles == "<method> => <method>"
    assert _kind('k = d["a"]\n', '"a"', '"b"').roles == "<str> => <str>"
    # What a comparison's change does to its relation, whatever the operator.
    assert _kind("if a > b:\n    pass\n", ">", "<").classes == "<cmp> => <cmp:converse>"
    assert _kind("ok = x >= y\n", ">=", "<=").classes == "<cmp> => <cmp:converse>"
    assert _kind("if a < b:\n    pass\n", "<", "<=").classes == "<cmp> => <cmp:strictness>"


@pytest.mark.parametrize(
    ("one", "other", "level"),
    [
        (  # a wrong arithmetic operator, another operator in other code
            (FAHRENHEIT, "(f + 32)", "(f - 32)"),
            (SPEED, "self.km * hours", "self.km / hours"),
            0.65,
        ),
        (  # the wrong variable returned: a parameter for a local, a local for a local
            (RESTOCK, "return levels", "return updated"),
            (LEDGER, "return credit", "return net"),
            0.85,
        ),
        (  # a comparison reversed, whatever its operator and statement
            ("if lap > best:\n    best = lap\n", ">", "<"),
            ("def f(xs):\n    return all(a >= b for a, b in zip(xs, xs[1:]))\n", ">=", "<="),
            0.8,
        ),
        (  # the same roles: a parameter returned where a local was meant
            (RESTOCK, "return levels", "return updated"),
            (
                "def f(name):\n    letters = name[:1]\n    return name\n",
                "return name",
                "return letters",
            ),
            0.95,
        ),
    ],
)
def test_the_same_kind_of_fix_written_differently_is_kin(
    one: tuple[str, str, str], other: tuple[str, str, str], level: float
) -> None:
    assert kinship(_kind(*one), _kind(*other)) == pytest.approx(level)


def test_different_kinds_of_fix_are_not_kin() -> None:
    converse = _kind("if a > b:\n    pass\n", ">", "<")
    strictness = _kind("if a < b:\n    pass\n", "<", "<=")
    variable = _kind(LEDGER, "return credit", "return net")
    attribute = _kind("def f(p):\n    return p.width\n", "width", "height")
    arithmetic = _kind(FAHRENHEIT, "(f + 32)", "(f - 32)")
    kinds = [converse, strictness, variable, attribute, arithmetic]
    for n, one in enumerate(kinds):
        for other in kinds[n + 1 :]:
            assert kinship(one, other) == 0.0, (one, other)


def test_a_kind_survives_the_record() -> None:
    kind = _kind(RESTOCK, "return levels", "return updated")
    assert EditKind.from_text(kind.to_text()) == kind
    assert edit_kind("a\n", "a\n") is None


def test_name_roles() -> None:
    roles = name_roles("LIMIT = 3\n" + RESTOCK, 6)
    assert roles["levels"] == "param" and roles["updated"] == "local"
    assert roles["item"] == roles["level"] == "loop" and roles["LIMIT"] == "global"
    assert name_roles("def broken(:\n", 1) == {}
