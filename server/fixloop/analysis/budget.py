"""Bounds on the work one file can cost: a pathological file (100,000 unclosed brackets,
code nested thousands deep) is analysed in part, with a diagnostic saying so, instead of
holding the server for seconds.

tree-sitter stops a parse when its progress callback says so. Its query cursor takes a
progress callback too, but in py-tree-sitter 0.26.1 calling one crashes the process now
and then (seen here within a few thousand queries), so the rules are bounded differently:
a query's time grows with the square of the nesting depth and of the unclosed brackets in
an ERROR node, and a tree past either limit is not queried (one linear walk decides).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from fixloop.analysis.findings import Finding, Group, Severity
from fixloop.analysis.source import Span

if TYPE_CHECKING:
    from tree_sitter import Node

CODE_TOO_COMPLEX = "FL005"
# Wall-clock budgets: far above what a real file needs (milliseconds), even on a busy
# machine. A file is parsed in a thread when opened; an edit's reparse is incremental.
PARSE_SECONDS = 2.0
RULES_SECONDS = 1.0
# Deeper than this, a walk down the tree stops (real code nests a few dozen levels).
MAX_DEPTH = 5000
# Past these, one query takes more than about 0.1 s (it grows with their square).
MAX_QUERY_DEPTH = 2000
MAX_UNCLOSED = 2500
_OPENERS = frozenset({"(", "[", "{"})


class Budget:
    """A deadline, counted from the first check (not from set-up such as compiling the
    rules' query), that remembers whether it was reached."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._deadline: float | None = None
        self.exceeded = False

    def spent(self, *_: object) -> bool:
        """True once the deadline has passed (usable as a tree-sitter progress callback)."""
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self.seconds
        if not self.exceeded and now > self._deadline:
            self.exceeded = True
        return self.exceeded


class TooComplex(Exception):
    """The file could not be parsed within the budget."""


def too_complex(message: str, group: Group) -> Finding:
    return Finding(
        code=CODE_TOO_COMPLEX,
        message=message,
        severity=Severity.INFO,
        group=group,
        span=Span(0, 0),
        explanation="fixloop bounds the time one file may cost, so that the editor never "
        "waits on it; simplify or split the file to have it analysed in full.",
    )


def path_to(root: Node, offset: int, max_depth: int = MAX_DEPTH) -> list[Node]:
    """The nodes from `root` down to the smallest one at `offset`, walked down with a cursor:
    climbing with `Node.parent` costs a walk from the root at every step (quadratic)."""
    cursor = root.walk()
    path = [root]
    while len(path) < max_depth and cursor.goto_first_child_for_byte(offset) is not None:
        node = cursor.node
        if node is None or node.start_byte > offset:
            break
        path.append(node)
    return path


def _unclosed_in(node: Node) -> str | None:
    if node.is_error and node.child_count > MAX_UNCLOSED:
        unclosed = sum(1 for child in node.children if child.type in _OPENERS)
        if unclosed > MAX_UNCLOSED:
            return f"{unclosed:,} brackets never closed"
    return None


def query_blocker(node: Node, depth_above: int = 0) -> str | None:
    """Why a rules query over `node` (at `depth_above` in its tree) would take superlinear
    time, or None: one walk with a cursor, stopping at the first reason."""
    cursor = node.walk()
    depth = depth_above
    while True:
        if depth > MAX_QUERY_DEPTH:
            return f"code nested more than {MAX_QUERY_DEPTH:,} levels deep"
        current = cursor.node
        if current is not None and (found := _unclosed_in(current)) is not None:
            return found
        if cursor.goto_first_child():
            depth += 1
            continue
        while not cursor.goto_next_sibling():
            if depth == depth_above or not cursor.goto_parent():
                return None
            depth -= 1


def window_blocker(root: Node, start: int, end: int) -> str | None:
    """`query_blocker` for a query limited to `start`..`end`: the ERROR nodes and the
    nesting above it, and the smallest node holding it."""
    path = path_to(root, start, MAX_QUERY_DEPTH + 2)
    for node in path:
        if (found := _unclosed_in(node)) is not None:
            return found
    if len(path) > MAX_QUERY_DEPTH:
        return f"code nested more than {MAX_QUERY_DEPTH:,} levels deep"
    holding = max(i for i, node in enumerate(path) if i == 0 or node.end_byte >= end)
    return query_blocker(path[holding], holding)
