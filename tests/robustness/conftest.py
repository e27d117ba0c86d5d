"""Each test drives its own `fixloop lsp` process over stdio with raw bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.raw_server import RawServer


@pytest.fixture
def fresh() -> Iterator[RawServer]:
    """A server that has not been initialized."""
    server = RawServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def server(fresh: RawServer, tmp_path: Path) -> RawServer:
    """An initialized server with `tmp_path / "ws"` as its workspace."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    fresh.initialize(workspace)
    return fresh
