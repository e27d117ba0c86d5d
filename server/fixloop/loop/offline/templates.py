"""Repair templates: each proposes minimal text edits at one suspicious line.

A template is a function (source, line) → edits, most natural alternative first (`rank`).
Edits replace the exact source span of an AST node or operator token, so a candidate
differs from the original in one place and keeps its formatting.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Callable, Hashable, Iterator
from typing import TypeVar

from fixloop.loop.offline.calls import Param, other_calls, portable, scope_names, signatures
from fixloop.loop.offline.lexical import (
    attributes_of,
    callee_parameters,
    counterparts,
    literal_roles,
    literals_by_role,
    loaded_module_names,
    module_functions,
    most_alike,
    nested_functions,
    required_positionals,
)
from fixloop.loop.offline.source import Edit, Source, is_builtin

Template = Callable[[Source, int], Iterator[Edit]]
T = TypeVar("T", bound=Hashable)

# Variables a template may combine with an expression: the nearest few are enough.
_MAX_NAMES = 8


def _replace(
    src: Source, node: ast.AST, text: str, template: str, rank: int, what: str = ""
) -> Edit:
    start, end = src.span(node)
    # No description: the generator writes "`new` instead of `old`" for the candidates
    # it yields, not for the many edits it never reaches.
    return Edit(start, end, _fit(src, node, text), template, _line_of(node), what, rank)


_BINOP_PRECEDENCE: dict[type[ast.operator], int] = {
    ast.BitOr: 7,
    ast.BitXor: 8,
    ast.BitAnd: 9,
    ast.LShift: 10,
    ast.RShift: 10,
    ast.Add: 11,
    ast.Sub: 11,
    ast.Mult: 12,
    ast.Div: 12,
    ast.FloorDiv: 12,
    ast.Mod: 12,
    ast.MatMult: 12,
    ast.Pow: 14,
}
_ATOM = 16


def _precedence(node: ast.AST) -> int:
    if isinstance(node, ast.Lambda | ast.NamedExpr):
        return 1
    if isinstance(node, ast.IfExp):
        return 2
    if isinstance(node, ast.BoolOp):
        return 3 if isinstance(node.op, ast.Or) else 4
    if isinstance(node, ast.UnaryOp):
        return 5 if isinstance(node.op, ast.Not) else 13
    if isinstance(node, ast.Compare):
        return 6
    if isinstance(node, ast.BinOp):
        return _BINOP_PRECEDENCE[type(node.op)]
    if isinstance(node, ast.Await):
        return 15
    return _ATOM


def _required(parent: ast.AST | None, node: ast.AST) -> int:
    """The lowest precedence an expression may have in node's place without parentheses."""
    if isinstance(parent, ast.BinOp):
        own = _BINOP_PRECEDENCE[type(parent.op)]
        if isinstance(parent.op, ast.Pow):
            return own + 1 if parent.left is node else 13
        return own if parent.left is node else own + 1
    if isinstance(parent, ast.UnaryOp):
        return 5 if isinstance(parent.op, ast.Not) else 13
    if isinstance(parent, ast.Compare):
        return 7
    if isinstance(parent, ast.BoolOp):
        return 4 if isinstance(parent.op, ast.Or) else 5
    if isinstance(parent, ast.Attribute | ast.Subscript) and parent.value is node:
        return _ATOM
    if isinstance(parent, ast.Call) and parent.func is node:
        return _ATOM
    if isinstance(parent, ast.IfExp):
        return 2 if parent.orelse is node else 3
    return 2


_SIMPLE = re.compile(r"[\w.]+|\"[^\"]*\"|'[^']*'")


def _fit(src: Source, node: ast.AST, text: str) -> str:
    """text, parenthesized when it would not keep its meaning in node's place."""
    required = _required(src.parent(node), node)
    if required <= 2 or _SIMPLE.fullmatch(text):
        return text
    try:
        new = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return text
    return text if _precedence(new) >= required else f"({text})"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


def _nodes(
    src: Source, line: int, kind: type[ast.AST] | tuple[type[ast.AST], ...]
) -> list[ast.AST]:
    return [node for node in src.expressions_at(line) if isinstance(node, kind)]


def _is_load(node: ast.AST) -> bool:
    return isinstance(getattr(node, "ctx", ast.Load()), ast.Load)


def _is_value(src: Source, node: ast.AST) -> bool:
    """An expression whose value a term, call or slice may change: not a call's callee,
    an attribute's object name, a target, or a keyword name."""
    if not isinstance(node, ast.expr) or not _is_load(node):
        return False
    if isinstance(node, ast.Starred | ast.Slice | ast.Lambda | ast.JoinedStr):
        return False
    parent = src.parent(node)
    if isinstance(parent, ast.Call) and parent.func is node:
        return False
    if isinstance(parent, ast.Attribute):
        return False
    return not isinstance(parent, ast.JoinedStr | ast.FormattedValue)


# -- operators --------------------------------------------------------------------------

_COMPARE_TEXT: dict[type[ast.cmpop], str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}
_COMPARE_SWAPS: dict[str, tuple[str, ...]] = {
    "<": ("<=", ">", "!=", ">=", "=="),
    "<=": ("<", ">=", "==", ">"),
    ">": (">=", "<", "!=", "<="),
    ">=": (">", "<=", "==", "<"),
    "==": ("!=", "<=", ">=", "is", "<", ">"),
    "!=": ("==", "<", ">", "is not"),
    "is": ("is not", "=="),
    "is not": ("is", "!="),
    "in": ("not in",),
    "not in": ("in",),
}
_COMPARE_TOKEN = re.compile(r"<=|>=|==|!=|<|>|\bis\s+not\b|\bnot\s+in\b|\bis\b|\bin\b")


def compare_op(src: Source, line: int) -> Iterator[Edit]:
    for node in _nodes(src, line, ast.Compare):
        assert isinstance(node, ast.Compare)
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            token = src.find_token(src.span(left)[1], src.span(right)[0], _COMPARE_TOKEN)
            left = right
            if token is None:
                continue
            old = _COMPARE_TEXT[type(op)]
            for rank, new in enumerate(_COMPARE_SWAPS[old]):
                yield Edit(
                    *token, new, "compare_op", node.lineno, f"`{new}` instead of `{old}`", rank
                )


_ARITH_TEXT: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.MatMult: "@",
}
_ARITH_SWAPS: dict[str, tuple[str, ...]] = {
    "+": ("-", "*"),
    "-": ("+", "//"),
    "*": ("/", "//", "+", "**", "-"),
    "/": ("//", "*", "%"),
    "//": ("/", "%", "*"),
    "%": ("//", "/"),
    "**": ("*",),
    "&": ("|", "^"),
    "|": ("&", "^"),
    "^": ("|", "&"),
    "<<": (">>",),
    ">>": ("<<",),
    "@": ("*",),
}
_ARITH_TOKEN = re.compile(r"\*\*|//|<<|>>|[-+*/%&|^@]")


def arith_op(src: Source, line: int) -> Iterator[Edit]:
    for node in _nodes(src, line, ast.BinOp):
        assert isinstance(node, ast.BinOp)
        token = src.find_token(src.span(node.left)[1], src.span(node.right)[0], _ARITH_TOKEN)
        if token is not None:
            swaps = _op_swaps(node.lineno, token, _ARITH_TEXT[type(node.op)], "")
            yield from (e for e in swaps if not _is_identity(e.text, node.right))
    for stmt in src.statements_at(line):
        if isinstance(stmt, ast.AugAssign):
            gap = (src.span(stmt.target)[1], src.span(stmt.value)[0])
            token = src.find_token(*gap, re.compile(r"(\*\*|//|<<|>>|[-+*/%&|^@])="))
            if token is not None:
                swaps = _op_swaps(stmt.lineno, token, _ARITH_TEXT[type(stmt.op)], "=")
                yield from (e for e in swaps if not _is_identity(e.text[:-1], stmt.value))


def _is_identity(operator: str, right: ast.AST) -> bool:
    """`x - 0`, `x * 1`, `x // 1`, …: an operation no one writes, whatever the tests say."""
    if not isinstance(right, ast.Constant) or isinstance(right.value, bool):
        return False
    neutral = {"+": 0, "-": 0, "*": 1, "/": 1, "//": 1, "**": 1, "|": 0, "^": 0, "<<": 0, ">>": 0}
    return operator in neutral and right.value == neutral[operator]


def _op_swaps(line: int, token: tuple[int, int], old: str, suffix: str) -> Iterator[Edit]:
    for rank, new in enumerate(_ARITH_SWAPS[old]):
        text = new + suffix
        yield Edit(*token, text, "arith_op", line, f"`{text}` instead of `{old}{suffix}`", rank)


def bool_op(src: Source, line: int) -> Iterator[Edit]:
    for node in _nodes(src, line, ast.BoolOp):
        assert isinstance(node, ast.BoolOp)
        old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
        pattern = re.compile(rf"\b{old}\b")
        for first, second in zip(node.values, node.values[1:], strict=False):
            token = src.find_token(src.span(first)[1], src.span(second)[0], pattern)
            if token is not None:
                yield Edit(*token, new, "bool_op", node.lineno, f"`{new}` instead of `{old}`")


def aug_assign(src: Source, line: int) -> Iterator[Edit]:
    """`x = e` ↔ `x += e`: an accumulator overwritten, or a value accumulated twice. Not
    on a name's first binding in its scope: `x += e` there can only raise."""
    for stmt in src.statements_at(line):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            unbound = isinstance(target, ast.Name) and not src.bound_before(target.id, stmt)
            if isinstance(target, ast.Name | ast.Attribute | ast.Subscript) and not unbound:
                start, end = src.span(target)[1], src.span(stmt.value)[0]
                token = src.find_token(start, end, re.compile(r"="))
                if token is not None:
                    for rank, new in enumerate(("+=", "-=")):
                        yield Edit(
                            *token, new, "aug_assign", stmt.lineno, f"`{new}` instead of `=`", rank
                        )
        elif isinstance(stmt, ast.AugAssign):
            start, end = src.span(stmt.target)[1], src.span(stmt.value)[0]
            token = src.find_token(start, end, re.compile(r"\S+="))
            if token is not None:
                yield Edit(*token, "=", "aug_assign", stmt.lineno, "`=` instead of an update")


