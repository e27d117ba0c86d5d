"""Rule selection, inline suppressions, the nearest settings file and `fixloop rule`, as a
user of `fixloop check` sees them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FIXLOOP = [sys.executable, "-m", "fixloop"]


def _check(*args: str, cwd: Path) -> list[str]:
    result = subprocess.run(
        [*FIXLOOP, "check", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert result.returncode in (0, 1), result.stderr
    return [line for line in result.stdout.splitlines() if ": FL" in line]


def _codes(lines: list[str]) -> list[tuple[str, int, str]]:
    """(file name, line, code) of each finding."""
    found = []
    for line in lines:
        where, code = line.split(": ")[0], line.split(": ")[1].split()[0]
        path, number, _ = where.rsplit(":", 2)
        found.append((Path(path).name, int(number), code))
    return found


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


RISKY = """import os, subprocess
os.system(cmd)  # fixloop: ignore[FL103]
subprocess.run(c, shell=True)  # fixloop: ignore[FL103, FL1O3]
x = 1  # fixloop: ignore
note = "# fixloop: ignore"; eval(y)
os.popen(cmd)  # fixloop: ignore
"""


def test_suppressions_used_unused_and_unknown(tmp_path: Path) -> None:
    _write(tmp_path / "risky.py", RISKY)
    lines = _check("risky.py", cwd=tmp_path)
    assert _codes(lines) == [
        ("risky.py", 3, "FL102"),  # FL103 does not silence FL102
        ("risky.py", 3, "FL006"),  # … and silences nothing
        ("risky.py", 3, "FL007"),  # FL1O3 (a letter O) is no code
        ("risky.py", 4, "FL006"),  # a bare one with nothing to silence
        ("risky.py", 5, "FL101"),  # the directive is in a string: not a suppression
    ]
    assert "unknown rule code in suppression: FL1O3" in lines[2]
    assert "unused suppression: no FL103 on this line" in lines[1]


def test_javascript_suppressions(tmp_path: Path) -> None:
    _write(
        tmp_path / "page.js",
        "eval(a); // fixloop: ignore[FL201]\neval(b);\n"
        "const s = `// fixloop: ignore`; eval(c);\nel.innerHTML = s; /* x */ // fixloop: ignore\n",
    )
    assert _codes(_check("page.js", cwd=tmp_path)) == [
        ("page.js", 2, "FL201"),
        ("page.js", 3, "FL201"),
    ]


def test_a_multi_line_string_is_silenced_where_it_ends(tmp_path: Path) -> None:
    key = (
        "-----BEGIN RSA PRIVATE KEY-----\n"
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVT\n"
        "-----END RSA PRIVATE KEY-----"
    )
    _write(tmp_path / "k.py", f'KEY = """{key}"""  # fixloop: ignore[FL302]\n')
    assert _codes(_check("k.py", cwd=tmp_path)) == []


def test_select_ignore_and_per_file_ignores(tmp_path: Path) -> None:
    _write(
        tmp_path / "pyproject.toml",
        """[tool.fixloop]
select = ["FL1"]
ignore = ["FL10"]
extend-ignore = ["FL106"]

[tool.fixloop.diagnostics]
select = ["FL1", "FL103"]
ignore = ["FL10"]
per-file-ignores = { "tests/**" = ["FL103"], "legacy_*.py" = ["FL1"] }
""",
    )
    body = "import os, yaml\nos.system(c)\neval(x)\nyaml.load(s)\nx = (\n"
    _write(tmp_path / "app.py", body)
    _write(tmp_path / "tests" / "test_app.py", body)
    _write(tmp_path / "sub" / "legacy_io.py", body)
    found = _codes(_check(".", cwd=tmp_path))
    # FL103 is selected more specifically than FL10 is ignored; FL101 is not; FL106 is
    # ignored (extend-ignore); FL001 is not selected.
    assert found == [("app.py", 2, "FL103")]


def test_the_nearest_settings_file_wins_from_a_nested_folder(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", '[tool.fixloop]\nignore = ["FL103"]\n')
    _write(tmp_path / "web" / "fixloop.toml", 'ignore = ["FL201"]\n')  # a JS-only project
    _write(tmp_path / "web" / "src" / "deep" / "a.js", "eval(a);\n")
    _write(tmp_path / "web" / "src" / "deep" / "a.py", "import os\nos.system(c)\n")
    # A pyproject.toml without [tool.fixloop] does not stop the walk.
    _write(tmp_path / "lib" / "pyproject.toml", '[project]\nname = "lib"\n')
    _write(tmp_path / "lib" / "b.py", "import os\nos.system(c)\neval(x)\n")
    inner = tmp_path / "web" / "src"
    # From the nested folder, and from the top: each file takes its nearest settings.
    assert _codes(_check("deep", cwd=inner)) == [("a.py", 2, "FL103")]
    assert _codes(_check(".", cwd=tmp_path)) == [("b.py", 3, "FL101"), ("a.py", 2, "FL103")]


def test_a_typo_in_the_selection_is_said(tmp_path: Path) -> None:
    _write(tmp_path / "fixloop.toml", 'ignore = ["FL9"]\n')
    _write(tmp_path / "a.py", "x = 1\n")
    result = subprocess.run(
        [*FIXLOOP, "check", "."], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert "`FL9` in the rule selection matches no rule" in result.stderr


def test_rule_explains_a_rule_and_lists_them_all() -> None:
    one = subprocess.run([*FIXLOOP, "rule", "fl102"], capture_output=True, text=True, timeout=60)
    assert one.returncode == 0
    text = one.stdout
    assert text.startswith("FL102 subprocess-shell (safety, warning; Python)")
    for part in ("What:", "Why:", "Example:", "shell=True", "# fixloop: ignore[FL102]"):
        assert part in text
    every = subprocess.run([*FIXLOOP, "rule", "--all"], capture_output=True, text=True, timeout=60)
    codes = [line.split()[0] for line in every.stdout.splitlines()]
    assert codes[:2] == ["FL001", "FL002"] and "FL304" in codes and "FL006" in codes
    missing = subprocess.run(
        [*FIXLOOP, "rule", "FL999"], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2 and "no rule FL999" in missing.stderr
