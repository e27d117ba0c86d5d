"""Content-Length framing that survives a broken or hostile client.

pygls 2.1.1's reader (`pygls.io_.run_async`) matches one exact header spelling, reads
`Content-Length` bytes in one call whatever the number, and once a frame is off it never
finds the next header: one bad message left the server deaf, and a huge length killed it.
This reader takes the stream in chunks, never holds more of a body than the size limit,
and after anything it cannot read skips to the next `Content-Length` header (any case).

A frame whose declared length is wrong is noticed three ways: the body is followed by
extra bytes (too long: they belong to the next message), the next header shows up inside
the body (too long), or the stream pauses with a complete JSON value short of the length.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

CHUNK = 65536
# A header block longer than this is not a header block.
_HEADER_LIMIT = 8192
# Bytes of a broken or oversized body kept to find its request's id.
_KEEP = 65536
# A stream silent this long in the middle of a body has sent all it will send.
STALL_SECONDS = 0.5
# A little more garbage may follow: wait this long before reporting what was skipped.
_GARBAGE_GRACE = 0.05

_LENGTH = re.compile(rb"content-length[ \t]*:", re.IGNORECASE)
# A whole Content-Length header line: never inside valid JSON (raw newlines and bare words
# cannot appear there), so inside a body it means the body was cut short.
_LENGTH_LINE = re.compile(rb"content-length[ \t]*:[ \t]*\d+[ \t]*\r?\n", re.IGNORECASE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HEADER_LINE = re.compile(rb"[A-Za-z0-9!#$%&'*+.^_`|~-]+[ \t]*:[^\r\n]*")
_WHITESPACE = b" \t\r\n"
_JSON_STARTS = frozenset(b'{["-0123456789tfn')


@dataclass(frozen=True, slots=True)
class Frame:
    """A body read under its declared length."""

    body: bytes


@dataclass(frozen=True, slots=True)
class BadFrame:
    """Bytes that were skipped: a broken frame, garbage, or an oversized body (`head` is
    what was kept of them, enough to find an id)."""

    reason: str
    head: bytes
    oversized: bool = False


class ChunkQueue:
    """Chunks of the input stream, handed over by a producer (a thread or a task); at most
    a few wait at once, so a fast client cannot fill the memory."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=4)
        self._eof = False

    async def put(self, chunk: bytes) -> None:
        await self._queue.put(chunk)

    async def get(self, timeout: float | None = None) -> bytes | None:
        """The next chunk; b"" at the end of the stream; None when `timeout` passed."""
        if self._eof:
            return b""
        try:
            chunk = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None
        if not chunk:
            self._eof = True
        return chunk


