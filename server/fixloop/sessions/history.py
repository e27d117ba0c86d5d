"""Reading the logged sessions back: one summary per session, statistics over them."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Event = dict[str, Any]


class SessionNotFound(LookupError):
    """No session matches what the user asked for; the message says what exists."""


def read_events(path: Path) -> list[Event]:
    """A session's events; a line cut short (a crash mid-write) is skipped, not fatal."""
    events: list[Event] = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict) and "event" in event:
                events.append(event)
    return events


@dataclass(frozen=True)
class SessionSummary:
    session_id: str
    started: str
    root: str
    targets: tuple[str, ...]
    command: str
    engine: str
    status: str  # fixed, not-found, …; "incomplete" when the log has no end
    message: str
    iterations: int
    candidates_tried: int
    duration: float
    tokens: int
    cost: float

    @property
    def fixed(self) -> bool:
        return self.status == "fixed"


def summarize(session_id: str, events: list[Event]) -> SessionSummary:
    start = next((e for e in events if e["event"] == "start"), {})
    end = next((e for e in reversed(events) if e["event"] == "end"), None)
    last = events[-1] if events else {}
    return SessionSummary(
        session_id=session_id,
        started=str(start.get("at", "")),
        root=str(start.get("root", "")),
        targets=tuple(start.get("targets") or ()),
        command=str(start.get("command", "")),
        engine=str(start.get("engine", "")),
        status=str(end.get("status", "incomplete")) if end else "incomplete",
        message=str(end.get("message", "")) if end else "the log ends before the session did",
        iterations=int(end.get("iterations", 0)) if end else 0,
        candidates_tried=(
            int(end.get("candidates_tried", 0))
            if end
            else sum(1 for e in events if e["event"] == "candidate")
        ),
        duration=float(end.get("duration", 0.0)) if end else float(last.get("elapsed", 0.0)),
        tokens=int(end.get("tokens", 0)) if end else 0,
        cost=float(end.get("cost", 0.0)) if end else 0.0,
    )


def session_files(directory: Path) -> list[Path]:
    """Newest first (ids begin with the start time)."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.jsonl"), key=lambda p: p.name, reverse=True)


def list_sessions(directory: Path, limit: int | None = None) -> list[SessionSummary]:
    files = session_files(directory)[:limit]
    return [summarize(path.stem, read_events(path)) for path in files]


def find_session(directory: Path, reference: str) -> Path:
    """`last`, a whole id, or the start of one that no other session shares."""
    files = session_files(directory)
    if not files:
        raise SessionNotFound(f"no session logged yet in {directory}")
    if reference in ("last", "latest"):
        return files[0]
    matches = [p for p in files if p.stem == reference] or [
        p for p in files if p.stem.startswith(reference)
    ]
    if not matches:
        raise SessionNotFound(f"no session {reference!r} (see `fixloop history`)")
    if len(matches) > 1:
        names = ", ".join(p.stem for p in matches[:5])
        raise SessionNotFound(f"{reference!r} names {len(matches)} sessions: {names} …")
    return matches[0]


@dataclass(frozen=True)
class Statistics:
    sessions: int
    fixed: int
    success_rate: float  # fixed / sessions that looked for a fix
    median_iterations_per_fix: float
    median_seconds_per_fix: float
    median_candidates_per_fix: float


def statistics_of(sessions: list[SessionSummary]) -> Statistics:
    searched = [s for s in sessions if s.status in ("fixed", "not-found", "cancelled")]
    fixed = [s for s in sessions if s.fixed]

    def median(values: list[float]) -> float:
        return float(statistics.median(values)) if values else 0.0

    return Statistics(
        sessions=len(sessions),
        fixed=len(fixed),
        success_rate=len(fixed) / len(searched) if searched else 0.0,
        median_iterations_per_fix=median([s.iterations for s in fixed]),
        median_seconds_per_fix=median([s.duration for s in fixed]),
        median_candidates_per_fix=median([s.candidates_tried for s in fixed]),
    )
