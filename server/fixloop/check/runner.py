"""Analyse files on disk with the same engine the editor uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fixloop.analysis.document import Document
from fixloop.analysis.files import screen
from fixloop.analysis.findings import Finding
from fixloop.analysis.languages import language_for
from fixloop.analysis.source import SourceText
from fixloop.check.files import source_files
from fixloop.config import DiagnosticsSettings


@dataclass(frozen=True, slots=True)
class CheckedFile:
    path: Path
    source: SourceText
    findings: tuple[Finding, ...]
    note: str | None = None  # why a file was not analysed


def check_paths(paths: list[Path], settings: DiagnosticsSettings) -> list[CheckedFile]:
    return [check_file(path, settings) for path in source_files(paths)]


def check_file(path: Path, settings: DiagnosticsSettings) -> CheckedFile:
    language = language_for(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        return CheckedFile(path, SourceText(b""), (), note=f"cannot read: {error.strerror}")
    source = SourceText(data)
    if language is None:
        return CheckedFile(path, source, (), note="not analysed: unknown language")
    screened = screen(data, settings.max_file_bytes)
    if screened.binary:
        return CheckedFile(path, source, (), note="not analysed: binary file")
    findings = list(screened.findings)
    if screened.analyse:
        document = Document(language, data)
        findings.extend(f for f in document.findings() if f.group.value in settings.groups)
    return CheckedFile(path, source, tuple(findings))
