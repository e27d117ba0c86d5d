"""Diagnostics latency, start-up and memory: fixloop's server against `ruff server`.

    .venv/bin/python benchmarks/bench_diagnostics.py [--edits 200] [--breaking-edits 100]

Both servers get the same client (benchmarks/lspwire.py), the same file (CPython's 6,400-line
`_pydecimal.py`, copied into a temporary workspace) and the same edit sequence. The client
declares push diagnostics only (no `textDocument.diagnostic`), so ruff publishes on every
change as fixloop does. The servers run side by side and take turns edit by edit (who goes
first alternates), so that background load on the machine falls on both alike.

Measured:
- edit → publishDiagnostics: a single-character insert at the end of an identifier on lines
  spread over the whole file, then its delete; each change is sent alone and timed until the
  publish carrying its version. "Valid" typing keeps the file parseable (checked with `ast`);
  the "breaking" variant types `(`, which leaves a bracket open to the end of the file.
- didOpen → first publish, over repeated open/close of the file, and of the file with
  text changed while it was closed (so that no analysis kept from before can answer).
- spawn → `initialize` response, on fresh processes.
- peak RSS (`VmHWM`) with the file open, after the edit workload.
"""

from __future__ import annotations

import _pydecimal
import argparse
import ast
import keyword
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lspwire import LspServerProcess, Message

PYDECIMAL = Path(_pydecimal.__file__)  # the running interpreter's own copy
VENV_BIN = Path(sys.executable).parent
SERVER_COMMANDS: dict[str, list[str]] = {
    "fixloop": [sys.executable, "-m", "fixloop", "lsp", "--stdio"],
    "ruff": [str(VENV_BIN / "ruff"), "server"],
}
# Push diagnostics only: with `textDocument.diagnostic` declared, ruff would wait to be asked.
CLIENT_CAPABILITIES: Message = {
    "textDocument": {
        "synchronization": {"dynamicRegistration": False, "didSave": True},
        "publishDiagnostics": {"versionSupport": True, "relatedInformation": True},
    },
    "workspace": {"workspaceFolders": True},
    "window": {"workDoneProgress": False},
}
PUBLISH = "textDocument/publishDiagnostics"
WARMUP_EDITS = 10
# fixloop's syntax error and missing token; ruff's code for any syntax error.
SYNTAX_CODES = frozenset({"FL001", "FL002", "invalid-syntax"})
PUBLISH_TIMEOUT_S = 20.0
MIB = 1024

# An identifier we can append a letter to: not a keyword, not a string prefix (r'', f"").
IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*\b(?!['\"])")


@dataclass(frozen=True)
class TypedChar:
    """Typing `char` at (line, column): an insert, then the delete that undoes it."""

    line: int
    column: int  # UTF-16 code units; the file is ASCII, so also characters
    char: str

    def insert(self) -> Message:
        at = {"line": self.line, "character": self.column}
        return {"range": {"start": at, "end": at}, "text": self.char}

    def delete(self) -> Message:
        start = {"line": self.line, "character": self.column}
        end = {"line": self.line, "character": self.column + len(self.char)}
        return {"range": {"start": start, "end": end}, "text": ""}


def _identifier_end(line: str) -> int | None:
    for match in IDENTIFIER.finditer(line):
        if not keyword.iskeyword(match.group()) and not keyword.issoftkeyword(match.group()):
            return match.end()
    return None


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


def spread_edits(text: str, count: int, char: str, valid: bool) -> list[TypedChar]:
    """`count` edits on lines spread evenly over the file, each at an identifier's end.

    A candidate whose insert parses (`valid`) or fails to (not `valid`) otherwise than
    asked is skipped for the next line: valid typing never puts the file in error, and
    every breaking edit really breaks it (not a `(` typed inside a string)."""
    lines = text.split("\n")
    edits: list[TypedChar] = []
    step = len(lines) / count
    next_line = 0
    for index in range(count):
        line_number = max(int(index * step), next_line)
        while line_number < len(lines):
            column = _identifier_end(lines[line_number])
            if column is not None:
                edited = lines.copy()
                edited[line_number] = (
                    edited[line_number][:column] + char + edited[line_number][column:]
                )
                if _parses("\n".join(edited)) == valid:
                    edits.append(TypedChar(line_number, column, char))
                    break
            line_number += 1
        next_line = line_number + 1
    return edits


@dataclass
class ServerUnderTest:
    name: str
    wire: LspServerProcess
    uri: str
    version: int = 0
    timings_ms: dict[str, list[float]] = field(default_factory=dict)

    def record(self, metric: str, value_ms: float) -> None:
        self.timings_ms.setdefault(metric, []).append(value_ms)

    def wait_publish(self, version: int | None) -> tuple[int, Message]:
        uri = self.uri
        received = self.wire.wait_for(
            lambda m: (
                m.get("method") == PUBLISH
                and m["params"]["uri"] == uri
                and m["params"].get("version") == version
            ),
            PUBLISH_TIMEOUT_S,
            f"{self.name} publish of version {version}",
        )
        self.wire.drop_backlog()
        return received.at_ns, received.message

    def change(self, change: Message) -> tuple[float, Message]:
        """Send one content change; milliseconds until the publish of its version."""
        self.version += 1
        sent_ns = self.wire.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [change],
            },
        )
        at_ns, message = self.wait_publish(self.version)
        return (at_ns - sent_ns) / 1e6, message

    def open(self, text: str) -> float:
        self.version += 1
        sent_ns = self.wire.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": self.uri,
                    "languageId": "python",
                    "version": self.version,
                    "text": text,
                }
            },
        )
        at_ns, _ = self.wait_publish(self.version)
        return (at_ns - sent_ns) / 1e6

    def close(self) -> None:
        self.wire.notify("textDocument/didClose", {"textDocument": {"uri": self.uri}})


