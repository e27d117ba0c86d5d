"""Issue 16, cases 3, 4, 5 and 8: JSON-RPC errors as the spec says. A request is answered
under its id (-32602 for params that do not fit, -32700 for a body that is not JSON), a
notification never; requests before `initialize` get -32002, after `shutdown` -32600; no
error carries a traceback."""

from __future__ import annotations

import pytest

from tests.support.raw_server import RawServer, frame, probe_params


def _no_traceback_anywhere(server: RawServer) -> None:
    for message in server.messages:
        assert "Traceback" not in str(message), message
        assert "data" not in message.get("error", {}), message


def test_case_3_a_request_without_its_params_gets_invalid_params_under_its_id(
    server: RawServer,
) -> None:
    server.request("textDocument/codeAction", msg_id=77)
    error = server.answer(77)["error"]
    assert error["code"] == -32602 and "params" in error["message"]
    _no_traceback_anywhere(server)


def test_case_3_a_negative_line_gets_invalid_params_under_its_id(server: RawServer) -> None:
    params = probe_params()
    params["range"]["start"]["line"] = -1
    server.request("textDocument/codeAction", params, msg_id=78)
    assert server.answer(78)["error"]["code"] == -32602


def test_case_3_a_notification_with_bad_params_gets_no_answer(server: RawServer) -> None:
    server.notify("textDocument/didOpen", {"textDocument": {"uri": 5}})
    server.notify("textDocument/didChange")
    server.probe()
    assert [m for m in server.messages if "error" in m] == []


def test_case_3_invalid_utf8_is_a_parse_error_under_the_readable_id(server: RawServer) -> None:
    server.send(frame(b'{"jsonrpc":"2.0","id":79,"method":"fixloop/x","params":"\xff"}'))
    assert server.answer(79)["error"]["code"] == -32700
    server.probe()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[1, 2, 3]", -32600),
        (b'{"id": 80, "method": "fixloop/x"}', -32600),  # no "jsonrpc": "2.0"
        (b'{"jsonrpc": "2.0", "id": 80, "method": 7}', -32600),
        (b'{"jsonrpc": "2.0", "id": 80, "method": "fixloop/x", "params": 3}', -32602),
        (b'{"jsonrpc": "2.0", "id": 80, "method": "fixloop/x"', -32700),
        (b'{"jsonrpc": "2.0", "id": 80, "method": "fixloop/noSuchThing"}', -32601),
    ],
)
def test_case_3_each_kind_of_bad_request_has_its_code(
    server: RawServer, body: bytes, code: int
) -> None:
    server.send(frame(body))
    server.probe()
    errors = [m for m in server.messages if "error" in m]
    assert [e["error"]["code"] for e in errors] == [code]
    if b'"jsonrpc": "2.0", "id": 80' in body or b'"id": 80, "method"' in body:
        assert errors[0]["id"] == 80


def test_case_4_requests_after_shutdown_get_invalid_request(server: RawServer) -> None:
    assert server.answer(server.request("shutdown"))["result"] is None
    late = server.request("textDocument/codeAction", probe_params())
    assert server.answer(late)["error"]["code"] == -32600
    server.notify("exit")
    assert server.process.wait(timeout=10) == 0


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("textDocument/codeAction", probe_params()),
        ("workspace/executeCommand", {"command": "fixloop.cancelFix", "arguments": []}),
        ("shutdown", None),
    ],
)
def test_case_5_requests_before_initialize_get_server_not_initialized(
    fresh: RawServer, method: str, params: object
) -> None:
    error = fresh.answer(fresh.request(method, params))["error"]
    assert error["code"] == -32002
    fresh.initialize()  # and initialize still works afterwards
    fresh.probe()


def test_case_5_initialize_twice_is_refused(server: RawServer) -> None:
    again = server.request("initialize", {"processId": None, "capabilities": {}})
    assert server.answer(again)["error"]["code"] == -32600


@pytest.mark.parametrize(
    ("command", "arguments"),
    [
        ("fixloop.generateTests", None),
        ("fixloop.generateTests", ["file:///ws/a.py"]),
        ("fixloop.generateTests", ["file:///ws/a.py", "three"]),
        ("fixloop.generateTests", [{"uri": "file:///ws/a.py"}, 1]),
        ("fixloop.fix", None),
        ("fixloop.fix", [7]),
        ("fixloop.fix", ["file:///ws/a.py", -1]),
        ("fixloop.fix", ["file:///ws/a.py", 1, 2]),
        ("fixloop.cancelFix", ["now"]),
        ("fixloop.rememberedApplied", ["file:///ws/a.py"]),
        ("fixloop.showReport", [{"id": 1}]),
    ],
)
def test_case_8_wrong_command_arguments_get_invalid_params_and_a_message(
    server: RawServer, command: str, arguments: list[object] | None
) -> None:
    params: dict[str, object] = {"command": command}
    if arguments is not None:
        params["arguments"] = arguments
    error = server.answer(server.request("workspace/executeCommand", params))["error"]
    assert error["code"] == -32602 and error["message"].startswith(command)
    _no_traceback_anywhere(server)
