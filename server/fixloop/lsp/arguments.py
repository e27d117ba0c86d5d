"""Checking a command's arguments: a wrong shape is answered with -32602 and the usage.

pygls spreads `workspace/executeCommand`'s arguments over the handler's parameters, and a
missing one fails the call with a TypeError (-32603 and a traceback): fixloop's commands
take `*args` and check them here instead.
"""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcInvalidParams


def _is_line(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _fits(value: Any, kind: str) -> bool:
    return _is_line(value) if kind == "line" else isinstance(value, str) and bool(value)


def command_arguments(
    command: str, args: tuple[Any, ...], usage: str, *kinds: str, required: int | None = None
) -> tuple[Any, ...]:
    """`args` checked against `kinds` ("text" a non-empty string, "line" an int >= 0),
    of which the first `required` (all by default) must be given; the missing are None."""
    required = len(kinds) if required is None else required
    if not required <= len(args) <= len(kinds) or not all(
        _fits(value, kind) for value, kind in zip(args, kinds, strict=False)
    ):
        raise JsonRpcInvalidParams(f"{command} takes {usage}; got {_shape(args)}")
    return (*args, *([None] * (len(kinds) - len(args))))


def _shape(args: tuple[Any, ...]) -> str:
    if not args:
        return "no arguments"
    return "[" + ", ".join(type(value).__name__ for value in args) + "]"
