"""Quick fixes and settings, end to end."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.support.editing import (
    apply_text_edits,
    diagnostics_for,
    open_document,
    push_settings,
    wait_until,
)

YAML_CODE = "import yaml\n\nconfig = yaml.load(open('c.yml'))\n"


async def test_safety_finding_offers_a_quick_fix_that_makes_it_safe(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "conf.py").as_uri()
    open_document(client, uri, YAML_CODE)
    [diagnostic] = await diagnostics_for(client, uri, version=1)
    assert "yaml.load" in diagnostic.message
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    assert actions is not None
    code_actions = [a for a in actions if isinstance(a, types.CodeAction)]
    # The rule's fix, then the suppression (not preferred).
    assert [a.title for a in code_actions] == [
        "Use yaml.safe_load (FL106)",
        "Ignore FL106 on this line (fixloop: ignore)",
    ]
    action = code_actions[0]
    assert action.kind == types.CodeActionKind.QuickFix and action.is_preferred
    assert action.edit is not None
    if action.edit.document_changes:  # VS Code: a versioned edit
        [change] = action.edit.document_changes
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.version == 1
        edits = change.edits
    else:  # Neovim 0.7 does not announce documentChanges
        assert action.edit.changes is not None
        edits = action.edit.changes[uri]
    fixed = apply_text_edits(YAML_CODE, edits)  # type: ignore[arg-type]
    assert fixed == "import yaml\n\nconfig = yaml.safe_load(open('c.yml'))\n"


async def test_no_action_where_there_is_nothing_to_fix(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "clean.py").as_uri()
    open_document(client, uri, "x = 1\n")
    await diagnostics_for(client, uri, version=1)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=0, character=0), end=types.Position(line=0, character=5)
            ),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert not actions


async def test_rule_groups_follow_the_editor_settings(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "conf.py").as_uri()
    open_document(client, uri, YAML_CODE + "broken = (\n")
    assert {d.code for d in await diagnostics_for(client, uri, version=1)} >= {"FL001"}
    assert len(client.diagnostics[uri]) == 2

    push_settings(client, {"diagnostics": {"groups": ["syntax"]}})
    await wait_until(client, lambda: [d.code for d in client.diagnostics[uri]] == ["FL001"])


async def test_invalid_setting_is_reported_and_the_default_kept(
    client: LanguageClient, workspace: Path
) -> None:
    push_settings(client, {"diagnostics": {"groups": "everything"}})
    await wait_until(
        client, lambda: any("diagnostics.groups" in m.message for m in client.messages)
    )
    uri = (workspace / "conf.py").as_uri()
    open_document(client, uri, YAML_CODE)
    assert len(await diagnostics_for(client, uri, version=1)) == 1  # safety still on


async def test_oversized_file_is_not_analysed_and_says_so(
    client: LanguageClient, workspace: Path
) -> None:
    push_settings(client, {"diagnostics": {"maxFileBytes": 1000}})
    uri = (workspace / "huge.py").as_uri()
    open_document(client, uri, "x = (\n" + "y = 1\n" * 1000)
    await wait_until(client, lambda: [d.code for d in client.diagnostics.get(uri, [])] == ["FL004"])
    [diagnostic] = client.diagnostics[uri]
    assert diagnostic.code == "FL004"
    assert "not analysed" in diagnostic.message
