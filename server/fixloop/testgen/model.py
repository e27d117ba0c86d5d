"""Tests written by a model: the function and its module go to the model through the
loop's chat client (retries, circuit breaker, fallback models) with secrets redacted;
the reply's Python code block is the test file."""

from __future__ import annotations

import ast
import os
import re
from typing import TYPE_CHECKING

from fixloop.testgen.errors import TestGenError
from fixloop.testgen.target import FunctionTarget

if TYPE_CHECKING:
    from fixloop.config import LlmSettings
    from fixloop.loop.llm import ChatClient, Redactor

SYSTEM_PROMPT = """\
You write pytest tests for Python functions.

Rules:
- Test the function's current behaviour as the code shows it: every test must pass on \
the code as it is. Do not guess at intended behaviour the code does not have.
- Cover typical inputs, edge cases and boundaries (the values the code compares with), \
and the exceptions it raises, with `pytest.raises`.
- Use hypothesis property tests (`from hypothesis import given, strategies as st`) where \
they fit: typed parameters, properties that hold for every input.
- Import the function exactly as the user message says. No network, no files outside \
`tmp_path`, no sleeping.
- Some secrets were replaced by `<redacted:...>` placeholders: never use one in a test.

Reply with the whole test file in one ```python code block and nothing else.
"""
_MODULE_LINES = 300  # a larger module is shown around the function only
_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)


def model_tests(target: FunctionTarget, settings: LlmSettings) -> tuple[str, str]:
    """The test file the model wrote, and the model's name. Raises `ModelUnavailable`
    when the endpoint cannot be used, `TestGenError` when the reply has no usable file."""
    from fixloop.loop.llm import LlmGenerator, ModelRequestRejected

    client = LlmGenerator(settings).client
    redactor = _redactor(target, client)
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": redactor.redact(user_prompt(target))},
    ]
    try:
        completion = client.complete(messages)
    except ModelRequestRejected as error:
        raise TestGenError(f"the model refused the request: {error}") from None
    code = test_file_of(completion.text)
    if target.name not in code:
        raise TestGenError(f"the model's tests never call {target.qualname}")
    return code, completion.model


def _redactor(target: FunctionTarget, client: ChatClient) -> Redactor:
    from fixloop.loop.llm import Redactor

    sources = {target.relative_path: target.module_source}
    return Redactor.for_sources(sources, os.environ, [client.api_key or ""])


def user_prompt(target: FunctionTarget) -> str:
    lines = target.module_source.splitlines()
    if len(lines) > _MODULE_LINES:
        start = max(0, target.line - 1 - _MODULE_LINES // 2)
        lines = lines[start : start + _MODULE_LINES]
    module = "\n".join(lines)
    return (
        f"Write pytest tests for `{target.qualname}` of `{target.relative_path}`.\n"
        f"Import it with: from {target.module} import {target.imported}\n"
        + (f"Call it on a fresh instance: {target.callee}(...)\n" if target.bound else "")
        + "\n"
        f"The function:\n```python\n{target.source}\n```\n\n"
        f"Its module, for context:\n```python\n{module}\n```\n"
    )


def test_file_of(reply: str) -> str:
    """The reply's (longest) Python code block, checked to parse and to hold tests."""
    reply = re.sub(r"<think>.*?(?:</think>|\Z)", "", reply, flags=re.DOTALL)
    blocks: list[str] = _FENCE.findall(reply)
    if not blocks:
        raise TestGenError("the model's reply has no ```python code block")
    code = max(blocks, key=len).strip() + "\n"
    try:
        tree = ast.parse(code)
    except SyntaxError as error:
        raise TestGenError(
            f"the model's tests do not parse (line {error.lineno}): {error.msg}"
        ) from None
    if "<redacted" in code:
        raise TestGenError("the model's tests use a `<redacted:...>` placeholder")
    if not any(
        isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name.lower().startswith("test")
        for node in ast.walk(tree)
    ):
        raise TestGenError("the model's reply defines no test")
    return code
