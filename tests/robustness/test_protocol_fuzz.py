"""A protocol fuzz test: hypothesis-generated frames and messages, well and badly formed,
against one real server process; after every case the server must still answer a probe
request correctly. Bounded in count (and so in time: each probe waits a few seconds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.support.raw_server import RawServer

EXAMPLES = 500
# Methods a client may send, minus the two that end the session (the probe would then be
# refused, as it should be).
METHODS = [
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didClose",
    "textDocument/didSave",
    "textDocument/codeAction",
    "workspace/executeCommand",
    "workspace/didChangeConfiguration",
    "workspace/didChangeWorkspaceFolders",
    "$/cancelRequest",
    "$/setTrace",
    "initialize",
    "initialized",
    "window/workDoneProgress/cancel",
    "fixloop/noSuchMethod",
]
COMMANDS = ["fixloop.fix", "fixloop.cancelFix", "fixloop.generateTests", "fixloop.showReport"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ids = st.none() | st.integers(-5, 10**12) | st.text(max_size=6) | st.booleans() | st.floats()
positions = st.fixed_dictionaries(
    {"line": st.integers(-2, 10**10), "character": st.integers(-2, 10**10)}
)


def _params(method: str) -> st.SearchStrategy[Any]:
    if method == "workspace/executeCommand":
        return st.fixed_dictionaries(
            {"command": st.sampled_from(COMMANDS), "arguments": st.lists(json_values, max_size=3)}
        )
    if method == "textDocument/didOpen":
        document = st.fixed_dictionaries(
            {
                "uri": st.sampled_from(["file:///ws/a.py", "file:///ws/b.js", "untitled:x"]),
                "languageId": st.sampled_from(["python", "javascript", "plaintext"]),
                "version": st.integers(0, 5),
                "text": st.text(alphabet="()[]{}:\n x=yaml.load'\"\\", max_size=300),
            }
        )
        return st.fixed_dictionaries({"textDocument": document})
    if method == "textDocument/codeAction":
        return st.fixed_dictionaries(
            {
                "textDocument": st.fixed_dictionaries({"uri": st.just("file:///ws/a.py")}),
                "range": st.fixed_dictionaries({"start": positions, "end": positions}),
                "context": st.fixed_dictionaries({"diagnostics": st.just([])}),
            }
        )
    return json_values


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    method = draw(st.sampled_from(METHODS))
    message: dict[str, Any] = {"jsonrpc": draw(st.sampled_from(["2.0", "2.0", "1.0"]))}
    if draw(st.booleans()):
        message["id"] = draw(ids)
    message["method"] = method
    if draw(st.integers(0, 4)):
        message["params"] = draw(_params(method))
    return message


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    """One case: a message framed well or badly, or bytes."""
    kind = draw(st.sampled_from(["good", "good", "length", "header", "body", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    body = json.dumps(draw(messages())).encode()
    if kind == "body":  # cut, padded or corrupted
        cut = draw(st.integers(0, len(body)))
        body = body[:cut] + draw(st.binary(max_size=8)) + body[cut:]
    length = len(body)
    if kind == "length":
        length = max(0, length + draw(st.integers(-len(body), 300)))
    name = b"Content-Length"
    if kind == "header":
        name = draw(st.sampled_from([b"content-length", b"CONTENT-LENGTH", b"Content-Type"]))
    extra = draw(st.sampled_from([b"", b"Content-Type: application/vscode-jsonrpc\r\n"]))
    return name + b": %d\r\n" % length + extra + b"\r\n" + body


@pytest.mark.slow
def test_the_server_answers_a_probe_after_every_fuzzed_case(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    server = RawServer()
    tried: list[bytes] = []
    try:
        server.initialize(workspace)

        # One server for every case, so no shrinking (a case acts on what the ones before
        # left); a failure shows the cases sent last instead.
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=frames())
        def check(case: bytes) -> None:
            tried.append(case)
            server.send(case)
            try:
                server.probe(timeout=5)
            except TimeoutError as error:
                raise AssertionError(f"no answer after the cases {tried[-5:]}") from error
            assert server.process.poll() is None

        check()
        assert len(tried) >= EXAMPLES
        for message in server.messages:  # no traceback ever reached the client
            assert "Traceback" not in json.dumps(message)
    finally:
        server.close()
