"""Every LSP method and every `workspace/executeCommand` command the server handles, with
its handler: the one place to read what the server answers (as ruff's `api.rs` routes
each method). The server registers from these tables and nothing else; `initialize`
announces the commands listed here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from lsprotocol import types
from pygls.lsp.server import LanguageServer

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
from fixloop.lsp.arguments import structure_arguments

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
    """A `workspace/executeCommand` command, its handler (called with the server and the
    arguments structured), and the dataclass its `arguments` array is structured into."""

    name: str
    handler: Callable[[FixloopServer, Any], Awaitable[Any]]
    arguments: type


METHODS: tuple[Method, ...] = (
    Method(types.INITIALIZE, lifecycle.initialize),
    Method(types.SHUTDOWN, lifecycle.shutdown),
    Method(types.INITIALIZED, configuration.initialized),
    Method(types.WORKSPACE_DID_CHANGE_CONFIGURATION, configuration.did_change_configuration),
    Method(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS, configuration.did_change_folders),
    Method(configuration.TRUST_NOTIFICATION, configuration.workspace_trust),
    Method(types.WORKSPACE_DID_CHANGE_WATCHED_FILES, configuration.did_change_watched_files),
    Method(types.TEXT_DOCUMENT_DID_OPEN, text_sync.did_open),
    Method(types.TEXT_DOCUMENT_DID_CHANGE, text_sync.did_change),
    Method(types.TEXT_DOCUMENT_DID_SAVE, text_sync.did_save),
    Method(types.TEXT_DOCUMENT_DID_CLOSE, text_sync.did_close),
    Method(types.TEXT_DOCUMENT_CODE_ACTION, code_actions.code_action, code_actions.OPTIONS),
)

COMMANDS: tuple[Command, ...] = (
    Command(fix_command.COMMAND_FIX, fix_command.fix, fix_command.FixArguments),
    Command(fix_command.COMMAND_CANCEL, fix_command.cancel_fix, fix_command.NoArguments),
    Command(remembered.COMMAND_APPLIED, remembered.remembered_applied, remembered.AppliedArguments),
    Command(
        generate_tests.COMMAND_GENERATE_TESTS,
        generate_tests.generate_tests,
        generate_tests.GenerateTestsArguments,
    ),
    Command(
        report_command.COMMAND_SHOW_REPORT,
        report_command.show_report,
        report_command.ReportArguments,
    ),
    Command(
        test_diagnostics.COMMAND_RUN_TESTS,
        test_diagnostics.run_tests_command,
        test_diagnostics.RunTestsArguments,
    ),
)


def register(server: FixloopServer) -> None:
    """Register every method and command of the tables with pygls."""
    for method in METHODS:
        server.feature(method.name, method.options)(method.handler)
    for command in COMMANDS:
        server.command(command.name)(_typed(command))


def _typed(command: Command) -> Callable[..., Awaitable[Any]]:
    """The handler pygls calls with the arguments spread out: they are structured into
    the command's dataclass first (InvalidParams when they do not fit)."""

    # pygls reads these annotations at run time: they must be importable here.
    async def run(ls: LanguageServer, *args: Any) -> Any:
        arguments: Any = structure_arguments(command.name, args, command.arguments)
        return await command.handler(cast("FixloopServer", ls), arguments)

    return run
