"""A store that is corrupt, locked, written by two processes at once, or a team server
that is down: fixloop keeps working, says so once, and loses no record it can keep."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixloop.loop import recall
from fixloop.loop.model import RepairContext
from fixloop.memory import AttemptRecord, MemoryConfig, MemoryStore, Outcome, Verdict
from fixloop.memory.records import context_signature
from tests.memory.conftest import ChromaServer, context_for, free_port, port_open, record_for

SOURCE = "def inc(x):\n    return x - 1\n"
FIXED = "def inc(x):\n    return x + 1\n"


def context() -> RepairContext:
    return context_for({"inc.py": SOURCE}, "AssertionError: assert 0 == 2", line=2)


def records(count: int, outcome: Outcome = Outcome.FAILED) -> list[AttemptRecord]:
    return [record_for(context(), SOURCE.replace("1", str(n)), outcome) for n in range(count)]


def test_corrupt_store_keeps_working_says_so_once_and_spools(tmp_path: Path) -> None:
    path = tmp_path / "memory"
    healthy = MemoryStore(MemoryConfig(path=path))
    assert healthy.record_attempt(record_for(context(), FIXED))
    healthy.close()
    _clear_chroma_cache()
    (path / "chroma.sqlite3").write_bytes(os.urandom(4096) * 8)

    reasons: list[str] = []
    store = MemoryStore(MemoryConfig(path=path, retry_seconds=0.0), on_unavailable=reasons.append)
    assert recall.past_fixes(store, context()) == ()
    assert recall.prior_for(store, context()) == {}
    kept = record_for(context(), FIXED)
    assert not store.record_attempt(kept)
    assert not store.record_verdict(kept.id, Verdict.ACCEPTED)
    assert recall.suggestion(store, context()) is None
    assert len(reasons) == 1 and str(path) in reasons[0]
    assert store.stats().spooled == 2

    # The user moves the broken store away: the kept record and verdict arrive.
    path.rename(tmp_path / "memory.broken")
    _clear_chroma_cache()
    [fix] = store.similar_fixes(context_signature(context()), "", "python")
    assert (fix.record.id, fix.accepted) == (kept.id, 1)
    assert store.stats().spooled == 0
    assert store.unavailable is None


def test_two_writer_processes_lose_nothing(tmp_path: Path) -> None:
    script = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from fixloop.memory import MemoryConfig, MemoryStore, Outcome
from tests.memory.test_faults import records
store = MemoryStore(MemoryConfig(path=Path(sys.argv[2]), retry_seconds=0.0))
for record in records(60):
    store.record_attempt(record)  # one write each: the two processes interleave
for record in records(40, Outcome.VERIFIED):
    store.record_attempt(record)
"""
    root, path = str(Path(__file__).parents[2]), str(tmp_path / "memory")
    writers = [subprocess.Popen([sys.executable, "-c", script, root, path]) for _ in range(2)]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    stats = MemoryStore(MemoryConfig(path=Path(path))).stats()
    assert stats.records + stats.spooled == 200
    assert stats.spooled == 0
    assert stats.outcomes == {"failed": 120, "verified": 80}


@pytest.mark.slow
def test_team_server_down_then_back_replays_the_spool(tmp_path: Path) -> None:
    server = ChromaServer(tmp_path / "server-data", free_port())
    server.start()
    try:
        reasons: list[str] = []
        config = MemoryConfig(url=server.url, spool=tmp_path / "spool.jsonl", retry_seconds=0.0)
        store = MemoryStore(config, on_unavailable=reasons.append)
        first = record_for(context(), FIXED)
        assert store.record_attempt(first)
        colleague = MemoryStore(config)  # another machine sees it at once
        assert recall.past_fixes(colleague, context())[0].diff == first.patch

        server.stop()
        assert not port_open(server.port)
        second = records(3)
        assert not store.record_attempts(second)
        assert not store.record_verdict(first.id, Verdict.ACCEPTED)
        assert recall.past_fixes(store, context()) == ()
        assert len(reasons) == 1 and server.url in reasons[0]
        assert store.stats().spooled == 3 + 1  # three records and a verdict

        server.start()
        stats = store.stats()
        assert (stats.available, stats.spooled, stats.records) == (True, 0, 4)
        [fix] = store.similar_fixes(context_signature(context()), "", "python")
        assert fix.accepted == 1
    finally:
        server.stop()
    assert not port_open(server.port)


