"""The verdict state machine, in process: what the user did with an applied fix (kept,
reverted, or neither) as the document's versions go by. The end-to-end test with the real
editor protocol and memory is tests/e2e/test_editor_learning.py; here each transition is
driven one version at a time, and the verdicts memory would get are noted."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fixloop.analysis.files import Screened
from fixloop.analysis.languages import language_for
from fixloop.analysis.source import SourceText
from fixloop.lsp.documents import OpenDocument
from fixloop.lsp.verdicts import KEEP_AFTER_EDITS, VerdictWatcher

URI = "file:///project/calc.py"
BEFORE = b"def last(xs):\n    return xs[len(xs)]\n"
AFTER = b"def last(xs):\n    return xs[len(xs) - 1]\n"


@dataclass
class _Memory:
    """Where verdicts go (`MemoryStore.record_verdict`'s signature), noted in order."""

    verdicts: list[tuple[str, str]] = field(default_factory=list)

    def record_verdict(self, record_id: str, verdict: Any) -> bool:
        self.verdicts.append((record_id, str(verdict.value)))
        return True


@dataclass
class _Server:
    """What the watcher uses of the server: its open documents and the client's log."""

    documents: dict[str, OpenDocument] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def flush(self, opened: OpenDocument) -> None:
        """Changes are applied as each version is made here."""

    def window_log_message(self, params: Any) -> None:
        self.log.append(params.message)


class _Editor:
    """One document and the watcher, moved a version at a time."""

    def __init__(self) -> None:
        self.server = _Server()
        self.memory = _Memory()
        self.watcher = VerdictWatcher(self.server)  # type: ignore[arg-type]
        self.version = 1
        self.document = self._at(BEFORE)

    def _at(self, text: bytes) -> OpenDocument:
        language = language_for("/project/calc.py", "python")
        assert language is not None
        opened = OpenDocument(URI, language, self.version, None, Screened(True), SourceText(text))
        self.server.documents[URI] = opened
        return opened

    def applied(self) -> None:
        """The editor took the fix: its edit is the next version."""
        self.watcher.watch(self.document, "record-1", self.memory, BEFORE, AFTER)  # type: ignore[arg-type]
        self.type(AFTER)

    def type(self, text: bytes) -> None:
        self.version += 1
        self.document = self._at(text)
        self.watcher.observe(self.document)

    def save(self) -> None:
        self.watcher.saved(URI)

    def close(self) -> None:
        del self.server.documents[URI]
        self.watcher.closed(self.document)

    async def verdicts(self) -> list[str]:
        """What memory got, once the writes (on the watcher's thread) are done."""
        await asyncio.gather(*list(self.watcher._tasks))
        return [verdict for _, verdict in self.memory.verdicts]


def _run(story: Callable[[_Editor], Awaitable[None]]) -> None:
    async def main() -> None:
        editor = _Editor()
        try:
            await story(editor)
        finally:
            editor.watcher._writer.shutdown(wait=True)

    asyncio.run(main())


def test_a_save_with_the_fix_in_place_keeps_it() -> None:
    async def story(editor: _Editor) -> None:
        editor.applied()
        editor.type(AFTER + b"\nprint(last([1]))\n")
        editor.save()
        assert await editor.verdicts() == ["accepted"]
        assert editor.watcher.holds(URI)  # an undo right after the save still counts

    _run(story)


def test_an_undo_after_the_save_is_a_revert_that_replaces_it() -> None:
    async def story(editor: _Editor) -> None:
        editor.applied()
        editor.save()
        editor.type(BEFORE)
        assert await editor.verdicts() == ["accepted", "reverted"]
        assert not editor.watcher.holds(URI)

    _run(story)


def test_the_old_text_typed_back_within_the_window_is_a_revert() -> None:
    async def story(editor: _Editor) -> None:
        editor.applied()
        for extra in range(3):
            editor.type(AFTER + b"#" * extra)
        editor.type(BEFORE)
        assert await editor.verdicts() == ["reverted"]

    _run(story)


def test_enough_changes_with_the_fix_still_there_keep_it() -> None:
    async def story(editor: _Editor) -> None:
        editor.applied()
        for extra in range(1, KEEP_AFTER_EDITS):
            editor.type(AFTER + b"#" * extra)
        assert await editor.verdicts() == []  # not yet: one change short of the window
        editor.type(AFTER + b"# done\n")
        assert await editor.verdicts() == ["accepted"]
        assert not editor.watcher.holds(URI)

    _run(story)


def test_a_fix_rewritten_into_something_else_gets_no_verdict() -> None:
    async def story(editor: _Editor) -> None:
        editor.applied()
        editor.type(AFTER.replace(b"len(xs) - 1", b"-1"))  # the user's own fix instead
        editor.save()
        editor.close()
        assert await editor.verdicts() == []

    _run(story)


def test_an_edit_the_editor_never_applied_is_forgotten_without_a_verdict() -> None:
    async def story(editor: _Editor) -> None:
        editor.watcher.watch(editor.document, "record-1", editor.memory, BEFORE, AFTER)  # type: ignore[arg-type]
        for extra in range(6):  # the fixed text never shows
            editor.type(BEFORE + b"#" * (extra + 1))
        assert not editor.watcher.holds(URI)
        editor.type(AFTER)  # too late: not watched any more
        editor.save()
        assert await editor.verdicts() == []

    _run(story)


def test_closing_with_the_fix_in_place_keeps_it() -> None:
    async def story(editor: _Editor) -> None:
        editor.applied()
        editor.close()
        assert await editor.verdicts() == ["accepted"]
        assert editor.server.log == ["fixloop: the fix record-1 in " + URI + " was accepted"]

    _run(story)


def test_shutdown_keeps_the_fixes_still_in_place_and_waits_for_the_write() -> None:
    async def story(editor: _Editor) -> None:
        editor.applied()
        editor.watcher.shutdown()
        assert [verdict for _, verdict in editor.memory.verdicts] == ["accepted"]  # written
        assert not editor.watcher.holds(URI)

    _run(story)


def test_a_second_fix_in_the_same_document_concludes_the_first() -> None:
    async def story(editor: _Editor) -> None:
        editor.applied()
        second = AFTER + b"\n\ndef first(xs):\n    return xs[0]\n"
        editor.watcher.watch(editor.document, "record-2", editor.memory, AFTER, second)  # type: ignore[arg-type]
        editor.type(second)
        editor.save()
        await editor.verdicts()
        assert editor.memory.verdicts == [("record-1", "accepted"), ("record-2", "accepted")]

    _run(story)
