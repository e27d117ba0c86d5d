"""Which files `fixloop check` reads: the ones named, and those below the folders named,
minus what the folders' `.gitignore` files exclude."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pathspec

from fixloop.analysis.languages import language_for

# Never worth walking, ignored or not.
_ALWAYS_SKIPPED = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".tox",
    }
)


def source_files(paths: list[Path]) -> Iterator[Path]:
    """Files of a known language below `paths`, in a stable order; a file named on the
    command line is always included."""
    for path in paths:
        if path.is_dir():
            yield from _walk(path)
        else:
            yield path


def _walk(root: Path) -> Iterator[Path]:
    specs: list[tuple[Path, pathspec.GitIgnoreSpec]] = []
    for directory, dirnames, filenames in os.walk(root):
        here = Path(directory)
        specs = [(base, spec) for base, spec in specs if base in here.parents or base == here]
        ignore_file = here / ".gitignore"
        if ignore_file.is_file():
            lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
            specs.append((here, pathspec.GitIgnoreSpec.from_lines(lines)))
        dirnames[:] = sorted(
            d for d in dirnames if d not in _ALWAYS_SKIPPED and not _ignored(here / d, True, specs)
        )
        for name in sorted(filenames):
            path = here / name
            if language_for(path) is not None and not _ignored(path, False, specs):
                yield path


def _ignored(path: Path, is_dir: bool, specs: list[tuple[Path, pathspec.GitIgnoreSpec]]) -> bool:
    for base, spec in specs:
        relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        if spec.match_file(relative):
            return True
    return False
