"""ChromaDB plumbing for the memory store: the client, one collection per (role,
language, embedding), cross-process locks and catching up, and the spool.

Layout: two collections per (role, language, embedding) — `fixes` (verified attempts)
and `tries` (attempts that failed) — named `fixloop-<role>-<language>-<embedding key>`.
Separate collections instead of a `where` filter keep a lookup on the fast unfiltered
path (Chroma 1.5 at 100k records: ~2 ms unfiltered, ~74 ms filtered), and keep the many
failed tries of one session from crowding the fixes out of the top-k. Ranking is done in
Python on the top-k.

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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fixloop.memory.embedding import (
    EmbeddingUnavailable,
    HashedNgramEmbedding,
    MemoryEmbedding,
    embedding_for,
)
from fixloop.memory.probe import is_vouched_for, probe, vouch_for
from fixloop.memory.settings import MemorySettings, ModelEndpoint

log = logging.getLogger(__name__)

ROLES = ("fixes", "tries")
_PREFIX = "fixloop"
PAGE = 5000  # records per `get` page when scanning (prune, export, stats)
_NO_RECORD = "fixloop-no-record"  # deleted to make Chroma catch up; never stored


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


class ChromaStore:
    """The store's connection and collections. Opens lazily, on first use; thread-safe.
    `opened` runs each time it becomes available (the store replays its spool there)."""

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
            self.connect()
        except MemoryUnavailable:
            return False
        return True

    def close(self) -> None:
        with self._lock:
            self._client = None
            self._collections.clear()

    def key(self) -> str:
        """The embedding's key: which collections (vector space) this process uses."""
        return self.embedding.key

    def opened(self) -> None:
        """Called, outside the lock, each time the store becomes available."""

    # --- the connection -----------------------------------------------------------------

    def connect(self) -> None:
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
                self.fail(
                    f"memory: {self.config.where()} is unavailable ({error}); "
                    "fixloop works on without it and keeps new records to replay"
                )
                raise MemoryUnavailable(self._reason or str(error)) from error
            if self._reason is not None:
                log.info("memory: %s is available again", self.config.where())
            self._reason, self._reported = None, False
        self.opened()

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
        with file_lock(path / ".fixloop-lock", self.config.lock_timeout):
            return chromadb.PersistentClient(path=str(path), settings=settings)

    def fail(self, reason: str) -> None:
        with self._lock:
            self._client = None
            self._collections.clear()
            self._reason = reason
            self._retry_at = time.monotonic() + self.config.retry_seconds
            if not self._reported:
                self._reported = True
                self._on_unavailable(reason)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """One writer at a time across processes on an embedded store (SQLite would
        otherwise answer `database is locked` under contention)."""
        with self._lock:
            if self.config.url:
                yield
                return
            with file_lock(self.config.store_path / ".fixloop-lock", self.config.lock_timeout):
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

    def catch_up(self, role: str, language: str, collection: Any) -> None:
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
            with self.writing():
                collection.delete(ids=[_NO_RECORD])

    def collection(self, role: str, language: str, *, create: bool = True) -> Any:
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

    def all_collections(self) -> list[Any]:
        names = [n for n in self._collection_names() if n.startswith(_PREFIX + "-")]
        return [self._client.get_collection(n, embedding_function=None) for n in sorted(names)]

    def own_collections(self, role: str | None = None) -> list[Any]:
        suffix = "-" + self.embedding.key
        return [
            c
            for c in self.all_collections()
            if c.name.endswith(suffix) and (role is None or c.name.split("-")[1] == role)
        ]

    def languages(self) -> list[str]:
        suffix = "-" + self.embedding.key
        languages = {
            name[len(_PREFIX) + 1 :].split("-", 2)[1]
            for name in self._collection_names()
            if name.startswith(_PREFIX + "-") and name.endswith(suffix)
        }
        return sorted(languages)

    # --- the spool ----------------------------------------------------------------------

    def spool(self, entries: Iterable[Mapping[str, Any]]) -> None:
        path = self.config.spool_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lines = "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries)
            with file_lock(path.with_name(path.name + ".lock")), path.open("a") as out:
                out.write(lines)
        except OSError as error:
            log.warning("memory: cannot keep records in %s either: %s", path, error)

    def read_spool(self) -> list[dict[str, Any]]:
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


def scan(collection: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    offset = 0
    while True:
        page = collection.get(limit=PAGE, offset=offset, include=["metadatas"])
        yield from zip(page["ids"], page["metadatas"], strict=False)
        if len(page["ids"]) < PAGE:
            return
        offset += PAGE


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
def file_lock(path: Path, timeout: float = 10.0) -> Iterator[None]:
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