# -- constants and bounds ---------------------------------------------------------------


def off_by_one(src: Source, line: int) -> Iterator[Edit]:
    for node in _nodes(src, line, ast.Constant):
        assert isinstance(node, ast.Constant)
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        negative = isinstance(src.parent(node), ast.UnaryOp)
        for rank, new in enumerate(
            (value + 1, value - 1) if not negative else (value - 1, value + 1)
        ):
            parent = src.parent(node)
            neutral = (
                isinstance(parent, ast.BinOp | ast.AugAssign)
                and (parent.right if isinstance(parent, ast.BinOp) else parent.value) is node
                and _is_identity(_ARITH_TEXT[type(parent.op)], ast.Constant(new))
            )
            if new >= 0 and not neutral:
                yield _replace(src, node, str(new), "off_by_one", rank)


def bool_const(src: Source, line: int) -> Iterator[Edit]:
    for node in _nodes(src, line, ast.Constant):
        assert isinstance(node, ast.Constant)
        if isinstance(node.value, bool):
            yield _replace(src, node, str(not node.value), "bool_const", 0)


def _plus_minus(src: Source, node: ast.AST) -> list[str]:
    """`e + 1` and `e - 1`, folding into an existing `± 1`."""
    text = src.segment(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        right = node.right
        if isinstance(right, ast.Constant) and right.value == 1:
            return [src.segment(node.left)]
    if isinstance(node, ast.Constant):
        return []  # off_by_one changes constants
    wrapped = f"({text})" if isinstance(node, ast.BoolOp | ast.Compare | ast.IfExp) else text
    return [f"{wrapped} + 1", f"{wrapped} - 1"]


def bound(src: Source, line: int) -> Iterator[Edit]:
    """Range bounds, slice bounds and indices: one more, one less, or dropped."""
    for node in src.expressions_at(line):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "range"
        ):
            yield from _range_bounds(src, node)
        elif isinstance(node, ast.Slice):
            for part in (node.lower, node.upper):
                if part is not None:
                    for rank, text in enumerate(_plus_minus(src, part)):
                        yield _replace(src, part, text, "bound", rank)
                    yield _drop_slice_part(src, node, part)
            yield from _add_slice_part(src, node, line)
        elif isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice | ast.Tuple):
            for rank, text in enumerate(_plus_minus(src, node.slice)):
                yield _replace(src, node.slice, text, "bound", rank)


def _range_bounds(src: Source, call: ast.Call) -> Iterator[Edit]:
    args = call.args
    for arg in args[:2]:
        for rank, text in enumerate(_plus_minus(src, arg)):
            yield _replace(src, arg, text, "bound", rank)
    if len(args) == 1:
        stop = src.segment(args[0])
        yield _replace(src, args[0], f"1, {stop}", "bound", 2)
    if len(args) == 2 and isinstance(args[0], ast.Constant) and args[0].value in (0, 1):
        start, _ = src.span(args[0])
        yield Edit(start, src.span(args[1])[0], "", "bound", call.lineno, "range from 0", 2)


def _drop_slice_part(src: Source, node: ast.Slice, part: ast.expr) -> Edit:
    what = "lower" if part is node.lower else "upper"
    return _replace(src, part, "", "bound", 3, f"drop the slice's {what} bound")


def _add_slice_part(src: Source, node: ast.Slice, line: int) -> Iterator[Edit]:
    """The bound a slice lacks, the inverse of dropping one: `s[1:]` for `s[1:-1]`, `s[i:]`
    for `s[i:j]` (wrapping it, `s[i:][:j]`, counts from the wrong place)."""
    text = src.segment(node)
    if node.step is not None or text.count(":") != 1:
        return  # a step or a second colon: not a plain `a:b`
    sliced = src.parent(node)
    taken = {n.id for n in ast.walk(sliced) if isinstance(n, ast.Name)} if sliced else set()
    names = [k for k in src.local_names(line) if k not in taken][:_MAX_NAMES]
    lower, upper = text.split(":")
    if node.upper is None:
        for rank, bound_text in enumerate(["-1", *names]):
            yield _replace(src, node, f"{lower}:{bound_text}", "bound", rank + 1)
    if node.lower is None:
        for rank, bound_text in enumerate(["1", *names]):
            yield _replace(src, node, f"{bound_text}:{upper}", "bound", rank + 1)


# -- conditions ----------------------------------------------------------------------------


def _tests_at(src: Source, line: int) -> list[ast.expr]:
    tests: list[ast.expr] = []
    for stmt in src.statements_at(line):
        if isinstance(stmt, ast.If | ast.While | ast.Assert):
            tests.append(stmt.test)
        elif isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Compare | ast.BoolOp):
            tests.append(stmt.value)
    for node in src.expressions_at(line):
        if isinstance(node, ast.IfExp):
            tests.append(node.test)
        elif isinstance(node, ast.comprehension):
            tests.extend(node.ifs)
    return tests


def _needs_parens(node: ast.AST) -> bool:
    return isinstance(node, ast.BoolOp | ast.IfExp | ast.Lambda | ast.NamedExpr)


def negate(src: Source, line: int) -> Iterator[Edit]:
    for test in _tests_at(src, line):
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            yield _replace(src, test, src.segment(test.operand), "negate", 0, "drop the `not`")
        else:
            text = src.segment(test)
            text = f"({text})" if _needs_parens(test) else text
            yield _replace(src, test, f"not {text}", "negate", 0, "negate the condition")
    for node in _nodes(src, line, ast.Constant):
        assert isinstance(node, ast.Constant)
        number = node.value
        if isinstance(number, int | float) and not isinstance(number, bool) and number:
            parent = src.parent(node)
            if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub):
                yield _replace(src, parent, src.segment(node), "negate", 1, "drop the minus sign")
            elif not _is_term(src, node):  # `x - -1`: arith_op writes `x + 1`
                yield _replace(src, node, f"-{src.segment(node)}", "negate", 1, "negate the value")
    for node in _nodes(src, line, ast.BoolOp):
        assert isinstance(node, ast.BoolOp)
        for rank, value in enumerate(node.values):
            if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not):
                yield _replace(src, value, src.segment(value.operand), "negate", 1 + rank)
            elif not _needs_parens(value):
                yield _replace(src, value, f"not {src.segment(value)}", "negate", 1 + rank)


def _is_term(src: Source, node: ast.AST) -> bool:
    """The right operand of `+` or `-`."""
    parent = src.parent(node)
    return (
        isinstance(parent, ast.BinOp)
        and isinstance(parent.op, ast.Add | ast.Sub)
        and parent.right is node
    )


def extend_cond(src: Source, line: int) -> Iterator[Edit]:
    """A condition missing a case: `c or not v`, `v is None or c`, `c and v`, …; a bare
    name tested against None or 0."""
    for test in _tests_at(src, line):
        text = src.segment(test)
        inner = f"({text})" if isinstance(test, ast.IfExp | ast.Lambda) else text
        names = _names_in(test)
        names += [n for n in src.loop_targets(line) if n not in names]
        function = src.function_of(line)
        nones = src.memo(("none_names", function), _none_names) if function else set()
        for i, name in enumerate(names[:_MAX_NAMES]):
            options = [
                f"{inner} or not {name}",
                f"{name} is None or {inner}",
                f"{inner} and {name}",
                f"not {name} or {inner}",
                f"{inner} or {name}",
                f"{inner} and not {name}",
                f"{name} is not None and {inner}",
            ]
            if name in nones:  # a variable that may hold None is tested with `is None`
                options = [options[1], options[6], *options[:1], *options[2:6]]
            for rank, new in enumerate(options):
                yield _replace(src, test, new, "extend_cond", i * 7 + rank)
        if isinstance(test, ast.Name | ast.Attribute):
            alternatives = (f"{text} is not None", f"{text} is None", f"{text} > 0", f"{text} == 0")
            for rank, new in enumerate(alternatives):
                yield _replace(src, test, new, "extend_cond", rank)


def _none_names(src: Source, function: ast.AST) -> set[str]:
    """Variables of the function that are assigned None (or default to it)."""
    names: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and _is_none(node.value):
            names.update(n.id for n in node.targets if isinstance(n, ast.Name))
    if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        args = function.args
        positional = [*args.posonlyargs, *args.args]
        for arg, default in zip(positional[::-1], args.defaults[::-1], strict=False):
            if _is_none(default):
                names.add(arg.arg)
    return names


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _names_in(node: ast.AST) -> list[str]:
    names: list[str] = []
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and not is_builtin(child.id) and child.id not in names:
            names.append(child.id)
    return names


# -- names and arguments -------------------------------------------------------------------


def wrong_var(src: Source, line: int) -> Iterator[Edit]:
    scope = [name for name in src.local_names(line)]
    for node in _nodes(src, line, ast.Name):
        assert isinstance(node, ast.Name)
        parent = src.parent(node)
        if isinstance(parent, ast.Call) and parent.func is node:
            continue
        if node.id not in scope and not isinstance(node.ctx, ast.Store):
            continue  # a builtin, an import or a function: not a variable
        taken = _names_bound_with(src, node)
        others = [name for name in scope if name != node.id and name not in taken]
        later = _copied_later(src, node, line) if isinstance(node.ctx, ast.Load) else 0
        for rank, name in enumerate(others[: _MAX_NAMES * 2], start=later):
            yield _replace(src, node, name, "wrong_var", rank)


