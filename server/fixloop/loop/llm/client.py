"""A chat client for any OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp's
server) through the `openai` package, with the resilience the loop needs:

- retries with exponential backoff and jitter on timeouts, lost connections, 429 and 5xx
  (the SDK's own retries are off so that ours are bounded, visible and testable);
- a circuit breaker: after N failed requests in a row the endpoint is left alone for a
  cool-down, and calls fail at once with a `ModelUnavailable` that says what to check;
- fallback models, tried in order when a model is missing or keeps failing;
- token and cost accounting per session (`Usage`);
- the key goes only to the host of `base_url`: redirects are not followed (a redirect could
  carry the key, or the code in the request, elsewhere), and the key is scrubbed from every
  message this client raises.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, cast

from fixloop.http import no_redirects_http_client, scrub_key
from fixloop.loop.model import GeneratorUnavailable

if TYPE_CHECKING:
    from openai import APIStatusError, OpenAI
    from openai.types.chat import ChatCompletion

DEFAULT_ENDPOINT = "https://api.openai.com/v1"
# A local server (Ollama, vLLM, llama.cpp) ignores the key, but the SDK requires one.
_NO_KEY = "no-key"
_RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
Message = Mapping[str, str]  # {"role": ..., "content": ...}


class ModelError(RuntimeError):
    """No reply could be had from the model."""


class ModelUnavailable(ModelError, GeneratorUnavailable):
    """The endpoint cannot be used now (down, breaker open, bad key, unknown models)."""


class ModelRequestRejected(ModelError):
    """The endpoint refused this request (400, 413, 422): another prompt may still work."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # per model, the first try included
    base_delay: float = 0.5  # seconds before the first retry; doubled each time
    max_delay: float = 8.0
    jitter: float = 0.5  # up to this fraction of each delay is drawn at random

    def delay(self, retry: int, retry_after: float | None, draw: Callable[[], float]) -> float:
        """Seconds to wait before retry number `retry` (1-based)."""
        base = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        if retry_after is not None:  # the server knows best, within our bound
            base = min(self.max_delay, max(base, retry_after))
        return base * (1 - self.jitter * draw())


class CircuitBreaker:
    """Closed → open after `threshold` failures in a row → half-open after `cooldown`
    seconds (one trial request) → closed on a success, open again on a failure."""

    def __init__(
        self,
        threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            return "open" if self._remaining() > 0 else "half-open"

    def remaining(self) -> float:
        """Seconds the breaker stays open (0 when a request may go)."""
        with self._lock:
            return self._remaining() if self._opened_at is not None else 0.0

    def record_success(self) -> None:
        with self._lock:
            self._failures, self._opened_at = 0, None

    def record_failure(self) -> bool:
        """Count a failed request; True when the breaker is (now) open."""
        with self._lock:
            self._failures += 1
            half_open = self._opened_at is not None and self._remaining() <= 0
            if half_open or self._failures >= self.threshold:
                self._opened_at = self._clock()
            return self._opened_at is not None

    def _remaining(self) -> float:
        assert self._opened_at is not None
        return max(0.0, self._opened_at + self.cooldown - self._clock())


@dataclass(frozen=True)
class Prices:
    """Price per 1000 tokens (any currency; 0 for a local model)."""

    prompt_per_1k: float = 0.0
    completion_per_1k: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.prompt_per_1k + completion_tokens * self.completion_per_1k
        ) / 1000


@dataclass
class Usage:
    """What a session spent on the model; the engine logs `as_dict()`."""

    requests: int = 0  # HTTP requests sent, failed ones included
    failed_requests: int = 0
    replies: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost: float = 0.0
    tokens_by_model: dict[str, int] = field(default_factory=dict)

    def add_reply(self, model: str, prompt: int, completion: int, total: int, cost: float) -> None:
        self.replies += 1
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self.total_tokens += total
        self.cost += cost
        self.tokens_by_model[model] = self.tokens_by_model.get(model, 0) + total

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Completion:
    text: str
    model: str  # the model that answered (a fallback, maybe)
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None = None


