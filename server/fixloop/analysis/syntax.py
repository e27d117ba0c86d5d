"""Syntax diagnostics from tree-sitter's ERROR and MISSING nodes, in words a person uses.

tree-sitter recovers from errors by wrapping what it could not parse in ERROR nodes;
these are coarse (one can span several lines), so each error region is read once more,
token by token, to say *what* is wrong: an unterminated string, a bracket never closed, a
stray `else`, a header without its colon. One finding per region, never a cascade.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fixloop.analysis.findings import Finding, Group, Severity
from fixloop.analysis.source import Span

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

CODE_SYNTAX = "FL001"
CODE_MISSING = "FL002"

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {closer: opener for opener, closer in _OPENERS.items()}
_QUOTES = {"'", '"', "`", "'''", '"""'}
_STRAY_KEYWORDS = {"else", "elif", "except", "finally", "catch", "case", "default"}
_PYTHON_HEADERS = {
    "def",
    "class",
    "if",
    "elif",
    "else",
    "for",
    "while",
    "with",
    "try",
    "except",
    "finally",
}
_OPERATORS = {
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "**",
    "=",
    "==",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "and",
    "or",
    "not",
    "&&",
    "||",
    "|",
    "&",
    "^",
    ".",
    ",",
    "===",
    "!==",
    "=>",
    "+=",
    "-=",
    "*=",
    "/=",
}
# An error region can swallow the rest of a big file: read this many tokens of it at most.
_MAX_TOKENS = 5000
# A region longer than this is diagnosed at its innermost nested error.
_LARGE_REGION_LINES = 30


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    start: int
    end: int
    in_error: bool


def syntax_findings(tree: Tree, language: str) -> list[Finding]:
    """One finding per error region of the tree (empty for a tree without errors)."""
    root = tree.root_node
    if not root.has_error:
        return []
    findings = []
    for node in _error_regions(root):
        finding = _missing_finding(node) if node.is_missing else _error_finding(node, language)
        findings.append(finding)
    return findings


