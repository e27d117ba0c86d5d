"""Positions: editors count UTF-16 units (VS Code, Neovim 0.7), tree-sitter counts bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixloop.analysis.source import Encoding, Position, PositionError, SourceText, Span

TEXT = "a = 1\nsmile = '😀'  # é\n\nlast"


def test_utf16_columns_count_astral_characters_twice() -> None:
    source = SourceText.from_text(TEXT)
    after_emoji = TEXT.split("\n")[1].index("'  #")  # the closing quote, in characters
    offset = source.offset_at(Position(1, after_emoji + 1), Encoding.UTF16)
    assert source.data[offset : offset + 1] == b"'"
    assert source.position_at(offset, Encoding.UTF16) == Position(1, after_emoji + 1)
    assert source.position_at(offset, Encoding.UTF32) == Position(1, after_emoji)
    assert source.position_at(offset, Encoding.UTF8) == Position(1, after_emoji + 3)


def test_column_past_the_end_of_a_line_is_clamped_to_it() -> None:
    source = SourceText.from_text(TEXT)
    assert source.offset_at(Position(0, 99)) == len("a = 1")


def test_line_past_the_end_is_an_error() -> None:
    with pytest.raises(PositionError):
        SourceText.from_text(TEXT).offset_at(Position(10, 0))


def test_position_just_after_the_last_line_is_the_end() -> None:
    source = SourceText.from_text("x\n")
    assert source.offset_at(Position(2, 0)) == len(source.data)


@given(st.text(alphabet=st.sampled_from("ab\n😀é\r"), max_size=40), st.data())
def test_replace_keeps_the_line_index_right(text: str, data: st.DataObject) -> None:
    source = SourceText.from_text(text)
    start = data.draw(st.integers(0, len(source.data)))
    end = data.draw(st.integers(start, len(source.data)))
    new = data.draw(st.text(alphabet=st.sampled_from("x\n😀"), max_size=5)).encode()
    edited = source.replace(Span(start, end), new)
    assert edited.data == source.data[:start] + new + source.data[end:]
    assert edited.line_starts == SourceText(edited.data).line_starts
