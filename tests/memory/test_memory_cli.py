import argparse
import json
import sys
from pathlib import Path

import pytest

from fixloop.cli import memory_cmd
from fixloop.memory import MemoryConfig, MemoryStore
from tests.memory.conftest import context_for, record_for

SOURCE = "def inc(x):\n    return x - 1\n"
SECRET = "ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="fixloop")
    memory_cmd.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    path = tmp_path / "memory"
    store = MemoryStore(MemoryConfig(path=path))
    context = context_for({"inc.py": SOURCE}, "AssertionError: assert 0 == 2", line=2)
    assert store.record_attempts(
        [
            record_for(context, SOURCE.replace("- 1", "+ 1"), template="swap-operator"),
            record_for(context, SOURCE.replace("1", "2"), template="constant"),
        ]
    )
    return path


def test_stats(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("memory", "--memory", str(filled), "stats", "--json") == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["records"] == 2 and stats["available"] is True


def test_search_finds_the_failure(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("memory", "--memory", str(filled), "search", "assert 5 == 7", "--json") == 0
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(hits) == 2 and hits[0]["signature"]["exception"] == "AssertionError"


def test_export_import_prune(filled: Path, tmp_path: Path) -> None:
    exported, other = tmp_path / "out.jsonl", tmp_path / "other"
    assert run("memory", "--memory", str(filled), "export", str(exported)) == 0
    assert len(exported.read_text().splitlines()) == 2
    assert run("memory", "--memory", str(other), "import", str(exported)) == 0
    assert run("memory", "--memory", str(other), "prune", "--max-age-days", "0") == 0
    assert MemoryStore(MemoryConfig(path=other)).stats().records == 0


def test_memory_path_from_the_environment(
    filled: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FIXLOOP_MEMORY_PATH", str(filled))
    assert run("memory", "stats") == 0
    assert str(filled) in capsys.readouterr().out


def test_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("memory", "--no-memory", "stats") == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    assert run("memory", "--memory", str(tmp_path / "m"), "import", str(bad)) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err
    assert run("memory", "--memory-url", "http://127.0.0.1:9", "search", "x") == 2


def test_secrets_never_reach_the_store_or_an_export(tmp_path: Path) -> None:
    path = tmp_path / "memory"
    store = MemoryStore(MemoryConfig(path=path))
    source = f'TOKEN = "{SECRET}"\npassword = "Xk9#pL2!qZ7w"\n\ndef inc(x):\n    return x - 1\n'
    message = f"AssertionError: login failed with token={SECRET}"
    context = context_for({"inc.py": source}, message, line=5)
    record = record_for(context, source.replace("- 1", "+ 1").replace("TOKEN", "TOKEN2"))
    assert store.record_attempt(record)
    exported = tmp_path / "out.jsonl"
    assert run("memory", "--memory", str(path), "export", str(exported)) == 0
    text = exported.read_text()
    assert "<redacted>" in text
    for secret in (SECRET, "Xk9#pL2!qZ7w"):
        assert secret not in text
        for file in path.rglob("*"):
            if file.is_file():
                assert secret.encode() not in file.read_bytes(), file


@pytest.mark.parametrize("action", [["stats"], ["search", "assert 5 == 7"]])
def test_without_chromadb_installed_it_says_which_extra_to_install(
    action: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As in an install without `fixloop[memory]` (the wheel test installs one for real)."""
    monkeypatch.setitem(sys.modules, "chromadb", None)  # what find_spec reports as absent
    assert run("memory", "--memory", str(tmp_path / "memory"), *action) == 2
    err = capsys.readouterr().err
    assert "memory is off: ChromaDB is not installed" in err
    assert "pip install 'fixloop[memory]'" in err
    assert not (tmp_path / "memory").exists()
