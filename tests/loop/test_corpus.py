"""The seeded-bug corpus: every program fails as written and passes with its known fix;
the offline generator proposes that fix, and how early."""

from __future__ import annotations

import ast
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from fixloop.loop.model import Location
from tests.loop.corpus_support import (
    CORPUS,
    Program,
    exit_codes,
    located,
    programs,
    rank_figures,
    rank_of_fix,
)

PROGRAMS = programs()
# Bugs no template reaches, written as a person would write them (see bug.json kinds):
# none since the broader templates (parenthesize, wrong_literal, add_arg, raise_guard).
OUT_OF_REACH: set[str] = set()


def test_corpus_shape() -> None:
    assert len(PROGRAMS) >= 40
    for program in PROGRAMS:
        data = json.loads((program.folder / "bug.json").read_text())
        assert set(data) == {"file", "line", "kind", "fixed_line"}
        lines = program.buggy.splitlines()
        assert 10 <= len(lines) <= 60, program.name
        assert 1 <= program.line <= len(lines)
        assert program.fixed != program.buggy
        tests = [f for f in program.folder.glob("test_*.py")]
        assert len(tests) == 1, program.name
        count = sum(
            isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
            for node in ast.walk(ast.parse(tests[0].read_text()))
        )
        assert 3 <= count <= 8, program.name
    kinds = Counter(p.kind for p in PROGRAMS)
    assert len(kinds) >= 25
    assert max(kinds.values()) <= 4


@pytest.fixture(scope="module")
def verdicts() -> dict[str, tuple[int, int]]:
    return exit_codes(PROGRAMS, workers=8)


@pytest.mark.slow
@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_fails_as_written_and_passes_when_fixed(
    program: Program, verdicts: dict[str, tuple[int, int]]
) -> None:
    buggy, fixed = verdicts[program.name]
    assert buggy == 1, "some tests fail on the buggy program"
    assert fixed == 0, "all tests pass with the known fix"


def _report(title: str, rows: list[tuple[Program, int | None, str | None]]) -> str:
    lines = [title]
    for program, rank, template in rows:
        lines.append(f"  {program.name:18} {program.kind:15} {rank!s:>6} {template or '-'}")
    lines.append("  " + rank_figures([rank for _, rank, _ in rows]))
    return "\n".join(lines)


@pytest.mark.slow
def test_right_fix_when_the_faulty_line_is_known() -> None:
    rows = []
    for program in PROGRAMS:
        rank, candidate = rank_of_fix(
            program, [Location(program.file, program.line, 1.0)], limit=5000
        )
        rows.append((program, rank, candidate.template if candidate else None))
    print(_report("faulty line given as the top location", rows))
    missed = {p.name for p, rank, _ in rows if rank is None and p.kind not in OUT_OF_REACH}
    assert len(missed) <= 2, missed
    ranks = sorted(rank for _, rank, _ in rows if rank is not None)
    assert ranks[len(ranks) // 2] <= 25


@pytest.mark.slow
def test_right_fix_from_a_real_failing_run() -> None:
    """Locations as the engine gets them: frames of the failing tests, then Ochiai over
    the spectrum plugin's per-test coverage."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        locations = list(pool.map(lambda p: located(p, p.buggy), PROGRAMS))
    rows = []
    for program, where in zip(PROGRAMS, locations, strict=True):
        assert where, f"{program.name}: nothing localized"
        rank, candidate = rank_of_fix(program, where, limit=5000)
        rows.append((program, rank, candidate.template if candidate else None))
    print(_report("locations from frames + Ochiai of a real failing run", rows))
    found = [rank for _, rank, _ in rows if rank is not None]
    assert len(found) >= 0.8 * len(PROGRAMS)
    assert sorted(found)[len(found) // 2] <= 300


def test_corpus_is_excluded_from_ruff() -> None:
    pyproject = (CORPUS.parents[1] / "pyproject.toml").read_text()
    assert '"benchmarks/corpus"' in pyproject
