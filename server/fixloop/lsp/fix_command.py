""" "Fix with fixloop (run tests)": the loop as a command, with a cancellable progress bar
and `fixloop/status`, ending in one versioned edit (none if the document changed
meanwhile: the server says so and offers to run again) and a one-line summary.

Each session tests its candidates in a sandbox pool of its own, removed when the session
ends: cancelling (`fixloop.cancelFix`, or the progress bar's cancel) removes its
containers at once, which also ends the tests running in them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from fixloop.analysis.source import SourceText
from fixloop.lsp.arguments import Line, Text
from fixloop.lsp.configuration import workspace_folders
from fixloop.lsp.edits import DocumentEdits, minimal_edit, workspace_edits
from fixloop.lsp.jobs import Key
from fixloop.lsp.status import send_status
from fixloop.lsp.workspace_paths import innermost_folder, resolved
from fixloop.words import counted

if TYPE_CHECKING:
    from fixloop.config import Settings
    from fixloop.loop.engine import FixResult, FixSession, Progress
    from fixloop.lsp.documents import OpenDocument
    from fixloop.lsp.server import FixloopServer
    from fixloop.sandbox import SandboxError, SandboxPool

logger = logging.getLogger(__name__)

COMMAND_FIX = "fixloop.fix"
COMMAND_CANCEL = "fixloop.cancelFix"
TITLE = "Fix with fixloop (run tests)"
RUN_AGAIN = "Run again"


def fix_action(
    uri: str,
    *,
    line: int | None = None,
    diagnostics: list[types.Diagnostic] | None = None,
    disabled: str | None = None,
) -> types.CodeAction:
    """The code action: a command only, so that answering `codeAction` costs nothing. A
    quick fix on the diagnostics given, else a source action; `line` (0-based) is where
    the loop looks first."""
    arguments: list[Any] = [uri] if line is None else [uri, line]
    return types.CodeAction(
        title=TITLE,
        kind=types.CodeActionKind.QuickFix if diagnostics else types.CodeActionKind.Source,
        diagnostics=diagnostics or None,
        command=None
        if disabled
        else types.Command(title=TITLE, command=COMMAND_FIX, arguments=arguments),
        disabled=types.CodeActionDisabled(reason=disabled) if disabled else None,
        is_preferred=False,  # never above a deterministic fix
    )


def project_root(server: FixloopServer, uri: str) -> Path | None:
    """The innermost workspace folder holding the document (by resolved path)."""
    return innermost_folder(uri, workspace_folders(server))


def _say(server: FixloopServer, message: str, kind: types.MessageType) -> None:
    server.window_show_message(types.ShowMessageParams(type=kind, message=f"fixloop: {message}"))


@dataclass
class _Run:
    """A running session and the sandbox pool it alone uses."""

    uri: str
    session: FixSession
    pool: SandboxPool
    cancelled: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    remover: threading.Thread | None = None  # removing the containers of a cancelled run

    @property
    def key(self) -> Key:
        """Its job's key: every fix is a job of its own."""
        return ("fix", self.session.session_id)

    def cancel(self) -> None:
        if self.cancelled:
            return
        self.cancelled = True
        self.session.cancel()
        self.remover = threading.Thread(
            target=self._remove_containers, name="fixloop-cancel", daemon=True
        )
        self.remover.start()

    def _remove_containers(self) -> None:
        """Removing the containers ends the tests running in them now, not at their
        timeout; again until the session ends, for a container that was still starting."""
        while True:
            self.pool.close()
            if self.done.wait(0.5):
                return

    async def run(self) -> FixResult | SandboxError:
        """The session, in a thread (the job); its pool is removed when it ends. A sandbox
        error is the fix's answer, not the job's failure."""
        from fixloop.sandbox import SandboxError

        try:
            return await asyncio.to_thread(self.session.run)
        except SandboxError as error:
            return error
        finally:
            self.done.set()
            await asyncio.to_thread(self._close)

    def _close(self) -> None:
        """Remove the pool's containers, those the cancel is removing included: the job
        ends when they are gone."""
        if self.remover is not None:
            self.remover.join()
        self.pool.close()


