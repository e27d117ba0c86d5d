"""The LLM generator for real through the `openai` client, against a scripted
OpenAI-compatible server on 127.0.0.1: reflection across rounds, malformed replies,
retries, the circuit breaker, fallback models, token and cost accounting, redaction."""

from __future__ import annotations

import dataclasses
import difflib
import json
import subprocess
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pytest

from fixloop.config import LlmSettings, load_settings
from fixloop.loop.llm import (
    CircuitBreaker,
    LlmGenerator,
    ModelUnavailable,
    RetryPolicy,
)
from fixloop.loop.model import Attempt, Candidate, Failure, Location, RepairContext
from tests.support.scripted_openai import Reply, ScriptedServer, scripted_openai, unused_port

BUGGY = """\
def clamp(x, low, high):
    if x < low:
        return low
    if x > high:
        return low
    return x
"""
WRONG = BUGGY.replace("if x > high", "if x >= high")
RIGHT = BUGGY.replace("        return low\n    return x", "        return high\n    return x")

WRONG_REPLY = """\
The upper bound should be inclusive.

calc.py
```python
<<<<<<< SEARCH
    if x > high:
=======
    if x >= high:
>>>>>>> REPLACE
```
"""
RIGHT_REPLY = """\
Return `high` when x is above the range.

calc.py
```python
<<<<<<< SEARCH
    if x > high:
        return low
=======
    if x > high:
        return high
>>>>>>> REPLACE
```
"""
FAILURE_OUTPUT = "E       assert 10 == 0\nE        +  where 10 = clamp(10, 0, 10)\nMARK-7f3a"


def fake(*parts: str) -> str:
    return "".join(parts)  # secrets assembled at run time: this file holds none


AWS = fake("AKIA", "Z7VQWERTYU2OPASD")


def context(source: str = BUGGY, output: str = "E   assert 0 == 10") -> RepairContext:
    return RepairContext(
        project_root=Path("/project"),
        sources={"calc.py": source},
        failures=(Failure("test_calc.py::test_above", "assert 0 == 10", (("calc.py", 5),)),),
        locations=(Location("calc.py", 5, 1.0),),
        test_output=output,
    )


