"""The LLM generator: candidates from any OpenAI-compatible chat endpoint.

`LlmGenerator(settings.llm)` is a `Generator`; its `usage` is the session's tokens and
cost, its `rejections` the replies that gave no candidate. `ModelUnavailable` from
`candidates()` means the endpoint cannot be used now (the message says what to check).
The `openai` package is imported on the first request, not here.
"""

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
from fixloop.loop.llm.generator import LlmGenerator, LlmOptions, Rejection
from fixloop.loop.llm.prompts import PromptLimits, build_messages
from fixloop.loop.llm.redact import Redactor

__all__ = [
    "ChatClient",
    "CircuitBreaker",
    "Completion",
    "Edit",
    "EditError",
    "LlmGenerator",
    "LlmOptions",
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
