"""The project's token language model: an edit written the way the project writes its code
scores as more natural than an odd one, and the buggy line does not vouch for itself."""

from __future__ import annotations

from pathlib import Path

from fixloop.loop.naturalness import (
    Scorer,
    build,
    changed_lines,
    hunk_lines,
    naturalness,
    project_model,
    scorer_for,
    tokens,
)

PROJECT = """\
def first_even(items):
    for i in range(len(items)):
        if items[i] % 2 == 0:
            return i
    return -1


def count_small(items, limit):
    total = 0
    for i in range(len(items)):
        if items[i] <= limit:
            total += 1
    return total


def last_index(items):
    return len(items) - 1
"""
BUGGY = """\
def find(items, target):
    for i in range(len(items) + 1):
        if items[i] == target:
            return i
    return -1
"""


def _with(line: str) -> str:
    return BUGGY.replace("    for i in range(len(items) + 1):", line)


def test_tokens_keep_code_and_drop_comments_with_their_lines() -> None:
    found = tokens("x = 1  # note\n\nif x:\n    y = 'a'\n")
    words = [w for w, _ in found]
    assert "# note" not in words and "x" in words and "'a'" in words
    assert ("if", 3) in found


def test_an_edit_in_the_project_s_idiom_reads_more_naturally_than_an_odd_one() -> None:
    scorer = Scorer(build([PROJECT, BUGGY]))
    idiom = naturalness(scorer, "find.py", BUGGY, _with("    for i in range(len(items)):"))
    odd = naturalness(scorer, "find.py", BUGGY, _with("    for i in range(len(target) + 1):"))
    assert idiom is not None and odd is not None
    assert idiom.delta < 0 < odd.delta
    assert idiom.after < odd.after


def test_the_buggy_line_does_not_vouch_for_itself() -> None:
    """Its counts are left out while it is scored (it would look as natural as anything
    the model has seen), and the model is whole again afterwards."""
    model = build([PROJECT, BUGGY])
    counts = dict(model.tri)
    scorer = Scorer(model)
    remembered = scorer.line_entropy(BUGGY, 1, 3)
    scored = naturalness(scorer, "find.py", BUGGY, _with("    for i in range(len(items)):"))
    assert scored is not None and remembered is not None
    assert scored.before > remembered + 0.5
    assert dict(model.tri) == counts


def test_hunk_lines_give_the_changed_lines_with_one_line_of_context() -> None:
    assert hunk_lines("a\nb\nc\nd\n", "a\nB\nc\nd\n") == ((1, 3), (1, 3))
    assert hunk_lines("a\nb\nc\n", "a\nc\n") == ((1, 3), (1, 2))  # a deletion
    assert hunk_lines("a\n", "a\n") is None
    assert changed_lines("a\nb\n", "A\nb\n") == (range(1, 2), range(1, 2))
    assert changed_lines("a\nc\n", "a\nb\nc\n") == (range(2, 2), range(2, 3))  # inserted


def test_the_project_model_is_built_once_and_again_when_a_file_changes(tmp_path: Path) -> None:
    (tmp_path / "other.py").write_text(PROJECT, encoding="utf-8")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "lib.py").write_text("zzz_vendored = 1\n", encoding="utf-8")
    sources = {"find.py": BUGGY}
    model = project_model(tmp_path, sources)
    assert model is project_model(tmp_path, sources)
    assert model.uni["limit"] > 0  # the project's other files count
    assert model.uni["zzz_vendored"] == 0  # an environment's do not
    (tmp_path / "other.py").write_text(PROJECT + "\nspecial_name = 2\n", encoding="utf-8")
    again = project_model(tmp_path, sources)
    assert again is not model and again.uni["special_name"] == 1
    assert scorer_for(tmp_path, sources).general is not None
