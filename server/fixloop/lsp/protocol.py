"""pygls' protocol, minus its own copy of every open document, plus the LSP lifecycle.

pygls keeps a text copy of each document and patches it line by line on every change;
fixloop keeps its own (bytes, line index and tree), so the built-in copy would double the
work on the keystroke path for nothing.

pygls 2.1.1 serves requests before `initialize`, drops them silently after `shutdown`, and
sends a handler's traceback to the client; the LSP says -32002 before `initialize` and
InvalidRequest after `shutdown`, and the traceback belongs in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from concurrent.futures import Future
from typing import Any

from lsprotocol import types
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import MsgId

logger = logging.getLogger(__name__)

SERVER_NOT_INITIALIZED = -32002
INVALID_REQUEST = -32600


class FixloopProtocol(LanguageServerProtocol):
    initialize_seen = False
    shutdown_seen = False
    # The request future of the generator handler (executeCommand) about to start the
    # handler it yields to; see _execute_handler.
    _outer: Future[Any] | None = None

    def _run_generator(
        self,
        future: Future[Any] | None,
        *,
        gen: Generator[Any, Any, Any],
        result_future: Future[Any],
    ) -> None:
        self._outer = result_future
        try:
            super()._run_generator(future, gen=gen, result_future=result_future)
        finally:
            self._outer = None

    def _execute_handler(
        self,
        msg_id: MsgId,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """pygls runs a command's handler under an id of its own, so `$/cancelRequest` on
        the executeCommand request cancels only the request's future and the command runs
        on (and a fix still applies its edit). The request's cancellation is passed on to
        the handler's task here: one path for every cancel."""
        outer, self._outer = self._outer, None
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        inner = self._request_futures.get(msg_id)
        if outer is not None and inner is not None and inner is not outer:
            outer.add_done_callback(lambda done: inner.cancel() if done.cancelled() else None)

    def admit(self, method: str | None, msg_id: MsgId | None) -> bool:
        """Whether the lifecycle allows this message now; a request it does not allow is
        answered with an error (a notification dropped)."""
        if msg_id is None:  # a notification, or a response (method None)
            if method is None or method == types.EXIT:
                return True
            if not self.initialize_seen or self.shutdown_seen:
                logger.warning("notification %s dropped (not initialized, or shut down)", method)
                return False
            return True
        if method is None:
            return True
        refusal = self._refusal(method)
        if refusal is not None:
            self._refuse(msg_id, *refusal)
            return False
        self.initialize_seen = self.initialize_seen or method == types.INITIALIZE
        self.shutdown_seen = self.shutdown_seen or method == types.SHUTDOWN
        return True

    def _refusal(self, method: str | None) -> tuple[int, str] | None:
        if self.shutdown_seen:
            return INVALID_REQUEST, f"{method}: the server is shutting down"
        if method == types.INITIALIZE:
            return (
                (INVALID_REQUEST, "initialize: already initialized")
                if self.initialize_seen
                else None
            )
        if not self.initialize_seen:
            return SERVER_NOT_INITIALIZED, f"{method}: the server is not initialized"
        return None

    def _refuse(self, msg_id: MsgId, code: int, message: str) -> None:
        logger.warning("refused: %s", message)
        error = types.ResponseError(code=code, message=message)
        self._send_data(types.ResponseErrorMessage(id=msg_id, error=error))

    def _send_response(
        self, msg_id: MsgId, result: Any | None = None, error: types.ResponseError | None = None
    ) -> None:
        """Send a response; a handler's traceback (pygls puts it in `data`) is logged."""
        if error is not None and isinstance(error.data, dict) and "traceback" in error.data:
            logger.error(
                "request %s failed: %s\n%s", msg_id, error.message, "".join(error.data["traceback"])
            )
            error = types.ResponseError(code=error.code, message=error.message)
        super()._send_response(msg_id, result, error)

    def _forward(self, method: str, params: Any) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(
        self, params: types.DidOpenTextDocumentParams
    ) -> Generator[Any, Any, None]:
        yield from self._forward(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        yield from self._forward(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(
        self, params: types.DidCloseTextDocumentParams
    ) -> Generator[Any, Any, None]:
        yield from self._forward(types.TEXT_DOCUMENT_DID_CLOSE, params)
