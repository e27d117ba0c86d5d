"""Real VS Code for tests and benchmarks: code-server (installed by scripts/setup-vscode.sh)
with our packaged extension, opened in Debian's headless Chromium through playwright.

The extension writes what it sees (diagnostics, code actions, commands, edits) as JSON lines
to the file named by FIXLOOP_VSCODE_TEST_LOG; `ExtensionLog` reads and waits on it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

REPO = Path(__file__).resolve().parents[2]
CLIENT_DIR = REPO / "vscode-client"
SETUP_SCRIPT = REPO / "scripts" / "setup-vscode.sh"
# The interpreter running the tests (the project's .venv) is the `python3` the extension
# finds first on PATH: its default lookup, with fixloop importable (unless a test gives
# another folder: `python_bin`).
VENV_BIN = Path(sys.executable).parent
# Waits on the workbench's UI: generous, as CI machines run other tests at the same time.
UI_TIMEOUT_MS = 30_000
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
]
# Quiet VS Code: nothing opened at start, no network, no prompts that steal the focus.
USER_SETTINGS: dict[str, Any] = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "extensions.ignoreRecommendations": True,
    "security.workspace.trust.enabled": False,
    "chat.disableAIFeatures": True,
    "editor.lightbulb.enabled": "off",
}


@dataclass(frozen=True)
class Tools:
    node_bin: Path
    code_server: Path
    chromium: Path


def find_tools() -> Tools:
    """Where setup-vscode.sh puts things; a clear error when they are not there."""
    printed = subprocess.run(
        ["bash", str(SETUP_SCRIPT), "--paths"], capture_output=True, text=True, check=True
    ).stdout
    paths = dict(line.split("=", 1) for line in printed.splitlines() if "=" in line)
    tools = Tools(
        node_bin=Path(paths["NODE_BIN"]),
        code_server=Path(paths["CODE_SERVER"]),
        chromium=Path(shutil.which("chromium") or "/usr/bin/chromium"),
    )
    for what, path in vars(tools).items():
        if not path.exists():
            raise RuntimeError(f"{what} not found at {path}: run scripts/setup-vscode.sh")
    return tools


def build_vsix(tools: Tools) -> Path:
    """`npm run package` in vscode-client, so the test runs the extension as it is now."""
    if not (CLIENT_DIR / "node_modules").is_dir():
        raise RuntimeError("vscode-client/node_modules is missing: run scripts/setup-vscode.sh")
    subprocess.run(
        ["npm", "run", "-s", "package"],
        cwd=CLIENT_DIR,
        env=_with_path(os.environ, tools.node_bin),
        check=True,
        capture_output=True,
        timeout=180,
    )
    return CLIENT_DIR / "fixloop.vsix"


def _with_path(environ: Any, *first: Path) -> dict[str, str]:
    env = dict(environ)
    env["PATH"] = os.pathsep.join([*map(str, first), env.get("PATH", "")])
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_settings(user_data: Path, settings: dict[str, Any]) -> None:
    """User settings, and the same as the remote's: code-server's extension host is a
    "remote" one, which takes machine-scoped settings (the interpreter) only from there.
    VS Code watches both files: rewriting them while it runs is a settings change."""
    for scope in ("User", "Machine"):
        (user_data / scope).mkdir(parents=True, exist_ok=True)
        (user_data / scope / "settings.json").write_text(json.dumps({**USER_SETTINGS, **settings}))


def settings_hold(user_data: Path, settings: dict[str, Any]) -> bool:
    """Whether both settings files (as VS Code may have rewritten them) have these values."""
    for scope in ("User", "Machine"):
        try:
            found = json.loads((user_data / scope / "settings.json").read_text())
        except (OSError, ValueError):
            return False  # being written
        if any(found.get(key) != value for key, value in settings.items()):
            return False
    return True


@dataclass
class CodeServer:
    url: str
    log: ExtensionLog
    output: Path
    user_data: Path

    def change_settings(self, settings: dict[str, Any], settle: float = 2.0) -> None:
        """Rewrite the settings while VS Code runs. VS Code edits these files itself (it
        rewrites a value or two on a change) from its copy of the text: an edit of its
        that races ours saves the old settings over the new, so write again until the new
        values have held for `settle` seconds."""
        write_settings(self.user_data, settings)
        held_since = time.monotonic()
        deadline = held_since + 30
        while time.monotonic() - held_since < settle:
            assert time.monotonic() < deadline, "VS Code kept rewriting its settings"
            time.sleep(0.1)
            if not settings_hold(self.user_data, settings):
                write_settings(self.user_data, settings)
                held_since = time.monotonic()


@contextlib.contextmanager
def code_server(
    tools: Tools,
    vsix: Path,
    workdir: Path,
    settings: dict[str, Any],
    python_bin: Path | None = None,
) -> Iterator[CodeServer]:
    """code-server on a free port of 127.0.0.1 with the extension installed; always stopped.
    `python_bin`: the folder whose `python3` VS Code finds first, with no PYTHONPATH (the
    tests' own points at this checkout's server): an interpreter without fixloop."""
    user_data, extensions = workdir / "user-data", workdir / "extensions"
    write_settings(user_data, settings)
    env = _with_path(os.environ, python_bin or VENV_BIN, tools.node_bin)
    if python_bin is not None:
        env.pop("PYTHONPATH", None)
    log_path = workdir / "extension-log.jsonl"
    env["FIXLOOP_VSCODE_TEST_LOG"] = str(log_path)
    # No marketplace: code-server would otherwise query open-vsx.org (tests stay offline).
    env["EXTENSIONS_GALLERY"] = json.dumps(
        {"serviceUrl": "http://127.0.0.1:9/gallery", "itemUrl": "http://127.0.0.1:9/items"}
    )
    common = [
        str(tools.code_server),
        "--config",
        str(workdir / "config.yaml"),
        "--user-data-dir",
        str(user_data),
        "--extensions-dir",
        str(extensions),
    ]
    subprocess.run(
        [*common, "--install-extension", str(vsix)],
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )
    port = _free_port()
    output = workdir / "code-server.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [
                *common,
                "--auth",
                "none",
                "--disable-workspace-trust",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-getting-started-override",
                "--bind-addr",
                f"127.0.0.1:{port}",
            ],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with everything it started
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, process, output)
        yield CodeServer(url=url, log=ExtensionLog(log_path), output=output, user_data=user_data)
    finally:
        _stop_group(process)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], output: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"code-server exited: {output.read_text(errors='replace')[-2000:]}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"code-server did not answer in 60 s: {output.read_text()[-2000:]}")


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    # The extension host's children (the fixloop server) share the group; make sure.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def browser_page(tools: Tools) -> Iterator[Page]:
    """A page in Debian's Chromium, headless; closed at the end."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(tools.chromium), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            yield page
        finally:
            browser.close()


