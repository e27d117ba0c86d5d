"""`fixloop check` as CI runs it: formats, exit codes, .gitignore, awkward files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FIXLOOP = [sys.executable, "-m", "fixloop"]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FIXLOOP, "check", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "ok.py").write_text("def f(x):\n    return x\n", encoding="utf-8")
    (tmp_path / "src" / "broken.py").write_text("é = 1\nvalues = [1, 2\n", encoding="utf-8")
    (tmp_path / "src" / "risky.py").write_text(
        "import yaml\nconf = yaml.load(open('c'))\n", encoding="utf-8"
    )
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "gen.py").write_text("x = (\n", encoding="utf-8")
    (tmp_path / ".gitignore").write_text("build/\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("# not code\n", encoding="utf-8")
    return tmp_path


def test_text_format_lists_findings_and_exits_1_on_error(project: Path) -> None:
    result = _run(".", cwd=project)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "src/broken.py:2:10: FL001 [error] missing `]`: this `[` is never closed" in lines
    assert any(line.startswith("src/risky.py:2:8: FL106 [warning]") for line in lines)
    assert not any("gen.py" in line for line in lines)  # ignored by .gitignore


def test_warnings_alone_exit_0(project: Path) -> None:
    result = _run("src/risky.py", "src/ok.py", cwd=project)
    assert result.returncode == 0, result.stdout


def test_json_format(project: Path) -> None:
    result = _run("src", "--format", "json", cwd=project)
    report = json.loads(result.stdout)
    codes = {(Path(f["path"]).name, f["code"]) for f in report["findings"]}
    assert codes == {("broken.py", "FL001"), ("risky.py", "FL106")}
    [risky] = [f for f in report["findings"] if f["code"] == "FL106"]
    assert risky["line"] == 2 and risky["fix"] == "Use yaml.safe_load"


def test_sarif_is_valid_2_1_0_structure(project: Path) -> None:
    result = _run(".", "--format", "sarif", cwd=project)
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    [run] = log["runs"]
    rule_ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert rule_ids == {"FL001", "FL106"}
    for result_ in run["results"]:
        assert result_["ruleId"] in rule_ids
        assert result_["level"] in {"error", "warning", "note"}
        region = result_["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    [broken] = [r for r in run["results"] if r["ruleId"] == "FL001"]
    assert broken["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "src/broken.py"
    )
    [risky] = [r for r in run["results"] if r["ruleId"] == "FL106"]
    replacement = risky["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["insertedContent"]["text"] == "safe_load"


def test_awkward_files_are_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "bin.py").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin1.py").write_bytes(b"name = 'caf\xe9'\n")
    result = _run(".", "--format", "json", cwd=tmp_path)
    report = json.loads(result.stdout)
    assert {"path": "bin.py", "note": "not analysed: binary file"} in report["notes"]
    [latin] = report["findings"]
    assert latin["code"] == "FL003" and "not valid UTF-8" in latin["message"]


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = _run("nowhere", cwd=tmp_path)
    assert result.returncode == 2
    assert "no such file or folder: nowhere" in result.stderr