@dataclass(frozen=True)
class FixArguments:
    uri: Text
    line: Line | None = None  # where the loop looks first


@dataclass(frozen=True)
class NoArguments:
    pass


async def fix(ls: FixloopServer, arguments: FixArguments) -> dict[str, Any]:
    """Run the loop on the file (looking first at the line, when given); apply the
    verified fix as one edit."""
    return await run_fix(ls, arguments.uri, arguments.line)


async def cancel_fix(ls: FixloopServer, arguments: NoArguments) -> dict[str, Any]:
    """Cancel the running fix sessions (as the progress bar's cancel does)."""
    count = ls.jobs.cancel_all("fix")
    return {"status": "cancelled" if count else "idle", "sessions": count}


async def run_fix(ls: FixloopServer, uri: str, line: int | None = None) -> dict[str, Any]:
    try:
        return await _run_fix(ls, uri, line)
    except Exception as error:  # one clear message, never a crash of the server
        logger.exception("fix failed")
        _say(ls, f"the fix could not run: {error}", types.MessageType.Error)
        _ended(ls, "the fix could not run")
        return {"status": "error", "message": str(error)}


async def _run_fix(ls: FixloopServer, uri: str, line: int | None) -> dict[str, Any]:
    from fixloop.loop.generators import GeneratorUnavailable
    from fixloop.sandbox import SandboxError

    opened = ls.documents.get(uri)
    root = project_root(ls, uri)
    path = to_fs_path(uri)
    problem = why_tests_cannot_run(opened, root, path) or ls.test_diagnostics.why_waiting(uri)
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
    relative = Path(path).resolve().relative_to(root.resolve()).as_posix()
    before = opened.source.data
    version = opened.version
    try:
        session, pool = _session(ls, root, command, settings, relative, line)
    except GeneratorUnavailable as error:
        return _unavailable(ls, None, str(error))
    run = _Run(uri, session, pool)
    ls.last_session_id = session.session_id  # "Show fix report" opens it, even mid-run
    # Rounds shown as "n/max" only where they bound the session: the offline engine's
    # budget is time, and its rounds go on past `max_iterations`.
    rounds = session.budget.max_iterations if session.model_rounds else None
    progress = await _Progress.start(ls)
    session.on_progress = progress.threadsafe()
    pool.on_prepare = progress.say_threadsafe()  # "preparing the sandbox: installing 14 …"
    # Every cancel takes one path: the progress bar's, `fixloop.cancelFix`, `$/cancelRequest`
    # on this request and shutdown all cancel the job, which cancels the run.
    progress.on_cancel(functools.partial(ls.jobs.cancel, run.key))
    job = ls.jobs.start(run.key, run.run(), stop=run.cancel)
    send_status(
        ls,
        "fixing",
        "running the tests",
        iteration=None if rounds is None else 0,
        max_iterations=rounds,
    )
    try:
        outcome: FixResult | SandboxError | None = await asyncio.shield(job)
    except asyncio.CancelledError:  # `$/cancelRequest` on the request
        ls.jobs.cancel(run.key)
        with contextlib.suppress(Exception):
            await job  # the session ends as cancelled; its edit is never applied
        outcome = None
    if isinstance(outcome, SandboxError) and not run.cancelled:
        progress.end(str(outcome))
        return _unavailable(ls, settings, str(outcome))
    result = outcome if not isinstance(outcome, SandboxError) else None
    if run.cancelled or result is None:  # whatever the removed containers made it say
        progress.end("cancelled")
        _ended(ls, "fix cancelled", run.key)
        return {"status": "cancelled", "message": "cancelled", "sessionId": session.session_id}
    progress.end(result.message)
    _ended(ls, result.message, run.key)
    if result.status.value != "environment-error":
        ls.availability.found_available(settings.sandbox)
    return await _conclude(ls, uri, line, (root, relative), version, before, result, settings)


def _ended(ls: FixloopServer, message: str, key: Key | None = None) -> None:
    """A fix ended: the status bar says so, unless another fix still runs (then it stays
    `fixing`: the first fix to end must not end the status of the others)."""
    others = [job for job in ls.jobs.running("fix") if job.key != key]
    if others:
        send_status(ls, "fixing", f"{message} · {len(others)} more fix running")
    else:
        send_status(ls, "idle", message)


