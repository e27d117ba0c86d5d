""" "Generate tests for this function": a source action on a module-level Python function
whose command generates the tests in the background (with `$/progress`), runs them in the
sandbox, and creates the test file through `workspace/applyEdit` (CreateFile + insert)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from fixloop.lsp.arguments import Line, Text
from fixloop.lsp.fix_command import project_root, why_tests_cannot_run

if TYPE_CHECKING:
    from tree_sitter import Node

    from fixloop.lsp.documents import OpenDocument
    from fixloop.lsp.server import FixloopServer
    from fixloop.testgen import GeneratedTests

logger = logging.getLogger(__name__)

COMMAND_GENERATE_TESTS = "fixloop.generateTests"
TITLE = "Generate tests for this function"


def generate_tests_action(
    ls: FixloopServer, opened: OpenDocument, line: int
) -> types.CodeAction | None:
    """The action when `line` (0-based) is in a module-level Python function of a file in
    a workspace folder: a command only, so that answering `codeAction` costs nothing."""
    if opened.language.name != "python" or opened.document is None:
        return None
    name = _function_at(opened.document.tree.root_node, line)
    if name is None or _is_test_or_special(name) or project_root(ls, opened.uri) is None:
        return None
    title = f"{TITLE} ({name})"
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.Source,
        command=types.Command(
            title=title, command=COMMAND_GENERATE_TESTS, arguments=[opened.uri, line]
        ),
        is_preferred=False,
    )


def _function_at(root: Node, line: int, owner: str | None = None) -> str | None:
    """The name (`f`, `Class.f`) of the module-level function or method at `line`."""
    for node in root.children:
        definition = node
        if node.type == "decorated_definition":
            definition = node.child_by_field_name("definition") or node
        if not node.start_point[0] <= line <= node.end_point[0]:
            continue
        name = definition.child_by_field_name("name")
        text = name.text.decode("utf-8", "replace") if name and name.text else None
        if definition.type == "function_definition" and text:
            return f"{owner}.{text}" if owner else text
        body = definition.child_by_field_name("body")
        if definition.type == "class_definition" and owner is None and body and text:
            return _function_at(body, line, text)
    return None


def _is_test_or_special(name: str) -> bool:
    last = name.rpartition(".")[2]
    return last.startswith("test_") or (last.startswith("__") and "." in name)


def can_create_files(ls: FixloopServer) -> bool:
    """The client applies edits and creates files through them."""
    workspace = ls.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace else None
    operations = (edit.resource_operations if edit else None) or []
    return bool(workspace and workspace.apply_edit) and (
        types.ResourceOperationKind.Create in operations
    )


def _say(ls: FixloopServer, message: str, kind: types.MessageType) -> None:
    ls.window_show_message(types.ShowMessageParams(type=kind, message=f"fixloop: {message}"))


@dataclass(frozen=True)
class GenerateTestsArguments:
    uri: Text
    line: Line  # in the function


async def generate_tests(ls: FixloopServer, arguments: GenerateTestsArguments) -> dict[str, Any]:
    """Generate, verify in the sandbox, and create a test file for the function at the
    line."""
    try:
        return await _run(ls, arguments.uri, arguments.line)
    except Exception as error:  # one clear message, never a crash of the server
        logger.exception("test generation failed")
        _say(ls, f"tests could not be generated: {error}", types.MessageType.Error)
        return {"status": "error", "message": str(error)}


async def _run(ls: FixloopServer, uri: str, line: int) -> dict[str, Any]:
    from fixloop.loop.llm import ModelError
    from fixloop.sandbox import SandboxError
    from fixloop.testgen import TestGenError, generate_tests

    problem = _cannot_start(ls, uri)
    if problem is not None:
        _say(ls, problem, types.MessageType.Warning)
        return {"status": "refused", "message": problem}
    root, path = project_root(ls, uri), to_fs_path(uri)
    assert root is not None and path is not None
    settings = ls.folder_settings.for_uri(uri)
    progress = await _Progress.start(ls)
    try:
        pool = ls.sandbox_pool(settings.sandbox)
        generated = await asyncio.to_thread(
            generate_tests,
            root,
            Path(path),
            pool,
            line=line + 1,
            settings=settings,
            on_step=progress.threadsafe(),
        )
    except TestGenError as error:
        progress.end("no tests")
        _say(ls, str(error), types.MessageType.Warning)
        return {"status": "rejected", "message": str(error)}
    except (SandboxError, ModelError) as error:
        progress.end("no tests")
        _say(ls, str(error), types.MessageType.Error)
        return {"status": "environment-error", "message": str(error)}
    progress.end(f"{len(generated.tests)} tests")
    return await _create(ls, generated)


def _cannot_start(ls: FixloopServer, uri: str) -> str | None:
    problem = why_tests_cannot_run(ls.documents.get(uri), project_root(ls, uri), to_fs_path(uri))
    if problem is None and not can_create_files(ls):
        return (
            "this editor cannot create files through the language server (no "
            "workspace.workspaceEdit.resourceOperations 'create'): run `fixloop tests "
            "generate FILE:LINE --write` instead"
        )
    return problem or ls.test_diagnostics.why_waiting(uri)


async def _create(ls: FixloopServer, generated: GeneratedTests) -> dict[str, Any]:
    dropped = [
        f"dropped {d.test} (fails on the current code): {d.reason}" for d in generated.dropped
    ]
    for note in [*generated.notes, *dropped]:
        ls.window_log_message(
            types.LogMessageParams(type=types.MessageType.Info, message=f"fixloop: {note}")
        )
    if generated.path.exists():  # created meanwhile: never overwrite
        message = f"{generated.relative} appeared while the tests ran: run again"
        _say(ls, message, types.MessageType.Warning)
        return {"status": "stale", "message": message}
    uri = from_fs_path(str(generated.path)) or generated.path.as_uri()
    start = types.Position(line=0, character=0)
    edit = types.WorkspaceEdit(
        document_changes=[
            types.CreateFile(
                uri=uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False)
            ),
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                edits=[
                    types.TextEdit(
                        range=types.Range(start=start, end=start), new_text=generated.content
                    )
                ],
            ),
        ]
    )
    response = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label=f"fixloop: tests for {generated.function}")
    )
    if not response.applied:
        reason = f": {response.failure_reason}" if response.failure_reason else ""
        _say(
            ls, f"the editor did not create {generated.relative}{reason}", types.MessageType.Warning
        )
        return {"status": "not-applied", "message": response.failure_reason or ""}
    _say(ls, generated.message(), types.MessageType.Info)
    return {
        "status": "created",
        "uri": uri,
        "tests": list(generated.tests),
        "dropped": [{"test": d.test, "reason": d.reason} for d in generated.dropped],
        "engine": generated.engine,
        "message": generated.message(),
    }


class _Progress:
    """`$/progress` for one generation (nothing when the client has no progress support)."""

    def __init__(self, ls: FixloopServer, token: str | None) -> None:
        self._ls = ls
        self._token = token
        self._loop = asyncio.get_running_loop()

    @classmethod
    async def start(cls, ls: FixloopServer) -> _Progress:
        if not ls.client_flags.work_done_progress:
            return cls(ls, None)
        token = f"fixloop-tests-{uuid.uuid4().hex}"
        try:
            await ls.work_done_progress.create_async(token)
        except Exception as error:  # a client that refuses: run without a progress bar
            logger.warning("progress refused: %s", error)
            return cls(ls, None)
        ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title="fixloop: generating tests", message="reading the function"
            ),
        )
        return cls(ls, token)

    def threadsafe(self) -> Callable[[str], None]:
        def report(message: str) -> None:
            self._loop.call_soon_threadsafe(self._report, message)

        return report

    def _report(self, message: str) -> None:
        if self._token is not None:
            self._ls.work_done_progress.report(
                self._token, types.WorkDoneProgressReport(message=message)
            )

    def end(self, message: str) -> None:
        if self._token is not None:
            self._ls.work_done_progress.end(self._token, types.WorkDoneProgressEnd(message=message))
            self._ls.work_done_progress.tokens.pop(self._token, None)
