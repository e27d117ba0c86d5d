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


def send_status(
    server: LanguageServer,
    state: State,
    message: str,
    *,
    iteration: int | None = None,
    max_iterations: int | None = None,
) -> None:
    params: dict[str, Any] = {"state": state, "message": message}
    if iteration is not None:
        params["iteration"] = iteration
    if max_iterations is not None:
        params["maxIterations"] = max_iterations
    server.protocol.notify(STATUS, params)
