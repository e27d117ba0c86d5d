"""The repository's pre-commit hook (`.pre-commit-hooks.yaml`), run by pre-commit itself on
a sample repository, as a user's `.pre-commit-config.yaml` would run it.

pre-commit installs the hook as `language: python` does for every user: `pip install` of
this repository in a fresh environment, with its dependencies (not the `memory` extra:
Chroma is not installed), from pip's cache when it has them, once per test run:
the price of testing what users get rather than a `language: system` shortcut."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.slow
def test_the_hook_fails_on_an_error_and_passes_a_clean_file(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.fail("git is needed to run pre-commit")
    # The hook's source: this repository as committed (pre-commit checks out a revision).
    rev = _git("rev-parse", "HEAD", cwd=REPO)
    sample = tmp_path / "sample"
    sample.mkdir()
    _git("init", "-q", cwd=sample)
    (sample / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO.as_posix()}\n    rev: {rev}\n"
        "    hooks:\n      - id: fixloop-check\n",
        encoding="utf-8",
    )
    (sample / "broken.py").write_text("values = [1, 2\n", encoding="utf-8")
    (sample / "clean.py").write_text("def f(x):\n    return x\n", encoding="utf-8")
    (sample / "risky.py").write_text("import os\nos.system(cmd)\n", encoding="utf-8")
    (sample / "notes.md").write_text("x = (\n", encoding="utf-8")  # not a type it checks
    _git("add", ".", cwd=sample)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}

    def run(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*PRE_COMMIT, "run", "fixloop-check", "--files", *files],
            cwd=sample,
            env=env,
            capture_output=True,
            text=True,
            timeout=1500,
        )

    failed = run("broken.py", "clean.py")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "broken.py:1:10: FL001 [error]" in failed.stdout
    passed = run("clean.py", "risky.py", "notes.md")  # a warning alone passes by default
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "fixloop check" in passed.stdout and "Passed" in passed.stdout