def _names_bound_with(src: Source, node: ast.Name) -> set[str]:
    """Names bound by the same unpacking target (`for i, x in …`): not a rename target."""
    parent = src.parent(node)
    if not isinstance(node.ctx, ast.Store) or not isinstance(parent, ast.Tuple | ast.List):
        return set()
    return {n.id for n in ast.walk(parent) if isinstance(n, ast.Name)}


def swap_args(src: Source, line: int) -> Iterator[Edit]:
    for node in src.expressions_at(line):
        if isinstance(node, ast.Call):
            args = [a for a in node.args if not isinstance(a, ast.Starred)]
            for rank, (first, second) in enumerate(itertools.pairwise(args)):
                yield _swap(src, first, second, "swap_args", rank)
        elif isinstance(node, ast.BinOp) and isinstance(
            node.op, ast.Sub | ast.Div | ast.FloorDiv | ast.Mod | ast.Pow
        ):
            yield _swap(src, node.left, node.right, "swap_args", 1)
        elif isinstance(node, ast.Compare) and len(node.ops) == 1:
            yield _swap(src, node.left, node.comparators[0], "swap_args", 2)
        elif isinstance(node, ast.DictComp):
            yield _swap(src, node.key, node.value, "swap_args", 0)


def _swap(src: Source, first: ast.AST, second: ast.AST, template: str, rank: int) -> Edit:
    (start, first_end), (second_start, end) = src.span(first), src.span(second)
    a, between, b = (
        src.text[start:first_end],
        src.text[first_end:second_start],
        src.text[second_start:end],
    )
    return Edit(
        start,
        end,
        b + between + a,
        template,
        _line_of(first),
        f"swap `{_short(a)}` and `{_short(b)}`",
        rank,
    )


def _line_of(node: ast.AST) -> int:
    line: int = getattr(node, "lineno", 0)
    return line


def return_value(src: Source, line: int) -> Iterator[Edit]:
    for stmt in src.statements_at(line):
        if not isinstance(stmt, ast.Return):
            continue
        old = src.segment(stmt.value) if stmt.value is not None else ""
        names = src.local_names(line)[:_MAX_NAMES]
        options = [n for n in names if n != old]
        truth = isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, bool)
        if truth:  # a truth value: whether a collection or flag is empty
            options = [f"not {n}" for n in names] + options
        options += ["None", "0", "-1", "[]", '""', "True", "False"]
        for rank, new in enumerate(o for o in options if o != old):
            if stmt.value is None:
                start, end = src.span(stmt)
                yield Edit(
                    start,
                    end,
                    f"return {new}",
                    "return_value",
                    stmt.lineno,
                    f"return `{new}`",
                    rank,
                )
            else:
                yield _replace(src, stmt.value, new, "return_value", rank)


_SWAPPABLE: tuple[tuple[str, ...], ...] = (
    ("any", "all"),
    ("min", "max"),
    ("sum", "len"),
    ("sorted", "reversed"),
    ("int", "round", "float"),
    ("floor", "ceil", "round"),
    ("append", "extend"),
    ("lower", "upper", "title", "capitalize"),
    ("startswith", "endswith"),
    ("strip", "lstrip", "rstrip"),
    ("ljust", "rjust", "center"),
    ("weekday", "isoweekday"),
    ("split", "rsplit", "splitlines"),
    ("find", "rfind", "index"),
    ("keys", "values", "items"),
    ("remove", "discard", "pop"),
    ("isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower"),
    ("add", "update"),
    ("isinstance", "issubclass"),
    ("search", "match", "fullmatch"),
)
_ALTERNATIVES = {name: [o for o in group if o != name] for group in _SWAPPABLE for name in group}


def swap_builtin(src: Source, line: int) -> Iterator[Edit]:
    for node in _nodes(src, line, ast.Call):
        assert isinstance(node, ast.Call)
        func = node.func
        if isinstance(func, ast.Name):
            start, end = src.span(func)
            name = func.id
        elif isinstance(func, ast.Attribute):
            end = src.span(func)[1]
            start = end - len(func.attr)
            name = func.attr
        else:
            continue
        for rank, new in enumerate(_ALTERNATIVES.get(name, ())):
            if new == "float" and _is_division(node):
                continue  # `float(a / b)`: a no-op a careful person does not write
            yield Edit(
                start, end, new, "swap_builtin", node.lineno, f"`{new}` instead of `{name}`", rank
            )
    yield from _swap_function_values(src, line)


def _swap_function_values(src: Source, line: int) -> Iterator[Edit]:
    """A builtin or method passed as a value, not called: `key=max`, `map(all, rows)`,
    `key=str.lower`."""
    local = set(src.local_names(line))
    for node in _nodes(src, line, (ast.Name, ast.Attribute)):
        parent = src.parent(node)
        if not _is_load(node) or (isinstance(parent, ast.Call) and parent.func is node):
            continue
        if isinstance(node, ast.Name):
            if not is_builtin(node.id) or node.id in local:
                continue  # a variable that happens to be called `max`
            start, end = src.span(node)
            name = node.id
        elif isinstance(node, ast.Attribute) and (
            isinstance(parent, ast.keyword)
            or (isinstance(parent, ast.Call) and node in parent.args)
        ):
            end = src.span(node)[1]
            start, name = end - len(node.attr), node.attr
        else:
            continue
        for rank, new in enumerate(_ALTERNATIVES.get(name, ())):
            what = f"`{new}` instead of `{name}`"
            yield Edit(start, end, new, "swap_builtin", _line_of(node), what, rank)


def _is_division(call: ast.Call) -> bool:
    return (
        len(call.args) == 1
        and isinstance(call.args[0], ast.BinOp)
        and isinstance(call.args[0].op, ast.Div)
    )


def _copied_later(src: Source, node: ast.AST, line: int) -> int:
    """1 when the same text comes again later on the line (`w.x * w.x`): of two copies,
    the later one is more likely the slip of a copied expression."""
    text = src.segment(node)
    start = src.span(node)[0]
    for other in src.expressions_at(line):
        later = type(other) is type(node) and src.span(other)[0] > start
        if later and src.segment(other) == text:
            return 1
    return 0


def rename_attr(src: Source, line: int) -> Iterator[Edit]:
    for node in _nodes(src, line, ast.Attribute):
        assert isinstance(node, ast.Attribute)
        end = src.span(node)[1]
        start = end - len(node.attr)
        if src.text[start:end] != node.attr:
            continue
        # The file's attributes of the same object first (`tokens.Operator` for
        # `tokens.Punctuation`), then its most used: a long file has more than are tried.
        same = attributes_of(src, src.segment(node.value))
        others = [a for a in dict.fromkeys([*same, *src.attribute_names]) if a != node.attr]
        later = _copied_later(src, node, line)
        for rank, new in enumerate(others[: _MAX_NAMES * 2], start=later):
            yield Edit(
                start,
                end,
                new,
                "rename_attr",
                node.lineno,
                f"`.{new}` instead of `.{node.attr}`",
                rank,
            )


# -- terms, calls, slices, literals ------------------------------------------------------


def _is_boolean(node: ast.AST) -> bool:
    """A truth value: arithmetic on it is not what a person writes."""
    not_ = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
    return not_ or isinstance(node, ast.Compare | ast.BoolOp)


def _term_sites(src: Source, line: int) -> Iterator[tuple[ast.AST, str, str]]:
    """The values on the line a term may be added to: the node, and its text as the left
    operand of `+`/`-` (low) and of `*`/`**` (high)."""
    for node in src.expressions_at(line):
        if not _is_value(src, node) or isinstance(node, ast.Constant) or _is_boolean(node):
            continue
        text = src.segment(node)
        low = f"({text})" if isinstance(node, ast.BoolOp | ast.Compare | ast.IfExp) else text
        high = (
            text
            if isinstance(node, ast.Name | ast.Attribute | ast.Call | ast.Subscript)
            else f"({text})"
        )
        yield node, low, high


def add_one(src: Source, line: int) -> Iterator[Edit]:
    """A value one off by a missing `+ 1` or `- 1` (an off-by-one of the bug studies with
    no constant to change): two alternatives a site, so earlier than the other terms."""
    for node, low, _high in _term_sites(src, line):
        if _ends_in_unit(node):
            continue  # `x - 1 + 1`: bound changes `x - 1` into `x`
        for rank, new in enumerate((f"{low} + 1", f"{low} - 1")):
            yield _replace(src, node, new, "add_one", rank)


def add_term(src: Source, line: int) -> Iterator[Edit]:
    names = src.local_names(line)[:_MAX_NAMES]
    for node, low, high in _term_sites(src, line):
        options = [f"{high} ** 2", f"{high} * 2", f"{high} // 2"]
        inside = _names_in(node)
        for name in names:
            if name not in inside:
                options += [f"{low} + {name}", f"{low} - {name}", f"{high} * {name}"]
        for rank, new in enumerate(options):
            yield _replace(src, node, new, "add_term", rank)


def _ends_in_unit(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Add | ast.Sub)
        and isinstance(node.right, ast.Constant)
        and node.right.value == 1
    )


def remove_term(src: Source, line: int) -> Iterator[Edit]:
    for node in _nodes(src, line, ast.BinOp):
        assert isinstance(node, ast.BinOp)
        yield _replace(src, node, src.segment(node.left), "remove_term", 0)
        yield _replace(src, node, src.segment(node.right), "remove_term", 1)
    for node in _nodes(src, line, ast.UnaryOp):
        assert isinstance(node, ast.UnaryOp)
        if isinstance(node.op, ast.USub):
            yield _replace(src, node, src.segment(node.operand), "remove_term", 0)


_WRAPPERS = (
    "max(0, {})",
    "abs({})",
    "int({})",
    "len({})",
    "sorted({})",
    "list({})",
    "str({})",
    "round({})",
    "float({})",
    "set({})",
    "min(0, {})",
    "{}.strip()",
    "{}.lower()",
    "tuple({})",
    "reversed({})",
)


_NUMERIC_CALLS = frozenset({"len", "int", "float", "abs", "round", "ord", "sum", "pow"})


