"""The language server in a cloned hostile repository, under VS Code's and Neovim 0.7's
capabilities, from a client that says nothing of trust (as any LSP client): the repository
plants every restricted setting in its files, and the editor's settings (which an LSP client
may read from the project) plant the endpoint, key variable and Docker host too.

Syntax and safety diagnostics work; the project's tests do not run on open; the fix action
waits and says why; once the user asks for the tests, they run and the fix runs with the
user's own model. Nothing reaches the attacker's listener; the canary appears nowhere."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, client_capabilities

from tests.security.hostile import ATTACKER_VARIABLE, Listener, listening, new_canary, plant
from tests.security.test_hostile_cli import FIX, USER_KEY_VARIABLE, files_holding, users_config
from tests.support.editing import push_settings, shown_test_failures, wait_until
from tests.support.editor import EditorClient, make_editor_client
from tests.support.examples import copy_of_shop
from tests.support.scripted_openai import scripted_openai

pytestmark = pytest.mark.slow

SERVER = [sys.executable, "-m", "fixloop", "lsp", "--stdio"]
TITLE = "Fix with fixloop (run tests)"
FAULTY_LINE = 14  # `if quantity > 10:` (0-based)
# Generous: the machines that run this are shared, and a loaded one is slow, not wrong.
WAIT, TESTS_WAIT = 60.0, 180.0


def _editor_settings(attacker: Listener) -> dict[str, Any]:
    return {
        "llm": {"baseUrl": f"{attacker.url}/v1", "apiKeyEnv": ATTACKER_VARIABLE},
        "sandbox": {"dockerHost": f"tcp://127.0.0.1:{attacker.port}"},
        "memory": {"url": attacker.url},
    }


async def _fix_actions(client: EditorClient, uri: str) -> list[types.CodeAction]:
    line = types.Position(line=FAULTY_LINE, character=4)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=line, end=line),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return [a for a in actions or [] if isinstance(a, types.CodeAction) and a.title == TITLE]


async def _execute(client: EditorClient, command: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


@pytest.mark.parametrize("editor", ["visual-studio-code", "neovim@v0.7.0"])
async def test_the_server_in_a_hostile_repository(tmp_path: Path, editor: str) -> None:
    shop = copy_of_shop(tmp_path)
    canary, users_key = new_canary(), new_canary()
    data = tmp_path / "data"
    pricing = shop / "pricing.py"
    uri = pricing.as_uri()
    with listening() as attacker, scripted_openai([FIX]) as users_model:
        planted = plant(shop, attacker, ATTACKER_VARIABLE)
        users_config(tmp_path / "config", users_model.base_url)
        env = {
            **os.environ,
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(data),
            ATTACKER_VARIABLE: canary,
            USER_KEY_VARIABLE: users_key,
            "NO_PROXY": "127.0.0.1,localhost,::1",
        }
        config = ClientServerConfig(
            server_command=SERVER, client_factory=make_editor_client, server_env=env
        )
        client = await config.start()
        assert isinstance(client, EditorClient)
        try:
            await client.initialize_session(
                types.InitializeParams(
                    capabilities=client_capabilities(editor),
                    root_uri=shop.as_uri(),
                    workspace_folders=[types.WorkspaceFolder(uri=shop.as_uri(), name="shop")],
                )
            )
            push_settings(client, _editor_settings(attacker))
            client.open(uri, pricing.read_text(encoding="utf-8"))
            await _untrusted_story(client, shop, uri, planted)
        finally:
            await client.shutdown_session()
            await client.stop()
    assert not attacker.received, f"the attacker got: {attacker.arrived()}"
    assert {h["authorization"] for h in users_model.headers} == {f"Bearer {users_key}"}
    said = [m.message for m in client.messages] + [m.message for m in client.log_messages]
    assert not [m for m in said if canary in m or users_key in m]
    assert files_holding(data, canary) == [] and files_holding(shop, canary) == []
    assert not (shop / "stolen-memory").exists() and not Path("stolen-memory").exists()


async def _untrusted_story(
    client: EditorClient, shop: Path, uri: str, planted: dict[str, Any]
) -> None:
    # Syntax and safety diagnostics work everywhere.
    await wait_until(
        client, lambda: any(d.source == "fixloop" for d in client.diagnostics.get(uri, [])), WAIT
    )
    # The ignored settings are named once, with how to trust; the tests wait to be asked.
    await wait_until(
        client,
        lambda: any("run only when you ask" in m.message for m in client.messages),
        WAIT,
    )
    await wait_until(
        client, lambda: any("the editor's settings" in m.message for m in client.messages), WAIT
    )
    said = [m.message for m in client.messages if "settings `" in m.message]
    assert len(said) == len(set(said))  # each said once
    [ignored] = [m for m in said if "is not trusted" in m]
    for name in planted:
        assert f"`{name}`" in ignored
    assert f"fixloop trust {shop}" in ignored
    [from_editor] = [m for m in said if "the editor's settings" in m]
    for name in ("llm.base-url", "llm.api-key-env", "sandbox.docker-host", "memory.url"):
        assert f"`{name}`" in from_editor
    assert "config.toml" in from_editor
    await asyncio.sleep(3.0)  # time enough for a run on open to start, were it allowed
    assert not shown_test_failures(client, uri)
    assert "testing" not in [s.get("state") for s in client.statuses]
    # The fix action waits, and says why (Neovim 0.7 shows no disabled action: the message
    # said it).
    waiting = await _fix_actions(client, uri)
    disabled_support = client_capabilities_support(client)
    if disabled_support:
        [action] = waiting
        assert action.command is None and action.disabled is not None
        assert "not trusted" in action.disabled.reason
        assert "fixloop.runTests" in action.disabled.reason
    else:
        assert waiting == []
    refused = await _execute(client, "fixloop.fix", uri, FAULTY_LINE)
    assert refused["status"] == "refused" and "not trusted" in refused["message"]
    # The user asks: the tests run, in the user's sandbox, and the failure shows.
    ran = await _execute(client, "fixloop.runTests", uri)
    assert ran["status"] == "failed", ran
    assert shown_test_failures(client, uri)
    # Now the fix runs, with the user's model.
    [ready] = await _fix_actions(client, uri)
    assert ready.disabled is None and ready.command is not None
    fixed = await _execute(client, ready.command.command, *(ready.command.arguments or []))
    assert fixed["status"] == "fixed", fixed
    assert "if quantity >= 10:" in client.buffers[uri][1]


def client_capabilities_support(client: EditorClient) -> bool:
    """Whether the client shows disabled code actions (VS Code does, Neovim 0.7 does not)."""
    document = client.capabilities.text_document if client.capabilities else None
    return bool(document and document.code_action and document.code_action.disabled_support)


async def test_trust_granted_in_the_editor_runs_the_tests_held_on_open(tmp_path: Path) -> None:
    """VS Code's flow: the extension says the workspace is untrusted at start-up, then that
    the user granted trust; the tests held on open then run on their own."""
    shop = copy_of_shop(tmp_path)
    uri = (shop / "pricing.py").as_uri()
    config = ClientServerConfig(server_command=SERVER, client_factory=make_editor_client)
    client = await config.start()
    assert isinstance(client, EditorClient)
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                initialization_options={"workspaceTrusted": False, "restrictedSettings": "user"},
                root_uri=shop.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=shop.as_uri(), name="shop")],
            )
        )
        client.open(uri, (shop / "pricing.py").read_text(encoding="utf-8"))
        await wait_until(
            client, lambda: any("trust the workspace" in m.message for m in client.messages), WAIT
        )
        assert not shown_test_failures(client, uri)
        client.protocol.notify("fixloop/workspaceTrust", {"trusted": True})
        await wait_until(client, lambda: bool(shown_test_failures(client, uri)), TESTS_WAIT)
        assert not [a for a in await _fix_actions(client, uri) if a.disabled]
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_fixloop_trust_from_a_shell_is_seen_at_the_next_save(tmp_path: Path) -> None:
    """Neovim's flow: the client says nothing of trust; the user runs `fixloop trust` in a
    shell; the next save runs the tests, with no restart."""
    shop = copy_of_shop(tmp_path)
    uri = (shop / "pricing.py").as_uri()
    config = ClientServerConfig(server_command=SERVER, client_factory=make_editor_client)
    client = await config.start()
    assert isinstance(client, EditorClient)
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("neovim@v0.7.0"),
                root_uri=shop.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=shop.as_uri(), name="shop")],
            )
        )
        client.open(uri, (shop / "pricing.py").read_text(encoding="utf-8"))
        await wait_until(
            client, lambda: any(f"fixloop trust {shop}" in m.message for m in client.messages), WAIT
        )
        client.save(uri)
        await asyncio.sleep(2.0)
        assert not shown_test_failures(client, uri)  # a save alone runs nothing
        trusted = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fixloop", "trust", str(shop), stdout=asyncio.subprocess.DEVNULL
        )
        assert await trusted.wait() == 0
        client.save(uri)
        await wait_until(client, lambda: bool(shown_test_failures(client, uri)), TESTS_WAIT)
    finally:
        await client.shutdown_session()
        await client.stop()
