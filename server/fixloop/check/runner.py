"""Analyse files on disk with the same engine the editor uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fixloop.analysis.document import Document
from fixloop.analysis.files import screen
from fixloop.analysis.findings import Finding
from fixloop.analysis.languages import language_for
from fixloop.analysis.selection import reported
from fixloop.analysis.source import SourceText
from fixloop.check.files import source_files
from fixloop.config import DiagnosticsSettings, config_root, load_settings


@dataclass(frozen=True, slots=True)
class CheckedFile:
    path: Path
    source: SourceText
    findings: tuple[Finding, ...]
    note: str | None = None  # why a file was not analysed


@dataclass(frozen=True, slots=True)
class FileSettings:
    """The diagnostics settings of one file, and the folder they were found in (the base
    of its `per-file-ignores` globs)."""

    diagnostics: DiagnosticsSettings
    root: Path


class NearestSettings:
    """Each file's settings from the nearest settings file above it (read once per
    folder); files with none above them take `fallback`'s (the current folder's)."""

    def __init__(self, fallback: Path, report: Callable[[str], None]) -> None:
        self._fallback = fallback
        self._report = report
        self._by_root: dict[Path | None, FileSettings] = {}
        self._root_of: dict[Path, Path | None] = {}

    def __call__(self, path: Path) -> FileSettings:
        folder = path.absolute().parent
        if folder not in self._root_of:
            self._root_of[folder] = config_root(folder)
        root = self._root_of[folder]
        if root not in self._by_root:
            settings = load_settings(root if root is not None else self._fallback)
            for problem in (*settings.problems, *settings.diagnostics.selection().problems()):
                self._report(problem)
            self._by_root[root] = FileSettings(settings.diagnostics, root or self._fallback)
        return self._by_root[root]


def check_paths(
    paths: list[Path], settings: DiagnosticsSettings | Callable[[Path], FileSettings]
) -> list[CheckedFile]:
    """Every source file below `paths`, each with its own settings (or the same ones)."""
    if isinstance(settings, DiagnosticsSettings):
        same = FileSettings(settings, Path.cwd())
        return [check_file(path, same) for path in source_files(paths)]
    return [check_file(path, settings(path)) for path in source_files(paths)]


def check_file(path: Path, settings: FileSettings | DiagnosticsSettings) -> CheckedFile:
    if isinstance(settings, DiagnosticsSettings):
        settings = FileSettings(settings, Path.cwd())
    diagnostics = settings.diagnostics
    language = language_for(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        return CheckedFile(path, SourceText(b""), (), note=f"cannot read: {error.strerror}")
    source = SourceText(data)
    if language is None:
        return CheckedFile(path, source, (), note="not analysed: unknown language")
    screened = screen(data, diagnostics.max_file_bytes)
    if screened.binary:
        return CheckedFile(path, source, (), note="not analysed: binary file")
    findings = list(screened.findings)
    document = None
    if screened.analyse:
        document = Document(language, data)
        findings.extend(document.findings())
    relative = _relative(path, settings.root)
    tree = document.tree if document is not None else None
    kept = reported(findings, diagnostics.selection(), relative, source, tree)
    return CheckedFile(path, source, tuple(kept))


def _relative(path: Path, root: Path) -> str:
    """`path` relative to `root` (POSIX), or as given when it is not below it."""
    try:
        return path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        return path.as_posix()
