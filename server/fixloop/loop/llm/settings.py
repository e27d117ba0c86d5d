"""The LLM path's own settings (`[tool.fixloop.llm]`, LSP `fixloop.llm.*`,
`FIXLOOP_LLM_*`): the endpoint, the requests' tuning and what a prompt may carry. A plain
frozen dataclass the central settings (fixloop/config.py) embed; `LlmGenerator` reads it
as it is. Importing it costs nothing beyond the dataclass (no client, no prompts)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fixloop.trust import RESTRICTED


@dataclass(frozen=True)
class PromptLimits:
    """How much of the repair context a prompt carries (`llm.prompt.*`): more context
    helps a model find the cause, and costs tokens on every request."""

    # Lines shown on each side of a suspicious line.
    context_lines: int = 40
    # Files up to this many lines are shown whole.
    whole_file_lines: int = 300
    # Characters of the failing run's output (head, tail and error lines).
    output_chars: int = 6_000
    # Characters of each earlier attempt's output (reflection), and of a past fix's failure.
    attempt_output_chars: int = 2_500
    # Characters of a diff: each earlier attempt's, a past fix's, the reviewed patch.
    diff_chars: int = 4_000
    # Similar past fixes from memory shown to the model.
    past_fixes: int = 3


@dataclass(frozen=True)
class LlmSettings:
    """The model and how it is asked. Fields marked RESTRICTED (where the code and the key
    go) come from a project's files only once it is trusted."""

    # An OpenAI-compatible endpoint (None: OpenAI's).
    base_url: str | None = field(default=None, metadata=RESTRICTED)
    # None: no model, the offline templates only.
    model: str | None = field(default=None, metadata=RESTRICTED)
    # The name of the variable holding the key, never the key.
    api_key_env: str = field(default="OPENAI_API_KEY", metadata=RESTRICTED)
    # Models tried in order when the first one fails.
    fallback_models: tuple[str, ...] = field(default=(), metadata=RESTRICTED)
    timeout: float = 60.0  # seconds per request
    max_tokens: int = 2048  # of one reply (0: the endpoint's limit)
    temperature: float = 0.2
    max_retries: int = 2  # per model, after the first try
    backoff_base: float = 0.5  # seconds before the first retry, doubled after each
    backoff_max: float = 8.0
    breaker_threshold: int = 5  # failed requests in a row that open the breaker
    breaker_cooldown: float = 30.0  # seconds the breaker stays open
    price_per_1k_prompt: float = 0.0  # for the session's cost (budget `loop.max-cost`)
    price_per_1k_completion: float = 0.0
    # Replies asked of the model per round: each gives a candidate, or is re-asked with why
    # it could not be applied.
    replies_per_round: int = 3
    # How alike a reply's SEARCH text must be to the code when it does not match exactly.
    fuzzy_threshold: float = 0.85
    # Ask the model to review each verified patch before it is offered (costs a request).
    review: bool = False
    prompt: PromptLimits = field(default_factory=PromptLimits)
