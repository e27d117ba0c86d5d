"""Typed command arguments: each command's `arguments` array is structured, position by
position, into the command's dataclass with lsprotocol's converter; an argument that does
not fit is answered with -32602 (InvalidParams) naming the command and the field.

The converter is strict where lsprotocol's is lenient: `Text` is a non-empty string (not
`str(7)`), `Line` a 0-based line number (an int >= 0, not `True` or `1.5`). More
arguments than fields are refused, never dropped.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, NewType, TypeVar

from cattrs.errors import ClassValidationError
from lsprotocol.converters import get_converter
from pygls.exceptions import JsonRpcInvalidParams

Text = NewType("Text", str)  # a non-empty string: a URI, an id
Line = NewType("Line", int)  # a 0-based line number

T = TypeVar("T")


def _text(value: Any, _: type) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"a non-empty string expected, got {_shown(value)}")
    return value


def _line(value: Any, _: type) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"a line number (an integer >= 0) expected, got {_shown(value)}")
    return value


_converter = get_converter()
_converter.register_structure_hook(Text, _text)
_converter.register_structure_hook(Line, _line)
_ATTRIBUTE = re.compile(r"@ attribute (\w+)")


def structure_arguments(command: str, args: tuple[Any, ...], kind: type[T]) -> T:
    """`args` as the dataclass `kind` (its fields in order); InvalidParams when they
    do not fit."""
    fields = [field.name for field in dataclasses.fields(kind)]  # type: ignore[arg-type]
    if len(args) > len(fields):
        raise JsonRpcInvalidParams(
            f"{command} takes {usage(kind)}; got {len(args)} argument{'s' * (len(args) != 1)}"
        )
    try:
        return _converter.structure(dict(zip(fields, args, strict=False)), kind)
    except ClassValidationError as error:
        problems = "; ".join(_problem(e) for e in error.exceptions)
        raise JsonRpcInvalidParams(f"{command}: {problems} (it takes {usage(kind)})") from None


def usage(kind: type) -> str:
    """What a command takes, e.g. `[uri] or [uri, line]`."""
    fields = dataclasses.fields(kind)
    if not fields:
        return "no arguments"
    required = [f.name for f in fields if f.default is dataclasses.MISSING]
    shapes = [[f.name for f in fields[:count]] for count in range(len(required), len(fields) + 1)]
    return " or ".join(
        "[" + ", ".join(shape) + "]" if shape else "no arguments" for shape in shapes
    )


def _problem(error: BaseException) -> str:
    notes = " ".join(getattr(error, "__notes__", []))
    found = _ATTRIBUTE.search(notes)
    field = found.group(1) if found else "?"
    if isinstance(error, KeyError):
        return f"`{field}` is missing"
    return f"`{field}`: {error}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
