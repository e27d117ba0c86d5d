"""What a Python project needs installed to run its tests, read from its files alone.

Nothing of the project runs here: setup.py is parsed, never executed, and a virtual
environment inside the project is read from its metadata folders, never started. The
first source that says something wins:

1. the project's own virtual environment (`.venv`, `venv`, `env`): the exact versions the
   user runs the tests with (its `*.dist-info` folders);
2. its manifests: `[project] dependencies` and the test/dev extras of pyproject.toml,
   `[dependency-groups]`, `requirements*.txt`, setup.cfg, setup.py's literal lists, with
   `uv.lock` / `poetry.lock` versions as constraints.

Index options and direct URLs found in a project's files are dropped: where packages come
from is the user's choice (their pip settings), never the repository's.
"""

from __future__ import annotations

import ast
import configparser
import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

VENV_NAMES = (".venv", "venv", "env", ".env")
# Extras and dependency groups that hold what the tests need.
TEST_GROUPS = re.compile(r"^(test|tests|testing|dev|develop|development|check|ci)$", re.I)
# Extras that no test needs; every other extra is a feature the tests may exercise.
NOT_FOR_TESTS = re.compile(
    r"^(docs?|documentation|sphinx|lint|linting|typing|types|mypy|bench|benchmarks?|"
    r"release|publish|deploy|build|pre-?commit|format|style)$",
    re.I,
)
REQUIREMENT_FILES = (
    "requirements.txt",
    "requirements-dev.txt",
    "requirements_dev.txt",
    "requirements-test.txt",
    "requirements_test.txt",
    "requirements-tests.txt",
    "test-requirements.txt",
    "test_requirements.txt",
    "dev-requirements.txt",
    "requirements/test.txt",
    "requirements/tests.txt",
    "requirements/dev.txt",
    "requirements/base.txt",
    "requirements/testing.txt",
)
LOCK_FILES = ("uv.lock", "poetry.lock")
BUILD_FILES = ("pyproject.toml", "setup.cfg", "setup.py")
# Installed by the sandbox itself, or never needed in it.
_SKIPPED = {"pip", "setuptools", "wheel", "distribute", "pkg-resources", "fixloop"}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    """A distribution's name as indexes compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Requirements:
    """What to install in the project's sandbox environment."""

    lines: tuple[str, ...]  # pip requirement specifiers
    # The project's feature extras: installed when they can be (the tests often exercise
    # them), left out with a note when one cannot.
    optional: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()  # pins from a lock file
    source: str = ""  # for people: where they come from
    files: tuple[Path, ...] = ()  # the files they were read from (a change prepares again)
    notes: tuple[str, ...] = ()  # what was left out, and why
    project_name: str | None = None
    requires_python: str | None = None
    build_requires: tuple[str, ...] = ()  # the project's build backend, for its metadata
    source_paths: tuple[str, ...] = ()  # the folders its code is imported from (`src`)
    # The project's own dependencies (canonical names): what its code needs to import, as
    # against the tools of its tests and development (see prepare.py: those are left out
    # with a note when the sandbox cannot install them).
    runtime: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.lines and not self.build_requires

    def digest(self) -> str:
        """Changes whenever what would be installed changes."""
        hasher = hashlib.sha256()
        parts = (*self.lines, "\0", *self.optional, "\0", *self.constraints)
        for part in (*parts, "\0", *self.build_requires):
            hasher.update(part.encode() + b"\n")
        for path in self.files:
            hasher.update(path.name.encode() + b"\0")
            try:
                hasher.update(path.read_bytes())
            except OSError:
                continue
        return hasher.hexdigest()


@dataclass
class _Found:
    lines: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    optional: list[str] = field(default_factory=list)

    def extra(self, group: str, lines: Iterable[str]) -> list[str]:
        """An extra's requirements when they are the tests'; a feature's are kept as
        optional (returning none), a doc or lint extra's left out."""
        if TEST_GROUPS.match(group):
            return list(lines)
        if not NOT_FOR_TESTS.match(group):
            for line in lines:
                head = line.split(";")[0]
                if line.strip() and "@" not in head and "://" not in head:
                    self.optional.append(line.strip())
        return []

    def add(self, line: str, where: str) -> None:
        head = line.split(";")[0]
        if "@" in head or "://" in head:
            self.notes.append(f"{where}: `{line.strip()}` left out (a direct URL)")
            return
        match = _NAME.match(line)
        if match and canonical(match.group(1)) not in _SKIPPED and line.strip() not in self.lines:
            self.lines.append(line.strip())


