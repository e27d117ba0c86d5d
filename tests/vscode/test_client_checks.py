"""The extension's own checks (eslint, `tsc --noEmit`, the node unit tests), and its settings
against the server's: every server setting is contributed, and the contributed defaults,
mapped the way the extension sends them, are the server's defaults with no problem reported.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from typing import Any

import pytest

from fixloop.config import Settings, _leaf_paths, load_settings
from tests.vscode.codeserver import CLIENT_DIR, Tools, find_tools

pytestmark = pytest.mark.slow

MAPPING = CLIENT_DIR / "out-test" / "src" / "settings.js"


@pytest.fixture(scope="module")
def tools() -> Tools:
    return find_tools()


@pytest.fixture(scope="module")
def checked(tools: Tools) -> None:
    """`npm run check` (lint, types, unit tests); it also compiles the mapping used below."""
    env = {**os.environ, "PATH": f"{tools.node_bin}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(
        ["npm", "run", "-s", "check"],
        cwd=CLIENT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]


def _map_with_extension(tools: Tools, values: list[tuple[str, Any]]) -> dict[str, Any]:
    script = (
        f"const s = require({json.dumps(str(MAPPING))});"
        "const values = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(s.serverSection(values)));"
    )
    run = subprocess.run(
        [str(tools.node_bin / "node"), "-e", script],
        input=json.dumps(values),
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(run.stdout))


def _contributed() -> dict[str, Any]:
    package = json.loads((CLIENT_DIR / "package.json").read_text())
    properties: dict[str, Any] = package["contributes"]["configuration"]["properties"]
    return {key.removeprefix("fixloop."): spec for key, spec in properties.items()}


def test_npm_lint_typecheck_and_unit_tests(checked: None) -> None:
    assert MAPPING.exists()


def test_every_server_setting_is_contributed(checked: None, tools: Tools) -> None:
    contributed = _contributed()
    mapped = _map_with_extension(tools, [(key, 1) for key in contributed])
    sent: set[tuple[str, ...]] = set()

    def walk(node: dict[str, Any], prefix: tuple[str, ...]) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, (*prefix, key))
            else:
                sent.add((*prefix, key))

    walk(mapped, ())
    assert sent == set(_leaf_paths(Settings))


def test_contributed_defaults_are_the_servers(checked: None, tools: Tools) -> None:
    contributed = _contributed().items()
    values = [(k, spec["default"]) for k, spec in contributed if spec["default"] is not None]
    section = _map_with_extension(tools, values)
    settings = load_settings(None, environ={}, editor=section)
    assert settings.problems == ()
    defaults = load_settings(None, environ={})
    # cpus and parallel default to this machine's CPU count, shown as "empty" in VS Code.
    assert dataclasses.asdict(settings) == dataclasses.asdict(defaults)
