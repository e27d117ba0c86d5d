"""What runs in the sandbox right now, seen through the real engine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fixloop.sandbox import SandboxConfig
from fixloop.sandbox.engine import connect

if TYPE_CHECKING:
    from docker.models.containers import Container


def _containers(label: str, *, stopped_too: bool = True) -> list[Container]:
    client = connect(SandboxConfig())
    return list(client.containers.list(all=stopped_too, filters={"label": [label]}))


def containers_of_process(pid: int) -> list[str]:
    """The names of the containers (running or not) a fixloop process made."""
    return [container.name for container in _containers(f"fixloop.pid={pid}")]


def containers_of_project(root: Path) -> list[str]:
    """The names of the containers (running or not) of the project at `root`."""
    return [container.name for container in _containers(f"fixloop.project={root.resolve()}")]


def running_in_sandbox(root: Path, command_line: str) -> int:
    """How many processes with exactly this command line run in the containers of the
    project at `root` (any pool, any process)."""
    return sum(
        1
        for container in _containers(f"fixloop.project={root.resolve()}", stopped_too=False)
        for process in container.top()["Processes"] or []
        if process[-1] == command_line
    )
