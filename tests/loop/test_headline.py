"""The verified headline's words: counts of tests failing without the patch too."""

from __future__ import annotations

from fixloop.loop.engine import _unconcerned, tally_line
from fixloop.sandbox.results import CandidateResult, CaseResult, Outcome


def test_one_test_failing_without_the_patch_too_reads_in_the_singular() -> None:
    """attrs: "1 fail without the patch too", "1 tests that fail without it too"."""
    final = CandidateResult(
        (CaseResult("t.py::a", Outcome.PASSED), CaseResult("t.py::b", Outcome.FAILED)), 1, 2.0
    )
    assert tally_line(final, 1) == "1 passed, 1 failed in 2.00 s; 1 fails without the patch too"
    assert tally_line(final, 2).endswith("; 2 fail without the patch too")
    assert _unconcerned(1).startswith("1 test that fails without it too and never runs")
    assert _unconcerned(3).startswith("3 tests that fail without it too and never run")
