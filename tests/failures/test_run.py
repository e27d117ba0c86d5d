"""Running a file's related tests in the real sandbox, on a copy of the example project."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.failures import run_tests
from fixloop.failures.findings import Placement
from fixloop.sandbox import SandboxPool
from tests.support.examples import copy_of_shop

pytestmark = pytest.mark.slow


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = copy_of_shop(tmp_path)
    return root.resolve()


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool() as pool:
        yield pool


def test_the_bug_line_and_the_open_test_file_get_the_failures(
    pool: SandboxPool, shop: Path
) -> None:
    test_file = shop / "tests" / "test_pricing.py"
    run = run_tests(
        pool,
        shop,
        [shop / "pricing.py"],
        "python -m pytest -q",
        also=[test_file, shop / "checkout.js"],
    )
    assert run.selection.test_files == ("tests/test_pricing.py",)
    assert run.result.summary().startswith("1 passed, 2 failed")
    in_source = run.findings[shop / "pricing.py"]
    assert [(f.line, f.placement) for f in in_source] == [(15, Placement.COVERAGE)] * 2
    assert "assert 0.0 == 0.1" in in_source[0].message
    assert sorted(f.line for f in run.findings[test_file]) == [9, 13]
    # No test names checkout.js: this run is not the truth about it.
    assert shop / "checkout.js" not in run.findings


def test_a_fixed_file_has_no_findings(pool: SandboxPool, shop: Path) -> None:
    source = shop / "pricing.py"
    source.write_text(source.read_text("utf-8").replace("> 10", ">= 10"), encoding="utf-8")
    run = run_tests(pool, shop, [source], "python -m pytest -q")
    assert run.result.passed and run.findings == {source: ()}
