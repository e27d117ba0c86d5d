"""A minimal LSP client over a server's stdio: Content-Length framed JSON-RPC, no pygls.

The benchmark measures every server through this same client, so that client-side costs
(framing, JSON, scheduling) are identical for all of them. Reading happens in the caller's
thread with `select`, so a message's arrival time is taken as soon as its last byte is read,
with no queue or thread hand-off in between.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

Message = dict[str, Any]


@dataclass(frozen=True)
class Received:
    message: Message
    at_ns: int  # time.perf_counter_ns() when the last byte of the frame was read


class LspTimeout(TimeoutError):
    pass


class LspServerProcess:
    """A language server child process spoken to over its stdin/stdout."""

    def __init__(self, command: Sequence[str], cwd: str | None = None) -> None:
        self.spawned_ns = time.perf_counter_ns()
        self.process = subprocess.Popen(
            list(command),
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._stdin: IO[bytes] = self.process.stdin
        self._stdout_fd = self.process.stdout.fileno()
        self._buffer = bytearray()
        self._next_id = 0
        # Messages read while waiting for something else, in arrival order.
        self.backlog: list[Received] = []

    @property
    def pid(self) -> int:
        return self.process.pid

    # --- sending ---------------------------------------------------------------------

    def _write(self, message: Message) -> int:
        body = json.dumps(message, separators=(",", ":")).encode()
        sent_ns = time.perf_counter_ns()
        self._stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        return sent_ns

    def notify(self, method: str, params: Any) -> int:
        """Send a notification; returns the send time (perf_counter_ns)."""
        return self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any) -> int:
        """Send a request; returns its id."""
        self._next_id += 1
        self._write({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return self._next_id

    def call(self, method: str, params: Any, timeout: float = 30.0) -> Received:
        """A request and its response."""
        request_id = self.request(method, params)
        return self.wait_for(
            lambda m: m.get("id") == request_id and "method" not in m, timeout, method
        )

    # --- receiving -------------------------------------------------------------------

    def _frame(self) -> Message | None:
        """One complete message from the buffer, or None if it is not all there yet."""
        header_end = self._buffer.find(b"\r\n\r\n")
        if header_end < 0:
            return None
        length = None
        for line in bytes(self._buffer[:header_end]).split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise ValueError(f"frame without Content-Length: {bytes(self._buffer[:header_end])!r}")
        body_start = header_end + 4
        if len(self._buffer) < body_start + length:
            return None
        body = bytes(self._buffer[body_start : body_start + length])
        del self._buffer[: body_start + length]
        message: Message = json.loads(body)
        return message

    def _read_one(self, deadline: float) -> Received:
        while True:
            message = self._frame()
            if message is not None:
                return Received(message, time.perf_counter_ns())
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LspTimeout("no message before the deadline")
            ready, _, _ = select.select([self._stdout_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._stdout_fd, 1 << 20)
            if not chunk:
                raise EOFError(f"the server exited (status {self.process.poll()})")
            self._buffer += chunk

    def _answer_server_request(self, message: Message) -> None:
        """Requests from the server (configuration, progress, registration): answer with
        the most neutral result so that nothing waits on the client."""
        result: Any = None
        if message["method"] == "workspace/configuration":
            result = [None for _ in message.get("params", {}).get("items", [])]
        self._write({"jsonrpc": "2.0", "id": message["id"], "result": result})

    def wait_for(
        self, matches: Callable[[Message], bool], timeout: float = 30.0, what: str = "message"
    ) -> Received:
        """The first message (from the backlog, then the wire) that `matches`."""
        for index, received in enumerate(self.backlog):
            if matches(received.message):
                return self.backlog.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            try:
                received = self._read_one(deadline)
            except LspTimeout:
                raise LspTimeout(f"no {what} within {timeout} s") from None
            message = received.message
            if "method" in message and "id" in message:
                self._answer_server_request(message)
            elif matches(message):
                return received
            elif message.get("method") != "window/logMessage":
                self.backlog.append(received)

    def drop_backlog(self) -> None:
        self.backlog.clear()

    # --- lifecycle -------------------------------------------------------------------

    def initialize(
        self, root_uri: str, capabilities: Message, options: Message | None = None
    ) -> Received:
        params: Message = {
            "processId": os.getpid(),
            "rootUri": root_uri,
            "workspaceFolders": [{"uri": root_uri, "name": "bench"}],
            "capabilities": capabilities,
        }
        if options is not None:
            params["initializationOptions"] = options
        response = self.call("initialize", params)
        self.notify("initialized", {})
        return response

    def stop(self, timeout: float = 5.0) -> None:
        """shutdown + exit, then make sure the process is gone."""
        try:
            if self.process.poll() is None:
                self.call("shutdown", None, timeout=timeout)
                self.notify("exit", None)
                self.process.wait(timeout=timeout)
        except (OSError, EOFError, TimeoutError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._stdin.close()
            if self.process.stdout is not None:
                self.process.stdout.close()

    def peak_rss_kib(self) -> int:
        """VmHWM: the largest resident set the process has had, in KiB."""
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc status")
