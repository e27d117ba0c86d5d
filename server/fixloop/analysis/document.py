"""A parsed document that follows an editor's edits incrementally.

Each edit patches the text and the line index, tells the old tree what changed
(`tree.edit`), and reparses with the old tree so tree-sitter reuses everything the edit
did not touch. Rule findings outside the edit are shifted, not recomputed; the rules run
again only over the statements the edit (or the reparse) changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fixloop.analysis.findings import Finding
from fixloop.analysis.languages import LanguageSpec
from fixloop.analysis.rules import run_rules
from fixloop.analysis.source import Encoding, Position, PositionError, SourceText, Span
from fixloop.analysis.syntax import syntax_findings

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

# Rerunning the rules over more than this after one keystroke waits for a pause in typing.
_DEFER_BYTES = 32_000
_NEAR_BYTES = 2_000

# Parents whose children are whole statements: a rule never needs to see past one of these.
_STATEMENT_CONTAINERS = frozenset(
    {
        "module",
        "block",
        "program",
        "statement_block",
        "class_body",
        "switch_body",
        "switch_case",
        "switch_default",
        "decorated_definition",
        "ERROR",
    }
)


@dataclass(frozen=True, slots=True)
class Change:
    """One content change from an editor: replace `start`..`end` by `text`, or, without a
    range, replace the whole document."""

    text: str
    start: Position | None = None
    end: Position | None = None


class Document:
    """Source, tree and findings of one file, kept in step with edits."""

    def __init__(self, language: LanguageSpec, text: str | bytes, version: int | None = None):
        self.language = language
        self.version = version
        self._parser: Parser = language.parser()
        # Set by the server, which refreshes stale rules when typing pauses; a caller that
        # never refreshes (the CLI) keeps every edit exact.
        self.defer_large_reruns = False
        self._reset(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)

    def _reset(self, data: bytes) -> None:
        self.rules_stale = False
        self.source = SourceText(data)
        self.tree: Tree = self._parser.parse(data)
        self._rule_findings = run_rules(self.tree, data, self.language.name)

    @property
    def text(self) -> str:
        return self.source.text

    def findings(self) -> list[Finding]:
        """Syntax findings (recomputed: cheap, as clean subtrees are skipped) and the kept
        rule findings, in source order."""
        syntax = syntax_findings(self.tree, self.language.name)
        return sorted([*syntax, *self._rule_findings], key=lambda f: (f.span.start, f.code))

    def apply_changes(
        self,
        changes: Sequence[Change],
        version: int | None = None,
        encoding: Encoding = Encoding.UTF16,
    ) -> None:
        """Apply an editor's content changes in order, then reparse once.

        Raises PositionError (leaving the document as it was) when a change points outside
        the text: the editor and the server disagree, and only a full text can mend that.
        """
        edits = self._resolve(changes, encoding)
        old_tree = self.tree
        source = self.source
        findings = self._rule_findings
        dirty: list[Span] = []
        for span, new in edits:
            start_point = source.point_at(span.start)
            old_end_point = source.point_at(span.end)
            source = source.replace(span, new)
            new_end = span.start + len(new)
            old_tree.edit(
                start_byte=span.start,
                old_end_byte=span.end,
                new_end_byte=new_end,
                start_point=start_point,
                old_end_point=old_end_point,
                new_end_point=source.point_at(new_end),
            )
            findings, dropped = _shift_findings(findings, span, len(new))
            dirty = [*_shift_spans(dirty, span, len(new)), *dropped, Span(span.start, new_end)]
        self.source = source
        self.version = version
        self.tree = self._parser.parse(source.data, old_tree)
        edited = list(dirty)
        dirty.extend(Span(r.start_byte, r.end_byte) for r in old_tree.changed_ranges(self.tree))
        windows = _merge([_statement_window(self.tree.root_node, span) for span in dirty])
        if self.defer_large_reruns and _total(windows) > _DEFER_BYTES:
            # Typically an unclosed bracket: the rest of the file parses differently until it
            # is closed. Answer the keystroke from the text around the edit and leave the rest
            # to `refresh_rules`, which the server runs once typing pauses.
            near = _merge(
                [Span(max(0, e.start - _NEAR_BYTES), e.end + _NEAR_BYTES) for e in edited]
            )
            self._rule_findings = self._rerun_rules(findings, near)
            self.rules_stale = True
        else:
            self._rule_findings = self._rerun_rules(findings, windows)

    def refresh_rules(self) -> None:
        """Run every rule over the whole tree again if an edit left them stale."""
        if self.rules_stale:
            self._rule_findings = run_rules(self.tree, self.source.data, self.language.name)
            self.rules_stale = False

    def _resolve(self, changes: Sequence[Change], encoding: Encoding) -> list[tuple[Span, bytes]]:
        """Byte spans of the changes, checked against the text they will apply to."""
        resolved: list[tuple[Span | None, bytes]] = []
        source = self.source
        for change in changes:
            new = change.text.encode("utf-8", "surrogatepass")
            if change.start is None or change.end is None:
                resolved.append((None, new))
                source = SourceText(new)
                continue
            start = source.offset_at(change.start, encoding)
            end = source.offset_at(change.end, encoding)
            if end < start:
                raise PositionError(f"range ends before it starts: {change.start}..{change.end}")
            resolved.append((Span(start, end), new))
            source = source.replace(Span(start, end), new)
        # A full-text change resets everything before it: keep only what follows the last one.
        last_full = max((i for i, (span, _) in enumerate(resolved) if span is None), default=-1)
        if last_full >= 0:
            self._reset(resolved[last_full][1])
        return [(span, new) for span, new in resolved[last_full + 1 :] if span is not None]

    def _rerun_rules(self, findings: list[Finding], windows: list[Span]) -> list[Finding]:
        if not windows:
            return findings
        kept = [f for f in findings if not any(f.span.touches(w) for w in windows)]
        seen = {(f.code, f.span, f.message) for f in kept}
        for window in windows:
            # Findings that merely touch a window were dropped: widen the query by a byte
            # each side so that it finds them again.
            widened = Span(max(0, window.start - 1), window.end + 1)
            for finding in run_rules(self.tree, self.source.data, self.language.name, widened):
                key = (finding.code, finding.span, finding.message)
                if key not in seen:
                    seen.add(key)
                    kept.append(finding)
        return kept


def _total(spans: Iterable[Span]) -> int:
    return sum(span.end - span.start for span in spans)


def _shift_findings(
    findings: list[Finding], edit: Span, new_length: int
) -> tuple[list[Finding], list[Span]]:
    """Findings before the edit stay, those after move with it; those it touches go, and
    where they were (in the new text) must be looked at again."""
    delta = new_length - (edit.end - edit.start)
    shifted, dropped = [], []
    for finding in findings:
        if finding.span.end < edit.start:
            shifted.append(finding)
        elif finding.span.start > edit.end:
            shifted.append(finding.shifted(delta))
        else:
            [moved] = _shift_spans([finding.span], edit, new_length)
            new_end = edit.start + new_length
            dropped.append(Span(min(moved.start, edit.start), max(moved.end, new_end)))
    return shifted, dropped


def _shift_spans(spans: list[Span], edit: Span, new_length: int) -> list[Span]:
    delta = new_length - (edit.end - edit.start)

    def move(offset: int) -> int:
        if offset <= edit.start:
            return offset
        if offset >= edit.end:
            return offset + delta
        return edit.start + new_length

    return [Span(move(span.start), move(span.end)) for span in spans]


def _statement_at(root: Node, offset: int) -> Node:
    node = root.descendant_for_byte_range(offset, offset) or root
    while node.parent is not None and node.parent.type not in _STATEMENT_CONTAINERS:
        node = node.parent
    return node


def _statement_window(root: Node, span: Span) -> Span:
    """The span grown to the whole statements at its two ends."""
    # One byte either side: a node that merely touches the edit can change meaning too.
    first = _statement_at(root, max(0, span.start - 1))
    last = _statement_at(root, span.end)
    return Span(min(first.start_byte, span.start), max(last.end_byte, span.end))


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if merged and span.start <= merged[-1].end:
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, span.end))
        else:
            merged.append(span)
    return merged
