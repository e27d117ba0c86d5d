"""The memory store: attempts in ChromaDB, looked up by similarity.

`MemoryStore` composes three parts: the Chroma plumbing (chroma.py: client, collections,
locks, the spool), reading (queries.py: similar fixes, the template prior, search) and
maintenance (maintenance.py: retention, stats, export and import). Writing is here.
What a fix session makes of the records (re-applying a remembered fix, transferring
its shape, the prior over the engine's own rates) is the loop's: `fixloop.loop.recall`.

Two collections per (role, language, embedding) — `fixes` (verified attempts) and
`tries` (attempts that failed); see chroma.py. Faults never stop fixloop: reads then
return nothing and writes wait in a spool (chroma.py).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

from fixloop.memory import maintenance, queries
from fixloop.memory.chroma import (
    ChromaStore,
    MemoryConfig,
    MemoryUnavailable,
    StoreLocked,
    default_memory_path,
    file_lock,
)
from fixloop.memory.maintenance import MemoryStats
from fixloop.memory.queries import RememberedFix
from fixloop.memory.records import AttemptRecord, Outcome, Verdict
from fixloop.memory.signature import FailureSignature

__all__ = [
    "MemoryConfig",
    "MemoryStats",
    "MemoryStore",
    "MemoryUnavailable",
    "RememberedFix",
    "StoreLocked",
    "default_memory_path",
]

log = logging.getLogger(__name__)


class MemoryStore(ChromaStore):
    """Memory of attempts. Opens the store lazily, on first use; thread-safe. Each time
    it opens it replays its spool and, at most once a day, applies the retention."""

    # --- writing ------------------------------------------------------------------------

    def record_attempt(self, record: AttemptRecord) -> bool:
        """Remember one attempt; False when it was spooled for later instead."""
        return self.record_attempts([record])

    def record_attempts(self, records: Sequence[AttemptRecord]) -> bool:
        """Remember attempts (one write per collection); False when spooled."""
        if not self.config.enabled:
            return False
        if not records:
            return True
        try:
            self.connect()
            self._write(records)
        except MemoryUnavailable:
            self.spool({"op": "attempt", "record": r.to_json()} for r in records)
            return False
        except Exception as error:  # a lock, a full disk, a server gone mid-way
            self.fail(f"memory: cannot write to {self.config.where()}: {error}")
            self.spool({"op": "attempt", "record": r.to_json()} for r in records)
            return False
        return True

    def record_verdict(self, record_id: str, verdict: Verdict) -> bool:
        """What the user did with an offered fix; False when spooled or not found."""
        if not self.config.enabled:
            return False
        try:
            self.connect()
            return self._set_verdict(record_id, verdict)
        except MemoryUnavailable:
            pass
        except Exception as error:
            self.fail(f"memory: cannot write to {self.config.where()}: {error}")
        self.spool([{"op": "verdict", "id": record_id, "verdict": verdict.value}])
        return False

    def _write(self, records: Sequence[AttemptRecord]) -> None:
        groups: dict[tuple[str, str], list[AttemptRecord]] = defaultdict(list)
        for record in records:
            groups[(_role(record), record.language)].append(record)
        # Embedded before taking the lock: a model endpoint may take a while.
        vectors = {key: self.embedding.embed_sections([r.sections() for r in group])
                   for key, group in groups.items()}  # fmt: skip
        with self.writing():
            for (role, language), group in groups.items():
                self.collection(role, language).upsert(
                    ids=[r.id for r in group],
                    embeddings=vectors[(role, language)],
                    metadatas=[r.to_metadata() for r in group],
                )
            for record in records:
                if record.reused_from and not record.verified:
                    self._count_failed_reuse(record.reused_from, record.language)

    def _count_failed_reuse(self, fix_id: str, language: str) -> None:
        fixes = self.collection("fixes", language)
        found = fixes.get(ids=[fix_id], include=["metadatas"])
        if found["ids"]:
            meta = found["metadatas"][0]
            count = int(meta.get("failed_reuses", 0)) + 1
            fixes.update(ids=[fix_id], metadatas=[{**meta, "failed_reuses": count}])

    def _set_verdict(self, record_id: str, verdict: Verdict) -> bool:
        with self.writing():
            for collection in self.own_collections("fixes"):
                found = collection.get(ids=[record_id], include=["metadatas"])
                if found["ids"]:
                    meta = {**found["metadatas"][0], "verdict": verdict.value}
                    collection.update(ids=[record_id], metadatas=[meta])
                    return True
        return False

    # --- reading (queries.py) -----------------------------------------------------------

    def similar_fixes(
        self,
        signature: FailureSignature,
        code_context: str,
        language: str,
        k: int = 5,
        *,
        min_similarity: float = 0.0,
    ) -> list[RememberedFix]:
        """Verified fixes of similar failures, best first by similarity * success rate *
        acceptance (repeats of one edit are grouped)."""
        return queries.similar_fixes(
            self, signature, code_context, language, k, min_similarity=min_similarity
        )

    def template_prior(
        self,
        signature: FailureSignature,
        language: str,
        code_context: str = "",
        base: Mapping[str, float] | None = None,
    ) -> dict[str, float]:
        """Successes per candidate generated, per repair template, among recurrences of
        this failure, shrunk toward `base` (see `queries.template_prior`)."""
        return queries.template_prior(self, signature, language, code_context, base)

    def search(
        self, query: str, language: str | None = None, k: int = 10
    ) -> list[tuple[AttemptRecord, float]]:
        """Records most similar to free text (an error message, code), fixes and tries."""
        return queries.search(self, query, language, k)

    def holds_fixes(self) -> bool:
        """Whether any verified fix is remembered in this embedding's space."""
        return queries.holds_fixes(self)

    # --- maintenance (maintenance.py) ---------------------------------------------------

    def stats(self) -> MemoryStats:
        return maintenance.stats(self)

    def prune(
        self,
        max_age_days: float | None = None,
        cap_per_kind: int | None = None,
        *,
        now: float | None = None,
    ) -> int:
        """Drop records past the retention, then the least useful beyond the cap per kind
        of failure; returns how many were removed."""
        return maintenance.prune(self, max_age_days, cap_per_kind, now=now)

    def prune_if_due(self, every_days: float = 1.0) -> int | None:
        """`prune()` at most once per `every_days` across processes; None when not due."""
        return maintenance.prune_if_due(self, every_days)

    def export(self, path: Path) -> int:
        """Every record of the current embedding as JSON lines; returns the count."""
        return maintenance.export(self, path)

    def import_(self, path: Path, batch: int = 500) -> int:
        """Records from JSON lines, re-embedded; returns the count."""
        return maintenance.import_(self, path, batch)

    # --- opening ------------------------------------------------------------------------

    def opened(self) -> None:
        self._replay_spool()
        self._retain()

    def _retain(self) -> None:
        """Retention by itself: where the store opens, at most once a day across processes
        (age and per-kind caps, as `fixloop memory prune` does by hand)."""
        try:
            pruned = self.prune_if_due()
        except Exception as error:  # retention must never cost a session its memory
            log.warning("memory: retention skipped: %s", error)
            return
        if pruned:
            log.info("memory: retention removed %d records", pruned)

    def _replay_spool(self) -> None:
        """Apply what was kept while the store was down; keep what still fails."""
        path = self.config.spool_path
        if not path.exists():
            return
        try:
            with file_lock(path.with_name(path.name + ".lock")):
                entries = self.read_spool()
                path.unlink(missing_ok=True)
        except OSError as error:  # another process is replaying it: it will be done
            log.info("memory: spool not replayed now: %s", error)
            return
        records = [
            AttemptRecord.from_json(e["record"]) for e in entries if e.get("op") == "attempt"
        ]
        if records:
            self.record_attempts(records)
        for entry in entries:
            if entry.get("op") == "verdict":
                self.record_verdict(str(entry["id"]), Verdict(entry["verdict"]))


# Stands in for a neighbour's record until it is known to be among the winners.


def _role(record: AttemptRecord) -> str:
    return "fixes" if record.outcome is Outcome.VERIFIED else "tries"