def _session(
    ls: FixloopServer,
    root: Path,
    command: str,
    settings: Settings,
    relative: str,
    line: int | None,
) -> tuple[FixSession, SandboxPool]:
    from fixloop.loop.build import Target, build_session
    from fixloop.loop.engine import new_session_id
    from fixloop.loop.recall import SessionMemory
    from fixloop.loop.settings import EDITOR_WALL_CLOCK_SECONDS
    from fixloop.sandbox import SandboxPool
    from fixloop.sessions.log import SessionLog

    store = ls.memory.store_for(settings)
    session_id = new_session_id()
    pool = SandboxPool(settings.sandbox)
    session = build_session(
        settings,
        # The cursor's line (0-based here) is tried first.
        Target(root, relative, line + 1 if line is not None else None),
        command,
        pool,
        memory=SessionMemory(store) if store is not None else None,
        default_wall_clock=EDITOR_WALL_CLOCK_SECONDS,
        on_event=SessionLog(session_id).event,
        session_id=session_id,
    )
    return session, pool


def _unavailable(ls: FixloopServer, settings: Settings | None, message: str) -> dict[str, Any]:
    _say(ls, message, types.MessageType.Error)
    ls.availability.found_unavailable(settings.sandbox if settings else None, message)
    return {"status": "environment-error", "message": message}


def why_tests_cannot_run(
    opened: OpenDocument | None, root: Path | None, path: str | None
) -> str | None:
    """What keeps the tests from running on this document as the editor shows it (not
    open, outside the workspace, unsaved), or None."""
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
    ls: FixloopServer,
    uri: str,
    line: int | None,
    where: tuple[Path, str],
    version: int | None,
    before: bytes,
    result: FixResult,
    settings: Settings,
) -> dict[str, Any]:
    """Apply a verified fix (to the document the fix ran from, or to the files the loop
    found, from a test file) and say why it was chosen; or say why it ended without one."""
    summary = _summary(result)
    if not result.fixed:
        _say(ls, summary, types.MessageType.Info)
        return {"status": result.status.value, "message": result.message, "summary": summary}
    opened = ls.documents.get(uri)
    if opened is not None:
        ls.flush(opened)
    if opened is None or opened.version != version:
        message = "the document changed while the loop ran: the fix was not applied"
        offer_rerun(ls, uri, line, message)
        return {"status": "stale", "message": message}
    if not ls.client_flags.apply_edit:  # say so, with the patch, rather than send in vain
        _say(
            ls,
            f"{summary} (this editor cannot apply edits):\n{result.diff}",
            types.MessageType.Info,
        )
        return {"status": "not-applied", "message": summary, "diff": result.diff}
    root, relative = where
    documents = _document_edits(ls, root, relative, opened, result)
    if isinstance(documents, str):
        offer_rerun(ls, uri, line, documents)
        return {"status": "stale", "message": documents}
    response = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(
            edit=workspace_edits(ls, documents), label="fixloop: verified fix"
        )
    )
    if not response.applied:
        reason = f" ({response.failure_reason})" if response.failure_reason else ""
        offer_rerun(ls, uri, line, f"the editor did not apply the fix{reason}")
        return {"status": "not-applied", "message": summary, "diff": result.diff}
    store = ls.memory.store_for(settings)
    if result.record_id is not None and store is not None and relative in result.changes:
        # Whether the user keeps it, watched in the document the fix ran from.
        after = result.changes[relative].encode("utf-8")
        ls.verdicts.watch(opened, result.record_id, store, before, after)
    # Why this patch and not the other passing ones: the user decides whether to keep it.
    _say(ls, f"{summary}\n{result.why}" if result.why else summary, types.MessageType.Info)
    return {
        "status": "fixed",
        "message": summary,
        "why": result.why,
        "diff": result.diff,
        "record": result.record_id,
        "sessionId": result.session_id,
    }