@contextmanager
def started_servers(workspace: Path, uri: str) -> Iterator[list[ServerUnderTest]]:
    with ExitStack() as stack:
        servers = []
        for name, command in SERVER_COMMANDS.items():
            wire = LspServerProcess(command, cwd=str(workspace))
            stack.callback(wire.stop)
            # fixloop in a trusted workspace, as the user's own project (issue 12).
            options = {"workspaceTrusted": True} if name == "fixloop" else None
            wire.initialize(workspace.as_uri(), CLIENT_CAPABILITIES, options)
            servers.append(ServerUnderTest(name, wire, uri))
        yield servers


def take_turns(servers: list[ServerUnderTest], round_index: int) -> list[ServerUnderTest]:
    """Alternate who goes first, so that neither always runs right after the other."""
    return servers if round_index % 2 == 0 else servers[::-1]


def has_syntax_error(message: Message) -> bool:
    return any(d.get("code") in SYNTAX_CODES for d in message["params"]["diagnostics"])


def run_typing(
    servers: list[ServerUnderTest], edits: list[TypedChar], insert_metric: str, delete_metric: str
) -> dict[str, int]:
    """Type every edit (insert, then delete) on each server; returns, per server, how many
    inserts were published with a syntax error."""
    errors = {server.name: 0 for server in servers}
    for index, edit in enumerate(edits):
        for server in take_turns(servers, index):
            inserted_ms, published = server.change(edit.insert())
            errors[server.name] += has_syntax_error(published)
            deleted_ms, _ = server.change(edit.delete())
            server.record(insert_metric, inserted_ms)
            server.record(delete_metric, deleted_ms)
    return errors


def measure_initialize(workspace: Path, rounds: int) -> dict[str, list[float]]:
    """Spawn → initialize response on fresh processes; the request is written right after
    the spawn, so it waits in the pipe for the server to start reading."""
    timings: dict[str, list[float]] = {name: [] for name in SERVER_COMMANDS}
    names = list(SERVER_COMMANDS)
    for round_index in range(rounds):
        order = names if round_index % 2 == 0 else names[::-1]
        for name in order:
            wire = LspServerProcess(SERVER_COMMANDS[name], cwd=str(workspace))
            try:
                response = wire.initialize(workspace.as_uri(), CLIENT_CAPABILITIES)
                timings[name].append((response.at_ns - wire.spawned_ns) / 1e6)
            finally:
                wire.stop()
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _yes_no(met: bool | None) -> str:
    return "—" if met is None else ("yes" if met else "NO")


@dataclass(frozen=True)
class Row:
    metric: str
    fixloop: float
    ruff: float
    unit: str
    target: str
    met: bool | None


def build_rows(servers: dict[str, ServerUnderTest], init_ms: dict[str, list[float]]) -> list[Row]:
    fixloop, ruff = servers["fixloop"], servers["ruff"]

    def both(metric: str, statistic: Callable[[list[float]], float]) -> tuple[float, float]:
        return statistic(fixloop.timings_ms[metric]), statistic(ruff.timings_ms[metric])

    def p50(values: list[float]) -> float:
        return statistics.median(values)

    def p95(values: list[float]) -> float:
        return percentile(values, 0.95)

    rows = []
    f50, r50 = both("valid", p50)
    rows.append(
        Row(
            "edit→publish p50, valid typing",
            f50,
            r50,
            "ms",
            "≤ 10 and ≤ 1.5 x ruff",
            f50 <= 10 and f50 <= 1.5 * r50,
        )
    )
    rows.append(Row("edit→publish p95, valid typing", *both("valid", p95), "ms", "", None))
    for metric, label in (("breaking", "typing `(`"), ("repairing", "deleting the `(`")):
        rows.append(Row(f"edit→publish p50, {label}", *both(metric, p50), "ms", "", None))
        rows.append(Row(f"edit→publish p95, {label}", *both(metric, p95), "ms", "", None))
    f_open, r_open = both("open", p50)
    rows.append(Row("didOpen→publish p50, reopened", f_open, r_open, "ms", "≤ 20", f_open <= 20))
    f_new, r_new = both("open_new", p50)
    rows.append(Row("didOpen→publish p50, new text", f_new, r_new, "ms", "≤ 20", f_new <= 20))
    f_init, r_init = p50(init_ms["fixloop"]), p50(init_ms["ruff"])
    rows.append(Row("spawn→initialize median", f_init, r_init, "ms", "≤ 500", f_init <= 500))
    f_rss, r_rss = (s.timings_ms["peak_rss_mib"][0] for s in (fixloop, ruff))
    rows.append(Row("peak RSS (VmHWM), file open", f_rss, r_rss, "MiB", "≤ 120", f_rss <= 120))
    return rows


