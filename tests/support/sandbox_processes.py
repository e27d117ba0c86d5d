"""What runs in a project's sandbox containers right now, seen through the real engine."""

from __future__ import annotations

from pathlib import Path

from fixloop.sandbox import SandboxConfig
from fixloop.sandbox.engine import connect


def running_in_sandbox(root: Path, command_line: str) -> int:
    """How many processes with exactly this command line run in the containers of the
    project at `root` (any pool, any process)."""
    client = connect(SandboxConfig())
    found = client.containers.list(filters={"label": [f"fixloop.project={root.resolve()}"]})
    return sum(
        1
        for container in found
        for process in container.top()["Processes"] or []
        if process[-1] == command_line
    )


def sandbox_containers(root: Path) -> int:
    """How many containers (running or not) the project at `root` has."""
    client = connect(SandboxConfig())
    return len(
        client.containers.list(all=True, filters={"label": [f"fixloop.project={root.resolve()}"]})
    )
