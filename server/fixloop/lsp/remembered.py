""" "Apply fix seen before (…)": a fix memory remembers for a similar failure, re-applied
to the current code and verified by the tests in the sandbox before it is offered.

Nothing of this runs inside `codeAction`. When failures become known for a document (a
test run found some, or a `fixloop-tests` diagnostic is in a code action request and
nothing is known yet), a background job checks memory's suggestion with the loop's own
verification (loop/reuse.py): baseline, memory's suggestion re-applied, the failing tests
then the whole suite. The
baseline is the test run that found the failures when it ran on the document's text (the
file as saved): memory is asked before any sandbox work, and a save whose failures memory
knows nothing like costs one test run, not two. Each sandbox run of the job is said in
the client's log. A verified result is cached for that version of the document;
`codeAction` only looks it up. Choosing it applies a versioned edit, then the client runs
`fixloop.rememberedApplied`, which writes the verified re-application to memory and
starts watching the user's verdict. A suggestion never chosen writes nothing that counts
for it (a re-application that failed the tests does count against the remembered fix: it
did not work here).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from fixloop.lsp.arguments import Text
from fixloop.lsp.edits import minimal_edit, workspace_edit
from fixloop.lsp.feature import Feature

if TYPE_CHECKING:
    from fixloop.config import Settings
    from fixloop.failures import TestRun
    from fixloop.loop.reuse import ReuseCheck
    from fixloop.loop.verify import GivenBaseline
    from fixloop.lsp.documents import OpenDocument
    from fixloop.lsp.server import FixloopServer
    from fixloop.memory.records import AttemptRecord
    from fixloop.memory.store import MemoryStore
    from fixloop.sandbox import SandboxPool
    from fixloop.sandbox.results import CandidateResult

logger = logging.getLogger(__name__)

COMMAND_APPLIED = "fixloop.rememberedApplied"


@dataclass(frozen=True)
class Offer:
    """A remembered fix verified on one version of a document."""

    id: str
    uri: str
    version: int | None
    base: bytes  # the document's text it applies to (the file as saved then)
    fixed: str  # the document's text with the fix
    title: str  # what memory says of it: uses and acceptance
    tests: str  # the verifying run's summary
    record: AttemptRecord  # the verified re-application: written to memory when chosen
    store: MemoryStore


@dataclass(frozen=True)
class _SavedRun:
    """The test run that found a document's failures, and the document when it did."""

    run: TestRun
    version: int | None
    text: bytes


@dataclass(frozen=True)
class _Subject:
    """A document to look for a remembered fix for: saved, in a project with tests."""

    root: Path
    relative: str  # the file, relative to the root (POSIX)
    name: str
    text: bytes  # the document's text, which is the file as saved
    command: str
    settings: Settings
    store: MemoryStore


