"""The Docker sandbox: runs a project's tests on candidate patches, isolated and fast.

Knows nothing of LSP. Importing this package is cheap: the Docker SDK is imported only
when a pool first connects. The loop uses `SandboxPool.run` / `run_many` / `arun`.
"""

from fixloop.sandbox.commands import CommandKind, TestCommand, check_command, parse_command
from fixloop.sandbox.config import SandboxConfig
from fixloop.sandbox.errors import CommandRefused, DockerUnavailable, ImageMissing, SandboxError
from fixloop.sandbox.pool import SandboxPool
from fixloop.sandbox.results import CandidateResult, CaseResult, Frame, Outcome, Output, trim_text

__all__ = [
    "CandidateResult",
    "CaseResult",
    "CommandKind",
    "CommandRefused",
    "DockerUnavailable",
    "Frame",
    "ImageMissing",
    "Outcome",
    "Output",
    "SandboxConfig",
    "SandboxError",
    "SandboxPool",
    "TestCommand",
    "check_command",
    "parse_command",
    "trim_text",
]
