"""Failing tests as diagnostics: the tests related to a file run in the sandbox when it is
first opened and on every save (setting `tests.run`), and each failure is shown on the
line where it surfaced.

In a folder that is not trusted (the editor's workspace trust, else `fixloop trust`) tests
run only when the user asks (`fixloop.runTests`): they are the project's code. Until then
the loop's actions wait, and say why (`why_waiting`).

Runs are per project: requests are debounced and merged while a run is queued; a newer
request cancels the run in progress (its processes are killed in the sandbox, and the
newer run covers its files too); one project never has two runs in the sandbox at once.
The sandbox work runs in a thread, so diagnostics of edits never wait for it. Test
findings are kept apart from the syntax and safety ones; the diagnostics publisher shows
both together.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from fixloop.lsp.arguments import Text
from fixloop.lsp.configuration import refresh, workspace_folders
from fixloop.lsp.feature import Feature
from fixloop.lsp.status import send_status
from fixloop.lsp.workspace_paths import innermost_folder

if TYPE_CHECKING:
    from fixloop.analysis.source import SourceText
    from fixloop.failures import TestFinding, TestRun
    from fixloop.lsp.documents import OpenDocument
    from fixloop.lsp.server import FixloopServer
    from fixloop.sandbox import Cancellation, SandboxConfig

logger = logging.getLogger(__name__)

SOURCE = "fixloop-tests"
CODE = "test-failure"
COMMAND_RUN_TESTS = "fixloop.runTests"
# Saves in quick succession (save all, format on save) make one run.
DEBOUNCE_SECONDS = 0.5
# The tabs an editor restores at start-up open within milliseconds of each other.
OPEN_DEBOUNCE_SECONDS = 0.2
# While Docker or the image is missing, look again at most this often.
RECHECK_SECONDS = 60.0

Reason = Literal["open", "save", "command"]
_ALLOWED: dict[str, frozenset[Reason]] = {
    "onOpenAndSave": frozenset({"open", "save", "command"}),
    "onSave": frozenset({"save", "command"}),
    "off": frozenset({"command"}),
}


@dataclass
class _Request:
    path: Path
    reason: Reason


@dataclass
class _ProjectRuns:
    """The runs of one project. `generation` counts requests: a run that ends with a
    different generation was superseded (cancelled), and its result is dropped."""

    root: Path
    pending: dict[str, _Request] = field(default_factory=dict)
    generation: int = 0
    timer: asyncio.TimerHandle | None = None
    task: asyncio.Task[None] | None = None
    waiters: list[asyncio.Future[TestRun | None]] = field(default_factory=list)
    running: Cancellation | None = None  # stops the run in the sandbox now

    def supersede(self) -> None:
        self.generation += 1
        if self.running is not None:
            self.running.cancel()

    def settle(self, run: TestRun | None) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(run)
        self.waiters.clear()

    def stop(self) -> None:
        """Forget what is queued and cancel the run in progress."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.pending.clear()
        self.supersede()
        self.settle(None)


