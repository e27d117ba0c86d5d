"""`initialize` and `shutdown`: what the client can do, and the end of the server's work."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from fixloop.lsp.capabilities import ClientFlags

if TYPE_CHECKING:
    from fixloop.lsp.server import FixloopServer


def initialize(ls: FixloopServer, params: types.InitializeParams) -> None:
    """Resolve what the client can do."""
    ls.client_flags = ClientFlags.from_capabilities(params.capabilities)
    ls.folder_settings.client_options(params.initialization_options)


def shutdown(ls: FixloopServer, params: None) -> None:
    """Remove the sandbox's containers; `exit` after this ends the process with 0."""
    ls.shutdown_requested = True
    ls.fix_runs.cancel_all()
    ls.verdicts.close_all()
    ls.test_diagnostics.stop_all()
    ls.close_sandbox()
    _cancel_pending_requests(ls)


def _cancel_pending_requests(ls: FixloopServer) -> None:
    """Cancel the requests still being handled, as pygls does after this handler, but over
    a copy: pygls 2.1.1 iterates over the dict their cancellation removes them from, and
    fails the shutdown (openlawlibrary/pygls#606). It then finds them all done."""
    protocol = ls.protocol
    pending = list(protocol._request_futures.items())
    for msg_id, future in pending:
        if msg_id != protocol.msg_id and not future.done():
            future.cancel()
