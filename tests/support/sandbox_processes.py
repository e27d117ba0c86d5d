"""What runs in the sandbox right now, seen through the real engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fixloop.sandbox import SandboxConfig
from fixloop.sandbox.engine import connect

if TYPE_CHECKING:
    from docker.models.containers import Container


@contextmanager
def _containers(label: str, *, stopped_too: bool = True) -> Iterator[list[Container]]:
    """The containers with this label, through a client closed afterwards (tests poll)."""
    client = connect(SandboxConfig())
    try:
        yield client.containers.list(all=stopped_too, filters={"label": [label]})
    finally:
        client.close()


def containers_of_process(pid: int) -> list[str]:
    """The names of the containers (running or not) a fixloop process made."""
    with _containers(f"fixloop.pid={pid}") as found:
        return [container.name for container in found]


def containers_of_project(root: Path) -> list[str]:
    """The names of the containers (running or not) of the project at `root`."""
    with _containers(f"fixloop.project={root.resolve()}") as found:
        return [container.name for container in found]


def running_in_sandbox(root: Path, command_line: str) -> int:
    """How many processes with exactly this command line run in the containers of the
    project at `root` (any pool, any process)."""
    with _containers(f"fixloop.project={root.resolve()}", stopped_too=False) as found:
        return sum(
            1
            for container in found
            for process in container.top()["Processes"] or []
            if process[-1] == command_line
        )
