"""Secrets removed before anything is stored: memory is shared (a team server, an export
file), so a key in a failing test's code or output must not end up there.

Code goes through the project's own secret rules (FL301 to FL304); free text (messages,
test output) through the same known-token shapes plus `name = value` pairs whose name
sounds secret and whose value looks random.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fixloop.analysis.document import Document

MARKER = "<redacted>"

# `password = "…"`, `API_KEY: …`, `token=…` in free text.
_ASSIGNED = re.compile(r"""([\w.-]*)(\s*[:=]\s*)(["']?)([^\s"',;]{8,})\3""")


def redact_code(text: str, language: str, original: str | None = None) -> str:
    """`text` with every secret the secret rules find replaced by the marker. With the
    `original` it was edited from, the rules run around the edit alone (the original's
    analysis kept): the same spans, for a candidate of a large file in a millisecond or
    two instead of tens."""
    if original is not None and original != text:
        spans = _edited_secret_spans(original, text, language)
    else:
        spans = _secret_spans(text, language)
    encoded = text.encode()
    for start, end in reversed(spans):
        encoded = encoded[:start] + _marker_for(encoded[start:end]) + encoded[end:]
    return redact_text(encoded.decode("utf-8", errors="replace"))


def redact_text(text: str) -> str:
    """Known token shapes and secret-sounding `name = value` pairs in any text."""
    from fixloop.analysis.safety.secrets import _KNOWN, is_secret_name, looks_random

    def known(match: re.Match[bytes]) -> bytes:
        return MARKER.encode()

    text = _KNOWN.sub(known, text.encode()).decode("utf-8", errors="replace")

    def assigned(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(4)
        if value == MARKER or not is_secret_name(name):
            return match.group(0)
        password = any(word in name.lower() for word in ("pass", "pwd"))
        if not looks_random(value, password):
            return match.group(0)
        quote = match.group(3)
        return f"{name}{match.group(2)}{quote}{MARKER}{quote}"

    return _ASSIGNED.sub(assigned, text)


def _secret_spans(text: str, language: str) -> list[tuple[int, int]]:
    from fixloop.analysis.languages import LANGUAGES
    from fixloop.analysis.safety.secrets import secret_findings

    spec = next((spec for spec in LANGUAGES if spec.name == language), None)
    if spec is None or not text:
        return []
    findings = secret_findings(spec, text.encode())
    return _merged((f.span.start, f.span.end) for f in findings)


# Analyses of the originals that candidates edit: a session's few files.
_ORIGINALS: OrderedDict[tuple[str, str], Document | None] = OrderedDict()
_ORIGINALS_KEPT = 8
_originals_lock = threading.Lock()


def _edited_secret_spans(original: str, text: str, language: str) -> list[tuple[int, int]]:
    """`_secret_spans(text)`, from the original's analysis as an edit of it."""
    from fixloop.analysis.document import Document
    from fixloop.analysis.findings import Group
    from fixloop.analysis.languages import LANGUAGES

    key = (language, original)
    with _originals_lock:  # one analysis per original, even asked from several threads
        if key not in _ORIGINALS:
            spec = next((spec for spec in LANGUAGES if spec.name == language), None)
            _ORIGINALS[key] = None if spec is None else Document(spec, original)
            while len(_ORIGINALS) > _ORIGINALS_KEPT:
                _ORIGINALS.popitem(last=False)
        _ORIGINALS.move_to_end(key)
        document = _ORIGINALS[key]
    if document is None or not text:
        return []
    findings = document.edited(text).findings()
    return _merged((f.span.start, f.span.end) for f in findings if f.group is Group.SECRETS)


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
