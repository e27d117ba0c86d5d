"""Where the restricted settings may come from: the user's places always, a project's own
files only once `fixloop trust` (or the editor's workspace trust) says so, and again after
a change only when trusted again. Every restricted setting is planted, from the declared
list: a setting declared later is covered here without a new test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixloop.config import load_project, load_settings, restricted_settings, setting_name
from fixloop.trust import Trust, TrustStore, digest_of
from tests.security.hostile import (
    Listener,
    hostile_values,
    plant,
    restricted_defaults,
    restricted_values,
    toml_of,
)

REPO = Path(__file__).resolve().parents[2]
NAMES = [setting_name(path) for path in restricted_settings()]
# An address that is never contacted: these tests only load settings.
NOWHERE = Listener(port=9)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The user's environment: a data folder (trust records) and a config folder of its own."""
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.fixloop]\ntest-command = "pytest -q"\n')
    return root


def _plant_one(root: Path, name: str) -> Any:
    value = hostile_values(NOWHERE, "CANARY_VARIABLE")[name]
    with (root / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write("\n" + toml_of({name: value}, "tool.fixloop"))
    return value


def test_the_declared_list_holds_every_setting_of_the_kinds_the_issue_names() -> None:
    for name in (
        "llm.base-url",
        "llm.model",
        "llm.api-key-env",
        "llm.fallback-models",
        "memory.url",
        "memory.embedding",
        "memory.path",
        "sandbox.docker-host",
        "sandbox.image",
        "sandbox.tag",
        "sandbox.memory",
        "sandbox.pids",
        "sandbox.candidate-pids",
    ):
        assert name in NAMES
    for free in ("tests.command", "engine", "diagnostics.groups", "sandbox.timeout-seconds"):
        assert free not in NAMES  # a project's own business


@pytest.mark.parametrize("name", NAMES)
def test_a_restricted_setting_planted_in_an_untrusted_project_is_ignored_and_named(
    project: Path, env: dict[str, str], name: str
) -> None:
    _plant_one(project, name)
    loaded = load_project(project, environ=env)
    assert loaded.trust is Trust.UNTRUSTED
    assert restricted_values(loaded.settings)[name] == restricted_defaults()[name]
    assert loaded.ignored == (name,)
    [said] = [p for p in loaded.settings.problems if "not trusted" in p]
    assert f"`{name}`" in said and f"fixloop trust {project}" in said
    assert loaded.settings.tests.command == "pytest -q"  # the rest of the file is used


@pytest.mark.parametrize("name", NAMES)
def test_once_trusted_the_project_sets_it_and_a_change_asks_again(
    project: Path, env: dict[str, str], name: str
) -> None:
    value = _plant_one(project, name)
    found = load_project(project, environ=env).restricted
    TrustStore.default(env).trust(project, digest_of(found), tuple(found))
    trusted = load_project(project, environ=env)
    assert trusted.trust is Trust.TRUSTED and trusted.ignored == ()
    got = restricted_values(trusted.settings)[name]
    assert got == (tuple(value) if isinstance(value, list) else value)
    with (project / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write('\n[tool.fixloop.tests]\nrun = "onSave"\n')  # not restricted
    assert load_project(project, environ=env).trust is Trust.TRUSTED
    _replant(project, name, value)
    again = load_project(project, environ=env)
    assert again.trust is Trust.CHANGED
    assert restricted_values(again.settings)[name] == restricted_defaults()[name]
    assert any("changed since you trusted it" in p for p in again.settings.problems)


def _replant(root: Path, name: str, old: Any) -> None:
    """Change the planted value (as a later commit of the repository would)."""
    new: Any
    if isinstance(old, str):
        new = old + "-changed"
    elif isinstance(old, list):
        new = [*old, "more"]
    else:
        new = old + 1
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    text = text.replace(toml_of({name: old}, "tool.fixloop"), toml_of({name: new}, "tool.fixloop"))
    (root / "pyproject.toml").write_text(text, encoding="utf-8")
    assert load_project(root, environ={}, trusted=True).restricted[name] == new


def test_fixloop_toml_is_a_project_file_too(project: Path, env: dict[str, str]) -> None:
    (project / "fixloop.toml").write_text(toml_of({"llm.base-url": "http://x/v1"}, ""))
    loaded = load_project(project, environ=env)
    assert loaded.settings.llm.base_url is None and loaded.ignored == ("llm.base-url",)
    assert load_project(project, environ=env, trusted=True).settings.llm.base_url == "http://x/v1"


def test_the_users_config_file_and_environment_always_count(
    project: Path, env: dict[str, str]
) -> None:
    plant(project, NOWHERE, "CANARY_VARIABLE")
    user_file = Path(env["XDG_CONFIG_HOME"]) / "fixloop" / "config.toml"
    user_file.parent.mkdir(parents=True)
    user_file.write_text('[llm]\nbase-url = "http://localhost:11434/v1"\nmodel = "mine"\n')
    settings = load_settings(project, environ={**env, "FIXLOOP_SANDBOX_IMAGE": "my-image"})
    assert settings.llm.base_url == "http://localhost:11434/v1" and settings.llm.model == "mine"
    assert settings.sandbox.image == "my-image"
    assert settings.llm.api_key_env == "OPENAI_API_KEY"  # the project's CANARY_VARIABLE: no
    assert settings.engine == "llm"  # not restricted: the project's own choice


def test_without_xdg_config_home_the_user_file_is_under_home(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".config" / "fixloop").mkdir(parents=True)
    (home / ".config" / "fixloop" / "config.toml").write_text('engine = "offline"\n')
    assert load_settings(project, environ={"HOME": str(home)}).engine == "offline"


def test_a_broken_user_config_file_is_reported_and_defaults_kept(
    project: Path, env: dict[str, str]
) -> None:
    user_file = Path(env["XDG_CONFIG_HOME"]) / "fixloop" / "config.toml"
    user_file.parent.mkdir(parents=True)
    user_file.write_text("[llm\nmodel =")
    settings = load_settings(project, environ=env)
    assert settings.llm.model is None
    assert any(str(user_file) in p for p in settings.problems)


def test_editor_values_count_as_the_users_only_when_the_editor_says_so(
    project: Path, env: dict[str, str]
) -> None:
    editor = {"llm": {"baseUrl": "http://attacker/v1"}, "testCommand": "make test"}
    vouched = load_settings(project, environ=env, editor=editor, editor_is_users=True)
    assert vouched.llm.base_url == "http://attacker/v1"  # the user's own value
    unknown = load_project(project, environ=env, editor=editor, editor_is_users=False)
    assert unknown.settings.llm.base_url is None and unknown.ignored == ("llm.base-url (editor)",)
    assert unknown.settings.tests.command == "make test"
    [said] = unknown.settings.problems
    assert "`llm.base-url`" in said and "config.toml" in said
    # `fixloop trust` binds the project's files, not what such an editor sends.
    TrustStore.default(env).trust(project, digest_of({}), ())
    store_trusted = load_project(project, environ=env, editor=editor, editor_is_users=False)
    assert store_trusted.trust is Trust.TRUSTED and store_trusted.settings.llm.base_url is None
    workspace = load_settings(
        project, environ=env, editor=editor, editor_is_users=False, trusted=True
    )
    assert workspace.llm.base_url == "http://attacker/v1"  # a trusted workspace's own


def test_the_editors_workspace_trust_decides_when_it_is_given(
    project: Path, env: dict[str, str]
) -> None:
    plant(project, NOWHERE, "CANARY_VARIABLE")
    refused = load_project(project, environ=env, trusted=False)
    assert refused.trust is Trust.UNTRUSTED and set(refused.ignored) == set(NAMES)
    assert any("trust the workspace" in p for p in refused.settings.problems)
    granted = load_project(project, environ=env, trusted=True)
    assert granted.settings.llm.api_key_env == "CANARY_VARIABLE"


def _trust_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixloop", "trust", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_fixloop_trust_shows_what_it_trusts_lists_and_revokes(
    project: Path, env: dict[str, str]
) -> None:
    (project / "pkg").mkdir()
    (project / "fixloop.toml").write_text(toml_of({"llm.base-url": "http://team-model/v1"}, ""))
    trusted = _trust_cli(cwd=project / "pkg", env=env)  # from inside: the project is found
    assert trusted.returncode == 0, trusted.stderr
    assert f"{project}: trusted" in trusted.stdout
    assert "llm.base-url = 'http://team-model/v1'" in trusted.stdout
    assert load_settings(project, environ=env).llm.base_url == "http://team-model/v1"
    listed = _trust_cli("--list", cwd=project, env=env)
    assert f"{project}\ttrusted" in listed.stdout and "llm.base-url" in listed.stdout
    (project / "fixloop.toml").write_text(toml_of({"llm.base-url": "http://other/v1"}, ""))
    assert "settings changed since" in _trust_cli("--list", cwd=project, env=env).stdout
    assert load_settings(project, environ=env).llm.base_url is None
    revoked = _trust_cli("--revoke", str(project), cwd=REPO, env=env)
    assert revoked.returncode == 0 and "no longer trusted" in revoked.stdout
    assert "no trusted projects" in _trust_cli("--list", cwd=project, env=env).stdout


def test_fixloop_trust_of_a_missing_folder_is_a_usage_error(
    tmp_path: Path, env: dict[str, str]
) -> None:
    result = _trust_cli(str(tmp_path / "nowhere"), cwd=tmp_path, env=env)
    assert result.returncode == 2 and "is not a folder" in result.stderr


def test_an_unreadable_trust_store_trusts_nothing(project: Path, env: dict[str, str]) -> None:
    _plant_one(project, "llm.base-url")
    store = TrustStore.default(env)
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{not json")
    assert load_project(project, environ=env).trust is Trust.UNTRUSTED


def test_the_extension_declares_the_same_restricted_settings() -> None:
    """VS Code's Restricted Mode list and machine scope, from the same declaration."""
    package = json.loads((REPO / "vscode-client" / "package.json").read_text(encoding="utf-8"))
    declared = package["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"]

    def camel(name: str) -> str:
        head, *rest = name.replace("-", "_").split("_")
        return head + "".join(part.title() for part in rest)

    expected = {"fixloop." + ".".join(camel(p) for p in path) for path in restricted_settings()}
    # The extension's own: which server and interpreter run.
    server_only = {"fixloop.server.command", "fixloop.server.python", "fixloop.importStrategy"}
    assert set(declared) == expected | server_only
    properties = package["contributes"]["configuration"]["properties"]
    machine = {key for key, spec in properties.items() if spec.get("scope") == "machine"}
    assert machine == set(declared)