def _numeric_names(src: Source, function: ast.AST) -> set[str]:
    """Variables of the function that plainly hold numbers: counters, lengths, results of
    arithmetic, `range` loop variables and `enumerate` indices."""
    numbers: set[str] = set()
    for _ in range(2):  # a second pass sees names defined from the first pass's
        for node in ast.walk(function):
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if node.value is not None and _numeric_expr(node.value, numbers):
                    numbers.update(t.id for t in targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.For | ast.comprehension):
                loop = node.iter
                if isinstance(loop, ast.Call) and isinstance(loop.func, ast.Name):
                    if loop.func.id == "range" and isinstance(node.target, ast.Name):
                        numbers.add(node.target.id)
                    elif loop.func.id == "enumerate" and isinstance(node.target, ast.Tuple):
                        first = node.target.elts[0]
                        if isinstance(first, ast.Name):
                            numbers.add(first.id)
    return numbers


def _numeric_expr(node: ast.AST, numbers: set[str]) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float) and not isinstance(node.value, bool)
    if isinstance(node, ast.Name):
        return node.id in numbers
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id in _NUMERIC_CALLS
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return _numeric_expr(node.operand, numbers)
    if isinstance(node, ast.BinOp):
        left, right = _numeric_expr(node.left, numbers), _numeric_expr(node.right, numbers)
        if isinstance(node.op, ast.Sub | ast.Div | ast.FloorDiv | ast.Pow):
            return left or right
        return left and right
    return False


def _is_numeric(src: Source, node: ast.AST, line: int) -> bool:
    function = src.function_of(line)
    numbers = src.memo(("numeric", function), _numeric_names) if function else set()
    return _numeric_expr(node, numbers)


# Wrappers that need a sequence or a string: not for a number.
_SEQUENCE_WRAPPERS = frozenset(
    {"len({})", "sorted({})", "list({})", "set({})", "tuple({})", "reversed({})"}
)


def wrap_call(src: Source, line: int) -> Iterator[Edit]:
    for node in src.expressions_at(line):
        if not _is_value(src, node) or isinstance(node, ast.Constant):
            continue
        text = src.segment(node)
        numeric = _is_numeric(src, node, line)
        for rank, wrapper in enumerate(_WRAPPERS):
            if numeric and (wrapper in _SEQUENCE_WRAPPERS or wrapper.startswith("{}.")):
                continue
            inner = text
            if wrapper.startswith("{}.") and not isinstance(
                node, ast.Name | ast.Attribute | ast.Call | ast.Subscript
            ):
                inner = f"({text})"
            yield _replace(src, node, wrapper.format(inner), "wrap_call", rank)


def unwrap(src: Source, line: int) -> Iterator[Edit]:
    for node in _nodes(src, line, ast.Call):
        assert isinstance(node, ast.Call)
        if len(node.args) == 1 and not node.keywords and isinstance(node.func, ast.Name):
            yield _replace(src, node, src.segment(node.args[0]), "unwrap", 0)
        elif not node.args and not node.keywords and isinstance(node.func, ast.Attribute):
            yield _replace(src, node, src.segment(node.func.value), "unwrap", 1)


def insert_slice(src: Source, line: int) -> Iterator[Edit]:
    names = src.local_names(line)[:_MAX_NAMES]
    function = src.function_of(line)
    numbers = src.memo(("numeric", function), _numeric_names) if function else set()
    for node in src.expressions_at(line):
        if not isinstance(node, ast.Name | ast.Attribute | ast.Call | ast.Subscript):
            continue
        if not _is_value(src, node) or _is_numeric(src, node, line):
            continue  # a number has no slices
        text = src.segment(node)
        options = [f"{text}[1:]", f"{text}[:-1]", f"{text}[::-1]"]
        others = [k for k in names if k != text]
        options += [f"{text}[{k}:]" for k in others] + [f"{text}[:{k}]" for k in others]
        sized = [k for k in others if k not in numbers]
        options += [f"{text}[len({k}):]" for k in sized] + [f"{text}[:-len({k})]" for k in sized]
        for rank, new in enumerate(options):
            yield _replace(src, node, new, "insert_slice", rank)


def fill_literal(src: Source, line: int) -> Iterator[Edit]:
    names = src.local_names(line)[:_MAX_NAMES]
    for node in src.expressions_at(line):
        if isinstance(node, ast.List | ast.Tuple | ast.Set) and not node.elts and _is_load(node):
            options = [f"[{n}]" for n in names] + ["[0]", "[None]"]
            for rank, new in enumerate(options):
                yield _replace(src, node, new, "fill_literal", rank)
        elif (
            isinstance(node, ast.Constant)
            and node.value == ""
            and not isinstance(src.parent(node), ast.JoinedStr)
        ):
            quote = src.segment(node)[:1]
            for rank, value in enumerate((" ", ",", "\\n", "-", ", ", "0")):
                yield _replace(src, node, f"{quote}{value}{quote}", "fill_literal", rank)
        elif isinstance(node, ast.Constant) and node.value is None:
            for rank, new in enumerate(("[]", "0", '""', "{}")):
                yield _replace(src, node, new, "fill_literal", rank)


def _expressions_of(src: Source, function: ast.AST) -> list[str]:
    """The one-line, non-trivial expressions of a function, once each."""
    pool: list[str] = []
    for stmt in ast.walk(function):
        if isinstance(stmt, ast.stmt) and stmt is not function:
            for node in src.own_expressions(stmt):
                if isinstance(node, ast.expr) and not isinstance(node, ast.Name | ast.Constant):
                    text = src.segment(node)
                    if "\n" not in text and len(text) <= 60 and text not in pool:
                        pool.append(text)
    return pool


def reuse_expr(src: Source, line: int) -> Iterator[Edit]:
    """Replace an expression by another expression of the same function."""
    function = src.function_of(line)
    if function is None:
        return
    pool = list(src.local_names(line)[:_MAX_NAMES])
    pool += [
        text for text in src.memo(("expressions", function), _expressions_of) if text not in pool
    ]
    for node in src.expressions_at(line):
        if not _is_value(src, node):
            continue
        old = src.segment(node)
        if isinstance(node, ast.Name):
            continue  # wrong_var replaces names
        for rank, new in enumerate(p for p in pool if p != old and old not in p):
            yield _replace(src, node, new, "reuse_expr", rank)


# -- statements -----------------------------------------------------------------------------


def _own_lines(src: Source, stmt: ast.stmt) -> tuple[int, int] | None:
    """The text span of whole lines holding exactly this statement, if it has them."""
    start, end = src.span(stmt)
    first = src.line_start(stmt.lineno)
    last_line = stmt.end_lineno or stmt.lineno
    after = src.line_start(last_line + 1)
    if src.text[first:start].strip() or src.text[end:after].strip():
        return None
    return first, after


def _siblings(src: Source, stmt: ast.stmt) -> list[ast.stmt] | None:
    parent = src.parent(stmt)
    if parent is None:
        return None
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and stmt in block:
            return block
    return None


def delete_stmt(src: Source, line: int) -> Iterator[Edit]:
    for stmt in src.statements_at(line):
        if stmt.lineno != line or isinstance(stmt, ast.FunctionDef | ast.ClassDef):
            continue
        lines = _own_lines(src, stmt)
        block = _siblings(src, stmt)
        if lines is None or block is None:
            continue
        text = "" if len(block) > 1 else f"{src.indent_of(line)}pass{src.newline()}"
        yield Edit(*lines, text, "delete_stmt", line, f"delete line {line}")


def move_stmt(src: Source, line: int) -> Iterator[Edit]:
    """Swap with the statement before or after; or move out of / into the block around."""
    for stmt in src.statements_at(line):
        block = _siblings(src, stmt)
        lines = _own_lines(src, stmt)
        if stmt.lineno != line or block is None or lines is None:
            continue
        index = block.index(stmt)
        for rank, other_index in enumerate((index - 1, index + 1)):
            if 0 <= other_index < len(block) and not _commute(stmt, block[other_index]):
                other = _own_lines(src, block[other_index])
                if other is not None:
                    yield _swap_blocks(src, lines, other, line, rank)
        yield from _dedent_last(src, stmt, block, lines)


def _commute(a: ast.stmt, b: ast.stmt) -> bool:
    """Whether two statements may run in either order with the same effect: each only
    binds its own names (see _inert_binds), and neither reads what the other binds.
    Swapping them is no candidate: it cannot change what a test sees (a module's
    `__author__` and `__version__`, two functions of a module), and each cost a test run."""
    bound_a, bound_b = _inert_binds(a), _inert_binds(b)
    if bound_a is None or bound_b is None or bound_a & bound_b:
        return False
    return not (_reads(a) & bound_b or _reads(b) & bound_a)


def _inert_binds(stmt: ast.stmt) -> set[str] | None:
    """The names a statement binds when binding them is all it does, else None: a
    function whose decorators only wrap it and whose defaults call nothing; a class
    with no base (a base's `__init_subclass__` or metaclass may register it) made of
    such statements; a literal or a name assigned to names."""
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
        defaults = [*stmt.args.defaults, *(d for d in stmt.args.kw_defaults if d is not None)]
        wraps_only = all(map(_plain_decorator, stmt.decorator_list))
        return {stmt.name} if wraps_only and not any(map(_calls, defaults)) else None
    if isinstance(stmt, ast.ClassDef):
        if stmt.bases or stmt.keywords or stmt.decorator_list:
            return None
        body = [s for s in stmt.body if not _docstring(s)]
        return {stmt.name} if all(_inert_binds(s) is not None for s in body) else None
    if isinstance(stmt, ast.Assign) and _inert_value(stmt.value):
        names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
        return set(names) if len(names) == len(stmt.targets) else None
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return {stmt.target.id} if stmt.value is None or _inert_value(stmt.value) else None
    return None


