"""The lifecycle every feature of the server follows (as esbonio's `Feature`): text_sync
forwards each document event to every feature, the settings refresh and `shutdown` call
theirs. A feature owns its per-document state and drops it in `closed`; a new feature
is one more entry in `FixloopServer.features`, not an edit of text_sync and the refresh."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fixloop.lsp.documents import OpenDocument


class Feature:
    """Hooks with nothing to do by default: a feature overrides those it needs."""

    def opened(self, opened: OpenDocument) -> None:
        """The editor opened a document fixloop analyses (it is in `documents` now)."""

    def changed(self, opened: OpenDocument) -> None:
        """Changes to the document were queued (applied at the next flush)."""

    def saved(self, uri: str) -> None:
        """The editor saved the document."""

    def closed(self, opened: OpenDocument) -> None:
        """The editor closed the document (its queued changes applied; it leaves
        `documents` right after): forget everything kept about it."""

    def settings_changed(self) -> None:
        """Every folder's settings were loaded again."""

    def shutdown(self) -> None:
        """The client asked the server to shut down: end what is under way."""

    def holds(self, uri: str) -> bool:
        """Whether anything about the document is kept (none after `closed`)."""
        return False