class TestDiagnostics(Feature):
    """Test findings per document, and the runs that produce them."""

    def __init__(self, server: FixloopServer) -> None:
        self._server = server
        self._findings: dict[str, tuple[TestFinding, ...]] = {}
        self._opened: set[str] = set()  # the first open of a file runs its tests, once
        self._projects: dict[Path, _ProjectRuns] = {}
        self._unavailable: dict[SandboxConfig, tuple[str, float]] = {}
        self._said: set[str] = set()  # problems shown once per session
        self._asked: set[Path] = set()  # untrusted roots whose tests the user asked to run
        self._held: set[str] = set()  # opened or saved untrusted: run once trusted
        # No run starts before the settings have loaded: files opened at start-up arrive
        # before them, and the settings may say `off`.
        self._settings_loaded = False

    # --- what the document events ask for ---------------------------------------------

    def opened(self, opened: OpenDocument) -> None:
        if opened.uri not in self._opened:
            self._opened.add(opened.uri)
            self.request(opened.uri, "open", OPEN_DEBOUNCE_SECONDS)

    def closed(self, opened: OpenDocument) -> None:
        """Its findings go (a run while it is closed does not keep them either), and its
        queued request; opened again, its tests run again."""
        uri = opened.uri
        self._findings.pop(uri, None)
        self._opened.discard(uri)
        self._held.discard(uri)
        for runs in self._projects.values():
            runs.pending.pop(uri, None)

    def holds(self, uri: str) -> bool:
        queued = any(uri in runs.pending for runs in self._projects.values())
        return queued or any(uri in kept for kept in (self._findings, self._opened, self._held))

    def shutdown(self) -> None:
        self.stop_all()

    def saved(self, uri: str) -> None:
        self.request(uri, "save")

    def request(
        self, uri: str, reason: Reason, delay: float = DEBOUNCE_SECONDS
    ) -> _ProjectRuns | None:
        """Queue a run of the file's tests; None when the file has none to run."""
        target = self._target(uri)
        if target is None:
            return None
        root, path = target
        if reason == "command":
            self._asked.add(root)  # the user's word for this project's code to run
        if not self._allows(uri, reason):
            return None  # checked again when the run starts: settings may load meanwhile
        runs = self._projects.setdefault(root, _ProjectRuns(root))
        runs.pending[uri] = _Request(path, reason)
        runs.supersede()
        if runs.timer is not None:
            runs.timer.cancel()
        runs.timer = asyncio.get_running_loop().call_later(delay, self._start, runs)
        return runs

    def settings_changed(self) -> None:
        """Settings reloaded: queued runs follow the new `tests.run`; a project whose tests
        are now off stops, and its test diagnostics go."""
        self._unavailable.clear()  # perhaps a new image or Docker host
        self._settings_loaded = True
        for root, runs in self._projects.items():
            inside = root.as_uri().rstrip("/") + "/"  # a URI inside the folder: its settings
            if self._server.folder_settings.for_uri(inside).tests.run == "off":
                runs.stop()
            elif runs.pending and runs.timer is None:
                self._start(runs)  # held until now
        for uri in list(self._findings):
            if self._server.folder_settings.for_uri(uri).tests.run == "off":
                del self._findings[uri]
        for uri in [u for u in self._held if self._server.folder_settings.trusted(u)]:
            self._held.discard(uri)  # trusted since: its tests run now
            if self._server.documents.get(uri) is not None:
                self.request(uri, "open", OPEN_DEBOUNCE_SECONDS)

    def _reload_settings(self) -> None:
        if self._server.jobs.get(("settings",)) is None:
            self._server.jobs.start(("settings",), refresh(self._server))

    def why_waiting(self, uri: str) -> str | None:
        """Why the loop cannot run the tests of `uri` on its own: its folder is not trusted
        and the user has not asked for its tests yet (None: it may run)."""
        root = self._root_of(uri)
        folders = self._server.folder_settings
        if root is None or root in self._asked or folders.trusted(uri):
            return None
        if not self._settings_loaded and folders.workspace_trusted is None:
            return None  # not known yet (`fixloop trust`): the command looks again
        return (
            "this workspace is not trusted: fixloop runs its code (the tests, in the sandbox) "
            "only when you ask. Run “fixloop: Run tests now” (fixloop.runTests) first, or "
            f"{self._server.folder_settings.how_to_trust(root)}"
        )

    def stop_all(self) -> None:
        for runs in self._projects.values():
            runs.stop()

    # --- what the publisher shows -----------------------------------------------------

    def diagnostics(self, opened: OpenDocument) -> list[types.Diagnostic]:
        findings = self._findings.get(opened.uri, ())
        return [self._diagnostic(opened.source, finding) for finding in findings]

    def _diagnostic(self, source: SourceText, finding: TestFinding) -> types.Diagnostic:
        related = None
        if finding.test_location is not None and finding.test_location[0] != finding.path:
            test_path, test_line = finding.test_location
            line = types.Position(line=test_line - 1, character=0)
            related = [
                types.DiagnosticRelatedInformation(
                    location=types.Location(
                        uri=from_fs_path(str(test_path)) or test_path.as_uri(),
                        range=types.Range(start=line, end=line),
                    ),
                    message=f"{finding.test_id} failed here",
                )
            ]
        return types.Diagnostic(
            range=self._line_range(source, finding.line),
            message=finding.message,
            severity=types.DiagnosticSeverity.Error,
            code=CODE,
            source=SOURCE,
            related_information=related,
            data={"testId": finding.test_id, "placement": finding.placement.value},
        )

    def _line_range(self, source: SourceText, line: int) -> types.Range:
        """The text of a 1-based line, without its indentation (the last line if the file
        has become shorter since the run)."""
        index = max(0, min(line - 1, len(source.line_starts) - 1))
        text = source.line_bytes(index)
        start = source.line_starts[index] + len(text) - len(text.lstrip())
        end = source.line_starts[index] + len(text)
        encoding = self._server.encoding
        first, last = source.position_at(start, encoding), source.position_at(end, encoding)
        return types.Range(
            start=types.Position(line=first.line, character=first.column),
            end=types.Position(line=last.line, character=last.column),
        )

    # --- running ----------------------------------------------------------------------

    def _root_of(self, uri: str) -> Path | None:
        """The innermost workspace folder holding `uri` (by resolved path)."""
        return innermost_folder(uri, workspace_folders(self._server))

    def _target(self, uri: str) -> tuple[Path, Path] | None:
        """The project root and file of a document whose tests can run."""
        from fixloop.failures.related import runs_for
        from fixloop.sandbox.errors import CommandRefused

        path = to_fs_path(uri)
        root = self._root_of(uri)
        if path is None or root is None:
            return None
        command = self._command(Path(root), uri)
        if command is None:
            return None
        try:
            return (Path(root), Path(path)) if runs_for(Path(path), command) else None
        except CommandRefused as error:
            self._say_once(str(error))
            return None

    def _command(self, root: Path, uri: str) -> str | None:
        settings = self._server.folder_settings.for_uri(uri)
        return self._server.test_command(root, settings.tests.command)

    def _start(self, runs: _ProjectRuns) -> None:
        runs.timer = None
        if runs.task is None and self._settings_loaded:
            runs.task = self._server.jobs.start(("tests", runs.root), self._drain(runs))

    async def _drain(self, runs: _ProjectRuns) -> None:
        """Run until nothing is queued; a new request cancels the run in progress, whose
        files it then covers."""
        try:
            while runs.pending and runs.timer is None:
                batch = self._allowed(runs.pending)
                runs.pending = {}
                if not batch:
                    continue
                generation = runs.generation
                run = await self._run(runs, batch)
                if runs.generation != generation:
                    if runs.pending:  # superseded: the newer run covers these files too
                        runs.pending = {**batch, **runs.pending}
                    continue
                self._conclude(runs.root, batch, run)
                runs.settle(run)
        except Exception:
            logger.exception("test run failed")
            send_status(self._server, "idle", "the tests could not run", background=True)
            runs.settle(None)
        finally:
            runs.task = None

    def _allowed(self, pending: dict[str, _Request]) -> dict[str, _Request]:
        """The requests the settings allow now (settings may have loaded since)."""
        return {uri: r for uri, r in pending.items() if self._allows(uri, r.reason)}

    def _allows(self, uri: str, reason: Reason) -> bool:
        folders = self._server.folder_settings
        if reason != "command" and self._settings_loaded and not folders.trusted(uri):
            self._held.add(uri)
            if folders.trust_store_changed():  # `fixloop trust` since: read the settings again
                self._reload_settings()
            else:
                self._say_untrusted(uri)
            return False
        trigger = folders.for_uri(uri).tests.run
        return reason in _ALLOWED.get(trigger, _ALLOWED["onOpenAndSave"])

    async def _run(self, runs: _ProjectRuns, batch: dict[str, _Request]) -> TestRun | None:
        from fixloop.failures import run_tests
        from fixloop.sandbox.cancellation import Cancellation
        from fixloop.sandbox.errors import CommandRefused, SandboxError

        root = runs.root
        first = next(iter(batch))
        settings = self._server.folder_settings.for_uri(first)
        config = settings.sandbox
        command = self._command(root, first)
        if command is None or self._known_unavailable(config):
            return None
        names = ", ".join(sorted(request.path.name for request in batch.values()))
        send_status(self._server, "testing", f"running the tests of {names}", background=True)
        sources = [request.path for request in batch.values()]
        others = list(self._other_open_files(root, batch).values())
        runs.running = Cancellation()
        try:
            pool = self._server.sandbox_pool(config)
            run = await asyncio.to_thread(
                run_tests, pool, root, sources, command, also=others, cancel=runs.running
            )
        except CommandRefused as error:
            self._say_once(str(error))
            send_status(self._server, "idle", str(error), background=True)
            return None
        except SandboxError as error:
            self._unavailable[config] = (str(error), time.monotonic() + RECHECK_SECONDS)
            self._say_once(f"failing tests cannot be shown: {error}")
            # The loop's actions learn it too (and send the `unavailable` status).
            self._server.availability.found_unavailable(config, str(error))
            return None
        finally:
            runs.running = None
        self._server.availability.found_available(config)
        send_status(self._server, "idle", f"tests: {run.summary()}", background=True)
        return run

    def _known_unavailable(self, config: SandboxConfig) -> bool:
        known = self._unavailable.get(config)
        if known is None:
            return False
        if time.monotonic() > known[1]:
            del self._unavailable[config]
            return False
        return True

    def _other_open_files(self, root: Path, batch: dict[str, _Request]) -> dict[str, Path]:
        """Open files of the project that the run may also speak for."""
        others = {}
        for opened in self._server.documents:
            path = to_fs_path(opened.uri)
            if path is not None and opened.uri not in batch and Path(path).is_relative_to(root):
                others[opened.uri] = Path(path)
        return others

    def _conclude(self, root: Path, batch: dict[str, _Request], run: TestRun | None) -> None:
        if run is None or not run.conclusive:
            return  # the tests said nothing: the findings shown stay
        paths = {uri: request.path for uri, request in batch.items()}
        paths.update(self._other_open_files(root, batch))
        for uri, path in paths.items():
            findings = run.findings.get(path.resolve())
            if findings is None:
                continue  # the run did not cover this file's tests
            if self._server.documents.get(uri) is None:
                continue  # closed meanwhile: nothing is kept for it
            if findings or uri in self._findings:
                self._findings[uri] = findings
                if self._server.documents.get(uri) is not None:
                    self._server.diagnostics.publish(uri)
            if findings:  # a fix seen before for these failures, verified in the background
                self._server.remembered.failures_known(uri, run)

    def _say_untrusted(self, uri: str) -> None:
        root = self._root_of(uri)
        if root is None or root in self._asked:
            return
        self._say_once(
            f"{root} is not trusted: its tests (its code, in the sandbox) run only when you ask "
            "— “fixloop: Run tests now” (fixloop.runTests). To run them on open and save, "
            f"{self._server.folder_settings.how_to_trust(root)}"
        )

    def _say_once(self, message: str) -> None:
        if message in self._said:
            return
        self._said.add(message)
        self._server.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=f"fixloop: {message}")
        )

    # --- the command ------------------------------------------------------------------

    async def run_now(self, uris: Iterable[str]) -> dict[str, Any]:
        """Run the tests of these documents at once; the summary of each project's run."""
        waiting: list[asyncio.Future[TestRun | None]] = []
        for uri in uris:
            project = self.request(uri, "command", delay=0.0)
            if project is not None:
                waiter = asyncio.get_running_loop().create_future()
                project.waiters.append(waiter)
                waiting.append(waiter)
        if not waiting:
            return {"status": "no-tests", "message": "no test command for these files"}
        runs = [run for run in await asyncio.gather(*waiting) if run is not None]
        if not runs:
            return {"status": "not-run", "message": "the tests did not run"}
        passed = all(run.result.passed for run in runs)
        return {
            "status": "passed" if passed else "failed",
            "message": "; ".join(run.summary() for run in runs),
        }


@dataclass(frozen=True)
class RunTestsArguments:
    uri: Text | None = None  # else every open document


async def run_tests_command(ls: FixloopServer, arguments: RunTestsArguments) -> dict[str, Any]:
    """Run the tests of one document (or of every open one) now."""
    uri = arguments.uri
    uris = [uri] if uri else [opened.uri for opened in ls.documents]
    return await ls.test_diagnostics.run_now(uris)
