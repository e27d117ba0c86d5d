"""The loop's data: what generators receive (a repair context) and give back (candidates).

Generators (the offline template engine, the LLM) depend on these types only; the engine
builds the context from sandbox results and ranks the candidates it verifies.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable


@dataclass(frozen=True)
class Location:
    """A suspicious line: `path` relative to the project root, `line` 1-based."""

    path: str
    line: int
    score: float  # higher is more suspicious; only the order matters


@dataclass(frozen=True)
class Failure:
    """One failing test as the generators see it."""

    test_id: str
    message: str
    # (path relative to the project root, 1-based line), innermost frame last.
    frames: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Attempt:
    """An earlier candidate that failed: what it changed and how the tests failed, for
    reflection."""

    diff: str
    outcome: str  # one line, e.g. "2 failed, 3 passed in 0.21 s"
    output: str  # trimmed test output (head, error lines, tail)


@dataclass(frozen=True)
class PastFix:
    """A similar failure from memory with the patch that fixed it (memory fills this)."""

    failure: str
    diff: str
    template: str | None = None
    similarity: float = 0.0


@dataclass(frozen=True)
class RepairContext:
    """Everything a generator may use to propose candidates."""

    project_root: Path
    # Text of the files that may be edited (relative path → text). Test files are never in
    # here: a candidate may not change them.
    sources: Mapping[str, str]
    failures: tuple[Failure, ...]
    locations: tuple[Location, ...]  # most suspicious first
    test_output: str = ""  # trimmed output of the failing run
    attempts: tuple[Attempt, ...] = ()  # previous failed candidates, oldest first
    past_fixes: tuple[PastFix, ...] = ()
    # Learned prior: success rate of each repair template (template name → rate in 0..1).
    template_prior: Mapping[str, float] = field(default_factory=dict)
    language: str = "python"


@dataclass(frozen=True)
class Candidate:
    """A proposed patch: full new text of each changed file (relative path → text)."""

    changes: Mapping[str, str]
    description: str  # for people: "use `<=` instead of `<` in pricing.py:14"
    generator: str  # "offline", or "llm:<model>"
    template: str | None = None  # the repair template (offline), for the learned prior
    # How big the edit is (characters changed); smaller, more natural edits rank first.
    edit_size: int = 0


@dataclass(frozen=True)
class Review:
    """A reviewer's verdict on a verified patch (the optional review phase)."""

    approved: bool
    reason: str


@runtime_checkable
class Reviewer(Protocol):
    """Looks at a patch that passed the tests before it is offered (a model, when set)."""

    name: str

    def review(self, context: RepairContext, candidate: Candidate) -> Review: ...


class GeneratorUnavailable(Exception):
    """A generator cannot be used now (no model configured, the endpoint is down); the
    message says what to do. The session goes on with the other generators, if any."""


class Generator(Protocol):
    """Proposes candidates for a context, best first. The engine stops iterating when it
    has enough, so generators should be lazy."""

    name: str
    # A model: asked again each round with the new attempts (reflection), its rounds
    # counted by the budget. Templates are not: their stream goes on while time allows.
    reflective: bool

    def candidates(self, context: RepairContext) -> Iterator[Candidate]: ...


# How a tested candidate did, as memory records it.
AttemptOutcome = Literal["verified", "failed", "regressions"]


class Recollection(Protocol):
    """A remembered fix made on the current code: tested first, like any candidate."""

    @property
    def candidate(self) -> Candidate: ...


class Recalled(Protocol):
    """What memory makes of a session's candidates (`RepairMemory.recall`)."""

    @property
    def suggestions(self) -> Sequence[Recollection]: ...

    @property
    def ahead(self) -> Sequence[Candidate]: ...


class RepairMemory(Protocol):
    """What the engine asks of memory during one session (`loop.recall.SessionMemory` over
    a `MemoryStore` is the one the builder wires; the engine knows only this)."""

    def warm_up(self) -> None:
        """Open the store now, from a thread of its own while the baseline runs."""
        ...

    def prepare(self, context: RepairContext) -> RepairContext:
        """The context with memory's template prior and past fixes filled in."""
        ...

    def suggestion(self, context: RepairContext) -> Recollection | None:
        """A remembered fix to test before anything else, if any."""
        ...

    def recall(self, context: RepairContext) -> Recalled:
        """The remembered fixes and a few of the engine's candidates of their kind, to
        test together before anything else (each then takes its place in the engine's
        order: memory moves candidates forward, it adds none there)."""
        ...

    def tried(
        self,
        context: RepairContext,
        candidate: Candidate,
        outcome: AttemptOutcome,
        regressions: int = 0,
    ) -> str:
        """Record a tested candidate (written by `flush`); returns its record's id, which
        the user's verdict on a verified fix is later recorded against."""
        ...

    def flush(self) -> bool:
        """Write what the session tried; False when it waits in the spool instead."""
        ...
