"""A small OpenAI-compatible HTTP server for tests: `/v1/chat/completions` answers from a
script (a reply's content, an HTTP error, a delay) and records every request body.

    with scripted_openai([Reply("..."), Reply(status=500)]) as server:
        client = OpenAI(base_url=server.base_url, api_key="x")
        ...
        server.requests[0]["messages"]

Bound to 127.0.0.1 on a free port, served from a thread, always shut down on exit.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer. `status` other than 200 answers with an OpenAI-style error."""

    content: str = ""
    status: int = 200
    delay: float = 0.0  # seconds before answering (to make the client time out)
    prompt_tokens: int = 100
    completion_tokens: int = 20
    headers: tuple[tuple[str, str], ...] = ()
    raw: bytes | None = None  # sent as the body instead of JSON (a broken server)


@dataclass
class ScriptedServer:
    replies: list[Reply]
    # Models that do not exist here: any request for one gets a 404, script untouched.
    missing_models: frozenset[str] = frozenset()
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)  # lower-case names
    paths: list[str] = field(default_factory=list)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def prompts(self) -> list[str]:
        """The text of every request's messages, joined: what a test asserts on."""
        return [
            "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
            for body in self.requests
        ]

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            if body.get("model") in self.missing_models:
                return Reply(status=404, content=f"The model `{body.get('model')}` does not exist")
            if not self.replies:
                return Reply(status=500, content="the test script has no reply left")
            return self.replies.pop(0)


def _handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            server.paths.append(self.path)
            server.headers.append({k.lower(): v for k, v in self.headers.items()})
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = {"unparsed": raw.decode("utf-8", "replace")}
            reply = server.next_reply(body)
            if reply.delay:
                time.sleep(reply.delay)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                reply = Reply(status=404, content=f"no route {self.path}")
            self._answer(reply, body)

        def _answer(self, reply: Reply, body: dict[str, Any]) -> None:
            if reply.status == 200:
                payload = _completion(reply, str(body.get("model", "")))
            else:
                payload = {
                    "error": {
                        "message": reply.content or f"scripted HTTP {reply.status}",
                        "type": "invalid_request_error" if reply.status < 500 else "server_error",
                        "code": "model_not_found" if reply.status == 404 else None,
                    }
                }
            data = json.dumps(payload).encode() if reply.raw is None else reply.raw
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet test output

    return Handler


def _completion(reply: Reply, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


@contextmanager
def scripted_openai(
    replies: Sequence[Reply | str], missing_models: Sequence[str] = ()
) -> Iterator[ScriptedServer]:
    """Serve the script on 127.0.0.1; a plain string is a 200 reply with that content."""
    script = ScriptedServer(
        [Reply(r) if isinstance(r, str) else r for r in replies], frozenset(missing_models)
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    httpd.daemon_threads = True
    script.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield script
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def unused_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (for "endpoint down" tests)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
