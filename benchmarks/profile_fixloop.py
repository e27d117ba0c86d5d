"""Where fixloop's time goes, for the figures bench_diagnostics.py prints.

    .venv/bin/python benchmarks/profile_fixloop.py [startup|open|edits|placement ...]

- startup: spawn → initialize split into phases (interpreter, imports, server creation,
  handling `initialize`), on fresh processes that start the way `python -m fixloop lsp` does.
- open: one full analysis of _pydecimal.py (what didOpen costs), by step, in process.
- edits: the benchmark's edits applied in process, by step (reparse, rules, syntax findings);
  the gap to bench_diagnostics' end-to-end figure is the LSP transport (pygls).
- placement: for typed `(`, whether a syntax finding lands near the edit.

Instrumentation wraps fixloop's internals from outside; nothing in the server is changed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_diagnostics import CLIENT_CAPABILITIES, PYDECIMAL, TypedChar, spread_edits
from lspwire import LspServerProcess

# Starts like `python -m fixloop lsp` (fixloop.cli first, which imports every subcommand),
# stamping the time after each phase; writes the stamps once `initialize` is handled.
PHASED_SERVER = """
import os, time
marks = [("interpreter start", time.time())]
import fixloop.cli
marks.append(("import fixloop.cli (all subcommands)", time.time()))
import lsprotocol.types
marks.append(("import lsprotocol.types", time.time()))
import pygls.lsp.server
marks.append(("import pygls (the rest)", time.time()))
import fixloop.lsp.server
marks.append(("import fixloop.lsp.* (the rest)", time.time()))
server = fixloop.lsp.server.create_server()
marks.append(("create_server (pygls converter)", time.time()))
handle = server.protocol.handle_message
def handle_and_stamp(message):
    handle(message)
    if getattr(message, "method", None) == "initialize":
        marks.append(("handle initialize", time.time()))
        with open(os.environ["FIXLOOP_PHASES"], "w") as out:
            out.write("\\n".join(f"{name}\\t{at}" for name, at in marks))