def print_table(rows: list[Row]) -> None:
    header = ("metric", "fixloop", "ruff server", "target (fixloop)", "met")
    cells = [header] + [
        (
            row.metric,
            f"{row.fixloop:.1f} {row.unit}",
            f"{row.ruff:.1f} {row.unit}",
            row.target or "(info)",
            _yes_no(row.met),
        )
        for row in rows
    ]
    widths = [max(len(cell[i]) for cell in cells) for i in range(len(header))]
    for index, cell in enumerate(cells):
        print(" | ".join(text.ljust(width) for text, width in zip(cell, widths, strict=True)))
        if index == 0:
            print("-+-".join("-" * width for width in widths))


def _load_average() -> str:
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


def describe_environment(text: str, args: argparse.Namespace) -> None:
    from fixloop import __version__ as fixloop_version

    ruff_version = subprocess.run(
        [SERVER_COMMANDS["ruff"][0], "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    print("command:", shlex.join([sys.executable, *sys.argv]))
    print(
        f"file: {PYDECIMAL} ({text.count(chr(10))} lines, {len(text.encode()):,} bytes); "
        f"fixloop {fixloop_version}; {ruff_version}; Python {platform.python_version()}; "
        f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs, "
        f"load average {_load_average()}"
    )
    print(
        f"workload: {args.edits} valid single-character edits (insert + delete), "
        f"{args.breaking_edits} `(` edits (insert + delete), {WARMUP_EDITS} warm-up edits not "
        f"counted, {args.opens} open/close, {args.init_rounds} fresh processes per server"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--breaking-edits", type=int, default=100)
    parser.add_argument("--opens", type=int, default=20)
    parser.add_argument("--init-rounds", type=int, default=5)
    args = parser.parse_args()

    text = PYDECIMAL.read_text()
    describe_environment(text, args)
    started = time.monotonic()
    valid_edits = spread_edits(text, args.edits, "x", valid=True)
    breaking_edits = spread_edits(text, args.breaking_edits, "(", valid=False)
    warmup_edits = spread_edits(text, WARMUP_EDITS, "x", valid=True)
    lines = [edit.line for edit in valid_edits]
    print(f"valid edits on lines {min(lines) + 1}..{max(lines) + 1} ({len(set(lines))} lines)")

    with tempfile.TemporaryDirectory(prefix="fixloop-bench-") as tmp:
        workspace = Path(tmp)
        target = workspace / PYDECIMAL.name
        shutil.copyfile(PYDECIMAL, target)
        uri = target.as_uri()
        with started_servers(workspace, uri) as server_list:
            for server in server_list:
                server.record("first_open", server.open(text))
            run_typing(server_list, warmup_edits, "warmup", "warmup")
            valid_errors = run_typing(server_list, valid_edits, "valid", "valid")
            breaking_errors = run_typing(server_list, breaking_edits, "breaking", "repairing")
            for server in server_list:
                server.record("peak_rss_mib", server.wire.peak_rss_kib() / MIB)
                server.close()
            for round_index in range(args.opens):
                for server in take_turns(server_list, round_index):
                    server.record("open", server.open(text))
                    server.close()
            # The same file edited while it was closed: no cached analysis can answer.
            for round_index in range(args.opens):
                changed = f"{text}\n# edited while closed ({round_index})\n"
                for server in take_turns(server_list, round_index):
                    server.record("open_new", server.open(changed))
                    server.close()
            servers = {s.name: s for s in server_list}
        init_ms = measure_initialize(workspace, args.init_rounds)

    print()
    print_table(build_rows(servers, init_ms))
    print()
    for name, server in servers.items():
        print(
            f"{name}: first didOpen→publish {server.timings_ms['first_open'][0]:.1f} ms; "
            f"publishes with a syntax error: valid typing {valid_errors[name]}/{len(valid_edits)}, "
            f"typing `(` {breaking_errors[name]}/{len(breaking_edits)}; "
            f"initialize runs (ms): {', '.join(f'{v:.0f}' for v in init_ms[name])}"
        )
    print(
        f"total time: {time.monotonic() - started:.0f} s; "
        f"load average at the end: {_load_average()} (other work on the machine skews all)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
