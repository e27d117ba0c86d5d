"""Which findings are reported: rule selection (`select`, `ignore`, `per-file-ignores`, as
ruff's) and inline suppressions (`# fixloop: ignore[FL102]`, `// fixloop: ignore[FL201]`).

A suppression silences the findings that start or end on its line (a multi-line string
can only carry one after it closes). One that silences nothing is reported (FL006), and so
is a code fixloop does not have (FL007), so that a stale or mistyped one is seen.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from fixloop.analysis.budget import CODE_TOO_COMPLEX
from fixloop.analysis.catalogue import (
    CODE_UNKNOWN_SUPPRESSION,
    CODE_UNUSED_SUPPRESSION,
    known_codes,
    rule_docs,
)
from fixloop.analysis.findings import Finding, Fix, Group, TextEdit
from fixloop.analysis.source import SourceText, Span

if TYPE_CHECKING:
    import pathspec
    from tree_sitter import Tree

# `#` (Python) or `//` (JavaScript) then the directive; the codes in brackets, if any.
_DIRECTIVE = re.compile(rb"(?:#|//)[ \t]*fixloop:[ \t]*ignore(?![\w-])(?:\[([^\]\r\n]*)\])?")


_SUPPRESSION_CODES = frozenset({CODE_UNUSED_SUPPRESSION, CODE_UNKNOWN_SUPPRESSION})


def _specificity(code: str, entries: Iterable[str]) -> int:
    """The length of the longest entry that is a prefix of `code` (-1: none)."""
    return max((len(e) for e in entries if code.startswith(e)), default=-1)


@dataclass(frozen=True)
class RuleSelection:
    """The rules a file's findings are reported for."""

    groups: frozenset[str] = frozenset(g.value for g in Group)
    select: tuple[str, ...] = ()  # empty: every rule
    ignore: tuple[str, ...] = ()
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    @classmethod
    def of(
        cls,
        groups: Iterable[str],
        select: Iterable[str] = (),
        ignore: Iterable[str] = (),
        per_file_ignores: Mapping[str, Iterable[str]] | None = None,
    ) -> RuleSelection:
        return cls(
            frozenset(groups),
            tuple(c.strip().upper() for c in select),
            tuple(c.strip().upper() for c in ignore),
            {
                glob: tuple(c.strip().upper() for c in codes)
                for glob, codes in (per_file_ignores or {}).items()
            },
        )

    @cached_property
    def _globs(self) -> tuple[tuple[pathspec.GitIgnoreSpec, tuple[str, ...]], ...]:
        import pathspec

        return tuple(
            (pathspec.GitIgnoreSpec.from_lines([glob]), codes)
            for glob, codes in self.per_file_ignores.items()
        )

    def for_file(self, relative: str | None) -> tuple[str, ...]:
        """The codes or prefixes `per-file-ignores` ignores in the file at `relative` (a
        POSIX path relative to the settings' folder)."""
        if relative is None:
            return ()
        return tuple(
            code for spec, codes in self._globs if spec.match_file(relative) for code in codes
        )

    def enabled(self, code: str, group: str, file_ignores: Sequence[str] = ()) -> bool:
        if group not in self.groups or _specificity(code, file_ignores) >= 0:
            return False
        selected = _specificity(code, self.select) if self.select else 0
        return selected >= 0 and selected > _specificity(code, self.ignore)

    def problems(self) -> list[str]:
        """Entries that match no code (a typo selects or ignores nothing)."""
        codes = known_codes()
        entries = [
            *self.select,
            *self.ignore,
            *(c for cs in self.per_file_ignores.values() for c in cs),
        ]
        return [
            f"`{entry}` in the rule selection matches no rule (see `fixloop rule --all`)"
            for entry in dict.fromkeys(entries)
            if not any(code.startswith(entry) for code in codes)
        ]


@dataclass(frozen=True, slots=True)
class Suppression:
    span: Span  # the directive, from its `#` or `//`
    line: int  # 0-based
    codes: tuple[str, ...] | None  # None: every code on the line


def suppressions(source: SourceText, tree: Tree) -> list[Suppression]:
    """The `fixloop: ignore` directives in comments (not in strings)."""
    found: list[Suppression] = []
    root = tree.root_node
    for match in _DIRECTIVE.finditer(source.data):
        node = root.descendant_for_byte_range(match.start(), match.end())
        if node is None or node.type != "comment":
            continue
        listed = match.group(1)
        codes = None
        if listed is not None:
            text = listed.decode("utf-8", "replace")
            codes = tuple(c.strip().upper() for c in text.split(",") if c.strip())
        line = _line_of(source, match.start())
        found.append(Suppression(Span(match.start(), match.end()), line, codes))
    return found


