"""The VS Code extension in real VS Code (code-server): cold start and package size.

    .venv/bin/python benchmarks/bench_vscode.py [--runs 3]

Needs what scripts/setup-vscode.sh installs. Each run is cold: a fresh code-server (new
user-data and extensions folders, the .vsix installed), a fresh headless Chromium, a copy of
examples/shop with one file holding a `yaml.load`. The extension writes its observations to
FIXLOOP_VSCODE_TEST_LOG, stamped in milliseconds since its activation.

Measured:
- activation → first fixloop diagnostics: the extension's own cold start (import check of
  the interpreter, spawning `python -m fixloop lsp`, initialize, settings pull, didOpen,
  analysis, publish);
- browser navigates to the workspace → first diagnostics: VS Code's own start in the
  browser, the extension's activation, opening the file with Quick Open (as a user would);
- code-server started → answering (not ours; for scale);
- the .vsix size (the bundled extension: one minified script plus the manifest).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.vscode.codeserver import (  # noqa: E402
    browser_page,
    build_vsix,
    code_server,
    find_tools,
    open_file,
    open_workspace,
)

LOADER = "import yaml\n\n\ndef load_config(text):\n    return yaml.load(text)\n"


def one_run(workdir: Path, vsix: Path) -> tuple[float, float, float]:
    tools = find_tools()
    shop = workdir / "shop"
    shutil.copytree(REPO / "examples" / "shop", shop)
    (shop / "loader.py").write_text(LOADER)
    uri = (shop / "loader.py").as_uri()
    settings = {"fixloop.server.python": sys.executable, "fixloop.tests.run": "off"}
    started = time.monotonic()
    with (
        code_server(tools, vsix, workdir / "vscode", settings) as server,
        browser_page(tools) as page,
    ):
        healthy = time.monotonic() - started
        navigated_epoch_ms = time.time() * 1000
        open_workspace(page, server, shop)
        open_file(page, "loader.py")
        first = server.log.wait_for(
            "diagnostics", lambda e: e["uri"] == uri and bool(e["items"]), timeout=120
        )
        activated = server.log.events("activated")[0]
    to_diagnostics = (first["ms"] - activated["ms"]) / 1000
    from_navigation = (first["epochMs"] - navigated_epoch_ms) / 1000
    return to_diagnostics, from_navigation, healthy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    vsix = build_vsix(find_tools())
    cold, opened, healthy = [], [], []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="fixloop-bench-vscode-") as tmp:
            a, b, c = one_run(Path(tmp), vsix)
        cold.append(a)
        opened.append(b)
        healthy.append(c)
        print(f"run {run + 1}: activation→diagnostics {a:.2f} s, navigation→diagnostics {b:.2f} s")

    def summary(values: list[float]) -> str:
        median = statistics.median(values)
        return f"median {median:.2f} s (min {min(values):.2f}, max {max(values):.2f})"

    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {args.runs} cold runs")
    print(f"extension activation → first diagnostics: {summary(cold)}")
    print(f"browser navigation → first diagnostics:  {summary(opened)}")
    print(f"code-server start → answering:           {summary(healthy)}")
    print(f".vsix size: {vsix.stat().st_size / 1024:.1f} KiB ({vsix.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
