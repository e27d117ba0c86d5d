"""The language server in this process, on a thread of its own, spoken to over a pair of
pipes: the protocol is real, and a test can also look at the server's state (which
features keep what, which jobs run) once an answer shows the server got there. A thread
reads everything the server says (answering its requests as a plain client would)."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from fixloop.lsp.server import FixloopServer, create_server
from tests.support.jsonrpc import Wire


class InProcessServer:
    def __init__(self) -> None:
        self.server: FixloopServer = create_server()
        to_server, from_client = os.pipe()
        to_client, from_server = os.pipe()
        self._ends = [from_client, to_client]
        stdin, stdout = os.fdopen(to_server, "rb"), os.fdopen(from_server, "wb")
        self.wire = Wire(os.fdopen(to_client, "rb"), os.fdopen(from_client, "wb"))
        self.seen: list[dict[str, Any]] = []  # every message but the responses, in order
        self._answers: dict[Any, dict[str, Any]] = {}
        self._arrived = threading.Condition()
        self._thread = threading.Thread(
            target=self.server.start_io, args=(stdin, stdout), name="fixloop-server", daemon=True
        )
        self._thread.start()
        threading.Thread(target=self._read, name="fixloop-test-client", daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                message = self.wire.receive()
            except (EOFError, OSError, ValueError):
                return
            if "method" in message and "id" in message:  # the server asks: a plain answer
                reply = {"jsonrpc": "2.0", "id": message["id"], "result": None}
                self.wire.send_raw(json.dumps(reply).encode())
            with self._arrived:
                if "method" in message:
                    self.seen.append(message)
                else:
                    self._answers[message.get("id")] = message
                self._arrived.notify_all()

    def initialize(self, root: Path, *, trusted: bool, capabilities: dict[str, Any]) -> None:
        self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root.as_uri(),
                "capabilities": capabilities,
                "initializationOptions": {"workspaceTrusted": trusted},
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            },
        )
        self.notify("initialized", {})

    def notify(self, method: str, params: Any) -> None:
        self.wire.send(method, params, request=False)

    def send(self, method: str, params: Any) -> int | None:
        """A request, not waited for: its answer comes with `answer`."""
        return self.wire.send(method, params)

    def request(self, method: str, params: Any, timeout: float = 30.0) -> dict[str, Any]:
        return self.answer(self.send(method, params), timeout)

    def answer(self, request_id: int | None, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while request_id not in self._answers:
                if not self._arrived.wait(max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"no response to request {request_id}")
            return self._answers.pop(request_id)

    def published(self, uri: str) -> list[list[dict[str, Any]]]:
        """The diagnostics published for `uri`, in order."""
        with self._arrived:
            return [
                m["params"]["diagnostics"]
                for m in self.seen
                if m["method"] == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
            ]

    def close(self) -> None:
        """`shutdown` (unless the test sent it) then `exit`; the thread ends."""
        if self._thread.is_alive():
            with contextlib.suppress(OSError, TimeoutError):
                if not self.server.shutdown_requested:
                    self.request("shutdown", None)
                self.notify("exit", None)
            self._thread.join(timeout=15)
        for end in self._ends:
            with contextlib.suppress(OSError):
                os.close(end)
