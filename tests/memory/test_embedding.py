import json
import math
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fixloop.memory.embedding import EmbeddingUnavailable, HashedNgramEmbedding, embedding_for

FAILURE = {"exception": "AssertionError", "message": "assert <num> == <num>", "code": "s += x"}


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_vectors_are_unit_length_and_deterministic_across_processes() -> None:
    embedding = HashedNgramEmbedding()
    [vector] = embedding.embed_sections([FAILURE])
    assert len(vector) == 256
    assert math.isclose(sum(x * x for x in vector), 1.0, rel_tol=1e-5)
    script = (
        "from fixloop.memory.embedding import HashedNgramEmbedding as E;"
        f"print(E().embed_sections([{FAILURE!r}])[0][:8])"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert other.stdout.strip() == str(vector[:8])


def test_similar_failures_are_closer_than_different_ones() -> None:
    embedding = HashedNgramEmbedding()
    same, near, far = embedding.embed_sections(
        [
            FAILURE,
            {**FAILURE, "code": "s -= x"},
            {"exception": "KeyError", "message": "<str>", "code": "config[key]"},
        ]
    )
    assert _cosine(same, near) > 0.8 > 0.2 > _cosine(same, far)


def test_identifier_subwords_match_across_naming_styles() -> None:
    embedding = HashedNgramEmbedding()
    snake, camel, other = embedding.embed_sections(
        [{"code": "total_price = unit_price"}, {"code": "totalPrice = unitPrice"}, {"code": "q"}]
    )
    assert _cosine(snake, camel) > _cosine(snake, other) + 0.3


def test_key_names_the_embedding_dimension_and_version() -> None:
    assert HashedNgramEmbedding().key == "hng1-256"
    assert embedding_for("hashed:512").key == "hng1-512"
    with pytest.raises(EmbeddingUnavailable):
        embedding_for("word2vec")


def test_chroma_protocol_methods() -> None:
    embedding = HashedNgramEmbedding(64)
    assert HashedNgramEmbedding.build_from_config(embedding.get_config()).key == embedding.key
    assert len(embedding(["a document"])[0]) == 64


def test_using_the_store_downloads_nothing(tmp_path: Path) -> None:
    """Chroma's default embedding would fetch an ONNX model into ~/.cache: never used."""
    script = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from tests.memory.conftest import context_for, record_for
from fixloop.loop import recall
from fixloop.memory import MemoryConfig, MemoryStore
store = MemoryStore(MemoryConfig(path=Path(sys.argv[2])))
context = context_for({"a.py": "x = 1\\n"}, "AssertionError: assert 1 == 2")
assert store.record_attempt(record_for(context, "x = 2\\n"))
assert recall.past_fixes(store, context)
"""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    root = str(Path(__file__).parents[2])
    subprocess.run(
        [sys.executable, "-c", script, root, str(tmp_path / "memory")], env=env, check=True
    )
    assert not list(home.rglob("*onnx*"))
    assert not (home / ".cache" / "chroma").exists()


class _EmbeddingsHandler(BaseHTTPRequestHandler):
    """An OpenAI-compatible `/v1/embeddings` endpoint: 8 dimensions from letter counts."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i,
             "embedding": [float(text.count(c)) + 0.1 for c in "aeiourst"]}
            for i, text in enumerate(texts)
        ]  # fmt: skip
        payload = json.dumps(
            {"object": "list", "data": data, "model": body["model"],
             "usage": {"prompt_tokens": 1, "total_tokens": 1}}
        ).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def test_openai_endpoint_embedding_has_its_own_collections(tmp_path: Path) -> None:
    from fixloop.loop import recall
    from fixloop.memory import MemoryConfig, MemoryStore
    from tests.memory.conftest import context_for, record_for

    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmbeddingsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = MemoryConfig(
            path=tmp_path / "memory",
            embedding="openai:tiny-embed",
            embedding_base_url=f"http://127.0.0.1:{server.server_port}/v1",
        )
        store = MemoryStore(config)
        assert store.embedding.key == "oai-tiny-embed-1-8"
        context = context_for({"a.py": "x = 1\n"}, "AssertionError: assert 1 == 2")
        assert store.record_attempt(record_for(context, "x = 2\n"))
        assert len(recall.past_fixes(store, context)) == 1
        assert list(store.stats().collections) == ["fixloop-fixes-python-oai-tiny-embed-1-8"]
        offline = MemoryStore(MemoryConfig(path=tmp_path / "memory"))
        assert recall.past_fixes(offline, context) == ()  # never read across spaces
    finally:
        server.shutdown()
        server.server_close()


def test_unloadable_embedding_falls_back_to_the_offline_one_and_says_so() -> None:
    from fixloop.memory import MemoryConfig, MemoryStore

    reasons: list[str] = []
    store = MemoryStore(
        MemoryConfig(embedding="sentence-transformers:not-installed-here"),
        on_unavailable=reasons.append,
    )
    assert store.embedding.key == "hng1-256"
    assert len(reasons) == 1 and "offline embedding" in reasons[0]
