"""Settings: the project's `[tool.fixloop]` in pyproject.toml (then its `fixloop.toml`),
the user's `$XDG_CONFIG_HOME/fixloop/config.toml`, `FIXLOOP_*` environment variables, then
the editor's `fixloop` settings section, each overriding the one before.

Settings are nested frozen dataclasses with defaults. Keys are accepted in snake_case,
kebab-case (pyproject) and camelCase (editors). An invalid value never stops fixloop: it
is reported (`Settings.problems`) and the default is used instead.

Restricted settings (fields marked with `fixloop.trust.RESTRICTED`: where code, data or
the key go) are taken from a project's own files only once the project is trusted; until
then they are left out and reported by name, with how to trust (see fixloop/trust.py).
"""

from __future__ import annotations

import collections.abc
import copy
import dataclasses
import functools
import json
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

# Each subsystem owns its section (fields, defaults, restricted marks); this module composes
# and reads them, and re-exports them (`from fixloop.config import LlmSettings`).
from fixloop.loop.llm.settings import LlmSettings as LlmSettings
from fixloop.loop.llm.settings import PromptLimits as PromptLimits
from fixloop.loop.settings import LoopSettings as LoopSettings
from fixloop.memory.settings import MemorySettings as MemorySettings
from fixloop.sandbox.config import SandboxConfig as SandboxConfig
from fixloop.trust import Trust, TrustStore, digest_of, is_restricted

if typing.TYPE_CHECKING:
    from fixloop.analysis.selection import RuleSelection

RuleGroup = Literal["syntax", "safety", "secrets"]
Engine = Literal["auto", "offline", "llm"]
TestTrigger = Literal["onOpenAndSave", "onSave", "off"]


@dataclass(frozen=True)
class DiagnosticsSettings:
    enabled: bool = True
    groups: tuple[RuleGroup, ...] = ("syntax", "safety", "secrets")
    # Larger files are not analysed (a diagnostic says so): keeps a huge generated file from
    # freezing the editor.
    max_file_bytes: int = 2_000_000
    # Rule selection, as ruff's: codes or prefixes (`FL1`, `FL102`); the more specific of a
    # selected and an ignored entry wins. An empty `select` selects every rule.
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()  # added to `ignore` (from another settings layer)
    # gitignore-style glob (relative to the folder of the settings file) → codes or prefixes.
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    def selection(self) -> RuleSelection:
        """The rule selection these settings make (`extend-ignore` joins `ignore`)."""
        from fixloop.analysis.selection import RuleSelection

        return RuleSelection.of(
            self.groups, self.select, (*self.ignore, *self.extend_ignore), self.per_file_ignores
        )


@dataclass(frozen=True)
class TestsSettings:
    command: str | None = None
    run: TestTrigger = "onOpenAndSave"


@dataclass(frozen=True)
class Settings:
    engine: Engine = "auto"
    diagnostics: DiagnosticsSettings = field(default_factory=DiagnosticsSettings)
    llm: LlmSettings = field(default_factory=LlmSettings)
    tests: TestsSettings = field(default_factory=TestsSettings)
    memory: MemorySettings = field(default_factory=MemorySettings)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    loop: LoopSettings = field(default_factory=LoopSettings)
    # The language server refuses (and skips) a message larger than this.
    max_message_bytes: int = 256_000_000
    problems: tuple[str, ...] = field(default=(), compare=False)


# Flat names people are told about (`test-command`, `testCommand`) for nested settings.
_ALIASES = {
    "test_command": ("tests", "command"),
    "run_tests": ("tests", "run"),
    # As ruff's top-level options: `[tool.fixloop] ignore = ["FL104"]`.
    "select": ("diagnostics", "select"),
    "ignore": ("diagnostics", "ignore"),
    "extend_ignore": ("diagnostics", "extend_ignore"),
    "per_file_ignores": ("diagnostics", "per_file_ignores"),
}
# Tables whose keys are data (file globs), not setting names: kept as written.
_VERBATIM_TABLES = frozenset({"per_file_ignores"})
_ENV_PREFIX = "FIXLOOP_"

T = TypeVar("T")


def snake_case(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).replace("-", "_").lower()