class RememberedFixes(Feature):
    def __init__(self, server: FixloopServer) -> None:
        self._server = server
        self._offers: dict[str, Offer] = {}
        # (uri, version) already looked at: one background job per version of a document.
        self._looked: dict[str, int | None] = {}
        # The last run that found each document's failures: the look's baseline.
        self._runs: dict[str, _SavedRun] = {}

    def offer_for(self, opened: OpenDocument) -> Offer | None:
        """The verified offer for the document as it is now (instant: a lookup)."""
        offer = self._offers.get(opened.uri)
        if offer is None or offer.version != opened.version or offer.base != opened.source.data:
            return None
        return offer

    def failures_known(self, uri: str, run: TestRun | None = None) -> None:
        """Tests of this document failed (a test run, a session): look in memory now. The
        `run` that found them is the look's baseline while the document is its text."""
        self._runs.pop(uri, None)
        opened = self._server.documents.get(uri)
        if run is not None and run.conclusive and opened is not None:
            self._runs[uri] = _SavedRun(run, opened.version, opened.source.data)
        self._looked.pop(uri, None)
        self.wanted(uri)

    def wanted(self, uri: str) -> None:
        """Look for a remembered fix in the background, once per document version."""
        opened = self._server.documents.get(uri)
        if opened is None or self._looked.get(uri, -1) == opened.version:
            return
        if opened.language.name != "python":
            return
        self._looked[uri] = opened.version
        # A job per document: an older version's look (its answer would be thrown away
        # anyway) is cancelled.
        self._server.jobs.start(("remembered", uri), self._look(uri, opened.version))

    def closed(self, opened: OpenDocument) -> None:
        self.forget(opened.uri)

    def holds(self, uri: str) -> bool:
        job = self._server.jobs.get(("remembered", uri))
        looking = job is not None and not job.cancelled
        return looking or any(uri in kept for kept in (self._offers, self._looked, self._runs))

    def forget(self, uri: str) -> None:
        self._offers.pop(uri, None)
        self._looked.pop(uri, None)
        self._runs.pop(uri, None)
        self._server.jobs.cancel(("remembered", uri))

    def taken(self, offer_id: str) -> Offer | None:
        for uri, offer in list(self._offers.items()):
            if offer.id == offer_id:
                del self._offers[uri]
                return offer
        return None

    async def _look(self, uri: str, version: int | None) -> None:
        subject = self._subject(uri)
        if subject is None:
            return
        given = self._baseline(uri, version, subject.text, subject.command)
        pool = self._server.sandbox_pool(subject.settings.sandbox)
        tester = _SaidRuns(pool, self._say_soon(subject.name))
        check = _check(subject, tester, given)
        try:
            found = await asyncio.to_thread(check.run)
        except asyncio.CancelledError:
            check.cancel()  # a newer version's job takes over: this one starts no more runs
            raise
        except Exception as error:  # a background look must never bother the user
            logger.info("no remembered fix for %s: %s", uri, error)
            return
        current = self._server.documents.get(uri)
        if current is None or current.version != version:
            return  # an answer for a version no longer shown
        runs = f"{tester.runs} test run{'s' if tester.runs != 1 else ''} in the sandbox"
        if found is None or subject.relative not in found.changes:
            self._say(f"no fix seen before for {subject.name} ({runs})")
            return
        self._offers[uri] = Offer(
            id=uuid.uuid4().hex,
            uri=uri,
            version=version,
            base=subject.text,
            fixed=found.changes[subject.relative],
            title=found.suggestion.title,
            tests=found.final.summary(),
            record=found.record,
            store=subject.store,
        )
        logger.info("%s: %s verified (%s)", uri, found.suggestion.title, found.final.summary())
        self._say(f"a fix seen before for {subject.name} passed the tests ({runs})")

    def _subject(self, uri: str) -> _Subject | None:
        """What a look needs of the document, or None when it cannot look: no project or
        test command, memory off, the loop unavailable, or unsaved text."""
        from fixloop.lsp.fix_command import project_root, why_tests_cannot_run

        ls = self._server
        opened = ls.documents.get(uri)
        root = project_root(ls, uri)
        path = to_fs_path(uri)
        # Unsaved text too: the tests would run on other text than the editor shows.
        if why_tests_cannot_run(opened, root, path) or ls.test_diagnostics.why_waiting(uri):
            return None
        assert opened is not None and root is not None and path is not None
        settings = ls.folder_settings.for_uri(uri)
        command = ls.test_command(root, settings.tests.command)
        store = ls.memory.store_for(settings)
        if command is None or store is None or ls.availability.problem(settings) is not None:
            return None
        try:
            relative = Path(path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return None
        text = opened.source.data
        return _Subject(root, relative, Path(path).name, text, command, settings, store)

    def _baseline(
        self, uri: str, version: int | None, text: bytes, command: str
    ) -> GivenBaseline | None:
        """The run that found the failures, when it ran on this text (the file as saved:
        the caller checked the disk) with this project's test command."""
        from fixloop.loop.verify import GivenBaseline

        saved = self._runs.get(uri)
        if saved is None or saved.version != version or saved.text != text:
            return None
        given = GivenBaseline(saved.run.result, saved.run.selection.command)
        return given if given.is_of(command) else None

    def _say(self, message: str) -> None:
        """A line in the client's log: what the job did, with its sandbox runs."""
        self._server.window_log_message(
            types.LogMessageParams(type=types.MessageType.Log, message=f"fixloop: {message}")
        )

    def _say_soon(self, name: str) -> Callable[[str, bool], None]:
        """What `_SaidRuns` says, from the session's threads: handed to the event loop."""
        loop = asyncio.get_running_loop()

        def say(command: str, as_it_is: bool) -> None:
            code = "the code as it is" if as_it_is else "the fix seen before"
            text = f"checking a fix seen before for {name}: `{command}` on {code} in the sandbox"
            loop.call_soon_threadsafe(self._say, text)

        return say

    def action(
        self, opened: OpenDocument, diagnostics: list[types.Diagnostic]
    ) -> types.CodeAction | None:
        offer = self.offer_for(opened)
        if offer is None:
            return None
        ls = self._server
        edit = minimal_edit(opened.source, offer.fixed, ls.encoding)
        return types.CodeAction(
            title=offer.title,
            kind=types.CodeActionKind.QuickFix,
            diagnostics=diagnostics or None,
            edit=workspace_edit(ls, opened.uri, opened.version, [edit]),
            command=types.Command(
                title=offer.title, command=COMMAND_APPLIED, arguments=[opened.uri, offer.id]
            ),
            is_preferred=False,
        )


class _SaidRuns:
    """The sandbox, each run said first (`say` gets its command and whether it runs the
    code as it is): the job's runs are visible in the client's log."""

    def __init__(self, pool: SandboxPool, say: Callable[[str, bool], None]) -> None:
        self._pool = pool
        self._say = say
        self._lock = threading.Lock()  # candidates run in parallel
        self.runs = 0

    def run(
        self,
        project_root: Path | str,
        changes: Mapping[str, str],
        command: str,
        **options: Any,
    ) -> CandidateResult:
        with self._lock:
            self.runs += 1
        self._say(command, not changes)
        return self._pool.run(project_root, changes, command, **options)


def _check(subject: _Subject, tester: _SaidRuns, given: GivenBaseline | None) -> ReuseCheck:
    """Memory's suggestion checked by the tests; its verified attempt is kept back, to be
    written only when the user takes the fix."""
    from fixloop.loop.recall import SessionMemory
    from fixloop.loop.reuse import ReuseCheck

    return ReuseCheck(
        subject.root,
        subject.relative,
        subject.command,
        tester,
        SessionMemory(subject.store, hold_verified=True),
        parallel=subject.settings.sandbox.parallel,
        test_timeout=subject.settings.loop.test_timeout,
        given=given,
    )


@dataclass(frozen=True)
class AppliedArguments:
    uri: Text
    offer: Text  # the offer's id


async def remembered_applied(ls: FixloopServer, arguments: AppliedArguments) -> dict[str, Any]:
    """The editor applied a remembered fix: remember the use, watch the verdict."""
    offer = ls.remembered.taken(arguments.offer)
    opened = ls.documents.get(arguments.uri)
    if offer is None or opened is None:
        return {"status": "unknown", "message": "no such offer (the document changed?)"}
    await asyncio.to_thread(offer.store.record_attempt, offer.record)
    ls.verdicts.watch(opened, offer.record.id, offer.store, offer.base, offer.fixed.encode())
    ls.window_show_message(
        types.ShowMessageParams(
            type=types.MessageType.Info,
            message=f"fixloop: applied a fix seen before · verified: {offer.tests}",
        )
    )
    return {"status": "applied", "record": offer.record.id}
