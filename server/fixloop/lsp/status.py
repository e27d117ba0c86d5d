"""`fixloop/status` notifications: what the loop is doing, for a status bar.

Params: `{"state": "idle"|"testing"|"fixing"|"unavailable", "message": str,
"iteration"?: int, "maxIterations"?: int}`; the rounds only where they bound the fix (a
model's); the offline engine's budget is time, told in the message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from fixloop.lsp.server import FixloopServer

STATUS = "fixloop/status"
State = Literal["idle", "testing", "fixing", "unavailable"]


def send_status(
    server: FixloopServer,
    state: State,
    message: str,
    *,
    iteration: int | None = None,
    max_iterations: int | None = None,
    background: bool = False,
) -> None:
    """Tell the client; `background` statuses (test runs on open/save) give way to a fix
    under way (a fix's job: the status follows every fix, however many run at once)."""
    if background and state != "unavailable" and server.jobs.running("fix"):
        return
    params: dict[str, Any] = {"state": state, "message": message}
    if iteration is not None:
        params["iteration"] = iteration
    if max_iterations is not None:
        params["maxIterations"] = max_iterations
    server.protocol.notify(STATUS, params)