def load_settings(
    project_root: Path | None = None,
    environ: Mapping[str, str] | None = None,
    editor: Mapping[str, Any] | None = None,
    *,
    trusted: bool | None = None,
    editor_is_users: bool = True,
) -> Settings:
    """Settings for a project: defaults < project files < user config file < environment
    < editor. See `load_project` for `trusted` and `editor_is_users`."""
    return load_project(
        project_root, environ, editor, trusted=trusted, editor_is_users=editor_is_users
    ).settings


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    # Whether the project's own files may set restricted settings (and run on their own).
    trust: Trust
    # The restricted settings found in the project's files: what `fixloop trust` binds to.
    restricted: Mapping[str, Any]
    ignored: tuple[str, ...]  # restricted settings left out, by name


def load_project(
    project_root: Path | None = None,
    environ: Mapping[str, str] | None = None,
    editor: Mapping[str, Any] | None = None,
    *,
    trusted: bool | None = None,
    editor_is_users: bool = True,
) -> LoadedSettings:
    """Settings and trust of a project. `trusted`: None looks the project up in the trust
    store (`fixloop trust`); True or False is the editor's workspace trust. The editor's
    restricted values count as the user's when `editor_is_users` (an editor that sends only
    its user-level values of them), else only when the project is trusted."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    project = _read_project(project_root, problems) if project_root is not None else {}
    from_editor = _normalize(editor) if editor else {}
    found = _restricted_in(project)
    trust = _trust_of(project_root, found, trusted, env)
    ignored: dict[str, Any] = {}
    if trust is not Trust.TRUSTED:
        ignored.update(found)
        project = _without(project, found)
    if found and trust is not Trust.TRUSTED:
        problems.append(_ignored_message(project_root, sorted(found), trust, trusted, env))
    # An editor that cannot say its values are the user's may have read them from the
    # project (and `fixloop trust` bound none of them): only its own workspace trust counts.
    if not editor_is_users and trusted is not True:
        from_editor_found = _restricted_in(from_editor)
        from_editor = _without(from_editor, from_editor_found)
        ignored.update({f"{name} (editor)": v for name, v in from_editor_found.items()})
        if from_editor_found:
            problems.append(_editor_ignored_message(sorted(from_editor_found), env))
    merged: dict[str, Any] = {}
    _deep_update(merged, project)
    _deep_update(merged, _read_table(user_config_path(env), None, problems))
    _deep_update(merged, _from_environment(env))
    _deep_update(merged, from_editor)
    settings = _build(Settings, merged, "", problems)
    return LoadedSettings(
        dataclasses.replace(settings, problems=tuple(problems)),
        trust,
        found,
        tuple(sorted(ignored)),
    )


SETTINGS_FILES = ("pyproject.toml", "fixloop.toml")


def config_root(start: Path, stop: Path | None = None) -> Path | None:
    """The nearest folder, from `start` (a file or a folder) up, with a `fixloop.toml` or a
    pyproject.toml that has `[tool.fixloop]` (as ruff finds its settings); the walk ends
    with `stop` (a workspace folder) or at the filesystem root. None: there is none."""
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if has_settings(candidate):
            return candidate
        if stop is not None and candidate == stop:
            break
    return None


def has_settings(folder: Path) -> bool:
    """Whether `folder` holds fixloop settings (an unreadable pyproject.toml that names
    fixloop counts: reading it then says what is wrong)."""
    if (folder / "fixloop.toml").is_file():
        return True
    try:
        data = (folder / "pyproject.toml").read_bytes()
    except OSError:
        return False
    if b"fixloop" not in data:
        return False
    try:
        tool = tomllib.loads(data.decode("utf-8")).get("tool")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True
    return isinstance(tool, Mapping) and "fixloop" in tool


def user_config_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """`$XDG_CONFIG_HOME/fixloop/config.toml`, else `~/.config/fixloop/config.toml`; None
    when an environment given without either names no home."""
    env = os.environ if environ is None else environ
    if env.get("XDG_CONFIG_HOME"):
        return Path(env["XDG_CONFIG_HOME"]).expanduser() / "fixloop" / "config.toml"
    home = env.get("HOME") or (str(Path.home()) if environ is None else None)
    return Path(home) / ".config" / "fixloop" / "config.toml" if home else None


@functools.cache
def restricted_settings(cls: type = Settings) -> tuple[tuple[str, ...], ...]:
    """Paths of the restricted settings: fields marked RESTRICTED (every leaf of a marked
    section)."""
    paths: list[tuple[str, ...]] = []
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            inner = typing.cast(type, kind)
            if is_restricted(f.metadata):
                paths.extend((f.name, *p) for p in _leaf_paths(inner))
            else:
                paths.extend((f.name, *p) for p in restricted_settings(inner))
        elif is_restricted(f.metadata):
            paths.append((f.name,))
    return tuple(paths)


def setting_name(path: tuple[str, ...]) -> str:
    """A setting as pyproject spells it: `llm.base-url`."""
    return ".".join(part.replace("_", "-") for part in path)


def _restricted_in(values: Mapping[str, Any]) -> dict[str, Any]:
    """The restricted settings present in normalized `values`, by name."""
    found: dict[str, Any] = {}
    for path in restricted_settings():
        node: Any = values
        for part in path:
            node = node.get(part, _MISSING) if isinstance(node, Mapping) else _MISSING
        if node is not _MISSING:
            found[setting_name(path)] = node
    return found


def _without(values: dict[str, Any], names: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `values` without the restricted settings `names`."""
    kept = copy.deepcopy(values)
    for path in restricted_settings():
        if setting_name(path) not in names:
            continue
        node = kept
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]
    return kept


