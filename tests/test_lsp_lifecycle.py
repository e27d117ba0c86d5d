"""The features' lifecycle: every document event reaches every feature, and a closed
document leaves nothing behind in any of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.lsp.documents import OpenDocument
from fixloop.lsp.feature import Feature
from tests.support.in_process import InProcessServer

UNSAFE = "import yaml\n\n\ndef load(text):\n    return yaml.load(text)\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with tests (so test runs concern its files), in an untrusted folder: its
    tests are held, never run, and nothing here needs Docker."""
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n", encoding="utf-8")
    (root / "loader.py").write_text(UNSAFE, encoding="utf-8")
    (root / "tests" / "test_loader.py").write_text(
        "from loader import load\n\n\ndef test_load():\n    assert load('1') == 1\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def lsp(project: Path) -> Iterator[InProcessServer]:
    server = InProcessServer()
    try:
        yield server
    finally:
        server.close()


class _Recorder(Feature):
    def __init__(self) -> None:
        self.events: list[str] = []

    def opened(self, opened: OpenDocument) -> None:
        self.events.append(f"opened v{opened.version}")

    def changed(self, opened: OpenDocument) -> None:
        self.events.append(f"changed v{opened.pending_version}")

    def saved(self, uri: str) -> None:
        self.events.append("saved")

    def closed(self, opened: OpenDocument) -> None:
        self.events.append(f"closed {opened.source.data.count(b'yaml')}")

    def settings_changed(self) -> None:
        self.events.append("settings")

    def shutdown(self) -> None:
        self.events.append("shutdown")


def _open(lsp: InProcessServer, uri: str, text: str) -> None:
    document = {"uri": uri, "languageId": "python", "version": 1, "text": text}
    lsp.notify("textDocument/didOpen", {"textDocument": document})


def _append(lsp: InProcessServer, uri: str, version: int, text: str) -> None:
    end = {"line": 5, "character": 0}
    change = {"range": {"start": end, "end": end}, "text": text}
    identifier = {"uri": uri, "version": version}
    lsp.notify("textDocument/didChange", {"textDocument": identifier, "contentChanges": [change]})


def _code_actions(lsp: InProcessServer, uri: str) -> object:
    """A request: once answered, every notification sent before it was handled."""
    at = {"line": 4, "character": 11}
    return lsp.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": uri},
            "range": {"start": at, "end": at},
            "context": {"diagnostics": []},
        },
    )["result"]


def test_every_feature_gets_every_event_without_text_sync_knowing_it(
    lsp: InProcessServer, project: Path
) -> None:
    recorder = _Recorder()
    lsp.server.features.append(recorder)  # one line adds a feature
    uri = (project / "loader.py").as_uri()
    lsp.initialize(project, trusted=False, capabilities={})
    _open(lsp, uri, UNSAFE)
    _code_actions(lsp, uri)  # parsed: its changes apply from now on
    _append(lsp, uri, 2, "# yaml\n")
    lsp.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    lsp.notify("workspace/didChangeConfiguration", {"settings": {}})
    lsp.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    _code_actions(lsp, uri)
    lsp.request("shutdown", None)
    # The settings load at `initialized` and again on the change; the close sees the
    # document with its last change applied.
    assert recorder.events == [
        "settings",
        "opened v1",
        "changed v2",
        "saved",
        "settings",
        "closed 3",
        "shutdown",
    ]


def test_a_closed_document_leaves_nothing_in_any_feature(
    lsp: InProcessServer, project: Path
) -> None:
    uri = (project / "loader.py").as_uri()
    lsp.initialize(project, trusted=False, capabilities={})
    _open(lsp, uri, UNSAFE)
    _append(lsp, uri, 2, "\n\ndef again(text):\n    return yaml.load(text)\n")
    assert _code_actions(lsp, uri)  # the safe_load fix: the document is analysed
    server = lsp.server
    holding = [type(f).__name__ for f in server.features if f.holds(uri)]
    assert "TestDiagnostics" in holding  # its held test run, waiting for trust
    assert lsp.published(uri)[-1] != []  # yaml.load is reported

    lsp.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert _code_actions(lsp, uri) is None  # not open any more
    assert lsp.published(uri)[-1] == []  # its diagnostics are cleared in the editor
    assert [type(f).__name__ for f in server.features if f.holds(uri)] == []
    assert server.documents.get(uri) is None
    assert [job.key for job in server.jobs.running() if uri in job.key] == []


class _Store:
    closed = False

    def close(self) -> None:
        self.closed = True


def test_shutdown_closes_the_memory_after_the_jobs(lsp: InProcessServer, project: Path) -> None:
    """Its spooled writes are flushed and ChromaDB's handles released: `exit` follows."""
    lsp.initialize(project, trusted=False, capabilities={})
    store = _Store()
    lsp.server.memory._stores[object()] = store  # type: ignore[index]  # one opened store
    lsp.request("shutdown", None)
    assert store.closed and lsp.server.memory._stores == {}
