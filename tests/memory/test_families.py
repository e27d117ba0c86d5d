"""The family corpora of bench_learning.py (benchmarks/families*/<family>/<member>/): the
same kind of bug in different code. Every member fails as written and passes with its
known fix; the members of a family differ in their code, not just in their names.

`families` is what memory's matching was built with; `families_heldout` (worked on) and
`families_sealed` (measured once, at the end) are kinds of bug it was not built for;
`families_fresh` were written after both had been looked at, before memory's next change."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tests.loop.corpus_support import Program, exit_codes

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
FAMILIES = BENCHMARKS / "families"
CORPORA = (
    FAMILIES,
    BENCHMARKS / "families_heldout",
    BENCHMARKS / "families_sealed",
    BENCHMARKS / "families_fresh",
)


def members(corpus: Path) -> list[Program]:
    found = []
    for bug in sorted(corpus.glob("*/*/bug.json")):
        data = json.loads(bug.read_text(encoding="utf-8"))
        found.append(
            Program(
                f"{corpus.name}/{bug.parent.parent.name}/{bug.parent.name}",
                bug.parent,
                data["file"],
                data["line"],
                bug.parent.parent.name,  # the family is the kind of bug
                data["fixed_line"],
            )
        )
    return found


MEMBERS = [member for corpus in CORPORA for member in members(corpus)]


@pytest.mark.parametrize("corpus", CORPORA, ids=lambda c: c.name)
def test_families_shape(corpus: Path) -> None:
    families: dict[str, list[Program]] = {}
    for member in members(corpus):
        families.setdefault(member.kind, []).append(member)
        data = json.loads((member.folder / "bug.json").read_text())
        assert set(data) == {"file", "line", "fixed_line"}, member.name
        assert 1 <= member.line <= len(member.buggy.splitlines()), member.name
        assert member.fixed != member.buggy, member.name
        tests = list(member.folder.glob("test_*.py"))
        assert len(tests) == 1, member.name
        count = sum(
            isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
            for node in ast.walk(ast.parse(tests[0].read_text()))
        )
        assert 2 <= count <= 6, member.name
    assert len(families) >= (6 if corpus == FAMILIES else 2)
    for family, group in families.items():
        assert len(group) >= 4, family
        # Different code: no faulty line is shared within a family, so a remembered fix
        # cannot simply be pasted back in.
        faulty = [m.buggy.splitlines()[m.line - 1].strip() for m in group]
        assert len(set(faulty)) == len(faulty), family


@pytest.fixture(scope="module")
def verdicts() -> dict[str, tuple[int, int]]:
    return exit_codes(MEMBERS, workers=4)


@pytest.mark.slow
@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_fails_as_written_and_passes_when_fixed(
    member: Program, verdicts: dict[str, tuple[int, int]]
) -> None:
    buggy, fixed = verdicts[member.name]
    assert buggy == 1, "some tests fail on the buggy program"
    assert fixed == 0, "all tests pass with the known fix"


def test_families_are_excluded_from_ruff() -> None:
    pyproject = (FAMILIES.parents[1] / "pyproject.toml").read_text()
    for corpus in CORPORA:
        assert f'"benchmarks/{corpus.name}"' in pyproject
