"""Looking after the memory: retention (by age and a cap per kind of failure, run by
itself at most daily where the store opens), statistics, export and import."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fixloop.memory.chroma import PAGE, ROLES, ChromaStore, MemoryUnavailable, scan
from fixloop.memory.records import AttemptRecord, Outcome, Verdict

if TYPE_CHECKING:
    from fixloop.memory.store import MemoryStore


@dataclass(frozen=True)
class MemoryStats:
    where: str
    available: bool
    reason: str | None
    collections: Mapping[str, int] = field(default_factory=dict)
    outcomes: Mapping[str, int] = field(default_factory=dict)
    verdicts: Mapping[str, int] = field(default_factory=dict)
    spooled: int = 0
    disk_bytes: int | None = None

    @property
    def records(self) -> int:
        return sum(self.collections.values())


def stats(store: ChromaStore) -> MemoryStats:
    available = store.available()  # first: coming back replays the spool
    spooled = len(store.read_spool())
    if not available:
        return MemoryStats(store.config.where(), False, store.unavailable, spooled=spooled)
    collections = store.all_collections()
    counts = {c.name: c.count() for c in collections}
    outcomes: dict[str, int] = defaultdict(int)
    verdicts: dict[str, int] = defaultdict(int)
    for collection in collections:  # rare values by an indexed filter, not a full scan
        if collection.name.split("-")[1] == "fixes":
            outcomes[Outcome.VERIFIED] += counts[collection.name]
            for verdict in Verdict:
                verdicts[verdict] += _count_where(collection, "verdict", verdict)
        else:
            regressions = _count_where(collection, "outcome", Outcome.REGRESSIONS)
            outcomes[Outcome.REGRESSIONS] += regressions
            outcomes[Outcome.FAILED] += counts[collection.name] - regressions
    disk = None if store.config.url else _disk_bytes(store.config.store_path)
    return MemoryStats(
        store.config.where(),
        True,
        None,
        counts,
        {str(k): n for k, n in outcomes.items() if n},
        {str(k): n for k, n in verdicts.items() if n},
        spooled,
        disk,
    )


def prune(
    store: ChromaStore,
    max_age_days: float | None = None,
    cap_per_kind: int | None = None,
    *,
    now: float | None = None,
) -> int:
    """Drop records older than the retention, then the least useful records of each
    kind of failure beyond the cap (failed tries first, then unrated or rejected
    fixes, accepted fixes last; oldest first). Returns how many were removed."""
    if not store.available():
        return 0
    age = store.config.retention_days if max_age_days is None else max_age_days
    cap = store.config.cap_per_kind if cap_per_kind is None else cap_per_kind
    oldest = (time.time() if now is None else now) - age * 86400
    return sum(_prune_language(store, language, oldest, cap) for language in store.languages())


def prune_if_due(store: ChromaStore, every_days: float = 1.0) -> int | None:
    """Retention for long-running processes: `prune()` at most once per `every_days`
    across processes (a marker file beside the spool); None when not due. It scans
    every record (seconds at 100k): call it off the editor's main thread."""
    marker = store.config.spool_path.with_name(store.config.spool_path.stem + ".pruned")
    try:
        if time.time() - marker.stat().st_mtime < every_days * 86400:
            return None
    except OSError:
        pass  # never pruned
    if not store.available():
        return None
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()  # first: a second process starting now does not prune as well
    return prune(
        store,
    )


def _prune_language(store: ChromaStore, language: str, oldest: float, cap: int) -> int:
    by_kind: dict[str, list[tuple[int, float, str, str]]] = defaultdict(list)
    doomed: dict[str, list[str]] = defaultdict(list)
    for role in ROLES:
        collection = store.collection(role, language, create=False)
        if collection is None:
            continue
        for record_id, meta in scan(collection):
            created = float(meta.get("created_at", 0.0))
            if created < oldest:
                doomed[role].append(record_id)
            else:
                keep = _keep_rank(role, str(meta.get("verdict", "")))
                by_kind[str(meta.get("kind", ""))].append((keep, created, role, record_id))
    for entries in by_kind.values():
        entries.sort()
        for _, _, role, record_id in entries[: max(0, len(entries) - cap)]:
            doomed[role].append(record_id)
    for role, ids in doomed.items():
        collection = store.collection(role, language)
        for start in range(0, len(ids), PAGE):
            with store.writing():  # per page: other processes' writes get their turn
                collection.delete(ids=ids[start : start + PAGE])
    return sum(len(ids) for ids in doomed.values())


def export(store: ChromaStore, path: Path) -> int:
    """Every record of the current embedding as JSON lines; returns the count."""
    if not store.available():
        raise MemoryUnavailable(store.unavailable or "memory is unavailable")
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for collection in store.own_collections():
            for record_id, meta in scan(collection):
                record = AttemptRecord.from_metadata(record_id, meta, store.embedding.key)
                out.write(json.dumps(record.to_json(), sort_keys=True) + "\n")
                count += 1
    return count


def import_(store: MemoryStore, path: Path, batch: int = 500) -> int:
    """Records from JSON lines (re-embedded with the current embedding; a record
    already present is replaced). Returns the count; raises on a malformed line."""
    records: list[AttemptRecord] = []
    count = 0
    with path.open(encoding="utf-8") as source:
        for number, line in enumerate(source, 1):
            if not line.strip():
                continue
            try:
                records.append(AttemptRecord.from_json(json.loads(line)))
            except (ValueError, TypeError, KeyError) as error:
                raise ValueError(f"{path}:{number}: not a memory record ({error})") from error
            if len(records) >= batch:
                count += _import_batch(store, records)
                records = []
    return count + _import_batch(store, records)


def _import_batch(store: MemoryStore, records: list[AttemptRecord]) -> int:
    if records and not store.record_attempts(records):
        raise MemoryUnavailable(store.unavailable or "memory is unavailable")
    return len(records)


def _keep_rank(role: str, verdict: str) -> int:
    """Eviction order under the cap: lower goes first."""
    if role == "tries":
        return 0
    return 2 if verdict == Verdict.ACCEPTED else 1


def _count_where(collection: Any, key: str, value: str) -> int:
    return len(collection.get(where={key: value}, include=[])["ids"])


def _disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
