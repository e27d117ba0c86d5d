"""`initialize` and `shutdown`: what the client can do, and the end of the server's work."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from fixloop.lsp.capabilities import ClientFlags

if TYPE_CHECKING:
    from fixloop.lsp.server import FixloopServer

logger = logging.getLogger(__name__)
# How long `shutdown` waits for cancelled jobs to end (a fix removes its containers first);
# editors wait about two seconds for the answer before they stop the server their way.
SHUTDOWN_WAIT_SECONDS = 5.0


def initialize(ls: FixloopServer, params: types.InitializeParams) -> None:
    """Resolve what the client can do."""
    ls.client_flags = ClientFlags.from_capabilities(params.capabilities)
    ls.folder_settings.client_options(params.initialization_options)


async def shutdown(ls: FixloopServer, params: None) -> None:
    """End every job, remove the sandbox's containers and close the memory; `exit` after
    this ends the process with 0."""
    ls.shutdown_requested = True
    for feature in ls.features:
        feature.shutdown()
    ls.jobs.cancel_all()
    if left := await ls.jobs.wait(SHUTDOWN_WAIT_SECONDS):
        logger.warning("still running at shutdown: %s", ", ".join(str(j.key) for j in left))
    await asyncio.to_thread(ls.close_sandbox)
    # After the jobs: none writes to the memory any more; its spooled writes are flushed.
    await asyncio.to_thread(ls.memory.close)
    _cancel_pending_requests(ls)


def _cancel_pending_requests(ls: FixloopServer) -> None:
    """Cancel the requests still being handled, as pygls does after this handler, but over
    a copy: pygls 2.1.1 iterates over the dict their cancellation removes them from, and
    fails the shutdown (openlawlibrary/pygls#606). It then finds them all done."""
    protocol = ls.protocol
    pending = list(protocol._request_futures.items())
    this: object = asyncio.current_task()  # this handler's own task
    for msg_id, future in pending:
        if msg_id != protocol.msg_id and future is not this and not future.done():
            future.cancel()
