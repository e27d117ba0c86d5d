"""Failure signatures: what a failure *is*, with the details that change from run to run
(numbers, paths, quoted values, line numbers) abstracted away, so that the same failure
in another place, run or project looks the same to memory."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

_MAX_MESSAGE = 300
_TOP_FRAMES = 3

# `ZeroDivisionError: division by zero`, `module.CustomError: …`, `E   TypeError: …`, and
# any other CamelCase name followed by a colon (`StopIteration: …`, pytest's `Failed: …`).
_EXCEPTION = re.compile(
    r"^(?:E\s+)?((?:[A-Za-z_]\w*\.)*(?:[A-Z]\w*(?:Error|Exception|Warning|Exit|Failed|Failure"
    r"|Interrupt|Timeout)\b|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+(?=:\s)|Failed(?=:\s)))\b:?\s*"
)
_ASSERT = re.compile(r"^(?:E\s+)?assert\b")
_ABSTRACTIONS: Sequence[tuple[re.Pattern[str], str]] = (
    (re.compile(r"""(?:[A-Za-z]:)?(?:[\w.~-]*[/\\])+[\w.-]+"""), "<path>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<addr>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uuid>"),
    (re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""), "<str>"),
    (re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?j?(?![\w.])"), "<num>"),
    (re.compile(r"\s+"), " "),
)
_PARAMETERS = re.compile(r"\[[^\]]*\]$")
_PYTHON_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)")
_JS_FUNCTION = re.compile(
    r"^(\s*)(?:export\s+)?(?:async\s+)?(?:function\s*\*?\s*(\w+)"
    r"|(?:const|let|var)\s+(\w+)\s*=\s*(?:async\s*)?(?:function\b|\([^)]*\)\s*=>|\w+\s*=>)"
    r"|(?:static\s+|async\s+|get\s+|set\s+)*(\w+)\s*\([^)]*\)\s*\{)"
)


@dataclass(frozen=True)
class FailureSignature:
    """A failing test reduced to what identifies the failure."""

    exception: str  # "AssertionError"; "" when the message names none
    message: str  # normalized: `assert <num> == <num>`
    test: str  # "test_cart.py::test_total" (parameters abstracted)
    frames: tuple[str, ...] = ()  # "cart.py:total", innermost last

    @property
    def kind(self) -> str:
        """The failure's shape (exception and message), for per-kind retention caps."""
        return f"{self.exception}: {self.message}" if self.exception else self.message

    def kind_id(self, language: str) -> str:
        digest = hashlib.sha1(f"{language}\0{self.kind}".encode(), usedforsecurity=False)
        return digest.hexdigest()[:16]

    def text(self) -> str:
        """One readable block: what memory shows and what free-text search matches."""
        lines = [self.kind, f"in {self.test}" if self.test else ""]
        if self.frames:
            lines.append("at " + " > ".join(self.frames))
        return "\n".join(line for line in lines if line)

    def to_dict(self) -> dict[str, object]:
        return {
            "exception": self.exception,
            "message": self.message,
            "test": self.test,
            "frames": list(self.frames),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> FailureSignature:
        frames = data.get("frames") or ()
        return cls(
            exception=str(data.get("exception", "")),
            message=str(data.get("message", "")),
            test=str(data.get("test", "")),
            frames=tuple(str(f) for f in frames) if isinstance(frames, list | tuple) else (),
        )


def normalize_message(message: str) -> str:
    """The first lines of a message with numbers, paths and quoted values abstracted."""
    text = "\n".join(line for line in message.strip().splitlines()[:3] if line.strip())
    for pattern, replacement in _ABSTRACTIONS:
        text = pattern.sub(replacement, text)
    return text.strip()[:_MAX_MESSAGE]


def split_exception(message: str) -> tuple[str, str]:
    """(exception type, the rest of the message); pytest's bare `assert …` is an
    AssertionError."""
    first = message.lstrip()
    match = _EXCEPTION.match(first)
    if match:
        return match.group(1).rsplit(".", 1)[-1], first[match.end() :]
    if _ASSERT.match(first):
        return "AssertionError", first
    return "", first


def normalize_test(test_id: str) -> str:
    """`tests/unit/test_cart.py::T::test_total[3-4]` → `test_cart.py::T::test_total[<param>]`."""
    file, sep, rest = test_id.partition("::")
    name = PurePath(file).name if sep else file
    rest = _PARAMETERS.sub("[<param>]", rest)
    return f"{name}{sep}{rest}"


def enclosing_function(text: str, line: int) -> str | None:
    """The name of the function around a 1-based line, by indentation (Python, JS/TS)."""
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return None
    target = lines[line - 1]
    indent = len(target) - len(target.lstrip())
    for candidate in reversed(lines[:line]):
        for pattern in (_PYTHON_DEF, _JS_FUNCTION):
            match = pattern.match(candidate)
            if match and (len(match.group(1)) < indent or candidate is target):
                return next(g for g in match.groups()[1:] if g)
    return None


def frame_names(
    frames: Sequence[tuple[str, int]], sources: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The innermost frames as `file:function` (or `file`), line numbers dropped."""
    names: list[str] = []
    for path, line in frames[-_TOP_FRAMES:]:
        text = (sources or {}).get(path)
        function = enclosing_function(text, line) if text is not None else None
        name = PurePath(path).name + (f":{function}" if function else "")
        if not names or names[-1] != name:
            names.append(name)
    return tuple(names)


def signature_of(
    test_id: str,
    message: str,
    frames: Sequence[tuple[str, int]] = (),
    sources: Mapping[str, str] | None = None,
) -> FailureSignature:
    """The signature of one failing test (a `fixloop.loop.model.Failure`'s fields)."""
    exception, rest = split_exception(message)
    return FailureSignature(
        exception=exception,
        message=normalize_message(rest),
        test=normalize_test(test_id),
        frames=frame_names(frames, sources),
    )
