"""What the analysis reports: findings with a byte span, an explanation and maybe a fix.

Findings know nothing of LSP; the server and the CLI turn them into diagnostics, text,
JSON or SARIF.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from fixloop.analysis.source import Span


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Group(StrEnum):
    """Rule groups a user can switch on and off."""

    SYNTAX = "syntax"
    SAFETY = "safety"
    SECRETS = "secrets"


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace the bytes of `span` with `new_text`."""

    span: Span
    new_text: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A deterministic fix that is safe to apply without running tests."""

    title: str
    edits: tuple[TextEdit, ...]


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    message: str
    severity: Severity
    group: Group
    span: Span
    explanation: str = ""
    fix: Fix | None = None

    def shifted(self, delta: int) -> Finding:
        """The same finding moved by `delta` bytes (text inserted or removed before it)."""
        if not delta:
            return self
        fix = self.fix
        if fix is not None:
            fix = Fix(
                fix.title,
                tuple(
                    TextEdit(Span(e.span.start + delta, e.span.end + delta), e.new_text)
                    for e in fix.edits
                ),
            )
        return replace(self, span=Span(self.span.start + delta, self.span.end + delta), fix=fix)
