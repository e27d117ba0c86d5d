""" "Show fix report" end to end: after a fix session in the editor, the report of that
session is written and opened (a browser page where the client can show documents)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import CLIENTS, SERVER, initialize_in
from tests.support.client import FixloopTestClient, make_client
from tests.support.editing import open_document
from tests.support.examples import copy_of_shop

pytestmark = pytest.mark.slow


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = copy_of_shop(tmp_path)
    return root


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=make_client), params=CLIENTS
)
async def client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, shop: Path
) -> AsyncIterator[None]:
    await initialize_in(lsp_client, request.param, shop)
    yield
    await lsp_client.shutdown_session()


async def _titles(client: LanguageClient, uri: str) -> list[str]:
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
            ),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return [a.title for a in actions or []]


async def _execute(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


async def test_the_report_of_the_last_fix_opens(client: FixloopTestClient, shop: Path) -> None:
    uri = (shop / "pricing.py").as_uri()
    open_document(client, uri, (shop / "pricing.py").read_text(encoding="utf-8"))
    assert "Show fix report" not in await _titles(client, uri)  # no session yet

    fixed = await _execute(client, "fixloop.fix", uri)
    assert fixed["status"] == "fixed", fixed
    assert "Show fix report" in await _titles(client, uri)

    shown = await _execute(client, "fixloop.showReport")
    assert shown["status"] == "ok"
    assert "result    fixed: verified" in shown["report"]
    assert "+    if quantity >= 10:" in shown["report"]
    page = Path(shown["html"].removeprefix("file://"))
    assert "quantity &gt;= 10" in page.read_text(encoding="utf-8")
    window = client.capabilities.window if client.capabilities else None
    if window and window.show_document and window.show_document.support:  # VS Code
        [document] = client.shown_documents
        assert document.uri == shown["html"] and document.external is True
        assert shown["shown"] is True
    else:  # Neovim 0.7 cannot show documents: the server says where the report is
        assert not client.shown_documents
        assert any("report written to" in m.message for m in client.messages)


async def test_an_unknown_session_gets_a_clear_message(client: FixloopTestClient) -> None:
    shown = await _execute(client, "fixloop.showReport", "no-such-session")
    assert shown["status"] == "not-found"
    assert any("fixloop:" in m.message and "session" in m.message for m in client.messages)
