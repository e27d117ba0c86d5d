"""The packaged extension in real VS Code (code-server) driven through headless Chromium:
installed from the .vsix, it installs the server it carries into its own environment (or
finds the user's), starts it, shows its diagnostics, and a quick fix edits the file as the
user would see it.

Needs what scripts/setup-vscode.sh installs (CI runs it through `scripts/setup.sh --all`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.vscode.codeserver import (
    REPO,
    Tools,
    apply_quick_fix,
    build_vsix,
    find_tools,
    go_to,
    open_file,
    run_command,
    vscode_session,
)

pytestmark = pytest.mark.slow

LOADER = """import yaml


def load_config(text):
    return yaml.load(text)
"""


@pytest.fixture(scope="module")
def tools() -> Tools:
    return find_tools()


@pytest.fixture(scope="module")
def vsix(tools: Tools) -> Path:
    return build_vsix(tools)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Path]:
    """A copy of examples/shop with a file holding a risky `yaml.load`."""
    root = tmp_path / "shop"
    shutil.copytree(REPO / "examples" / "shop", root)
    (root / "loader.py").write_text(LOADER)
    yield root


# The Python of this checkout's tests: a test's fresh interpreter is made from the same one.
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
# The extension's own settings for the tests that run this checkout's server (the .venv's
# interpreter has it, and PYTHONPATH points at the code under test).
FROM_ENVIRONMENT = {"fixloop.importStrategy": "fromEnvironment"}


def test_vsix_is_small_and_self_contained(vsix: Path) -> None:
    """The bundled extension needs no node_modules: one script, the manifest, the readme,
    and the server's wheel (its dependencies are installed on the user's machine)."""
    import zipfile

    names = zipfile.ZipFile(vsix).namelist()
    assert "extension/out/extension.js" in names
    wheels = [n for n in names if n.startswith("extension/bundled/fixloop-")]
    assert len(wheels) == 1 and wheels[0].endswith("-py3-none-any.whl"), names
    assert not [n for n in names if "node_modules" in n]
    assert vsix.stat().st_size < 2_000_000


def test_the_bundled_server_runs_where_the_interpreter_has_no_fixloop(
    tools: Tools, vsix: Path, shop: Path, tmp_path: Path
) -> None:
    """A new user: no fixloop setting, and the `python3` VS Code finds is a fresh venv with
    nothing in it. The extension installs the server it carries into its own storage (never
    into that venv), starts it, and the safety warning appears; a restart reuses it."""
    fresh = tmp_path / "fresh-venv"
    subprocess.run([BASE_PYTHON, "-m", "venv", "--without-pip", str(fresh)], check=True)
    no_fixloop = [str(fresh / "bin" / "python3"), "-c", "import fixloop"]
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    assert subprocess.run(no_fixloop, env=clean_env, capture_output=True).returncode != 0
    loader_uri = (shop / "loader.py").as_uri()
    started = time.monotonic()
    workdir = tmp_path / "vscode"
    settings = {"fixloop.tests.run": "off"}
    with vscode_session(tools, vsix, workdir, settings, shop, python_bin=fresh / "bin") as (
        server,
        page,
    ):
        open_file(page, "loader.py")
        made = server.log.wait_for("environment", lambda e: True, timeout=900)
        assert made["created"] and made["base"] == "python3", made
        storage = workdir / "user-data" / "User" / "globalStorage"
        assert Path(made["python"]).is_relative_to(storage), made
        server.log.wait_for(
            "started", lambda e: e["command"] == [made["python"], "-m", "fixloop", "lsp"], 60
        )
        server.log.wait_for(
            "diagnostics",
            lambda e: e["uri"] == loader_uri and any(d["code"] == "FL106" for d in e["items"]),
            timeout=120,
        )
        first_diagnostics = time.monotonic() - started
        print(
            f"\nfresh install: {made['seconds']:.0f} s making the environment, "
            f"{first_diagnostics:.0f} s from installing the .vsix to the first diagnostics"
        )

        restarted = time.time() * 1000
        run_command(page, "fixloop: Restart the server")
        again = server.log.wait_for("environment", lambda e: e["epochMs"] > restarted, 60)
        assert again == {**again, "created": False, "python": made["python"]}
        server.log.wait_for("started", lambda e: e["epochMs"] > restarted, timeout=60)
    # Nothing was installed into the user's interpreter.
    assert subprocess.run(no_fixloop, env=clean_env, capture_output=True).returncode != 0
    assert not list((fresh / "lib").glob("python*/site-packages/fixloop*"))


def test_diagnostic_appears_and_quick_fix_applies(
    tools: Tools, vsix: Path, shop: Path, tmp_path: Path
) -> None:
    # The interpreter running the tests has fixloop; tests off: this is about the editor.
    settings = {
        **FROM_ENVIRONMENT,
        "fixloop.server.python": sys.executable,
        "fixloop.tests.run": "off",
    }
    with vscode_session(tools, vsix, tmp_path / "vscode", settings, shop) as (server, page):
        open_file(page, "loader.py")
        loader_uri = (shop / "loader.py").as_uri()

        check = server.log.wait_for("importCheck", lambda e: True, timeout=60)
        assert check["ok"], check
        found = server.log.wait_for(
            "diagnostics",
            lambda e: e["uri"] == loader_uri and any(d["code"] == "FL106" for d in e["items"]),
            timeout=60,
        )
        warning = next(d for d in found["items"] if d["code"] == "FL106")
        assert warning["line"] == 4 and warning["source"] == "fixloop"
        assert "yaml.load" in warning["message"]

        go_to(page, warning["line"] + 1, warning["character"] + 1)
        apply_quick_fix(page, "yaml.safe_load")
        edit = server.log.wait_for("edit", lambda e: e["uri"] == loader_uri, timeout=30)
        assert [c["line"] for c in edit["changes"]] == [4]
        offered = server.log.events("codeActions")
        assert any("yaml.safe_load" in t for e in offered for t in e["titles"])
        server.log.wait_for(
            "diagnostics",
            lambda e: e["uri"] == loader_uri and not any(d["code"] == "FL106" for d in e["items"]),
            timeout=30,
        )
        page.keyboard.press("Control+S")
        server.log.wait_for("saved", lambda e: e["uri"] == loader_uri, timeout=30)
    assert "yaml.safe_load(text)" in (shop / "loader.py").read_text()


def test_fixloop_missing_from_the_environment_offers_the_bundled_server(
    tools: Tools, vsix: Path, shop: Path, tmp_path: Path
) -> None:
    """`fromEnvironment` with an interpreter without fixloop: a notification offers the
    server the extension carries (never to install into that interpreter), the status bar
    says so, and no server is started."""
    python = "/usr/bin/python3"  # Debian's, not the project's venv
    settings = {**FROM_ENVIRONMENT, "fixloop.server.python": python}
    with vscode_session(tools, vsix, tmp_path / "vscode", settings, shop) as (server, page):
        open_file(page, "loader.py")
        check = server.log.wait_for("importCheck", lambda e: True, timeout=60)
        assert not check["ok"] and "fixloop" in check["detail"]
        toasts = page.locator(".notifications-toasts .notification-toast")
        toast = toasts.filter(has_text="not importable")
        toast.wait_for(timeout=30_000)
        assert toast.get_by_role("button", name="Use the bundled server").is_visible()
        assert not toast.get_by_role("button", name="Install fixloop").count()
        status = page.locator(".statusbar-item", has_text="fixloop: not installed")
        status.wait_for(timeout=30_000)
        assert not server.log.events("started")


def test_fix_at_cursor_runs_the_loop_and_applies_the_verified_fix(
    tools: Tools, vsix: Path, shop: Path, tmp_path: Path
) -> None:
    """The bug of examples/shop: its failing test shows at the faulty line on open;
    `fixloop: Fix at cursor` runs the loop in the Docker sandbox, the status bar follows it,
    the verified fix lands in the editor, and once saved the failure is gone."""
    settings = {
        **FROM_ENVIRONMENT,
        "fixloop.server.python": sys.executable,
        "fixloop.engine": "offline",
    }
    pricing_uri = (shop / "pricing.py").as_uri()

    def failures(event: dict[str, Any]) -> list[dict[str, Any]]:
        return [d for d in event["items"] if d["code"] == "test-failure"]

    with vscode_session(tools, vsix, tmp_path / "vscode", settings, shop) as (server, page):
        open_file(page, "pricing.py")
        failed = server.log.wait_for(
            "diagnostics", lambda e: e["uri"] == pricing_uri and bool(failures(e)), timeout=120
        )
        assert {d["line"] for d in failures(failed)} == {14}  # `if quantity > 10:`
        go_to(page, 15, 5)  # if quantity > 10:
        run_command(page, "fixloop: Fix at cursor")
        command = server.log.wait_for("command", lambda e: e["command"] == "fixloop.fix", 30)
        assert command["args"] == [pricing_uri, 14]
        edit = server.log.wait_for("edit", lambda e: e["uri"] == pricing_uri, timeout=180)
        assert [c["line"] for c in edit["changes"]] == [14]
        fixing = server.log.wait_for("status", lambda e: e["params"]["state"] == "fixing", 5)
        # The offline engine's budget is time: the status bar shows no "n/max" rounds.
        assert "maxIterations" not in fixing["params"] and fixing["params"]["message"]
        server.log.wait_for("status", lambda e: e["params"]["state"] == "idle", timeout=30)
        page.locator(".statusbar-item", has_text="fixloop: idle").wait_for(timeout=30_000)
        page.keyboard.press("Control+S")
        saved = server.log.wait_for("saved", lambda e: e["uri"] == pricing_uri, timeout=30)
        server.log.wait_for(
            "diagnostics",
            lambda e: e["uri"] == pricing_uri and e["ms"] > saved["ms"] and not failures(e),
            timeout=120,
        )
    assert "if quantity >= 10:" in (shop / "pricing.py").read_text()


def test_settings_changes_apply_live_and_a_new_interpreter_restarts(
    tools: Tools, vsix: Path, shop: Path, tmp_path: Path
) -> None:
    """A rule group switched off in the settings: the safety warning goes at once, same
    server. Another interpreter: the server is started again with it."""
    settings: dict[str, Any] = {
        **FROM_ENVIRONMENT,
        "fixloop.server.python": sys.executable,
        "fixloop.tests.run": "off",
    }
    loader_uri = (shop / "loader.py").as_uri()

    def has_warning(event: dict[str, Any]) -> bool:
        return event["uri"] == loader_uri and any(d["code"] == "FL106" for d in event["items"])

    with vscode_session(tools, vsix, tmp_path / "vscode", settings, shop) as (server, page):
        open_file(page, "loader.py")
        server.log.wait_for("diagnostics", has_warning, timeout=60)

        changed = time.time() * 1000
        server.change_settings({**settings, "fixloop.diagnostics.groups": ["syntax"]})
        server.log.wait_for(
            "diagnostics",
            lambda e: e["uri"] == loader_uri and e["epochMs"] > changed and not has_warning(e),
            timeout=30,
        )
        assert len(server.log.events("started")) == 1

        other_python = str(Path(sys.executable).with_name("python3"))
        server.change_settings(
            {
                **settings,
                "fixloop.server.python": other_python,
                "fixloop.diagnostics.groups": ["syntax"],
            }
        )
        restarted = server.log.wait_for(
            "started", lambda e: e["command"][0] == other_python, timeout=60
        )
        assert restarted["command"] == [other_python, "-m", "fixloop", "lsp"]
