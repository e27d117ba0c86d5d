"""A JavaScript project's failing `node --test` tests as diagnostics, end to end: the real
server and the real sandbox, the test command detected from package.json (`npm test`),
under VS Code's and Neovim 0.7's capabilities."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import CLIENTS, SERVER, initialize_in
from tests.failures.test_node_run import BUG_LINE, CALL_LINE, CART, fixed, node_project
from tests.support.client import FixloopTestClient, make_client
from tests.support.editing import open_document, replace_document, shown_test_failures, wait_until
from tests.support.sandbox_processes import containers_of_process

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return node_project(tmp_path / "cart")


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=make_client), params=CLIENTS
)
async def client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, project: Path
) -> AsyncIterator[None]:
    await initialize_in(lsp_client, request.param, project)
    yield
    server = lsp_client._server  # type: ignore[attr-defined]
    await lsp_client.shutdown_session()
    assert containers_of_process(server.pid) == [], "the server left sandbox containers"


def _status_messages(client: FixloopTestClient) -> list[str]:
    return [str(s.get("message", "")) for s in client.statuses]


async def test_a_failing_node_test_shows_on_the_bug_line_and_clears_when_fixed(
    client: FixloopTestClient, project: Path
) -> None:
    source = project / "src" / "cart.js"
    uri = source.as_uri()
    open_document(client, uri, CART, language_id="javascript")
    await wait_until(client, lambda: bool(shown_test_failures(client, uri)), 60.0)
    [failure] = shown_test_failures(client, uri)
    assert failure.range.start.line == BUG_LINE - 1
    assert failure.message == (
        "test/cart.test.js::a cart sums its lines failed: quantity must be positive, got 1"
    )
    assert failure.severity == types.DiagnosticSeverity.Error
    assert failure.code == "test-failure"
    assert failure.data == {
        "testId": "test/cart.test.js::a cart sums its lines",
        "placement": "traceback",
    }
    [related] = failure.related_information or []
    assert related.location.uri == (project / "test" / "cart.test.js").as_uri()
    assert related.location.range.start.line == CALL_LINE - 1
    # Only the related test file ran, through node itself (the sandbox has no npm).
    await wait_until(client, lambda: any("(related tests)" in m for m in _status_messages(client)))
    assert any(m.startswith("tests: 1 passed, 1 failed") for m in _status_messages(client))

    text = fixed(CART)
    source.write_text(text, encoding="utf-8")
    replace_document(client, uri, 2, text)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await wait_until(client, lambda: not shown_test_failures(client, uri), 60.0)
    await wait_until(client, lambda: any("2 passed" in m for m in _status_messages(client)))
    assert client.versions[uri] == 2
