""" "Fix with fixloop (run tests)": the loop as a command, with a cancellable progress bar,
ending in one versioned edit (refused if the document changed meanwhile) and a summary."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from fixloop.lsp.configuration import workspace_folders

if TYPE_CHECKING:
    from fixloop.loop.engine import FixResult, Progress
    from fixloop.lsp.documents import OpenDocument
    from fixloop.lsp.server import FixloopServer

logger = logging.getLogger(__name__)

COMMAND_FIX = "fixloop.fix"
TITLE = "Fix with fixloop (run tests)"


def fix_action(uri: str) -> types.CodeAction:
    """The code action: a command only, so that answering `codeAction` costs nothing."""
    return types.CodeAction(
        title=TITLE,
        kind=types.CodeActionKind.Source,
        command=types.Command(title=TITLE, command=COMMAND_FIX, arguments=[uri]),
        is_preferred=False,  # never above a deterministic fix
    )


def project_root(server: FixloopServer, uri: str) -> Path | None:
    """The innermost workspace folder holding the document."""
    folders = [f for f in workspace_folders(server) if uri.startswith(f.rstrip("/") + "/")]
    if not folders:
        return None
    path = to_fs_path(max(folders, key=len))
    return Path(path) if path else None


def _say(server: FixloopServer, message: str, kind: types.MessageType) -> None:
    server.window_show_message(types.ShowMessageParams(type=kind, message=f"fixloop: {message}"))


def register(server: FixloopServer) -> None:
    # pygls resolves a command handler's annotations at run time: they must be importable.
    @server.command(COMMAND_FIX)
    async def fix(ls: LanguageServer, uri: str) -> dict[str, Any]:
        """Run the loop on the document's file; apply the verified fix as one edit."""
        ls = cast("FixloopServer", ls)
        try:
            return await _run_fix(ls, uri)
        except Exception as error:  # one clear message, never a crash of the server
            logger.exception("fix failed")
            _say(ls, f"the fix could not run: {error}", types.MessageType.Error)
            return {"status": "error", "message": str(error)}


async def _run_fix(ls: FixloopServer, uri: str) -> dict[str, Any]:
    from fixloop.loop.engine import Budget, FixSession, new_session_id
    from fixloop.loop.generators import GeneratorUnavailable, generators_for
    from fixloop.sandbox import SandboxError
    from fixloop.sessions.log import SessionLog

    opened = ls.documents.get(uri)
    root = project_root(ls, uri)
    path = to_fs_path(uri)
    problem = _cannot_start(opened, root, path)
    if problem is not None:
        _say(ls, problem, types.MessageType.Warning)
        return {"status": "refused", "message": problem}
    assert opened is not None and root is not None and path is not None
    settings = ls.folder_settings.for_uri(uri)
    command = ls.test_command(root, settings.tests.command)
    if command is None:
        message = "no test command: set `test-command` in [tool.fixloop] or fixloop.testCommand"
        _say(ls, message, types.MessageType.Warning)
        return {"status": "refused", "message": message}
    try:
        generators = generators_for(settings.engine, settings)
        pool = ls.sandbox_pool(settings.sandbox)
    except (GeneratorUnavailable, SandboxError) as error:
        _say(ls, str(error), types.MessageType.Error)
        return {"status": "environment-error", "message": str(error)}
    version = opened.version
    relative = Path(path).resolve().relative_to(root.resolve()).as_posix()
    progress = await _Progress.start(ls)
    session_id = new_session_id()
    session = FixSession(
        root,
        command,
        generators,
        pool,
        targets=[relative],
        budget=Budget(parallel=settings.sandbox.parallel),
        on_progress=progress.threadsafe(),
        on_event=SessionLog(session_id).event,
        session_id=session_id,
    )
    ls.last_session_id = session_id
    progress.on_cancel(session.cancel)
    try:
        result = await asyncio.to_thread(session.run)
    except SandboxError as error:
        progress.end(str(error))
        _say(ls, str(error), types.MessageType.Error)
        return {"status": "environment-error", "message": str(error)}
    progress.end(result.message)
    return await _conclude(ls, uri, relative, version, result)


