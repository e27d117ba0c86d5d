"""UTF-8 source text with a line index, and conversions between byte offsets and
editor positions (line, column) in UTF-8, UTF-16 or UTF-32 code units.

The text is kept as bytes because tree-sitter works on bytes; editors (LSP, SARIF) count
columns in UTF-16 code units by default, so every position crosses this module.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

_Text = TypeVar("_Text", str, bytes)


def common_prefix(old: _Text, new: _Text) -> int:
    """How many characters (or bytes) the two share at their start, by halving: slice
    comparisons run in C, so a file of thousands of lines costs well under a
    millisecond, where a loop per character costs tens."""
    low, high = 0, min(len(old), len(new))
    while low < high:
        middle = (low + high + 1) // 2
        if old[:middle] == new[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def common_suffix(old: _Text, new: _Text, limit: int | None = None) -> int:
    """How many the two share at their end, at most `limit`."""
    low, high = 0, min(len(old), len(new), len(old) if limit is None else limit)
    while low < high:
        middle = (low + high + 1) // 2
        if old[len(old) - middle :] == new[len(new) - middle :]:
            low = middle
        else:
            high = middle - 1
    return low


class Encoding(StrEnum):
    """How an editor counts columns."""

    UTF8 = "utf-8"
    UTF16 = "utf-16"
    UTF32 = "utf-32"


@dataclass(frozen=True, slots=True)
class Position:
    """A zero-based (line, column) position; the column unit depends on the encoding."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open byte range [start, end)."""

    start: int
    end: int

    def touches(self, other: Span) -> bool:
        """True when the spans overlap or meet (an edit at a finding's edge touches it)."""
        return self.start <= other.end and other.start <= self.end

    def contains(self, other: Span) -> bool:
        return self.start <= other.start and other.end <= self.end


class PositionError(ValueError):
    """An editor position that does not exist in the text."""


def _line_starts(data: bytes, base: int = 0) -> list[int]:
    starts = []
    find = data.find
    index = find(b"\n")
    while index >= 0:
        starts.append(base + index + 1)
        index = find(b"\n", index + 1)
    return starts


def _units_to_bytes(line: bytes, units: int, encoding: Encoding) -> int:
    """Byte length of the first `units` code units of `line` (clamped to the line)."""
    if encoding is Encoding.UTF8 or line.isascii():
        return min(units, len(line))
    text = line.decode("utf-8", errors="replace")
    if encoding is Encoding.UTF32:
        return len(text[:units].encode("utf-8"))
    consumed = 0
    for index, char in enumerate(text):
        width = 2 if ord(char) > 0xFFFF else 1
        if consumed + width > units:
            return len(text[:index].encode("utf-8"))
        consumed += width
    return len(line)


def _bytes_to_units(line: bytes, byte_column: int, encoding: Encoding) -> int:
    prefix = line[:byte_column]
    if encoding is Encoding.UTF8 or prefix.isascii():
        return len(prefix)
    text = prefix.decode("utf-8", errors="replace")
    if encoding is Encoding.UTF32:
        return len(text)
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


class SourceText:
    """Immutable-looking UTF-8 text with line starts, edited by `replace`."""

    __slots__ = ("data", "line_starts")

    def __init__(self, data: bytes, line_starts: list[int] | None = None) -> None:
        self.data = data
        self.line_starts = line_starts if line_starts is not None else [0, *_line_starts(data)]

    @classmethod
    def from_text(cls, text: str) -> SourceText:
        return cls(text.encode("utf-8", errors="surrogatepass"))

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    def line_bytes(self, line: int) -> bytes:
        """The bytes of `line` without its line break."""
        start = self.line_starts[line]
        end = self.line_starts[line + 1] - 1 if line + 1 < len(self.line_starts) else len(self.data)
        content = self.data[start:end]
        return content[:-1] if content.endswith(b"\r") else content

    def offset_at(self, position: Position, encoding: Encoding = Encoding.UTF16) -> int:
        """Byte offset of an editor position; a column past the line's end is clamped to it
        (as LSP asks), a line past the end of the text is an error."""
        if position.line < 0 or position.column < 0:
            raise PositionError(f"negative position {position}")
        if position.line >= len(self.line_starts):
            if position.line == len(self.line_starts) and position.column == 0:
                return len(self.data)
            raise PositionError(
                f"line {position.line} is past the end ({len(self.line_starts)} lines)"
            )
        line = self.line_bytes(position.line)
        return self.line_starts[position.line] + _units_to_bytes(line, position.column, encoding)

    def position_at(self, offset: int, encoding: Encoding = Encoding.UTF16) -> Position:
        """Editor position of a byte offset."""
        offset = max(0, min(offset, len(self.data)))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        column_bytes = offset - self.line_starts[line]
        return Position(line, _bytes_to_units(self.line_bytes(line), column_bytes, encoding))

    def point_at(self, offset: int) -> tuple[int, int]:
        """tree-sitter point (row, byte column) of a byte offset."""
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line, offset - self.line_starts[line]

    def replace(self, span: Span, new: bytes) -> SourceText:
        """A new text with `span` replaced by `new`; the line index is patched, not rebuilt."""
        data = self.data[: span.start] + new + self.data[span.end :]
        starts = self.line_starts
        first_after = bisect.bisect_right(starts, span.end)
        keep_before = bisect.bisect_right(starts, span.start)
        delta = len(new) - (span.end - span.start)
        inserted = _line_starts(new, span.start)
        tail = starts[first_after:]
        if delta:
            tail = [start + delta for start in tail]
        return SourceText(data, starts[:keep_before] + inserted + tail)