# Decorators that only wrap the function: the order of the definitions they decorate
# does not matter (a decorator that registers, `@app.route(...)`, makes it matter).
_PURE_DECORATORS = frozenset({"staticmethod", "classmethod", "property"})
_ACCESSORS = frozenset({"setter", "getter", "deleter"})


def _plain_decorator(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in _PURE_DECORATORS
    return (
        isinstance(node, ast.Attribute)
        and node.attr in _ACCESSORS
        and isinstance(node.value, ast.Name)
    )


def _inert_value(node: ast.expr) -> bool:
    """A literal, or a name (an alias, `get = resolve`): nothing runs but the binding."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_inert_value(element) for element in node.elts)
    return isinstance(node, ast.Constant | ast.Name)


def _calls(node: ast.AST) -> bool:
    return any(isinstance(inner, ast.Call) for inner in ast.walk(node))


def _docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


def _reads(stmt: ast.stmt) -> set[str]:
    """The names a statement reads when it runs (a definition's defaults, decorators and
    annotations, a class's body; not a function's body, which runs later)."""
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
        parts: list[ast.AST] = [stmt.args, *stmt.decorator_list]
        parts += [stmt.returns] if stmt.returns is not None else []
    elif isinstance(stmt, ast.ClassDef):
        return set().union(*map(_reads, stmt.body))
    else:
        parts = [stmt]
    return {
        node.id
        for part in parts
        for node in ast.walk(part)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }


def _swap_blocks(src: Source, a: tuple[int, int], b: tuple[int, int], line: int, rank: int) -> Edit:
    (first, second) = sorted((a, b))
    text = (
        src.text[second[0] : second[1]]
        + src.text[first[1] : second[0]]
        + src.text[first[0] : first[1]]
    )
    return Edit(first[0], second[1], text, "move_stmt", line, f"move line {line}", rank)


def _dedent_last(
    src: Source, stmt: ast.stmt, block: list[ast.stmt], lines: tuple[int, int]
) -> Iterator[Edit]:
    """The last statement of a loop or if body belongs after it (e.g. `return` in a loop)."""
    parent = src.parent(stmt)
    if (
        block[-1] is not stmt
        or len(block) < 2
        or not isinstance(parent, ast.For | ast.While | ast.If)
    ):
        return
    parent_lines = _own_lines(src, parent)
    if parent_lines is None or parent_lines[1] != lines[1]:
        return
    outer = src.indent_of(parent.lineno)
    inner = src.indent_of(stmt.lineno)
    body = src.text[lines[0] : lines[1]]
    moved = "".join(
        outer + piece[len(inner) :] if piece.startswith(inner) else piece
        for piece in body.splitlines(keepends=True)
    )
    yield Edit(
        lines[0],
        lines[1],
        moved,
        "move_stmt",
        stmt.lineno,
        f"move line {stmt.lineno} out of the block",
        2,
    )


def _insertion_points(src: Source, line: int) -> list[tuple[int, str]]:
    """(offset, indentation) before and after the statement on the line, and at the end
    of its block when it has one."""
    points: list[tuple[int, str]] = []
    for stmt in src.statements_at(line):
        lines = _own_lines(src, stmt)
        if stmt.lineno != line or lines is None:
            continue
        indent = src.indent_of(line)
        if _siblings(src, stmt) is not None:
            points += [(lines[0], indent), (lines[1], indent)]
        body = getattr(stmt, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(stmt, ast.For | ast.While | ast.If | ast.With)
        ):
            # The end of the block: where a forgotten last step (an append, an update) goes.
            end = src.line_start((body[-1].end_lineno or body[-1].lineno) + 1)
            points.append((end, src.indent_of(body[0].lineno)))
        break
    return points


def insert_stmt(src: Source, line: int) -> Iterator[Edit]:
    """A missing statement: `c.append(v)`, `c.add(v)`, `n += 1`, `a = b`."""
    function = src.function_of(line)
    if function is None:
        return
    names = [n for n in src.local_names(line)[:_MAX_NAMES] if n != "_"]
    lists, sets, counters = src.memo(("containers", function), _containers)
    targets = [n for n in src.loop_targets(line) if n != "_"]
    values = targets + [n for n in names if n not in targets]
    # A variable the loop reads but never updates is the likeliest one a missing
    # assignment is for (`a, b = b, a + b` written as `b = a + b`).
    stale = [n for n in _stale_in_loop(src, line) if n in names]
    statements = [f"{c}.append({v})" for c in lists for v in values if v != c]
    statements += [f"{c}.add({v})" for c in sets for v in values if v != c]
    statements += [f"{n} += 1" for n in counters]
    assigned = stale + [n for n in names if n not in stale]
    statements += [f"{a} = {b}" for a in assigned for b in names if a != b]
    newline = src.newline()
    for offset, indent in _insertion_points(src, line):
        for rank, statement in enumerate(statements):
            yield Edit(
                offset,
                offset,
                f"{indent}{statement}{newline}",
                "insert_stmt",
                line,
                f"insert `{statement}`",
                rank,
            )


def _stale_in_loop(src: Source, line: int) -> list[str]:
    """Names the innermost loop around the line reads but never assigns."""
    loops = [
        node
        for node in ast.walk(src.function_of(line) or src.tree)
        if isinstance(node, ast.For | ast.While)
        and node.lineno <= line <= (node.end_lineno or node.lineno)
    ]
    if not loops:
        return []
    loop = max(loops, key=lambda node: node.lineno)
    read: list[str] = []
    written: set[str] = set()
    for stmt in loop.body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Store):
                    written.add(node.id)
                elif node.id not in read:
                    read.append(node.id)
    if isinstance(loop, ast.For):
        written.update(n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name))
    return [name for name in read if name not in written]


def copy_stmt(src: Source, line: int) -> Iterator[Edit]:
    """A statement missing here that the function has elsewhere (e.g. a flush after
    a loop that repeats the one inside it)."""
    function = src.function_of(line)
    if function is None:
        return
    copies: list[str] = []
    for stmt in ast.walk(function):
        if not isinstance(stmt, ast.Expr | ast.Assign | ast.AugAssign) or _is_docstring(stmt):
            continue
        if stmt.lineno == stmt.end_lineno and stmt.lineno != line:
            text = src.segment(stmt)
            if text not in copies:
                copies.append(text)
    newline = src.newline()
    for offset, indent in _insertion_points(src, line):
        for rank, text in enumerate(copies):
            edit_text = f"{indent}{text}{newline}"
            yield Edit(offset, offset, edit_text, "copy_stmt", line, f"insert `{text}`", rank)


def _containers(src: Source, function: ast.AST) -> tuple[list[str], list[str], list[str]]:
    lists: list[str] = []
    sets: list[str] = []
    counters: list[str] = []
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name, value = node.targets[0].id, node.value
            if isinstance(value, ast.List) or _is_call_to(value, "list"):
                lists.append(name)
            elif _is_call_to(value, "set"):
                sets.append(name)
            elif isinstance(value, ast.Constant) and type(value.value) is int:
                counters.append(name)
    return lists, sets, counters


def _is_call_to(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def guard(src: Source, line: int) -> Iterator[Edit]:
    """A missing base case or guard at the top of the function, or `continue` at the top of
    a loop body."""
    function = src.function_of(line)
    if function is None:
        return
    body = function.body
    first = body[1] if len(body) > 1 and _is_docstring(body[0]) else body[0]
    indent = src.indent_of(first.lineno)
    step = indent[len(src.indent_of(function.lineno)) :] or "    "
    newline = src.newline()
    offset = src.line_start(first.lineno)
    params = [a.arg for a in function.args.args if a.arg not in ("self", "cls")]
    rank = 0
    for param in params:
        for condition, result in _guard_cases(param):
            text = f"{indent}if {condition}:{newline}{indent}{step}return {result}{newline}"
            yield Edit(
                offset,
                offset,
                text,
                "guard",
                first.lineno,
                f"guard `if {condition}: return {result}`",
                rank,
            )
            rank += 1
    enclosing = [
        stmt
        for stmt in ast.walk(function)
        if isinstance(stmt, ast.For) and stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno)
    ]
    for loop_var in src.loop_targets(line):
        for stmt in enclosing:
            if loop_var in [n.id for n in ast.walk(stmt.target) if isinstance(n, ast.Name)]:
                inner = stmt.body[0]
                at = src.line_start(inner.lineno)
                ind = src.indent_of(inner.lineno)
                for condition in (f"not {loop_var}", f"{loop_var} is None"):
                    text = f"{ind}if {condition}:{newline}{ind}{step}continue{newline}"
                    yield Edit(
                        at, at, text, "guard", inner.lineno, f"skip when `{condition}`", rank
                    )
                    rank += 1


def _guard_cases(param: str) -> list[tuple[str, str]]:
    return [
        (f"not {param}", results) for results in ("0", "[]", param, "None", '""', "False", "True")
    ] + [
        (f"{param} <= 1", param),
        (f"{param} < 2", param),
        (f"{param} <= 1", "1"),
        (f"{param} <= 0", "0"),
        (f"{param} == 0", "0"),
        (f"{param} == 0", "1"),
        (f"{param} is None", "None"),
    ]


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


# -- broader templates -------------------------------------------------------------------


def _chain(node: ast.AST, kind: type[ast.AST]) -> tuple[list[ast.AST], set[tuple[int, int]]]:
    """The operands of a chain of binary (or boolean) operations, left to right, and the
    runs of operands (first, last) that the chain already groups."""
    leaves: list[ast.AST] = []
    groups: set[tuple[int, int]] = set()

    def walk(part: ast.AST) -> None:
        first = len(leaves)
        if isinstance(part, ast.BinOp) and kind is ast.BinOp:
            walk(part.left)
            walk(part.right)
        elif isinstance(part, ast.BoolOp) and kind is ast.BoolOp:
            for value in part.values:
                walk(value)
        else:
            leaves.append(part)
            return
        groups.add((first, len(leaves) - 1))

    walk(node)
    return leaves, groups


_ASSOCIATIVE = frozenset({"+", "*", "and", "or", "&", "|", "^"})


def parenthesize(src: Source, line: int) -> Iterator[Edit]:
    """Operator precedence: `a - b * c` meant `(a - b) * c`; `a and b or c` meant
    `a and (b or c)`. Parentheses around each run of operands of a chain that the chain
    does not already group."""
    for node in src.expressions_at(line):
        kind: type[ast.AST] = ast.BinOp if isinstance(node, ast.BinOp) else ast.BoolOp
        if not isinstance(node, ast.BinOp | ast.BoolOp) or isinstance(src.parent(node), kind):
            continue
        leaves, groups = _chain(node, kind)
        if len(leaves) < 3 or len(leaves) > 6:
            continue
        start, end = src.span(node)
        spans = [src.span(leaf) for leaf in leaves]
        gaps = [src.text[a[1] : b[0]] for a, b in itertools.pairwise(spans)]
        if any("(" in gap or ")" in gap or "\n" in gap for gap in gaps):
            continue  # parentheses or line breaks in the chain: leave it alone
        texts = [src.text[a:b] for a, b in spans]
        rank = 0
        for width in range(2, len(leaves)):
            for first in range(len(leaves) - width + 1):
                last = first + width - 1
                around = {gap.strip() for gap in gaps[max(0, first - 1) : last + 1]}
                if (first, last) in groups or (len(around) == 1 and around <= _ASSOCIATIVE):
                    continue  # the same grouping, or one that changes nothing
                pieces = []
                for index, text in enumerate(texts):
                    pieces.append(("(" if index == first else "") + text)
                    if index == last:
                        pieces[-1] += ")"
                    if index < len(gaps):
                        pieces.append(gaps[index])
                yield Edit(start, end, "".join(pieces), "parenthesize", node.lineno, "", rank)
                rank += 1


# Separators and other short literals a string is most often confused with.
_SHORT_STRINGS = (",", ";", ":", "=", " ", "-", "_", ".", "/", "|", "\t", "\n", "")


def wrong_literal(src: Source, line: int) -> Iterator[Edit]:
    """A short string literal that should be another: the file's own short literals
    first, then the common separators."""
    for node in _nodes(src, line, ast.Constant):
        assert isinstance(node, ast.Constant)
        value = node.value
        if not isinstance(value, str) or len(value) > 2 or value == "":
            continue
        if isinstance(src.parent(node), ast.JoinedStr):
            continue
        text = src.segment(node)
        quote = text[:1]
        if quote not in ("'", '"') or text[1:2] == quote * 2:
            continue
        others = [s for s in src.short_strings if s != value]
        others += [s for s in _SHORT_STRINGS if s != value and s not in others]
        for rank, new in enumerate(others):
            if quote in new or "\\" in new:
                continue
            literal = quote + new.replace("\t", "\\t").replace("\n", "\\n") + quote
            yield _replace(src, node, literal, "wrong_literal", rank)


def add_arg(src: Source, line: int) -> Iterator[Edit]:
    """A missing argument: `xs.pop()` meant `xs.pop(0)`, `f(x)` meant `f(x, n)`."""
    names = src.local_names(line)[: _MAX_NAMES // 2]
    for node in _nodes(src, line, ast.Call):
        assert isinstance(node, ast.Call)
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            continue
        if not isinstance(node.func, ast.Attribute | ast.Name):
            continue
        rounding = isinstance(node.func, ast.Name) and node.func.id == "round"
        if len(node.args) != (1 if rounding else 0):
            continue  # a call that has arguments is missing one only in a few known cases
        start, end = src.span(node)
        if src.text[end - 1 : end] != ")":
            continue
        before = src.text[start : end - 1].rstrip()
        separator = ", " if node.args and not before.endswith(",") else ""
        options = ["0", "-1", "1"] + [n for n in names if n not in _names_in(node)]
        if rounding:
            options = ["2", "1"]
        for rank, arg in enumerate(options):
            yield Edit(start, end, f"{before}{separator}{arg})", "add_arg", node.lineno, "", rank)


def raise_guard(src: Source, line: int) -> Iterator[Edit]:
    """A missing check before the statement: `if x > self.limit: raise SomeError(x)`.
    Exceptions the module defines but never raises come first."""
    function = src.function_of(line)
    statements = [s for s in src.statements_at(line) if s.lineno == line]
    if function is None or not statements or not src.exception_names:
        return
    stmt = statements[0]
    if _own_lines(src, stmt) is None or _siblings(src, stmt) is None:
        return
    params = [a.arg for a in function.args.args if a.arg not in ("self", "cls")]
    operands = _operands(src, stmt)
    conditions: list[tuple[str, str]] = []  # (condition, the value it is about)
    for param in params:
        others = [o for o in operands if o != param]
        for other in others:
            for op in (">", "<", ">=", "<="):
                conditions.append((f"{param} {op} {other}", param))
        for condition in (f"{param} < 0", f"{param} <= 0", f"{param} is None", f"not {param}"):
            conditions.append((condition, param))
    indent = src.indent_of(line)
    step = indent[len(src.indent_of(function.lineno)) :] or "    "
    newline = src.newline()
    offset = src.line_start(line)
    rank = 0
    for exception in src.exception_names:
        for condition, value in conditions:
            text = (
                f"{indent}if {condition}:{newline}{indent}{step}raise {exception}({value}){newline}"
            )
            what = f"insert `if {condition}: raise {exception}({value})`"
            yield Edit(offset, offset, text, "raise_guard", line, what, rank)
            rank += 1


def _operands(src: Source, stmt: ast.stmt) -> list[str]:
    """Names and attributes (`self.balance`) a statement works on."""
    found: list[str] = []
    for node in src.own_expressions(stmt):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            text = src.segment(node)
        elif isinstance(node, ast.Name) and not is_builtin(node.id):
            if isinstance(src.parent(node), ast.Attribute | ast.Call):
                continue
            text = node.id
        else:
            continue
        if text not in found:
            found.append(text)
    return found


def swap_names(src: Source, line: int) -> Iterator[Edit]:
    """Two variables swapped inside one expression: `m[j][i]` meant `m[i][j]`."""
    for node in src.expressions_at(line):
        if not isinstance(node, ast.Subscript | ast.Call | ast.BinOp | ast.Compare):
            continue
        if isinstance(node, ast.Subscript) and isinstance(src.parent(node), ast.Subscript):
            continue  # the outermost subscript of a chain holds all its indices
        names = [
            n
            for n in ast.walk(node)
            if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)
            and not is_builtin(n.id)
            and not _is_container(src, n)
        ]
        ids = list(dict.fromkeys(n.id for n in names))
        if len(ids) < 2 or len(ids) > 6:
            continue
        start, end = src.span(node)
        for rank, (a, b) in enumerate(itertools.combinations(ids, 2)):
            pieces = []
            at = start
            for name in sorted(names, key=lambda n: src.span(n)[0]):
                if name.id not in (a, b):
                    continue
                name_start, name_end = src.span(name)
                pieces.append(src.text[at:name_start])
                pieces.append(b if name.id == a else a)
                at = name_end
            pieces.append(src.text[at:end])
            yield Edit(
                start,
                end,
                "".join(pieces),
                "swap_names",
                node.lineno,
                f"swap `{a}` and `{b}`",
                rank,
            )


def _is_container(src: Source, name: ast.Name) -> bool:
    """A name used as a thing to index, call or look into, not as a plain value."""
    parent = src.parent(name)
    if isinstance(parent, ast.Subscript | ast.Attribute):
        return parent.value is name
    return isinstance(parent, ast.Call) and parent.func is name


def use_var(src: Source, line: int) -> Iterator[Edit]:
    """An expression recomputed where a variable computed earlier was meant:
    `"/".join(path.split("/"))` meant `"/".join(parts)`."""
    function = src.function_of(line)
    if function is None:
        return
    assigned = src.memo(("assigned_before", function), _assigned_lines)
    names = [n for n in src.local_names(line) if assigned.get(n, line) < line]
    for node in src.expressions_at(line):
        if not _is_value(src, node) or isinstance(node, ast.Name | ast.Constant):
            continue
        if isinstance(src.parent(node), ast.Subscript | ast.Attribute):
            continue
        inside = _names_in(node)
        for rank, name in enumerate(n for n in names if n not in inside):
            yield _replace(src, node, name, "use_var", rank)


def _assigned_lines(src: Source, function: ast.AST) -> dict[str, int]:
    """The first line each local variable (not a parameter) is assigned on."""
    first: dict[str, int] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            first[node.id] = min(first.get(node.id, node.lineno), node.lineno)
    return first


# -- names and literals of the file (the bug studies' single-statement categories) -------

# Alternatives a name template proposes at one site: the most alike are enough.
_MAX_ALIKE = 6
# Numbers of the function a number may have been confused with.
_MAX_NUMBERS = 5


def wrong_func(src: Source, line: int) -> Iterator[Edit]:
    """Wrong function name: a function called (or passed as a value) where another of a
    similar name, available there, was meant: `parse_int(s)` for `parse_float(s)`,
    `self.add_row(r)` for `self.add_rows(r)`, `os.path.basename` for `os.path.dirname`.
    Alternatives are the module's functions and imports, the attributes the file uses on
    the same object, and the names of an already-loaded module, most alike first."""
    functions: list[str] | None = None
    for node in _nodes(src, line, (ast.Name, ast.Attribute)):
        parent = src.parent(node)
        called = isinstance(parent, ast.Call) and parent.func is node
        if not _is_load(node):
            continue
        if isinstance(node, ast.Name):
            if functions is None:
                functions = module_functions(src) + nested_functions(src, line)
            if node.id not in functions and (not called or is_builtin(node.id)):
                continue  # a variable, or a builtin (swap_builtin's)
            if node.id in src.local_names(line):
                continue
            start, end = src.span(node)
            options = most_alike(node.id, functions, _MAX_ALIKE)
            name = node.id
        else:
            passed = isinstance(parent, ast.keyword) or (
                isinstance(parent, ast.Call) and node in parent.args
            )
            if not called and not passed:
                continue
            assert isinstance(node, ast.Attribute)
            base = src.segment(node.value)
            known = attributes_of(src, base, called=True)
            known += loaded_module_names(src, base, called=True)
            end = src.span(node)[1]
            start, name = end - len(node.attr), node.attr
            if src.text[start:end] != name:
                continue
            options = most_alike(name, known, _MAX_ALIKE)
        for rank, new in enumerate(options):
            what = f"`{new}` instead of `{name}`"
            yield Edit(start, end, new, "wrong_func", _line_of(node), what, rank)


def opposite_name(src: Source, line: int) -> Iterator[Edit]:
    """A name or attribute with one word swapped for its usual opposite (`prev`/`next`,
    `min`/`max`, `left`/`right`, `width`/`height`, ...), where that name exists: a
    variable or function of the scope, or an attribute the file uses on the same object
    (then any attribute the file uses, or a loaded module's name)."""
    scope: set[str] | None = None
    for node in _nodes(src, line, (ast.Name, ast.Attribute)):
        if isinstance(node, ast.Name):
            options = counterparts(node.id)
            if not options:
                continue
            if scope is None:
                scope = set(src.local_names(line)) | set(module_functions(src))
                scope |= set(nested_functions(src, line))
            start, end = src.span(node)
            name = node.id
            found = [(0, o) for o in options if o in scope]
        else:
            assert isinstance(node, ast.Attribute)
            options = counterparts(node.attr)
            if not options:
                continue
            end = src.span(node)[1]
            start, name = end - len(node.attr), node.attr
            if src.text[start:end] != name:
                continue
            base = src.segment(node.value)
            near = set(attributes_of(src, base)) | set(loaded_module_names(src, base))
            anywhere = set(src.attribute_names)
            found = [(0, o) for o in options if o in near]
            found += [(2, o) for o in options if o not in near and o in anywhere]
        later = _copied_later(src, node, line)  # `w * w`: the later copy is the slip
        for index, (penalty, new) in enumerate(found):
            what = f"`{new}` instead of `{name}`"
            rank = index + penalty + later
            yield Edit(start, end, new, "opposite_name", _line_of(node), what, rank)


def change_number(src: Source, line: int) -> Iterator[Edit]:
    """A number that should be another: the other numbers of the function, then of the
    file, then nearby magnitudes (times or over 10, 0, 1, 2, -1). One more or one less is
    off_by_one's."""
    function = src.function_of(line)
    local = src.memo(("numbers", function), _numbers_in) if function is not None else []
    pool = src.memo(("numbers", src.tree), _numbers_in)
    for node in _nodes(src, line, ast.Constant):
        assert isinstance(node, ast.Constant)
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        parent = src.parent(node)
        if isinstance(parent, ast.JoinedStr | ast.FormattedValue):
            continue
        negative = isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub)
        target: ast.AST = parent if negative and parent is not None else node
        signed = -value if negative else value
        options = _number_options(signed, local, pool)
        around = src.parent(target)
        for rank, new in enumerate(options[: _MAX_NUMBERS * 2]):
            if new < 0 and isinstance(around, ast.BinOp) and around.right is target:
                continue  # `a - -1`: arith_op and off_by_one write it plainly
            if _makes_identity(around, target, new):
                continue
            yield _replace(src, target, _number_text(new), "change_number", rank)


def _numbers_in(src: Source, scope: ast.AST) -> list[int | float]:
    """The numbers written in a scope, signed, most frequent first."""
    counts: dict[int | float, int] = {}
    for node in ast.walk(scope):
        if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
            continue
        if isinstance(node.value, int | float):
            parent = src.parent(node)
            negative = isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub)
            number = -node.value if negative else node.value
            counts[number] = counts.get(number, 0) + 1
    return sorted(counts, key=lambda n: -counts[n])


