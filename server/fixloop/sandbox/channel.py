"""A process started with `docker exec` whose stdin and stdout stay attached.

The only way to get bytes into a container with a read-only root: `put_archive` refuses
even a tmpfs, so project copies and requests are written to an exec's stdin instead.
Docker multiplexes the exec's stdout and stderr on one connection (8-byte frame headers,
no TTY); this class undoes that.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import docker

STDOUT, STDERR = 1, 2
STDERR_KEPT = 16 * 1024


class ChannelClosed(Exception):
    """The process ended, or the connection to the engine broke."""


class ExecChannel:
    def __init__(
        self,
        client: docker.DockerClient,
        container_id: str,
        argv: Sequence[str],
        *,
        user: str,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.api = client.api
        try:
            created = self.api.exec_create(
                container_id,
                list(argv),
                stdin=True,
                stdout=True,
                stderr=True,
                user=user,
                environment=dict(environment or {}),
                workdir="/work",
            )
            self.exec_id: str = created["Id"]
            self._raw = self.api.exec_start(self.exec_id, socket=True)
        except Exception as error:
            raise ChannelClosed(f"cannot start a process in the sandbox: {error}") from error
        self._sock: socket.socket = getattr(self._raw, "_sock", self._raw)
        self._stdout = bytearray()
        self.stderr = bytearray()

    def send(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except OSError as error:
            raise ChannelClosed(f"cannot write to the sandbox: {error}") from error

    def send_message(self, message: Mapping[str, Any]) -> None:
        body = json.dumps(message).encode()
        self.send(struct.pack(">I", len(body)) + body)

    def receive_message(self, timeout: float) -> dict[str, Any]:
        header = self._read_stdout(4, timeout)
        body = self._read_stdout(struct.unpack(">I", header)[0], timeout)
        message: dict[str, Any] = json.loads(body)
        return message

    def read_to_end(self, timeout: float) -> bytes:
        """All of stdout until the process ends."""
        try:
            while True:
                self._read_frame(timeout)
        except ChannelClosed:
            pass
        data = bytes(self._stdout)
        self._stdout.clear()
        return data

    def exit_code(self) -> int | None:
        code: int | None = self.api.exec_inspect(self.exec_id).get("ExitCode")
        return code

    def close(self) -> None:
        for closable in (self._sock, self._raw):
            with contextlib.suppress(OSError):
                closable.close()

    def _read_stdout(self, size: int, timeout: float) -> bytes:
        while len(self._stdout) < size:
            self._read_frame(timeout)
        data = bytes(self._stdout[:size])
        del self._stdout[:size]
        return data

    def _read_frame(self, timeout: float) -> None:
        stream, size = struct.unpack(">BxxxL", self._recv_exactly(8, timeout))
        payload = self._recv_exactly(size, timeout)
        if stream == STDOUT:
            self._stdout += payload
        elif stream == STDERR:
            self.stderr = (self.stderr + payload)[-STDERR_KEPT:]

    def _recv_exactly(self, size: int, timeout: float) -> bytes:
        self._sock.settimeout(timeout)
        data = bytearray()
        while len(data) < size:
            try:
                chunk = self._sock.recv(size - len(data))
            except TimeoutError as error:
                raise ChannelClosed(f"no answer from the sandbox within {timeout:.0f} s") from error
            except OSError as error:
                raise ChannelClosed(f"the connection to the sandbox broke: {error}") from error
            if not chunk:
                raise ChannelClosed("the sandbox process ended")
            data += chunk
        return bytes(data)
