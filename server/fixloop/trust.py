"""Trust: which projects may set the settings that decide where data goes or code runs.

A setting is *restricted* when its dataclass field carries `RESTRICTED` in its metadata
(the model endpoint, the key variable, the memory server, the Docker host, …). A project's
own files may set restricted settings only once the user has trusted the project — with
`fixloop trust PATH`, recorded here in the user's data folder, or through the editor's
workspace trust. A record is bound to the digest of the restricted values the user saw:
when the project changes them, it must be trusted again (as direnv's `allow`).

This module imports nothing of fixloop's settings, so that any settings module can import
the marker.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any

# Field metadata of a restricted setting: `field(default=…, metadata=RESTRICTED)`.
RESTRICTED: Mapping[str, Any] = MappingProxyType({"fixloop.restricted": True})
STORE_NAME = "trusted-projects.json"


def is_restricted(metadata: Mapping[str, Any]) -> bool:
    return bool(metadata.get("fixloop.restricted"))


class Trust(Enum):
    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"  # never trusted (or revoked)
    CHANGED = "changed"  # trusted once, but its restricted settings changed since


def digest_of(values: Mapping[str, Any]) -> str:
    """The digest a record is bound to: the restricted values, whatever their order."""
    import hashlib  # here: the server's start-up does not need it

    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TrustRecord:
    path: str
    digest: str
    settings: tuple[str, ...]  # the restricted settings trusted, by name
    trusted_at: float


class TrustStore:
    """`trusted-projects.json` in the user's data folder: one record per project folder.
    Written atomically; a file that cannot be read trusts nothing (and says why)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / STORE_NAME

    @classmethod
    def default(cls, environ: Mapping[str, str] | None = None) -> TrustStore:
        from fixloop.sessions.log import default_data_dir

        return cls(default_data_dir(environ))

    def records(self) -> dict[str, TrustRecord]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # unreadable: nothing is trusted (`fixloop trust` rewrites it)
        projects = raw.get("projects") if isinstance(raw, dict) else None
        if not isinstance(projects, dict):
            return {}
        records = {}
        for path, entry in projects.items():
            if isinstance(entry, dict) and isinstance(entry.get("digest"), str):
                names = entry.get("settings")
                records[path] = TrustRecord(
                    path,
                    entry["digest"],
                    tuple(str(n) for n in names) if isinstance(names, list) else (),
                    float(entry.get("trusted_at") or 0.0),
                )
        return records

    def status(self, root: Path, digest: str) -> Trust:
        record = self.records().get(key_of(root))
        if record is None:
            return Trust.UNTRUSTED
        return Trust.TRUSTED if record.digest == digest else Trust.CHANGED

    def trust(self, root: Path, digest: str, settings: tuple[str, ...]) -> TrustRecord:
        record = TrustRecord(key_of(root), digest, settings, time.time())
        records = self.records()
        records[record.path] = record
        self._write(records)
        return record

    def revoke(self, root: Path) -> bool:
        records = self.records()
        if records.pop(key_of(root), None) is None:
            return False
        self._write(records)
        return True

    def _write(self, records: Mapping[str, TrustRecord]) -> None:
        import tempfile

        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "version": 1,
            "projects": {
                path: {
                    "digest": r.digest,
                    "settings": list(r.settings),
                    "trusted_at": r.trusted_at,
                }
                for path, r in sorted(records.items())
            },
        }
        handle, temporary = tempfile.mkstemp(prefix=".trust-", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(body, out, indent=2)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def key_of(root: Path) -> str:
    """A project's key in the store: its resolved path (a symlink trusts its target)."""
    return str(root.expanduser().resolve())
