"""Secrets removed before anything is stored: memory is shared (a team server, an export
file), so a key in a failing test's code or output must not end up there.

Code goes through the project's own secret rules (FL301 to FL304); free text (messages,
test output) through the same known-token shapes plus `name = value` pairs whose name
sounds secret and whose value looks random.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fixloop.analysis.source import common_prefix, common_suffix

if TYPE_CHECKING:
    from fixloop.analysis.document import Document

MARKER = "<redacted>"

# `password = "…"`, `API_KEY: …`, `token=…` in free text.
_ASSIGNED = re.compile(r"""([\w.-]*)(\s*[:=]\s*)(["']?)([^\s"',;]{8,})\3""")


def redact_code(text: str, language: str, original: str | None = None) -> str:
    """`text` with every secret the secret rules find replaced by the marker. With the
    `original` it was edited from, the rules and the `name = value` scan run around the
    edit alone (the original's results kept): the same text as redacting it whole, for a
    fraction of the time on a large file."""
    if original is not None and original != text:
        kept = _original(original, language)
        prepared = _known_redacted(_with_markers(text, _edited_secret_spans(kept.document, text)))
        return _assigned_redacted_as_edit(prepared, kept.scan)
    return redact_text(_with_markers(text, _secret_spans(text, language)))


def redact_text(text: str) -> str:
    """Known token shapes and secret-sounding `name = value` pairs in any text."""
    return _ASSIGNED.sub(_assigned, _known_redacted(text))


def _with_markers(text: str, spans: list[tuple[int, int]]) -> str:
    encoded = text.encode()
    for start, end in reversed(spans):
        encoded = encoded[:start] + _marker_for(encoded[start:end]) + encoded[end:]
    return encoded.decode("utf-8", errors="replace")


def _known_redacted(text: str) -> str:
    from fixloop.analysis.safety.secrets import _KNOWN

    return _KNOWN.sub(MARKER.encode(), text.encode()).decode("utf-8", errors="replace")


def _assigned(match: re.Match[str]) -> str:
    from fixloop.analysis.safety.secrets import is_secret_name, looks_random

    name, value = match.group(1), match.group(4)
    if value == MARKER or not is_secret_name(name):
        return match.group(0)
    password = any(word in name.lower() for word in ("pass", "pwd"))
    if not looks_random(value, password):
        return match.group(0)
    quote = match.group(3)
    return f"{name}{match.group(2)}{quote}{MARKER}{quote}"


def _secret_spans(text: str, language: str) -> list[tuple[int, int]]:
    from fixloop.analysis.languages import LANGUAGES
    from fixloop.analysis.safety.secrets import secret_findings

    spec = next((spec for spec in LANGUAGES if spec.name == language), None)
    if spec is None or not text:
        return []
    findings = secret_findings(spec, text.encode())
    return _merged((f.span.start, f.span.end) for f in findings)


def _edited_secret_spans(document: Document | None, text: str) -> list[tuple[int, int]]:
    """`_secret_spans(text)`, from the original's analysis as an edit of it."""
    if document is None or not text:
        return []
    return _secrets_of(document.edited(text))


def _secrets_of(document: Document) -> list[tuple[int, int]]:
    from fixloop.analysis.findings import Group

    secrets = (f.span for f in document.findings() if f.group is Group.SECRETS)
    return _merged((span.start, span.end) for span in secrets)


@dataclass(frozen=True)
class _Scan:
    """The `name = value` scan of an original (after the code and known-token markers):
    its text, its matches' spans, and its output."""

    text: str
    starts: list[int]
    ends: list[int]
    shifts: list[int]  # output length minus input length of the first i matches
    output: str

    @classmethod
    def of(cls, text: str) -> _Scan:
        starts: list[int] = []
        ends: list[int] = []
        shifts, pieces, at = [0], [], 0
        for match in _ASSIGNED.finditer(text):
            replacement = _assigned(match)
            pieces += [text[at : match.start()], replacement]
            starts.append(match.start())
            ends.append(match.end())
            shifts.append(shifts[-1] + len(replacement) - len(match.group(0)))
            at = match.end()
        return cls(text, starts, ends, shifts, "".join([*pieces, text[at:]]))

    def output_at(self, position: int) -> int:
        """Where `position`, outside every match, lands in the output."""
        return position + self.shifts[bisect.bisect_right(self.ends, position)]

    def inside(self, position: int) -> int | None:
        """The end of the match strictly around `position`, if any."""
        i = bisect.bisect_right(self.starts, position) - 1
        if i >= 0 and self.starts[i] < position < self.ends[i]:
            return self.ends[i]
        return None


@dataclass(frozen=True)
class _Original:
    """What redacting candidates of one original needs of it: its analysis (None for a
    language without rules) and its `name = value` scan."""

    document: Document | None
    scan: _Scan


# The originals that candidates edit: a session's few files.
_ORIGINALS: OrderedDict[tuple[str, str], _Original] = OrderedDict()
_ORIGINALS_KEPT = 8
_originals_lock = threading.Lock()


def _original(text: str, language: str) -> _Original:
    key = (language, text)
    with _originals_lock:  # one analysis per original, even asked from several threads
        if key not in _ORIGINALS:
            _ORIGINALS[key] = _analysed(text, language)
            while len(_ORIGINALS) > _ORIGINALS_KEPT:
                _ORIGINALS.popitem(last=False)
        _ORIGINALS.move_to_end(key)
        return _ORIGINALS[key]


def _analysed(text: str, language: str) -> _Original:
    from fixloop.analysis.document import Document
    from fixloop.analysis.languages import LANGUAGES

    spec = next((spec for spec in LANGUAGES if spec.name == language), None)
    document = None if spec is None else Document(spec, text)
    spans = _secrets_of(document) if document is not None and text else []
    return _Original(document, _Scan.of(_known_redacted(_with_markers(text, spans))))


# Lines of margin around a window. `_ASSIGNED` has no lookbehind; an attempt reads its
# name on its own line, then (across blank lines) the separator and the value, on the next
# two non-blank lines at most, up to the newline after the value. Two would do; one more
# is slack.
_MARGIN_LINES = 3
_NON_SPACE = re.compile(r"\S")


def _assigned_redacted_as_edit(text: str, original: _Scan) -> str:
    """`_ASSIGNED.sub(_assigned, text)`, scanning only around where `text` differs from the
    original: before and after, the original's scan is the same scan."""
    base = original.text
    prefix = common_prefix(base, text)
    delta = len(text) - len(base)
    suffix_start = len(text) - common_suffix(base, text)
    # Attempts before `start` read unchanged text only: their matches are the original's.
    start = _lines_back(text, prefix)
    before = bisect.bisect_left(original.starts, start) - 1
    cursor = max(start, original.ends[before]) if before >= 0 else start
    pieces = [original.output[: original.output_at(cursor)]]
    while True:
        # The first place in the common suffix where the original's scan also tries.
        sync = max(cursor, suffix_start)
        if (end := original.inside(sync - delta)) is not None:
            sync = end + delta
        # Attempts up to `sync` read nothing past `stop`: the same matches when cut there.
        stop = _lines_forward(text, sync)
        match = _ASSIGNED.search(text, cursor, stop)
        if match is None or match.start() >= sync:
            pieces += [text[cursor:sync], original.output[original.output_at(sync - delta) :]]
            return "".join(pieces)
        pieces += [text[cursor : match.start()], _assigned(match)]
        cursor = match.end()


def _lines_back(text: str, position: int) -> int:
    """A line start with `_MARGIN_LINES` non-blank lines between it and `position`'s line."""
    start, found = text.rfind("\n", 0, position) + 1, 0
    while found < _MARGIN_LINES and start > 0:
        previous = text.rfind("\n", 0, start - 1) + 1
        found += _NON_SPACE.search(text, previous, start) is not None
        start = previous
    return start


def _lines_forward(text: str, position: int) -> int:
    """The end of the `_MARGIN_LINES`th non-blank line after `position`'s line."""
    end, found = text.find("\n", position), 0
    while found < _MARGIN_LINES and end != -1:
        following = text.find("\n", end + 1)
        found += (
            _NON_SPACE.search(text, end + 1, len(text) if following == -1 else following)
            is not None
        )
        end = following
    return len(text) if end == -1 else end + 1


def _marker_for(secret: bytes) -> bytes:
    """The marker, inside the literal's own quotes when the span is a whole literal."""
    quote = secret[:1]
    if len(secret) >= 2 and quote in (b"'", b'"', b"`") and secret.endswith(quote):
        return quote + MARKER.encode() + quote
    return MARKER.encode()


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
