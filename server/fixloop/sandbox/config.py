"""Settings of the Docker sandbox: a plain frozen dataclass the central settings embed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from fixloop.trust import RESTRICTED

# Directories of a project that are never copied into the sandbox: version control,
# virtualenvs (their interpreters are the host's, useless in the container) and caches.
# node_modules is copied only when package.json declares dependencies (see pool.py).
DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "env",
    ".tox",
    ".nox",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "node_modules",
)


_DEFAULT_IMAGE = "fixloop-sandbox"  # built by `fixloop sandbox build`


def _cpu_count() -> int:
    return os.cpu_count() or 1


@dataclass(frozen=True)
class SandboxConfig:
    """How candidates are run; every field has a default. Fields marked RESTRICTED (where
    code runs, how it is contained) come from a project's files only once it is trusted."""

    image: str = field(default=_DEFAULT_IMAGE, metadata=RESTRICTED)
    tag: str = field(default="latest", metadata=RESTRICTED)
    # None: the DOCKER_HOST environment variable, else the local socket.
    docker_host: str | None = field(default=None, metadata=RESTRICTED)
    # Wall-clock limit of one test command, whole process tree included: a last resort.
    # A healthy suite is never stopped by it; a hanging test is stopped by the next limit.
    timeout_seconds: float = 1800.0
    # Seconds one pytest test may take before it fails as a timeout (the run goes on).
    test_timeout_seconds: float = 10.0
    # Limits of the warm container, shared by the candidates it runs in parallel.
    memory: str = field(default="1g", metadata=RESTRICTED)
    cpus: float = field(default_factory=lambda: float(_cpu_count()), metadata=RESTRICTED)
    pids: int = field(default=512, metadata=RESTRICTED)
    # Processes (and threads) one candidate may have: contains a fork bomb to its slot.
    candidate_pids: int = field(default=128, metadata=RESTRICTED)
    # Size of the tmpfs holding the project copy and the candidates' work directories.
    work_size: str = field(default="1g", metadata=RESTRICTED)
    parallel: int = field(default_factory=_cpu_count)
    # Bytes of test output kept per candidate (head + tail + error lines).
    output_cap_bytes: int = field(default=64 * 1024, metadata=RESTRICTED)
    excludes: tuple[str, ...] = DEFAULT_EXCLUDES
    # pytest's plugin auto-loading costs ~0.5 s (hypothesis); off unless the project needs it.
    pytest_autoload_plugins: bool = False
    # Run pytest in a process forked from a warm one that has imported pytest already.
    pytest_forkserver: bool = True
    # Prepare an image of the project's own dependencies (read from its files) to run its
    # tests in, once per set of dependency files (see prepare.py).
    prepare_environment: bool = True
    # The project's own image instead (project_image.py): a Dockerfile's path in the
    # project, or "devcontainer"; the build runs the project's instructions, so only the
    # user (or a trusted project) chooses it.
    dockerfile: str = field(default="", metadata=RESTRICTED)
    # A pytest command run again (the loop's candidates) runs in a session that has
    # collected it once; each candidate confined to function bodies in a fork of it.
    pytest_warm_runner: bool = True

    @property
    def image_ref(self) -> str:
        return f"{self.image}:{self.tag}"


# Sources a compiler turns into what the tests import (an extension module, a program):
# fixloop's sandbox image has no compiler, so an edit of one never reaches the tests.
_COMPILED_SUFFIXES = frozenset(
    {".c", ".h", ".cc", ".cpp", ".cxx", ".hh", ".hpp", ".pyx", ".pxd", ".pxi", ".cu", ".rs"}
    | {".go", ".f", ".f90", ".m", ".mm", ".swift", ".zig", ".java", ".kt"}
)


def unverifiable_source(relative: str, config: SandboxConfig) -> str | None:
    """Why no edit of this file could be verified in the sandbox, when none could: a
    compiled language's source run in fixloop's own image, which cannot build it again (the
    tests run what the user's checkout built). A project's own image may have a compiler
    and a test command that builds: then it is the test command's call."""
    suffix = PurePosixPath(relative).suffix.lower()
    if suffix not in _COMPILED_SUFFIXES or config.dockerfile or config.image != _DEFAULT_IMAGE:
        return None
    return (
        f"{relative} is compiled before the tests use it, and the sandbox has no compiler: "
        "its tests run what your checkout built, so no edit of this file can be verified "
        "(fix the Python code that calls it, or run the tests in the project's own image "
        "with a compiler, `sandbox.dockerfile`, and a test command that builds it)"
    )
