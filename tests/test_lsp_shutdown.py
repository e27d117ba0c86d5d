"""Shutdown while requests are still being handled: each is cancelled, and the server
answers the shutdown instead of failing it (pygls 2.1.1 changes the dict of pending
requests while it walks it: openlawlibrary/pygls#606)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from fixloop.lsp.server import create_server


def test_shutdown_cancels_the_requests_still_running_and_succeeds() -> None:
    server = create_server()
    protocol = server.protocol
    pending: dict[Any, Future[Any]] = protocol._request_futures
    running: list[Future[Any]] = []
    for msg_id in ("code-action", "execute-command"):
        future: Future[Any] = Future()
        # As pygls does: a request's future leaves the dict once it is done.
        future.add_done_callback(lambda _, msg_id=msg_id: pending.pop(msg_id, None))
        pending[msg_id] = future
        running.append(future)
    shutdown = protocol.lsp_shutdown(None)
    handler, args, _ = next(shutdown)
    handler(*args)
    next(shutdown, None)  # pygls's own cancelling of what is still pending
    assert all(future.cancelled() for future in running)
    assert pending == {}
