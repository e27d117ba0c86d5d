"""The fix session against the real sandbox, with scripted generators: what it verifies,
what it refuses, and how it reports."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fixloop.config import LlmSettings
from fixloop.loop import engine
from fixloop.loop.engine import Budget, FixSession, Progress, Status
from fixloop.loop.llm import LlmGenerator
from fixloop.loop.model import Candidate, RepairContext
from fixloop.sandbox import CommandRefused, SandboxPool
from tests.support.scripted_openai import scripted_openai, unused_port

pytestmark = pytest.mark.slow

BUGGY = (
    "def clamp(x, low, high):\n    if x < low:\n        return low\n"
    "    if x > high:\n        return low\n    return x\n"
)
RIGHT = BUGGY.replace("        return low\n    return x", "        return high\n    return x")
WRONG = BUGGY.replace("if x > high", "if x >= high")
TESTS = """from calc import clamp


def test_inside():
    assert clamp(5, 0, 10) == 5


def test_below():
    assert clamp(-1, 0, 10) == 0


def test_above():
    assert clamp(11, 0, 10) == 10
"""
COMMAND = "python -m pytest -q"


@dataclass
class Scripted:
    """Yields the candidates it is given; records the contexts it saw."""

    texts: list[str]
    path: str = "calc.py"
    name: str = "scripted"
    reflective: bool = False
    contexts: list[RepairContext] = field(default_factory=list)

    def candidates(self, context: RepairContext) -> Iterator[Candidate]:
        self.contexts.append(context)
        while self.texts:
            text = self.texts.pop(0)
            path = self.path if not text.startswith("#test") else "test_calc.py"
            yield Candidate(
                {path: text}, f"candidate {len(self.contexts)}", self.name, edit_size=len(text)
            )


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool() as sandbox:
        yield sandbox


def _project(tmp_path: Path, source: str = BUGGY, tests: str = TESTS) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "calc.py").write_text(source, encoding="utf-8")
    (tmp_path / "test_calc.py").write_text(tests, encoding="utf-8")
    return tmp_path


def _session(root: Path, generator: Scripted, pool: SandboxPool, **kwargs: object) -> FixSession:
    return FixSession(
        root,
        COMMAND,
        [generator],
        pool,
        targets=["calc.py"],
        budget=Budget(max_iterations=3, candidates_per_iteration=2),
        **kwargs,
    )  # type: ignore[arg-type]


def test_the_candidate_that_passes_every_test_is_the_fix(tmp_path: Path, pool: SandboxPool) -> None:
    root = _project(tmp_path)
    result = _session(root, Scripted([WRONG, RIGHT]), pool).run()
    assert result.status is Status.FIXED
    assert "-        return low\n+        return high" in result.diff
    assert result.changes == {"calc.py": RIGHT}
    assert result.final is not None and result.final.passed
    assert (root / "calc.py").read_text(encoding="utf-8") == BUGGY  # never written


def test_a_lone_passing_candidate_is_ranked_without_the_projects_model(
    tmp_path: Path, pool: SandboxPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ranking one candidate has nothing to tell apart: scoring it with the project's
    token model cost 0.15 s of a 4.5 s fix on marshmallow."""
    scorers: list[object] = []

    def ranked(passing: list[Any], context: RepairContext, scorer: object, *rest: Any) -> Any:
        scorers.append(scorer)
        return real(passing, context, scorer, *rest)

    real = engine.ranked
    monkeypatch.setattr(engine, "ranked", ranked)
    result = _session(_project(tmp_path), Scripted([WRONG, RIGHT]), pool).run()
    assert result.status is Status.FIXED and scorers == [None]
    both = _session(_project(tmp_path / "two"), Scripted([RIGHT, RIGHT + "\n"]), pool).run()
    assert both.status is Status.FIXED and scorers[1] is not None


