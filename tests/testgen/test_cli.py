"""`fixloop tests generate`: prints the verified file, or writes it with --write (never
over an existing one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fixloop.cli.tests_cmd import parse_target
from tests.support.examples import copy_of_shop


def fixloop(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixloop", "tests", "generate", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_generate_prints_then_writes_under_a_free_name(tmp_path: Path) -> None:
    root = copy_of_shop(tmp_path)
    printed = fixloop(root, "pricing.py:14", "--engine", "offline")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.startswith('"""Tests for pricing.bulk_discount')
    assert not (root / "tests" / "test_pricing_bulk_discount.py").exists()
    for name in ("test_pricing_total.py", "test_pricing_total_2.py"):
        written = fixloop(root, "pricing.py::total", "--write", "--engine", "offline")
        assert written.returncode == 0, written.stderr
        assert f"in tests/{name}" in written.stdout
        assert "def test_total_case_1" in (root / "tests" / name).read_text(encoding="utf-8")


@pytest.mark.slow
def test_quiet_prints_the_tests_alone(tmp_path: Path) -> None:
    """`-q`: the file on stdout, nothing on stderr (no steps, no summary line)."""
    root = copy_of_shop(tmp_path)
    printed = fixloop(root, "pricing.py:14", "--engine", "offline", "-q")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.startswith('"""Tests for pricing.bulk_discount')
    assert printed.stderr == ""


def test_targets_are_a_line_or_a_function_or_method_name() -> None:
    assert parse_target("a/b.py:12") == (Path("a/b.py"), 12, None)
    assert parse_target("b.py::Cart.add") == (Path("b.py"), None, "Cart.add")
    for bad in ("b.py", "b.py:0", "b.py::1x", "b.py::"):
        with pytest.raises(ValueError):
            parse_target(bad)


def test_a_bad_target_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("x = 1\n", encoding="utf-8")
    assert fixloop(tmp_path, "m.py").returncode == 2
    assert fixloop(tmp_path, "missing.py:1").returncode == 2
    outside = fixloop(tmp_path, "m.py:1")
    assert outside.returncode == 1 and "no function at line 1 in m.py" in outside.stderr
