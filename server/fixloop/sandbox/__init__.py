"""The Docker sandbox: runs a project's tests on candidate patches, isolated and fast.

Knows nothing of LSP. Importing this package is cheap: the Docker SDK is imported only
when a pool first connects. The loop uses `SandboxPool.run` / `run_many` / `arun`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fixloop.sandbox.cancellation import Cancellation
    from fixloop.sandbox.commands import CommandKind, TestCommand, check_command, parse_command
    from fixloop.sandbox.config import SandboxConfig
    from fixloop.sandbox.errors import (
        CommandRefused,
        DockerUnavailable,
        ImageMissing,
        SandboxError,
    )
    from fixloop.sandbox.pool import SandboxPool
    from fixloop.sandbox.results import (
        CandidateResult,
        CaseResult,
        Frame,
        Outcome,
        Output,
        Probe,
        trim_text,
    )

# Loaded on first use (PEP 562): the settings module imports `fixloop.sandbox.config`, and
# the language server must not pay for the pool's imports at start-up.
_HOMES = {
    "Cancellation": "cancellation",
    "CommandKind": "commands",
    "TestCommand": "commands",
    "check_command": "commands",
    "parse_command": "commands",
    "SandboxConfig": "config",
    "CommandRefused": "errors",
    "DockerUnavailable": "errors",
    "ImageMissing": "errors",
    "SandboxError": "errors",
    "SandboxPool": "pool",
    "CandidateResult": "results",
    "CaseResult": "results",
    "Frame": "results",
    "Outcome": "results",
    "Output": "results",
    "Probe": "results",
    "trim_text": "results",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'fixloop.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(f"fixloop.sandbox.{_HOMES[name]}"), name)


__all__ = [
    "Cancellation",
    "CandidateResult",
    "CaseResult",
    "CommandKind",
    "CommandRefused",
    "DockerUnavailable",
    "Frame",
    "ImageMissing",
    "Outcome",
    "Output",
    "Probe",
    "SandboxConfig",
    "SandboxError",
    "SandboxPool",
    "TestCommand",
    "check_command",
    "parse_command",
    "trim_text",
]
