"""Reading the memory: neighbours of a failure, grouped into remembered fixes with their
track record, the template prior among recurring failures, and free-text search.
Ranking is done in Python on Chroma's top-k."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fixloop.memory.chroma import ROLES, ChromaStore
from fixloop.memory.records import AttemptRecord, Outcome, Verdict, signature_sections
from fixloop.memory.signature import FailureSignature

# Neighbours read per lookup: enough to group repeats of a fix, few enough to stay fast.
_FIX_NEIGHBOURS = 20
_PRIOR_FIX_NEIGHBOURS = 50
_PRIOR_TRY_NEIGHBOURS = 100
# The template prior learns from the same failure recurring, not from merely similar
# ones: measured on benchmarks/families (bench_learning.py), neighbours from 0.3 up were
# as similar across kinds of bug as within one, and a prior from other kinds of bug put
# the right template behind theirs (median candidates tried 5 -> 13.5). A kind of bug in
# other code is recognized by the shape of its fix instead (`loop.recall.transferred`).
_PRIOR_MIN_SIMILARITY = 0.8
# How many candidates' worth of evidence the engine's own rate counts for: one verified
# neighbour at similarity 0.7 (weight 0.49) moves a rate about a tenth of the way to it.
_PRIOR_PSEUDO_COUNT = 4.0
_REVERT_WEIGHT = 2.0  # a fix applied and then undone says more than one dismissed


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


def similar_fixes(
    store: ChromaStore,
    signature: FailureSignature,
    code_context: str,
    language: str,
    k: int = 5,
    *,
    min_similarity: float = 0.0,
) -> list[RememberedFix]:
    """Verified fixes of similar failures, best first by similarity * success rate *
    acceptance (repeats of one edit are grouped)."""
    hits = neighbours(
        store, "fixes", signature, code_context, language, max(_FIX_NEIGHBOURS, 2 * k)
    )
    return _group_fixes([h for h in hits if h.similarity >= min_similarity], store.key(), k)


def template_prior(
    store: ChromaStore,
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
        for hit in neighbours(store, role, signature, code_context, language, k):
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
        t: (verified[t] + _PRIOR_PSEUDO_COUNT * base.get(t, overall)) / (n + _PRIOR_PSEUDO_COUNT)
        for t, n in tried.items()
    }


def search(
    store: ChromaStore, query: str, language: str | None = None, k: int = 10
) -> list[tuple[AttemptRecord, float]]:
    """Records most similar to free text (an error message, code), fixes and tries."""
    from fixloop.memory.signature import signature_of

    if not store.available():
        return []
    signature = signature_of("", query)
    languages = [language] if language else store.languages()
    found = [
        hit
        for lang in languages
        for role in ROLES
        for hit in neighbours(store, role, signature, query, lang, k)
    ]
    found.sort(key=lambda hit: -hit.similarity)
    return [(hit.record(store.key()), hit.similarity) for hit in found[:k]]


def neighbours(
    store: ChromaStore,
    role: str,
    signature: FailureSignature,
    code_context: str,
    language: str,
    k: int,
) -> list[_Hit]:
    """The `k` nearest records of a role (nothing when the store is down: said once)."""
    if not store.available():
        return []
    try:
        vector = store.embedding.embed_sections([signature_sections(signature, code_context)])
        collection = store.collection(role, language, create=False)
        if collection is None:
            return []
        store.catch_up(role, language, collection)
        found = collection.query(
            query_embeddings=vector, n_results=k, include=["metadatas", "distances"]
        )
    except Exception as error:
        store.fail(f"memory: cannot read {store.config.where()}: {error}")
        return []
    return [
        _Hit(i, m, max(0.0, 1.0 - float(d)))
        for i, m, d in zip(
            found["ids"][0], found["metadatas"][0], found["distances"][0], strict=False
        )
    ]


def holds_fixes(store: ChromaStore) -> bool:
    """Whether any verified fix is remembered in this embedding's space: collection
    counts only, for a caller that would otherwise run the tests just to ask."""
    if not store.available():
        return False
    return any(collection.count() for collection in store.own_collections("fixes"))


_UNDECODED = AttemptRecord(
    "", FailureSignature("", "", ""), "", "", "", "", "", None, Outcome.FAILED, id=""
)


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
