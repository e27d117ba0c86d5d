"""How the server holds up against broken and hostile input (issue 16): for each case, the
time from sending one message to the next answered probe, and whether the server is still
alive and answering after it.

Run: .venv/bin/python benchmarks/bench_robustness.py [--fuzz N] [--timeout S]
     [--server-path DIR]   (the `server/` folder whose fixloop to run: another checkout
                            measures the code before a change)
Prints its figures; not a test.

Each numbered case of the issue runs on a fresh `fixloop lsp` over stdio, initialized on a
workspace with a pytest project. The probe is a code action on a document never opened
(answer: null); for the lifecycle cases it is a request whose reply is the error the LSP
asks for. Then N hypothesis-generated cases (tests/robustness/test_protocol_fuzz.py) run
on one server each, a probe after each; a server that stops answering is replaced.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

from tests.support.raw_server import RawServer, frame, probe_params  # noqa: E402

SHUTDOWN_1 = b'{"jsonrpc":"2.0","id":1,"method":"shutdown"}'
DEPTH = 50_000
NESTED = "x = " + "(" * DEPTH + "1" + ")" * DEPTH + "\n"


@dataclass
class Outcome:
    case: str
    seconds: float | None  # None: no answer within the timeout
    alive: bool


def _open(server: RawServer, uri: str, text: str, language: str = "python") -> None:
    document = {"uri": uri, "languageId": language, "version": 1, "text": text}
    server.notify("textDocument/didOpen", {"textDocument": document})


def _answered(server: RawServer, msg_id: int, start: float, timeout: float) -> float | None:
    try:
        server.answer(msg_id, timeout=timeout)
    except (TimeoutError, AssertionError):
        return None
    return time.monotonic() - start


def _framing(data: bytes) -> Callable[[RawServer, Path], float]:
    def send(server: RawServer, workspace: Path) -> float:
        start = time.monotonic()
        server.send(data)
        return start

    return send


def _request(method: str, params: object, msg_id: int = 77) -> Callable[[RawServer, Path], float]:
    def send(server: RawServer, workspace: Path) -> float:
        start = time.monotonic()
        server.request(method, params, msg_id=msg_id)
        return start

    return send


def _deep_code_action(server: RawServer, workspace: Path) -> float:
    uri = (workspace / "deep.py").as_uri()
    _open(server, uri, NESTED)
    server.probe(timeout=120)  # opened (and, before the change, parsed) first
    params = probe_params(uri)
    middle = {"line": 0, "character": len("x = ") + DEPTH}
    params["range"] = {"start": middle, "end": middle}
    start = time.monotonic()
    server.request("textDocument/codeAction", params)
    return start


def _brackets(name: str, language: str, text: str) -> Callable[[RawServer, Path], float]:
    def send(server: RawServer, workspace: Path) -> float:
        start = time.monotonic()
        _open(server, (workspace / name).as_uri(), text, language)
        return start

    return send


def _outside(server: RawServer, workspace: Path) -> float:
    uri = workspace.as_uri() + "/../../../etc/passwd.py"
    _open(server, uri, "x = 1\n")
    start = time.monotonic()
    server.request("workspace/executeCommand", {"command": "fixloop.fix", "arguments": [uri]})
    return start


CASES: list[tuple[str, Callable[[RawServer, Path], float]]] = [
    ("1 header block without Content-Length", _framing(b"Content-Type: x\r\n\r\n" + SHUTDOWN_1)),
    (
        "1 no newline after the body",
        _framing(b"Content-Length: %d\r\n\r\n" % (len(SHUTDOWN_1) + 1) + SHUTDOWN_1),
    ),
    ("1 Content-Length too short", _framing(b"Content-Length: 30\r\n\r\n" + SHUTDOWN_1)),
    (
        "1 Content-Length too long",
        _framing(b"Content-Length: %d\r\n\r\n" % (len(SHUTDOWN_1) + 400) + SHUTDOWN_1),
    ),
    ("1 Content-Length not a number", _framing(b"Content-Length: 4x\r\n\r\n" + SHUTDOWN_1)),
    (
        "1 lowercase content-length",
        _framing(b"content-length: %d\r\n\r\n" % len(SHUTDOWN_1) + SHUTDOWN_1),
    ),
    (
        "2 Content-Length: 1000000000000",
        _framing(b"Content-Length: 1000000000000\r\n\r\n" + SHUTDOWN_1),
    ),
    ("3 codeAction without params", _request("textDocument/codeAction", None)),
    (
        "3 line -1",
        _request(
            "textDocument/codeAction",
            {
                **probe_params(),
                "range": {
                    "start": {"line": -1, "character": 0},
                    "end": {"line": 0, "character": 0},
                },
            },
        ),
    ),
    ("3 invalid UTF-8", _framing(frame(b'{"jsonrpc":"2.0","id":79,"method":"x","params":"\xff"}'))),
    ("6 codeAction at depth 50,000", _deep_code_action),
    ("7 100,000 unclosed ( in Python", _brackets("b.py", "python", "x = " + "(" * 100_000)),
    ("7 100,000 unclosed { in JavaScript", _brackets("b.js", "javascript", "x = " + "{" * 100_000)),
    (
        "8 generateTests without arguments",
        _request("workspace/executeCommand", {"command": "fixloop.generateTests"}),
    ),
    ("9 fix on ws/../../../etc/passwd.py", _outside),
]


def _server(workspace: Path, env: dict[str, str], initialize: bool = True) -> RawServer:
    server = RawServer(env=env)
    if initialize:
        server.initialize(workspace)
    return server


def run_case(
    name: str, send: Callable[[RawServer, Path], float], env: dict[str, str], timeout: float
) -> Outcome:
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder) / "ws"
        workspace.mkdir()
        (workspace / "pytest.ini").write_text("[pytest]\n")
        server = _server(workspace, env)
        try:
            start = send(server, workspace)
            seconds = _answered(
                server, server.request("textDocument/codeAction", probe_params()), start, timeout
            )
            return Outcome(name, seconds, server.process.poll() is None and seconds is not None)
        finally:
            server.close()


def run_lifecycle(env: dict[str, str], timeout: float) -> list[Outcome]:
    """4: a request after shutdown; 5: a request before initialize. Answered at all?"""
    outcomes = []
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        server = _server(workspace, env)
        try:
            server.answer(server.request("shutdown"))
            start = time.monotonic()
            late = server.request("textDocument/codeAction", probe_params())
            seconds = _answered(server, late, start, timeout)
            outcomes.append(Outcome("4 request after shutdown", seconds, seconds is not None))
        finally:
            server.close()
        server = _server(workspace, env, initialize=False)
        try:
            command = {"command": "fixloop.cancelFix"}
            server.answer(server.request("workspace/executeCommand", command), timeout)  # up
            start = time.monotonic()
            early = server.request("workspace/executeCommand", command)
            seconds = _answered(server, early, start, timeout)
            reply = server.answers(early)
            refused = bool(reply) and reply[0].get("error", {}).get("code") == -32002
            outcomes.append(Outcome("5 request before initialize (-32002?)", seconds, refused))
        finally:
            server.close()
    return outcomes


def run_fuzz(count: int, env: dict[str, str], timeout: float) -> tuple[int, int, float]:
    """`count` generated cases; (cases, alive after, worst seconds to the next probe)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from tests.robustness.test_protocol_fuzz import frames

    alive, worst = 0, 0.0
    state: dict[str, RawServer] = {}
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)

        @settings(
            max_examples=count,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=frames())
        def one(case: bytes) -> None:
            nonlocal alive, worst
            if "server" not in state:
                state["server"] = _server(workspace, env)
            server = state["server"]
            start = time.monotonic()
            server.send(case)
            seconds = _answered(
                server, server.request("textDocument/codeAction", probe_params()), start, timeout
            )
            if seconds is None or server.process.poll() is not None:
                worst = max(worst, timeout)
                server.close()
                del state["server"]  # deaf or dead: the next case gets a new one
                return
            alive += 1
            worst = max(worst, seconds)

        try:
            one()
        finally:
            if "server" in state:
                state["server"].close()
    return count, alive, worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fuzz", type=int, default=300, help="generated cases (0: none)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a probe")
    parser.add_argument("--fuzz-timeout", type=float, default=5.0)
    parser.add_argument("--server-path", type=Path, default=ROOT / "server")
    args = parser.parse_args()
    env = {"PYTHONPATH": str(args.server_path.resolve())}

    outcomes = [run_case(name, send, env, args.timeout) for name, send in CASES]
    outcomes += run_lifecycle(env, args.timeout)
    print(f"fixloop from {args.server_path}")
    print(f"{'case':44} {'to next answer':>15}  alive/answering")
    for outcome in outcomes:
        shown = (
            f"{outcome.seconds:.3f} s" if outcome.seconds is not None else f"> {args.timeout:.0f} s"
        )
        print(f"{outcome.case:44} {shown:>15}  {'yes' if outcome.alive else 'NO'}")
    timed = [o.seconds if o.seconds is not None else args.timeout for o in outcomes]
    worst = max(zip(timed, [o.case for o in outcomes], strict=True))
    answering = sum(o.alive for o in outcomes)
    print(f"numbered cases: {len(outcomes)} tried, {answering} alive and answering")
    more = "> " if worst[0] >= args.timeout else ""
    print(f"worst case, one message to the next answer: {more}{worst[0]:.3f} s ({worst[1]})")
    if args.fuzz:
        tried, alive, fuzz_worst = run_fuzz(args.fuzz, env, args.fuzz_timeout)
        shown = f"> {fuzz_worst:.0f}" if fuzz_worst >= args.fuzz_timeout else f"{fuzz_worst:.3f}"
        print(f"fuzz: {tried} cases, {alive} answered a probe after; worst {shown} s")
    sys.stdout.flush()
    os._exit(0)  # hypothesis and the reader threads: nothing to wait for


if __name__ == "__main__":
    main()