def test_tests_that_already_pass_are_not_fixed(tmp_path: Path, pool: SandboxPool) -> None:
    result = _session(_project(tmp_path, RIGHT), Scripted([WRONG]), pool).run()
    assert result.status is Status.ALREADY_PASSING
    assert result.candidates_tried == 0


def test_a_missing_module_is_the_environment_not_the_code(
    tmp_path: Path, pool: SandboxPool
) -> None:
    root = _project(tmp_path, tests="import no_such_module\n\n" + TESTS)
    result = _session(root, Scripted([RIGHT]), pool).run()
    assert result.status is Status.ENVIRONMENT
    assert "no_such_module" in result.message


def test_a_candidate_that_edits_the_tests_is_never_run(tmp_path: Path, pool: SandboxPool) -> None:
    cheat = "#test\ndef test_nothing():\n    pass\n"
    result = _session(_project(tmp_path), Scripted([cheat, RIGHT]), pool).run()
    assert result.status is Status.FIXED
    assert result.changes == {"calc.py": RIGHT}
    assert result.candidates_tried == 1


def test_a_candidate_that_breaks_another_test_is_not_offered(
    tmp_path: Path, pool: SandboxPool
) -> None:
    # Passes test_above (the failing one) but breaks test_inside.
    regressing = BUGGY.replace(
        "        return low\n    return x", "        return high\n    return 0"
    )
    result = _session(_project(tmp_path), Scripted([regressing, RIGHT]), pool).run()
    assert result.status is Status.FIXED
    assert result.changes == {"calc.py": RIGHT}


def test_no_fix_within_the_budget_says_so(tmp_path: Path, pool: SandboxPool) -> None:
    result = _session(_project(tmp_path), Scripted([WRONG]), pool).run()
    assert result.status is Status.NOT_FOUND
    assert result.diff == "" and result.candidates_tried == 1


def test_reflection_gives_the_next_round_the_failed_attempt(
    tmp_path: Path, pool: SandboxPool
) -> None:
    generator = Scripted([WRONG], reflective=True)
    session = FixSession(
        _project(tmp_path),
        COMMAND,
        [generator],
        pool,
        targets=["calc.py"],
        budget=Budget(max_iterations=2),
    )
    generator.texts = [WRONG]
    original_candidates = generator.candidates

    def one_per_round(context: RepairContext) -> Iterator[Candidate]:
        if len(generator.contexts) == 1:
            generator.texts = [RIGHT]
        return original_candidates(context)

    generator.candidates = one_per_round  # type: ignore[method-assign]
    result = session.run()
    assert result.status is Status.FIXED
    second = generator.contexts[1]
    [attempt] = second.attempts
    assert "+    if x >= high" in attempt.diff
    assert "test_above" in attempt.output and "1 failed" in attempt.outcome


def test_progress_reads_like_a_progress_bar(tmp_path: Path, pool: SandboxPool) -> None:
    lines: list[str] = []
    _session(
        _project(tmp_path),
        Scripted([WRONG, RIGHT]),
        pool,
        on_progress=lambda p: lines.append(p.line()),
    ).run()
    # Templates alone: no rounds to count, the candidates tried and the time left instead.
    assert any(
        re.fullmatch(
            r"0 candidates tried · 1 of 3 tests failing · testing 2 candidates · \d+ s left", line
        )
        for line in lines
    ), lines
    # The closest candidate so far shows as soon as its tests are back.
    assert any(
        line.endswith("best so far: candidate 1 (0 of 1 failing tests still fail)")
        for line in lines
    )


def test_cancel_stops_the_session(tmp_path: Path, pool: SandboxPool) -> None:
    session: FixSession

    def cancel_when_testing(progress: Progress) -> None:
        if progress.phase.value == "test":
            session.cancel()

    session = _session(
        _project(tmp_path),
        Scripted([WRONG, WRONG + "\n", RIGHT]),
        pool,
        on_progress=cancel_when_testing,
    )
    result = session.run()
    assert result.status is Status.CANCELLED
    assert result.candidates_tried == 0


