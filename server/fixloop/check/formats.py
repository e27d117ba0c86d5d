"""Output formats of `fixloop check`: text for people, JSON for scripts, SARIF 2.1.0 for
code-scanning tools."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fixloop import __version__
from fixloop.analysis.findings import Finding, Severity
from fixloop.analysis.source import Encoding, SourceText
from fixloop.check.runner import CheckedFile

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _each(files: list[CheckedFile]) -> Iterator[tuple[CheckedFile, Finding]]:
    for checked in files:
        for finding in checked.findings:
            yield checked, finding


def format_text(files: list[CheckedFile]) -> str:
    """`path:line:col: code message`, one per line, 1-based columns in characters."""
    lines = []
    for checked, finding in _each(files):
        start = checked.source.position_at(finding.span.start, Encoding.UTF32)
        lines.append(
            f"{checked.path}:{start.line + 1}:{start.column + 1}: {finding.code} "
            f"[{finding.severity.value}] {finding.message}"
        )
    count = sum(len(f.findings) for f in files)
    lines.append(f"{count} finding{'s' if count != 1 else ''} in {len(files)} files")
    return "\n".join(lines)


def _range(source: SourceText, finding: Finding) -> dict[str, int]:
    start = source.position_at(finding.span.start, Encoding.UTF32)
    end = source.position_at(finding.span.end, Encoding.UTF32)
    return {
        "line": start.line + 1,
        "column": start.column + 1,
        "endLine": end.line + 1,
        "endColumn": end.column + 1,
    }


def format_json(files: list[CheckedFile]) -> str:
    findings = []
    for checked, finding in _each(files):
        entry: dict[str, Any] = {
            "path": str(checked.path),
            **_range(checked.source, finding),
            "code": finding.code,
            "severity": finding.severity.value,
            "group": finding.group.value,
            "message": finding.message,
        }
        if finding.fix is not None:
            entry["fix"] = finding.fix.title
        findings.append(entry)
    notes = [{"path": str(f.path), "note": f.note} for f in files if f.note]
    return json.dumps({"findings": findings, "notes": notes, "files": len(files)}, indent=2)


def _sarif_region(source: SourceText, start: int, end: int) -> dict[str, int]:
    first = source.position_at(start, Encoding.UTF16)
    last = source.position_at(end, Encoding.UTF16)
    return {
        "startLine": first.line + 1,
        "startColumn": first.column + 1,
        "endLine": last.line + 1,
        "endColumn": last.column + 1,
        "charOffset": len(source.data[:start].decode("utf-8", "replace")),
        "charLength": len(source.data[start:end].decode("utf-8", "replace")),
    }


def format_sarif(files: list[CheckedFile]) -> str:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for checked, finding in _each(files):
        rules.setdefault(
            finding.code,
            {
                "id": finding.code,
                "shortDescription": {"text": finding.message},
                "fullDescription": {"text": finding.explanation or finding.message},
                "defaultConfiguration": {"level": _SARIF_LEVEL[finding.severity]},
                "properties": {"group": finding.group.value},
            },
        )
        uri = checked.path.as_posix()
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "level": _SARIF_LEVEL[finding.severity],
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": _sarif_region(
                            checked.source, finding.span.start, finding.span.end
                        ),
                    }
                }
            ],
        }
        if finding.fix is not None:
            result["fixes"] = [
                {
                    "description": {"text": finding.fix.title},
                    "artifactChanges": [
                        {
                            "artifactLocation": {"uri": uri},
                            "replacements": [
                                {
                                    "deletedRegion": _sarif_region(
                                        checked.source, e.span.start, e.span.end
                                    ),
                                    "insertedContent": {"text": e.new_text},
                                }
                                for e in finding.fix.edits
                            ],
                        }
                    ],
                }
            ]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "fixloop",
                        "version": __version__,
                        "rules": sorted(rules.values(), key=lambda r: r["id"]),
                    }
                },
                "columnKind": "utf16CodeUnits",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2)


FORMATS = {"text": format_text, "json": format_json, "sarif": format_sarif}
