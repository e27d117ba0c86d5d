"""The rule engine: each rule is a tree-sitter query plus a small Python check.

All rules of a language are compiled into one query so that a file is walked once, in C;
on an edit the query cursor is limited to the changed statements (`set_byte_range`), so a
keystroke costs the rules only what it touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from fixloop.analysis.budget import Budget
from fixloop.analysis.findings import Finding, Group, Severity
from fixloop.analysis.source import Span

if TYPE_CHECKING:
    from tree_sitter import Node, Query, Tree


@dataclass(frozen=True, slots=True)
class Match:
    """What a rule's query captured, with access to the source bytes."""

    captures: dict[str, list[Node]]
    source: bytes

    def node(self, name: str) -> Node | None:
        nodes = self.captures.get(name)
        return nodes[0] if nodes else None

    def nodes(self, name: str) -> list[Node]:
        return self.captures.get(name, [])

    def text(self, node: Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Rule:
    """A safety rule.

    `query` is a tree-sitter query for the rule's languages; its `check` receives each
    match and returns the findings (usually none or one). Give every finding the rule's
    code, group and severity through `Rule.finding`.
    """

    code: str
    name: str
    group: Group
    severity: Severity
    languages: frozenset[str]
    query: str
    check: Callable[[Rule, Match], Iterable[Finding]]
    explanation: str = ""

    def finding(self, node_or_span: Node | Span, message: str, **extra: object) -> Finding:
        span = (
            node_or_span
            if isinstance(node_or_span, Span)
            else Span(node_or_span.start_byte, node_or_span.end_byte)
        )
        return Finding(
            code=self.code,
            message=message,
            severity=self.severity,
            group=self.group,
            span=span,
            explanation=self.explanation,
            **extra,  # type: ignore[arg-type]
        )


_REGISTRY: list[Rule] = []


def register(*rules: Rule) -> None:
    """Add rules to the registry (called by the rule modules at import)."""
    _REGISTRY.extend(rules)
    _compiled.cache_clear()


def all_rules() -> Sequence[Rule]:
    _load_rule_modules()
    return tuple(_REGISTRY)


@cache
def _load_rule_modules() -> None:
    # Imported for their `register` calls; kept lazy so that start-up does not pay for them.
    import fixloop.analysis.safety  # noqa: F401


@dataclass(frozen=True, slots=True)
class _CompiledRules:
    query: Query
    rules: tuple[Rule, ...]  # indexed by the query's pattern index


@cache
def _compiled(language: str) -> _CompiledRules | None:
    from tree_sitter import Query

    from fixloop.analysis.languages import LANGUAGES

    # By the spec's name (what callers pass), not the editor's id: "tsx" is not an id.
    spec = next((spec for spec in LANGUAGES if spec.name == language), None)
    rules: list[Rule] = []
    patterns: list[str] = []
    if spec is None:
        return None
    for rule in all_rules():
        if language not in rule.languages:
            continue
        count = Query(spec.grammar(), rule.query).pattern_count
        rules.extend([rule] * count)
        patterns.append(rule.query)
    if not patterns:
        return None
    return _CompiledRules(Query(spec.grammar(), "\n".join(patterns)), tuple(rules))


def run_rules(
    tree: Tree,
    source: bytes,
    language: str,
    window: Span | None = None,
    enabled: Callable[[Rule], bool] = lambda rule: True,
    budget: Budget | None = None,
) -> list[Finding]:
    """Findings of every enabled rule over the tree, or only over `window` (bytes); the
    checks stop when the `budget` runs out (`budget.exceeded` then says so). The query
    itself is bounded by the caller (`budget.query_blocker`)."""
    from tree_sitter import QueryCursor

    compiled = _compiled(language)
    if compiled is None:
        return []
    cursor = QueryCursor(compiled.query)
    if window is not None:
        cursor.set_byte_range(window.start, window.end)
    findings: list[Finding] = []
    for pattern_index, captures in cursor.matches(tree.root_node):
        if budget is not None and budget.spent():
            break
        rule = compiled.rules[pattern_index]
        if enabled(rule):
            findings.extend(rule.check(rule, Match(captures, source)))
    return findings