server.protocol.handle_message = handle_and_stamp
server.start_io()
"""


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples):7.2f} ms"


def profile_startup(rounds: int = 7) -> None:
    phases: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        stamps_path = Path(tmp) / "phases.tsv"
        os.environ["FIXLOOP_PHASES"] = str(stamps_path)
        for _ in range(rounds):
            spawned_at = time.time()
            wire = LspServerProcess([sys.executable, "-c", PHASED_SERVER], cwd=tmp)
            try:
                response = wire.initialize(Path(tmp).as_uri(), CLIENT_CAPABILITIES)
            finally:
                wire.stop()
            answered_at = spawned_at + (response.at_ns - wire.spawned_ns) / 1e9
            previous = spawned_at
            for line in stamps_path.read_text().splitlines():
                name, at = line.split("\t")
                phases.setdefault(name, []).append((float(at) - previous) * 1000)
                previous = float(at)
            phases.setdefault("total: spawn → response read", []).append(
                (answered_at - spawned_at) * 1000
            )
    print(f"startup, median of {rounds} fresh processes (each phase since the previous):")
    for name, samples in phases.items():
        print(f"  {name:40} {median_ms(samples)}")


@contextmanager
def timing(module: Any, name: str, totals: dict[str, float], label: str) -> Iterator[None]:
    """Accumulate the time spent in `module.name` into `totals[label]` while active."""
    original: Callable[..., Any] = getattr(module, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[label] = totals.get(label, 0.0) + (time.perf_counter() - started) * 1000

    setattr(module, name, timed)
    try:
        yield
    finally:
        setattr(module, name, original)


class TimedParser:
    """A tree-sitter parser that adds its parse time to `totals`."""

    def __init__(self, parser: Any, totals: dict[str, float]) -> None:
        self._parser = parser
        self._totals = totals

    def parse(self, *args: Any) -> Any:
        started = time.perf_counter()
        tree = self._parser.parse(*args)
        elapsed = (time.perf_counter() - started) * 1000
        self._totals["tree-sitter parse"] = self._totals.get("tree-sitter parse", 0.0) + elapsed
        return tree


def profile_open(rounds: int = 10) -> None:
    from tree_sitter import QueryCursor

    import fixloop.analysis.document as document_module
    from fixloop.analysis.languages import language_for
    from fixloop.analysis.rules import _compiled, run_rules
    from fixloop.analysis.source import SourceText

    data = PYDECIMAL.read_bytes()
    spec = language_for(PYDECIMAL)
    assert spec is not None
    document_module.Document(spec, data)  # loads the rule modules and compiles the query
    parser = spec.parser()
    tree = parser.parse(data)
    compiled = _compiled("python")
    assert compiled is not None
    steps: dict[str, Callable[[], object]] = {
        "Document(): the whole didOpen analysis": lambda: document_module.Document(spec, data),
        "  tree-sitter full parse": lambda: parser.parse(data),
        "  rules over the whole tree": lambda: run_rules(tree, data, "python"),
        "    of which the query walk alone": lambda: list(
            QueryCursor(compiled.query).matches(tree.root_node)
        ),
        "  SourceText (line index)": lambda: SourceText(data),
    }
    print(f"open: {PYDECIMAL.name}, median of {rounds}, in process")
    for label, step in steps.items():
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            step()
            samples.append((time.perf_counter() - started) * 1000)
        print(f"  {label:40} {median_ms(samples)}")


def _changes(edit: TypedChar) -> list[Any]:
    from fixloop.analysis.document import Change
    from fixloop.analysis.source import Position

    at = Position(edit.line, edit.column)
    after = Position(edit.line, edit.column + len(edit.char))
    return [Change(edit.char, at, at), Change("", at, after)]


def profile_edits(count: int = 100) -> None:
    import fixloop.analysis.document as document_module
    from fixloop.analysis.languages import language_for

    text = PYDECIMAL.read_text()
    spec = language_for(PYDECIMAL)
    assert spec is not None
    document = document_module.Document(spec, text)
    totals: dict[str, float] = {}
    document._parser = TimedParser(document._parser, totals)  # type: ignore[assignment]
    steps = ("tree-sitter parse", "rules re-run", "apply_changes", "findings()", "total")
    for kind, char, valid in (("valid typing", "x", True), ("typing `(`", "(", False)):
        rows = []
        with timing(document_module, "run_rules", totals, "rules re-run"):
            for edit in spread_edits(text, count, char, valid=valid):
                for change in _changes(edit):
                    totals.clear()
                    started = time.perf_counter()
                    document.apply_changes([change])
                    applied = time.perf_counter()
                    document.findings()
                    done = time.perf_counter()
                    row = dict(totals)
                    row["apply_changes"] = (applied - started) * 1000
                    row["findings()"] = (done - applied) * 1000
                    row["total"] = (done - started) * 1000
                    rows.append(row)
        rows.sort(key=lambda row: row["total"])
        slowest = rows[len(rows) * 9 // 10 :]
        print(f"edits, {kind}: {len(rows)} changes in process; p50 | mean of the slowest 10%")
        for step in steps:
            p50 = statistics.median(row.get(step, 0.0) for row in rows)
            tail = statistics.mean(row.get(step, 0.0) for row in slowest)
            print(f"  {step:24} {p50:7.2f} ms | {tail:7.2f} ms")


def profile_placement(count: int = 100) -> None:
    from fixloop.analysis.document import Document
    from fixloop.analysis.languages import language_for

    text = PYDECIMAL.read_text()
    spec = language_for(PYDECIMAL)
    assert spec is not None
    document = Document(spec, text)
    edits = spread_edits(text, count, "(", valid=False)
    far = []
    for edit in edits:
        insert, delete = _changes(edit)
        document.apply_changes([insert])
        syntax = [f for f in document.findings() if f.code in ("FL001", "FL002")]
        lines = [document.source.position_at(f.span.start).line for f in syntax]
        if not any(abs(line - edit.line) <= 2 for line in lines):
            shown = [f"{line + 1}: {f.message[:40]}" for line, f in zip(lines, syntax, strict=True)]
            far.append(f"  `(` typed on line {edit.line + 1}: {len(syntax)} findings: {shown[:4]}")
        document.apply_changes([delete])
    print(
        f"placement: {len(edits) - len(far)}/{len(edits)} typed `(` have a finding within 2 lines"
    )
    print("\n".join(far))


PROFILES: dict[str, Callable[[], None]] = {
    "startup": profile_startup,
    "open": profile_open,
    "edits": profile_edits,
    "placement": profile_placement,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profiles", nargs="*", metavar="PROFILE", help=", ".join(PROFILES))
    args = parser.parse_args()
    unknown = set(args.profiles) - set(PROFILES)
    if unknown:
        parser.error(f"unknown profile(s): {', '.join(sorted(unknown))}")
    for name in args.profiles or PROFILES:
        PROFILES[name]()
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
