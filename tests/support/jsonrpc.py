"""A bare JSON-RPC client over a byte stream, for what pytest-lsp cannot send: malformed
messages, and a server on TCP."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from typing import IO, Any


class Wire:
    """Content-Length framed JSON-RPC over a pair of byte streams."""

    def __init__(self, reader: IO[bytes], writer: IO[bytes]) -> None:
        self._reader = reader
        self._writer = writer
        self._next_id = 0

    def send_raw(self, body: bytes) -> None:
        self._writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self._writer.flush()

    def send(self, method: str, params: Any = None, request: bool = True) -> int | None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        request_id = None
        if request:
            self._next_id += 1
            request_id = message["id"] = self._next_id
        self.send_raw(json.dumps(message).encode())
        return request_id

    def receive(self) -> dict[str, Any]:
        length = 0
        while True:
            line = self._reader.readline()
            if not line:
                raise EOFError("the server closed the connection")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        message: dict[str, Any] = json.loads(self._reader.read(length))
        return message

    def response_to(self, request_id: int | None, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.receive()
            if message.get("id") == request_id and "method" not in message:
                return message
        raise TimeoutError(f"no response to request {request_id}")

    def initialize(self, root_uri: str | None = None) -> dict[str, Any]:
        request = self.send(
            "initialize", {"processId": None, "rootUri": root_uri, "capabilities": {}}
        )
        response = self.response_to(request)
        self.send("initialized", {}, request=False)
        return response


def connect_tcp(host: str, port: int, timeout: float = 10.0) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection((host, port), timeout=timeout)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)
