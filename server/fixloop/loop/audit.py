"""The security audit of a candidate: the safety and secret rules run on what the candidate
changes, and a candidate that brings in a finding the original did not have (an `eval`, a
`shell=True`, a hard-coded key …) is not offered, however well it passes the tests.

The original files are analysed once (`prepare`, from a thread while the first test run
goes on); each candidate's file is then analysed as an edit of its original (the tree
reparsed and the rules rerun around the edit alone, `Document.edited`), with the same
findings as a full analysis of it."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping

from fixloop.analysis.document import Document
from fixloop.analysis.findings import Group
from fixloop.analysis.languages import language_for

_AUDITED = (Group.SAFETY, Group.SECRETS)
# The originals analysed, by (path, text): the files of the last few sessions.
_KEPT = 16
_originals: OrderedDict[tuple[str, str], Document | None] = OrderedDict()
# Held while an original is analysed: a candidate's audit waits for the analysis under
# way (from `prepare`) rather than running a second one.
_lock = threading.Lock()


def _original(path: str, text: str) -> Document | None:
    """The analysis of an original file (None: a language fixloop does not analyse)."""
    key = (path, text)
    with _lock:
        if key in _originals:
            _originals.move_to_end(key)
            return _originals[key]
        language = language_for(path)
        document = None if language is None else Document(language, text.encode("utf-8"))
        _originals[key] = document
        while len(_originals) > _KEPT:
            _originals.popitem(last=False)
        return document


def prepare(files: Iterable[tuple[str, str]]) -> None:
    """Analyse the original files (path, text) ahead of the candidates' audits."""
    for path, text in files:
        _original(path, text)


def _codes(document: Document | None) -> Counter[str]:
    if document is None:
        return Counter()
    return Counter(f.code for f in document.findings() if f.group in _AUDITED)


def introduced_findings(sources: Mapping[str, str], changes: Mapping[str, str]) -> list[str]:
    """Rule codes (e.g. `FL101 in app.py`) the changes add; empty when the audit passes.
    Counted per code, so moving an existing finding is not a new one."""
    introduced: list[str] = []
    for path, text in changes.items():
        original = _original(path, sources.get(path, ""))
        if original is None:
            continue
        before = _codes(original)
        after = _codes(original.edited(text))
        introduced += [f"{code} in {path}" for code in sorted(after - before)]
    return introduced
