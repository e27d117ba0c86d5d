"""Errors of the sandbox; each message says what to do about it."""

from __future__ import annotations


class SandboxError(Exception):
    """The sandbox cannot run candidates; str() is a message for the user."""


class DockerUnavailable(SandboxError):
    """No Docker SDK, no engine, or an engine that does not answer."""


class ImageMissing(SandboxError):
    """The sandbox image is not on the engine, or is older than this fixloop."""


class CommandRefused(SandboxError):
    """A test command that is refused before it runs."""

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(f"refused to run `{command}`: {reason}")
        self.command = command
        self.reason = reason