def test_a_dangerous_test_command_is_refused(tmp_path: Path, pool: SandboxPool) -> None:
    session = FixSession(_project(tmp_path), "rm -rf / && pytest", [Scripted([RIGHT])], pool)
    with pytest.raises(CommandRefused):
        session.run()


PRICES = """def discounted(quantity):
    return quantity > 10


def price(quantity):
    factor = 0.9 if discounted(quantity) else 1.0
    return round(100 * quantity * factor, 2)
"""
PRICE_TESTS = """from prices import price


def test_small_order():
    assert price(2) == 200


def test_discount_from_ten():
    assert price(10) == 900
"""


def test_spectrum_finds_the_fault_no_traceback_passes_through(
    tmp_path: Path, pool: SandboxPool
) -> None:
    # The failing assertion is in the test: no frame of prices.py is in its traceback, so
    # only the coverage spectrum says which lines to suspect.
    from fixloop.loop.offline import OfflineGenerator

    (tmp_path / "prices.py").write_text(PRICES, encoding="utf-8")
    (tmp_path / "test_prices.py").write_text(PRICE_TESTS, encoding="utf-8")
    seen: list[RepairContext] = []

    class Watching(OfflineGenerator):
        def candidates(self, context: RepairContext) -> Iterator[Candidate]:
            seen.append(context)
            return super().candidates(context)

    session = FixSession(tmp_path, COMMAND, [Watching()], pool, targets=["prices.py"])
    result = session.run()
    assert result.status is Status.FIXED
    assert "+    return quantity >= 10" in result.diff
    assert seen[0].locations[0].path == "prices.py"
    assert seen[0].locations[0].line in (2, 6)


RAISING = "def ratio(a, b):\n    total = a + b\n    return a / (total - a - b)\n"
RAISING_TESTS = """from ratio import ratio


def test_ratio():
    assert ratio(1, 1) == 0.5


def test_zero():
    assert ratio(0, 2) == 0
"""


def test_the_failing_frames_still_localize_after_a_native_traceback_spectrum_run(
    tmp_path: Path, pool: SandboxPool
) -> None:
    # The localization run formats failures as Python's own traceback: the line where the
    # failing tests raise must still come first, and the spectrum must still be read.
    (tmp_path / "ratio.py").write_text(RAISING, encoding="utf-8")
    (tmp_path / "test_ratio.py").write_text(RAISING_TESTS, encoding="utf-8")
    generator = Scripted([RAISING.replace("(total - a - b)", "total")], path="ratio.py")
    events: list[tuple[str, dict[str, object]]] = []
    session = FixSession(
        tmp_path,
        COMMAND,
        [generator],
        pool,
        targets=["ratio.py"],
        on_event=lambda kind, data: events.append((kind, dict(data))),
    )
    assert session.run().status is Status.FIXED
    [localize] = [data for kind, data in events if kind == "localize"]
    assert "--tb=native" in str(localize["command"])
    context = generator.contexts[0]
    assert {("ratio.py", 3)} <= {frame for f in context.failures for frame in f.frames}
    assert (context.locations[0].path, context.locations[0].line) == ("ratio.py", 3)


def test_a_fix_remembered_is_tried_first_the_next_time(tmp_path: Path, pool: SandboxPool) -> None:
    from fixloop.loop.offline import OfflineGenerator
    from fixloop.loop.recall import SessionMemory
    from fixloop.memory.store import MemoryConfig, MemoryStore

    store = MemoryStore(MemoryConfig(path=tmp_path / "memory"))
    first = FixSession(
        _project(tmp_path / "one"),
        COMMAND,
        [OfflineGenerator()],
        pool,
        targets=["calc.py"],
        memory=SessionMemory(store),
    )
    learned = first.run()
    assert learned.status is Status.FIXED and learned.record_id is not None
    assert learned.candidates_tried > 1

    again = FixSession(
        _project(tmp_path / "two"),
        COMMAND,
        [OfflineGenerator()],
        pool,
        targets=["calc.py"],
        memory=SessionMemory(store),
    )
    result = again.run()
    assert result.status is Status.FIXED
    assert result.changes == learned.changes
    assert result.candidates_tried < learned.candidates_tried