def find_requirements(root: Path) -> Requirements:
    """What the project at `root` needs for its tests (empty when it says nothing)."""
    pyproject = _toml(root / "pyproject.toml")
    project = pyproject.get("project", {}) if isinstance(pyproject.get("project"), dict) else {}
    name = project.get("name") if isinstance(project.get("name"), str) else None
    name = name or _setup_cfg_value(root, "metadata", "name") or _setup_py_value(root, "name")
    common = Requirements(
        (),
        project_name=name,
        requires_python=_requires_python(root, project),
        build_requires=_build_requires(root, pyproject),
        source_paths=source_paths(root, pyproject),
        runtime=tuple(
            canonical(match.group(1))
            for line in _strings(project.get("dependencies"))
            if (match := _NAME.match(line))
        ),
    )
    build_files = [root / n for n in BUILD_FILES if (root / n).is_file()]
    venv = _project_venv(root)
    if venv is not None:
        found = _from_venv(venv, name)
        if found.lines:
            return replace(
                common,
                lines=tuple(found.lines),
                source=f"the project's virtual environment {venv.name}/ (its exact versions)",
                files=tuple(build_files),
                notes=tuple(found.notes),
            )
    found = _from_manifests(root, pyproject, project)
    return replace(
        common,
        lines=tuple(found.lines),
        optional=tuple(dict.fromkeys(o for o in found.optional if o not in found.lines)),
        constraints=_lock_pins(root),
        source=", ".join(sorted({p.name for p in found.files})) or "nothing",
        files=tuple(found.files),
        notes=tuple(found.notes),
    )


# --- the project's own virtual environment ----------------------------------------------


def _project_venv(root: Path) -> Path | None:
    for name in VENV_NAMES:
        if (root / name / "pyvenv.cfg").is_file():
            return root / name
    return None


def _site_packages(venv: Path) -> list[Path]:
    return sorted(venv.glob("lib/python3*/site-packages"))


def _from_venv(venv: Path, project_name: str | None) -> _Found:
    found = _Found()
    own = canonical(project_name) if project_name else None
    for site in _site_packages(venv):
        for info in sorted(site.glob("*.dist-info")):
            name, _, version = info.name.removesuffix(".dist-info").partition("-")
            if not version or canonical(name) in _SKIPPED or canonical(name) == own:
                continue
            origin = _direct_origin(info)
            if origin is not None:
                found.notes.append(f"{name} left out: installed from {origin}")
                continue
            found.add(f"{_metadata_name(info) or name}=={version}", venv.name)
    return found


