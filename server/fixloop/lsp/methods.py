"""Every LSP method and every `workspace/executeCommand` command the server handles, with
its handler: the one place to read what the server answers (as ruff's `api.rs` routes
each method). The server registers from these tables and nothing else; `initialize`
announces the commands listed here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from fixloop.lsp import (
    code_actions,
    configuration,
    fix_command,
    generate_tests,
    lifecycle,
    remembered,
    report_command,
    test_diagnostics,
    text_sync,
)

if TYPE_CHECKING:
    from fixloop.lsp.server import FixloopServer


@dataclass(frozen=True)
class Method:
    """An LSP request or notification, its handler (called with the server first), and
    the options `initialize` announces for it."""

    name: str
    handler: Callable[..., Any]
    options: Any = None


@dataclass(frozen=True)
class Command:
    """A `workspace/executeCommand` command and its handler."""

    name: str
    handler: Callable[..., Any]


METHODS: tuple[Method, ...] = (
    Method(types.INITIALIZE, lifecycle.initialize),
    Method(types.SHUTDOWN, lifecycle.shutdown),
    Method(types.INITIALIZED, configuration.initialized),
    Method(types.WORKSPACE_DID_CHANGE_CONFIGURATION, configuration.did_change_configuration),
    Method(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS, configuration.did_change_folders),
    Method(configuration.TRUST_NOTIFICATION, configuration.workspace_trust),
    Method(types.TEXT_DOCUMENT_DID_OPEN, text_sync.did_open),
    Method(types.TEXT_DOCUMENT_DID_CHANGE, text_sync.did_change),
    Method(types.TEXT_DOCUMENT_DID_SAVE, text_sync.did_save),
    Method(types.TEXT_DOCUMENT_DID_CLOSE, text_sync.did_close),
    Method(types.TEXT_DOCUMENT_CODE_ACTION, code_actions.code_action, code_actions.OPTIONS),
)

COMMANDS: tuple[Command, ...] = (
    Command(fix_command.COMMAND_FIX, fix_command.fix),
    Command(fix_command.COMMAND_CANCEL, fix_command.cancel_fix),
    Command(remembered.COMMAND_APPLIED, remembered.remembered_applied),
    Command(generate_tests.COMMAND_GENERATE_TESTS, generate_tests.generate_tests),
    Command(report_command.COMMAND_SHOW_REPORT, report_command.show_report),
    Command(test_diagnostics.COMMAND_RUN_TESTS, test_diagnostics.run_tests_command),
)


def register(server: FixloopServer) -> None:
    """Register every method and command of the tables with pygls."""
    for method in METHODS:
        server.feature(method.name, method.options)(method.handler)
    for command in COMMANDS:
        server.command(command.name)(command.handler)