def reported(
    findings: Iterable[Finding],
    selection: RuleSelection,
    relative: str | None,
    source: SourceText,
    tree: Tree | None,
) -> list[Finding]:
    """The findings to report in a file: the selected rules', less those a suppression
    silences, plus the suppressions that silence nothing or name an unknown code."""
    file_ignores = selection.for_file(relative)
    decided: dict[str, bool] = {}  # by code: a file has few codes and many findings
    kept = []
    for finding in findings:
        if finding.code not in decided:
            decided[finding.code] = selection.enabled(
                finding.code, finding.group.value, file_ignores
            )
        if decided[finding.code]:
            kept.append(finding)
    if tree is None:
        return kept
    directives = suppressions(source, tree)
    if not directives:
        return kept
    by_line: dict[int, list[Suppression]] = {}
    for directive in directives:
        by_line.setdefault(directive.line, []).append(directive)
    used: set[tuple[int, str | None]] = set()  # (directive start, code; None for a bare one)
    shown = []
    for finding in kept:
        silenced_by = _silencing(finding, source, by_line)
        if silenced_by is None:
            shown.append(finding)
        else:
            used.add(silenced_by)
    complete = not any(f.code == CODE_TOO_COMPLEX for f in kept)
    for directive in directives:
        shown.extend(
            _directive_findings(directive, used, complete, selection, file_ignores, source)
        )
    return sorted(shown, key=lambda f: (f.span.start, f.code))


def _line_of(source: SourceText, offset: int) -> int:
    """The 0-based line of a byte offset (no column: cheaper than `position_at`)."""
    return bisect.bisect_right(source.line_starts, offset) - 1


def _silencing(
    finding: Finding, source: SourceText, by_line: Mapping[int, list[Suppression]]
) -> tuple[int, str | None] | None:
    """The directive (and code) that silences `finding`, if any."""
    first, last = _line_of(source, finding.span.start), _line_of(source, finding.span.end)
    for line in dict.fromkeys((first, last)):
        for directive in by_line.get(line, ()):
            if directive.codes is None:
                return (directive.span.start, None)
            if finding.code in directive.codes:
                return (directive.span.start, finding.code)
    return None


def _directive_findings(
    directive: Suppression,
    used: set[tuple[int, str | None]],
    complete: bool,
    selection: RuleSelection,
    file_ignores: Sequence[str],
    source: SourceText,
) -> list[Finding]:
    """FL006 / FL007 for a directive, when those are enabled and the directive does not
    name them itself (`ignore[FL102, FL006]` keeps one that may be unused, as ruff's
    `noqa: RUF100`); no FL006 when the rules did not run in full (what it silences may not
    have been looked for)."""
    docs = rule_docs()
    found = []
    start = directive.span.start
    own = _SUPPRESSION_CODES.intersection(directive.codes or ())
    report_unused = (
        complete
        and CODE_UNUSED_SUPPRESSION not in own
        and selection.enabled(CODE_UNUSED_SUPPRESSION, Group.SYNTAX.value, file_ignores)
    )
    if directive.codes is None:
        if report_unused and (start, None) not in used:
            message = "unused suppression: nothing on this line to silence"
            unused_one = _finding(CODE_UNUSED_SUPPRESSION, directive, message)
            found.append(_with_removal(unused_one, directive, source, ()))
        return found
    unknown = [c for c in directive.codes if c not in docs]
    if (
        unknown
        and CODE_UNKNOWN_SUPPRESSION not in own
        and selection.enabled(CODE_UNKNOWN_SUPPRESSION, Group.SYNTAX.value, file_ignores)
    ):
        listed = ", ".join(unknown)
        found.append(
            _finding(
                CODE_UNKNOWN_SUPPRESSION, directive, f"unknown rule code in suppression: {listed}"
            )
        )
    unused = [
        c
        for c in directive.codes
        if c in docs
        and c not in own
        and (start, c) not in used
        and selection.enabled(c, docs[c].group.value, file_ignores)  # a disabled rule: moot
    ]
    if report_unused and unused:
        listed = ", ".join(unused)
        message = f"unused suppression: no {listed} on this line"
        unused_ones = _finding(CODE_UNUSED_SUPPRESSION, directive, message)
        found.append(_with_removal(unused_ones, directive, source, unused))
    return found


def _with_removal(
    finding: Finding, directive: Suppression, source: SourceText, unused: Sequence[str]
) -> Finding:
    """An unused suppression with its fix: the `unused` codes taken out of the directive,
    or the directive removed when nothing in it is used."""
    start, end = directive.span.start, directive.span.end
    marker = "#" if source.data[start:end].startswith(b"#") else "//"
    kept = [c for c in directive.codes or () if c not in unused]
    if kept:
        edit = TextEdit(directive.span, f"{marker} fixloop: ignore[{', '.join(kept)}]")
        title = f"Remove {', '.join(unused)} from the suppression"
    else:
        title = "Remove the unused suppression"
        line_end = source.line_starts[directive.line] + len(source.line_bytes(directive.line))
        if source.data[end:line_end].strip():  # the comment goes on after it: keep the rest
            edit = TextEdit(directive.span, marker)
        else:  # the whitespace before it goes too
            while start > source.line_starts[directive.line] and source.data[start - 1] in b" \t":
                start -= 1
            edit = TextEdit(Span(start, line_end), "")
    return replace(finding, fix=Fix(title, (edit,)))


def _finding(code: str, directive: Suppression, message: str) -> Finding:
    doc = rule_docs()[code]
    return Finding(code, message, doc.severity, doc.group, directive.span, doc.why)
