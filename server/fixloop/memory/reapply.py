"""A remembered fix applied to today's code: find the lines it changed (by their text,
not their line numbers) and make the same change there, in the current indentation."""

from __future__ import annotations

from collections.abc import Mapping

from fixloop.memory.records import AttemptRecord, changed_lines
from fixloop.memory.redact import MARKER


def reapply(record: AttemptRecord, sources: Mapping[str, str]) -> dict[str, str] | None:
    """The changed files (path → new text), or None when the fix does not fit anywhere
    unambiguously. The result still has to pass the tests before it is offered as verified."""
    if MARKER in record.context_before or MARKER in record.context_after:
        return None  # the remembered text lost a secret: re-applying it would break code
    removed, added = changed_lines(record.context_before, record.context_after)
    attempts = [(record.context_before.splitlines(), record.context_after.splitlines())]
    if removed:  # the surrounding lines may have changed since: try the edited lines alone
        attempts.append((removed, added))
    paths = sorted(sources, key=lambda path: path != record.path)
    for old, new in attempts:
        for path in paths:
            changed = _replace_block(sources[path], old, new)
            if changed is not None and changed != sources[path]:
                return {path: changed}
    return None


def _replace_block(text: str, old: list[str], new: list[str]) -> str | None:
    lines = text.splitlines(keepends=True)
    wanted = [line.strip() for line in old]
    if not any(wanted):
        return None
    hits = [
        start
        for start in range(len(lines) - len(wanted) + 1)
        if all(lines[start + k].strip() == wanted[k] for k in range(len(wanted)))
    ]
    if len(hits) != 1:
        return None
    start = hits[0]
    first = next(k for k, line in enumerate(wanted) if line)
    recorded, current = _indent(old[first]), _indent(lines[start + first])
    ending = "\r\n" if lines[start].endswith("\r\n") else "\n"
    block = [_reindent(line, recorded, current) + ending for line in new]
    return "".join(lines[:start] + block + lines[start + len(wanted) :])


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())].rstrip("\r\n")


def _reindent(line: str, recorded: str, current: str) -> str:
    line = line.rstrip("\r\n")
    if line.startswith(recorded):
        return current + line[len(recorded) :]
    return line
