"""Helpers for the rule tests: parse a snippet, run the rules, apply a fix's edits."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fixloop.analysis.findings import Finding, Fix
from fixloop.analysis.languages import LANGUAGES
from fixloop.analysis.rules import run_rules

Scan = Callable[..., list[Finding]]
ApplyFix = Callable[[str, Fix], str]


def scan_source(source: str, language: str = "python", codes: str = "") -> list[Finding]:
    """Findings of the registered rules on `source`, only those whose code starts with
    `codes` (e.g. "FL1", "FL304")."""
    spec = next(spec for spec in LANGUAGES if spec.name == language)
    data = source.encode()
    tree = spec.parser().parse(data)
    return [f for f in run_rules(tree, data, language) if f.code.startswith(codes)]


def apply_edits(source: str, fix: Fix) -> str:
    """The source after the fix: edits are byte spans of the original, applied back to front."""
    data = source.encode()
    spans = sorted(fix.edits, key=lambda edit: edit.span.start, reverse=True)
    for before, after in zip(spans[1:], spans, strict=False):
        assert before.span.end <= after.span.start, "a fix's edits must not overlap"
    for edit in spans:
        data = data[: edit.span.start] + edit.new_text.encode() + data[edit.span.end :]
    return data.decode()


def flagged(source: str, finding: Finding) -> str:
    """The text a finding points at."""
    return source.encode()[finding.span.start : finding.span.end].decode()


@pytest.fixture
def scan() -> Scan:
    return scan_source


@pytest.fixture
def apply_fix() -> ApplyFix:
    return apply_edits


@pytest.fixture
def text_of() -> Callable[[str, Finding], str]:
    return flagged
