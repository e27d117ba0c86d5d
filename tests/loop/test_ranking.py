"""The reviewer's ranking of passing candidates: each merit, how they add up, and the line
that tells the user why."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fixloop.loop.model import Candidate, Failure, Location, RepairContext
from fixloop.loop.naturalness import Scorer, build
from fixloop.loop.ranking import (
    Behaviour,
    Merits,
    Tried,
    introduced_names,
    mismatched_kinds,
    rank_key,
    ranked,
    suspicion,
    why,
)
from fixloop.sandbox.results import CandidateResult

SOURCE = """\
def grade(score):
    if score >= 90:
        return "A"
    if score >= 80:
        return "B"
    if score > 70:
        return "C"
    return "F"
"""
RIGHT = SOURCE.replace("if score > 70", "if score >= 70")
ODD_NAME = SOURCE.replace("if score > 70", "if points > 70")
ODD_KIND = SOURCE.replace("if score > 70", 'if score > "70"')
ELSEWHERE = SOURCE.replace('return "F"', 'return "C"')


def _context(frames: tuple[tuple[str, int], ...] = ()) -> RepairContext:
    return RepairContext(
        project_root=Path("."),
        sources={"grade.py": SOURCE},
        failures=(Failure("test_grade.py::test_seventy", "assert 'F' == 'C'", frames),),
        locations=(
            Location("grade.py", 6, 0.9),
            Location("grade.py", 7, 0.9),
            Location("grade.py", 8, 0.45),
        ),
    )


def _tried(text: str, order: int, agreement: int = 1) -> Tried:
    candidate = Candidate({"grade.py": text}, f"candidate {order}", "offline", edit_size=1)
    passed = CandidateResult(cases=(), exit_code=0, duration=0.1)
    return Tried(candidate, passed, agreement=agreement, order=order)


def test_suspicion_is_highest_at_a_failing_frame_then_follows_the_locations() -> None:
    assert suspicion(_context(frames=(("grade.py", 8),)), "grade.py", range(8, 9)) == 1.0
    assert suspicion(_context(), "grade.py", range(6, 7)) == 1.0
    assert suspicion(_context(), "grade.py", range(8, 9)) == 0.5
    assert suspicion(_context(), "grade.py", range(2, 3)) == 0.0


def test_a_name_the_function_never_used_is_introduced() -> None:
    assert introduced_names(SOURCE, ODD_NAME, range(6, 7)) == ["points"]
    assert introduced_names(SOURCE, RIGHT, range(6, 7)) == []
    # Builtins and the module's own names are no strangers.
    module = "LIMIT = 3\n" + SOURCE
    edited = module.replace("if score > 70", "if len(str(score)) > LIMIT")
    assert introduced_names(module, edited, range(7, 8)) == []


def test_values_of_different_kinds_compared_are_a_mismatch() -> None:
    # `score` is compared with numbers everywhere else in the function.
    assert mismatched_kinds(SOURCE, ODD_KIND, range(6, 7)) == 1
    assert mismatched_kinds(SOURCE, RIGHT, range(6, 7)) == 0
    typed = "def f(name: str, n: int):\n    total = 0\n    return name, total\n"
    edited = typed.replace("return name, total", "return name + 1, total == ''")
    assert mismatched_kinds(typed, edited, range(3, 4)) == 2
    loose = "def f(x):\n    return x\n"
    assert mismatched_kinds(loose, loose.replace("return x", "return x == None"), range(2, 3)) == 0


def test_the_score_adds_up_each_merit() -> None:
    plain = Merits()
    assert Merits(at_failure=1.0).score > plain.score
    assert Merits(new_names=("points",)).score < plain.score
    assert Merits(mismatches=1).score < plain.score
    assert Merits(agreement=3).score > Merits(agreement=2).score > plain.score
    assert Merits(natural=-1.0).score > plain.score > Merits(natural=1.0).score
    # Half a bit per token and less is noise: the smaller edit decides then.
    assert Merits(natural=-0.2).score == Merits(natural=0.2).score
    assert Merits(behaviour=Behaviour(9, 10)).score > Merits(behaviour=Behaviour(2, 10)).score
    # Behaviour on generated inputs outweighs the static merits.
    assert (
        Merits(behaviour=Behaviour(5, 5)).score
        > Merits(at_failure=1.0, natural=-2.0, agreement=2, behaviour=Behaviour(0, 5)).score
    )


def test_a_reviewer_prefers_the_edit_at_the_failure_with_known_names() -> None:
    scorer = Scorer(build([SOURCE]))
    # The generators' order puts the odd ones first; agreement alone would pick the first.
    order = ranked(
        [_tried(ODD_NAME, 1), _tried(ODD_KIND, 2), _tried(ELSEWHERE, 3), _tried(RIGHT, 4)],
        _context(),
        scorer,
    )
    assert order[0].candidate.changes["grade.py"] == RIGHT
    assert [rank_key(t) for t in order] == sorted(rank_key(t) for t in order)
    reason = why(order[0], order[1:])
    assert reason.startswith("chosen over 3 other passing patches: ")
    assert "brings in no name new to the function" in reason
    assert "keeps the kinds of values consistent" in reason


def test_generated_inputs_decide_between_patches_that_look_alike() -> None:
    def compare(contenders: Sequence[Tried]) -> list[Behaviour | None]:
        # The right fix agrees with the original wherever the two patches differ.
        return [
            Behaviour(5, 5) if t.candidate.changes["grade.py"] == RIGHT else Behaviour(0, 5)
            for t in contenders
        ]

    order = ranked([_tried(ELSEWHERE, 1, agreement=2), _tried(RIGHT, 2)], _context(), None, compare)
    assert order[0].candidate.changes["grade.py"] == RIGHT
    reason = why(order[0], order[1:])
    assert "agrees with the original code on 5/5 generated inputs" in reason
    assert "(the others: at most 0)" in reason


def test_the_reason_for_a_lone_candidate_and_for_one_behind_a_broken_one() -> None:
    alone = ranked([_tried(RIGHT, 1)], _context(), None)
    assert why(alone[0], []) == "the only candidate that passed the failing tests"
    pair = ranked([_tried(RIGHT, 1), _tried(RIGHT.replace(">= 70", ">= 70 "), 2)], _context(), None)
    assert why(pair[1], pair[:1], broke=1).endswith(
        "(1 more passed the failing tests but broke others)"
    )
    assert why(alone[0], [], broke=2) == (
        "the only candidate that passed the whole suite "
        "(2 more passed the failing tests but broke others)"
    )
    remembered = _tried(RIGHT, 1)
    remembered.candidate = Candidate(remembered.candidate.changes, "memory's", "memory")
    assert why(remembered, []).startswith("remembered from a fix of the same kind")


def test_without_a_deciding_merit_the_reason_is_the_size_or_the_generators_order() -> None:
    small, large = _tried(RIGHT, 1), _tried(RIGHT.replace(">= 70", ">= 70 "), 2)
    large.candidate = Candidate(large.candidate.changes, "larger", "offline", edit_size=5)
    order = ranked([large, small], _context(), None)
    assert order[0] is not large
    assert why(order[0], order[1:]).endswith("smallest edit")
    twin = _tried(RIGHT.replace(">= 70", ">= 70 "), 2)
    order = ranked([twin, _tried(RIGHT, 1)], _context(), None)
    assert why(order[0], order[1:]).endswith("the generators' first choice")


def test_a_function_that_now_returns_a_kind_it_never_returned_is_a_mismatch() -> None:
    balanced = (
        "def balanced(text):\n    stack = []\n    for ch in text:\n"
        "        if ch == ')' and not stack:\n            return False\n"
        "        stack.append(ch)\n    return True\n"
    )
    deleted = balanced.replace("    return True\n", "")  # falls off its end: None
    assert mismatched_kinds(balanced, deleted, range(6, 7)) == 1  # the lines around it
    assert (
        mismatched_kinds(balanced, balanced.replace("return True", "return not stack"), range(7, 8))
        == 0
    )
    assert (
        mismatched_kinds(balanced, balanced.replace("return True", "return False"), range(7, 8))
        == 0
    )


POP = """\
def pop(items, index, seen):
    if not items:
        raise KeyError("empty")
    elem = items[index]
    del items[index]
    seen.discard(index)
    return elem
