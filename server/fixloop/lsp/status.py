"""`fixloop/status` notifications: what the loop is doing, for a status bar.

Params: `{"state": "idle"|"testing"|"fixing"|"unavailable", "message": str,
"iteration"?: int, "maxIterations"?: int}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

STATUS = "fixloop/status"
State = Literal["idle", "testing", "fixing", "unavailable"]


# Servers with a fix session under way: a background test run's `testing`/`idle` must not
# hide it from the status bar (the fix's own statuses end it).
_FIXING: set[int] = set()


def send_status(
    server: LanguageServer,
    state: State,
    message: str,
    *,
    iteration: int | None = None,
    max_iterations: int | None = None,
    background: bool = False,
) -> None:
    """Tell the client; `background` statuses (test runs on open/save) give way to a fix."""
    if background:
        if id(server) in _FIXING and state != "unavailable":
            return
    elif state == "fixing":
        _FIXING.add(id(server))
    else:
        _FIXING.discard(id(server))
    params: dict[str, Any] = {"state": state, "message": message}
    if iteration is not None:
        params["iteration"] = iteration
    if max_iterations is not None:
        params["maxIterations"] = max_iterations
    server.protocol.notify(STATUS, params)
