"""The LLM generator: candidates from any OpenAI-compatible chat endpoint.

`LlmGenerator(settings.llm)` is a `Generator`; its `usage` is the session's tokens and
cost, its `rejections` the replies that gave no candidate. `ModelUnavailable` from
`candidates()` means the endpoint cannot be used now (the message says what to check).

`import fixloop.loop.llm` costs nothing: its modules load when a name is first used (the
central settings import `fixloop.loop.llm.settings` at every start-up), and the `openai`
package on the first request.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fixloop.loop.llm.client import (
        ChatClient,
        CircuitBreaker,
        Completion,
        ModelError,
        ModelRequestRejected,
        ModelUnavailable,
        Prices,
        RetryPolicy,
        Usage,
    )
    from fixloop.loop.llm.edits import Edit, EditError, apply_edits, parse_edits
    from fixloop.loop.llm.generator import LlmGenerator, Rejection
    from fixloop.loop.llm.prompts import build_messages
    from fixloop.loop.llm.redact import Redactor
    from fixloop.loop.llm.settings import LlmSettings, PromptLimits

_MODULES = {
    "ChatClient": "client",
    "CircuitBreaker": "client",
    "Completion": "client",
    "ModelError": "client",
    "ModelRequestRejected": "client",
    "ModelUnavailable": "client",
    "Prices": "client",
    "RetryPolicy": "client",
    "Usage": "client",
    "Edit": "edits",
    "EditError": "edits",
    "apply_edits": "edits",
    "parse_edits": "edits",
    "LlmGenerator": "generator",
    "Rejection": "generator",
    "build_messages": "prompts",
    "Redactor": "redact",
    "LlmSettings": "settings",
    "PromptLimits": "settings",
}

__all__ = [
    "ChatClient",
    "CircuitBreaker",
    "Completion",
    "Edit",
    "EditError",
    "LlmGenerator",
    "LlmSettings",
    "ModelError",
    "ModelRequestRejected",
    "ModelUnavailable",
    "Prices",
    "PromptLimits",
    "Redactor",
    "Rejection",
    "RetryPolicy",
    "Usage",
    "apply_edits",
    "build_messages",
    "parse_edits",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
