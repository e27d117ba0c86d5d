"""The settings' two user-facing lists, checked against the dataclasses that define them:
the VS Code extension's schema (`contributes.configuration.properties` in
vscode-client/package.json) and the README's settings table. Every setting is in both, with
the dataclass's default, type and restricted mark, and neither lists one that is gone."""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import json
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

import pytest

from fixloop.config import Settings, _leaf_paths, restricted_settings, setting_name

REPO = Path(__file__).resolve().parents[1]
PACKAGE = json.loads((REPO / "vscode-client" / "package.json").read_text(encoding="utf-8"))
PROPERTIES: dict[str, dict[str, Any]] = PACKAGE["contributes"]["configuration"]["properties"]
RESTRICTED_CONFIGURATIONS = set(
    PACKAGE["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"]
)
# The extension's own settings, never sent to the server (CLIENT_ONLY_PREFIXES in
# vscode-client/src/settings.ts): which server runs, and the protocol trace.
CLIENT_ONLY = ("fixloop.server.", "fixloop.trace.", "fixloop.importStrategy")
RESTRICTED = set(restricted_settings())


class _Computed:
    """A default computed when the settings are made (this machine's CPU count)."""


COMPUTED = _Computed()


@dataclasses.dataclass(frozen=True)
class Leaf:
    path: tuple[str, ...]
    kind: Any  # the type hint
    default: Any  # COMPUTED for a default_factory

    @property
    def optional(self) -> bool:
        return get_origin(self.kind) in (types.UnionType, typing.Union) and type(None) in get_args(
            self.kind
        )

    @property
    def base(self) -> Any:
        """The type without `| None`."""
        if self.optional:
            return next(a for a in get_args(self.kind) if a is not type(None))
        return self.kind


def _leaves(cls: type, prefix: tuple[str, ...] = ()) -> list[Leaf]:
    leaves: list[Leaf] = []
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name == "problems":
            continue
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            leaves.extend(_leaves(typing.cast(type, kind), (*prefix, f.name)))
        else:
            default = f.default if f.default is not dataclasses.MISSING else COMPUTED
            if f.default_factory is dict:  # an empty table
                default = {}
            leaves.append(Leaf((*prefix, f.name), kind, default))
    return leaves


LEAVES = {leaf.path: leaf for leaf in _leaves(Settings)}


def editor_key(path: tuple[str, ...]) -> str:
    """`("llm", "price_per_1k_prompt")` → `fixloop.llm.pricePer1kPrompt`."""

    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(part[:1].upper() + part[1:] for part in rest)

    return "fixloop." + ".".join(camel(part) for part in path)


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _same(found: Any, default: Any) -> bool:
    """`found` (from JSON or TOML) is `default`, a bool only as a bool."""
    if isinstance(found, bool) or isinstance(default, bool):
        return type(found) is type(default) and found == default
    return bool(found == _json_value(default))


def _json_types(leaf: Leaf) -> set[str]:
    base = leaf.base
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if get_origin(base) is tuple:
        kind = {"array"}
    elif get_origin(base) in (dict, collections.abc.Mapping):
        kind = {"object"}
    elif get_origin(base) is Literal:
        kind = {"string"}
    else:
        kind = {names[base]}
    # VS Code shows null as "empty": the server's own default (None, or computed here).
    return kind | {"null"} if leaf.optional or leaf.default is COMPUTED else kind


def test_the_walk_here_is_the_servers() -> None:
    assert list(LEAVES) == _leaf_paths(Settings)


def test_the_extension_contributes_every_setting_and_no_other() -> None:
    contributed = {key for key in PROPERTIES if not key.startswith(CLIENT_ONLY)}
    expected = {editor_key(path) for path in LEAVES}
    assert sorted(expected - contributed) == [], "settings missing from package.json"
    assert sorted(contributed - expected) == [], "package.json lists settings that are gone"


