"""How the command line speaks: `-q` leaves the result alone, `-v` says what fixloop does,
and the diff is coloured on a terminal (or with `--color always`), never with NO_COLOR."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixloop.cli import build_parser, output

DIFF = "--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n"
GREEN, RED, RESET = "\033[32m", "\033[31m", "\033[0m"
UNSAFE = "import yaml\n\n\ndef load(text):\n    return yaml.load(text)\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _configured(monkeypatch: pytest.MonkeyPatch, *argv: str) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    output.configure(build_parser().parse_args([*argv, "check", "x.py"]))


def test_the_diff_is_coloured_on_a_terminal_and_plain_in_a_pipe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _configured(monkeypatch)
    coloured = output.diff_text(DIFF, _Terminal())
    assert f"{GREEN}+    return 2{RESET}\n" in coloured
    assert f"{RED}-    return 1{RESET}\n" in coloured
    assert "\033[1m+++ b/calc.py" in coloured and "\033[36m@@ -1,2 +1,2 @@" in coloured
    assert " def f():\n" in coloured  # context lines as they are
    assert output.diff_text(DIFF, io.StringIO()) == DIFF  # a pipe, a file


def test_no_color_and_the_option_decide_over_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    _configured(monkeypatch)
    monkeypatch.setenv("NO_COLOR", "1")
    assert output.diff_text(DIFF, _Terminal()) == DIFF
    _configured(monkeypatch, "--color", "always")
    assert GREEN in output.diff_text(DIFF, io.StringIO())
    _configured(monkeypatch, "--color", "never")
    assert output.diff_text(DIFF, _Terminal()) == DIFF
    _configured(monkeypatch)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert GREEN in output.diff_text(DIFF, io.StringIO())


def test_the_options_go_before_or_after_the_command() -> None:
    parser = build_parser()
    before = parser.parse_args(["-q", "--color", "always", "check", "x.py"])
    after = parser.parse_args(["check", "-q", "--color", "always", "x.py"])
    neither = parser.parse_args(["check", "x.py"])
    assert (before.quiet, before.color) == (after.quiet, after.color) == (True, "always")
    assert (neither.quiet, neither.color, neither.verbose) == (False, "auto", 0)
    assert parser.parse_args(["fix", "-vv", "x.py"]).verbose == 2


def _fixloop(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "NO_COLOR": ""}
    return subprocess.run(
        [sys.executable, "-m", "fixloop", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def test_check_quiet_prints_the_findings_without_the_summary(tmp_path: Path) -> None:
    (tmp_path / "loader.py").write_text(UNSAFE, encoding="utf-8")
    loud = _fixloop("check", "loader.py", cwd=tmp_path)
    quiet = _fixloop("check", "-q", "loader.py", cwd=tmp_path)
    assert loud.stdout.splitlines()[-1] == "1 finding in 1 files"
    assert quiet.stdout.splitlines() == loud.stdout.splitlines()[:-1]
    assert "FL106" in quiet.stdout
    assert (quiet.returncode, loud.returncode) == (0, 0)  # a warning: below --fail-on error


BAR = [
    f"fixloop: preparing the sandbox: installing 9 packages [{'#' * n}{'-' * (4 - n)}] {n}/4"
    for n in range(1, 5)
]


def test_the_sandbox_preparation_bar_moves_in_place_and_is_one_line_in_a_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """itsdangerous: `fixloop fix` in a log printed 24 bar lines, one per step."""
    _configured(monkeypatch)
    for stream, steps in ((io.StringIO(), 1), (_Terminal(), 4)):
        monkeypatch.setattr(sys, "stderr", stream)
        for line in ["fixloop: preparing the sandbox: downloading 8 packages", *BAR]:
            output.preparing(line)
        text = stream.getvalue()
        assert text.count("installing") == steps and text.count("downloading") == 1
        assert text.endswith(f"{BAR[-1]}\n") and text.count("\n") == 2
