"""Issue 16, cases 1 and 2: one badly framed message never leaves the server deaf, and no
Content-Length kills it. After each, the next request is answered; where the broken
message's id can be read, it gets a parse error (-32700) under that id."""

from __future__ import annotations

import json

import pytest

from tests.support.raw_server import RawServer, frame

SHUTDOWN_1 = b'{"jsonrpc":"2.0","id":1,"method":"shutdown"}'


def test_case_1_a_header_block_without_content_length(server: RawServer) -> None:
    server.send(b"Content-Type: x\r\n\r\n" + SHUTDOWN_1)
    server.probe()
    assert server.answer(1)["error"]["code"] == -32700
    server.probe()  # and the shutdown in the broken frame was not obeyed


@pytest.mark.parametrize(
    ("length", "answered_id"),
    [
        pytest.param(b"%d" % (len(SHUTDOWN_1) + 1), 1, id="no-newline-after-the-body"),
        pytest.param(b"30", 1, id="too-short"),
        pytest.param(b"20", None, id="too-short-to-show-the-id"),
        pytest.param(b"%d" % (len(SHUTDOWN_1) + 400), 1, id="too-long"),
        pytest.param(b"4x", 1, id="not-a-number"),
        pytest.param(b"-45", 1, id="negative"),
    ],
)
def test_case_1_a_wrong_content_length(
    server: RawServer, length: bytes, answered_id: int | None
) -> None:
    server.send(b"Content-Length: " + length + b"\r\n\r\n" + SHUTDOWN_1)
    server.probe()
    assert server.answer(answered_id)["error"]["code"] == -32700
    server.probe()


def test_case_1_a_lowercase_header_is_read(server: RawServer) -> None:
    message = {"jsonrpc": "2.0", "id": 5, "method": "fixloop/noSuchMethod"}
    body = json.dumps(message).encode()
    server.send(b"content-length: %d\r\n\r\n" % len(body) + body)
    assert server.answer(5)["error"]["code"] == -32601  # read and answered as itself
    server.probe()


def test_case_1_garbage_between_messages(server: RawServer) -> None:
    server.send(b"\x00\xffnot a header at all\r\n\r\n{]" + frame(b"[1, 2"))
    server.probe()
    assert server.process.poll() is None


def test_case_2_a_huge_content_length_is_skipped_not_allocated(server: RawServer) -> None:
    server.send(b"Content-Length: 1000000000000\r\n\r\n" + SHUTDOWN_1)
    server.probe()
    assert server.answer(1)["error"]["code"] == -32600  # over the size limit
    assert server.process.poll() is None


def test_case_2_a_message_over_the_limit_setting_is_refused_under_its_id() -> None:
    server = RawServer(env={"FIXLOOP_MAX_MESSAGE_BYTES": "2000"})
    try:
        server.initialize()
        text = "x = 1\n" * 1000
        document = {"uri": "file:///big.py", "languageId": "python", "version": 1, "text": text}
        big = server.request("fixloop/anything", {"textDocument": document})
        error = server.answer(big)["error"]
        assert error["code"] == -32600 and "maxMessageBytes" in error["message"]
        server.probe()
    finally:
        server.close()


def test_the_stream_can_pause_inside_a_body(server: RawServer) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "fixloop/noSuchMethod"}).encode()
    message = b"Content-Length: %d\r\n\r\n" % len(body) + body
    for part in (message[:10], message[10:30], message[30:]):  # a slow client
        server.send(part)
    assert server.answer(9)["error"]["code"] == -32601


def test_a_too_long_body_followed_by_silence_is_answered(server: RawServer) -> None:
    server.send(b"Content-Length: %d\r\n\r\n" % (len(SHUTDOWN_1) + 10) + SHUTDOWN_1)
    assert server.answer(1, timeout=5)["error"]["code"] == -32700  # once the stream pauses
    server.probe()
