"""Containers a crashed fixloop left behind are swept at start, by several processes at once
without tripping over each other, and live ones are never touched."""

from __future__ import annotations

import os
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from fixloop.sandbox import SandboxConfig, SandboxPool
from fixloop.sandbox.engine import connect
from fixloop.sandbox.pool import LABEL

pytestmark = pytest.mark.slow
DEAD_PID = "999999"  # beyond the default pid_max: no process has it


def _leftover(pid: str) -> str:
    client = connect(SandboxConfig())
    container = client.containers.create(
        SandboxConfig().image_ref,
        command=["true"],
        labels={LABEL: "1", "fixloop.host": socket.gethostname(), "fixloop.pid": pid},
        network_mode="none",
    )
    return str(container.id)


def _exists(container_id: str) -> bool:
    client = connect(SandboxConfig())
    return bool(client.containers.list(all=True, sparse=True, filters={"id": container_id}))


def test_leftovers_of_dead_processes_go_and_live_ones_stay() -> None:
    stale = [_leftover(DEAD_PID) for _ in range(4)]
    alive = _leftover(str(os.getpid()))
    try:
        pools = [SandboxPool(SandboxConfig()) for _ in range(3)]
        with ThreadPoolExecutor(3) as executor:  # three editors starting at once
            list(executor.map(lambda pool: pool.sweep_stale(), pools))  # none raises
        assert not any(_exists(c) for c in stale)
        assert _exists(alive)
    finally:
        connect(SandboxConfig()).containers.get(alive).remove(force=True)
        for container_id in stale:
            if _exists(container_id):
                connect(SandboxConfig()).containers.get(container_id).remove(force=True)
        for pool in pools:
            pool.close()