def test_team_server_unreachable_at_start_answers_at_once(tmp_path: Path) -> None:
    reasons: list[str] = []
    config = MemoryConfig(url=f"http://127.0.0.1:{free_port()}", spool=tmp_path / "spool.jsonl")
    store = MemoryStore(config, on_unavailable=reasons.append)
    started = time.monotonic()
    assert recall.past_fixes(store, context()) == ()
    assert not store.record_attempt(record_for(context(), FIXED))
    assert time.monotonic() - started < 5
    assert len(reasons) == 1 and store.stats().spooled == 1


@pytest.mark.slow
def test_team_server_fixture_works_and_stops(chroma_server: ChromaServer) -> None:
    store = MemoryStore(MemoryConfig(url=chroma_server.url))
    assert store.record_attempts(records(5))
    assert store.stats().records == 5


def _clear_chroma_cache() -> None:
    """Chroma keeps one system per path per process; tests reopen a changed path."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def test_locked_store_spools_then_catches_up(tmp_path: Path) -> None:
    """Another process holding the write lock (hung mid-write) never hangs this one."""
    path = tmp_path / "memory"
    reasons: list[str] = []
    config = MemoryConfig(path=path, retry_seconds=0.0, lock_timeout=0.3)
    store = MemoryStore(config, on_unavailable=reasons.append)
    assert store.record_attempt(record_for(context(), FIXED))
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, sys, time; f = open(sys.argv[1], 'a'); "
         "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
         str(path / ".fixloop-lock")],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        started = time.monotonic()
        assert not store.record_attempts(records(2))
        assert time.monotonic() - started < 3
        assert len(reasons) == 1 and "locked" in reasons[0]
    finally:
        holder.kill()
        holder.wait()
    assert store.stats().records == 3


def test_a_long_lived_reader_sees_another_process_records(tmp_path: Path) -> None:
    """Two editor windows: what one remembers, the other suggests."""
    path = tmp_path / "memory"
    reader = MemoryStore(MemoryConfig(path=path, refresh_seconds=0.0))
    mine = record_for(context(), SOURCE.replace("- 1", "+ 2"))
    assert reader.record_attempt(mine)
    assert [p.diff for p in recall.past_fixes(reader, context())] == [mine.patch]
    script = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from fixloop.memory import MemoryConfig, MemoryStore
from tests.memory.test_faults import FIXED, context, record_for
store = MemoryStore(MemoryConfig(path=Path(sys.argv[2])))
assert store.record_attempt(record_for(context(), FIXED))
"""
    root = str(Path(__file__).parents[2])
    subprocess.run([sys.executable, "-c", script, root, str(path)], check=True)
    diffs = [past.diff for past in recall.past_fixes(reader, context())]
    assert len(diffs) == 2 and any("+    return x + 1" in diff for diff in diffs)


@pytest.mark.slow
def test_corrupt_vector_index_never_crashes_this_process(tmp_path: Path) -> None:
    """Garbage in the HNSW file makes Chroma segfault when it loads it: the store is
    first opened in a child process, and this one goes on without memory."""
    path = tmp_path / "memory"
    assert MemoryStore(MemoryConfig(path=path)).record_attempts(records(1200))  # flushed
    _clear_chroma_cache()
    [index] = path.glob("*/data_level0.bin")
    index.write_bytes(os.urandom(index.stat().st_size))
    reasons: list[str] = []
    store = MemoryStore(MemoryConfig(path=path, retry_seconds=0.0), on_unavailable=reasons.append)
    for _ in range(2):
        assert recall.prior_for(store, context()) == {}
        assert recall.suggestion(store, context()) is None
    assert not store.record_attempt(record_for(context(), FIXED))
    assert len(reasons) == 1 and str(path) in reasons[0]
    assert store.stats().spooled == 1


def test_a_probe_that_crashes_is_reported_by_its_signal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fixloop.memory import probe

    monkeypatch.setattr(probe, "_PROBE", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    with pytest.raises(probe.StoreDamaged, match="SIGSEGV"):
        probe.probe(tmp_path)
    assert not probe.is_vouched_for(tmp_path) or not probe.index_state(tmp_path)
