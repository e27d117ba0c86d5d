"""A real `fixloop lsp` process driven with raw bytes, for what no LSP client sends: broken
frames, malformed messages, requests out of the lifecycle. A thread reads everything the
server says, so a test can wait for one answer with a timeout and see all the others."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

SERVER = [sys.executable, "-m", "fixloop", "lsp", "--stdio"]
_HEADER = re.compile(rb"Content-Length: (\d+)\r\n(?:[^\r\n]+\r\n)*\r\n")


def frame(message: dict[str, Any] | bytes) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawServer:
    def __init__(self, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.process = subprocess.Popen(
            SERVER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        self.messages: list[dict[str, Any]] = []
        self._arrived = threading.Condition()
        self._ids = itertools.count(100_000)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        buffer = b""
        while chunk := os.read(self.process.stdout.fileno(), 65536):
            buffer += chunk
            while (header := _HEADER.match(buffer)) and len(buffer) >= header.end() + int(
                header.group(1)
            ):
                end = header.end() + int(header.group(1))
                message = json.loads(buffer[header.end() : end])
                buffer = buffer[end:]
                with self._arrived:
                    self.messages.append(message)
                    self._arrived.notify_all()

    def send(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def request(self, method: str, params: Any = None, msg_id: int | None = None) -> int:
        msg_id = next(self._ids) if msg_id is None else msg_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(frame(message))
        return msg_id

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(frame(message))

    def answer(self, msg_id: int | str | None, timeout: float = 10.0) -> dict[str, Any]:
        """The response to `msg_id` (an error with a null id when None)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for message in self.messages:
                    if "method" not in message and message.get("id") == msg_id:
                        return message
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise TimeoutError(f"no answer to {msg_id!r}; got {self.messages[-5:]}")
                self._arrived.wait(min(left, 0.1))

    def answers(self, msg_id: int | str | None) -> list[dict[str, Any]]:
        with self._arrived:
            return [m for m in self.messages if "method" not in m and m.get("id") == msg_id]

    def notifications(self, method: str) -> list[dict[str, Any]]:
        with self._arrived:
            return [m for m in self.messages if m.get("method") == method]

    def initialize(self, root: Path | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"processId": None, "capabilities": {}}
        if root is not None:
            params["rootUri"] = root.as_uri()
            params["workspaceFolders"] = [{"uri": root.as_uri(), "name": root.name}]
        reply = self.answer(self.request("initialize", params))
        self.notify("initialized", {})
        return reply

    def probe(self, timeout: float = 10.0) -> float:
        """Ask something with a known answer; the seconds it took. Fails unless answered
        correctly (a code action on a document never opened: null)."""
        start = time.monotonic()
        reply = self.answer(self.request("textDocument/codeAction", probe_params()), timeout)
        assert reply.get("result", "missing") is None, reply
        return time.monotonic() - start

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def probe_params(uri: str = "file:///never/opened.py") -> dict[str, Any]:
    where = {"line": 0, "character": 0}
    return {
        "textDocument": {"uri": uri},
        "range": {"start": where, "end": where},
        "context": {"diagnostics": []},
    }
