"""Between the core's byte spans and findings, and LSP's positions and diagnostics."""

from __future__ import annotations

from lsprotocol import types

from fixloop.analysis.findings import Finding, Severity
from fixloop.analysis.source import Encoding, Position, SourceText, Span

SOURCE = "fixloop"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


def encoding_of(kind: str | None) -> Encoding:
    return {"utf-8": Encoding.UTF8, "utf-32": Encoding.UTF32}.get(kind or "", Encoding.UTF16)


def to_position(position: Position) -> types.Position:
    return types.Position(line=position.line, character=position.column)


def from_position(position: types.Position) -> Position:
    return Position(position.line, position.character)


def to_range(source: SourceText, span: Span, encoding: Encoding) -> types.Range:
    return types.Range(
        start=to_position(source.position_at(span.start, encoding)),
        end=to_position(source.position_at(span.end, encoding)),
    )


def to_diagnostic(source: SourceText, finding: Finding, encoding: Encoding) -> types.Diagnostic:
    return types.Diagnostic(
        range=to_range(source, finding.span, encoding),
        message=finding.message,
        severity=_SEVERITY[finding.severity],
        code=finding.code,
        source=SOURCE,
        # Lets a code action find its finding again without searching by position.
        data={"start": finding.span.start, "end": finding.span.end, "group": finding.group.value},
    )
