"""One way to build a fix session: settings + project + target + tester + memory → a ready
`FixSession`. The command line and the editor's fix command build theirs here, so a
setting (the budget, the reviewer, the engine) means the same everywhere. (The
remembered-fix job has no session: it checks one candidate with the loop's verification,
see reuse.py.)"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from fixloop.loop.engine import Budget, EventSink, FixSession, GivenBaseline, Progress
from fixloop.loop.generators import generators_for, reviewer_for
from fixloop.loop.model import Location, RepairMemory
from fixloop.loop.settings import CLI_WALL_CLOCK_SECONDS, LoopSettings

if TYPE_CHECKING:
    from fixloop.config import Settings
    from fixloop.sandbox.results import Tester


@dataclass(frozen=True)
class Target:
    """What to repair: a file (or a folder, `.` for the whole project) relative to the
    project root, and the line to try first."""

    root: Path
    relative: str
    line: int | None = None  # 1-based


def budget_of(
    loop: LoopSettings, parallel: int, default_wall_clock: float = CLI_WALL_CLOCK_SECONDS
) -> Budget:
    """The session's budget from the loop's settings and the sandbox's parallelism."""
    return Budget(
        max_iterations=loop.max_iterations,
        candidates_per_iteration=loop.candidates_per_iteration,
        wall_clock_seconds=loop.wall_clock_seconds or default_wall_clock,
        parallel=parallel,
        test_timeout=loop.test_timeout,
        max_tokens=loop.max_tokens,
        max_cost=loop.max_cost,
    )


def build_session(
    settings: Settings,
    target: Target,
    test_command: str,
    tester: Tester,
    *,
    memory: RepairMemory | None = None,
    engine: str | None = None,
    default_wall_clock: float = CLI_WALL_CLOCK_SECONDS,
    on_progress: Callable[[Progress], None] | None = None,
    on_event: EventSink | None = None,
    baseline: GivenBaseline | None = None,
    session_id: str | None = None,
    budget_changes: dict[str, object] | None = None,
    write_memory_later: bool = False,
) -> FixSession:
    """A session as the settings say; `budget_changes` adjusts the budget the settings
    give (the command line's flags); with `write_memory_later` the caller writes the
    memory records (`FixSession.write_memory`) once it has shown the result. Raises
    GeneratorUnavailable when the engine asked for cannot be used."""
    chosen = generators_for(engine or settings.engine, settings)
    budget = budget_of(settings.loop, settings.sandbox.parallel, default_wall_clock)
    if budget_changes:
        budget = replace(budget, **budget_changes)  # type: ignore[arg-type]
    focus = Location(target.relative, target.line, 1.0) if target.line is not None else None
    return FixSession(
        target.root,
        test_command,
        chosen,
        tester,
        targets=[target.relative],
        budget=budget,
        on_progress=on_progress or (lambda progress: None),
        memory=memory,
        on_event=on_event,
        focus=focus,
        reviewer=reviewer_for(settings, chosen),
        session_id=session_id,
        baseline=baseline,
        write_memory_later=write_memory_later,
    )
