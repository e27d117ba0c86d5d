"""Incremental analysis must always agree with analysing the text from scratch."""

from __future__ import annotations

import _pydecimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from fixloop.analysis.document import Change, Document
from fixloop.analysis.languages import language_for
from fixloop.analysis.source import Position

PYTHON = language_for(language_id="python")
SAMPLE = """import yaml, subprocess

def load(path):
    with open(path) as handle:
        return yaml.load(handle)

class Runner:
    def run(self, cmd):
        return subprocess.run(cmd, shell=True)

    def total(self, xs):
        s = 0
        for x in xs:
            s += x
        return s
"""
SNIPPETS = ["(", ")", ":", "\n", "x", " ", "yaml.load(f)", "'", "def ", "    ", "é", "😀", ""]


def _summary(document: Document) -> list[tuple[str, int, int, str]]:
    return [(f.code, f.span.start, f.span.end, f.message) for f in document.findings()]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 16), st.integers(0, 40), st.integers(0, 3), st.sampled_from(SNIPPETS)
        ),
        min_size=1,
        max_size=8,
    )
)
def test_incremental_edits_match_a_fresh_parse(
    edits: list[tuple[int, int, int, str]],
) -> None:
    assert PYTHON is not None
    document = Document(PYTHON, SAMPLE, 1)
    for version, (line, column, length, text) in enumerate(edits, start=2):
        lines = document.text.split("\n")
        line = min(line, len(lines) - 1)
        column = min(column, len(lines[line]))
        end = min(column + length, len(lines[line]))
        document.apply_changes(
            [Change(text, Position(line, column), Position(line, end))],
            version,
        )
        fresh = Document(PYTHON, document.text, version)
        assert document.text == fresh.text
        assert _summary(document) == _summary(fresh)


def test_several_changes_in_one_notification_apply_in_order() -> None:
    assert PYTHON is not None
    document = Document(PYTHON, "a = 1\n", 1)
    document.apply_changes(
        [
            Change("b", Position(0, 0), Position(0, 1)),
            Change("\nc = (", Position(0, 5), Position(0, 5)),
        ],
        2,
    )
    assert document.text == "b = 1\nc = (\n"
    assert [f.code for f in document.findings()] == ["FL001"]
    document.apply_changes([Change("x = 2\n")], 3)  # a full text replaces everything
    assert document.text == "x = 2\n" and document.findings() == []


def test_a_finding_far_from_the_edit_is_kept_and_moved() -> None:
    assert PYTHON is not None
    document = Document(PYTHON, SAMPLE, 1)
    [before] = [f for f in document.findings() if "yaml" in f.message]
    document.apply_changes([Change("# a comment\n", Position(0, 0), Position(0, 0))], 2)
    [after] = [f for f in document.findings() if "yaml" in f.message]
    assert after.span.start == before.span.start + len("# a comment\n")


def test_a_large_rerun_waits_for_refresh_and_then_matches_a_fresh_parse() -> None:
    assert PYTHON is not None
    text = Path(_pydecimal.__file__).read_text(encoding="utf-8")  # 6,400 real lines
    line = 4000  # `        s = []` inside a method of a long class
    document = Document(PYTHON, text, 1)
    document.defer_large_reruns = True
    document.apply_changes([Change("(", Position(line, 8), Position(line, 8))], 2)
    assert document.rules_stale  # the unclosed `(` changed how the rest parses
    document.refresh_rules()
    assert not document.rules_stale
    assert _summary(document) == _summary(Document(PYTHON, document.text, 2))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 16), st.integers(0, 40), st.sampled_from(SNIPPETS)),
        min_size=1,
        max_size=3,
    )
)
def test_an_edited_copy_has_the_findings_of_a_fresh_parse(
    edits: list[tuple[int, int, str]],
) -> None:
    """A candidate's file is audited as an edit of the original: the same findings as
    analysing it from scratch, and the original left as it was."""
    assert PYTHON is not None
    original = Document(PYTHON, SAMPLE, 1)
    before = _summary(original)
    text = SAMPLE
    for line, column, snippet in edits:
        lines = text.split("\n")
        line = min(line, len(lines) - 1)
        column = min(column, len(lines[line]))
        lines[line] = lines[line][:column] + snippet + lines[line][column + len(snippet) :]
        text = "\n".join(lines)
    edited = original.edited(text)
    assert edited.text == text
    assert _summary(edited) == _summary(Document(PYTHON, text))
    assert original.text == SAMPLE and _summary(original) == before


def test_an_edit_that_brings_in_a_finding_is_found_in_the_edited_copy() -> None:
    assert PYTHON is not None
    text = Path(_pydecimal.__file__).read_text(encoding="utf-8")
    original = Document(PYTHON, text)
    line = "        s = []\n"
    risky = text.replace(line, "        s = eval(self)\n", 1)
    edited = original.edited(risky)
    assert _summary(edited) == _summary(Document(PYTHON, risky))
    assert "FL101" in {f.code for f in edited.findings()} - {f.code for f in original.findings()}
    accented = text.replace(line, "        s = ['é']\n", 1)  # a multi-byte character
    assert _summary(original.edited(accented)) == _summary(Document(PYTHON, accented))