class _ModelFailed(Exception):
    """This model gave no reply; the next fallback model may."""

    def __init__(self, detail: str, missing: bool = False) -> None:
        super().__init__(detail)
        self.missing = missing  # the server does not know the model (rather than failing)


class ChatClient:
    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        fallback_models: Sequence[str] = (),
        api_key_env: str = "OPENAI_API_KEY",
        environ: Mapping[str, str] | None = None,
        timeout: float = 60.0,
        max_tokens: int | None = None,
        temperature: float | None = None,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        prices: Prices | None = None,
        sleep: Callable[[float], None] = time.sleep,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.models = tuple(dict.fromkeys((model, *fallback_models)))  # ordered, no repeats
        self.base_url = base_url
        self.endpoint = base_url or DEFAULT_ENDPOINT
        self.api_key_env = api_key_env
        self._environ = os.environ if environ is None else environ
        self.timeout = timeout
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker()
        self.prices = prices or Prices()
        self.usage = Usage()
        self._sleep = sleep
        self._draw = draw
        self._client: OpenAI | None = None
        self._lock = threading.Lock()

    def reset_usage(self) -> Usage:
        """Start a new session's accounting; returns the finished one. The breaker stays:
        a long-lived client (the server's) keeps knowing that the endpoint is down."""
        with self._lock:
            finished, self.usage = self.usage, Usage()
        return finished

    @property
    def api_key(self) -> str | None:
        return self._environ.get(self.api_key_env) or None

    def complete(self, messages: Sequence[Message]) -> Completion:
        """The first reply of the first model that gives one. Raises `ModelUnavailable`
        (nothing more to try) or `ModelRequestRejected` (this request is refused)."""
        try:
            return self._complete(messages)
        except ModelError as error:
            # A server may echo the request's headers in its error: never pass the key on.
            # `from None`: the SDK's exception (with the response) stays out of tracebacks.
            raise type(error)(scrub_key(str(error), self.api_key)) from None

    def _complete(self, messages: Sequence[Message]) -> Completion:
        self._fail_if_open("")
        failures: list[tuple[str, _ModelFailed]] = []
        for model in self.models:
            try:
                return self._complete_with(model, messages)
            except _ModelFailed as failure:
                failures.append((model, failure))
        problems = "; ".join(f"{model}: {failure}" for model, failure in failures)
        advice = []
        if any(failure.missing for _, failure in failures):
            advice.append("llm.model and llm.fallback-models against the models it offers")
        if not all(failure.missing for _, failure in failures):
            advice.append("that the server is running and reachable")
        raise ModelUnavailable(
            f"no model answered at {self.endpoint} ({problems}). "
            f"Check {' and '.join(advice)}, and llm.base-url"
        )

    # --- one model --------------------------------------------------------------------

    def _complete_with(self, model: str, messages: Sequence[Message]) -> Completion:
        import openai

        client = self._openai()
        last = "no attempt"
        for attempt in range(1, self.retry.attempts + 1):
            self._fail_if_open(last)
            retry_after: float | None = None
            self._count(requests=1)
            try:
                response = client.chat.completions.create(
                    model=model, messages=cast(Any, list(messages)), **self._parameters()
                )
            except openai.APIStatusError as error:
                last, retry_after = self._on_status_error(model, error)
            except openai.APIConnectionError as error:  # timeouts included
                cause = f" ({error.__cause__})" if error.__cause__ else ""
                last = f"{type(error).__name__}: {error}{cause}"
                self._on_failure(last)
            except (openai.APIError, ValueError) as error:  # a body that is not JSON
                last = f"an unreadable reply ({type(error).__name__}: {str(error)[:200]})"
                self._on_failure(last)
            else:
                self.breaker.record_success()
                return self._accounted(model, response)
            if attempt < self.retry.attempts:
                self._sleep(self.retry.delay(attempt, retry_after, self._draw))
        raise _ModelFailed(f"{last} after {self.retry.attempts} attempts")

    def _on_status_error(self, model: str, error: APIStatusError) -> tuple[str, float | None]:
        """Sort an HTTP error: retry (returns why), next model, or give up now."""
        status = error.status_code
        detail = f"HTTP {status}: {_message_of(error)}"
        if 300 <= status < 400:
            self._count(failed=1)
            location = error.response.headers.get("location", "elsewhere")
            raise ModelUnavailable(
                f"{self.endpoint} redirects to {location[:200]} (HTTP {status}): fixloop does "
                "not follow redirects, so that your key and code go only to the host of "
                "llm.base-url; set llm.base-url to the address that answers"
            )
        if status in (401, 403):
            self._on_failure(detail)
            raise ModelUnavailable(
                f"{self.endpoint} refused the key ({detail}). Check the environment variable "
                f"{self.api_key_env} (llm.api-key-env)"
            )
        if status == 404:
            self._count(failed=1)
            raise _ModelFailed(f"not found ({detail})", missing=True)
        if status in _RETRYABLE_STATUS or status >= 500:
            self._on_failure(detail)
            return detail, _retry_after(error)
        self._count(failed=1)
        raise ModelRequestRejected(f"{self.endpoint} refused the request for {model}: {detail}")

    def _on_failure(self, detail: str) -> None:
        self._count(failed=1)
        if self.breaker.record_failure():
            self._fail_if_open(detail)

    def _fail_if_open(self, last: str) -> None:
        remaining = self.breaker.remaining()
        if remaining > 0:
            cause = f" after {last}" if last and last != "no attempt" else ""
            raise ModelUnavailable(
                f"the model endpoint {self.endpoint} is unavailable{cause}: the circuit breaker "
                f"is open for another {remaining:.0f} s. Check that the server is running and "
                f"reachable, llm.base-url, and the key in {self.api_key_env}"
            )

    def _parameters(self) -> dict[str, Any]:
        parameters: dict[str, Any] = {}
        if self.max_tokens is not None:
            parameters["max_tokens"] = self.max_tokens
        if self.temperature is not None:
            parameters["temperature"] = self.temperature
        return parameters

    def _accounted(self, model: str, response: ChatCompletion) -> Completion:
        # The SDK does not validate replies: a server may leave out or garble any field.
        usage = response.usage
        prompt = _count_of(getattr(usage, "prompt_tokens", 0))
        completion = _count_of(getattr(usage, "completion_tokens", 0))
        total = _count_of(getattr(usage, "total_tokens", 0)) or prompt + completion
        answered = response.model if isinstance(response.model, str) and response.model else model
        with self._lock:
            cost = self.prices.cost(prompt, completion)
            self.usage.add_reply(answered, prompt, completion, total, cost)
        choices = response.choices if isinstance(response.choices, list) else []
        choice = choices[0] if choices else None
        message = getattr(choice, "message", None)
        content = getattr(message, "content", None)
        text = content if isinstance(content, str) else ""
        reason = getattr(choice, "finish_reason", None)
        return Completion(
            text, answered, prompt, completion, reason if isinstance(reason, str) else None
        )

    def _count(self, requests: int = 0, failed: int = 0) -> None:
        with self._lock:
            self.usage.requests += requests
            self.usage.failed_requests += failed

    def _openai(self) -> OpenAI:
        with self._lock:
            if self._client is None:
                self._client = self._new_openai()
            return self._client

    def _new_openai(self) -> OpenAI:
        from openai import OpenAI

        key = self.api_key
        if key is None and self.base_url is None:
            raise ModelUnavailable(
                f"no API key for {self.endpoint}: set the environment variable "
                f"{self.api_key_env}, or llm.base-url for a local server"
            )
        return OpenAI(
            api_key=key or _NO_KEY,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=0,  # ours, below, are bounded and counted
            http_client=no_redirects_http_client(self.timeout),
        )


def _message_of(error: APIStatusError) -> str:
    body = error.body  # the SDK passes the "error" object; some servers nest it again
    inner = body.get("error", body) if isinstance(body, Mapping) else None
    if isinstance(inner, Mapping) and inner.get("message"):
        return str(inner["message"])[:300]
    return error.message[:300]


def _count_of(value: object) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def _retry_after(error: APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
