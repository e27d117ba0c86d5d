"""A parsed Python file as the templates see it: text offsets of AST nodes, the statements
and expressions on a line, and the names in scope of a function."""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

_BUILTINS = frozenset(dir(builtins))
T = TypeVar("T")
# Fields of compound statements holding child statements: their expressions are not
# the header's.
_BODY_FIELDS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] by `text`. `rank` orders alternatives at one site, 0 being
    the most natural."""

    start: int
    end: int
    text: str
    template: str
    line: int
    description: str
    rank: int = 0


class Source:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.tree = ast.parse(text)
        self.lines = text.splitlines(keepends=True)
        self._line_starts = [0]
        for line in self.lines:
            self._line_starts.append(self._line_starts[-1] + len(line))
        # Per-line answers, asked by many templates.
        self._expressions: dict[int, list[ast.AST]] = {}
        self._local_names: dict[int, list[str]] = {}
        self._loop_targets: dict[int, list[str]] = {}
        self._first_bindings: dict[ast.AST, dict[str, int]] = {}
        self._memo: dict[tuple[str, ast.AST], Any] = {}
        self._parents: dict[ast.AST, ast.AST] = {}
        # The other files a template may read (set by the generator): none by default.
        self.project = Project(None, {})
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self._parents[child] = node

    # -- positions ---------------------------------------------------------------------

    def offset(self, lineno: int, col: int) -> int:
        """Character offset of an AST (line, UTF-8 byte column) position."""
        if lineno - 1 >= len(self.lines):
            return len(self.text)
        line = self.lines[lineno - 1]
        if not line.isascii():
            col = len(line.encode("utf-8")[:col].decode("utf-8", errors="replace"))
        return self._line_starts[lineno - 1] + col

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end_line = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        end = self.offset(end_line, node.end_col_offset or 0)  # type: ignore[attr-defined]
        return start, end

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def line_start(self, lineno: int) -> int:
        return self._line_starts[min(lineno - 1, len(self.lines))]

    def indent_of(self, lineno: int) -> str:
        line = self.lines[lineno - 1]
        return line[: len(line) - len(line.lstrip())]

    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text[:1000] else "\n"

    def memo(self, key: tuple[str, ast.AST], compute: Callable[[Source, ast.AST], T]) -> T:
        """compute(self, key[1]), once per key: per-function facts many lines ask for."""
        if key not in self._memo:
            self._memo[key] = compute(self, key[1])
        value: T = self._memo[key]
        return value

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self._parents.get(node)

    def find_token(self, start: int, end: int, pattern: re.Pattern[str]) -> tuple[int, int] | None:
        """The first match of an operator pattern in text[start:end], outside comments."""
        match = pattern.search(self.text, start, end)
        if match is None:
            return None
        return match.start(), match.end()

    # -- structure ---------------------------------------------------------------------

    @cached_property
    def statements(self) -> list[ast.stmt]:
        return [node for node in ast.walk(self.tree) if isinstance(node, ast.stmt)]

    @cached_property
    def statement_lines(self) -> list[int]:
        return sorted({stmt.lineno for stmt in self.statements})

    def statements_at(self, line: int) -> list[ast.stmt]:
        """Statements starting on the line, or simple statements spanning it."""
        return self._by_line.get(line, [])

    @cached_property
    def _by_line(self) -> dict[int, list[ast.stmt]]:
        table: dict[int, list[ast.stmt]] = {}
        for stmt in self.statements:
            header_end = stmt.lineno
            if not _is_compound(stmt):
                header_end = stmt.end_lineno or stmt.lineno
            for line in range(stmt.lineno, header_end + 1):
                table.setdefault(line, []).append(stmt)
        return table

    def own_expressions(self, stmt: ast.stmt) -> Iterator[ast.AST]:
        """Every expression node of a statement, not those of nested statements."""
        stack: list[ast.AST] = []
        for name, value in ast.iter_fields(stmt):
            if name in _BODY_FIELDS or name == "decorator_list":
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, ast.AST) and not isinstance(item, ast.stmt):
                    stack.append(item)
        while stack:
            node = stack.pop()
            yield node
            stack.extend(
                child
                for child in ast.iter_child_nodes(node)
                if not isinstance(child, ast.stmt | ast.expr_context)
            )

    def expressions_at(self, line: int) -> list[ast.AST]:
        cached = self._expressions.get(line)
        if cached is None:
            cached = self._expressions[line] = self._find_expressions(line)
        return cached

    def _find_expressions(self, line: int) -> list[ast.AST]:
        found: list[ast.AST] = []
        for stmt in self.statements_at(line):
            found.extend(self.own_expressions(stmt))
        found.sort(key=lambda node: self.span(node) if hasattr(node, "lineno") else (0, 0))
        return found

    def function_of(self, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        best: ast.FunctionDef | ast.AsyncFunctionDef | None = None
        for node in self._functions:
            inside = node.lineno <= line <= (node.end_lineno or node.lineno)
            if inside and (best is None or node.lineno >= best.lineno):
                best = node
        return best

    @cached_property
    def _functions(self) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        return [
            node
            for node in ast.walk(self.tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        ]

    def outermost_function(self, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        best: ast.FunctionDef | ast.AsyncFunctionDef | None = None
        for node in self._functions:
            inside = node.lineno <= line <= (node.end_lineno or node.lineno)
            if inside and (best is None or node.lineno < best.lineno):
                best = node
        return best

    def top_statement(self, line: int) -> ast.stmt | None:
        for stmt in self.tree.body:
            first = min([stmt.lineno, *(d.lineno for d in _decorators(stmt))])
            if first <= line <= (stmt.end_lineno or stmt.lineno):
                return stmt
        return None

    # -- names -------------------------------------------------------------------------

    def local_names(self, line: int) -> list[str]:
        """Parameters and assigned names of the function around the line, nearest to the
        line first; module-level variables after them."""
        cached = self._local_names.get(line)
        if cached is None:
            cached = self._local_names[line] = self._find_local_names(line)
        return cached

    def _find_local_names(self, line: int) -> list[str]:
        function = self.function_of(line)
        if function is None:
            return list(self.module_variables)
        distance: dict[str, int] = {}
        for arg in _arguments(function):
            distance[arg] = abs(function.lineno - line)
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                d = abs(node.lineno - line)
                distance[node.id] = min(distance.get(node.id, d), d)
        names = sorted(distance, key=lambda name: (distance[name], name))
        names += [name for name in self.module_variables if name not in distance]
        return names

    def bound_before(self, name: str, stmt: ast.stmt) -> bool:
        """Whether `name` may hold a value when `stmt` runs: bound above it in its scope
        (the function around it, or the module outside any function), or declared
        global/nonlocal there."""
        function = self.function_of(stmt.lineno)
        scope: ast.AST = function if function is not None else self.tree
        first = self._first_bindings.get(scope)
        if first is None:
            first = self._first_bindings[scope] = _first_bindings(scope)
        return first.get(name, stmt.lineno) < stmt.lineno

    @cached_property
    def module_variables(self) -> list[str]:
        names: list[str] = []
        for stmt in self.tree.body:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else []
            if isinstance(stmt, ast.AnnAssign):
                targets = [stmt.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id not in names:
                    names.append(target.id)
        return names

    @cached_property
    def attribute_names(self) -> list[str]:
        names: dict[str, int] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Attribute):
                names[node.attr] = names.get(node.attr, 0) + 1
        return sorted(names, key=lambda name: -names[name])

    @cached_property
    def short_strings(self) -> list[str]:
        """The file's string literals of one or two characters, most frequent first."""
        counts: dict[str, int] = {}
        for node in ast.walk(self.tree):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and 0 < len(value) <= 2:
                counts[value] = counts.get(value, 0) + 1
        return sorted(counts, key=lambda value: -counts[value])

    @cached_property
    def exception_names(self) -> list[str]:
        """Exception classes the module defines (those it never raises first), then the
        ones it raises."""
        raised: list[str] = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(exc, ast.Name) and exc.id not in raised:
                    raised.append(exc.id)
        defined = [
            node.name
            for node in self.tree.body
            if isinstance(node, ast.ClassDef)
            and any(
                isinstance(base, ast.Name) and base.id.endswith(("Error", "Exception"))
                for base in node.bases
            )
        ]
        unused = [name for name in defined if name not in raised]
        return (
            unused
            + [name for name in defined if name in raised]
            + [name for name in raised if name not in defined]
        )

    def loop_targets(self, line: int) -> list[str]:
        """Names bound by the for-loops enclosing the line."""
        cached = self._loop_targets.get(line)
        if cached is None:
            cached = self._loop_targets[line] = self._find_loop_targets(line)
        return cached

    def _find_loop_targets(self, line: int) -> list[str]:
        names: list[str] = []
        function = self.function_of(line)
        scope: ast.AST = function if function is not None else self.tree
        for node in ast.walk(scope):
            if not isinstance(node, ast.For | ast.AsyncFor):
                continue
            if node.lineno <= line <= (node.end_lineno or node.lineno):
                names.extend(_bound_names(node.target))
        return names


