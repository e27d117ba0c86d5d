"""Typed command arguments: each command's arguments are structured into its dataclass
with lsprotocol's converter; one that does not fit is answered with InvalidParams naming
the command and the field, and more arguments than fields are refused, never dropped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from fixloop.lsp.arguments import structure_arguments, usage
from fixloop.lsp.fix_command import FixArguments
from fixloop.lsp.methods import COMMANDS
from tests.support.in_process import InProcessServer

URI = "file:///ws/a.py"
ARGUMENTS = {command.name: command.arguments for command in COMMANDS}

# For each command: arguments that fit (and what they become), and a malformed argument
# with the field it is in.
FITTING: list[tuple[str, list[Any], dict[str, Any]]] = [
    ("fixloop.fix", [URI], {"uri": URI, "line": None}),
    ("fixloop.fix", [URI, 3], {"uri": URI, "line": 3}),
    ("fixloop.cancelFix", [], {}),
    ("fixloop.rememberedApplied", [URI, "f00d"], {"uri": URI, "offer": "f00d"}),
    ("fixloop.generateTests", [URI, 0], {"uri": URI, "line": 0}),
    ("fixloop.showReport", [], {"session": None}),
    ("fixloop.showReport", ["20260101"], {"session": "20260101"}),
    ("fixloop.runTests", [], {"uri": None}),
    ("fixloop.runTests", [URI], {"uri": URI}),
]
MALFORMED: list[tuple[str, list[Any], str]] = [
    ("fixloop.fix", [URI, "three"], "line"),
    ("fixloop.fix", [7], "uri"),
    ("fixloop.fix", [URI, True], "line"),
    ("fixloop.fix", [URI, 1.5], "line"),
    ("fixloop.fix", [URI, -1], "line"),
    ("fixloop.fix", [], "uri"),
    ("fixloop.cancelFix", ["now"], "no arguments"),
    ("fixloop.rememberedApplied", [URI], "offer"),
    ("fixloop.rememberedApplied", [URI, 5], "offer"),
    ("fixloop.generateTests", [{"uri": URI}, 1], "uri"),
    ("fixloop.generateTests", [URI, None], "line"),
    ("fixloop.showReport", [{"id": 1}], "session"),
    ("fixloop.showReport", [""], "session"),
    ("fixloop.runTests", [3], "uri"),
    ("fixloop.runTests", [URI, URI], "[uri]"),  # one more than it takes: refused
]


def test_every_command_has_its_cases() -> None:
    assert {name for name, _, _ in FITTING} == set(ARGUMENTS)
    assert {name for name, _, _ in MALFORMED} == set(ARGUMENTS)


@pytest.mark.parametrize(("command", "arguments", "expected"), FITTING)
def test_arguments_that_fit_become_the_commands_dataclass(
    command: str, arguments: list[Any], expected: dict[str, Any]
) -> None:
    structured = structure_arguments(command, tuple(arguments), ARGUMENTS[command])
    assert isinstance(structured, ARGUMENTS[command])
    assert vars(structured) == expected


@pytest.mark.parametrize(("command", "arguments", "field"), MALFORMED)
def test_a_malformed_argument_is_invalid_params_naming_command_and_field(
    command: str, arguments: list[Any], field: str
) -> None:
    with pytest.raises(JsonRpcInvalidParams) as raised:
        structure_arguments(command, tuple(arguments), ARGUMENTS[command])
    message = str(raised.value.message)
    assert message.startswith(command) and field in message


def test_usage_says_what_a_command_takes() -> None:
    assert usage(FixArguments) == "[uri] or [uri, line]"
    assert usage(ARGUMENTS["fixloop.cancelFix"]) == "no arguments"
    assert usage(ARGUMENTS["fixloop.showReport"]) == "no arguments or [session]"


@pytest.fixture
def lsp(tmp_path: Path) -> Iterator[InProcessServer]:
    server = InProcessServer()
    server.initialize(tmp_path, trusted=False, capabilities={})
    try:
        yield server
    finally:
        server.close()


def test_the_server_answers_each_malformed_command_and_keeps_serving(
    lsp: InProcessServer,
) -> None:
    """Over the wire: -32602 with the command and the field, nothing started, and the
    server answers what comes next."""
    for command, arguments, field in MALFORMED:
        answer = lsp.request(
            "workspace/executeCommand", {"command": command, "arguments": arguments}
        )
        error = answer["error"]
        assert error["code"] == -32602, (command, arguments)
        assert error["message"].startswith(command) and field in error["message"]
        assert "data" not in error  # no traceback
    assert lsp.server.jobs.running() == []
    cancelled = lsp.request("workspace/executeCommand", {"command": "fixloop.cancelFix"})
    assert cancelled["result"] == {"status": "idle", "sessions": 0}
