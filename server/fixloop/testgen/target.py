"""The function to test: found in the file's syntax tree by line or by name, with what
its signature and body say about the inputs it expects."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from fixloop.testgen.errors import TestGenError


@dataclass(frozen=True)
class Param:
    """One parameter the tests pass: positionally, or by keyword when keyword-only."""

    name: str
    keyword_only: bool
    annotation: ast.expr | None
    default: ast.expr | None


@dataclass(frozen=True)
class FunctionTarget:
    module: str  # dotted, as the tests import it ("pricing", "shop.pricing")
    name: str
    node: ast.FunctionDef
    params: tuple[Param, ...]
    source: str  # the function's own text
    module_source: str
    relative_path: str  # of the source file, from the project root

    @property
    def line(self) -> int:
        return self.node.lineno

    @property
    def short_module(self) -> str:
        return self.module.rpartition(".")[2]


def find_function(
    root: Path, file: Path, *, line: int | None = None, name: str | None = None
) -> FunctionTarget:
    """The module-level function at `line` (1-based, anywhere in its text) or called `name`."""
    root, path = root.resolve(), file.resolve()
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        raise TestGenError(f"{file} is outside the project {root}") from None
    if path.suffix != ".py":
        raise TestGenError(f"{relative}: tests can be generated for Python files only")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TestGenError(f"cannot read {relative}: {error}") from None
    try:
        tree = ast.parse(text, filename=relative)
    except SyntaxError as error:
        raise TestGenError(
            f"{relative} does not parse (line {error.lineno}): {error.msg}"
        ) from None
    node = _pick(tree, relative, line, name)
    return FunctionTarget(
        module=module_name(relative),
        name=node.name,
        node=node,
        params=_params(node),
        source=ast.get_source_segment(text, node) or "",
        module_source=text,
        relative_path=relative,
    )


def _pick(tree: ast.Module, relative: str, line: int | None, name: str | None) -> ast.FunctionDef:
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        end = node.end_lineno or node.lineno
        if (name is not None and node.name == name) or (line is not None and start <= line <= end):
            if isinstance(node, ast.AsyncFunctionDef):
                raise TestGenError(f"{node.name} is async: only plain functions for now")
            if node.name.startswith("test_"):
                raise TestGenError(f"{node.name} is a test itself")
            return node
    where = f"called {name}" if name is not None else f"at line {line}"
    nested = _nested_hint(tree, line, name)
    raise TestGenError(f"no module-level function {where} in {relative}{nested}")


def _nested_hint(tree: ast.Module, line: int | None, name: str | None) -> str:
    """Say why when the place is a method or a nested function (not supported yet)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            end = node.end_lineno or node.lineno
            if node.name == name or (line is not None and node.lineno <= line <= end):
                return " (methods and nested functions are not supported yet)"
    return ""


def _params(node: ast.FunctionDef) -> tuple[Param, ...]:
    arguments = node.args
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults))
    defaults.extend(arguments.defaults)
    params = [
        Param(a.arg, False, a.annotation, d) for a, d in zip(positional, defaults, strict=True)
    ]
    params.extend(
        Param(a.arg, True, a.annotation, d)
        for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
    )
    return tuple(params)


_EFFECT_MODULES = {"subprocess", "shutil", "socket", "requests", "urllib", "httpx", "smtplib"}
_OS_EFFECTS = {"system", "remove", "unlink", "rmdir", "rename", "replace", "makedirs", "mkdir",
               "kill", "popen", "chmod", "chown", "removedirs"}  # fmt: skip
_FILE_EFFECTS = {"write_text", "write_bytes", "unlink", "rmtree", "mkdir", "touch", "rmdir"}


def side_effects(node: ast.FunctionDef) -> list[str]:
    """What the function does beyond returning a value (runs commands, writes or deletes
    files, opens connections): calling it on sample inputs, here or in the user's test
    run later, would do it too."""
    found: list[str] = []
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and inner.id in _EFFECT_MODULES:
            found.append(inner.id)
        elif isinstance(inner, ast.Attribute) and _acts(inner):
            found.append(f".{inner.attr}()")
        elif isinstance(inner, ast.Call) and _opens_for_writing(inner):
            found.append("open(..., 'w')")
    return list(dict.fromkeys(found))


def _acts(attribute: ast.Attribute) -> bool:
    """`os.remove`, `path.write_text`…: but not `text.replace` or `items.remove`."""
    on_os = isinstance(attribute.value, ast.Name) and attribute.value.id == "os"
    return (on_os and attribute.attr in _OS_EFFECTS) or attribute.attr in _FILE_EFFECTS


def _opens_for_writing(call: ast.Call) -> bool:
    if not (isinstance(call.func, ast.Name) and call.func.id == "open"):
        return False
    modes = [*call.args[1:2], *(k.value for k in call.keywords if k.arg == "mode")]
    return any(
        isinstance(m, ast.Constant) and isinstance(m.value, str) and set(m.value) & set("wax+")
        for m in modes
    )


def module_name(relative: str) -> str:
    """`pkg/mod.py` → `pkg.mod`; a `src/` layout's prefix is not part of the name."""
    parts = list(PurePosixPath(relative).with_suffix("").parts)
    if parts and parts[0] == "src" and len(parts) > 1:
        parts = parts[1:]
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)
