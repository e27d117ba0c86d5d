"""HTTP helpers shared by everything that sends code or a key to a model endpoint (the
LLM client and the `openai:` memory embedding): neither may import the other."""

from __future__ import annotations

from typing import Any


def no_redirects_http_client(timeout: float) -> Any:
    """The SDK's HTTP client, except that it does not follow redirects: the SDK's would
    resend the request body (the code) to wherever a redirect points, and the key too when
    it is an http → https redirect. A redirect is an error that names where it pointed."""
    from openai import DefaultHttpxClient

    return DefaultHttpxClient(follow_redirects=False, timeout=timeout)


def scrub_key(text: str, key: str | None) -> str:
    """`text` without the key (keys shorter than 8 characters are no secret to keep)."""
    if key and len(key) >= 8:
        return text.replace(key, "[the key]")
    return text
