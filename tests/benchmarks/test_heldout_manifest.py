"""The held-out corpora's manifests (benchmarks/heldout*/bugs.json) are well formed and agree
with their READMEs, and the benchmark reads fixloop's answers right: the offered patch
applied to the buggy file, and a candidate's description rebuilt into the file it makes.
Nothing is downloaded: only the manifests are read."""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


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
FIELDS = {"id", "project", "file", "line", "original", "buggy", "kind", "test"}
CORPORA = sorted(bench.MANIFESTS)
by_corpus = pytest.mark.parametrize("corpus", CORPORA)


def _manifest(corpus: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return bench.load_manifest(bench.MANIFESTS[corpus])  # type: ignore[no-any-return]


def test_every_corpus_is_a_folder_with_its_readme() -> None:
    assert CORPORA == ["heldout", "heldout2", "heldout3", "heldout4"]
    for path in bench.MANIFESTS.values():
        assert path.name == "bugs.json" and (path.parent / "README.md").exists()
        assert set(json.loads(path.read_text())) == {"projects", "bugs"}


@by_corpus
def test_enough_bugs_in_enough_projects(corpus: str) -> None:
    _, bugs = _manifest(corpus)
    assert len(bugs) >= 40
    assert len({bug["project"] for bug in bugs}) >= 5
    assert len({bug["id"] for bug in bugs}) == len(bugs)


def test_a_later_corpus_shares_no_project_nor_bug_with_an_earlier_one() -> None:
    seen_projects: set[str] = set()
    seen_ids: set[str] = set()
    for corpus in CORPORA:
        sdists, bugs = _manifest(corpus)
        names = {sdist.name for sdist in sdists.values()}
        assert not names & seen_projects, corpus
        assert not {bug["id"] for bug in bugs} & seen_ids, corpus
        seen_projects |= names
        seen_ids |= {bug["id"] for bug in bugs}


# Projects the third corpus was told to avoid (beyond the other corpora's, tested above): seen
# by the engine's authors or too close to its tuning.
RULED_OUT = {"cachetools", "inflection", "more-itertools", "boltons", "isodate", "sqlparse"}
RULED_OUT |= {"tabulate", "webcolors", "python-dateutil", "pyjwt", "marshmallow", "click"}
RULED_OUT |= {"attrs"}


def test_the_third_corpus_uses_no_project_ruled_out() -> None:
    sdists, _ = _manifest("heldout3")
    assert not {sdist.name.lower() for sdist in sdists.values()} & RULED_OUT


def _real_projects() -> set[str]:
    """The projects bench_real_projects.py runs on, by name and by repository name."""
    spec = importlib.util.spec_from_file_location(
        "bench_real_projects", ROOT / "benchmarks" / "bench_real_projects.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return {n.lower() for p in module.PROJECTS for n in (p.name, p.repo.split("/")[1])}


def test_the_fourth_corpus_uses_no_real_project_nor_one_ruled_out() -> None:
    sdists, _ = _manifest("heldout4")
    names = {sdist.name.lower() for sdist in sdists.values()}
    assert not names & RULED_OUT
    real = _real_projects()
    assert {"dateutil", "pyjwt", "marshmallow", "click", "flask"} <= real
    assert not {name for name in names if any(project in name for project in real)}


@by_corpus
def test_every_project_is_a_pinned_sdist(corpus: str) -> None:
    sdists, bugs = _manifest(corpus)
    assert {bug["project"] for bug in bugs} == set(sdists)
    for name, sdist in sdists.items():
        assert re.fullmatch(r"[0-9a-f]{64}", sdist.sha256), name
        assert re.fullmatch(r"\d+(\.\d+)+", sdist.version), name


@by_corpus
def test_every_bug_is_one_changed_line_with_a_test_module(corpus: str) -> None:
    sdists, bugs = _manifest(corpus)
    for bug in bugs:
        assert set(bug) == FIELDS, bug["id"]
        assert bug["project"] in sdists, bug["id"]
        assert isinstance(bug["line"], int) and bug["line"] >= 1, bug["id"]
        original, buggy = bug["original"], bug["buggy"]
        assert "\n" not in original and "\n" not in buggy, bug["id"]
        assert original != buggy, bug["id"]
        indent = original[: len(original) - len(original.lstrip())]
        assert buggy.startswith(indent) and not buggy[len(indent)].isspace(), bug["id"]
        assert re.fullmatch(r"python -m pytest -q( \S+\.py)+", bug["test"]), bug["id"]


@by_corpus
def test_the_readme_counts_the_kinds(corpus: str) -> None:
    _, bugs = _manifest(corpus)
    readme = (bench.MANIFESTS[corpus].parent / "README.md").read_text()
    table = re.findall(r"^\| `(\w+)` \| .* \| (\d+) \|$", readme, re.M)
    assert dict(Counter(bug["kind"] for bug in bugs)) == {k: int(n) for k, n in table}


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


def test_corpora_run_in_turn_so_a_run_stopped_early_has_figures_for_each() -> None:
    a, b, c = ["a1", "a2", "a3"], ["b1"], ["c1", "c2"]
    assert bench.interleave(a, b, c) == ["a1", "b1", "c1", "a2", "c2", "a3"]
    assert bench.interleave(a) == a
    assert bench.CORPUS_SETS["all"] == ("heldout", "heldout2", "heldout3", "heldout4", "tuning")
