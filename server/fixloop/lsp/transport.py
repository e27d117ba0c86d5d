"""The server's message loop over stdio or TCP, in place of pygls's (`pygls.io_.run_async`).

Frames come from `framing.FrameReader`, which resynchronizes after a bad one. Each body is
checked here before pygls sees it, so that every error is answered as JSON-RPC says: under
the request's id whenever one could be read, never to a notification, and without a
traceback (that goes to the log):

- -32700 parse error: a broken frame, invalid UTF-8, invalid JSON;
- -32600 invalid request: not a JSON-RPC 2.0 object, or a message over the size limit;
- -32602 invalid params: params that do not fit the method's type.

The lifecycle errors (-32002 before `initialize`, -32600 after `shutdown`) are answered in
`protocol.FixloopProtocol.admit`; -32601 by pygls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from fixloop.lsp.framing import CHUNK, BadFrame, ChunkQueue, Frame, FrameReader

if TYPE_CHECKING:
    from fixloop.lsp.protocol import FixloopProtocol

logger = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

MsgId = int | str


@dataclass(frozen=True, slots=True)
class Failure:
    """A message that cannot be handled: the error to answer (when `reply`) and, for a
    body that ran into the next message, the bytes to read again."""

    code: int
    message: str
    msg_id: MsgId | None = None
    reply: bool = True
    leftover: bytes = b""


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def parse_body(body: bytes) -> dict[str, Any] | Failure:
    """The JSON object of a frame's body, or why it is not one."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        salvaged = salvage_id(body.decode("utf-8", "replace"))
        return Failure(PARSE_ERROR, f"parse error: the message is not UTF-8 ({error})", *salvaged)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return _undecodable(text, error)
    except (ValueError, RecursionError) as error:  # int too long, nesting too deep
        return Failure(PARSE_ERROR, f"parse error: {error}", *salvage_id(text))
    if not isinstance(value, dict):
        return Failure(INVALID_REQUEST, "invalid request: not a JSON-RPC object (no batches)")
    return value


def _undecodable(text: str, error: json.JSONDecodeError) -> Failure:
    """A body that is not JSON: cut short, or a whole value followed by the start of the
    next message (its Content-Length was too long)."""
    try:
        value, end = json.JSONDecoder().raw_decode(text)
    except (ValueError, RecursionError):
        return Failure(PARSE_ERROR, f"parse error: {error.msg}", *salvage_id(text))
    msg_id, reply = _id_of(value)
    leftover = text[end:].lstrip().encode("utf-8")
    message = "parse error: Content-Length is longer than the message"
    return Failure(PARSE_ERROR, message, msg_id, reply, leftover)


def _id_of(value: Any) -> tuple[MsgId | None, bool]:
    """The id to answer under, and whether to answer (not to a notification)."""
    if not isinstance(value, dict):
        return None, True
    if _valid_id(value.get("id")):
        return value["id"], True
    return None, not ("method" in value and "id" not in value)


# Tokens of JSON text, enough to follow nesting and find the top-level "id".
_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[{}\[\]:,]|true|false|null|\S',
    re.DOTALL,
)
_HEADERS = re.compile(r"(?:[^\r\n{]*:[^\r\n]*\r?\n)+\r?\n")


def _message_start(text: str) -> str | None:
    """The text from where a message begins (after any header block), or None when it
    does not begin one (the rest of a message cut short, say)."""
    text = text.lstrip()
    if not text.startswith("{") and (headers := _HEADERS.match(text)) is not None:
        text = text[headers.end() :].lstrip()
    return text if text.startswith("{") else None


def salvage_id(text: str) -> tuple[MsgId | None, bool]:
    """The top-level id of a message that does not parse (cut short, say), and whether to
    answer at all: not when it reads, whole, as a notification."""
    start = _message_start(text)
    if start is None:
        return None, True
    depth, key, expect_value, saw_method = 0, None, False, False
    for token in _TOKEN.finditer(start[:65536]):
        word = token.group()
        if word in ("{", "["):
            depth += 1
        elif word in ("}", "]"):
            depth -= 1
            if depth == 0:
                return None, not saw_method  # a whole object without an id
        elif depth == 1 and word == ":":
            expect_value = True
            continue
        elif depth == 1 and expect_value:
            if key == "id":
                try:
                    value = json.loads(word)
                except ValueError:
                    return None, True
                return (value, True) if _valid_id(value) else (None, True)
            saw_method = saw_method or key == "method"
        elif depth == 1 and word.startswith('"'):
            key = word[1:-1]
        expect_value = False
    return None, True