class Sleeps(list[float]):
    """Records the backoff delays instead of waiting them out."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# The tuning these tests use; `generator()` adds the endpoint and model.
FAST = LlmSettings(
    timeout=2.0,
    max_retries=2,
    backoff_base=0.01,
    backoff_max=0.05,
    breaker_threshold=3,
    breaker_cooldown=60.0,
    price_per_1k_prompt=0.5,
    price_per_1k_completion=1.5,
)


def generator(
    base_url: str | None,
    *,
    model: str = "coder",
    fallback: tuple[str, ...] = (),
    tuning: LlmSettings = FAST,
    environ: dict[str, str] | None = None,
    sleep: Sleeps | None = None,
    clock: Clock | None = None,
) -> LlmGenerator:
    settings = dataclasses.replace(
        tuning,
        base_url=base_url,
        model=model,
        api_key_env="FIXLOOP_TEST_KEY",
        fallback_models=fallback,
    )
    return LlmGenerator(
        settings,
        environ={} if environ is None else environ,
        sleep=sleep if sleep is not None else Sleeps(),
        clock=clock or Clock(),
    )


def first(gen: LlmGenerator, ctx: RepairContext) -> Candidate | None:
    return next(gen.candidates(ctx), None)


def user_prompt(server: ScriptedServer, index: int) -> str:
    return "\n".join(
        m["content"] for m in server.requests[index]["messages"] if m["role"] == "user"
    )


@pytest.fixture(autouse=True)
def no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's HTTP client honours HTTP(S)_PROXY: keep a CI proxy off 127.0.0.1."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def down_url() -> Iterator[str]:
    yield f"http://127.0.0.1:{unused_port()}/v1"


# --- the loop: a wrong patch, reflection, the right one --------------------------------


def test_second_round_reflects_on_the_first_failure() -> None:
    with scripted_openai([WRONG_REPLY, RIGHT_REPLY]) as server:
        gen = generator(server.base_url)
        ctx = context()
        wrong = first(gen, ctx)
        assert wrong is not None and wrong.changes == {"calc.py": WRONG}
        assert wrong.generator == "llm:coder"
        assert wrong.description == "The upper bound should be inclusive."

        # What the engine will do: test it, see it fail, carry the failure into round 2.
        diff = "".join(
            difflib.unified_diff(
                BUGGY.splitlines(True), WRONG.splitlines(True), "a/calc.py", "b/calc.py"
            )
        )
        attempt = Attempt(diff=diff, outcome="1 failed, 2 passed", output=FAILURE_OUTPUT)
        right = first(gen, dataclasses.replace(ctx, attempts=(attempt,)))
        assert right is not None and right.changes == {"calc.py": RIGHT}
        assert right.edit_size == len("        return low\n") + len("        return high\n")

    assert len(server.requests) == 2
    assert "MARK-7f3a" not in user_prompt(server, 0)
    second = user_prompt(server, 1)
    assert "MARK-7f3a" in second and "assert 10 == 0" in second  # the failure's output
    assert "+    if x >= high:" in second  # the failed attempt's diff
    assert "1 failed, 2 passed" in second
    assert "   5 |         return low" in second  # the localized code, numbered
    assert server.requests[0]["model"] == "coder"
    assert server.requests[0]["max_tokens"] == FAST.max_tokens
    assert server.requests[0]["messages"][0]["role"] == "system"
    assert server.paths == ["/v1/chat/completions"] * 2


def test_the_prompt_limits_set_in_a_project_and_the_environment_shape_the_prompt(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.fixloop.llm.prompt]\ncontext-lines = 1\nwhole-file-lines = 0\n"
    )
    loaded = load_settings(tmp_path, environ={"FIXLOOP_LLM_PROMPT_OUTPUT_CHARS": "80"})
    assert loaded.problems == ()
    source = BUGGY + "".join(f"def f{n}():\n    return {n}\n" for n in range(20))
    output = "E   assert 0 == 10\n" + "".join(f"line {n} MIDDLE-3c1e\n" for n in range(50))
    ctx = context(source, output)
    prompts = []
    for tuning in (FAST, dataclasses.replace(FAST, prompt=loaded.llm.prompt)):
        with scripted_openai([RIGHT_REPLY]) as server:
            first(generator(server.base_url, tuning=tuning), ctx)
        prompts.append(user_prompt(server, 0))
    default, limited = prompts
    assert "   5 |         return low" in default and "   5 |         return low" in limited
    assert "  20 |" in default and "  20 |" not in limited  # one line each side of line 5
    assert "line 25 MIDDLE-3c1e" in default and "line 25 MIDDLE-3c1e" not in limited


def test_a_local_endpoint_needs_no_key_and_a_set_key_is_sent() -> None:
    with scripted_openai([RIGHT_REPLY, RIGHT_REPLY]) as server:
        assert first(generator(server.base_url), context()) is not None
        key = fake("local-", "k3y-9f8e7d6c5b4a")
        assert first(generator(server.base_url, environ={"FIXLOOP_TEST_KEY": key}), context())
    assert server.headers[0]["authorization"] == "Bearer no-key"
    assert server.headers[1]["authorization"] == f"Bearer {key}"
    assert key not in json.dumps(server.requests)


def test_no_key_for_the_default_endpoint_is_a_clear_error() -> None:
    gen = generator(None)
    with pytest.raises(ModelUnavailable, match="FIXLOOP_TEST_KEY"):
        first(gen, context())


# --- unusable replies ------------------------------------------------------------------


def test_a_malformed_reply_is_rejected_and_the_next_reply_still_works() -> None:
    with scripted_openai(["I would change line 5 to return high.", RIGHT_REPLY]) as server:
        gen = generator(server.base_url)
        candidates = list(islice(gen.candidates(context()), 1))
    assert [c.changes for c in candidates] == [{"calc.py": RIGHT}]
    assert len(gen.rejections) == 1
    assert "no edit" in gen.rejections[0].reason
    assert gen.rejections[0].reply.startswith("I would change line 5")
    # The model was told why and shown its own reply.
    retry = server.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": "I would change line 5 to return high."}
    assert "could not be applied" in retry[-1]["content"]


def test_replies_that_never_apply_end_the_round_without_a_candidate() -> None:
    missing = "calc.py\n<<<<<<< SEARCH\n    while True:\n=======\n    pass\n>>>>>>> REPLACE\n"
    tests = "test_calc.py\n<<<<<<< SEARCH\nassert x\n=======\nassert True\n>>>>>>> REPLACE\n"
    with scripted_openai([missing, tests, ""]) as server:
        gen = generator(server.base_url)
        assert list(gen.candidates(context())) == []
    reasons = [r.reason for r in gen.rejections]
    assert "not found in calc.py" in reasons[0]
    assert "test files must not change" in reasons[1]
    assert "empty" in reasons[2]
    assert len(server.requests) == FAST.replies_per_round


def test_a_garbled_body_is_a_failed_request_and_an_odd_one_an_empty_reply() -> None:
    script: list[Reply | str] = [
        Reply(raw=b"<html>502 Bad Gateway</html>"),
        Reply(raw=b'{"choices": "no"}'),
        RIGHT_REPLY,
    ]
    with scripted_openai(script) as server:
        gen = generator(server.base_url)
        candidate = first(gen, context())
    assert candidate is not None and candidate.changes == {"calc.py": RIGHT}
    assert gen.usage.failed_requests == 1  # the HTML: retried after a backoff
    assert "empty" in gen.rejections[0].reason  # the JSON without choices: asked again
    assert len(server.requests) == 3


def test_a_refused_request_ends_the_round_quietly() -> None:
    with scripted_openai([Reply("context length exceeded", status=400)]) as server:
        gen = generator(server.base_url)
        assert list(gen.candidates(context())) == []
    assert "HTTP 400" in gen.rejections[0].reason
    assert len(server.requests) == 1


# --- retries, the circuit breaker, fallback models -------------------------------------


def test_transient_errors_are_retried_with_growing_backoff() -> None:
    script: list[Reply | str] = [
        Reply(status=503),
        Reply(status=429, headers=(("retry-after", "0"),)),
        RIGHT_REPLY,
    ]
    sleeps = Sleeps()
    with scripted_openai(script) as server:
        gen = generator(server.base_url, sleep=sleeps)
        candidate = first(gen, context())
    assert candidate is not None and candidate.changes == {"calc.py": RIGHT}
    assert len(sleeps) == 2 and 0 < sleeps[0] <= sleeps[1] <= FAST.backoff_max
    assert (gen.usage.requests, gen.usage.failed_requests, gen.usage.replies) == (3, 2, 1)
    assert gen.client.breaker.state == "closed"


def test_a_timeout_is_retried() -> None:
    tuning = dataclasses.replace(FAST, timeout=0.2)
    with scripted_openai([Reply(RIGHT_REPLY, delay=1.0), RIGHT_REPLY]) as server:
        gen = generator(server.base_url, tuning=tuning)
        assert first(gen, context()) is not None
    assert gen.usage.failed_requests == 1 and gen.usage.replies == 1


def test_a_down_endpoint_opens_the_breaker_and_calls_then_fail_fast(down_url: str) -> None:
    sleeps, clock = Sleeps(), Clock()
    gen = generator(down_url, sleep=sleeps, clock=clock)
    with pytest.raises(ModelUnavailable) as raised:
        first(gen, context())
    message = str(raised.value)
    assert down_url in message and "circuit breaker" in message
    assert "Check that the server is running" in message and "llm.base-url" in message
    assert gen.usage.requests == FAST.breaker_threshold == 3
    assert len(sleeps) == 2 and sleeps[0] <= sleeps[1]
    assert gen.client.breaker.state == "open"

    with pytest.raises(ModelUnavailable, match="circuit breaker is open for another 60 s"):
        first(gen, context())
    assert gen.usage.requests == 3  # no request while open
    assert len(sleeps) == 2

    clock.now += FAST.breaker_cooldown + 1  # half-open: one trial, which fails again
    with pytest.raises(ModelUnavailable):
        first(gen, context())
    assert gen.usage.requests == 4
    assert gen.client.breaker.state == "open"


def test_a_down_endpoint_is_named_with_the_cause(down_url: str) -> None:
    gen = generator(down_url, tuning=dataclasses.replace(FAST, breaker_threshold=10))
    with pytest.raises(ModelUnavailable) as raised:
        first(gen, context())
    message = str(raised.value)
    assert f"no model answered at {down_url}" in message
    assert "Connection refused" in message and "after 3 attempts" in message
    assert "Check that the server is running and reachable" in message
    assert "llm.model" not in message  # the model is not the problem


def test_server_errors_open_the_breaker() -> None:
    with scripted_openai([Reply(status=500)] * 5) as server:
        gen = generator(server.base_url)
        with pytest.raises(ModelUnavailable, match="HTTP 500"):
            first(gen, context())
        with pytest.raises(ModelUnavailable, match="circuit breaker"):
            first(gen, context())
    assert len(server.requests) == 3


def test_the_breaker_closes_again_after_the_cooldown_and_a_success() -> None:
    clock = Clock()
    with scripted_openai([Reply(status=500)] * 3 + [RIGHT_REPLY]) as server:
        gen = generator(server.base_url, clock=clock)
        with pytest.raises(ModelUnavailable):
            first(gen, context())
        clock.now += FAST.breaker_cooldown + 1
        assert first(gen, context()) is not None
    assert gen.client.breaker.state == "closed"


def test_a_fallback_model_answers_when_the_primary_is_missing() -> None:
    with scripted_openai([RIGHT_REPLY], missing_models=["big-model"]) as server:
        gen = generator(server.base_url, model="big-model", fallback=("small-model",))
        candidate = first(gen, context())
    assert candidate is not None and candidate.generator == "llm:small-model"
    assert [r["model"] for r in server.requests] == ["big-model", "small-model"]
    assert gen.client.breaker.state == "closed"  # a missing model is no endpoint failure
    assert gen.usage.tokens_by_model == {"small-model": 120}


def test_a_fallback_model_answers_when_the_primary_keeps_failing() -> None:
    tuning = dataclasses.replace(FAST, breaker_threshold=10)
    with scripted_openai([Reply(status=502)] * 3 + [RIGHT_REPLY]) as server:
        gen = generator(server.base_url, model="big", fallback=("small",), tuning=tuning)
        candidate = first(gen, context())
    assert candidate is not None and candidate.generator == "llm:small"
    assert [r["model"] for r in server.requests] == ["big"] * 3 + ["small"]


def test_no_model_found_is_a_clear_error() -> None:
    with scripted_openai([], missing_models=["a", "b"]) as server:
        gen = generator(server.base_url, model="a", fallback=("b",))
        with pytest.raises(ModelUnavailable, match="no model answered") as raised:
            first(gen, context())
    assert "a: not found" in str(raised.value) and "llm.model" in str(raised.value)


# --- accounting and secrets ------------------------------------------------------------


def test_tokens_and_cost_are_counted_per_session() -> None:
    script = [
        Reply("no edit here", prompt_tokens=100, completion_tokens=20),
        Reply(RIGHT_REPLY, prompt_tokens=150, completion_tokens=30),
    ]
    with scripted_openai(script) as server:
        gen = generator(server.base_url)
        assert first(gen, context()) is not None
    usage = gen.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (250, 50, 300)
    assert usage.cost == pytest.approx((250 * 0.5 + 50 * 1.5) / 1000)
    assert usage.as_dict()["tokens_by_model"] == {"coder": 300}


def test_a_new_session_starts_its_own_accounting_but_keeps_the_breaker() -> None:
    with scripted_openai(["no edit", RIGHT_REPLY, Reply(status=500)]) as server:
        gen = generator(server.base_url, tuning=dataclasses.replace(FAST, breaker_threshold=1))
        assert first(gen, context()) is not None
        finished = gen.start_session()
        assert finished.total_tokens == 240 and gen.usage.total_tokens == 0
        assert gen.rejections == []
        with pytest.raises(ModelUnavailable):
            first(gen, context())
        gen.start_session()
        assert gen.client.breaker.state == "open"


def test_a_secret_in_the_source_never_reaches_the_model() -> None:
    source = f'KEY = "{AWS}"\n\n\n' + BUGGY
    output = f"E   AssertionError: clamp failed with key {AWS}"
    replaces_key = (
        "calc.py\n<<<<<<< SEARCH\n" + 'KEY = "<redacted:FL301>"\n'
        "=======\n" + 'KEY = "<redacted:FL301>"  # unused\n' + ">>>>>>> REPLACE\n"
    )
    keeps_key = (
        'Return high.\n\ncalc.py\n<<<<<<< SEARCH\nKEY = "<redacted:FL301>"\n\n\n'
        "def clamp(x, low, high):\n=======\n"
        "def clamp(x, low, high):\n    # bounded\n>>>>>>> REPLACE\n"
    )
    with scripted_openai([replaces_key, keeps_key]) as server:
        gen = generator(server.base_url)
        ctx = dataclasses.replace(context(source, output), locations=(Location("calc.py", 8, 1),))
        candidate = first(gen, ctx)
    assert AWS not in json.dumps(server.requests)
    assert '"<redacted:FL301>"' in user_prompt(server, 0)
    # A reply writing the placeholder back is refused; quoting it in SEARCH still matches.
    assert "placeholder" in gen.rejections[0].reason
    assert candidate is not None
    assert candidate.changes == {
        "calc.py": "def clamp(x, low, high):\n    # bounded\n" + BUGGY[25:]
    }


def test_importing_the_package_does_not_import_openai() -> None:
    code = "import sys, fixloop.loop.llm; print('openai' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


# --- the policies on their own ---------------------------------------------------------


def test_backoff_doubles_up_to_its_bound_and_heeds_retry_after() -> None:
    policy = RetryPolicy(attempts=6, base_delay=0.5, max_delay=4.0, jitter=0.5)
    assert [policy.delay(n, None, lambda: 0.0) for n in range(1, 6)] == [0.5, 1, 2, 4, 4]
    assert policy.delay(1, None, lambda: 1.0) == 0.25  # jitter takes up to half off
    assert policy.delay(1, 3.0, lambda: 0.0) == 3.0  # the server's Retry-After
    assert policy.delay(1, 120.0, lambda: 0.0) == 4.0  # … within our bound


def test_breaker_states() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=2, cooldown=10.0, clock=clock)
    assert not breaker.record_failure() and breaker.state == "closed"
    breaker.record_success()  # a success resets the count: failures must be consecutive
    assert not breaker.record_failure()
    assert breaker.record_failure() and breaker.state == "open"
    assert breaker.remaining() == 10.0
    clock.now += 10.0
    assert breaker.state == "half-open" and breaker.remaining() == 0.0
    assert breaker.record_failure() and breaker.state == "open"  # the trial failed
    clock.now += 10.0
    breaker.record_success()
    assert breaker.state == "closed"


def test_a_description_skips_fences_and_falls_back_to_the_paths() -> None:
    with scripted_openai(["```\n" + RIGHT_REPLY.split("\n\n", 1)[1]]) as server:
        candidate = first(generator(server.base_url), context())
    assert candidate is not None and candidate.description == "model edit to calc.py"
