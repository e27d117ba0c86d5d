"""Which tests concern a source file: for pytest, the test files that import or name its
module (the file itself when it is a test file), else the whole suite; other commands
always run the whole suite."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fixloop.sandbox.commands import CommandKind, parse_command

# Folders that never hold the project's own tests (and can be huge).
_SKIPPED_DIRS = frozenset(
    {"node_modules", "__pycache__", "venv", "site-packages", "build", "dist", "env"}
)
# More test files than this for one source: running the whole suite is as good.
_MAX_SELECTED = 50
_PYTHON_SUFFIXES = (".py", ".pyi")
_SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")


@dataclass(frozen=True)
class Selection:
    """What to run: `test_files` (relative POSIX paths) or, when empty, the whole suite."""

    command: str
    test_files: tuple[str, ...] = ()

    @property
    def whole_suite(self) -> bool:
        return not self.test_files

    def speaks_for(self, root: Path, source: Path) -> bool:
        """Whether this selection ran every test related to `source`, so that its result
        is the whole truth about that file."""
        if self.whole_suite:
            return True
        related = related_test_files(root.resolve(), source.resolve())
        return bool(related) and set(related) <= set(self.test_files)


def runs_for(path: Path, command: str) -> bool:
    """Whether saving `path` is a reason to run `command`: Python files for pytest, script
    files for node and npm, both for any other command."""
    suffix = path.suffix.lower()
    kind = parse_command(command).kind
    if kind is CommandKind.PYTEST:
        return suffix in _PYTHON_SUFFIXES
    if kind is CommandKind.NODE or command.split()[:1] in (["npm"], ["yarn"], ["pnpm"]):
        return suffix in _SCRIPT_SUFFIXES
    return suffix in _PYTHON_SUFFIXES + _SCRIPT_SUFFIXES


def select_tests(root: Path, sources: Iterable[Path], command: str) -> Selection:
    """The command that runs the tests related to every one of `sources` (raises
    CommandRefused for a refused command)."""
    if parse_command(command).kind is not CommandKind.PYTEST:
        return Selection(command)
    root = root.resolve()
    selected: set[str] = set()
    for source in sources:
        related = related_test_files(root, source.resolve())
        if not related:
            return Selection(command)  # nothing names this file: the whole suite
        selected.update(related)
    if len(selected) > _MAX_SELECTED:
        return Selection(command)
    files = tuple(sorted(selected))
    return Selection(f"{command} {' '.join(shlex.quote(f) for f in files)}", files)


def related_test_files(root: Path, source: Path) -> list[str]:
    """The pytest files (relative POSIX paths) that import or name `source`'s module."""
    try:
        relative = source.relative_to(root)
    except ValueError:
        return []
    if is_test_file(source):
        return [relative.as_posix()]
    names = _module_names(relative)
    if not names:
        return []
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b")
    found = []
    for test_file in _test_files(root):
        try:
            text = test_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if pattern.search(text):
            found.append(test_file.relative_to(root).as_posix())
    return found


def is_test_file(path: Path) -> bool:
    name = path.name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _module_names(relative: Path) -> list[str]:
    """How a test refers to the module: its dotted path and its last name (`pkg.pricing`,
    `pricing`; a package's `__init__.py` is the package)."""
    parts = list(relative.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    if parts and parts[0] == "src":
        parts.pop(0)
    if not parts:
        return []
    return sorted({".".join(parts), parts[-1]}, key=len, reverse=True)


def _test_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS]
        for name in files:
            path = Path(folder) / name
            if is_test_file(path):
                yield path
