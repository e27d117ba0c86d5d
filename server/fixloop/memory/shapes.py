"""The shape of an edit: what a fix does, apart from the code it does it in.

The same kind of bug in different code (a `<` that should be `<=`, an `append` that
should be `extend`, arguments in the wrong order) is fixed by edits of one shape:

    if on_hand < reorder_level:   →  if on_hand <= reorder_level:     `< => <=`
    items.append(group)           →  items.extend(group)              `append => extend`
    divmod(60, seconds)           →  divmod(seconds, 60)              `$1 , $2 => $2 , $1`
    values[start : start + w - 1] →  values[start : start + w]        `- 1 =>`

The changed tokens, with the common start and end dropped; names and literals found on
both sides (moved, not changed) become numbered placeholders, the others stay as written.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""[A-Za-z_][A-Za-z0-9_]*|\d[\d_.]*|"[^"\n]*"|'[^'\n]*'"""
    r"|\*\*=?|//=?|[-+*/%&|^@<>=!]=|->|<<|>>|[^\sA-Za-z0-9_]"
)
_MOVABLE = re.compile(r"""[A-Za-z_\d"']""")
# An edit of more tokens than this is a rewrite, not a recurring kind of fix.
_MAX_TOKENS = 24


def edit_shape(before: str, after: str) -> str | None:
    """The shape of the change from `before` to `after` (texts of one file or region),
    or None when nothing changed or the change is too large to recur."""
    old, new = _changed_tokens(before, after)
    if (not old and not new) or len(old) + len(new) > 2 * _MAX_TOKENS:
        return None
    shared = {t for t in old if _MOVABLE.match(t)} & set(new)
    names: dict[str, str] = {}
    for token in old + new:
        if token in shared and token not in names:
            names[token] = f"${len(names) + 1}"
    return " ".join([*(names.get(t, t) for t in old), "=>", *(names.get(t, t) for t in new)])


def _changed_tokens(before: str, after: str) -> tuple[list[str], list[str]]:
    old_lines, new_lines = before.splitlines(), after.splitlines()
    start = _common_prefix(old_lines, new_lines)
    end = _common_prefix(old_lines[start:][::-1], new_lines[start:][::-1])
    old = _TOKEN.findall("\n".join(old_lines[start : len(old_lines) - end]))
    new = _TOKEN.findall("\n".join(new_lines[start : len(new_lines) - end]))
    head = _common_prefix(old, new)
    old, new = old[head:], new[head:]
    tail = _common_prefix(old[::-1], new[::-1])
    return old[: len(old) - tail], new[: len(new) - tail]


def _common_prefix(a: list[str], b: list[str]) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count