def check_envelope(message: dict[str, Any]) -> Failure | None:
    """What makes a JSON object not a JSON-RPC 2.0 message, if anything."""
    has_id = "id" in message
    msg_id = message.get("id") if _valid_id(message.get("id")) else None
    if message.get("jsonrpc") != "2.0":
        return Failure(INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"', msg_id)
    if has_id and msg_id is None and message["id"] is not None:
        return Failure(INVALID_REQUEST, "invalid request: an id is a number or a string")
    if "method" in message:
        if not isinstance(message["method"], str):
            return Failure(INVALID_REQUEST, "invalid request: the method is not a string", msg_id)
        params = message.get("params")
        if params is not None and not isinstance(params, dict | list):
            reply = has_id
            return Failure(INVALID_PARAMS, "invalid params: not an object or array", msg_id, reply)
        if has_id and msg_id is None:
            return Failure(INVALID_REQUEST, "invalid request: a request needs an id")
        return None
    if not has_id or not ("result" in message or "error" in message):
        # Neither a request, a notification, nor a response: nothing can answer it.
        return Failure(INVALID_REQUEST, "invalid request: no method", msg_id)
    return None


def structure(protocol: FixloopProtocol, message: dict[str, Any]) -> Any:
    """The typed message (lsprotocol's), or a Failure naming what in it is wrong."""
    if "method" in message and protocol.get_message_type(message["method"]) is None:
        message.setdefault("params", None)  # optional, but pygls's fallback type wants it
    try:
        return protocol.structure_message(message)
    except JsonRpcException as error:
        method = message.get("method")
        cause = error.__cause__
        details = _cattrs_details(cause) if cause is not None else str(error)
        if method is None:  # a response the server cannot read: fail what awaits it
            return Failure(INVALID_PARAMS, f"unreadable response: {details}", message["id"], False)
        msg_id = message.get("id")
        text = f"invalid params for {method}: {details}"
        return Failure(INVALID_PARAMS, text, msg_id, msg_id is not None)


def _cattrs_details(error: BaseException) -> str:
    if isinstance(error, cattrs.BaseValidationError):
        lines = cattrs.transform_error(error)
        return "; ".join(lines[:3]) + ("; …" if len(lines) > 3 else "")
    return str(error) or type(error).__name__


class MessageLoop:
    """Reads frames and hands valid messages to pygls's protocol; answers the rest."""

    def __init__(self, protocol: FixloopProtocol, limit: Callable[[], int]) -> None:
        self._protocol = protocol
        self._limit = limit

    async def run(self, chunks: ChunkQueue, stop: threading.Event) -> None:
        reader = FrameReader(chunks, self._limit)
        while not stop.is_set():
            try:
                frame = await reader.next()
                if frame is None:
                    return
                failure = self._handle(frame)
                if failure is not None:
                    self._fail(failure)
                    if failure.leftover:
                        reader.unread(failure.leftover)
            except (SystemExit, KeyboardInterrupt, asyncio.CancelledError, BrokenPipeError):
                raise
            except BaseException:  # a bug here must not stop the server: log and go on
                logger.exception("could not handle a message")
            await asyncio.sleep(0)  # let the handlers of what was read run

    def _handle(self, frame: Frame | BadFrame) -> Failure | None:
        if isinstance(frame, BadFrame):
            return _bad_frame(frame)
        message = parse_body(frame.body)
        if isinstance(message, Failure):
            return message
        failure = check_envelope(message)
        if failure is not None:
            return failure
        if not self._protocol.admit(message.get("method"), message.get("id")):
            return None
        structured = structure(self._protocol, message)
        if isinstance(structured, Failure):
            return structured
        self._protocol.handle_message(structured)
        return None

    def _fail(self, failure: Failure) -> None:
        logger.warning("%s (id %s)", failure.message, failure.msg_id)
        if failure.msg_id is not None and not failure.reply and failure.code == INVALID_PARAMS:
            # A response from the client that does not fit: whatever awaits it fails.
            error = types.ResponseError(code=failure.code, message=failure.message)
            self._protocol._handle_response(failure.msg_id, None, error)
            return
        if not failure.reply:
            return
        reply = types.ResponseErrorMessage(
            id=failure.msg_id,
            error=types.ResponseError(code=failure.code, message=failure.message),
        )
        self._protocol._send_data(reply)


def _bad_frame(frame: BadFrame) -> Failure:
    msg_id, reply = salvage_id(frame.head.decode("utf-8", "replace"))
    code = INVALID_REQUEST if frame.oversized else PARSE_ERROR
    kind = "invalid request" if frame.oversized else "parse error"
    return Failure(code, f"{kind}: {frame.reason}", msg_id, reply)


def pump_stdin(stdin: IO[bytes], chunks: ChunkQueue, loop: asyncio.AbstractEventLoop) -> None:
    """Feed stdin to `chunks` from a daemon thread (a blocked read never holds up exit)."""
    try:  # the file descriptor: a daemon thread blocked in a buffered read aborts exit
        fd = stdin.fileno()
        read: Callable[[int], bytes] = lambda size: os.read(fd, size)  # noqa: E731
    except (OSError, ValueError, AttributeError):
        read = getattr(stdin, "read1", stdin.read)

    def pump() -> None:
        while True:
            try:
                chunk = read(CHUNK)
            except (OSError, ValueError):
                chunk = b""
            put = chunks.put(chunk)
            try:
                asyncio.run_coroutine_threadsafe(put, loop).result()
            except RuntimeError:  # the loop is gone
                put.close()
                return
            if not chunk:
                return

    threading.Thread(target=pump, name="fixloop-stdin", daemon=True).start()


async def pump_stream(reader: asyncio.StreamReader, chunks: ChunkQueue) -> None:
    """Feed a TCP connection to `chunks`."""
    while True:
        try:
            chunk = await reader.read(CHUNK)
        except (ConnectionError, OSError):
            chunk = b""
        await chunks.put(chunk)
        if not chunk:
            return


async def serve_stdio(
    protocol: FixloopProtocol, stdin: IO[bytes], stop: threading.Event, limit: Callable[[], int]
) -> None:
    chunks = ChunkQueue()
    pump_stdin(stdin, chunks, asyncio.get_running_loop())
    await MessageLoop(protocol, limit).run(chunks, stop)


async def serve_connection(
    protocol: FixloopProtocol,
    reader: asyncio.StreamReader,
    stop: threading.Event,
    limit: Callable[[], int],
) -> None:
    chunks = ChunkQueue()
    pump = asyncio.ensure_future(pump_stream(reader, chunks))
    try:
        await MessageLoop(protocol, limit).run(chunks, stop)
    finally:
        pump.cancel()


def stdin_buffer() -> IO[bytes]:
    return sys.stdin.buffer