def test_a_model_and_the_templates_share_each_iteration(tmp_path: Path, pool: SandboxPool) -> None:
    model = Scripted([WRONG, WRONG], name="llm:scripted", reflective=True)
    templates = Scripted([RIGHT], name="offline")
    session = FixSession(
        _project(tmp_path),
        COMMAND,
        [model, templates],
        pool,
        targets=["calc.py"],
        budget=Budget(max_iterations=1),
    )
    result = session.run()
    assert result.status is Status.FIXED
    assert result.changes == {"calc.py": RIGHT}
    assert result.candidates_tried == 2  # one from the model, one from the templates


def test_a_passing_candidate_that_adds_an_eval_is_not_offered(
    tmp_path: Path, pool: SandboxPool
) -> None:
    # Both pass the tests; the security audit keeps the one that brings in no `eval`.
    insecure = RIGHT.replace("return high", "return eval(str(high))")
    result = _session(_project(tmp_path), Scripted([insecure, RIGHT]), pool).run()
    assert result.status is Status.FIXED
    assert result.changes == {"calc.py": RIGHT}
    assert any("FL101" in note for note in result.notes)


def test_the_session_logs_each_phase_candidate_and_its_end(
    tmp_path: Path, pool: SandboxPool
) -> None:
    events: list[tuple[str, dict[str, object]]] = []
    session = _session(
        _project(tmp_path),
        Scripted([WRONG, RIGHT]),
        pool,
        on_event=lambda kind, data: events.append((kind, dict(data))),
    )
    result = session.run()
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "start" and kinds[1] == "phase" and kinds[-1] == "end"
    assert {"baseline", "candidate", "regression"} <= set(kinds)
    candidates = [data for kind, data in events if kind == "candidate"]
    assert len(candidates) == result.candidates_tried == 2
    assert sorted(bool(c["passed"]) for c in candidates) == [False, True]
    end = events[-1][1]
    assert end["verified"] is True and end["diff"] == result.diff
    assert end["tests"] == {"passed": 3, "failed": 0}
    assert events[0][1]["session_id"] == result.session_id


@dataclass
class _Spend:
    total_tokens: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"total_tokens": self.total_tokens, "cost": 0.0}


@dataclass
class Costly(Scripted):
    """A scripted 'model' that spends 400 tokens per candidate."""

    usage: _Spend = field(default_factory=_Spend)

    def candidates(self, context: RepairContext) -> Iterator[Candidate]:
        for candidate in super().candidates(context):
            self.usage.total_tokens += 400
            yield candidate


def test_the_session_stops_when_the_token_budget_is_spent(
    tmp_path: Path, pool: SandboxPool
) -> None:
    generator = Costly([WRONG, WRONG.replace("x >= high", "x >= high + 1"), RIGHT])
    session = FixSession(
        _project(tmp_path),
        COMMAND,
        [generator],
        pool,
        targets=["calc.py"],
        budget=Budget(max_iterations=5, candidates_per_iteration=1, max_tokens=700),
    )
    result = session.run()
    assert result.status is Status.NOT_FOUND
    assert "token budget spent (800 of 700)" in result.message
    assert result.candidates_tried == 2 and result.tokens == 800


def _reviewer(base_url: str | None) -> LlmGenerator:
    settings = LlmSettings(
        base_url=base_url,
        model="reviewer",
        api_key_env="FIXLOOP_TEST_KEY",
        timeout=5.0,
        max_retries=0,
    )
    return LlmGenerator(settings, environ={})


