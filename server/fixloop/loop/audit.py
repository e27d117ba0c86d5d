"""The security audit of a candidate: the safety and secret rules run on what the candidate
changes, and a candidate that brings in a finding the original did not have (an `eval`, a
`shell=True`, a hard-coded key …) is not offered, however well it passes the tests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from functools import lru_cache

from fixloop.analysis.document import Document
from fixloop.analysis.findings import Group
from fixloop.analysis.languages import language_for

_AUDITED = (Group.SAFETY, Group.SECRETS)


@lru_cache(maxsize=16)  # the original file is audited against every passing candidate
def _codes(path: str, text: str) -> Counter[str]:
    language = language_for(path)
    if language is None:
        return Counter()
    document = Document(language, text.encode("utf-8"))
    return Counter(f.code for f in document.findings() if f.group in _AUDITED)


def introduced_findings(sources: Mapping[str, str], changes: Mapping[str, str]) -> list[str]:
    """Rule codes (e.g. `FL101 in app.py`) the changes add; empty when the audit passes.
    Counted per code, so moving an existing finding is not a new one."""
    introduced: list[str] = []
    for path, text in changes.items():
        before = _codes(path, sources.get(path, ""))
        after = _codes(path, text)
        introduced += [f"{code} in {path}" for code in sorted(after - before)]
    return introduced
