"""What runs in the sandbox right now, seen through the real engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker.errors

from fixloop.sandbox import SandboxConfig
from fixloop.sandbox.engine import connect


@contextmanager
def _engine() -> Iterator[Any]:
    """The engine's low-level API, closed afterwards (tests poll it)."""
    client = connect(SandboxConfig())
    try:
        yield client.api
    finally:
        client.close()


def _names(label: str) -> list[str]:
    # One listing, no inspect per container: one removed meanwhile is simply not listed.
    with _engine() as api:
        found = api.containers(all=True, filters={"label": [label]})
    return [entry["Names"][0].lstrip("/") for entry in found]


def containers_of_process(pid: int) -> list[str]:
    """The names of the containers (running or not) a fixloop process made."""
    return _names(f"fixloop.pid={pid}")


def containers_of_project(root: Path) -> list[str]:
    """The names of the containers (running or not) of the project at `root`."""
    return _names(f"fixloop.project={root.resolve()}")


def running_in_sandbox(root: Path, command_line: str) -> int:
    """How many processes with exactly this command line run in the containers of the
    project at `root` (any pool, any process)."""
    count = 0
    with _engine() as api:
        for entry in api.containers(filters={"label": [f"fixloop.project={root.resolve()}"]}):
            try:
                processes = api.top(entry["Id"])["Processes"] or []
            except docker.errors.NotFound:
                continue  # removed since the listing
            count += sum(1 for process in processes if process[-1] == command_line)
    return count
