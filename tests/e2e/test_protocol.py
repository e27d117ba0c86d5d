"""The server as a process: transports, bad messages, and a clean shutdown."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.jsonrpc import Wire, connect_tcp, stop

SERVER = [sys.executable, "-m", "fixloop", "lsp"]


@pytest.fixture
def stdio_server() -> Iterator[tuple[subprocess.Popen[bytes], Wire]]:
    process = subprocess.Popen(
        [*SERVER, "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        yield process, Wire(process.stdout, process.stdin)
    finally:
        stop(process)


def test_initialize_announces_incremental_sync_and_quick_fixes(stdio_server) -> None:  # type: ignore[no-untyped-def]
    _, wire = stdio_server
    capabilities = wire.initialize()["result"]["capabilities"]
    assert capabilities["textDocumentSync"]["change"] == 2  # incremental
    assert capabilities["codeActionProvider"]["codeActionKinds"] == ["quickfix", "source"]
    assert sorted(capabilities["executeCommandProvider"]["commands"]) == [
        "fixloop.cancelFix",
        "fixloop.fix",
        "fixloop.generateTests",
        "fixloop.rememberedApplied",
        "fixloop.runTests",
        "fixloop.showReport",
    ]
    assert capabilities["positionEncoding"] == "utf-16"


def test_malformed_message_gets_an_error_and_the_server_stays_up(stdio_server) -> None:  # type: ignore[no-untyped-def]
    process, wire = stdio_server
    wire.initialize()
    wire.send_raw(b'{"jsonrpc": "2.0", "id": 99, "method": ')  # cut-off JSON
    reply = wire.receive()
    while "error" not in reply:
        reply = wire.receive()
    assert reply["error"]["code"] == -32700  # parse error
    # Still serving requests afterwards.
    request = wire.send(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": "file:///nowhere.py"},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "context": {"diagnostics": []},
        },
    )
    assert wire.response_to(request)["result"] is None
    assert process.poll() is None


def test_unknown_method_is_answered_with_method_not_found(stdio_server) -> None:  # type: ignore[no-untyped-def]
    _, wire = stdio_server
    wire.initialize()
    reply = wire.response_to(wire.send("fixloop/noSuchThing", {}))
    assert reply["error"]["code"] == -32601


def test_shutdown_then_exit_ends_the_process_with_status_zero(stdio_server) -> None:  # type: ignore[no-untyped-def]
    process, wire = stdio_server
    wire.initialize()
    assert wire.response_to(wire.send("shutdown"))["result"] is None
    wire.send("exit", request=False)
    assert process.wait(timeout=10) == 0


def test_exit_without_shutdown_ends_the_process_with_status_one(stdio_server) -> None:  # type: ignore[no-untyped-def]
    process, wire = stdio_server
    wire.initialize()
    wire.send("exit", request=False)
    assert process.wait(timeout=10) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_tcp_transport_serves_diagnostics(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen([*SERVER, "--tcp", f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
    try:
        with connect_tcp("127.0.0.1", port) as connection:
            stream = connection.makefile("rwb")
            wire = Wire(stream, stream)
            wire.initialize(tmp_path.as_uri())
            uri = (tmp_path / "t.py").as_uri()
            wire.send(
                "textDocument/didOpen",
                {
                    "textDocument": {
                        "uri": uri,
                        "languageId": "python",
                        "version": 1,
                        "text": "x = [1,\n",
                    }
                },
                request=False,
            )
            message = wire.receive()
            while message.get("method") != "textDocument/publishDiagnostics":
                message = wire.receive()
            assert message["params"]["uri"] == uri
            assert message["params"]["diagnostics"][0]["message"].startswith("missing `]`")
    finally:
        stop(process)


def test_tcp_address_must_be_host_and_port() -> None:
    result = subprocess.run(
        [*SERVER, "--tcp", "nonsense"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    assert "HOST:PORT" in result.stderr
