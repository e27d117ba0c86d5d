"""Which tests concern a source file: the test files that import it (the file itself when
it is a test file), else the whole suite. pytest test files count when they import or name
the module; `node --test` ones when a relative import resolves to the file. Other commands
always run the whole suite.

`npm test` (and yarn's, pnpm's) runs the package's test script itself: the sandbox has
node but no package manager, and a `node --test` script then gives per-test results.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fixloop.sandbox.commands import CommandKind, package_script, parse_command

# Folders that never hold the project's own tests (and can be huge).
_SKIPPED_DIRS = frozenset(
    {"node_modules", "__pycache__", "venv", "site-packages", "build", "dist", "env"}
)
# More test files than this for one source: running the whole suite is as good.
_MAX_SELECTED = 50
_PYTHON_SUFFIXES = (".py", ".pyi")
_SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
# What `node --test` runs when given no files (node 18): .js/.cjs/.mjs files in a `test`
# folder, or named test, test-*, *.test, *-test, *_test.
_NODE_TEST_SUFFIXES = (".js", ".cjs", ".mjs")
_NODE_TEST_NAME = re.compile(r"^test$|^test-.+|.+[.\-_]test$")
# A relative module specifier in require(...), import(...), `import ... from` or `import '...'`.
_JS_IMPORT = re.compile(
    r"""(?:\brequire\s*\(\s*|\bimport\s*\(\s*|\bfrom\s*|\bimport\s+)"""
    r"""(?P<quote>['"])(?P<spec>\.\.?/[^'"\n]*)(?P=quote)"""
)


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
    root = root.resolve()
    command = package_script(root, command)
    parsed = parse_command(command)
    narrowable = parsed.kind is CommandKind.PYTEST or (
        parsed.kind is CommandKind.NODE and not any(_positional(arg) for arg in parsed.args)
    )
    if not narrowable:
        return Selection(command)  # node given its own files or folders: as the user said
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


def narrower_than_suite(root: Path, selection: Selection) -> bool:
    """Whether `selection` leaves out some of the project's pytest files (selecting
    every one of them is the whole suite by another name)."""
    if selection.whole_suite:
        return False
    every = {path.relative_to(root).as_posix() for path in _test_files(root, is_pytest_file)}
    return not every <= set(selection.test_files)


def related_test_files(root: Path, source: Path) -> list[str]:
    """The test files (relative POSIX paths) that import `source`: pytest files for a
    Python file, `node --test` files for a script."""
    try:
        relative = source.relative_to(root)
    except ValueError:
        return []
    if is_test_file(relative):
        return [relative.as_posix()]
    if source.suffix.lower() in _SCRIPT_SUFFIXES:
        return _importing_scripts(root, source)
    names = _module_names(relative)
    if not names:
        return []
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b")
    return [
        test_file.relative_to(root).as_posix()
        for test_file in _test_files(root, is_pytest_file)
        if pattern.search(_read(test_file))
    ]


def is_test_file(relative: Path) -> bool:
    """Whether the file at `relative` (to the project's root) is a pytest or node test."""
    return is_pytest_file(relative) or is_node_test_file(relative)


def is_pytest_file(relative: Path) -> bool:
    name = relative.name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def is_node_test_file(relative: Path) -> bool:
    """Whether `node --test` without files would run the file (node 18's rules)."""
    if relative.suffix not in _NODE_TEST_SUFFIXES:
        return False
    return "test" in relative.parent.parts or bool(_NODE_TEST_NAME.match(relative.stem))


def _importing_scripts(root: Path, source: Path) -> list[str]:
    found = []
    for test_file in _test_files(root, is_node_test_file):
        specs = (match["spec"] for match in _JS_IMPORT.finditer(_read(test_file)))
        if any(source in _module_files(test_file.parent, spec) for spec in specs):
            found.append(test_file.relative_to(root).as_posix())
    return found


def _module_files(folder: Path, spec: str) -> set[Path]:
    """The files a relative specifier can name: as written, with a script suffix, as a
    folder's index, and TypeScript's `./cart.js` for cart.ts."""
    base = Path(os.path.normpath(folder / spec))
    files = {base}
    files.update(base.with_name(base.name + suffix) for suffix in _SCRIPT_SUFFIXES)
    files.update(base / f"index{suffix}" for suffix in _SCRIPT_SUFFIXES)
    if base.suffix in (".js", ".mjs", ".cjs"):
        files.update(base.with_suffix(suffix) for suffix in (".ts", ".tsx", ".mts", ".cts"))
    return files


def _positional(arg: str) -> bool:
    """A file or folder given to `node --test` (flags take their value after `=` here)."""
    return not arg.startswith("-")


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


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _test_files(root: Path, is_test: Callable[[Path], bool]) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS]
        for name in files:
            path = Path(folder) / name
            if is_test(path.relative_to(root)):
                yield path
