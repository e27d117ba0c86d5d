"""fixloop in the editor, on the example project (examples/shop, copied to a temporary folder).

    .venv/bin/python benchmarks/bench_editor.py [--rounds 5]

Figures (issue 6):
- open of a file with a failing test → its test diagnostic: `textDocument/didOpen` of
  pricing.py to the first `publishDiagnostics` carrying a `fixloop-tests` diagnostic, on a
  fresh server each round (the sandbox container starts on the way, as in a new editor
  session), then save → test diagnostic on the same server (a warm container; the 0.5 s
  debounce included).
- the peer: the same test command run bare in the sandbox (`SandboxPool.run`): on a new pool
  (container start included), then again on the same pool. fixloop's work on top of it is
  the debounce, choosing the related tests, the coverage probe and mapping the failures.

Medians over the rounds; the load average is printed with them, since other work on the
machine moves these figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lspwire import LspServerProcess, Message

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shop"
SERVER = [sys.executable, "-m", "fixloop", "lsp", "--stdio"]
COMMAND = "python -m pytest -q"
CAPABILITIES: Message = {
    "textDocument": {
        "synchronization": {"didSave": True},
        "publishDiagnostics": {"versionSupport": True, "relatedInformation": True},
    },
    "workspace": {"configuration": False},
}
TIMEOUT = 120.0


def copy_example(into: Path) -> Path:
    root = into / "shop"
    shutil.copytree(EXAMPLE, root)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text + "\n[tool.fixloop.memory]\nenabled = false\n", encoding="utf-8")
    return root


def _has_test_diagnostic(uri: str) -> Callable[[Message], bool]:
    def matches(message: Message) -> bool:
        if message.get("method") != "textDocument/publishDiagnostics":
            return False
        params: dict[str, Any] = message["params"]
        return params["uri"] == uri and any(
            d.get("source") == "fixloop-tests" for d in params["diagnostics"]
        )

    return matches


def editor_round(root: Path) -> tuple[float, float]:
    """(didOpen → test diagnostic, didSave → test diagnostic) in seconds, on a new server."""
    source = root / "pricing.py"
    uri = source.as_uri()
    wire = LspServerProcess(SERVER, cwd=str(root))
    try:
        # A trusted workspace: in another, tests run only when the user asks (issue 12).
        wire.initialize(root.as_uri(), CAPABILITIES, {"workspaceTrusted": True})
        item = {
            "uri": uri,
            "languageId": "python",
            "version": 1,
            "text": source.read_text(encoding="utf-8"),
        }
        sent = wire.notify("textDocument/didOpen", {"textDocument": item})
        opened = wire.wait_for(_has_test_diagnostic(uri), TIMEOUT, "test diagnostic after open")
        wire.drop_backlog()
        sent_save = wire.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
        saved = wire.wait_for(_has_test_diagnostic(uri), TIMEOUT, "test diagnostic after save")
        return (opened.at_ns - sent) / 1e9, (saved.at_ns - sent_save) / 1e9
    finally:
        wire.stop(timeout=30.0)


def bare_round(root: Path) -> tuple[float, float]:
    """(new pool: start + run, same pool: run again) of the bare test command, in seconds."""
    from fixloop.sandbox import SandboxPool

    started = time.perf_counter()
    with SandboxPool() as pool:
        first = pool.run(root, {}, COMMAND)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        second = pool.run(root, {}, COMMAND)
        warm = time.perf_counter() - started
    for result in (first, second):
        assert result.failures, f"the example's test should fail: {result.summary()}"
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    editor: list[tuple[float, float]] = []
    bare: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="fixloop-bench-editor-") as folder:
        root = copy_example(Path(folder))
        for _ in range(args.rounds):  # alternate, so background load falls on both alike
            editor.append(editor_round(root))
            bare.append(bare_round(root))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"example project: {EXAMPLE.name}, {args.rounds} rounds, load average {load}")
    print(f"{'':52} {'median':>8} {'min':>8} {'max':>8}")
    rows = [
        ("fixloop: didOpen → test diagnostic (new server)", [e[0] for e in editor]),
        ("peer: SandboxPool.run on a new pool", [b[0] for b in bare]),
        ("fixloop: didSave → test diagnostic (warm)", [e[1] for e in editor]),
        ("peer: SandboxPool.run again (warm)", [b[1] for b in bare]),
    ]
    for label, values in rows:
        print(
            f"{label:52} {statistics.median(values):7.2f}s {min(values):7.2f}s {max(values):7.2f}s"
        )


if __name__ == "__main__":
    main()
