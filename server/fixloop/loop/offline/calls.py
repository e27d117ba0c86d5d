"""What a call could have passed, for the missing-argument templates: the callee's
parameters (its definition in the file, in the project module it is imported from, in
another source being repaired, or a builtin's or loaded module's signature), the
arguments other calls of the same callee pass, and the names in scope at a line. Every
value these give is a name or expression that already exists: nothing is invented."""

from __future__ import annotations

import ast
import builtins
import inspect
from collections.abc import Iterator
from dataclasses import dataclass

from fixloop.loop.offline.lexical import (
    callable_of,
    callee_text,
    definitions,
    module_functions,
    nested_functions,
)
from fixloop.loop.offline.source import Source

# An argument another call passes is reused only when it is this short, on one line.
_MAX_VALUE_CHARS = 60

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Param:
    """One parameter of a callee. `position`: its index among the positional parameters
    a caller passes (`self` excluded); None for a keyword-only one. `*args` is named
    with its star."""

    name: str
    position: int | None
    required: bool
    keyword: bool = True


def signatures(src: Source, func: ast.expr) -> list[tuple[Param, ...]]:
    """The parameters of each function a callee may be: those of the file, else those of
    the project, else the builtin's or loaded module's. Empty when none is known."""
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name is None:
        return []
    found = definitions(src, name) or _project_definitions(src, func, name)
    if found:
        return [_params_of(node) for node in found]
    target = callable_of(src, func)
    return [params] if target is not None and (params := _inspected(target)) else []


def _params_of(node: Function) -> tuple[Param, ...]:
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    if positional and positional[0].arg in ("self", "cls"):
        positional = positional[1:]
    first_default = len(positional) - len(args.defaults)
    params = [
        Param(arg.arg, index, index < first_default, arg not in args.posonlyargs)
        for index, arg in enumerate(positional)
    ]
    if args.vararg is not None:
        params.append(Param(f"*{args.vararg.arg}", len(positional), False, False))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        params.append(Param(arg.arg, None, default is None))
    return tuple(params)


def _inspected(target: object) -> tuple[Param, ...]:
    try:
        parameters = list(inspect.signature(target).parameters.values())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ()
    params: list[Param] = []
    positional = 0
    for p in parameters:
        required = p.default is inspect.Parameter.empty
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            params.append(Param(p.name, positional, required, p.kind != p.POSITIONAL_ONLY))
            positional += 1
        elif p.kind is p.VAR_POSITIONAL:
            params.append(Param(f"*{p.name}", positional, False, False))
        elif p.kind is p.KEYWORD_ONLY:
            params.append(Param(p.name, None, required))
    return tuple(params)


def _project_definitions(src: Source, func: ast.expr, name: str) -> list[Function]:
    """`f` imported from a project module, `mod.f` of an imported project module, or a
    method of that name in another source being repaired."""
    imports = src.memo(("imports", src.tree), _imports)
    if isinstance(func, ast.Name):
        if name not in imports:
            return []
        module_name, level, original = imports[name]
        module = src.project.module(src, module_name, level)
        return _top_level(module, original) if module is not None else []
    assert isinstance(func, ast.Attribute)
    if isinstance(func.value, ast.Name) and func.value.id in imports:
        module_name, level, original = imports[func.value.id]
        dotted = f"{module_name}.{original}" if module_name and original else original
        module = src.project.module(src, dotted or module_name, level)
        if module is not None:
            return _top_level(module, name)
    return [
        node
        for other in src.project.sources.values()
        if other is not src
        for node in definitions(other, name)
        if node.name == name  # a method, not a class's __init__
    ]


def _imports(src: Source, tree: ast.AST) -> dict[str, tuple[str, int, str]]:
    """Local name → (module, relative level, name in that module): `from m import f`
    gives f → (m, 0, f); `import a.b as m` gives m → (a.b, 0, "")."""
    table: dict[str, tuple[str, int, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                table.setdefault(alias.asname or alias.name, (alias.name, 0, ""))
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                local = alias.asname or alias.name
                table.setdefault(local, (node.module or "", node.level, alias.name))
    return table


def _top_level(module: Source, name: str) -> list[Function]:
    for stmt in module.tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name == name:
            return [stmt]
        if isinstance(stmt, ast.ClassDef) and stmt.name == name:
            return [s for s in stmt.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"]
    return []


# -- other calls of the same callee ------------------------------------------------------


def other_calls(src: Source, call: ast.Call) -> Iterator[tuple[Source, ast.Call]]:
    """The calls of the same callee (a method by its name) in the file, then in the other
    sources being repaired."""
    key = callee_text(src, call.func)
    for other in [src, *(s for s in src.project.sources.values() if s is not src)]:
        for found in other.memo(("calls_by_callee", other.tree), _calls_by_callee).get(key, []):
            if found is not call:
                yield other, found


def _calls_by_callee(src: Source, tree: ast.AST) -> dict[str, list[ast.Call]]:
    table: dict[str, list[ast.Call]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            table.setdefault(callee_text(src, node.func), []).append(node)
    return table


def portable(src: Source, value: ast.expr, scope: set[str]) -> str | None:
    """The text of an argument another call passes, when it may be written at the line
    whose scope is given: short, on one line, every free name of it in scope."""
    text = src.segment(value)
    if "\n" in text or len(text) > _MAX_VALUE_CHARS or isinstance(value, ast.Starred):
        return None
    if any(isinstance(n, ast.NamedExpr | ast.Await | ast.Yield) for n in ast.walk(value)):
        return None
    free = _free_names(value)
    return text if all(n in scope or hasattr(builtins, n) for n in free) else None


def _free_names(value: ast.expr) -> set[str]:
    loaded = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
    bound: set[str] = set()
    for node in ast.walk(value):
        if isinstance(node, ast.Lambda):
            every = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            bound |= {a.arg for a in every}
        elif isinstance(node, ast.comprehension):
            bound |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    return loaded - bound


def scope_names(src: Source, line: int) -> set[str]:
    """The names a value written at the line may use: the function's variables and
    parameters (`self` too), the module's variables, functions, classes and imports.
    The same for every line of a function: computed once for it."""
    function = src.function_of(line)
    return src.memo(("scope_names", function or src.tree), lambda s, _: _scope(s, line))


def _scope(src: Source, line: int) -> set[str]:
    names = set(src.local_names(line)) | set(module_functions(src))
    names |= set(nested_functions(src, line))
    names |= set(src.memo(("imported_modules", src.tree), _imported_names))
    function = src.function_of(line)
    if function is not None:
        names |= {a.arg for a in [*function.args.posonlyargs, *function.args.args]}
    return names


def _imported_names(src: Source, tree: ast.AST) -> list[str]:
    return [
        alias.asname or alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