def test_a_patch_the_reviewer_rejects_is_not_offered(tmp_path: Path, pool: SandboxPool) -> None:
    # Passes every test by special-casing the one input the failing test uses.
    special_case = BUGGY.replace(
        "    if x > high:\n", "    if x == 11:\n        return 10\n    if x > high:\n"
    )
    replies = ["REJECT\nIt special-cases the test's input 11.", "APPROVE\nIt returns the bound."]
    with scripted_openai(replies) as server:
        session = FixSession(
            _project(tmp_path),
            COMMAND,
            [Scripted([special_case, RIGHT])],
            pool,
            targets=["calc.py"],
            budget=Budget(max_iterations=3, candidates_per_iteration=1, alternative_batches=0),
            reviewer=_reviewer(server.base_url),
        )
        result = session.run()
    assert result.status is Status.FIXED
    assert result.changes == {"calc.py": RIGHT}
    assert any("special-cases the test's input 11" in note for note in result.notes)
    assert "+    if x == 11:" in server.prompts[0]  # the reviewer saw the patch
    assert len(server.requests) == 2


def test_a_reviewer_that_cannot_answer_does_not_cost_the_fix(
    tmp_path: Path, pool: SandboxPool
) -> None:
    session = FixSession(
        _project(tmp_path),
        COMMAND,
        [Scripted([RIGHT])],
        pool,
        targets=["calc.py"],
        budget=Budget(max_iterations=2, candidates_per_iteration=1),
        reviewer=_reviewer(f"http://127.0.0.1:{unused_port()}/v1"),
    )
    result = session.run()
    assert result.status is Status.FIXED
    assert any(note.startswith("review skipped:") for note in result.notes)


def test_when_the_best_passing_candidates_all_regress_the_next_ones_get_their_turn(
    tmp_path: Path, pool: SandboxPool
) -> None:
    # Two small edits pass the failing test but break test_inside; the right one is larger
    # (a comment), so it ranks third: it must still be run against the whole suite.
    breaks_inside = [RIGHT.replace("    return x\n", f"    return {n}\n") for n in (0, 1)]
    right_but_larger = RIGHT + "# clamped\n"
    session = FixSession(
        _project(tmp_path),
        COMMAND,
        [Scripted([*breaks_inside, right_but_larger])],
        pool,
        targets=["calc.py"],
        budget=Budget(max_iterations=2, candidates_per_iteration=3, parallel=2),
    )
    result = session.run()
    assert result.status is Status.FIXED
    assert result.changes == {"calc.py": right_but_larger}


class _Watched:
    """The sandbox, noting in order when each candidate's run starts and ends."""

    def __init__(self, pool: SandboxPool, log: list[str]) -> None:
        self.pool, self.log = pool, log

    def run(self, root: Path | str, changes: Mapping[str, str], command: str, **kw: Any) -> Any:
        name = next(iter(changes.values()), "").splitlines()[0] if changes else "first run"
        self.log.append(f"start {name}")
        result = self.pool.run(root, changes, command, **kw)
        self.log.append(f"end {name}")
        return result


def test_the_next_batch_of_templates_is_made_while_the_current_one_runs(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """The slots wait for no template search between batches: the candidates of the second
    batch are asked of the generator before the first batch's runs have all ended."""
    log: list[str] = []
    wrong = [f"# wrong {n}\n{WRONG}" for n in range(20)]

    @dataclass
    class Noted(Scripted):
        def candidates(self, context: RepairContext) -> Iterator[Candidate]:
            for candidate in super().candidates(context):
                log.append(f"made {next(iter(candidate.changes.values())).splitlines()[0]}")
                yield candidate

    session = FixSession(
        _project(tmp_path),
        COMMAND,
        [Noted([*wrong, f"# right\n{RIGHT}"])],
        _Watched(pool, log),
        targets=["calc.py"],
        budget=Budget(candidates_per_iteration=16, parallel=2),
    )
    result = session.run()
    assert result.status is Status.FIXED, result.message
    first_batch = {f"end # wrong {n}" for n in range(16)}
    first_batch_ends = max(i for i, line in enumerate(log) if line in first_batch)
    assert log.index("made # wrong 16") < first_batch_ends
    assert log.index("start # wrong 16") > first_batch_ends  # each batch's runs in turn