@pytest.mark.parametrize("path", list(LEAVES), ids=setting_name)
def test_the_extensions_schema_of_a_setting_is_the_dataclass(path: tuple[str, ...]) -> None:
    leaf, key = LEAVES[path], editor_key(path)
    spec = PROPERTIES.get(key)
    if spec is None:
        pytest.fail(f"{key} is missing from package.json")
    assert spec.get("description") or spec.get("markdownDescription"), f"{key}: no description"
    declared = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
    assert set(declared) == _json_types(leaf), key
    if "default" in spec:
        if leaf.default is None or leaf.default is COMPUTED:
            assert spec["default"] is None, f"{key}: the server's default is not a value"
        else:
            assert _same(spec["default"], leaf.default), f"{key}: {spec['default']!r}"
    base = leaf.base
    if get_origin(base) is Literal:
        assert spec.get("enum") == list(get_args(base)), key
    if get_origin(base) in (dict, collections.abc.Mapping):
        values = spec.get("additionalProperties", {})
        assert values.get("type") == "array" and values["items"]["type"] == "string", key
    if get_origin(base) is tuple:
        (item,) = get_args(base)[:1]
        items = spec.get("items", {})
        if get_origin(item) is Literal:
            assert items.get("enum") == list(get_args(item)), key
        else:
            assert items.get("type") == {str: "string"}[item], key


@pytest.mark.parametrize("path", list(LEAVES), ids=setting_name)
def test_a_restricted_setting_is_machine_scoped_and_restricted_in_the_extension(
    path: tuple[str, ...],
) -> None:
    """What the trust code leaves out of an untrusted project (restricted_settings), VS
    Code takes from the user's settings only."""
    key, restricted = editor_key(path), path in RESTRICTED
    if key not in PROPERTIES:
        pytest.fail(f"{key} is missing from package.json")
    assert (PROPERTIES[key].get("scope") == "machine") is restricted, key
    assert (key in RESTRICTED_CONFIGURATIONS) is restricted, key
    if not restricted:
        # Per folder: the server pulls the section for each folder of a multi-root workspace.
        assert PROPERTIES[key].get("scope") == "resource", f'{key}: add "scope": "resource"'


def test_the_extensions_own_settings_decide_where_code_runs_so_only_the_user_sets_them() -> None:
    """Which server and interpreter run is the user's choice, never a workspace's."""
    own = [key for key in PROPERTIES if key.startswith(CLIENT_ONLY) and ".trace." not in key]
    assert "fixloop.importStrategy" in own
    for key in own:
        assert PROPERTIES[key].get("scope") == "machine", key
        assert key in RESTRICTED_CONFIGURATIONS, key


@functools.cache
def readme_rows() -> dict[str, tuple[bool, str]]:
    """The README's settings table: setting name → (marked †, default cell)."""
    rows: dict[str, tuple[bool, str]] = {}
    lines = iter((REPO / "README.md").read_text(encoding="utf-8").splitlines())
    for line in lines:
        if line.startswith("| setting | default |"):
            break
    else:
        pytest.fail("README.md has no `| setting | default | … |` table")
    next(lines)  # |---|---|
    for line in lines:
        if not line.startswith("|"):
            break
        setting, default = (cell.strip() for cell in line.strip("|").split("|")[:2])
        name = re.match(r"`([^`]+)`", setting)
        assert name, f"README settings row without a setting name: {line}"
        assert name.group(1) not in rows, f"{name.group(1)} twice in the README"
        rows[name.group(1)] = ("†" in setting, default)
    return rows


def test_the_readme_lists_every_setting_and_no_other() -> None:
    expected = {setting_name(path) for path in LEAVES}
    assert sorted(expected - set(readme_rows())) == [], "settings missing from the README"
    assert sorted(set(readme_rows()) - expected) == [], "the README lists settings that are gone"


@pytest.mark.parametrize("path", list(LEAVES), ids=setting_name)
def test_the_readmes_row_of_a_setting_is_the_dataclass(path: tuple[str, ...]) -> None:
    """A default written as one code span is a TOML value and must be the dataclass's;
    words (`none`, "detected", "one per CPU") only where the server decides."""
    leaf, name = LEAVES[path], setting_name(path)
    if name not in readme_rows():
        pytest.fail(f"{name} is missing from the README's settings table")
    marked, default = readme_rows()[name]
    assert marked is (path in RESTRICTED), f"{name}: † is for the restricted settings"
    literal = re.fullmatch(r"`([^`]+)`", default)
    if literal:
        value = tomllib.loads(f"value = {literal.group(1)}")["value"]
        assert _same(value, leaf.default), f"{name}: the README says {value!r}"
    else:
        assert leaf.default is None or leaf.default is COMPUTED, (
            f"{name}: write the default {_json_value(leaf.default)!r} as a TOML value in backticks"
        )