def _cannot_start(opened: OpenDocument | None, root: Path | None, path: str | None) -> str | None:
    if opened is None or path is None:
        return "open the file first"
    if root is None:
        return "the file is outside the workspace folders: the tests need a project root"
    try:
        on_disk = Path(path).read_bytes()
    except OSError as error:
        return f"cannot read {path}: {error.strerror}"
    if on_disk != opened.source.data:
        return "save the file first: the tests run on the files as saved"
    return None


async def _conclude(
    ls: FixloopServer, uri: str, relative: str, version: int | None, result: FixResult
) -> dict[str, Any]:
    summary = _summary(result)
    if not result.fixed:
        _say(ls, summary, types.MessageType.Info)
        return {"status": result.status.value, "message": result.message}
    opened = ls.documents.get(uri)
    if opened is None or opened.version != version:
        message = "the document changed while the loop ran: the fix was not applied (run again)"
        _say(ls, message, types.MessageType.Warning)
        return {"status": "stale", "message": message}
    if not ls.client_flags.apply_edit:  # say so, with the patch, rather than send in vain
        _say(
            ls,
            f"{summary} (this editor cannot apply edits):\n{result.diff}",
            types.MessageType.Info,
        )
        return {"status": "not-applied", "message": summary, "diff": result.diff}
    applied = await _apply(ls, opened, result.changes[relative], version)
    if not applied:
        _say(ls, "the editor did not apply the fix", types.MessageType.Warning)
        return {"status": "not-applied", "message": summary, "diff": result.diff}
    _say(ls, summary, types.MessageType.Info)
    return {"status": "fixed", "message": summary, "diff": result.diff, "record": result.record_id}


async def _apply(ls: FixloopServer, opened: OpenDocument, text: str, version: int | None) -> bool:
    source = opened.source
    end = source.position_at(len(source.data), ls.encoding)
    whole = types.Range(
        start=types.Position(line=0, character=0),
        end=types.Position(line=end.line, character=end.column),
    )
    edits = [types.TextEdit(range=whole, new_text=text)]
    if ls.client_flags.document_changes:
        edit = types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=opened.uri, version=version
                    ),
                    edits=list(edits),
                )
            ]
        )
    else:
        edit = types.WorkspaceEdit(changes={opened.uri: list(edits)})
    response = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label="fixloop: verified fix")
    )
    return bool(response.applied)


def _summary(result: FixResult) -> str:
    engine = result.candidate.generator if result.candidate else "no fix"
    tests = result.final.summary() if result.final else result.message
    head = "fixed" if result.fixed else result.message
    return (
        f"{head} · {tests} · {result.iterations} iterations, {result.candidates_tried} "
        f"candidates, {result.duration:.1f} s · {engine}"
    )


class _Progress:
    """`$/progress` for one session (nothing when the client has no progress support)."""

    def __init__(self, ls: FixloopServer, token: str | None) -> None:
        self._ls = ls
        self._token = token
        self._loop = asyncio.get_running_loop()

    @classmethod
    async def start(cls, ls: FixloopServer) -> _Progress:
        if not ls.client_flags.work_done_progress:
            return cls(ls, None)
        token = f"fixloop-{uuid.uuid4().hex}"
        try:
            await ls.work_done_progress.create_async(token)
        except Exception as error:  # a client that refuses: run without a progress bar
            logger.warning("progress refused: %s", error)
            return cls(ls, None)
        ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title="fixloop", message="running the tests", cancellable=True, percentage=0
            ),
        )
        return cls(ls, token)

    def on_cancel(self, cancel: Callable[[], None]) -> None:
        if self._token is None:
            return
        future = self._ls.work_done_progress.tokens.get(self._token)
        if future is not None:
            future.add_done_callback(lambda done: cancel() if done.cancelled() else None)

    def threadsafe(self) -> Callable[[Progress], None]:
        def report(progress: Progress) -> None:
            self._loop.call_soon_threadsafe(self._report, progress)

        return report

    def _report(self, progress: Progress) -> None:
        if self._token is None:
            return
        share = progress.iteration / max(1, progress.max_iterations)
        self._ls.work_done_progress.report(
            self._token,
            types.WorkDoneProgressReport(
                message=progress.line(), percentage=min(99, int(100 * share))
            ),
        )

    def end(self, message: str) -> None:
        if self._token is not None:
            self._ls.work_done_progress.end(self._token, types.WorkDoneProgressEnd(message=message))
            self._ls.work_done_progress.tokens.pop(self._token, None)
