"""The held-out corpus's manifest (benchmarks/heldout/bugs.json) is well formed and agrees
with its README, and the benchmark reads fixloop's answers right: the offered patch
applied to the buggy file, and a candidate's description rebuilt into the file it makes."""

from __future__ import annotations

import difflib
import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "benchmarks" / "heldout"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_heldout", ROOT / "benchmarks" / "bench_heldout.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _bench()
SDISTS, BUGS = bench.load_manifest()
FIELDS = {"id", "project", "file", "line", "original", "buggy", "kind", "test"}


def test_enough_bugs_in_enough_projects() -> None:
    assert len(BUGS) >= 40
    assert len({bug["project"] for bug in BUGS}) >= 5
    assert len({bug["id"] for bug in BUGS}) == len(BUGS)


def test_every_project_is_a_pinned_sdist() -> None:
    for name, sdist in SDISTS.items():
        assert re.fullmatch(r"[0-9a-f]{64}", sdist.sha256), name
        assert re.fullmatch(r"\d+(\.\d+)+", sdist.version), name


def test_every_bug_is_one_changed_line_with_a_test_module() -> None:
    for bug in BUGS:
        assert set(bug) == FIELDS, bug["id"]
        assert bug["project"] in SDISTS, bug["id"]
        assert isinstance(bug["line"], int) and bug["line"] >= 1, bug["id"]
        original, buggy = bug["original"], bug["buggy"]
        assert "\n" not in original and "\n" not in buggy, bug["id"]
        assert original != buggy, bug["id"]
        indent = original[: len(original) - len(original.lstrip())]
        assert buggy.startswith(indent) and not buggy[len(indent)].isspace(), bug["id"]
        assert re.fullmatch(r"python -m pytest -q( \S+\.py)+", bug["test"]), bug["id"]


def test_the_readme_counts_the_kinds() -> None:
    table = re.findall(r"^\| `(\w+)` \| .* \| (\d+) \|$", (HELDOUT / "README.md").read_text(), re.M)
    assert dict(Counter(bug["kind"] for bug in BUGS)) == {k: int(n) for k, n in table}


BUGGY = (
    "def f(size, maxsize):\n    if size >= maxsize:\n        raise ValueError\n    return size\n"
)
FIXED = BUGGY.replace(">=", ">")


def _case() -> object:
    return bench.Case("x", "heldout", "p", ROOT, "pkg/f.py", 2, "compare_op", "", BUGGY, FIXED)


def test_the_offered_patch_is_applied_to_the_buggy_file() -> None:
    diff = "".join(
        difflib.unified_diff(
            BUGGY.splitlines(keepends=True),
            FIXED.splitlines(keepends=True),
            "a/pkg/f.py",
            "b/pkg/f.py",
        )
    )
    assert bench.apply_patch(BUGGY, diff, "pkg/f.py") == FIXED
    assert bench.compare(bench.apply_patch(BUGGY, diff, "pkg/f.py"), FIXED) == "identical"
    assert bench.apply_patch(BUGGY, diff.replace("pkg/f.py", "pkg/g.py"), "pkg/f.py") is None


def test_equivalent_is_told_from_identical_and_from_other() -> None:
    assert bench.compare(FIXED.replace("size > maxsize", "(size > maxsize)"), FIXED) == (
        "equivalent"
    )
    assert bench.compare(FIXED.replace("size > maxsize", "size < maxsize"), FIXED) == "other"


def test_a_candidate_description_is_rebuilt_into_its_file() -> None:
    case = _case()
    fix = "`size > maxsize` instead of `size >= maxsize` in pkg/f.py:2"
    other = "`size != maxsize` instead of `size >= maxsize` in pkg/f.py:2"
    elsewhere = "`size + 1` instead of `size` in pkg/f.py:4"
    cut = "`a_very_long_expression_that_the_engine_cuts_short...` instead of `x` in pkg/f.py:2"
    assert bench.described_is_fix(fix, case) == "fix"
    assert bench.described_is_fix(other, case) == "other"
    assert bench.described_is_fix(elsewhere, case) == "other"
    assert bench.described_is_fix(cut, case) == "?"
    assert bench.described_is_fix("deleted line 3 in pkg/f.py:3", case) == "?"
