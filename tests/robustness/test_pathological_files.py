"""Issue 16, cases 6 and 7: work proportional to the input. A code action deep inside
nested code and a file of unclosed brackets cost the server a fraction of a second (they
took 40 s and 5-8 s), and the editor is told when a file is too complex to check."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fixloop.analysis.document import Change, Document
from fixloop.analysis.languages import language_for
from fixloop.analysis.source import Position
from fixloop.lsp.code_actions import _function_line
from fixloop.lsp.documents import OpenDocuments
from tests.support.raw_server import RawServer, probe_params

DEPTH = 50_000
NESTED = "x = " + "(" * DEPTH + "1" + ")" * DEPTH + "\n"
MIDDLE = len("x = ") + DEPTH


def _open(server: RawServer, uri: str, text: str, language: str = "python") -> None:
    document = {"uri": uri, "languageId": language, "version": 1, "text": text}
    server.notify("textDocument/didOpen", {"textDocument": document})


def _diagnostics(server: RawServer, uri: str, timeout: float = 20.0) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        published = [
            m["params"]
            for m in server.notifications("textDocument/publishDiagnostics")
            if m["params"]["uri"] == uri
        ]
        if published:
            return list(published[-1]["diagnostics"])
        time.sleep(0.05)
    raise TimeoutError(f"no diagnostics for {uri}")


def test_case_6_the_function_lookup_in_deeply_nested_code_is_linear() -> None:
    python = language_for("a.py")
    assert python is not None
    documents = OpenDocuments()
    opened = documents.open("file:///deep.py", "python", NESTED, 1, 10_000_000)
    assert opened is not None
    documents._load(opened, NESTED.encode(), 10_000_000)
    start = time.monotonic()
    assert _function_line(opened, MIDDLE) is None
    assert time.monotonic() - start < 1.0  # 40 s when it climbed Node.parent


def test_case_6_an_edit_deep_inside_nested_code_is_linear() -> None:
    python = language_for("a.py")
    assert python is not None
    document = Document(python, NESTED)
    start = time.monotonic()
    document.apply_changes([Change("2", Position(0, MIDDLE), Position(0, MIDDLE + 1))])
    assert time.monotonic() - start < 2.0


@pytest.mark.slow
def test_case_6_a_code_action_in_nested_code_does_not_hold_up_a_shutdown(
    server: RawServer, tmp_path: Path
) -> None:
    uri = (tmp_path / "ws" / "deep.py").as_uri()
    _open(server, uri, NESTED)
    _diagnostics(server, uri)  # parsed
    params = probe_params(uri)
    params["range"]["start"] = params["range"]["end"] = {"line": 0, "character": MIDDLE}
    action = server.request("textDocument/codeAction", params)
    start = time.monotonic()
    shutdown = server.request("shutdown")
    assert "result" in server.answer(action, timeout=10)
    assert server.answer(shutdown, timeout=10)["result"] is None
    assert time.monotonic() - start < 2.0  # 6.9 s at depth 20,000 before


@pytest.mark.parametrize(
    ("name", "language", "text"),
    [
        ("brackets.py", "python", "x = " + "(" * 100_000),
        ("brackets.js", "javascript", "x = " + "{" * 100_000),
        ("deep.js", "javascript", "f(" * 5_000 + ")" * 5_000),
    ],
)
def test_case_7_a_pathological_file_never_blocks_and_says_it_is_too_complex(
    server: RawServer, tmp_path: Path, name: str, language: str, text: str
) -> None:
    uri = (tmp_path / "ws" / name).as_uri()
    _open(server, uri, text, language)
    assert server.probe(timeout=5) < 1.0  # answered while the file is analysed
    codes = {d["code"] for d in _diagnostics(server, uri)}
    assert "FL005" in codes  # "too complex to check in full"
    server.probe()


def test_case_7_a_file_too_complex_to_parse_is_reported_not_parsed() -> None:
    documents = OpenDocuments()
    text = "x = )\n" * 200_000  # tree-sitter's error recovery: seconds of parsing
    opened = documents.open("file:///slow.py", "python", text, 1, 10_000_000)
    assert opened is not None
    start = time.monotonic()
    documents._load(opened, text.encode(), 10_000_000)
    assert time.monotonic() - start < 4.0  # the parse budget (2 s) and no more
    assert opened.document is None
    assert [f.code for f in opened.screened.findings] == ["FL005"]