def _trust_of(
    root: Path | None, found: Mapping[str, Any], trusted: bool | None, env: Mapping[str, str]
) -> Trust:
    if trusted is not None:
        return Trust.TRUSTED if trusted else Trust.UNTRUSTED
    if root is None:
        return Trust.UNTRUSTED
    return TrustStore.default(env).status(root, digest_of(found))


def _ignored_message(
    root: Path | None,
    names: list[str],
    trust: Trust,
    trusted: bool | None,
    env: Mapping[str, str],
) -> str:
    where = str(root) if root is not None else "this project"
    listed = ", ".join(f"`{name}`" for name in names)
    user_file = user_config_path(env)
    own = f" (or set them in your own {user_file})" if user_file else ""
    if trusted is not None:
        how = f"trust the workspace in the editor to use them{own}"
    elif trust is Trust.CHANGED:
        how = f"they changed since you trusted it: check them, then run `fixloop trust {where}`"
        how += f" again{own}"
    else:
        how = f"check them, then run `fixloop trust {where}` to use them{own}"
    return (
        f"{where} is not trusted: its settings {listed} are ignored (they decide where your "
        f"code, data or key go, or how tests are contained); {how}"
    )


def _editor_ignored_message(names: list[str], env: Mapping[str, str]) -> str:
    listed = ", ".join(f"`{name}`" for name in names)
    user_file = user_config_path(env) or "your fixloop config file"
    return (
        f"the editor's settings {listed} are ignored: this editor does not say whether they "
        "are yours or the project's, and they decide where your code, data or key go; set "
        f"them in {user_file} or the environment (FIXLOOP_…)"
    )


_MISSING = object()


def _read_project(root: Path, problems: list[str]) -> dict[str, Any]:
    """`[tool.fixloop]` of pyproject.toml, then `fixloop.toml` over it (normalized)."""
    values = _read_table(root / "pyproject.toml", ("tool", "fixloop"), problems)
    _deep_update(values, _read_table(root / "fixloop.toml", None, problems))
    return values


def _read_table(
    path: Path | None, section: tuple[str, ...] | None, problems: list[str]
) -> dict[str, Any]:
    """The settings table of a TOML file (`section` inside it, or the whole file),
    normalized; {} when the file is absent or unreadable (said in `problems`)."""
    if path is None or not path.is_file():
        return {}
    name = "[" + ".".join(section) + "]" if section else "the settings"
    try:
        with path.open("rb") as handle:
            table: Any = tomllib.load(handle)
        for part in section or ():
            table = table.get(part, {}) if isinstance(table, Mapping) else None
    except (OSError, tomllib.TOMLDecodeError) as error:
        problems.append(f"{path}: cannot read {name} ({error}); using defaults")
        return {}
    if not isinstance(table, Mapping):
        problems.append(f"{path}: {name} must be a table; using defaults")
        return {}
    return _normalize(table)


