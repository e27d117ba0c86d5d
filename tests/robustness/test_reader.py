"""The frame reader on its own: frames split anywhere across chunks, and what it skips."""

from __future__ import annotations

import asyncio

import pytest

from fixloop.lsp.framing import BadFrame, ChunkQueue, Frame, FrameReader
from fixloop.lsp.transport import salvage_id

BODY = b'{"jsonrpc":"2.0","id":3,"method":"m"}'
GOOD = b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY


async def _read(chunks: list[bytes], limit: int = 1 << 20) -> list[Frame | BadFrame]:
    queue = ChunkQueue()
    reader = FrameReader(queue, lambda: limit)
    for chunk in [*(c for c in chunks if c), b""]:  # b"" is the end of the stream
        await queue.put(chunk)
    frames: list[Frame | BadFrame] = []
    while (frame := await reader.next()) is not None:
        frames.append(frame)
    return frames


def _run(chunks: list[bytes], limit: int = 1 << 20) -> list[Frame | BadFrame]:
    return asyncio.run(asyncio.wait_for(_read(chunks, limit), 10))


@pytest.mark.parametrize("cut", range(0, len(GOOD) + 1, 7))
def test_a_frame_split_anywhere_is_read_whole(cut: int) -> None:
    assert _run([GOOD[:cut], GOOD[cut:] + GOOD]) == [Frame(BODY), Frame(BODY)]


def test_garbage_before_a_frame_is_one_bad_frame_then_the_frame() -> None:
    frames = _run([b"garbage\r\n\r\n" + GOOD])
    assert [type(f) for f in frames] == [BadFrame, Frame]


def test_a_body_over_the_limit_is_skipped_and_the_next_frame_read() -> None:
    big = b"Content-Length: 100\r\n\r\n" + b"{" + b" " * 99
    frames = _run([big, GOOD], limit=50)
    assert isinstance(frames[0], BadFrame) and frames[0].oversized
    assert frames[1:] == [Frame(BODY)]


def test_salvaged_ids_are_top_level_only() -> None:
    assert salvage_id('{"jsonrpc":"2.0","id":7,"method":"x","params":{"a') == (7, True)
    notification = '{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":5}}'
    assert salvage_id(notification) == (None, False)  # whole, no id: never answered
    assert salvage_id('"}}, "id": 9}') == (None, True)  # the rest of a message: unknown
    assert salvage_id("Content-Type: x\r\n\r\n" + '{"id":"a","method":"m"') == ("a", True)
