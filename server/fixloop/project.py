"""Where a project starts: the folder the sandbox sees and the settings are read from."""

from __future__ import annotations

from pathlib import Path

# Files that mark a project's root, nearest first wins.
ROOT_MARKERS = ("pyproject.toml", "fixloop.toml", "setup.py", "setup.cfg", "package.json", ".git")


def find_project_root(path: Path) -> Path:
    """The nearest folder at or above `path` (a file or folder) holding a pyproject.toml,
    fixloop.toml, setup.py, setup.cfg, package.json or .git; the path's own folder when
    none does. `fixloop fix`, `fixloop trust` and `fixloop sandbox prepare` agree on it."""
    start = path.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return candidate
    return folder
