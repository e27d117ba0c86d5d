""" "Show fix report": the last fix session (or a named one) written as a self-contained page
and a text report in the data folder; the page is opened through `window/showDocument`
(external: a browser) where the client can, else the server says where the text is, and the
command's result carries the text for clients that show it themselves."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from fixloop.lsp.arguments import Text

if TYPE_CHECKING:
    from fixloop.lsp.server import FixloopServer

COMMAND_SHOW_REPORT = "fixloop.showReport"
TITLE = "Show fix report"


def report_action() -> types.CodeAction:
    """Offered once a session ran in this server: a command, nothing computed."""
    return types.CodeAction(
        title=TITLE,
        kind=types.CodeActionKind.Source,
        command=types.Command(title=TITLE, command=COMMAND_SHOW_REPORT, arguments=[]),
        is_preferred=False,
    )


def write_reports(reference: str) -> tuple[str, Path, Path, str]:
    """(session id, page, text file, text) of the session `reference` names (`last`, an id
    or its start); blocking file work, run in a thread."""
    from fixloop.sessions.history import find_session, read_events
    from fixloop.sessions.log import default_data_dir, sessions_dir
    from fixloop.sessions.report import html_report, text_report

    log = find_session(sessions_dir(), reference)
    events = read_events(log)
    folder = default_data_dir() / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    text = text_report(log.stem, events)
    page = folder / f"{log.stem}.html"
    page.write_text(html_report(log.stem, events), encoding="utf-8")
    plain = folder / f"{log.stem}.txt"
    plain.write_text(text, encoding="utf-8")
    return log.stem, page, plain, text


@dataclass(frozen=True)
class ReportArguments:
    session: Text | None = None  # an id or its start; else this server's last session


async def show_report(ls: FixloopServer, arguments: ReportArguments) -> dict[str, Any]:
    """Open the report of the session given, else of this server's last session."""
    from fixloop.sessions.history import SessionNotFound

    reference = arguments.session or ls.last_session_id or "last"
    try:
        session_id, page, plain, text = await asyncio.to_thread(write_reports, reference)
    except (SessionNotFound, OSError) as error:
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=f"fixloop: {error}")
        )
        return {"status": "not-found", "message": str(error)}
    shown = await _show(ls, page)
    if not shown:
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Info, message=f"fixloop: report written to {plain}"
            )
        )
    return {
        "status": "ok",
        "sessionId": session_id,
        "html": page.as_uri(),
        "text": plain.as_uri(),
        "report": text,
        "shown": shown,
    }


async def _show(ls: FixloopServer, page: Path) -> bool:
    """The page, in a browser, where the client can show documents."""
    capabilities = ls.client_capabilities.window if ls.client_capabilities else None
    if not (capabilities and capabilities.show_document and capabilities.show_document.support):
        return False
    result = await ls.window_show_document_async(
        types.ShowDocumentParams(uri=page.as_uri(), external=True, take_focus=True)
    )
    return bool(result and result.success)