# A project module larger than this is not read to find a signature.
_MAX_MODULE_BYTES = 400_000


class Project:
    """The files besides its own that a template may read: the other sources being
    repaired, and the project's modules a source imports (read from the root, once)."""

    def __init__(self, root: Path | None, sources: Mapping[str, Source]) -> None:
        self.root = root
        self.sources = dict(sources)
        self._modules: dict[str, Source | None] = {}

    def module(self, importer: Source, name: str, level: int = 0) -> Source | None:
        """The Source of the module `from name import ...` in `importer` refers to, when
        it is a file of the project; None for anything else (the standard library)."""
        parts = name.split(".") if name else []
        if level:
            base = Path(importer.path).parent.parts
            base = base[: len(base) - (level - 1)] if level > 1 else base
            parts = [*base, *parts]
        if not parts:
            return None
        relative = "/".join(parts)
        for path in (f"{relative}.py", f"{relative}/__init__.py", f"src/{relative}.py"):
            found = self._load(path)
            if found is not None:
                return found
        return None

    def _load(self, path: str) -> Source | None:
        if path in self.sources:
            return self.sources[path]
        if path not in self._modules:
            self._modules[path] = self._read(path)
        return self._modules[path]

    def _read(self, path: str) -> Source | None:
        if self.root is None:
            return None
        file = self.root / path
        try:
            if not file.is_file() or file.stat().st_size > _MAX_MODULE_BYTES:
                return None
            return Source(path, file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            return None


def _is_compound(stmt: ast.stmt) -> bool:
    return any(getattr(stmt, name, None) for name in _BODY_FIELDS)


def _decorators(stmt: ast.stmt) -> list[ast.expr]:
    decorators: list[ast.expr] = getattr(stmt, "decorator_list", [])
    return decorators


def _arguments(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = function.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return [a.arg for a in every if a.arg not in ("self", "cls")]


def _first_bindings(scope: ast.AST) -> dict[str, int]:
    """The line where each name is first bound in a scope; 0 for a function's arguments
    and for names declared global or nonlocal (bound elsewhere)."""
    first: dict[str, int] = {}
    if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
        args = scope.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        first.update((a.arg, 0) for a in every if a is not None)
    for node in _scope_nodes(scope):
        if isinstance(node, ast.Global | ast.Nonlocal):
            first.update((name, 0) for name in node.names)
        line = getattr(node, "lineno", 0)
        for name in _binds(node):
            first[name] = min(first.get(name, line), line)
    return first


def _scope_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a scope, not those of the functions, lambdas and classes inside it
    (their names are their own); the nested definitions themselves are included."""
    pending = list(ast.iter_child_nodes(scope))
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            pending.extend(ast.iter_child_nodes(node))


def _binds(node: ast.AST) -> set[str]:
    """The names a node binds in its scope."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        return {node.id}
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, ast.ExceptHandler) and node.name:
        return {node.name}
    return set()


def _bound_names(target: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def is_builtin(name: str) -> bool:
    return name in _BUILTINS
