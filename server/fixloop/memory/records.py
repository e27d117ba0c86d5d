"""What memory remembers: one record per attempt (a candidate tested against a failure),
and what a user later said about it."""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import re
import time
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from fixloop.memory.redact import redact_code, redact_text
from fixloop.memory.shapes import file_edit_kind
from fixloop.memory.signature import FailureSignature, signature_of

if TYPE_CHECKING:
    from fixloop.loop.model import Candidate, RepairContext

# Lines of unchanged code kept around a change: enough to find the place again.
CONTEXT_LINES = 3


class Outcome(StrEnum):
    VERIFIED = "verified"  # the failing tests pass and the whole suite has no regression
    FAILED = "failed"  # the failing tests still fail
    REGRESSIONS = "regressions"  # the failing tests pass, others broke


class Verdict(StrEnum):
    ACCEPTED = "accepted"  # applied by the user
    REJECTED = "rejected"  # offered and dismissed
    REVERTED = "reverted"  # applied, then undone


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt at a failure. Text fields are redacted before a record is made."""

    language: str
    signature: FailureSignature
    context_before: str  # the changed lines with a few lines around them, before …
    context_after: str  # … and after the change
    patch: str  # unified diff of every changed file
    path: str  # the (first) changed file, relative to the project root
    generator: str  # "offline", "llm:<model>", "memory"
    template: str | None
    outcome: Outcome
    regressions: int = 0
    verdict: Verdict | None = None
    session: str = ""
    reused_from: str | None = None  # the remembered fix this attempt re-applied
    failed_reuses: int = 0  # times this fix was re-applied from memory and failed
    created_at: float = field(default_factory=time.time)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    embedding: str = ""  # the embedding key of the collection holding it (set on store)
    # The kind of its edit (memory/shapes.py `EditKind.to_text`), with its names' roles
    # read from the whole file; "" for records made before (read from the contexts then).
    edit_kind: str = ""

    @property
    def verified(self) -> bool:
        return self.outcome is Outcome.VERIFIED

    @property
    def fix_key(self) -> str:
        """The same edit made again (elsewhere, later) has the same key."""
        removed, added = changed_lines(self.context_before, self.context_after)
        text = "\n".join(
            ["-" + line.strip() for line in removed] + ["+" + line.strip() for line in added]
        )
        return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]

    @property
    def kind_id(self) -> str:
        return self.signature.kind_id(self.language)

    def sections(self) -> dict[str, str]:
        """What the embedding sees: the failure and the code before the change."""
        return signature_sections(self.signature, self.context_before)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["signature"] = self.signature.to_dict()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AttemptRecord:
        values = dict(data)
        values["signature"] = FailureSignature.from_dict(values.get("signature") or {})
        values["outcome"] = Outcome(values["outcome"])
        values["verdict"] = Verdict(values["verdict"]) if values.get("verdict") else None
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})

    def to_metadata(self) -> dict[str, str | int | float | bool]:
        """Chroma metadata: the few scalars ranking and housekeeping read, and the rest as
        one compressed JSON `body`. Chroma stores every metadata value twice (row and
        index), and `documents` carry a trigram full-text index: both would triple the
        store for text nobody filters on."""
        body = {
            "signature": self.signature.to_dict(),
            "context_before": self.context_before,
            "context_after": self.context_after,
            "patch": self.patch,
            "path": self.path,
            "regressions": self.regressions,
            "session": self.session,
            "reused_from": self.reused_from or "",
            "edit_kind": self.edit_kind,
        }
        return {
            "language": self.language,
            "kind": self.kind_id,
            "fix_key": self.fix_key,
            "generator": self.generator,
            "template": self.template or "",
            "outcome": self.outcome.value,
            "verdict": self.verdict.value if self.verdict else "",
            "created_at": self.created_at,
            "failed_reuses": self.failed_reuses,
            "body": _pack(body),
        }

    @classmethod
    def from_metadata(
        cls, record_id: str, meta: Mapping[str, Any], embedding: str
    ) -> AttemptRecord:
        body = _unpack(str(meta.get("body") or "{}"))
        return cls(
            id=record_id,
            language=str(meta.get("language", "")),
            signature=FailureSignature.from_dict(body.get("signature") or {}),
            context_before=str(body.get("context_before", "")),
            context_after=str(body.get("context_after", "")),
            patch=str(body.get("patch", "")),
            path=str(body.get("path", "")),
            generator=str(meta.get("generator", "")),
            template=str(meta.get("template", "")) or None,
            outcome=Outcome(str(meta.get("outcome", "failed"))),
            regressions=int(body.get("regressions", 0)),
            verdict=Verdict(str(meta["verdict"])) if meta.get("verdict") else None,
            session=str(body.get("session", "")),
            reused_from=str(body.get("reused_from", "")) or None,
            failed_reuses=int(meta.get("failed_reuses", 0)),
            created_at=float(meta.get("created_at", 0.0)),
            embedding=embedding,
            edit_kind=str(body.get("edit_kind", "")),
        )


def _pack(body: Mapping[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return "z:" + base64.b64encode(zlib.compress(text.encode(), 9)).decode("ascii")


def _unpack(body: str) -> dict[str, Any]:
    if body.startswith("z:"):
        body = zlib.decompress(base64.b64decode(body[2:])).decode()
    data = json.loads(body)
    return data if isinstance(data, dict) else {}


def signature_sections(signature: FailureSignature, code: str) -> dict[str, str]:
    return {
        "exception": signature.exception,
        "message": signature.message,
        "test": signature.test,
        "frames": " ".join(signature.frames),
        "code": code,
    }


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines removed from `before` and added in `after` (context lines dropped)."""
    removed: list[str] = []
    added: list[str] = []
    old, new = before.splitlines(), after.splitlines()
    for tag, i1, i2, j1, j2 in line_opcodes(old, new):
        if tag != "equal":
            removed.extend(old[i1:i2])
            added.extend(new[j1:j2])
    return removed, added


