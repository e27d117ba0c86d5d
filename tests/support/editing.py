"""Helpers for end-to-end tests: open documents, edit them, wait for diagnostics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient


def open_document(
    client: LanguageClient, uri: str, text: str, language_id: str = "python", version: int = 1
) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language_id, version=version, text=text
            )
        )
    )


def change_document(
    client: LanguageClient,
    uri: str,
    version: int,
    start: tuple[int, int],
    end: tuple[int, int],
    text: str,
) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=start[0], character=start[1]),
                        end=types.Position(line=end[0], character=end[1]),
                    ),
                    text=text,
                )
            ],
        )
    )


def replace_document(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def diagnostics_for(
    client: LanguageClient, uri: str, version: int | None = None, timeout: float = 10.0
) -> list[types.Diagnostic]:
    """Wait until diagnostics for `uri` (at `version`, when given) have been published."""

    async def published() -> list[types.Diagnostic]:
        while True:
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if uri in client.diagnostics and (
                version is None or _versions(client).get(uri) == version
            ):
                return list(client.diagnostics[uri])

    if uri in client.diagnostics and version is not None and _versions(client).get(uri) == version:
        return list(client.diagnostics[uri])
    return await asyncio.wait_for(published(), timeout)


def shown_test_failures(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    """The failing tests the server shows on a document (source `fixloop-tests`)."""
    return [d for d in client.diagnostics.get(uri, []) if d.source == "fixloop-tests"]


def _versions(client: LanguageClient) -> dict[str, int | None]:
    return getattr(client, "versions", {})


def apply_text_edits(text: str, edits: Sequence[types.TextEdit]) -> str:
    """Apply LSP text edits (UTF-16 positions) to `text`, as an editor would."""
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        before = sum(len(line) + 1 for line in lines[: position.line])
        line = lines[position.line] if position.line < len(lines) else ""
        units = 0
        for index, char in enumerate(line):
            if units >= position.character:
                return before + index
            units += 2 if ord(char) > 0xFFFF else 1
        return before + len(line)

    for edit in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        start, end = offset(edit.range.start), offset(edit.range.end)
        text = text[:start] + edit.new_text + text[end:]
        lines = text.split("\n")
    return text


async def wait_until(
    client: LanguageClient, condition: Callable[[], bool], timeout: float = 10.0
) -> None:
    """Wait for server messages until `condition()` holds (checked after each one)."""

    async def satisfied() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(satisfied(), timeout)


def push_settings(client: LanguageClient, settings: dict[str, Any]) -> None:
    """Change the `fixloop` settings as an editor does: VS Code answers the server's
    workspace/configuration request, Neovim 0.7 sends them with the notification."""
    client.set_configuration(settings, section="fixloop")
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"fixloop": settings})
    )
