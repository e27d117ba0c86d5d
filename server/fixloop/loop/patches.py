"""Patches as people read them (unified diffs), and the honesty checks on candidates."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import PurePosixPath

# Test files by the naming conventions of pytest, unittest, Jest, Vitest and node --test.
_TEST_FILE = re.compile(
    r"(^|/)(tests?|__tests__|spec)/|(^|/)test_[^/]*\.py$|_test\.py$|(^|/)conftest\.py$"
    r"|\.(test|spec)\.[cm]?[jt]sx?$"
)
_ASSERTION = re.compile(r"^\s*assert\b|\bassert\w*\(|\bexpect\(", re.MULTILINE)


def is_test_file(path: str) -> bool:
    return bool(_TEST_FILE.search(PurePosixPath(path).as_posix()))


def unified_diff(originals: Mapping[str, str], changes: Mapping[str, str]) -> str:
    """`git diff`-style unified diff of the changed files, paths relative to the project."""
    parts = []
    for path in sorted(changes):
        before = originals.get(path, "")
        after = changes[path]
        if before == after:
            continue
        parts.append(
            "".join(
                difflib.unified_diff(
                    before.splitlines(keepends=True),
                    after.splitlines(keepends=True),
                    fromfile=f"a/{path}",
                    tofile=f"b/{path}",
                )
            )
        )
    return "".join(parts)


def normalized(changes: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """A key under which two candidates making the same change (but for white space at
    line ends) compare equal: their agreement counts in the ranking."""
    return tuple(
        (path, "\n".join(line.rstrip() for line in text.splitlines()))
        for path, text in sorted(changes.items())
    )


def refusal(originals: Mapping[str, str], changes: Mapping[str, str]) -> str | None:
    """Why a candidate may not be verified at all, or None when it may."""
    for path in changes:
        if is_test_file(path):
            return f"it edits the test file {path}"
        if path not in originals:
            return f"it edits {path}, which is not one of the files under repair"
    for path, text in changes.items():
        if _assertions(text) < _assertions(originals[path]):
            return f"it deletes an assertion in {path}"
    return None


@lru_cache(maxsize=16)  # the originals, asked again for each of a session's candidates
def _assertions(text: str) -> int:
    return len(_ASSERTION.findall(text))
