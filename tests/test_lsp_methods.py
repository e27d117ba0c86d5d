"""One table of methods and commands (lsp/methods.py): what the server registers, what
`initialize` announces, and what the VS Code extension calls all agree with it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from fixloop.lsp.methods import COMMANDS, METHODS
from fixloop.lsp.server import create_server
from tests.support.jsonrpc import Wire, stop

CLIENT = Path(__file__).resolve().parent.parent / "vscode-client"


def test_the_server_registers_exactly_the_tables_methods_and_commands() -> None:
    server = create_server()
    assert set(server.protocol.fm.features) == {method.name for method in METHODS}
    assert set(server.protocol.fm.commands) == {command.name for command in COMMANDS}
    names = [method.name for method in METHODS] + [command.name for command in COMMANDS]
    assert len(names) == len(set(names))  # each listed once


def test_initialize_announces_the_tables_commands_and_code_action_kinds() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "fixloop", "lsp", "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        capabilities = Wire(process.stdout, process.stdin).initialize()["result"]["capabilities"]
    finally:
        stop(process)
    announced = capabilities["executeCommandProvider"]["commands"]
    assert sorted(announced) == sorted(command.name for command in COMMANDS)
    assert capabilities["codeActionProvider"]["codeActionKinds"] == ["quickfix", "source"]


def test_the_vscode_extension_calls_only_commands_of_the_table() -> None:
    """Each command contributed in package.json is registered by the extension, and each
    server command the extension calls is one the server handles."""
    package = json.loads((CLIENT / "package.json").read_text(encoding="utf-8"))
    contributed = {entry["command"] for entry in package["contributes"]["commands"]}
    source = (CLIENT / "src" / "extension.ts").read_text(encoding="utf-8")
    registered = set(re.findall(r'register\("([\w.]+)"', source))
    called = set(re.findall(r'(?:serverCommand|atCursor)\("([\w.]+)"', source))
    assert contributed == registered
    assert called  # the pattern still finds the calls
    assert called <= {command.name for command in COMMANDS}
