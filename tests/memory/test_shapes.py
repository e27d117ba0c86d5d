"""Edit shapes: the same kind of fix in different code has one shape; different kinds
of fix have different ones."""

from __future__ import annotations

import pytest

from fixloop.memory.shapes import edit_shape

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
