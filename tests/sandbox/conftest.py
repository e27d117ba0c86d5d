"""Fixtures for the sandbox tests: the real Docker engine, never a mock.

Docker missing is a failure, not a skip: CI installs it (scripts/ensure-docker.sh).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.sandbox import SandboxConfig, SandboxPool
from tests.sandbox.projects import calc_project
from tests.support.sandbox_processes import containers_of_process

TEST_CONFIG = SandboxConfig(timeout_seconds=30, memory="512m", parallel=2)


@pytest.fixture(scope="session", autouse=True)
def no_container_left() -> Iterator[None]:
    """Every test cleans up: after the session no container of this process is left."""
    yield
    left = containers_of_process(os.getpid())
    assert not left, f"sandbox containers left behind: {left}"


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool(TEST_CONFIG) as shared:
        yield shared


@pytest.fixture(scope="module")
def calc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return calc_project(tmp_path_factory.mktemp("calc"))
