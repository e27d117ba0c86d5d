"""Output formats of `fixloop check`: text for people, JSON for scripts, SARIF 2.1.0 for
code-scanning tools."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from fixloop import __version__
from fixloop.analysis.catalogue import RuleDoc, rule_docs
from fixloop.analysis.findings import Finding, Severity
from fixloop.analysis.source import Encoding, SourceText
from fixloop.check.runner import CheckedFile

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# The key of each result's `partialFingerprints` (versioned: a new recipe is a new key).
FINGERPRINT = "fixloopLineHash/v1"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _each(files: list[CheckedFile]) -> Iterator[tuple[CheckedFile, Finding]]:
    for checked in files:
        for finding in checked.findings:
            yield checked, finding


def format_text(files: list[CheckedFile], *, summary: bool = True) -> str:
    """`path:line:col: code message`, one per line, 1-based columns in characters; then
    how many (not with `summary=False`: `fixloop check -q`)."""
    lines = []
    for checked, finding in _each(files):
        start = checked.source.position_at(finding.span.start, Encoding.UTF32)
        lines.append(
            f"{checked.path}:{start.line + 1}:{start.column + 1}: {finding.code} "
            f"[{finding.severity.value}] {finding.message}"
        )
    count = sum(len(f.findings) for f in files)
    if summary:
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


def _sarif_rule(doc: RuleDoc) -> dict[str, Any]:
    properties: dict[str, Any] = {"tags": list(doc.tags), "group": doc.group.value}
    if doc.security_severity is not None:
        properties["security-severity"] = f"{doc.security_severity:.1f}"
        properties["precision"] = "high"
    return {
        "id": doc.code,
        "name": doc.name,
        "shortDescription": {"text": doc.summary},
        "fullDescription": {"text": doc.why},
        "help": {"text": doc.text(), "markdown": doc.markdown()},
        "helpUri": doc.help_uri,
        "defaultConfiguration": {"level": _SARIF_LEVEL[doc.severity]},
        "properties": properties,
    }


def fingerprints(checked: CheckedFile) -> list[str]:
    """One fingerprint per finding of the file, in order: a hash of the rule, the line's
    text with its whitespace normalized, and the how-manieth such pair it is in the file.
    Lines inserted or removed elsewhere leave it unchanged (no line number in it)."""
    seen: dict[tuple[str, str], int] = {}
    prints = []
    for finding in checked.findings:
        line = checked.source.position_at(finding.span.start, Encoding.UTF8).line
        text = checked.source.line_bytes(line).decode("utf-8", "replace")
        key = (finding.code, " ".join(text.split()))
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        digest = hashlib.sha256(f"{key[0]}\0{key[1]}\0{occurrence}".encode()).hexdigest()
        prints.append(digest[:32])
    return prints


def _sarif_fixes(uri: str, source: SourceText, finding: Finding) -> list[dict[str, Any]]:
    if finding.fix is None:
        return []
    return [
        {
            "description": {"text": finding.fix.title},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": uri},
                    "replacements": [
                        {
                            "deletedRegion": _sarif_region(source, e.span.start, e.span.end),
                            "insertedContent": {"text": e.new_text},
                        }
                        for e in finding.fix.edits
                    ],
                }
            ],
        }
    ]


def format_sarif(files: list[CheckedFile]) -> str:
    """SARIF 2.1.0 with every rule's metadata (so code scanning can show help for any of
    them) and a stable fingerprint per result."""
    docs = rule_docs()
    index = {code: i for i, code in enumerate(docs)}
    results = []
    for checked in files:
        uri = checked.path.as_posix()
        for finding, fingerprint in zip(checked.findings, fingerprints(checked), strict=True):
            result: dict[str, Any] = {
                "ruleId": finding.code,
                "ruleIndex": index[finding.code],
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
                "partialFingerprints": {FINGERPRINT: fingerprint},
            }
            fixes = _sarif_fixes(uri, checked.source, finding)
            if fixes:
                result["fixes"] = fixes
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
                        "informationUri": docs["FL001"].help_uri.partition("#")[0],
                        "rules": [_sarif_rule(doc) for doc in docs.values()],
                    }
                },
                "columnKind": "utf16CodeUnits",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2)


FORMATS = {"text": format_text, "json": format_json, "sarif": format_sarif}