def _document_edits(
    ls: FixloopServer, root: Path, relative: str, opened: OpenDocument, result: FixResult
) -> list[DocumentEdits] | str:
    """The edit of each file the fix changes, made from the text the patch was made from;
    why not, when one of them changed meanwhile (the fix's own document was checked)."""
    documents: list[DocumentEdits] = []
    for path, fixed in result.changes.items():
        if path == relative:
            source, uri, version = opened.source, opened.uri, opened.version
        else:
            found = _other_document(ls, root / path, result.originals.get(path))
            if isinstance(found, str):
                return f"{path} {found}: the fix was not applied"
            source, uri, version = found
        documents.append((uri, version, [minimal_edit(source, fixed, ls.encoding)]))
    return documents


def _other_document(
    ls: FixloopServer, file: Path, original: str | None
) -> tuple[SourceText, str, int | None] | str:
    """Another file of the fix as the editor has it (open, else on disk), unless it
    changed since the loop read it (then what happened)."""
    wanted = file.resolve()
    opened = next((d for d in ls.documents if resolved(d.uri) == wanted), None)
    if opened is not None:
        ls.flush(opened)
        source, uri, version = opened.source, opened.uri, opened.version
    else:
        try:
            source, uri, version = SourceText(file.read_bytes()), file.as_uri(), None
        except OSError as error:
            return f"cannot be read ({error.strerror})"
    if original is not None and source.data != original.encode("utf-8", "surrogatepass"):
        return "changed while the loop ran"
    return source, uri, version


def offer_rerun(ls: FixloopServer, uri: str, line: int | None, message: str) -> None:
    """Say why no edit came, with a "Run again" button that reruns the fix (in the
    background: the command that ran answers now)."""

    async def ask() -> None:
        try:
            choice = await ls.window_show_message_request_async(
                types.ShowMessageRequestParams(
                    type=types.MessageType.Warning,
                    message=f"fixloop: {message}",
                    actions=[types.MessageActionItem(title=RUN_AGAIN)],
                )
            )
        except Exception as error:  # a client without the request: the message is enough
            logger.info("showMessageRequest failed: %s", error)
            return
        if choice is not None and choice.title == RUN_AGAIN:
            await run_fix(ls, uri, line)

    ls.jobs.start(("rerun-offer", uri), ask())  # a newer offer for the document replaces it


def _summary(result: FixResult) -> str:
    """One line: what happened, the tests, iterations, candidates, time, engine."""
    engine = result.candidate.generator if result.candidate else result.engine or "no fix"
    head = "fixed" if result.fixed else result.message
    # No run of a fix to tell of: the message says it all, once.
    tests = f" · {result.final_summary()}" if result.final else ""
    return (
        f"{head}{tests} · {counted(result.iterations, 'iteration')}, "
        f"{counted(result.candidates_tried, 'candidate')}, {result.duration:.1f} s · {engine}"
    )


class _Progress:
    """`$/progress` for one session (none when the client has no progress support), and
    `fixloop/status` (always)."""

    def __init__(self, ls: FixloopServer, token: str | None) -> None:
        self._ls = ls
        self._token = token
        self._loop = asyncio.get_running_loop()
        self._ended = False

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

    def say_threadsafe(self) -> Callable[[str], None]:
        def say(message: str) -> None:
            self._loop.call_soon_threadsafe(self._say, message)

        return say

    def _say(self, message: str) -> None:
        if self._ended:
            return
        send_status(self._ls, "fixing", message)
        if self._token is not None:
            self._ls.work_done_progress.report(
                self._token, types.WorkDoneProgressReport(message=message)
            )

    def _report(self, progress: Progress) -> None:
        if self._ended:  # a report that crossed the end on its way from the session
            return
        rounds = progress.model_rounds
        send_status(
            self._ls,
            "fixing",
            progress.line(),
            iteration=progress.iteration if rounds else None,
            max_iterations=progress.max_iterations if rounds else None,
        )
        if self._token is None:
            return
        share = progress.spent
        self._ls.work_done_progress.report(
            self._token,
            types.WorkDoneProgressReport(
                message=progress.line(), percentage=min(99, int(100 * share))
            ),
        )

    def end(self, message: str) -> None:
        self._ended = True
        if self._token is not None:
            self._ls.work_done_progress.end(self._token, types.WorkDoneProgressEnd(message=message))
            self._ls.work_done_progress.tokens.pop(self._token, None)
