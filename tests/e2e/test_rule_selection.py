"""Rule selection, suppressions and the nearest settings file in the editor: the same
findings as `fixloop check`, a quick fix that adds the suppression, and settings files
reloaded when they change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.support.client import FixloopTestClient
from tests.support.editing import (
    apply_text_edits,
    open_document,
    replace_document,
    wait_until,
)

RISKY = """import os, subprocess
os.system(cmd)  # fixloop: ignore[FL103]
subprocess.run(c, shell=True)  # fixloop: ignore[FL103, FL1O3]
x = 1  # fixloop: ignore
"""


def _shown(client: LanguageClient, uri: str) -> list[tuple[int, str]]:
    return [(d.range.start.line, str(d.code)) for d in client.diagnostics.get(uri, [])]


async def test_suppressions_used_unused_and_unknown(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "risky.py").as_uri()
    open_document(client, uri, RISKY)
    expected = [(2, "FL102"), (2, "FL006"), (2, "FL007"), (3, "FL006")]
    await wait_until(client, lambda: _shown(client, uri) == expected)
    messages = [d.message for d in client.diagnostics[uri]]
    assert "unknown rule code in suppression: FL1O3" in messages


def _edits(action: types.CodeAction, uri: str) -> list[types.TextEdit]:
    assert action.edit is not None
    if action.edit.document_changes:
        [change] = action.edit.document_changes
        assert isinstance(change, types.TextDocumentEdit)
        return list(change.edits)  # type: ignore[arg-type]
    assert action.edit.changes is not None
    return list(action.edit.changes[uri])


async def _suppress(client: LanguageClient, uri: str, text: str, code: str) -> str:
    """Ask for the actions on the `code` diagnostic, apply "Ignore … on this line"."""
    await wait_until(client, lambda: any(c == code for _, c in _shown(client, uri)))
    [diagnostic] = [d for d in client.diagnostics[uri] if d.code == code]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    [action] = [
        a for a in actions or [] if isinstance(a, types.CodeAction) and a.title.startswith("Ignore")
    ]
    assert action.kind == types.CodeActionKind.QuickFix
    assert action.title == f"Ignore {code} on this line (fixloop: ignore)"
    return apply_text_edits(text, _edits(action, uri))


async def test_a_quick_fix_adds_the_suppression_and_the_finding_goes(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "a.py").as_uri()
    text = "import os\nos.system(c)\nx = 1\n"
    open_document(client, uri, text)
    fixed = await _suppress(client, uri, text, "FL103")
    assert fixed == "import os\nos.system(c)  # fixloop: ignore[FL103]\nx = 1\n"
    replace_document(client, uri, 2, fixed)
    await wait_until(client, lambda: _shown(client, uri) == [])
    # A second code on a line that has a suppression joins it.
    both = "import os\nos.system(c); eval(x)  # fixloop: ignore[FL103]\n"
    replace_document(client, uri, 3, both)
    fixed = await _suppress(client, uri, both, "FL101")
    assert fixed == "import os\nos.system(c); eval(x)  # fixloop: ignore[FL103, FL101]\n"


async def test_an_unused_suppression_is_removed_by_its_quick_fix(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "b.py").as_uri()
    text = "x = 1  # fixloop: ignore[FL103]\ny = 2\n"
    open_document(client, uri, text)
    await wait_until(client, lambda: _shown(client, uri) == [(0, "FL006")])
    [diagnostic] = client.diagnostics[uri]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    [action] = [a for a in actions or [] if isinstance(a, types.CodeAction)]
    assert action.title == "Remove the unused suppression (FL006)" and action.is_preferred
    assert apply_text_edits(text, _edits(action, uri)) == "x = 1\ny = 2\n"


async def test_javascript_gets_a_slash_comment(client: LanguageClient, workspace: Path) -> None:
    uri = (workspace / "page.js").as_uri()
    text = "el.innerHTML = html;\n"
    open_document(client, uri, text, language_id="javascript")
    fixed = await _suppress(client, uri, text, "FL204")
    assert fixed == "el.innerHTML = html;  // fixloop: ignore[FL204]\n"


async def test_the_nearest_settings_file_applies_and_reloads_when_it_changes(
    client: LanguageClient, workspace: Path
) -> None:
    (workspace / "pyproject.toml").write_text('[tool.fixloop]\nignore = ["FL101"]\n')
    nested = workspace / "services" / "api"
    (nested / "handlers").mkdir(parents=True)
    settings = nested / "fixloop.toml"
    settings.write_text(
        '[diagnostics]\nignore = ["FL103"]\nper-file-ignores = { "gen/*" = ["FL1"] }\n'
    )
    (nested / "gen").mkdir()
    # Written after the server started: the editor says they were created.
    created = [workspace / "pyproject.toml", settings]
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Created)
                for path in created
            ]
        )
    )
    code = "import os\nos.system(c)\neval(x)\n"
    deep = (nested / "handlers" / "h.py").as_uri()
    generated = (nested / "gen" / "g.py").as_uri()
    top = (workspace / "t.py").as_uri()
    for uri in (deep, generated, top):
        open_document(client, uri, code)
    # The nested file replaces the top one (as ruff's nearest settings do).
    await wait_until(
        client,
        lambda: (
            _shown(client, deep) == [(2, "FL101")]
            and _shown(client, top) == [(1, "FL103")]
            and generated in client.diagnostics
            and _shown(client, generated) == []
        ),
    )
    assert isinstance(client, FixloopTestClient)
    workspace_caps = client.capabilities.workspace if client.capabilities else None
    watched = workspace_caps.did_change_watched_files if workspace_caps else None
    if watched is not None and watched.dynamic_registration:  # VS Code; not Neovim 0.7
        [registration] = client.registrations
        assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
        options: Any = registration.register_options
        globs = [watcher["globPattern"] for watcher in options["watchers"]]
        assert globs == ["**/pyproject.toml", "**/fixloop.toml"]
    else:
        assert client.registrations == []
    settings.write_text('[diagnostics]\nignore = ["FL101"]\n')
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=settings.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    await wait_until(
        client,
        lambda: (
            _shown(client, deep) == [(1, "FL103")] and _shown(client, generated) == [(1, "FL103")]
        ),
    )
