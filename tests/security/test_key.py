"""The key goes only to the host of the user's base URL: a redirect elsewhere is not
followed (neither the key nor the code in the request goes there), and the key never
appears in what the client raises, even when the endpoint echoes it back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fixloop.loop.llm.client import ChatClient, ModelError, ModelUnavailable, RetryPolicy
from fixloop.memory.embedding import EmbeddingUnavailable, OpenAIEmbedding
from tests.security.hostile import Listener, listening, new_canary
from tests.support.scripted_openai import Reply, scripted_openai

KEY_VARIABLE = "FIXLOOP_SECURITY_TEST_KEY"


@pytest.fixture
def listener() -> Iterator[Listener]:
    with listening() as elsewhere:
        yield elsewhere
        assert not elsewhere.received, f"reached the other host: {elsewhere.arrived()}"


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    canary = new_canary()
    monkeypatch.setenv(KEY_VARIABLE, canary)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")
    return canary


def _client(base_url: str) -> ChatClient:
    return ChatClient(
        model="scripted",
        base_url=base_url,
        api_key_env=KEY_VARIABLE,
        retry=RetryPolicy(attempts=1),
        sleep=lambda _: None,
    )


@pytest.mark.parametrize("host", ["[::1]", "localhost"])
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_host_is_not_followed(
    listener: Listener, key: str, status: int, host: str
) -> None:
    if host == "[::1]" and len(listener._sockets) < 2:
        pytest.fail("no IPv6 loopback listener on this machine")
    elsewhere = f"http://{host}:{listener.port}/v1/chat/completions"
    with scripted_openai([Reply(status=status, headers=(("location", elsewhere),))]) as server:
        with pytest.raises(ModelUnavailable) as raised:
            _client(server.base_url).complete([{"role": "user", "content": "def secret(): ..."}])
        assert server.headers[0]["authorization"] == f"Bearer {key}"  # the user's host: yes
    message = str(raised.value)
    assert "redirects to" in message and elsewhere in message and "llm.base-url" in message
    assert key not in message


def test_the_key_echoed_by_the_endpoint_never_reaches_a_message(key: str) -> None:
    echo = Reply(status=400, content=f"bad request (Authorization: Bearer {key})")
    with scripted_openai([echo, Reply(status=503, content=key)]) as server:
        client = _client(server.base_url)
        for _ in range(2):
            with pytest.raises(ModelError) as raised:
                client.complete([{"role": "user", "content": "x"}])
            assert key not in str(raised.value) and "[the key]" in str(raised.value)
            assert raised.value.__suppress_context__  # the SDK's error (and response) left out


def test_the_embedding_client_follows_no_redirect_either(listener: Listener, key: str) -> None:
    elsewhere = f"http://localhost:{listener.port}/v1/embeddings"
    redirect = Reply(status=307, headers=(("location", elsewhere),))
    with scripted_openai([redirect, redirect]) as server:
        embedding = OpenAIEmbedding("scripted", server.base_url, KEY_VARIABLE)
        with pytest.raises(EmbeddingUnavailable) as raised:
            embedding.embed_sections([{"text": "the code of the project"}])
        assert server.headers[0]["authorization"] == f"Bearer {key}"
    assert key not in str(raised.value)
