"""Bytecode kept between runs: the unchanged project's is compiled once a session, and a
candidate never runs the bytecode of the code it replaces."""

from __future__ import annotations

import importlib.util
import marshal
import os
import struct
import time
from pathlib import Path

import pytest

from fixloop.sandbox import CandidateResult, SandboxConfig, SandboxPool

pytestmark = pytest.mark.slow

# Each test module reports, as it is imported, whether its rewritten bytecode was there.
CONFTEST = """\
import glob, os

def pytest_report_header(config):
    found = glob.glob(os.path.join(config.rootpath, "tests", "__pycache__", "test_*-pytest-*.pyc"))
    return f"kept bytecode: {len(found)}"
"""
CALC = "def add(a, b):\n    return a + b\n"
TESTS = "from calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n"


def project(root: Path) -> Path:
    (root / "tests").mkdir()
    (root / "calc.py").write_text(CALC)
    (root / "tests" / "test_calc.py").write_text(TESTS)
    (root / "conftest.py").write_text(CONFTEST)
    return root


@pytest.mark.parametrize("warm", [False, True], ids=["fresh", "warm"])
def test_the_second_run_loads_the_test_modules_the_first_compiled(
    warm: bool, tmp_path: Path
) -> None:
    """One slot: what a run keeps is there for its next run. Fresh: each run a copy of
    the project of its own; warm: the second run of a command is W's (_warm.py)."""
    root = project(tmp_path)
    with SandboxPool(SandboxConfig(parallel=1, pytest_warm_runner=warm)) as one_slot:
        first = one_slot.run(root, {}, "python -m pytest")
        second = one_slot.run(root, {}, "python -m pytest")
    assert first.passed and second.passed
    assert (first.runner, second.runner) == ("fork", "warm" if warm else "fork")
    assert "kept bytecode: 0" in first.output.text
    assert "kept bytecode: 1" in second.output.text
    assert not any((root / "tests").glob("__pycache__")), "the user's tree is never written"


def test_a_candidate_written_in_the_originals_second_runs_its_own_code(
    tmp_path: Path,
) -> None:
    """The original's bytecode is checked by the source's size and whole-second mtime: a
    candidate of the same size, written in the second the original was, must not match."""
    root = project(tmp_path)
    with SandboxPool(SandboxConfig(parallel=1, pytest_warm_runner=False)) as one_slot:
        unchanged, broken = same_second(root, one_slot)
    assert unchanged.passed
    assert not broken.passed, broken.output.text
    assert broken.runner == "fork"


def same_second(root: Path, one_slot: SandboxPool) -> tuple[CandidateResult, CandidateResult]:
    """An unchanged run, then one of a candidate, in the second the original was written."""
    one_slot.run(root, {}, "python -m pytest")  # the container and the copy, made ahead
    for _attempt in range(5):
        time.sleep(1 - time.time() % 1)  # at the start of a second: both runs fit in it
        (root / "calc.py").write_text(CALC)
        written = int(os.stat(root / "calc.py").st_mtime)
        unchanged = one_slot.run(root, {}, "python -m pytest")
        broken = one_slot.run(root, {"calc.py": CALC.replace("+", "-")}, "python -m pytest")
        if int(time.time()) == written:
            return unchanged, broken
    pytest.fail("the runs never fitted in the second the original was written")


def user_bytecode(root: Path, source: str, compiled: str) -> None:
    """`__pycache__` as the user's own Python 3.11 leaves it, of `compiled`'s code but
    checked against `source` (its size and mtime): which code runs tells where it came
    from."""
    stat = (root / source).stat()
    code = compile(compiled, str(root / source), "exec")
    header = importlib.util.MAGIC_NUMBER + struct.pack(
        "<III", 0, int(stat.st_mtime) & 0xFFFFFFFF, stat.st_size & 0xFFFFFFFF
    )
    cache = root / "__pycache__"
    cache.mkdir()
    (cache / "calc.cpython-311.pyc").write_bytes(header + marshal.dumps(code))
    (cache / "notes.txt").write_text("not bytecode: never copied")


def test_the_bytecode_the_users_own_runs_left_is_loaded_in_the_sandbox(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "tests" / "test_calc.py").write_text(
        "import os, calc\n\ndef test_from_bytecode():\n"
        "    assert getattr(calc, 'FROM_BYTECODE', False)\n"
        "    assert not os.path.exists('__pycache__/notes.txt')\n"
    )
    user_bytecode(root, "calc.py", CALC + "FROM_BYTECODE = True\n")
    with SandboxPool(SandboxConfig(parallel=1)) as one_slot:
        unchanged = one_slot.run(root, {}, "python -m pytest")
        changed = one_slot.run(root, {"calc.py": CALC.replace("+", "-")}, "python -m pytest -q")
    assert unchanged.passed, unchanged.output.text
    assert not changed.passed  # a candidate's code is its own, never the user's bytecode