"""
POP_FIXED = POP.replace("seen.discard(index)", "seen.discard(elem)")
POP_DELETED = POP.replace("    seen.discard(index)\n", "")
POP_DEAD = POP.replace(
    "    seen.discard(index)\n    return elem\n", "    return elem\n    seen.discard(index)\n"
)


def _pop_context() -> RepairContext:
    return RepairContext(
        project_root=Path("."),
        sources={"grade.py": POP},
        failures=(Failure("test_pop.py::test_pop", "assert 2 not in seen", ()),),
        locations=(Location("grade.py", 6, 0.9), Location("grade.py", 7, 0.5)),
    )


def test_a_patch_that_takes_code_out_loses_to_one_that_changes_it() -> None:
    # Weak tests let a patch pass by deleting the faulty statement, or by moving it below
    # the `return`; ranked first by the generators, it is still not what a reviewer takes.
    for taken_out in (POP_DELETED, POP_DEAD):
        order = ranked([_tried(taken_out, 1), _tried(POP_FIXED, 2)], _pop_context(), None)
        assert order[0].candidate.changes["grade.py"] == POP_FIXED
        reason = why(order[0], order[1:])
        assert reason == "chosen over 1 other passing patch: takes out no code the function ran"


def test_a_weak_signal_does_not_override_the_generators_first_choice() -> None:
    # The first choice edits line 7, a little less suspicious than line 6 (a near-tie of
    # the spectrum): not enough to offer the other patch instead.
    near = RepairContext(
        project_root=Path("."),
        sources={"grade.py": SOURCE},
        failures=(Failure("test_grade.py::test_seventy", "assert 'F' == 'C'", ()),),
        locations=(Location("grade.py", 6, 0.9), Location("grade.py", 7, 0.7)),
    )
    first = SOURCE.replace('        return "C"', '        return "C" if score else "F"')
    order = ranked([_tried(first, 1), _tried(RIGHT, 2)], near, None)
    assert order[0].candidate.changes["grade.py"] == first
    assert why(order[0], order[1:]) == (
        "chosen over 1 other passing patch: the generators' first choice: "
        "no other passing patch is clearly better"
    )
    # A clear difference still decides: a name new to the function.
    order = ranked([_tried(ODD_NAME, 1), _tried(RIGHT, 2)], near, None)
    assert order[0].candidate.changes["grade.py"] == RIGHT


def test_naturalness_counts_above_the_most_natural_patch_in_whole_steps() -> None:
    # 0.23 and 0.38 bits per token are on either side of a rounding boundary, yet a
    # sixth of a bit apart: no difference. Half a bit more than the best is one.
    near = Merits(natural=0.38, natural_gap=0.15)
    assert near.score == Merits(natural=0.23, natural_gap=0.0).score
    assert Merits(natural=0.9, natural_gap=0.67).score < near.score
