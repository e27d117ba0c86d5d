"""Diagnostics as an editor sees them: open, type, fix, configure."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.support.editing import (
    change_document,
    diagnostics_for,
    open_document,
    replace_document,
    wait_until,
)


async def test_syntax_error_is_reported_and_clears_when_fixed(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "app.py").as_uri()
    open_document(client, uri, "def area(w, h:\n    return w * h\n", version=1)
    diagnostics = await diagnostics_for(client, uri, version=1)
    assert [(d.code, d.message) for d in diagnostics] == [
        ("FL001", "missing `)`: this `(` is never closed")
    ]
    assert diagnostics[0].range.start.line == 0
    assert diagnostics[0].source == "fixloop"

    change_document(client, uri, 2, (0, 13), (0, 13), ")")
    assert await diagnostics_for(client, uri, version=2) == []


async def test_each_language_gets_syntax_diagnostics(
    client: LanguageClient, workspace: Path
) -> None:
    broken = {
        "web.js": ("javascript", "let s = 'unclosed\n"),
        "types.ts": ("typescript", "let n: number = ;\n"),
        "view.tsx": ("typescriptreact", "const v = <div>{items.map(i => i}</div>;\n"),
    }
    for name, (language_id, text) in broken.items():
        uri = (workspace / name).as_uri()
        open_document(client, uri, text, language_id=language_id)
        diagnostics = await diagnostics_for(client, uri, version=1)
        assert diagnostics, f"no diagnostic for {name}"
        assert all(d.severity == types.DiagnosticSeverity.Error for d in diagnostics)


async def test_unknown_language_is_ignored(client: LanguageClient, workspace: Path) -> None:
    notes = (workspace / "notes.txt").as_uri()
    open_document(client, notes, "def (((", language_id="plaintext")
    code = (workspace / "ok.py").as_uri()
    open_document(client, code, "x = 1\n")
    await diagnostics_for(client, code, version=1)
    assert notes not in client.diagnostics


async def test_positions_count_utf16_units_after_non_ascii_text(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "emoji.py").as_uri()
    # 😀 is two UTF-16 units, é one; the stray `)` sits after them on the same line.
    open_document(client, uri, 'greeting = "😀é" )\n')
    [diagnostic] = await diagnostics_for(client, uri, version=1)
    assert diagnostic.range.start == types.Position(line=0, character=17)
    # An edit placed with UTF-16 columns lands where the editor means it.
    change_document(client, uri, 2, (0, 17), (0, 18), "")
    assert await diagnostics_for(client, uri, version=2) == []


async def test_typing_through_a_burst_of_edits_ends_with_the_right_diagnostics(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "burst.py").as_uri()
    open_document(client, uri, "value = compute(\n")
    await diagnostics_for(client, uri, version=1)
    for version, char in enumerate("1, 2)", start=2):
        change_document(client, uri, version, (0, 14 + version), (0, 14 + version), char)
    assert await diagnostics_for(client, uri, version=6) == []


async def test_out_of_range_edit_keeps_the_server_up_and_a_full_text_resyncs(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "sync.py").as_uri()
    open_document(client, uri, "x = (\n")
    assert await diagnostics_for(client, uri, version=1)
    change_document(client, uri, 2, (40, 0), (41, 0), "y = 2\n")
    assert await diagnostics_for(client, uri, version=2) == []  # nothing said while out of step
    replace_document(client, uri, 3, "x = (1,\n")
    assert await diagnostics_for(client, uri, version=3)
    replace_document(client, uri, 4, "x = (1,)\n")
    assert await diagnostics_for(client, uri, version=4) == []


async def test_closing_a_document_clears_its_diagnostics(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "closing.py").as_uri()
    open_document(client, uri, "x = [\n")
    assert await diagnostics_for(client, uri, version=1)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await wait_until(client, lambda: list(client.diagnostics[uri]) == [])


async def test_reopening_a_file_reports_what_its_text_says(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "reopen.py").as_uri()
    for version, text, broken in [
        (1, "x = [\n", True),
        (2, "x = [\n", True),
        (3, "x = []\n", False),
    ]:
        open_document(client, uri, text, version=version)
        diagnostics = await diagnostics_for(client, uri, version=version)
        assert bool(diagnostics) is broken
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        await wait_until(client, lambda: client.versions.get(uri, 0) is None)