def _error_regions(root: Node) -> Iterator[Node]:
    """Outermost ERROR nodes, and MISSING nodes outside any ERROR, in source order."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            yield node
            continue
        if node.has_error:
            stack.extend(reversed(node.children))


def _missing_finding(node: Node) -> Finding:
    what = node.type if not node.is_named else node.type.replace("_", " ")
    return Finding(
        code=CODE_MISSING,
        message=f"missing `{what}`",
        severity=Severity.ERROR,
        group=Group.SYNTAX,
        span=Span(node.start_byte, node.end_byte),
        explanation="The parser expected this token here and did not find it.",
    )


def _tokens(node: Node) -> list[_Token]:
    """The leaves of `node` in order, each marked when it sits inside a nested ERROR."""
    tokens: list[_Token] = []
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack and len(tokens) < _MAX_TOKENS:
        current, in_error = stack.pop()
        nested_error = in_error or (current.is_error and current is not node)
        if current.child_count == 0:
            if current.end_byte > current.start_byte:
                tokens.append(
                    _Token(current.type, current.start_byte, current.end_byte, nested_error)
                )
            continue
        stack.extend((child, nested_error) for child in reversed(current.children))
    return tokens


def _innermost_error(node: Node) -> Node:
    """The first nested ERROR or MISSING node, found by descending only where there is an
    error: a region that swallowed half the file is diagnosed where it went wrong, not at
    its first token."""
    current = node
    while True:
        nested = next(
            (c for c in current.children if c.is_error or c.is_missing or c.has_error), None
        )
        if nested is None:
            return current
        if nested.is_missing:
            return nested
        current = nested


def _error_finding(node: Node, language: str) -> Finding:
    if node.end_point.row - node.start_point.row > _LARGE_REGION_LINES:
        inner = _innermost_error(node)
        if inner.is_missing:
            return _missing_finding(inner)
        node = inner if inner is not node else node
    tokens = _tokens(node)
    message, span = _diagnose(tokens, node, language)
    return Finding(
        code=CODE_SYNTAX,
        message=message,
        severity=Severity.ERROR,
        group=Group.SYNTAX,
        span=span,
        explanation="The code around here does not parse; the rest of the file may be read "
        "differently until it is fixed.",
    )


def _diagnose(tokens: list[_Token], node: Node, language: str) -> tuple[str, Span]:
    for diagnose in (_unterminated_string, _unbalanced_bracket, _stray_keyword):
        found = diagnose(tokens)
        if found is not None:
            return found
    if language == "python":
        found = _header_without_colon(tokens, node)
        if found is not None:
            return found
    found = _dangling_operator(tokens)
    if found is not None:
        return found
    return _fallback(tokens, node)


def _unterminated_string(tokens: list[_Token]) -> tuple[str, Span] | None:
    for index, token in enumerate(tokens):
        if token.kind in _QUOTES or token.kind == "string_start":
            closed = any(t.kind in (token.kind, "string_end") for t in tokens[index + 1 :])
            if not closed or (token.kind in _QUOTES and token.in_error):
                return "unterminated string", Span(token.start, token.end)
    return None


def _unbalanced_bracket(tokens: list[_Token]) -> tuple[str, Span] | None:
    open_stack: list[_Token] = []
    for token in tokens:
        if token.kind in _OPENERS:
            open_stack.append(token)
        elif token.kind in _CLOSERS:
            if open_stack and open_stack[-1].kind == _CLOSERS[token.kind]:
                open_stack.pop()
            elif not open_stack:
                return f"unexpected `{token.kind}`: nothing to close", Span(token.start, token.end)
            else:
                opener = open_stack.pop()
                return (
                    f"mismatched `{token.kind}`: `{opener.kind}` is closed by "
                    f"`{_OPENERS[opener.kind]}`",
                    Span(token.start, token.end),
                )
    if open_stack:
        opener = open_stack[-1]
        return (
            f"missing `{_OPENERS[opener.kind]}`: this `{opener.kind}` is never closed",
            Span(opener.start, opener.end),
        )
    return None


def _stray_keyword(tokens: list[_Token]) -> tuple[str, Span] | None:
    for token in tokens:
        if token.kind in _STRAY_KEYWORDS and token.in_error:
            return f"unexpected `{token.kind}`", Span(token.start, token.end)
    first = tokens[0] if tokens else None
    if first is not None and first.kind in _STRAY_KEYWORDS and first.kind not in ("default",):
        return f"unexpected `{first.kind}`", Span(first.start, first.end)
    return None


def _header_without_colon(tokens: list[_Token], node: Node) -> tuple[str, Span] | None:
    if not tokens or tokens[0].kind not in _PYTHON_HEADERS:
        return None
    first_line_end = node.text.find(b"\n") if node.text is not None else -1
    header_end = node.start_byte + first_line_end if first_line_end >= 0 else node.end_byte
    header = [t for t in tokens if t.end <= header_end]
    if header and header[-1].kind != ":":
        last = header[-1]
        return (
            f"missing `:` at the end of the `{tokens[0].kind}` line",
            Span(last.start, last.end),
        )
    return None


def _dangling_operator(tokens: list[_Token]) -> tuple[str, Span] | None:
    if tokens and tokens[-1].kind in _OPERATORS:
        last = tokens[-1]
        return f"expected an expression after `{last.kind}`", Span(last.start, last.end)
    return None


def _fallback(tokens: list[_Token], node: Node) -> tuple[str, Span]:
    code = [t for t in tokens if t.kind != "comment"]
    culprit = next((t for t in code if t.in_error), code[0] if code else None)
    if culprit is None:
        return "syntax error", Span(node.start_byte, node.end_byte)
    text = node.text or b""
    snippet = text[culprit.start - node.start_byte : culprit.end - node.start_byte]
    shown = snippet.decode("utf-8", errors="replace")[:30]
    return f"unexpected `{shown}`", Span(culprit.start, culprit.end)
