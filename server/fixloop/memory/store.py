"""The memory store: attempts in ChromaDB, looked up by similarity.

Layout: two collections per (role, language, embedding) — `fixes` (verified attempts)
and `tries` (attempts that failed) — named `fixloop-<role>-<language>-<embedding key>`.
Separate collections instead of a `where` filter keep a lookup on the fast unfiltered
path (Chroma 1.5 at 100k records: ~2 ms unfiltered, ~74 ms filtered), and keep the many
failed tries of one session from crowding the fixes out of the top-k. Ranking is done in
Python on the top-k.

A suggestion is a remembered fix whose lines are found again (similarity >= 0.8), or the
offline engine's likeliest candidate making an edit of the same shape as one of the
similar failures' fixes (>= 0.4; shapes.py): the way a recurring kind of bug in other
code is recognized, since the failures themselves are hardly more alike within a kind
of bug than across kinds.

Faults never stop fixloop: a store that cannot be opened or written (corrupt, locked,
server down) is reported once through `on_unavailable`; reads then return nothing and
writes go to a local JSON-lines spool that is replayed once the store is back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fixloop.memory.embedding import (
    EmbeddingUnavailable,
    HashedNgramEmbedding,
    MemoryEmbedding,
    embedding_for,
)
from fixloop.memory.probe import is_vouched_for, probe, vouch_for
from fixloop.memory.reapply import reapply
from fixloop.memory.records import (
    AttemptRecord,
    Outcome,
    Verdict,
    context_code,
    context_signature,
    signature_sections,
)
from fixloop.memory.settings import MemorySettings, ModelEndpoint
from fixloop.memory.shapes import edit_shape
from fixloop.memory.signature import FailureSignature

if TYPE_CHECKING:
    from fixloop.loop.model import Candidate, PastFix, RepairContext

log = logging.getLogger(__name__)

ROLES = ("fixes", "tries")
_PREFIX = "fixloop"
_PAGE = 5000  # records per `get` page when scanning (prune, export, stats)
# Neighbours read per lookup: enough to group repeats of a fix, few enough to stay fast.
_FIX_NEIGHBOURS = 20
_PRIOR_FIX_NEIGHBOURS = 50
_PRIOR_TRY_NEIGHBOURS = 100
# The template prior learns from the same failure recurring, not from merely similar
# ones: measured on benchmarks/families (bench_learning.py), neighbours from 0.3 up were
# as similar across kinds of bug as within one, and a prior from other kinds of bug put
# the right template behind theirs (median candidates tried 5 -> 13.5). A kind of bug in
# other code is recognized by the shape of its fix instead (`_transferred`).
_PRIOR_MIN_SIMILARITY = 0.8
# How many candidates' worth of evidence the engine's own rate counts for: one verified
# neighbour at similarity 0.7 (weight 0.49) moves a rate about a tenth of the way to it.
_PRIOR_PSEUDO_COUNT = 4.0
# A remembered fix's shape is looked for among the engine's first candidates here.
_TRANSFER_MIN_SIMILARITY = 0.4
_TRANSFER_WITHIN = 60
_TRANSFER_NEIGHBOURS = 5
# A remembered fix whose track record (success rate x acceptance) is below this — rejected,
# reverted, or failing when re-applied — is not transferred to other code.
_TRANSFER_MIN_RECORD = 0.3
_NO_RECORD = "fixloop-no-record"  # deleted to make Chroma catch up; never stored
_REVERT_WEIGHT = 2.0  # a fix applied and then undone says more than one dismissed


class MemoryUnavailable(Exception):
    """The store cannot be used now; the message says why, for people."""


def default_memory_path(environ: Mapping[str, str] | None = None) -> Path:
    """`FIXLOOP_MEMORY_PATH`, else `$XDG_DATA_HOME/fixloop/memory`, else
    `~/.local/share/fixloop/memory`."""
    env = os.environ if environ is None else environ
    if env.get("FIXLOOP_MEMORY_PATH"):
        return Path(env["FIXLOOP_MEMORY_PATH"]).expanduser()
    data = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data).expanduser() / "fixloop" / "memory"


@dataclass(frozen=True)
class MemoryConfig:
    """How to reach the memory (what `MemorySettings` and the CLI options become)."""

    enabled: bool = True
    path: Path | None = None  # the embedded store's folder (default: `default_memory_path`)
    url: str | None = None  # a Chroma server for a team: `http://host:8000`
    embedding: str | None = None  # "hashed" (default), "openai:MODEL", "sentence-transformers:M"
    retention_days: int = 90
    cap_per_kind: int = 1000
    spool: Path | None = None  # where writes wait while the store is down
    retry_seconds: float = 30.0  # how soon to try an unavailable store again
    lock_timeout: float = 10.0  # how long a write waits for another process's write
    refresh_seconds: float = 2.0  # how often to look for other processes' new records
    # Open a store whose index changed elsewhere in a child process first (see probe.py).
    probe: bool = True
    embedding_base_url: str | None = None  # for `openai:MODEL` (default: the llm's)
    api_key_env: str = "OPENAI_API_KEY"

    @classmethod
    def from_settings(
        cls, memory: MemorySettings, llm: ModelEndpoint | None = None
    ) -> MemoryConfig:
        """From `Settings.memory`, and `Settings.llm` for an `openai:` embedding's endpoint
        and key variable. Fields `MemorySettings` does not have keep their defaults."""
        return cls(
            enabled=memory.enabled,
            path=Path(memory.path).expanduser() if memory.path else None,
            url=memory.url or None,
            embedding=memory.embedding,
            retention_days=memory.retention_days,
            cap_per_kind=memory.cap_per_kind,
            embedding_base_url=llm.base_url if llm is not None else None,
            api_key_env=(llm.api_key_env if llm is not None else "") or cls.api_key_env,
        )

    @property
    def store_path(self) -> Path:
        return self.path or default_memory_path()

    @property
    def spool_path(self) -> Path:
        if self.spool is not None:
            return self.spool
        if self.url:
            host = urlsplit(self.url).netloc.replace(":", "-") or "server"
            return default_memory_path().parent / f"memory-spool-{host}.jsonl"
        # Beside the store, not in it: a corrupt store folder may be moved away whole.
        return self.store_path.parent / f"{self.store_path.name}-spool.jsonl"

    def where(self) -> str:
        return self.url or str(self.store_path)


@dataclass(frozen=True)
class RememberedFix:
    """A fix from memory with its track record among similar failures."""

    record: AttemptRecord  # its most similar occurrence
    similarity: float  # 0..1 (cosine)
    uses: int = 1  # verified attempts making this same edit
    accepted: int = 0
    rejected: int = 0
    reverted: int = 0
    failed_reuses: int = 0  # times it was re-applied from memory and failed the tests

    @property
    def success_rate(self) -> float:
        return (self.uses + 1) / (self.uses + self.failed_reuses + 2)

    @property
    def acceptance(self) -> float:
        bad = self.rejected + _REVERT_WEIGHT * self.reverted
        return (self.accepted + 1) / (self.accepted + bad + 2)

    @property
    def score(self) -> float:
        return self.similarity * self.success_rate * self.acceptance

    def title(self) -> str:
        """What the editor shows: `Apply fix seen before (used 4 times, 92% accepted)`."""
        verdicts = self.accepted + self.rejected + self.reverted
        rated = f", {round(100 * self.accepted / verdicts)}% accepted" if verdicts else ""
        return f"Apply fix seen before (used {self.uses}×{rated})"  # noqa: RUF001

    def past_fix(self) -> PastFix:
        from fixloop.loop.model import PastFix

        return PastFix(
            failure=self.record.signature.text(),
            diff=self.record.patch,
            template=self.record.template,
            similarity=self.similarity,
        )


@dataclass(frozen=True)
class Suggestion:
    """A remembered fix re-applied to the current code. Not verified yet: run the tests
    on `candidate` before offering it as verified; then record the attempt with
    `reused_from=fix.record.id`."""

    candidate: Candidate
    fix: RememberedFix
    # The remembered fix's edit made elsewhere (the same kind of bug in other code), not
    # its own lines found again.
    transferred: bool = False

    @property
    def title(self) -> str:
        title = self.fix.title()
        if self.transferred:
            return title.replace("fix seen before", "fix like one seen before", 1)
        return title


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


class MemoryStore:
    """Memory of attempts. Opens the store lazily, on first use; thread-safe."""

    def __init__(
        self,
        config: MemoryConfig | None = None,
        *,
        embedding: MemoryEmbedding | None = None,
        on_unavailable: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config or MemoryConfig()
        self._embedding = embedding
        self._on_unavailable = on_unavailable or (lambda reason: log.warning("%s", reason))
        self._lock = threading.RLock()
        self._client: Any = None
        self._collections: dict[tuple[str, str], Any] = {}
        self._reason: str | None = None
        self._retry_at = 0.0
        self._reported = False
        # Another process's writes reach this process's index only when it writes itself
        # (Chroma 1.5 embedded): seen by the database file's mtime, caught up per collection.
        self._seen_change = 0
        self._checked_at = 0.0
        self._behind: set[tuple[str, str]] = set()

    # --- state --------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    @property
    def unavailable(self) -> str | None:
        """Why the store cannot be used now (None when it can, or was never tried)."""
        return self._reason

    @property
    def embedding(self) -> MemoryEmbedding:
        """The configured embedding; the offline one (its own collections) when the
        configured one cannot be loaded here, which is said once."""
        if self._embedding is None:
            try:
                self._embedding = embedding_for(
                    self.config.embedding,
                    base_url=self.config.embedding_base_url,
                    api_key_env=self.config.api_key_env,
                )
            except EmbeddingUnavailable as error:
                self._on_unavailable(f"memory: {error}; using the offline embedding instead")
                self._embedding = HashedNgramEmbedding()
        return self._embedding

    def available(self) -> bool:
        """Opens the store if needed; False (reported once) when it cannot be used."""
        if not self.config.enabled:
            return False
        try:
            self._connect()
        except MemoryUnavailable:
            return False
        return True

    def close(self) -> None:
        with self._lock:
            self._client = None
            self._collections.clear()

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
            self._connect()
            self._write(records)
        except MemoryUnavailable:
            self._spool({"op": "attempt", "record": r.to_json()} for r in records)
            return False
        except Exception as error:  # a lock, a full disk, a server gone mid-way
            self._fail(f"memory: cannot write to {self.config.where()}: {error}")
            self._spool({"op": "attempt", "record": r.to_json()} for r in records)
            return False
        return True

    def record_verdict(self, record_id: str, verdict: Verdict) -> bool:
        """What the user did with an offered fix; False when spooled or not found."""
        if not self.config.enabled:
            return False
        try:
            self._connect()
            return self._set_verdict(record_id, verdict)
        except MemoryUnavailable:
            pass
        except Exception as error:
            self._fail(f"memory: cannot write to {self.config.where()}: {error}")
        self._spool([{"op": "verdict", "id": record_id, "verdict": verdict.value}])
        return False

    def _write(self, records: Sequence[AttemptRecord]) -> None:
        groups: dict[tuple[str, str], list[AttemptRecord]] = defaultdict(list)
        for record in records:
            groups[(_role(record), record.language)].append(record)
        # Embedded before taking the lock: a model endpoint may take a while.
        vectors = {key: self.embedding.embed_sections([r.sections() for r in group])
                   for key, group in groups.items()}  # fmt: skip
        with self._writing():
            for (role, language), group in groups.items():
                self._collection(role, language).upsert(
                    ids=[r.id for r in group],
                    embeddings=vectors[(role, language)],
                    metadatas=[r.to_metadata() for r in group],
                )
            for record in records:
                if record.reused_from and not record.verified:
                    self._count_failed_reuse(record.reused_from, record.language)

    def _count_failed_reuse(self, fix_id: str, language: str) -> None:
        fixes = self._collection("fixes", language)
        found = fixes.get(ids=[fix_id], include=["metadatas"])
        if found["ids"]:
            meta = found["metadatas"][0]
            count = int(meta.get("failed_reuses", 0)) + 1
            fixes.update(ids=[fix_id], metadatas=[{**meta, "failed_reuses": count}])

    def _set_verdict(self, record_id: str, verdict: Verdict) -> bool:
        with self._writing():
            for collection in self._own_collections("fixes"):
                found = collection.get(ids=[record_id], include=["metadatas"])
                if found["ids"]:
                    meta = {**found["metadatas"][0], "verdict": verdict.value}
                    collection.update(ids=[record_id], metadatas=[meta])
                    return True
        return False

    # --- reading ------------------------------------------------------------------------

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
        hits = self._neighbours(
            "fixes", signature, code_context, language, max(_FIX_NEIGHBOURS, 2 * k)
        )
        return _group_fixes([h for h in hits if h.similarity >= min_similarity], self._key(), k)

    def template_prior(
        self,
        signature: FailureSignature,
        language: str,
        code_context: str = "",
        base: Mapping[str, float] | None = None,
    ) -> dict[str, float]:
        """Successes per candidate generated, per repair template, among similar failures
        (closer ones weigh more), shrunk toward `base` (the engine's own rates; for a
        template without one, the neighbourhood's overall rate). Templates never tried
        near this failure are absent: use the engine's default."""
        tried: dict[str, float] = defaultdict(float)
        verified: dict[str, float] = defaultdict(float)
        for role, k in (("fixes", _PRIOR_FIX_NEIGHBOURS), ("tries", _PRIOR_TRY_NEIGHBOURS)):
            for hit in self._neighbours(role, signature, code_context, language, k):
                template = str(hit.meta.get("template") or "")
                if hit.similarity < _PRIOR_MIN_SIMILARITY or not template:
                    continue
                if hit.meta.get("generator") == "memory":
                    continue  # a re-applied fix says nothing about generating it
                weight = hit.similarity * hit.similarity
                tried[template] += weight
                if hit.meta.get("outcome") == Outcome.VERIFIED:
                    verified[template] += weight
        total = sum(tried.values())
        overall = sum(verified.values()) / total if total else 0.0
        base = base or {}
        # Shrunk toward the engine's own rate: weak evidence (few, distant neighbours)
        # must not override it, or an unrelated memory would make things worse.
        return {
            t: (verified[t] + _PRIOR_PSEUDO_COUNT * base.get(t, overall))
            / (n + _PRIOR_PSEUDO_COUNT)
            for t, n in tried.items()
        }

    def search(
        self, query: str, language: str | None = None, k: int = 10
    ) -> list[tuple[AttemptRecord, float]]:
        """Records most similar to free text (an error message, code), fixes and tries."""
        from fixloop.memory.signature import signature_of

        if not self.available():
            return []
        signature = signature_of("", query)
        languages = [language] if language else self._languages()
        found = [
            hit
            for lang in languages
            for role in ROLES
            for hit in self._neighbours(role, signature, query, lang, k)
        ]
        found.sort(key=lambda hit: -hit.similarity)
        return [(hit.record(self._key()), hit.similarity) for hit in found[:k]]

    # --- the loop's view ----------------------------------------------------------------

    def past_fixes(
        self, context: RepairContext, k: int = 3, min_similarity: float = 0.5
    ) -> tuple[PastFix, ...]:
        """For `RepairContext.past_fixes` (the LLM prompt): unrelated fixes only cost
        tokens, hence the floor."""
        fixes = self.similar_fixes(
            context_signature(context),
            context_code(context),
            context.language,
            k,
            min_similarity=min_similarity,
        )
        return tuple(fix.past_fix() for fix in fixes)

    def prior_for(
        self, context: RepairContext, base: Mapping[str, float] | None = None
    ) -> dict[str, float]:
        """For `RepairContext.template_prior` / `FixSession(template_prior=…)`; `base`:
        the rates it refines (default: the offline engine's, with the context's own)."""
        if base is None:
            base = {**_engine_prior(context.language), **context.template_prior}
        return self.template_prior(
            context_signature(context), context.language, context_code(context), base
        )

    def suggestion(self, context: RepairContext, min_similarity: float = 0.8) -> Suggestion | None:
        """The best remembered fix that re-applies to the current code; else the engine's
        likeliest candidate making an edit of the same shape as a remembered fix of a
        similar failure (the same kind of bug in other code, see shapes.py); else None."""
        signature, code = context_signature(context), context_code(context)
        fixes = self.similar_fixes(
            signature,
            code,
            context.language,
            _TRANSFER_NEIGHBOURS,
            min_similarity=min(min_similarity, _TRANSFER_MIN_SIMILARITY),
        )
        close = [fix for fix in fixes if fix.similarity >= min_similarity]
        return _reapplied(close, context.sources) or _transferred(fixes, context)

    def suggestion_for(
        self,
        signature: FailureSignature,
        code_context: str,
        language: str,
        sources: Mapping[str, str],
        min_similarity: float = 0.8,
    ) -> Suggestion | None:
        fixes = self.similar_fixes(
            signature, code_context, language, 5, min_similarity=min_similarity
        )
        return _reapplied(fixes, sources)

    def _neighbours(
        self,
        role: str,
        signature: FailureSignature,
        code_context: str,
        language: str,
        k: int,
    ) -> list[_Hit]:
        if not self.available():
            return []
        try:
            vector = self.embedding.embed_sections([signature_sections(signature, code_context)])
            collection = self._collection(role, language, create=False)
            if collection is None:
                return []
            self._catch_up(role, language, collection)
            found = collection.query(
                query_embeddings=vector, n_results=k, include=["metadatas", "distances"]
            )
        except Exception as error:
            self._fail(f"memory: cannot read {self.config.where()}: {error}")
            return []
        return [
            _Hit(i, m, max(0.0, 1.0 - float(d)))
            for i, m, d in zip(
                found["ids"][0], found["metadatas"][0], found["distances"][0], strict=False
            )
        ]

    def _key(self) -> str:
        return self.embedding.key

    # --- housekeeping -------------------------------------------------------------------

    def holds_fixes(self) -> bool:
        """Whether any verified fix is remembered in this embedding's space: collection
        counts only, for a caller that would otherwise run the tests just to ask."""
        if not self.available():
            return False
        return any(collection.count() for collection in self._own_collections("fixes"))

    def stats(self) -> MemoryStats:
        available = self.available()  # first: coming back replays the spool
        spooled = len(self._read_spool())
        if not available:
            return MemoryStats(self.config.where(), False, self._reason, spooled=spooled)
        collections = self._all_collections()
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
        disk = None if self.config.url else _disk_bytes(self.config.store_path)
        return MemoryStats(
            self.config.where(),
            True,
            None,
            counts,
            {str(k): n for k, n in outcomes.items() if n},
            {str(k): n for k, n in verdicts.items() if n},
            spooled,
            disk,
        )

    def prune(
        self,
        max_age_days: float | None = None,
        cap_per_kind: int | None = None,
        *,
        now: float | None = None,
    ) -> int:
        """Drop records older than the retention, then the least useful records of each
        kind of failure beyond the cap (failed tries first, then unrated or rejected
        fixes, accepted fixes last; oldest first). Returns how many were removed."""
        if not self.available():
            return 0
        age = self.config.retention_days if max_age_days is None else max_age_days
        cap = self.config.cap_per_kind if cap_per_kind is None else cap_per_kind
        oldest = (time.time() if now is None else now) - age * 86400
        return sum(self._prune_language(language, oldest, cap) for language in self._languages())

    def prune_if_due(self, every_days: float = 1.0) -> int | None:
        """Retention for long-running processes: `prune()` at most once per `every_days`
        across processes (a marker file beside the spool); None when not due. It scans
        every record (seconds at 100k): call it off the editor's main thread."""
        marker = self.config.spool_path.with_name(self.config.spool_path.stem + ".pruned")
        try:
            if time.time() - marker.stat().st_mtime < every_days * 86400:
                return None
        except OSError:
            pass  # never pruned
        if not self.available():
            return None
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()  # first: a second process starting now does not prune as well
        return self.prune()

    def _prune_language(self, language: str, oldest: float, cap: int) -> int:
        by_kind: dict[str, list[tuple[int, float, str, str]]] = defaultdict(list)
        doomed: dict[str, list[str]] = defaultdict(list)
        for role in ROLES:
            collection = self._collection(role, language, create=False)
            if collection is None:
                continue
            for record_id, meta in _scan(collection):
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
            collection = self._collection(role, language)
            for start in range(0, len(ids), _PAGE):
                with self._writing():  # per page: other processes' writes get their turn
                    collection.delete(ids=ids[start : start + _PAGE])
        return sum(len(ids) for ids in doomed.values())

    def export(self, path: Path) -> int:
        """Every record of the current embedding as JSON lines; returns the count."""
        if not self.available():
            raise MemoryUnavailable(self._reason or "memory is unavailable")
        count = 0
        with path.open("w", encoding="utf-8") as out:
            for collection in self._own_collections():
                for record_id, meta in _scan(collection):
                    record = AttemptRecord.from_metadata(record_id, meta, self.embedding.key)
                    out.write(json.dumps(record.to_json(), sort_keys=True) + "\n")
                    count += 1
        return count

    def import_(self, path: Path, batch: int = 500) -> int:
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
                    count += self._import_batch(records)
                    records = []
        return count + self._import_batch(records)

    def _import_batch(self, records: list[AttemptRecord]) -> int:
        if records and not self.record_attempts(records):
            raise MemoryUnavailable(self._reason or "memory is unavailable")
        return len(records)

    # --- the store ----------------------------------------------------------------------

    def _connect(self) -> None:
        with self._lock:
            if self._client is not None:
                return
            if self._reason is not None and time.monotonic() < self._retry_at:
                raise MemoryUnavailable(self._reason)
            try:
                self._client = self._open_client()
                self._client.heartbeat()
            except Exception as error:
                self._client = None
                self._fail(
                    f"memory: {self.config.where()} is unavailable ({error}); "
                    "fixloop works on without it and keeps new records to replay"
                )
                raise MemoryUnavailable(self._reason or str(error)) from error
            if self._reason is not None:
                log.info("memory: %s is available again", self.config.where())
            self._reason, self._reported = None, False
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

    def _open_client(self) -> Any:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        if self.config.url:
            return _http_client(self.config.url, settings)
        path = self.config.store_path
        path.mkdir(parents=True, exist_ok=True)
        if self.config.probe and not is_vouched_for(path):
            probe(path)
        # Two processes creating one store race on its tables.
        with _file_lock(path / ".fixloop-lock", self.config.lock_timeout):
            return chromadb.PersistentClient(path=str(path), settings=settings)

    def _fail(self, reason: str) -> None:
        with self._lock:
            self._client = None
            self._collections.clear()
            self._reason = reason
            self._retry_at = time.monotonic() + self.config.retry_seconds
            if not self._reported:
                self._reported = True
                self._on_unavailable(reason)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer at a time across processes on an embedded store (SQLite would
        otherwise answer `database is locked` under contention)."""
        with self._lock:
            if self.config.url:
                yield
                return
            with _file_lock(self.config.store_path / ".fixloop-lock", self.config.lock_timeout):
                if self._database_change() != self._seen_change:  # another process wrote
                    self._behind = set(self._collections)
                yield
                self._seen_change = self._database_change()
                vouch_for(self.config.store_path)  # what this process wrote, it trusts

    def _database_change(self) -> int:
        try:
            return (self.config.store_path / "chroma.sqlite3").stat().st_mtime_ns
        except OSError:
            return 0

    def _catch_up(self, role: str, language: str, collection: Any) -> None:
        """Let another process's new records into this one's view (two editor windows,
        CI): a no-op delete makes Chroma apply its log. Checked at most every
        `refresh_seconds`, and only when the database changed."""
        if self.config.url:
            return
        now = time.monotonic()
        if now - self._checked_at >= self.config.refresh_seconds:
            self._checked_at = now
            change = self._database_change()
            if change != self._seen_change:
                self._seen_change = change
                self._behind = set(self._collections)
        if (role, language) in self._behind:
            self._behind.discard((role, language))
            with self._writing():
                collection.delete(ids=[_NO_RECORD])

    def _collection(self, role: str, language: str, *, create: bool = True) -> Any:
        key = (role, language)
        with self._lock:
            if key not in self._collections:
                name = self._collection_name(role, language)
                if create:
                    self._collections[key] = self._client.get_or_create_collection(
                        name,
                        embedding_function=None,  # vectors are always given: no model download
                        metadata={"hnsw:space": "cosine", "embedding": self.embedding.key},
                    )
                elif name in self._collection_names():
                    self._collections[key] = self._client.get_collection(
                        name, embedding_function=None
                    )
                else:
                    return None
            return self._collections[key]

    def _collection_name(self, role: str, language: str) -> str:
        return f"{_PREFIX}-{role}-{language}-{self.embedding.key}"

    def _collection_names(self) -> list[str]:
        return [c.name for c in self._client.list_collections()]

    def _all_collections(self) -> list[Any]:
        names = [n for n in self._collection_names() if n.startswith(_PREFIX + "-")]
        return [self._client.get_collection(n, embedding_function=None) for n in sorted(names)]

    def _own_collections(self, role: str | None = None) -> list[Any]:
        suffix = "-" + self.embedding.key
        return [
            c
            for c in self._all_collections()
            if c.name.endswith(suffix) and (role is None or c.name.split("-")[1] == role)
        ]

    def _languages(self) -> list[str]:
        suffix = "-" + self.embedding.key
        languages = {
            name[len(_PREFIX) + 1 :].split("-", 2)[1]
            for name in self._collection_names()
            if name.startswith(_PREFIX + "-") and name.endswith(suffix)
        }
        return sorted(languages)

    # --- the spool ----------------------------------------------------------------------

    def _spool(self, entries: Iterable[Mapping[str, Any]]) -> None:
        path = self.config.spool_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lines = "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries)
            with _file_lock(path.with_name(path.name + ".lock")), path.open("a") as out:
                out.write(lines)
        except OSError as error:
            log.warning("memory: cannot keep records in %s either: %s", path, error)

    def _read_spool(self) -> list[dict[str, Any]]:
        path = self.config.spool_path
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return []
        entries = []
        for line in text.splitlines():
            with contextlib.suppress(ValueError):
                entries.append(json.loads(line))
        return entries

    def _replay_spool(self) -> None:
        """Apply what was kept while the store was down; keep what still fails."""
        path = self.config.spool_path
        if not path.exists():
            return
        try:
            with _file_lock(path.with_name(path.name + ".lock")):
                entries = self._read_spool()
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
_UNDECODED = AttemptRecord(
    "", FailureSignature("", "", ""), "", "", "", "", "", None, Outcome.FAILED, id=""
)


def _reapplied(fixes: Sequence[RememberedFix], sources: Mapping[str, str]) -> Suggestion | None:
    """The best of `fixes` whose changed lines are found in today's code, re-applied."""
    from fixloop.loop.model import Candidate

    for fix in fixes:
        changes = reapply(fix.record, sources)
        if changes is None:
            continue
        size = sum(abs(len(text) - len(sources.get(p, ""))) for p, text in changes.items())
        candidate = Candidate(
            changes=changes,
            description=fix.title(),
            generator="memory",
            template=fix.record.template,
            edit_size=max(size, 1),
        )
        return Suggestion(candidate, fix)
    return None


def _transferred(fixes: Sequence[RememberedFix], context: RepairContext) -> Suggestion | None:
    """The first of the offline engine's candidates (in its order: most suspicious line,
    likeliest template) that makes an edit of a remembered fix's shape. Fixes with a poor
    track record (rejected, reverted, failing when re-applied) are not transferred."""
    shapes: dict[str, RememberedFix] = {}
    for fix in fixes:
        if fix.success_rate * fix.acceptance < _TRANSFER_MIN_RECORD:
            continue
        shape = edit_shape(fix.record.context_before, fix.record.context_after)
        if shape is not None:
            shapes.setdefault(shape, fix)
    if not shapes or context.language != "python":
        return None
    from fixloop.loop.offline import OfflineGenerator

    generator = OfflineGenerator(max_candidates=_TRANSFER_WITHIN, max_pairs=0)
    for candidate in generator.candidates(context):
        path = next(iter(candidate.changes))
        remembered = shapes.get(
            edit_shape(context.sources.get(path, ""), candidate.changes[path]) or ""
        )
        if remembered is not None:
            transferred = replace(
                candidate,
                generator="memory",
                description=f"{candidate.description} (as in a fix seen before)",
            )
            return Suggestion(transferred, remembered, transferred=True)
    return None


def _role(record: AttemptRecord) -> str:
    return "fixes" if record.outcome is Outcome.VERIFIED else "tries"


def _keep_rank(role: str, verdict: str) -> int:
    """Eviction order under the cap: lower goes first."""
    if role == "tries":
        return 0
    return 2 if verdict == Verdict.ACCEPTED else 1


@dataclass(frozen=True)
class _Hit:
    """One neighbour as Chroma returned it; decoded into a record only when needed."""

    id: str
    meta: Mapping[str, Any]
    similarity: float

    def record(self, embedding: str) -> AttemptRecord:
        return AttemptRecord.from_metadata(self.id, self.meta, embedding)


def _group_fixes(hits: Sequence[_Hit], embedding: str, k: int) -> list[RememberedFix]:
    """The `k` best distinct edits (`fix_key`), each with the track record of its repeats
    among the neighbours. Only the winners' records are decoded."""
    groups: dict[str, list[_Hit]] = defaultdict(list)
    for hit in hits:
        groups[str(hit.meta.get("fix_key") or hit.id)].append(hit)
    fixes = []
    for members in groups.values():
        best = max(members, key=lambda hit: hit.similarity)
        verdicts = [str(hit.meta.get("verdict") or "") for hit in members]
        fixes.append(
            (
                best,
                RememberedFix(
                    record=_UNDECODED,
                    similarity=best.similarity,
                    uses=len(members),
                    accepted=verdicts.count(Verdict.ACCEPTED),
                    rejected=verdicts.count(Verdict.REJECTED),
                    reverted=verdicts.count(Verdict.REVERTED),
                    failed_reuses=sum(int(h.meta.get("failed_reuses") or 0) for h in members),
                ),
            )
        )
    fixes.sort(key=lambda pair: -pair[1].score)
    return [replace(fix, record=best.record(embedding)) for best, fix in fixes[:k]]


def _scan(collection: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    offset = 0
    while True:
        page = collection.get(limit=_PAGE, offset=offset, include=["metadatas"])
        yield from zip(page["ids"], page["metadatas"], strict=False)
        if len(page["ids"]) < _PAGE:
            return
        offset += _PAGE


def _count_where(collection: Any, key: str, value: str) -> int:
    return len(collection.get(where={key: value}, include=[])["ids"])


def _http_client(url: str, settings: Any) -> Any:
    """A client of a Chroma server, checked to answer within seconds (Chroma's own HTTP
    session has no timeout: a black-holed host would hang fixloop)."""
    import socket

    import chromadb
    import httpx

    parts = urlsplit(url if "://" in url else f"http://{url}")
    host, ssl = parts.hostname or "localhost", parts.scheme == "https"
    port = parts.port or (443 if ssl else 8000)
    with socket.create_connection((host, port), timeout=3.0):
        pass
    client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(10.0, connect=3.0)
    return client


class StoreLocked(OSError):
    """Another process has held the store's write lock for longer than we wait."""


@contextlib.contextmanager
def _file_lock(path: Path, timeout: float = 10.0) -> Iterator[None]:
    """An exclusive advisory lock between processes (none where fcntl is missing).
    Gives up after `timeout` seconds: a hung process must not hang every other one."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreLocked(f"{path} is locked by another process") from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _engine_prior(language: str) -> Mapping[str, float]:
    """The offline engine's own template rates (what a learned prior refines)."""
    if language != "python":
        return {}
    from fixloop.loop.offline.generator import DEFAULT_PRIOR

    return DEFAULT_PRIOR


def _disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
