"""A damaged vector index can crash Chroma's native code (a segmentation fault, not an
exception), which would take the language server down with it. So an embedded store
whose index files changed since this process or a probe last vouched for them is first
opened and searched in a child process; only a store that survives is opened here."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
from pathlib import Path

_STAMP = ".fixloop-verified.json"
_PROBE = """
import sys
import chromadb
from chromadb.config import Settings

client = chromadb.PersistentClient(sys.argv[1], settings=Settings(anonymized_telemetry=False))
for listed in client.list_collections():
    collection = client.get_collection(listed.name, embedding_function=None)
    first = collection.get(limit=1, include=["embeddings"])
    if first["ids"]:
        collection.query(query_embeddings=[first["embeddings"][0]], n_results=10)
"""


class StoreDamaged(Exception):
    """The store crashes or fails when opened and searched."""


def index_state(path: Path) -> dict[str, list[int]]:
    """Size and modification time of every index file of the store."""
    state: dict[str, list[int]] = {}
    for file in sorted(path.glob("*/*.bin")):
        try:
            info = file.stat()
        except OSError:
            continue
        state[str(file.relative_to(path))] = [info.st_size, info.st_mtime_ns]
    return state


def is_vouched_for(path: Path) -> bool:
    try:
        stamp = json.loads((path / _STAMP).read_text())
    except (OSError, ValueError):
        return not index_state(path)  # a new or index-less store has nothing to crash on
    return bool(stamp == index_state(path))


def vouch_for(path: Path) -> None:
    """Record the index files as sound (after a probe, or after this process wrote them)."""
    with contextlib.suppress(OSError):  # at worst the next start probes again
        (path / _STAMP).write_text(json.dumps(index_state(path)))


def probe(path: Path, timeout: float = 120.0) -> None:
    """Open and search every collection in a child process; raise StoreDamaged if it
    crashes or fails, else vouch for the store."""
    try:
        result = subprocess.run(
            [sys.executable, "-c", _PROBE, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        raise StoreDamaged(f"opening it took over {timeout:.0f} s") from error
    if result.returncode < 0:
        name = signal.Signals(-result.returncode).name
        raise StoreDamaged(f"its vector index crashes Chroma ({name}); move the folder away")
    if result.returncode:
        last = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise StoreDamaged(last)
    vouch_for(path)