def _number_options(
    value: int | float, local: list[int | float], pool: list[int | float]
) -> list[int | float]:
    """Numbers of the same type (an index stays an int): the function's, a few of the
    file's, then nearby magnitudes (ten times more or less, for a number of two digits
    or more, or a float)."""
    scaled: list[int | float] = []
    if isinstance(value, int) and abs(value) >= 10:  # a digit is a count, not a magnitude
        scaled += [value * 10] + ([value // 10] if value % 10 == 0 else [])
    elif isinstance(value, float):
        scaled = [round(value * 10, 10), round(value / 10, 10)]
    near: list[int | float] = [0, 1, 2, -1, value * 2]
    local = [n for n in local if type(n) is type(value) and n != value]
    pool = [n for n in pool if type(n) is type(value) and n != value and n not in local]
    options: list[int | float] = []
    for n in [*local[:_MAX_NUMBERS], *pool[:3], *scaled, *near]:
        unit = isinstance(value, int) and abs(n - value) == 1  # off_by_one's
        n = float(n) if isinstance(value, float) else n
        if n != value and not unit and n not in options and abs(n) < 10**12:
            options.append(n)
    return options


def _makes_identity(parent: ast.AST | None, node: ast.AST, new: int | float) -> bool:
    if isinstance(parent, ast.BinOp) and parent.right is node:
        return _is_identity(_ARITH_TEXT[type(parent.op)], ast.Constant(new))
    return False


def _number_text(number: int | float) -> str:
    return repr(number)


def change_string(src: Source, line: int) -> Iterator[Edit]:
    """A string literal that should be another the file uses in the same place: compared
    with the same expression (the other branches of an if/elif chain), assigned to the
    same target, returned by the same function, passed to the same function or keyword,
    or used as an index of the same object. The function's own literals first."""
    table = literals_by_role(src)
    function = src.function_of(line)
    for node in _nodes(src, line, ast.Constant):
        assert isinstance(node, ast.Constant)
        if not isinstance(node.value, str) or isinstance(src.parent(node), ast.JoinedStr):
            continue
        text = src.segment(node)
        quote = text[:1]
        if quote not in ("'", '"') or text[1:3] == quote * 2:
            continue
        peers = [p for role in literal_roles(src, node) for p in table.get(role, [])]
        values = _ordered_values(src, peers, function, node)
        for rank, value in enumerate(values[:_MAX_NAMES]):
            literal = _string_literal(value, quote)
            yield _replace(src, node, literal, "change_string", rank)


def _ordered_values(
    src: Source, peers: list[ast.Constant], function: ast.AST | None, node: ast.Constant
) -> list[str]:
    def order(peer: ast.Constant) -> tuple[int, int]:
        inside = function is not None and src.function_of(peer.lineno) is function
        return (0 if inside else 1, abs(peer.lineno - node.lineno))

    values: list[str] = []
    for peer in sorted(peers, key=order):
        value = peer.value
        if isinstance(value, str) and value != node.value and value not in values:
            values.append(value)
    return values


def _string_literal(value: str, quote: str) -> str:
    plain = quote not in value and "\\" not in value and value.isprintable()
    return f"{quote}{value}{quote}" if plain else repr(value)


def remove_arg(src: Source, line: int) -> Iterator[Edit]:
    """One argument too many (the studies' "same function, fewer arguments"):
    `round(x, 2)` meant `round(x)`, `f(a, key=k)` meant `f(a)`."""
    for node in _nodes(src, line, ast.Call):
        assert isinstance(node, ast.Call)
        parts: list[ast.AST] = sorted([*node.args, *node.keywords], key=lambda n: src.span(n))
        if len(parts) > 6:
            continue
        spans = [src.span(part) for part in parts]
        required = required_positionals(src, node.func)
        for index, (start, end) in enumerate(spans):
            if parts[index] in node.args and len(node.args) <= required:
                continue  # a call that certainly fails: too few arguments
            if index + 1 < len(spans):
                end = spans[index + 1][0]  # the argument and the comma after it
            elif index > 0:
                start = spans[index - 1][1]  # the comma before the last argument
            what = f"drop the argument `{_short(src.text[slice(*spans[index])])}`"
            yield Edit(start, end, "", "remove_arg", node.lineno, what, len(parts) - 1 - index)


def keyword_name(src: Source, line: int) -> Iterator[Edit]:
    """A keyword argument under the wrong name: `sorted(xs, reversed=True)` meant
    `reverse=True`. Alternatives are the callee's parameters when the file defines it or
    it is a builtin or a loaded module's function, and the keywords the file passes to
    the same callee elsewhere, most alike first."""
    for node in _nodes(src, line, ast.Call):
        assert isinstance(node, ast.Call)
        used = {k.arg for k in node.keywords}
        known = callee_parameters(src, node.func)
        for keyword in node.keywords:
            if keyword.arg is None:
                continue
            start = src.span(keyword)[0]
            end = start + len(keyword.arg)
            if src.text[start:end] != keyword.arg:
                continue
            options = [o for o in known if o not in used]
            for rank, new in enumerate(most_alike(keyword.arg, options, _MAX_ALIKE)):
                what = f"`{new}=` instead of `{keyword.arg}=`"
                yield Edit(start, end, new, "keyword_name", node.lineno, what, rank)


# Values a missing-argument template proposes at one call: the best evidence first.
_MAX_ADDED = 4


def required_arg(src: Source, line: int) -> Iterator[Edit]:
    """A call that certainly fails: it passes fewer arguments than every definition of
    its callee requires (`fmt(total)` for `def fmt(value, currency)`). The missing one
    from the scope's variable of the parameter's name, at the parameter's place; then,
    for the next one, what other calls of the callee pass there, or alike names."""
    yield from _added_at_calls(src, line, "required_arg", _required_options)


def more_args(src: Source, line: int) -> Iterator[Edit]:
    """A positional argument dropped (the studies' "same function, more arguments"):
    `round(x)` meant `round(x, 2)`, `d.get(k)` meant `d.get(k, 0)`. Values: what other
    calls of the same callee pass at that position, and for an optional parameter others
    pass by position, the scope's variable of its name."""
    yield from _added_at_calls(src, line, "more_args", _positional_options)


def keyword_arg(src: Source, line: int) -> Iterator[Edit]:
    """An optional argument not passed: `parse(s)` meant `parse(s, strict=strict)`.
    Keywords: the callee's optional or keyword-only parameters a variable of the scope is
    named after, then the keywords other calls of the same callee pass (with their
    value, when its names are in scope here)."""
    yield from _added_at_calls(src, line, "keyword_arg", _keyword_options)


_Options = Callable[[Source, ast.Call, set[str], int], list[tuple[int | None, str]]]


def _added_at_calls(src: Source, line: int, template: str, options: _Options) -> Iterator[Edit]:
    scope: set[str] | None = None
    for node in _nodes(src, line, ast.Call):
        assert isinstance(node, ast.Call)
        if not _plain_call(node):
            continue
        if scope is None:
            scope = scope_names(src, line)
        found = options(src, node, scope, line)
        for rank, (index, value) in enumerate(found[:_MAX_ADDED]):
            yield _add_argument(src, node, value, template, rank, before=index)


def _plain_call(node: ast.Call) -> bool:
    """A call whose arguments can be counted: no `*args` or `**kwargs`."""
    starred = any(isinstance(a, ast.Starred) for a in node.args)
    return not starred and all(k.arg is not None for k in node.keywords)


def _passed(src: Source, node: ast.Call) -> set[str]:
    """The keywords a call passes and the text of its arguments."""
    values = [*node.args, *(k.value for k in node.keywords)]
    return {k.arg for k in node.keywords if k.arg} | {src.segment(v) for v in values}


def _ranked(found: list[tuple[int, T]]) -> list[T]:
    """Options by strength, then by how many times they were seen, then first seen."""
    counts: dict[T, int] = {}
    best: dict[T, tuple[int, int]] = {}
    for order, (strength, option) in enumerate(found):
        counts[option] = counts.get(option, 0) + 1
        if option not in best or strength < best[option][0]:
            best[option] = (strength, order)
    return sorted(best, key=lambda o: (best[o][0], -counts[o], best[o][1]))


def _missing(params: tuple[Param, ...], node: ast.Call, given: set[str]) -> list[Param]:
    """The required parameters a call does not pass (positional ones beyond its
    arguments, or not passed by keyword)."""
    return [
        p
        for p in params
        if p.required
        and p.name not in given
        and (p.position is None or p.position >= len(node.args))
    ]


def _required_options(
    src: Source, node: ast.Call, scope: set[str], line: int
) -> list[tuple[int | None, str]]:
    signatures_ = signatures(src, node.func)
    given = _passed(src, node)
    if not signatures_ or not all(_missing(params, node, given) for params in signatures_):
        return []
    count = len(node.args)
    found: list[tuple[int, tuple[int | None, str]]] = []
    for params in signatures_:
        missing = _missing(params, node, given)
        for param in params:
            if not param.required or param.name in given or param.name not in scope:
                continue
            if param.position is None:
                found.append((0, (None, f"{param.name}={param.name}")))
            elif missing[0].position is not None and param.position <= count:
                # Dropped at the end, else earlier (the arguments after it shifted).
                found.append((0 if param.position == count else 2, (param.position, param.name)))
        first = missing[0]
        names = _unpassed_locals(src, node, line)
        # Alike names, then (the call fails without one) the nearest variables.
        for strength, name in [(3, n) for n in most_alike(first.name, names, 2)] + [
            (4, n) for n in names
        ]:
            where = (None, f"{first.name}={name}") if first.position is None else (count, name)
            found.append((strength, where))
        if first.position is not None:
            found += [(1, (count, value)) for value in _values_of_others(src, node, scope)]
    return _ranked(found)


def _unpassed_locals(src: Source, node: ast.Call, line: int) -> list[str]:
    """The function's variables nearest the line, assigned before it (or parameters),
    that the call does not use yet."""
    function = src.function_of(line)
    if function is None:
        return []
    used = set(_names_in(node))
    assigned = src.memo(("assigned_before", function), _assigned_lines)
    params = {a.arg for a in [*function.args.posonlyargs, *function.args.args]}
    names = [
        n
        for n in src.local_names(line)
        if (n in params or assigned.get(n, 0) < line) and n not in used
    ]
    return names[: _MAX_NAMES // 2]


def _values_of_others(src: Source, node: ast.Call, scope: set[str]) -> list[str]:
    """What other calls of the callee pass after the call's last positional argument."""
    count = len(node.args)
    given = _passed(src, node)
    values = []
    for other, call in other_calls(src, node):
        if len(call.args) > count and _plain_call(call):
            value = portable(other, call.args[count], scope)
            if value is not None and value not in given:
                values.append(value)
    return values


def _positional_options(
    src: Source, node: ast.Call, scope: set[str], line: int
) -> list[tuple[int | None, str]]:
    count = len(node.args)
    given = _passed(src, node)
    values = _values_of_others(src, node, scope)
    found: list[tuple[int, tuple[int | None, str]]] = [(1, (count, v)) for v in values]
    signatures_ = signatures(src, node.func)
    if any(_missing(params, node, given) for params in signatures_):
        return []  # required_arg's
    if signatures_ and not any(_has_room(params, count) for params in signatures_):
        return []  # every parameter is passed already: one more fails
    for params in signatures_:
        positional = [p for p in params if p.position is not None]
        following = positional[count] if count < len(positional) else None
        # An optional parameter is passed by position only where other calls do so.
        if following and following.name in scope and following.name not in given and values:
            found.append((0, (count, following.name)))
    if values and not _same_count_elsewhere(src, node):
        # Every other call passes more: the nearest variables, for a value none shares.
        found += [(2, (count, name)) for name in _unpassed_locals(src, node, line)]
    return _ranked(found)


def _same_count_elsewhere(src: Source, node: ast.Call) -> bool:
    return any(len(call.args) == len(node.args) for _, call in other_calls(src, node))


def _has_room(params: tuple[Param, ...], count: int) -> bool:
    """Whether a call with `count` positional arguments may pass one more."""
    positional = [p for p in params if p.position is not None]
    return count < len(positional) or any(p.name.startswith("*") for p in positional)


def _keyword_options(
    src: Source, node: ast.Call, scope: set[str], line: int
) -> list[tuple[int | None, str]]:
    count = len(node.args)
    given = _passed(src, node)
    by_position: set[str] = set()
    found: list[tuple[int, tuple[int | None, str]]] = []
    signatures_ = signatures(src, node.func)
    if any(_missing(params, node, given) for params in signatures_):
        return []  # required_arg's
    for params in signatures_:
        for param in params:
            if param.position is not None and param.position < count:
                by_position.add(param.name)
            elif param.keyword and param.name not in given and param.name in scope:
                found.append((0, (None, f"{param.name}={param.name}")))
    for other, call in other_calls(src, node):
        for keyword in call.keywords:
            if keyword.arg is None or keyword.arg in given or keyword.arg in by_position:
                continue
            value = portable(other, keyword.value, scope)
            if value is not None:
                found.append((1, (None, f"{keyword.arg}={value}")))
    return _ranked(found)


def _add_argument(
    src: Source, node: ast.Call, text: str, template: str, rank: int, before: int | None = None
) -> Edit:
    """Insert an argument: positional before argument `before` (after the positional
    ones when it is their count), or a keyword after every argument."""
    parts = sorted([*node.args, *node.keywords], key=lambda n: src.span(n))
    what = f"add the argument `{_short(text)}` to `{_short(src.segment(node.func))}(...)`"
    if before is not None and before < len(node.args):
        at = src.span(node.args[before])[0]
        return Edit(at, at, f"{text}, ", template, node.lineno, what, rank)
    if before is not None and node.args:
        at = src.span(node.args[-1])[1]
    elif before is not None and node.keywords:
        at = src.span(node.keywords[0])[0]
        return Edit(at, at, f"{text}, ", template, node.lineno, what, rank)
    elif parts:
        at = src.span(parts[-1])[1]
    else:
        at = src.span(node)[1] - 1  # before the closing parenthesis of `f()`
        return Edit(at, at, text, template, node.lineno, what, rank)
    return Edit(at, at, f", {text}", template, node.lineno, what, rank)


# Cheapest and most natural first; the order breaks ties between equal prior rates.
TEMPLATES: dict[str, Template] = {
    "compare_op": compare_op,
    "arith_op": arith_op,
    "bool_op": bool_op,
    "off_by_one": off_by_one,
    "bool_const": bool_const,
    "negate": negate,
    "aug_assign": aug_assign,
    "bound": bound,
    "wrong_var": wrong_var,
    "swap_args": swap_args,
    "swap_builtin": swap_builtin,
    "return_value": return_value,
    "remove_term": remove_term,
    "unwrap": unwrap,
    "delete_stmt": delete_stmt,
    "move_stmt": move_stmt,
    "extend_cond": extend_cond,
    "add_one": add_one,
    "add_term": add_term,
    "wrap_call": wrap_call,
    "insert_slice": insert_slice,
    "fill_literal": fill_literal,
    "rename_attr": rename_attr,
    "insert_stmt": insert_stmt,
    "copy_stmt": copy_stmt,
    "guard": guard,
    "parenthesize": parenthesize,
    "wrong_literal": wrong_literal,
    "add_arg": add_arg,
    "raise_guard": raise_guard,
    "swap_names": swap_names,
    "use_var": use_var,
    "reuse_expr": reuse_expr,
    "wrong_func": wrong_func,
    "opposite_name": opposite_name,
    "change_number": change_number,
    "change_string": change_string,
    "remove_arg": remove_arg,
    "keyword_name": keyword_name,
    "required_arg": required_arg,
    "more_args": more_args,
    "keyword_arg": keyword_arg,
}