def _direct_origin(info: Path) -> str | None:
    """Where a package not installed from an index came from (an editable checkout, a
    local folder, a URL), else None."""
    try:
        data = json.loads((info / "direct_url.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url = data.get("url", "") if isinstance(data, dict) else ""
    return str(url) or "a direct URL"


def _metadata_name(info: Path) -> str | None:
    try:
        with (info / "METADATA").open(encoding="utf-8", errors="replace") as metadata:
            for line in metadata:
                if line.startswith("Name:"):
                    return line.partition(":")[2].strip()
                if not line.strip():
                    break
    except OSError:
        return None
    return None


# --- manifests ------------------------------------------------------------------------


def _from_manifests(root: Path, pyproject: Mapping[str, Any], project: Mapping[str, Any]) -> _Found:
    found = _Found()
    if pyproject:
        before = len(found.lines)
        for line in _strings(project.get("dependencies")):
            found.add(line, "pyproject.toml")
        extras = project.get("optional-dependencies")
        for group, lines in extras.items() if isinstance(extras, dict) else ():
            own = [_self_extra(line, project) for line in _strings(lines)]
            for line in found.extra(str(group), own):
                found.add(line, "pyproject.toml")
        for line in _dependency_groups(pyproject):
            found.add(line, "pyproject.toml")
        for line in _poetry_dependencies(pyproject):
            found.add(line, "pyproject.toml")
        if len(found.lines) > before:
            found.files.append(root / "pyproject.toml")
    for name in REQUIREMENT_FILES:
        path = root / name
        if path.is_file():
            for line in _requirement_lines(path, root, set()):
                found.add(line, name)
            found.files.append(path)
    setup_lines = [*_setup_cfg_requirements(root, found), *_setup_py_requirements(root, found)]
    for line in setup_lines:
        found.add(line, "setup")
    if _tox_requirements(root, found):
        found.files.append(root / "tox.ini")
    found.files += [root / n for n in ("setup.cfg", "setup.py") if (root / n).is_file()]
    for name in LOCK_FILES:
        if (root / name).is_file():
            found.files.append(root / name)
    return found


def _self_extra(line: str, project: Mapping[str, Any]) -> str:
    """`mypkg[test]` inside mypkg's own extras names other extras, not a download."""
    match = _NAME.match(line)
    name = project.get("name")
    if match and isinstance(name, str) and canonical(match.group(1)) == canonical(name):
        return ""
    return line


def _dependency_groups(pyproject: Mapping[str, Any]) -> Iterator[str]:
    groups = pyproject.get("dependency-groups")
    if not isinstance(groups, dict):
        return
    wanted = [g for g in groups if TEST_GROUPS.match(g)]
    seen: set[str] = set()

    def expand(group: str) -> Iterator[str]:
        if group in seen or not isinstance(groups.get(group), list):
            return
        seen.add(group)
        for item in groups[group]:
            if isinstance(item, str):
                yield item
            elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
                yield from expand(item["include-group"])

    for group in wanted:
        yield from expand(group)


def _poetry_dependencies(pyproject: Mapping[str, Any]) -> Iterator[str]:
    """Poetry's tables: `name = "^1.2"` → `name` (the lock file pins the version)."""
    poetry = pyproject.get("tool", {}).get("poetry", {})
    if not isinstance(poetry, dict):
        return
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    groups = poetry.get("group")
    if isinstance(groups, dict):
        tables += [g.get("dependencies") for n, g in groups.items() if isinstance(g, dict)]
    for table in tables:
        if isinstance(table, dict):
            for name, spec in table.items():
                if canonical(name) == "python" or (isinstance(spec, dict) and "path" in spec):
                    continue
                yield name


def _requirement_lines(path: Path, root: Path, seen: set[Path]) -> Iterator[str]:
    """A requirements file's requirements, following `-r` includes inside the project;
    pip options (indexes, find-links, editable installs) are the user's to set, not
    the file's, and are skipped."""
    if path in seen or not path.resolve().is_relative_to(root.resolve()):
        return
    seen.add(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    for raw in text.splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ", "-c ", "--constraint ")):
            include = path.parent / line.split(None, 1)[1].strip()
            yield from _requirement_lines(include, root, seen)
        elif not line.startswith("-") and not line.startswith((".", "/")):
            yield line


def _setup_cfg_requirements(root: Path, found: _Found) -> Iterator[str]:
    parser = _setup_cfg(root)
    if parser is None:
        return
    yield from _cfg_list(parser.get("options", "install_requires", fallback=""))
    if parser.has_section("options.extras_require"):
        for group, value in parser.items("options.extras_require"):
            yield from found.extra(group, _cfg_list(value))
    yield from _cfg_list(parser.get("options", "tests_require", fallback=""))


def _tox_requirements(root: Path, found: _Found) -> bool:
    """tox.ini's `[testenv]` deps (what `tox` installs to run the tests)."""
    parser = _ini(root / "tox.ini")
    if parser is None or not parser.has_section("testenv"):
        return False
    for line in _cfg_list(parser.get("testenv", "deps", fallback="")):
        if line.startswith(("-r", "-c")):
            include = root / line[2:].strip().lstrip("=")
            for included in _requirement_lines(include, root, set()):
                found.add(included, "tox.ini")
        elif not line.startswith(("-", ".")) and "{" not in line and ":" not in line.split()[0]:
            found.add(line, "tox.ini")
    return True


def _setup_cfg_value(root: Path, section: str, key: str) -> str | None:
    parser = _setup_cfg(root)
    value = parser.get(section, key, fallback=None) if parser else None
    return value.strip() if value else None


def _setup_cfg(root: Path) -> configparser.ConfigParser | None:
    return _ini(root / "setup.cfg")


def _ini(path: Path) -> configparser.ConfigParser | None:
    """An ini file (setup.cfg, tox.ini) as read, or None when missing or unreadable."""
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    return parser


def _cfg_list(value: str) -> Iterator[str]:
    for line in value.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def _setup_py_call(root: Path) -> ast.Call | None:
    """The `setup(...)` call of setup.py, parsed (never run)."""
    path = root / "setup.py"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "setup":
                return node
    return None


def _setup_py_literal(root: Path, key: str) -> Any:
    call = _setup_py_call(root)
    for keyword in call.keywords if call else ():
        if keyword.arg == key:
            try:
                return ast.literal_eval(keyword.value)
            except ValueError:
                return None
    return None


def _setup_py_value(root: Path, key: str) -> str | None:
    value = _setup_py_literal(root, key)
    return value if isinstance(value, str) else None


def _setup_py_requirements(root: Path, found: _Found) -> Iterator[str]:
    yield from _strings(_setup_py_literal(root, "install_requires"))
    yield from _strings(_setup_py_literal(root, "tests_require"))
    extras = _setup_py_literal(root, "extras_require")
    for group, lines in extras.items() if isinstance(extras, dict) else ():
        if isinstance(group, str):
            yield from found.extra(group, _strings(lines))


def _lock_pins(root: Path) -> tuple[str, ...]:
    """`name==version` of every package a uv.lock / poetry.lock pins (from an index)."""
    pins: dict[str, str] = {}
    for name in LOCK_FILES:
        data = _toml(root / name)
        for package in data.get("package", []) if isinstance(data.get("package"), list) else []:
            if not isinstance(package, dict):
                continue
            source = package.get("source", {})
            local = isinstance(source, dict) and any(
                k in source for k in ("editable", "directory", "path", "virtual", "git", "url")
            )
            if isinstance(package.get("name"), str) and package.get("version") and not local:
                pins[canonical(package["name"])] = f"{package['name']}=={package['version']}"
    return tuple(sorted(pins.values()))


# --- the project itself -------------------------------------------------------------------


def _requires_python(root: Path, project: Mapping[str, Any]) -> str | None:
    value = project.get("requires-python")
    if isinstance(value, str):
        return value
    return _setup_cfg_value(root, "options", "python_requires") or _setup_py_value(
        root, "python_requires"
    )


def _build_requires(root: Path, pyproject: Mapping[str, Any]) -> tuple[str, ...]:
    """The build backend the project's metadata is built with (None: not a package)."""
    system = pyproject.get("build-system")
    if isinstance(system, dict) and isinstance(system.get("requires"), list):
        return tuple(_strings(system["requires"]))
    if (root / "setup.py").is_file() or (root / "setup.cfg").is_file():
        return ("setuptools>=40.8.0", "wheel")
    return ()


def source_paths(root: Path, pyproject: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The folders, relative to the root, that the project's packages are imported from
    when installed (`src` in the src layout); the root itself needs no entry."""
    pyproject = _toml(root / "pyproject.toml") if pyproject is None else pyproject
    declared = [*_declared_package_dirs(pyproject), *_setup_cfg_package_dirs(root)]
    paths = [p for p in declared if p not in ("", ".") and (root / p).is_dir()]
    if not paths and (root / "src").is_dir() and _holds_python(root / "src"):
        paths.append("src")
    return tuple(dict.fromkeys(paths))


def _declared_package_dirs(pyproject: Mapping[str, Any]) -> Iterator[str]:
    tool = pyproject.get("tool", {}) if isinstance(pyproject.get("tool"), dict) else {}
    setuptools = tool.get("setuptools", {}) if isinstance(tool.get("setuptools"), dict) else {}
    package_dir = setuptools.get("package-dir")
    if isinstance(package_dir, dict) and isinstance(package_dir.get(""), str):
        yield package_dir[""]
    find = setuptools.get("packages", {})
    if isinstance(find, dict) and isinstance(find.get("find"), dict):
        yield from _strings(find["find"].get("where"))
    poetry = tool.get("poetry", {}) if isinstance(tool.get("poetry"), dict) else {}
    for package in poetry.get("packages", []) if isinstance(poetry.get("packages"), list) else []:
        if isinstance(package, dict) and isinstance(package.get("from"), str):
            yield package["from"]
    hatch = tool.get("hatch", {}) if isinstance(tool.get("hatch"), dict) else {}
    wheel = hatch.get("build", {}).get("targets", {}).get("wheel", {})
    for package in _strings(wheel.get("packages") if isinstance(wheel, dict) else None):
        parent = str(Path(package).parent)
        if parent != ".":
            yield parent


def _setup_cfg_package_dirs(root: Path) -> Iterator[str]:
    parser = _setup_cfg(root)
    if parser is None:
        return
    for line in _cfg_list(parser.get("options", "package_dir", fallback="")):
        key, _, value = line.partition("=")
        if key.strip() == "" and value.strip():
            yield value.strip()
    if parser.has_section("options.packages.find"):
        where = parser.get("options.packages.find", "where", fallback="")
        yield from _cfg_list(where)


def _holds_python(folder: Path) -> bool:
    return any(folder.glob("*.py")) or any(folder.glob("*/__init__.py"))


# --- helpers -------------------------------------------------------------------------------


def _toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str) and item.strip()]
    return []


# --- JavaScript ------------------------------------------------------------------------------

NODE_LOCK_FILES = ("package-lock.json", "npm-shrinkwrap.json")


def node_manifest(root: Path) -> tuple[Path, ...]:
    """package.json and its npm lock file, when the project declares packages that are not
    installed in it (no node_modules: a fresh clone); empty otherwise."""
    package = root / "package.json"
    try:
        manifest = json.loads(package.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    declares = isinstance(manifest, dict) and bool(
        manifest.get("dependencies") or manifest.get("devDependencies")
    )
    if not declares or (root / "node_modules").is_dir():
        return ()
    locks = [root / name for name in NODE_LOCK_FILES if (root / name).is_file()]
    return (package, *locks[:1])
