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

from fixloop.analysis.budget import (
    PARSE_SECONDS,
    RULES_SECONDS,
    Budget,
    TooComplex,
    path_to,
    query_blocker,
    too_complex,
    window_blocker,
)
from fixloop.analysis.findings import Finding, Group
from fixloop.analysis.languages import LanguageSpec
from fixloop.analysis.rules import run_rules
from fixloop.analysis.source import (
    Encoding,
    Position,
    PositionError,
    SourceText,
    Span,
    common_prefix,
    common_suffix,
)
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
        self.tree: Tree = self._parse(data)
        self._run_all_rules()

    def _parse(self, data: bytes, old_tree: Tree | None = None) -> Tree:
        """Parse within the budget (tree-sitter's progress callback cancels it), else
        raise TooComplex."""
        budget = Budget(PARSE_SECONDS)
        view = memoryview(data)

        def read(offset: int, _: object) -> memoryview:
            return view[offset : offset + 65536]

        try:
            if old_tree is None:
                tree = self._parser.parse(read, progress_callback=budget.spent)
            else:
                tree = self._parser.parse(read, old_tree, progress_callback=budget.spent)
        except ValueError as error:  # "Parsing failed": cancelled
            self._parser.reset()
            raise TooComplex(
                f"not analysed: the file is too complex to parse in {PARSE_SECONDS} s"
            ) from error
        # py-tree-sitter 0.26.1 keeps no text in a tree parsed through a callback, and a
        # query predicate (#eq?) on it crashes the process: parse the bytes once more,
        # reusing the whole tree (no edit in between: a fraction of the first parse).
        return self._parser.parse(data, tree)

    def _run_all_rules(self) -> None:
        self.rules_incomplete = query_blocker(self.tree.root_node)
        if self.rules_incomplete is not None:
            self._rule_findings = []
            return
        budget = Budget(RULES_SECONDS)
        language = self.language.name
        self._rule_findings = run_rules(self.tree, self.source.data, language, budget=budget)
        if budget.exceeded:
            self.rules_incomplete = f"they took over {RULES_SECONDS} s"

    @property
    def text(self) -> str:
        return self.source.text

    def findings(self) -> list[Finding]:
        """Syntax findings (recomputed: cheap, as clean subtrees are skipped) and the kept
        rule findings, in source order."""
        syntax = syntax_findings(self.tree, self.language.name)
        found = [*syntax, *self._rule_findings]
        if self.rules_incomplete is not None:
            message = (
                f"safety checks not run in full ({self.rules_incomplete}): the file is too "
                "complex to check, so findings may be missing"
            )
            found.append(too_complex(message, Group.SAFETY))
        return sorted(found, key=lambda f: (f.span.start, f.code))

    def apply_changes(
        self,
        changes: Sequence[Change],
        version: int | None = None,
        encoding: Encoding = Encoding.UTF16,
    ) -> None:
        """Apply an editor's content changes in order, then reparse once.

        Raises PositionError (leaving the document as it was) when a change points outside
        the text: the editor and the server disagree, and only a full text can mend that.
        Raises TooComplex when the new text cannot be parsed within the budget (the
        document is then unusable).
        """
        self._apply(self._resolve(changes, encoding), version)

    def edited(self, text: str) -> Document:
        """A new document of `text`, made from this one as an edit of the span where the
        two differ: the tree reparsed incrementally and the rules rerun around the edit
        alone, with the findings a fresh `Document(language, text)` has. This one is left
        as it is (a candidate's file is checked against the original's analysis)."""
        data = text.encode("utf-8", "surrogatepass")
        if self.rules_incomplete is not None or self.rules_stale:
            return Document(self.language, data)  # nothing exact to start from
        old = self.source.data
        start = common_prefix(old, data)
        end = common_suffix(old, data, min(len(old), len(data)) - start)
        # Whole characters: an edit's ends must not split one.
        while start and _continues(old, start):
            start -= 1
        while end and _continues(old, len(old) - end):
            end -= 1
        copy = object.__new__(Document)
        copy.language = self.language
        copy.version = None
        copy._parser = self.language.parser()
        copy.defer_large_reruns = False
        copy.rules_stale = False
        copy.rules_incomplete = None
        copy.source = self.source
        copy.tree = self.tree.copy()
        copy._rule_findings = self._rule_findings
        copy._apply([(Span(start, len(old) - end), data[start : len(data) - end])], None)
        copy.refresh_rules()  # a rerun cut short: the whole file, as a fresh one would
        return copy

    def _apply(self, edits: Sequence[tuple[Span, bytes]], version: int | None) -> None:
        """Apply byte edits in order, then reparse once and rerun the rules around them."""
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
        self.tree = self._parse(source.data, old_tree)
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
            self._run_all_rules()
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
        budget = Budget(RULES_SECONDS)
        root = self.tree.root_node
        for window in windows:
            # Findings that merely touch a window were dropped: widen the query by a byte
            # each side so that it finds them again.
            widened = Span(max(0, window.start - 1), window.end + 1)
            blocker = window_blocker(root, widened.start, widened.end)
            if blocker is not None:  # left for the whole-file check, which says why
                self.rules_incomplete, self.rules_stale = blocker, True
                continue
            language = self.language.name
            for finding in run_rules(self.tree, self.source.data, language, widened, budget=budget):
                key = (finding.code, finding.span, finding.message)
                if key not in seen:
                    seen.add(key)
                    kept.append(finding)
        if budget.exceeded:  # cut short: the whole file again when typing pauses
            self.rules_incomplete = f"they took over {RULES_SECONDS} s"
            self.rules_stale = True
        return kept


def _continues(data: bytes, offset: int) -> bool:
    """Whether the byte at `offset` continues a UTF-8 character begun before it."""
    return offset < len(data) and data[offset] & 0xC0 == 0x80


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
    """The outermost node at `offset` below its innermost statement container."""
    path = path_to(root, offset)
    for index in range(len(path) - 1, 0, -1):
        if path[index - 1].type in _STATEMENT_CONTAINERS:
            return path[index]
    return root


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
