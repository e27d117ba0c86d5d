"""Settings: `[tool.fixloop]` in pyproject.toml, then `FIXLOOP_*` environment variables,
then the editor's `fixloop` settings section, each overriding the one before.

Settings are nested frozen dataclasses with defaults. Keys are accepted in snake_case,
kebab-case (pyproject) and camelCase (editors). An invalid value never stops fixloop: it
is reported (`Settings.problems`) and the default is used instead.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from fixloop.sandbox.config import SandboxConfig

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


@dataclass(frozen=True)
class LlmSettings:
    base_url: str | None = None
    model: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    fallback_models: tuple[str, ...] = ()
    timeout: float = 60.0
    max_tokens: int = 2048
    temperature: float = 0.2
    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    price_per_1k_prompt: float = 0.0
    price_per_1k_completion: float = 0.0
    replies_per_round: int = 3
    fuzzy_threshold: float = 0.85
    # Ask the model to review each verified patch before it is offered (costs a request).
    review: bool = False


@dataclass(frozen=True)
class TestsSettings:
    command: str | None = None
    run: TestTrigger = "onOpenAndSave"


@dataclass(frozen=True)
class MemorySettings:
    enabled: bool = True
    path: str | None = None
    url: str | None = None
    # "hashed" (offline, the default), "hashed:DIM", "openai:MODEL", "sentence-transformers:M"
    embedding: str | None = None
    retention_days: int = 90
    cap_per_kind: int = 1000


@dataclass(frozen=True)
class Settings:
    engine: Engine = "auto"
    diagnostics: DiagnosticsSettings = field(default_factory=DiagnosticsSettings)
    llm: LlmSettings = field(default_factory=LlmSettings)
    tests: TestsSettings = field(default_factory=TestsSettings)
    memory: MemorySettings = field(default_factory=MemorySettings)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    # The language server refuses (and skips) a message larger than this.
    max_message_bytes: int = 256_000_000
    problems: tuple[str, ...] = field(default=(), compare=False)


# Flat names people are told about (`test-command`, `testCommand`) for nested settings.
_ALIASES = {"test_command": ("tests", "command"), "run_tests": ("tests", "run")}
_ENV_PREFIX = "FIXLOOP_"

T = TypeVar("T")


def snake_case(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).replace("-", "_").lower()


def load_settings(
    project_root: Path | None = None,
    environ: Mapping[str, str] | None = None,
    editor: Mapping[str, Any] | None = None,
) -> Settings:
    """Settings for a project: defaults < pyproject < environment < editor."""
    problems: list[str] = []
    merged: dict[str, Any] = {}
    if project_root is not None:
        _deep_update(merged, _normalize(_read_pyproject(project_root, problems)))
    _deep_update(merged, _from_environment(os.environ if environ is None else environ))
    if editor:
        _deep_update(merged, _normalize(editor))
    settings = _build(Settings, merged, "", problems)
    return dataclasses.replace(settings, problems=tuple(problems))


def _read_pyproject(root: Path, problems: list[str]) -> Mapping[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            section = tomllib.load(handle).get("tool", {}).get("fixloop", {})
    except (OSError, tomllib.TOMLDecodeError) as error:
        problems.append(f"{path}: cannot read [tool.fixloop] ({error}); using defaults")
        return {}
    if not isinstance(section, Mapping):
        problems.append(f"{path}: [tool.fixloop] must be a table; using defaults")
        return {}
    return section


def _normalize(raw: Mapping[str, Any]) -> dict[str, Any]:
    """snake_case keys at every level, with flat aliases moved to their nested place."""
    result: dict[str, Any] = {}
    for key, value in raw.items():
        name = snake_case(str(key))
        if isinstance(value, Mapping):
            value = _normalize(value)
        if name in _ALIASES:
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
