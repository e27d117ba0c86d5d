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

import ast
import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

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


# --- the kind of an edit ------------------------------------------------------------------
#
# The same kind of fix in code written by someone else shares no names, strings or
# numbers with the one remembered, and often not even its operator: `(f + 32) * 5 / 9` →
# `(f - 32) * 5 / 9` and `km * hours` → `km / hours` are both a wrong arithmetic operator.
# `edit_kind` describes an edit at growing abstraction — what changed into what, with the
# names and literals as roles (a parameter, a local, an attribute, a method; a number, a
# string), then the operators and literals as classes (`<arith>`; what a comparison's
# change does to its relation: converse, strictness or negation) — and the statement it
# is in. `kinship` says how alike two edits are, by the most concrete level they share.

_KEEP = frozenset({"True", "False", "None", "0", "1"})
_ARITH = frozenset({"+", "-", "*", "/", "//", "%", "**", "@"})
_BITS = frozenset({"&", "|", "^", "<<", ">>", "~"})
_AUGMENTED = frozenset(op + "=" for op in _ARITH | _BITS)
_COMPARE = frozenset({"<", ">", "<=", ">=", "==", "!="})
_CONVERSE = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
_STRICTNESS = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
_NEGATION = {"<": ">=", ">=": "<", ">": "<=", "<=": ">", "==": "!=", "!=": "=="}
_STATEMENTS = frozenset(
    {"return", "if", "elif", "while", "for", "assert", "yield", "raise", "with", "del", "def"}
)
_NAME = re.compile(r"[A-Za-z_]\w*$")
_NUMBER = re.compile(r"\d")
# The levels, most concrete first, and what sharing each is worth.
_LEVELS = (("shape", 1.0), ("roles", 0.9), ("names", 0.8), ("classes", 0.6))
# Two edits in the same kind of statement (both in a `return`, both in an `if`) are a
# little more alike than the level they share says.
_SAME_STATEMENT = 0.05


@dataclass(frozen=True)
class EditKind:
    shape: str  # `edit_shape`: what changed into what, as written
    roles: str  # names as roles (`<param>`, `<local>`, `<loop>`, `<attr>`, …), literals too
    names: str  # every variable as `<name>`; a comparison's change as its relation's
    classes: str  # operators and literals as classes: `<arith>`, `<cmp:converse>`, `<bool>`
    statement: str  # `return`, `if`, `assign`, `augassign`, `expr`, …

    def to_text(self) -> str:
        return "\n".join((self.shape, self.roles, self.names, self.classes, self.statement))

    @classmethod
    def from_text(cls, text: str) -> EditKind | None:
        parts = text.split("\n")
        return cls(*parts) if len(parts) == 5 else None


def edit_kind(before: str, after: str, roles: Mapping[str, str] | None = None) -> EditKind | None:
    """The kind of the change from `before` to `after`; `roles`: what each name is where
    it changed (`name_roles`), else names are `<name>`. None as for `edit_shape`."""
    shape = edit_shape(before, after)
    if shape is None:
        return None
    old_all, new_all, old_lines = _region_tokens(before, after)
    head = _common_prefix(old_all, new_all)
    tail = _common_prefix(old_all[head:][::-1], new_all[head:][::-1])
    old_span = range(head, len(old_all) - tail)
    new_span = range(head, len(new_all) - tail)
    shared = {old_all[i] for i in old_span if _MOVABLE.match(old_all[i])} & {
        new_all[i] for i in new_span
    }
    placeholders: dict[str, str] = {}
    for token in [old_all[i] for i in old_span] + [new_all[i] for i in new_span]:
        if token in shared and token not in placeholders:
            placeholders[token] = f"${len(placeholders) + 1}"
    role_of = roles or {}

    def role(tokens: list[str], i: int, fine: bool) -> str:
        token = tokens[i]
        if token in placeholders:
            return placeholders[token]
        return _token_role(tokens, i, role_of if fine else {})

    fine = ([role(old_all, i, True) for i in old_span], [role(new_all, i, True) for i in new_span])
    old = [role(old_all, i, False) for i in old_span]
    new = [role(new_all, i, False) for i in new_span]
    return EditKind(
        shape,
        " ".join([*fine[0], "=>", *fine[1]]),
        " ".join(_relation(old, new) or [*old, "=>", *new]),
        " ".join(_relation(old, new) or _classes(old, new)),
        _statement(old_lines),
    )


def kinship(remembered: EditKind, candidate: EditKind) -> float:
    """How alike two edits are as fixes: by the most concrete level they share (1.0 the
    same edit, 0.6 the same class of edit), 0.0 when none."""
    for level, worth in _LEVELS:
        if getattr(remembered, level) == getattr(candidate, level):
            same = remembered.statement == candidate.statement
            return min(1.0, worth + (_SAME_STATEMENT if same else 0.0))
    return 0.0


