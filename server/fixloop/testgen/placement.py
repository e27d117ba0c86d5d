"""Where the new test file goes: the project's `tests/` folder if it has one, else next
to its other `test_*.py` files, else a new `tests/`; never over an existing file."""

from __future__ import annotations

from pathlib import Path

_SKIPPED = {".venv", "venv", ".git", "node_modules", "__pycache__", ".tox", "build", "dist"}
_MAX_SCANNED = 5_000  # files looked at when searching for existing tests


def test_folder(root: Path) -> Path:
    if (root / "tests").is_dir():
        return root / "tests"
    existing = _existing_tests(root)
    if existing:
        return min(existing, key=lambda p: (len(p.relative_to(root).parts), str(p))).parent
    return root / "tests"


def test_path(root: Path, module: str, function: str) -> Path:
    """`<folder>/test_<module>_<function>.py`, with `_2`, `_3`… when the name is taken
    (anywhere in the project: pytest refuses two test modules of the same name)."""
    folder = test_folder(root)
    taken = {p.name for p in _existing_tests(root)}
    stem = f"test_{module.rpartition('.')[2]}_{function}"
    name, number = f"{stem}.py", 1
    while name in taken or (folder / name).exists():
        number += 1
        name = f"{stem}_{number}.py"
    return folder / name


def _existing_tests(root: Path) -> list[Path]:
    found: list[Path] = []
    scanned = 0
    stack = [root]
    while stack and scanned < _MAX_SCANNED:
        folder = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            scanned += 1
            if entry.is_dir() and entry.name not in _SKIPPED and not entry.name.startswith("."):
                stack.append(entry)
            elif entry.name.startswith("test_") and entry.suffix == ".py":
                found.append(entry)
    return found
