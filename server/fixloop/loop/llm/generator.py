"""`LlmGenerator`: candidates from a model, one reply at a time.

Each `candidates(context)` call is one round: the prompt carries the context (with the
earlier attempts, for reflection); a reply whose edits cannot be applied is recorded as a
`Rejection` and the model is told why and asked again, within `replies_per_round`.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from fixloop.loop.llm.client import (
    ChatClient,
    CircuitBreaker,
    Completion,
    ModelRequestRejected,
    Prices,
    RetryPolicy,
    Usage,
)
from fixloop.loop.llm.edits import (
    Edit,
    EditError,
    apply_edits,
    edit_size,
    parse_edits,
)
from fixloop.loop.llm.prompts import build_messages, retry_message, review_messages
from fixloop.loop.llm.redact import Redactor, contains_placeholder
from fixloop.loop.llm.settings import LlmSettings
from fixloop.loop.model import Candidate, RepairContext, Review
from fixloop.loop.patches import unified_diff


@dataclass(frozen=True)
class Rejection:
    """A reply that gave no candidate, and why (for the session log)."""

    reason: str
    model: str
    reply: str  # the reply's head, as received


_REPLY_KEPT = 2_000
_SourcesKey = tuple[tuple[str, int], ...]  # (path, hash of the text) of each source


class LlmGenerator:
    """A `Generator` backed by an OpenAI-compatible chat endpoint."""

    reflective = True  # the engine asks again each iteration, with the new attempts

    def __init__(
        self,
        settings: LlmSettings,
        *,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not settings.model:
            raise ValueError("the LLM generator needs a model (llm.model)")
        self.settings = settings
        self.name = f"llm:{settings.model}"
        self.client = _client(settings, environ, sleep, clock)
        self.rejections: list[Rejection] = []
        self._environ = environ
        self._redactor_cache: tuple[_SourcesKey, Redactor] | None = None
        self._lock = threading.Lock()

    @property
    def usage(self) -> Usage:
        """Requests, tokens and cost so far in this session."""
        return self.client.usage

    def start_session(self) -> Usage:
        """Fresh accounting and rejections for a new session (the breaker is kept);
        returns the previous session's usage."""
        with self._lock:
            self.rejections = []
        return self.client.reset_usage()

    def candidates(self, context: RepairContext) -> Iterator[Candidate]:
        """One round: a candidate per usable reply. Raises `ModelUnavailable` when the
        endpoint cannot be used (down, breaker open, bad key, no model)."""
        redactor = self._redactor(context.sources)
        question = build_messages(context, redactor, self.settings.prompt)
        conversation = question
        for _ in range(self.settings.replies_per_round):
            try:
                completion = self.client.complete(conversation)
            except ModelRequestRejected as error:
                self._reject(str(error), self.name.removeprefix("llm:"), "")
                return
            try:
                candidate = self._candidate(completion, context, redactor)
            except EditError as error:
                reason = str(error)
                if completion.finish_reason == "length":
                    reason += " (the reply was cut off at max_tokens)"
                self._reject(reason, completion.model, completion.text)
                answer = {"role": "assistant", "content": redactor.redact(completion.text)}
                conversation = [*question, answer, retry_message(reason)]
                continue
            yield candidate
            conversation = question  # asked again: another sample of the same question

    def review(self, context: RepairContext, candidate: Candidate) -> Review:
        """The model's opinion of a verified patch (the optional review phase). A reply
        that neither approves nor rejects counts as approval: the tests already pass."""
        redactor = self._redactor(context.sources)
        diff = unified_diff(context.sources, candidate.changes)
        completion = self.client.complete(
            review_messages(context.failures, diff, redactor, self.settings.prompt)
        )
        text = completion.text.strip()
        verdict, _, reason = text.partition("\n")
        rejected = verdict.strip().strip("*#` ").upper().startswith("REJECT")
        return Review(approved=not rejected, reason=(reason.strip() or verdict.strip())[:300])

    def _candidate(
        self, completion: Completion, context: RepairContext, redactor: Redactor
    ) -> Candidate:
        if not completion.text.strip():
            raise EditError(f"the reply was empty (finish reason: {completion.finish_reason})")
        edits = parse_edits(completion.text)
        if any(contains_placeholder(edit.replace) for edit in edits):
            raise EditError(
                "the edit writes a `<redacted:...>` placeholder into the code: leave the "
                "lines that hold hidden secrets unchanged"
            )
        # A SEARCH text may quote a redacted line: it must match the real one.
        restored = [dataclasses.replace(e, search=redactor.restore(e.search)) for e in edits]
        changes = apply_edits(context.sources, restored, self.settings.fuzzy_threshold)
        size = sum(edit_size(context.sources[path], text) for path, text in changes.items())
        return Candidate(
            changes=changes,
            description=_description(completion.text, edits),
            generator=f"llm:{completion.model}",
            edit_size=size,
        )

    def _reject(self, reason: str, model: str, reply: str) -> None:
        with self._lock:
            self.rejections.append(Rejection(reason, model, reply[:_REPLY_KEPT]))

    def _redactor(self, sources: Mapping[str, str]) -> Redactor:
        """One scan of the sources per session: they do not change between rounds."""
        key = tuple(sorted((path, hash(text)) for path, text in sources.items()))
        with self._lock:
            if self._redactor_cache is None or self._redactor_cache[0] != key:
                always = [self.client.api_key or ""]
                redactor = Redactor.for_sources(sources, self._environ_or_os(), always)
                self._redactor_cache = (key, redactor)
            return self._redactor_cache[1]

    def _environ_or_os(self) -> Mapping[str, str]:
        import os

        return os.environ if self._environ is None else self._environ


def _client(
    settings: LlmSettings,
    environ: Mapping[str, str] | None,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> ChatClient:
    assert settings.model
    return ChatClient(
        model=settings.model,
        base_url=settings.base_url,
        fallback_models=settings.fallback_models,
        api_key_env=settings.api_key_env,
        environ=environ,
        timeout=settings.timeout,
        max_tokens=settings.max_tokens or None,
        temperature=settings.temperature,
        retry=RetryPolicy(
            attempts=settings.max_retries + 1,
            base_delay=settings.backoff_base,
            max_delay=settings.backoff_max,
        ),
        breaker=CircuitBreaker(settings.breaker_threshold, settings.breaker_cooldown, clock),
        prices=Prices(settings.price_per_1k_prompt, settings.price_per_1k_completion),
        sleep=sleep,
    )


def _description(reply: str, edits: list[Edit]) -> str:
    """The reply's opening sentence, else which files the edit touches."""
    for line in re.sub(r"<think>.*?(?:</think>|\Z)", "", reply, flags=re.DOTALL).splitlines():
        text = line.strip()
        if not text or text.startswith(("```", "~~~", "<<<<<<<", "---", "+++", "@@")):
            continue
        text = text.strip("*#`> ")
        if any(text == edit.path or text.endswith(edit.path) for edit in edits):
            break  # the first block's path: there was no sentence
        return text[:157] + "..." if len(text) > 160 else text
    paths = ", ".join(dict.fromkeys(edit.path for edit in edits))
    return f"model edit to {paths}"
