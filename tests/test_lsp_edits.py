"""The smallest edit between two texts (what the fix and the remembered fix send), and the
lines a fix wrote (what tells a kept fix from a rewritten one)."""

from __future__ import annotations

import random

import pytest

from fixloop.analysis.source import Encoding, SourceText
from fixloop.lsp.edits import minimal_edit
from fixloop.lsp.verdicts import fixed_lines
from tests.support.editing import apply_text_edits

ALPHABET = ["a", "b", "\n", " ", "é", "€", "😀", "=", ">"]


def _random_text(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(size))


@pytest.mark.parametrize("seed", range(300))
def test_the_edit_turns_the_old_text_into_the_new_one_and_touches_only_what_differs(
    seed: int,
) -> None:
    rng = random.Random(seed)
    old = _random_text(rng, rng.randrange(0, 40))
    start = rng.randrange(0, len(old) + 1)
    end = rng.randrange(start, len(old) + 1)
    new = old[:start] + _random_text(rng, rng.randrange(0, 6)) + old[end:]
    edit = minimal_edit(SourceText(old.encode()), new, Encoding.UTF16)
    assert apply_text_edits(old, [edit]) == new
    assert len(edit.new_text) <= max(0, len(new) - start)


def test_a_one_character_fix_is_a_one_character_edit() -> None:
    old = "def f(q):\n    if q > 10:\n        return 1\n"
    edit = minimal_edit(SourceText(old.encode()), old.replace("> 10", ">= 10"), Encoding.UTF16)
    assert (edit.range.start.line, edit.range.start.character) == (1, 10)
    assert edit.range.end == edit.range.start and edit.new_text == "="


def test_the_lines_a_fix_wrote_are_whole_lines() -> None:
    before = b"a = 1\nif q > 10:\n    pass\n"
    after = b"a = 1\nif q >= 10:\n    pass\n"
    assert fixed_lines(before, after) == b"if q >= 10:\n"


def test_a_deleted_line_is_known_by_its_neighbours() -> None:
    before = b"one\ntwo\nthree\n"
    after = b"one\nthree\n"
    assert fixed_lines(before, after) == b"one\nthree\n"
