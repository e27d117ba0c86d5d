"""Whether the loop can run here (Docker, the sandbox image, a model for `engine = llm`),
found out in the background and kept: a missing piece becomes one clear message and a
disabled action, never an error on every keystroke or every `codeAction`."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from lsprotocol import types

from fixloop.lsp.status import send_status

if TYPE_CHECKING:
    from fixloop.config import Settings
    from fixloop.lsp.server import FixloopServer
    from fixloop.sandbox import SandboxConfig

logger = logging.getLogger(__name__)

# While something is missing, look again at most this often (someone may start Docker).
RECHECK_SECONDS = 60.0


def problem_without_docker(settings: Settings) -> str | None:
    """What stops the loop that needs no look at Docker (the engine's configuration)."""
    from fixloop.loop.generators import model_configured

    if settings.engine == "llm" and not model_configured(settings):
        return (
            "the engine is `llm` but no model is configured: set llm.model "
            "(fixloop.llm.model in the editor), or use engine `auto` or `offline`"
        )
    return None


def _probe_docker(config: SandboxConfig) -> str | None:
    """None when Docker answers and the image is there; else why not (blocking)."""
    from fixloop.sandbox.engine import connect
    from fixloop.sandbox.errors import SandboxError
    from fixloop.sandbox.image import require_image

    try:
        client = connect(config)
        try:
            require_image(client, config)
        finally:
            client.close()
    except SandboxError as error:
        return str(error)
    except Exception as error:  # an engine that answers nonsense is missing all the same
        return f"the Docker engine cannot be used: {error}"
    return None


class LoopAvailability:
    def __init__(self, server: FixloopServer) -> None:
        self._server = server
        self._docker: dict[SandboxConfig, tuple[str | None, float]] = {}
        self._said: str | None = None

    def problem(self, settings: Settings) -> str | None:
        """Why the loop cannot run with these settings, as far as known now (instant);
        a background look at Docker starts when none is known or the last one is old."""
        if (problem := problem_without_docker(settings)) is not None:
            self._announce(problem)
            return problem
        config = settings.sandbox
        known = self._docker.get(config)
        due = known is None or (known[0] is not None and time.monotonic() > known[1])
        if due and self._server.jobs.get(("probe", config)) is None:
            self._server.jobs.start(("probe", config), self._probe(config))
        return known[0] if known else None

    async def _probe(self, config: SandboxConfig) -> None:
        self._set(config, await asyncio.to_thread(_probe_docker, config))

    def found_unavailable(self, config: SandboxConfig | None, problem: str) -> None:
        """A fix found a piece missing (it has said so itself)."""
        if config is not None:
            self._docker[config] = (problem, time.monotonic() + RECHECK_SECONDS)
        self._said = problem
        send_status(self._server, "unavailable", problem)

    def found_available(self, config: SandboxConfig) -> None:
        self._set(config, None)

    def _set(self, config: SandboxConfig, problem: str | None) -> None:
        before = self._docker.get(config, (None, 0.0))[0]
        self._docker[config] = (problem, time.monotonic() + RECHECK_SECONDS)
        if problem is not None:
            self._announce(problem)
        elif before is not None:
            self._said = None
            send_status(self._server, "idle", "the sandbox is available again")

    def _announce(self, problem: str) -> None:
        """Said once per distinct problem: a message and the status."""
        if self._said == problem:
            return
        self._said = problem
        logger.warning("loop unavailable: %s", problem)
        self._server.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Warning,
                message=f"fixloop: fixes that run the tests are off: {problem}",
            )
        )
        send_status(self._server, "unavailable", problem)