class ExtensionLog:
    """The JSON lines the extension wrote (FIXLOOP_VSCODE_TEST_LOG)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()
        events = [json.loads(line) for line in lines if line.strip()]
        return [e for e in events if kind is None or e["event"] == kind]

    def wait_for(
        self, kind: str, matches: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events(kind):
                if matches(event):
                    return event
            time.sleep(0.1)
        seen = json.dumps(self.events()[-20:], indent=1)
        raise AssertionError(f"no `{kind}` event as expected in {timeout} s; last seen:\n{seen}")


@contextlib.contextmanager
def vscode_session(
    tools: Tools,
    vsix: Path,
    workdir: Path,
    settings: dict[str, Any],
    folder: Path,
    python_bin: Path | None = None,
) -> Iterator[tuple[CodeServer, Page]]:
    """code-server with the extension, a browser page on it, `folder` open in the workbench."""
    with (
        code_server(tools, vsix, workdir, settings, python_bin) as server,
        browser_page(tools) as page,
    ):
        try:
            open_workspace(page, server, folder)
            yield server, page
        except BaseException:
            # What the page showed, next to code-server's log, for whoever reads the failure.
            with contextlib.suppress(Exception):
                page.screenshot(path=str(workdir / "failure.png"))
            raise


def open_workspace(page: Page, server: CodeServer, folder: Path) -> None:
    page.goto(f"{server.url}/?folder={folder}", wait_until="domcontentloaded")
    page.wait_for_selector(".monaco-workbench", timeout=60_000)
    # The explorer shows the folder once the workbench has restored.
    page.wait_for_selector(".explorer-folders-view .monaco-list-row", timeout=60_000)


def open_file(page: Page, name: str) -> None:
    """Quick Open (Ctrl+P), the file's name, Enter: the editor tab appears."""
    page.locator(".monaco-workbench").click(position={"x": 700, "y": 300})
    page.keyboard.press("Control+P")
    page.wait_for_selector(".quick-input-widget input", timeout=UI_TIMEOUT_MS)
    page.keyboard.type(name)
    row = f".quick-input-list .monaco-list-row[aria-label*='{name}']"
    page.wait_for_selector(row, timeout=UI_TIMEOUT_MS)
    page.keyboard.press("Enter")
    page.wait_for_selector(f".tabs-container .tab[aria-label*='{name}']", timeout=UI_TIMEOUT_MS)
    page.locator(".monaco-editor .view-lines").first.click()


def go_to(page: Page, line: int, column: int) -> None:
    """Go to Line (Ctrl+G) `line:column`, both 1-based."""
    page.keyboard.press("Control+G")
    page.wait_for_selector(".quick-input-widget input", timeout=UI_TIMEOUT_MS)
    page.keyboard.type(f"{line}:{column}")
    page.keyboard.press("Enter")


def apply_quick_fix(page: Page, title: str, attempts: int = 3) -> None:
    """Quick Fix (Ctrl+.) at the cursor, then the action of that title. Asked again when the
    menu does not come: a Ctrl+. pressed while Go to Line's box is still closing, or before
    the workbench asked the server, shows nothing (seen once in CI)."""
    row = page.locator(".action-widget .monaco-list-row", has_text=title).first
    page.locator(".quick-input-widget").first.wait_for(state="hidden", timeout=UI_TIMEOUT_MS)
    for attempt in range(attempts):
        page.keyboard.press("Control+.")
        try:
            row.wait_for(timeout=UI_TIMEOUT_MS // attempts)
            break
        except PlaywrightTimeoutError:
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")
    row.click()


def run_command(page: Page, title: str) -> None:
    """The command palette (F1), the command's title, Enter."""
    page.keyboard.press("F1")
    page.wait_for_selector(".quick-input-widget input", timeout=UI_TIMEOUT_MS)
    page.keyboard.type(title)
    row = page.locator(".quick-input-list .monaco-list-row", has_text=title).first
    row.wait_for(timeout=UI_TIMEOUT_MS)
    page.keyboard.press("Enter")
