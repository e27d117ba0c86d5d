"""Builders for memory tests: repair contexts, candidates and records of small bugs."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from fixloop.loop.model import Candidate, Failure, Location, RepairContext
from fixloop.memory import AttemptRecord, MemoryConfig, MemoryStore, Outcome
from fixloop.memory.records import attempt_from_candidate

CHROMA = Path(sys.executable).with_name("chroma")


def context_for(
    sources: dict[str, str],
    message: str,
    test_id: str = "tests/test_app.py::test_it",
    frames: tuple[tuple[str, int], ...] = (),
    line: int = 1,
    language: str = "python",
) -> RepairContext:
    path = next(iter(sources))
    return RepairContext(
        project_root=Path("/project"),
        sources=sources,
        failures=(Failure(test_id, message, frames or ((path, line),)),),
        locations=(Location(path, line, 1.0),),
        language=language,
    )


def record_for(
    context: RepairContext,
    new_text: str,
    outcome: Outcome = Outcome.VERIFIED,
    template: str | None = "swap-operator",
    generator: str = "offline",
    *,
    created_at: float | None = None,
    reused_from: str | None = None,
) -> AttemptRecord:
    path = next(iter(context.sources))
    candidate = Candidate({path: new_text}, "test fix", generator, template)
    record = attempt_from_candidate(context, candidate, outcome, reused_from=reused_from)
    return record if created_at is None else replace(record, created_at=created_at)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MemoryStore]:
    memory = MemoryStore(MemoryConfig(path=tmp_path / "memory", retry_seconds=0.0))
    yield memory
    memory.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class ChromaServer:
    """A real `chroma run` on 127.0.0.1, started and stopped by the tests."""

    def __init__(self, path: Path, port: int) -> None:
        self.path, self.port = path, port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(CHROMA), "run", "--host", "127.0.0.1", "--port", str(self.port),
             "--path", str(self.path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not start (exit {self.process.poll()})")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "server-data", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        assert not port_open(server.port), "the chroma server is still listening"