def _normalize(raw: Mapping[str, Any], top: bool = True) -> dict[str, Any]:
    """snake_case keys at every level, with flat aliases (top level only) moved to their
    nested place."""
    result: dict[str, Any] = {}
    for key, value in raw.items():
        name = snake_case(str(key))
        if isinstance(value, Mapping):
            value = dict(value) if name in _VERBATIM_TABLES else _normalize(value, top=False)
        if top and name in _ALIASES:
            group, leaf = _ALIASES[name]
            result.setdefault(group, {})[leaf] = value
        else:
            _deep_update(result, {name: value})
    return result


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for path in _leaf_paths(Settings):
        name = _ENV_PREFIX + "_".join(path).upper()
        if name in environ:
            _set_path(values, path, environ[name])
    for alias, path in _ALIASES.items():
        name = _ENV_PREFIX + alias.upper()
        if name in environ:
            _set_path(values, path, environ[name])
    return values


def _leaf_paths(cls: type, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name == "problems":
            continue
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            paths.extend(_leaf_paths(typing.cast(type, kind), (*prefix, f.name)))
        else:
            paths.append((*prefix, f.name))
    return paths


def _set_path(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _deep_update(target: dict[str, Any], update: Mapping[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = dict(value) if isinstance(value, Mapping) else value


def _build(cls: type[T], values: Mapping[str, Any], where: str, problems: list[str]) -> T:
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in values:
        if key not in known or key == "problems":
            problems.append(f"unknown setting `{where}{key}` (ignored)")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in values or f.name == "problems":
            continue
        kind, raw, name = hints[f.name], values[f.name], f"{where}{f.name}"
        if dataclasses.is_dataclass(kind):
            if isinstance(raw, Mapping):
                kwargs[f.name] = _build(typing.cast(type, kind), raw, f"{name}.", problems)
            else:
                problems.append(f"setting `{name}` must be a table/object; using the default")
            continue
        try:
            kwargs[f.name] = _convert(kind, raw)
        except (TypeError, ValueError) as error:
            problems.append(f"setting `{name}`: {error}; using the default")
    return cls(**kwargs)


def _convert(kind: Any, raw: Any) -> Any:
    """`raw` (from TOML, JSON or an environment string) as a value of type `kind`."""
    origin, args = get_origin(kind), get_args(kind)
    if origin in (types.UnionType, typing.Union):
        if raw is None or (isinstance(raw, str) and raw == "" and type(None) in args):
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], raw)
    if origin is Literal:
        if raw not in args:
            raise ValueError(f"{raw!r} is not one of {', '.join(map(repr, args))}")
        return raw
    if origin is tuple:
        items = [s.strip() for s in raw.split(",") if s.strip()] if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple):
            raise TypeError(f"expected a list, got {raw!r}")
        return tuple(_convert(args[0], item) for item in items)
    if origin in (dict, Mapping, collections.abc.Mapping):
        table = json.loads(raw) if isinstance(raw, str) else raw  # JSON from the environment
        if not isinstance(table, Mapping):
            raise TypeError(f"expected a table, got {raw!r}")
        return {str(key): _convert(args[1], value) for key, value in table.items()}
    if kind is bool:
        return _to_bool(raw)
    if kind is int:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise TypeError(f"expected a whole number, got {raw!r}")
        value = int(raw)
        if value < 0:
            raise ValueError(f"expected a number ≥ 0, got {value}")
        return value
    if kind is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise TypeError(f"expected a number, got {raw!r}")
        return float(raw)
    if kind is str:
        if not isinstance(raw, str):
            raise TypeError(f"expected text, got {raw!r}")
        return raw
    raise TypeError(f"unsupported setting type {kind!r}")


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(raw, str) and raw.lower() in ("0", "false", "no", "off"):
        return False
    raise TypeError(f"expected true or false, got {raw!r}")
