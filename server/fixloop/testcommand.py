"""Which command runs a project's tests: the setting, else what the project's files say."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

PYTEST = "python -m pytest -q"
NPM = "npm test"


def detect_test_command(root: Path, configured: str | None = None) -> str | None:
    """The configured command, else pytest when the project configures pytest or has test
    files for it, else `npm test` when package.json has a test script; None if unknown."""
    if configured:
        return configured
    if _configures_pytest(root) or _has_test_files(root):
        return PYTEST
    package = root / "package.json"
    if package.is_file():
        try:
            scripts = json.loads(package.read_text(encoding="utf-8")).get("scripts", {})
        except (OSError, ValueError, AttributeError):
            return None
        if isinstance(scripts, dict) and scripts.get("test"):
            return NPM
    return None


def _configures_pytest(root: Path) -> bool:
    if (root / "pytest.ini").is_file() or (root / "conftest.py").is_file():
        return True
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            return False
        return "pytest" in data.get("tool", {})
    for name in ("setup.cfg", "tox.ini"):
        path = root / name
        if path.is_file() and "[tool:pytest]" in path.read_text(encoding="utf-8", errors="replace"):
            return True
    return False


# Where test files are looked for: the root and folders a few levels down, not virtualenvs.
_TEST_FILE_PATTERNS = ("test_*.py", "*_test.py")
_SKIPPED_FOLDERS = {".git", ".venv", "venv", "env", "node_modules", ".tox", "build", "dist"}


def _has_test_files(root: Path, depth: int = 4) -> bool:
    """Whether pytest-style test files lie in the root or a few folders below it."""
    folders = [root]
    for _ in range(depth + 1):
        found = any(any(f.glob(p)) for f in folders for p in _TEST_FILE_PATTERNS)
        if found:
            return True
        folders = [
            child
            for folder in folders
            for child in sorted(folder.iterdir())
            if child.is_dir()
            and child.name not in _SKIPPED_FOLDERS
            and not child.name.startswith(".")
            and not (child / "pyvenv.cfg").exists()
        ][:200]
    return False