def name_roles(source: str, line: int) -> dict[str, str]:
    """What each name is in the function around a 1-based line of Python: `param`,
    `loop` (bound by a `for` or a comprehension), `local`, `global`. Empty when the source
    does not parse."""
    tree = _parsed(source)
    if tree is None:
        return {}
    roles: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
            for target in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
                roles.update(dict.fromkeys(_bound(target), "global"))
    function = _innermost_function(source, line)
    if function is None:
        return roles
    scoped: dict[str, str] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            scoped.update(dict.fromkeys(_bound(node.target), "loop"))
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in _bound(target):
                    scoped.setdefault(name, "local")
    arguments = function.args
    extra = [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, *extra]:
        scoped[arg.arg] = "param"
    return {**roles, **scoped}


def file_edit_kind(original: str, changed: str) -> EditKind | None:
    """The kind of an edit of a whole Python file, its names' roles read from the file
    (parsed once per file text: a session asks for many edits of one file)."""
    return edit_kind(original, changed, _roles(original, changed_line(original, changed)))


@lru_cache(maxsize=256)
def _roles(source: str, line: int) -> Mapping[str, str]:
    return name_roles(source, line)


@lru_cache(maxsize=8)  # a session's edits are of a few files
def _parsed(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def changed_line(before: str, after: str) -> int:
    """The 1-based line of `before` where `after` first differs."""
    return _common_prefix(before.splitlines(), after.splitlines()) + 1


def _bound(target: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _innermost_function(source: str, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    around = [f for f in _functions(source) if f.lineno <= line <= (f.end_lineno or f.lineno)]
    return max(around, key=lambda node: node.lineno, default=None)


@lru_cache(maxsize=8)  # as `_parsed`: a walk of a large module per record cost more than
def _functions(source: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:  # its test run
    tree = _parsed(source)
    if tree is None:
        return []
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _region_tokens(before: str, after: str) -> tuple[list[str], list[str], list[str]]:
    """The tokens of the changed lines of each side, and the changed lines of `before`."""
    old_lines, new_lines = before.splitlines(), after.splitlines()
    start = _common_prefix(old_lines, new_lines)
    end = _common_prefix(old_lines[start:][::-1], new_lines[start:][::-1])
    old = old_lines[start : len(old_lines) - end]
    new = new_lines[start : len(new_lines) - end]
    return _TOKEN.findall("\n".join(old)), _TOKEN.findall("\n".join(new)), old or new


def _token_role(tokens: list[str], i: int, roles: Mapping[str, str]) -> str:
    token = tokens[i]
    if token in _KEEP or keyword.iskeyword(token):
        return token
    if token[0] in "\"'":
        return "<str>"
    if _NUMBER.match(token):
        return "<num>"
    if not _NAME.match(token):
        return token
    after_dot = i > 0 and tokens[i - 1] == "."
    called = i + 1 < len(tokens) and tokens[i + 1] == "("
    if after_dot:
        return "<method>" if called else "<attr>"
    if called:
        return "<call>"
    return f"<{roles[token]}>" if token in roles else "<name>"


def _relation(old: list[str], new: list[str]) -> list[str] | None:
    """A comparison's operator changed alone, as what the change does to its relation
    (as much a kind of fix as a variable for another: `a > b` → `a < b` and `x <= y` →
    `x >= y` both reverse it); None for any other edit."""
    if not (len(old) == len(new) == 1 and old[0] in _COMPARE and new[0] in _COMPARE):
        return None
    a, b = old[0], new[0]
    change = (
        "converse" if _CONVERSE.get(a) == b
        else "strictness" if _STRICTNESS.get(a) == b
        else "negation" if _NEGATION.get(a) == b
        else "other"
    )  # fmt: skip
    return ["<cmp>", "=>", f"<cmp:{change}>"]


def _classes(old: list[str], new: list[str]) -> list[str]:
    """Operators and literals as their classes."""
    return [*map(_token_class, old), "=>", *map(_token_class, new)]


def _token_class(token: str) -> str:
    if token in _ARITH:
        return "<arith>"
    if token in _BITS:
        return "<bits>"
    if token in _AUGMENTED:
        return "<augmented>"
    if token in _COMPARE:
        return "<cmp>"
    if token in ("True", "False"):
        return "<bool>"
    if token in ("0", "1"):
        return "<num>"
    if token in ("and", "or"):
        return "<boolop>"
    return token


def _statement(lines: list[str]) -> str:
    """The kind of statement the first changed line is."""
    first = next((line for line in lines if line.strip()), "")
    tokens: list[str] = _TOKEN.findall(first)
    if not tokens:
        return ""
    if tokens[0] in _STATEMENTS:
        return tokens[0]
    if any(t in _AUGMENTED for t in tokens):
        return "augassign"
    if "=" in tokens:
        return "assign"
    return "expr"
