"""The loop's own settings: its budget (`[tool.fixloop.loop]`, LSP `fixloop.loop.*`,
`FIXLOOP_LOOP_*`); the CLI's flags override them."""

from __future__ import annotations

from dataclasses import dataclass

# The whole session's time when the settings name none: the command line can wait
# longer than an editor's progress bar.
CLI_WALL_CLOCK_SECONDS = 300.0
EDITOR_WALL_CLOCK_SECONDS = 120.0


@dataclass(frozen=True)
class LoopSettings:
    """What one fix session may spend. The templates go on while candidates remain and
    time allows; a model gets at most `max_iterations` rounds (each costs requests)."""

    # Seconds for the whole session (None: 300 from the command line, 120 in the editor).
    wall_clock_seconds: float | None = None
    # Rounds of a model: generate, test, reflect.
    max_iterations: int = 5
    # Candidates per round (0: one from a model, a batch per sandbox slot of templates).
    candidates_per_iteration: int = 0
    # Seconds per test run (None: measured from the tests' own times).
    test_timeout: float | None = None
    # What a model may spend in a session (0: no limit).
    max_tokens: int = 0
    max_cost: float = 0.0
