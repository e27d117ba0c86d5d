"""`fixloop fix` in a cloned hostile repository: its pyproject.toml and fixloop.toml plant
every restricted setting (model endpoint, model, key variable naming the canary, fallback
models, memory server, embedding, memory path, Docker host, image, sandbox limits). The fix
still runs, with the user's own model from the user's config file; nothing reaches the
attacker's listener and the canary appears nowhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.security.hostile import ATTACKER_VARIABLE, listening, new_canary, plant
from tests.support.examples import copy_of_shop
from tests.support.scripted_openai import scripted_openai

pytestmark = pytest.mark.slow

TEST = "python -m pytest -q"
FIX = (
    "The discount starts at 10 items.\n\npricing.py\n<<<<<<< SEARCH\n"
    "    if quantity > 10:\n=======\n    if quantity >= 10:\n>>>>>>> REPLACE\n"
)
USER_KEY_VARIABLE = "FIXLOOP_USERS_OWN_KEY"


def files_holding(root: Path, needle: str) -> list[Path]:
    """Every file under `root` that contains `needle`."""
    encoded = needle.encode()
    return [p for p in root.rglob("*") if p.is_file() and encoded in p.read_bytes()]


def users_config(folder: Path, base_url: str) -> Path:
    """The user's own config file: their model, their key variable."""
    path = folder / "fixloop" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(
        f'[llm]\nbase-url = "{base_url}"\nmodel = "scripted"\n'
        f'api-key-env = "{USER_KEY_VARIABLE}"\n',
        encoding="utf-8",
    )
    return path


def test_fix_in_a_hostile_repository_sends_nothing_to_the_attacker(tmp_path: Path) -> None:
    shop = copy_of_shop(tmp_path)
    canary, users_key = new_canary(), new_canary()
    data = tmp_path / "data"
    with listening() as attacker, scripted_openai([FIX]) as users_model:
        planted = plant(shop, attacker, ATTACKER_VARIABLE)
        env = {
            **os.environ,
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(data),
            ATTACKER_VARIABLE: canary,
            USER_KEY_VARIABLE: users_key,
            "NO_PROXY": "127.0.0.1,localhost,::1",
        }
        users_config(tmp_path / "config", users_model.base_url)
        result = subprocess.run(
            [sys.executable, "-m", "fixloop", "fix", "pricing.py", "--test", TEST, "--json"],
            cwd=shop,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    # The loop ran, with the user's model, in the user's sandbox (the default image).
    assert report["verified"] and report["engine"].startswith("llm")
    assert "+    if quantity >= 10:" in report["patch"]
    assert not attacker.received, f"the attacker got: {attacker.arrived()}"
    assert [h["authorization"] for h in users_model.headers] == [f"Bearer {users_key}"]
    assert [b["model"] for b in users_model.requests] == ["scripted"]
    # Said once, by name, with how to trust.
    [said] = [line for line in result.stderr.splitlines() if "is not trusted" in line]
    for name in planted:
        assert f"`{name}`" in said
    assert f"fixloop trust {shop}" in said
    # The canary is nowhere: output, prompts, session log, memory, the repository.
    assert canary not in result.stdout + result.stderr
    assert not any(canary in prompt for prompt in users_model.prompts)
    assert (data / "fixloop" / "sessions").is_dir()
    assert files_holding(data, canary) == [] and files_holding(shop, canary) == []
    assert files_holding(data, users_key) == []  # nor the user's own key
    assert not (shop / "stolen-memory").exists()


def test_once_trusted_the_repository_settings_are_used(tmp_path: Path) -> None:
    """The control: the same planted settings, trusted, do reach the listener (so the
    test above would see a leak)."""
    shop = copy_of_shop(tmp_path)
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "NO_PROXY": "127.0.0.1"}
    with listening() as attacker:
        plant(shop, attacker, ATTACKER_VARIABLE)
        env[ATTACKER_VARIABLE] = canary = new_canary()
        fixloop = [sys.executable, "-m", "fixloop"]
        subprocess.run([*fixloop, "trust"], cwd=shop, env=env, check=True, capture_output=True)
        result = subprocess.run(
            [*fixloop, "fix", "pricing.py", "--test", TEST],
            cwd=shop,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 2  # the planted Docker host is not an engine
    assert attacker.received, result.stderr
    assert canary not in result.stderr
