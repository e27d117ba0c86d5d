"""Embeddings for memory.

The default needs no download and no network: signed feature hashing of the tokens,
identifier sub-words and token bigrams of a failure signature and its code, one
*section* at a time (exception, message, test, frames, code), each section normalized
and weighted so that a long code context cannot drown the failure's identity.

Model-based embeddings (an OpenAI-compatible endpoint, a local sentence-transformers
model) are options, imported only when chosen. Every embedding has a `key` naming it,
its dimension and its version; collections are named by that key, so vectors from two
embeddings never share a space.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Vector = npt.NDArray[np.float32]

_TOKEN = re.compile(r"<\w+>|[A-Za-z_][A-Za-z0-9_]*|\d+|==|!=|<=|>=|\*\*|//|[^\sA-Za-z0-9_]")
_SUBWORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_SAFE_KEY = re.compile(r"[^A-Za-z0-9.-]+")

# Section weights: what a failure is counts more than the code around it.
SECTION_WEIGHTS: Mapping[str, float] = {
    "exception": 1.0,
    "message": 1.5,
    "test": 0.6,
    "frames": 0.8,
    "code": 1.0,
    "text": 1.0,
}


class EmbeddingUnavailable(Exception):
    """A configured embedding cannot be used here (package missing, endpoint down)."""


class MemoryEmbedding(Protocol):
    """What the store needs of an embedding."""

    @property
    def key(self) -> str:
        """Name, dimension and version, safe in a collection name: `hng1-256`."""
        ...

    def embed_sections(self, sections: Sequence[Mapping[str, str]]) -> list[list[float]]:
        """One vector per record given as its sections (name → text)."""
        ...


def collection_key(name: str, dimension: int, version: int) -> str:
    return _SAFE_KEY.sub("-", f"{name}{version}-{dimension}").strip("-.")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def features(text: str) -> Counter[str]:
    """Tokens, their lower-case sub-words and token bigrams."""
    found = tokens(text)
    counts: Counter[str] = Counter(found)
    for token in found:
        words = _SUBWORD.findall(token)
        if len(words) > 1:
            counts.update(f"~{w.lower()}" for w in words)
    counts.update(f"{a} {b}" for a, b in itertools.pairwise(found))
    return counts


class HashedNgramEmbedding:
    """The offline default: signed hashing of token and sub-word n-grams, per section."""

    NAME = "hng"
    VERSION = 1

    def __init__(self, dimension: int = 256) -> None:
        self.dimension = dimension

    @property
    def key(self) -> str:
        return collection_key(self.NAME, self.dimension, self.VERSION)

    def embed_sections(self, sections: Sequence[Mapping[str, str]]) -> list[list[float]]:
        return [self._vector(record).tolist() for record in sections]

    def __call__(self, input: Sequence[str]) -> list[Vector]:
        """Chroma's `EmbeddingFunction` call: each document as one `text` section."""
        return [self._vector({"text": document}) for document in input]

    def _vector(self, sections: Mapping[str, str]) -> Vector:
        import numpy as np

        total = np.zeros(self.dimension, dtype=np.float32)
        for name, text in sections.items():
            part = self._section(name, text)
            norm = float(np.linalg.norm(part))
            if norm:
                total += part * (SECTION_WEIGHTS.get(name, 1.0) / norm)
        norm = float(np.linalg.norm(total))
        return total / norm if norm else total

    def _section(self, name: str, text: str) -> Vector:
        import numpy as np

        vector = np.zeros(self.dimension, dtype=np.float32)
        salt = name.encode() + b"\0"  # a message token matches message tokens only
        for feature, count in features(text).items():
            digest = zlib.crc32(salt + feature.encode())
            sign = 1.0 if digest & 0x80000000 else -1.0
            vector[digest % self.dimension] += sign * (1.0 + math.log(count))
        return vector

    # Chroma's embedding-function protocol (the collection records which one made it).
    @staticmethod
    def name() -> str:
        return "fixloop-hashed-ngrams"

    def get_config(self) -> dict[str, Any]:
        return {"dimension": self.dimension, "version": self.VERSION}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashedNgramEmbedding:
        return HashedNgramEmbedding(int(config.get("dimension", 256)))

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def is_legacy(self) -> bool:
        return False


def section_text(sections: Mapping[str, str]) -> str:
    """A record's sections as one text, for model embeddings that see text only."""
    return "\n".join(text for text in sections.values() if text)


class OpenAIEmbedding:
    """An OpenAI-compatible `/embeddings` endpoint (OpenAI, Ollama, vLLM, …)."""

    def __init__(
        self, model: str, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY"
    ) -> None:
        try:
            import openai
        except ImportError as error:  # pragma: no cover - a pinned dependency
            raise EmbeddingUnavailable(f"the openai package is missing: {error}") from error
        self.model = model
        from fixloop.http import no_redirects_http_client

        self._key = os.environ.get(api_key_env) or None
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=self._key or "none",
            max_retries=1,
            http_client=no_redirects_http_client(60.0),  # the key goes to base_url's host only
        )
        self._dimension: int | None = None

    @property
    def key(self) -> str:
        if self._dimension is None:
            self._dimension = len(self.embed_sections([{"text": "probe"}])[0])
        return collection_key(f"oai-{self.model}-", self._dimension, 1)

    def embed_sections(self, sections: Sequence[Mapping[str, str]]) -> list[list[float]]:
        texts = [section_text(record) or " " for record in sections]
        try:
            response = self._client.embeddings.create(model=self.model, input=texts)
        except Exception as error:  # the SDK's errors have no common base we can rely on
            from fixloop.http import scrub_key

            message = scrub_key(f"embedding endpoint: {error}", self._key)
            raise EmbeddingUnavailable(message) from None
        return [list(item.embedding) for item in response.data]


class SentenceTransformerEmbedding:
    """A local sentence-transformers model (when installed and already downloaded)."""

    def __init__(self, model: str) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise EmbeddingUnavailable(
                "sentence-transformers is not installed (pip install sentence-transformers)"
            ) from error
        self.model = model
        try:
            self._model = SentenceTransformer(model)
        except Exception as error:  # a missing model download, a bad name
            raise EmbeddingUnavailable(f"cannot load {model}: {error}") from error

    @property
    def key(self) -> str:
        dimension = int(self._model.get_sentence_embedding_dimension() or 0)
        return collection_key(f"st-{self.model}-", dimension, 1)

    def embed_sections(self, sections: Sequence[Mapping[str, str]]) -> list[list[float]]:
        texts = [section_text(record) for record in sections]
        vectors = self._model.encode(texts, normalize_embeddings=True)
        return [list(map(float, vector)) for vector in vectors]


def embedding_for(
    spec: str | None,
    *,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
) -> MemoryEmbedding:
    """`None`/`hashed`/`hashed:512` (offline), `openai:MODEL`, `sentence-transformers:MODEL`."""
    kind, _, argument = (spec or "hashed").partition(":")
    if kind == "hashed":
        return HashedNgramEmbedding(int(argument) if argument else 256)
    if kind == "openai" and argument:
        return OpenAIEmbedding(argument, base_url, api_key_env)
    if kind == "sentence-transformers" and argument:
        return SentenceTransformerEmbedding(argument)
    raise EmbeddingUnavailable(
        f"unknown embedding {spec!r}: use hashed[:DIM], openai:MODEL or sentence-transformers:MODEL"
    )