class FrameReader:
    """Frames from a `ChunkQueue`, resynchronizing after anything malformed."""

    def __init__(self, chunks: ChunkQueue, limit: Callable[[], int]) -> None:
        self._chunks = chunks
        self._limit = limit
        self._buffer = bytearray()
        self._eof = False
        self._dropped = bytearray()  # skipped since the last frame (first _KEEP bytes)
        self._dropped_any = False

    def unread(self, data: bytes) -> None:
        """Put back bytes that turned out to start the next message."""
        self._buffer[:0] = data

    async def _fill(self, timeout: float | None = None) -> bool:
        """More bytes into the buffer; False at the end of the stream or on timeout."""
        if self._eof:
            return False
        chunk = await self._chunks.get(timeout)
        if chunk is None:
            return False
        if not chunk:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    def _drop(self, count: int) -> None:
        skipped = bytes(self._buffer[:count])
        del self._buffer[:count]
        if skipped.strip(_WHITESPACE):
            self._dropped_any = True
            room = _KEEP - len(self._dropped)
            if room > 0:
                self._dropped += skipped[:room]

    def _take_dropped(self) -> BadFrame | None:
        if not self._dropped_any:
            return None
        head = bytes(self._dropped)
        self._dropped.clear()
        self._dropped_any = False
        return BadFrame("bytes outside any valid frame were skipped", head)

    def _resync(self) -> bool:
        """Skip to the next `Content-Length` header after the current position; False when
        nothing could be skipped yet (more bytes are needed)."""
        found = _LENGTH.search(self._buffer, 1)
        if found is not None:
            self._drop(found.start())
            return True
        keep = 32  # a tail: the next header may be split across chunks
        if len(self._buffer) <= keep:
            return False
        self._drop(len(self._buffer) - keep)
        return True

    async def next(self) -> Frame | BadFrame | None:
        """The next frame, or what was skipped to reach it; None at the end of the stream."""
        while True:
            stripped = len(self._buffer) - len(self._buffer.lstrip(_WHITESPACE))
            del self._buffer[:stripped]
            header = self._header() if self._buffer else None
            if header is not None and header[1] is not None:
                if self._dropped_any:  # report the garbage before the frame after it
                    return self._take_dropped()
                del self._buffer[: header[0]]
                return await self._body(header[1])
            invalid = header is not None or len(self._buffer) > _HEADER_LIMIT
            if invalid and self._resync():
                continue
            # Wait for more; a little only when skipped bytes are waiting to be reported.
            if not await self._fill(_GARBAGE_GRACE if self._dropped_any else None):
                if self._eof:
                    self._drop(len(self._buffer))
                return self._take_dropped()

    def _header(self) -> tuple[int, int | None] | None:
        """The end of the header block and its length (None when invalid); None while the
        block is incomplete."""
        window = bytes(self._buffer[: _HEADER_LIMIT + 4])
        first_line = window.split(b"\n", 1)[0].rstrip(b"\r")
        if b"\n" in window and not _HEADER_LINE.fullmatch(first_line):
            return 0, None
        found = _HEADER_END.search(window)
        if found is None:
            return None
        lengths = set()
        for line in window[: found.start()].split(b"\n"):
            line = line.rstrip(b"\r")
            if not _HEADER_LINE.fullmatch(line):
                return found.end(), None
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                lengths.add(value.strip())
        if len(lengths) != 1:
            return found.end(), None
        (value,) = lengths
        if not value.isdigit() or len(value) > 18:
            return found.end(), None
        return found.end(), int(value)

    async def _body(self, length: int) -> Frame | BadFrame:
        """The body, or a BadFrame when it is over the limit or cut short by a header."""
        limit = self._limit()
        keep = length <= limit
        kept = bytearray()  # all of the body, or its first _KEEP bytes when over the limit
        tail = b""  # the last bytes read, where a header split across chunks begins
        seen = 0
        while seen < length:
            if seen == 0 and self._buffer and self._not_json_start():
                return BadFrame("the body is not JSON", b"")  # re-read from here
            if not self._buffer and not await self._fill(STALL_SECONDS):
                if not self._eof and _complete_json(kept, seen):
                    return BadFrame("Content-Length is longer than the body", bytes(kept))
                if self._eof or not await self._fill():
                    return BadFrame("the stream ended inside a body", bytes(kept[:_KEEP]))
            piece = bytes(self._buffer[: length - seen])
            found = _LENGTH_LINE.search(tail + piece)
            if found is not None:  # the next message began inside this body
                start = found.start() - len(tail)
                if start < 0:
                    self.unread(tail[start:])
                    if keep:
                        del kept[start:]
                del self._buffer[: max(0, start)]
                kept += piece[: max(0, start)]
                if not keep:
                    return self._oversized(length, limit, kept)
                return BadFrame("the next header came inside the body", bytes(kept[:_KEEP]))
            del self._buffer[: len(piece)]
            if keep:
                kept += piece
            elif len(kept) < _KEEP:
                kept += piece[: _KEEP - len(kept)]
            tail = (tail + piece)[-64:]
            seen += len(piece)
        if not keep:
            return self._oversized(length, limit, kept)
        return Frame(bytes(kept))

    def _not_json_start(self) -> bool:
        """Whether the body cannot be JSON (e.g. it is the next header: the previous
        frame had a header and no body), so that nothing of it is consumed."""
        first = self._buffer.lstrip(_WHITESPACE)[:1]
        return bool(first) and first[0] not in _JSON_STARTS

    @staticmethod
    def _oversized(length: int, limit: int, kept: bytearray) -> BadFrame:
        reason = f"a message of {length:,} bytes is over the limit of {limit:,}"
        return BadFrame(f"{reason} (setting maxMessageBytes)", bytes(kept[:_KEEP]), True)


def _complete_json(kept: bytearray, seen: int) -> bool:
    """Whether everything read of a body is one whole JSON value (then the rest of its
    declared length is never coming)."""
    if len(kept) != seen or not kept.rstrip(_WHITESPACE).endswith((b"}", b"]")):
        return False  # (cheap: a slow client pausing inside a big body costs no parse)
    try:
        json.loads(kept)
    except (ValueError, RecursionError):
        return False
    return True