def common_ends(old: list[str], new: list[str]) -> tuple[int, int]:
    """How many lines the two share at their start, and then at their end."""
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    return prefix, suffix


def line_opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes of two versions of a file, matched only between their common
    start and end: a candidate changes a line or two of a file of thousands, and each
    of a session's records compared every line (most of a long session's time)."""
    prefix, suffix = common_ends(old, new)
    middle = difflib.SequenceMatcher(
        None, old[prefix : len(old) - suffix], new[prefix : len(new) - suffix], autojunk=False
    ).get_opcodes()
    opcodes = [("equal", 0, prefix, 0, prefix)] if prefix else []
    opcodes += [
        (tag, i1 + prefix, i2 + prefix, j1 + prefix, j2 + prefix) for tag, i1, i2, j1, j2 in middle
    ]
    if suffix:
        opcodes.append(("equal", len(old) - suffix, len(old), len(new) - suffix, len(new)))
    return opcodes


_HUNK = re.compile(r"^@@ -(\d+)((?:,\d+)?) \+(\d+)((?:,\d+)?) @@")


def unified_lines(old: list[str], new: list[str], a: str, b: str) -> list[str]:
    """difflib's unified diff (3 lines of context), computed on the changed region only."""
    prefix, suffix = common_ends(old, new)
    start, cut = max(0, prefix - 3), max(0, suffix - 3)
    lines = list(
        difflib.unified_diff(old[start : len(old) - cut], new[start : len(new) - cut], a, b)
    )

    def shifted(match: re.Match[str]) -> str:
        old_at, old_count, new_at, new_count = match.groups()
        return f"@@ -{int(old_at) + start}{old_count} +{int(new_at) + start}{new_count} @@"

    return [_HUNK.sub(shifted, line) if line.startswith("@@") else line for line in lines]


def change_contexts(original: str, changed: str) -> tuple[str, str]:
    """The changed region of a file, with `CONTEXT_LINES` around it, before and after."""
    old, new = original.splitlines(keepends=True), changed.splitlines(keepends=True)
    opcodes = [op for op in line_opcodes(old, new) if op[0] != "equal"]
    if not opcodes:
        return "", ""
    i1, j1 = opcodes[0][1], opcodes[0][3]
    i2, j2 = opcodes[-1][2], opcodes[-1][4]
    start_old, start_new = max(0, i1 - CONTEXT_LINES), max(0, j1 - CONTEXT_LINES)
    return (
        "".join(old[start_old : i2 + CONTEXT_LINES]),
        "".join(new[start_new : j2 + CONTEXT_LINES]),
    )


def unified_patch(originals: Mapping[str, str], changes: Mapping[str, str]) -> str:
    parts: list[str] = []
    for path in sorted(changes):
        before = originals.get(path, "")
        parts.extend(
            unified_lines(
                before.splitlines(keepends=True),
                changes[path].splitlines(keepends=True),
                f"a/{path}",
                f"b/{path}",
            )
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in parts)


def attempt_from_candidate(
    context: RepairContext,
    candidate: Candidate,
    outcome: Outcome,
    *,
    regressions: int = 0,
    session: str = "",
    reused_from: str | None = None,
) -> AttemptRecord:
    """The record of one tested candidate, redacted, from the loop's own data."""
    language = context.language
    changed = [p for p, text in candidate.changes.items() if context.sources.get(p) != text]
    paths = changed or sorted(candidate.changes)
    originals = {p: _redacted_original(context.sources.get(p, ""), language) for p in paths}
    changes = {
        p: redact_code(candidate.changes[p], language, context.sources.get(p)) for p in paths
    }
    first = paths[0] if paths else ""
    before, after = change_contexts(originals.get(first, ""), changes.get(first, ""))
    kind = (
        file_edit_kind(originals.get(first, ""), changes.get(first, ""))
        if language == "python"
        else None
    )
    return AttemptRecord(
        language=language,
        signature=context_signature(context),
        context_before=before,
        context_after=after,
        patch=unified_patch(originals, changes),
        path=first,
        generator=candidate.generator,
        template=candidate.template,
        outcome=outcome,
        regressions=regressions,
        session=session,
        reused_from=reused_from,
        edit_kind=kind.to_text() if kind is not None else "",
    )


@lru_cache(maxsize=8)  # a session's every candidate is recorded against the same files
def _redacted_original(text: str, language: str) -> str:
    return redact_code(text, language)


def context_signature(context: RepairContext) -> FailureSignature:
    """The signature of a repair context's first failure (the one the loop fixes first)."""
    if not context.failures:
        return FailureSignature("", normalize_free_text(context.test_output), "")
    failure = context.failures[0]
    signature = signature_of(failure.test_id, failure.message, failure.frames, context.sources)
    return replace(signature, message=redact_text(signature.message))


def normalize_free_text(text: str) -> str:
    from fixloop.memory.signature import normalize_message

    lines = [line for line in text.splitlines() if line.strip()]
    return redact_text(normalize_message("\n".join(lines[-3:])))


def context_code(context: RepairContext, lines: int = CONTEXT_LINES) -> str:
    """The code around the most suspicious location (what a record's `context_before` is
    compared with)."""
    if not context.locations:
        return ""
    top = context.locations[0]
    text = context.sources.get(top.path, "")
    all_lines = text.splitlines(keepends=True)
    start = max(0, top.line - 1 - lines)
    return redact_code("".join(all_lines[start : top.line + lines]), context.language)
