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
    params: tuple[Param, ...]  # those the tests pass (not `self` or `cls`)
    source: str  # the function's own text
    module_source: str
    relative_path: str  # of the source file, from the project root
    owner: str | None = None  # the class of a method
    bound: bool = False  # an instance method: called on a fresh `Owner()`

    @property
    def line(self) -> int:
        return self.node.lineno

    @property
    def qualname(self) -> str:
        return f"{self.owner}.{self.name}" if self.owner else self.name

    @property
    def imported(self) -> str:
        """The name the tests import from the module."""
        return self.owner or self.name

    @property
    def callee(self) -> str:
        """What the tests call: `f`, `Owner.f`, or `Owner().f` (a fresh instance each call)."""
        if self.owner is None:
            return self.name
        return f"{self.owner}{'()' if self.bound else ''}.{self.name}"

    @property
    def slug(self) -> str:
        """For test and file names: `f`, `owner_f`."""
        return self.qualname.replace(".", "_").lower() if self.owner else self.name


def find_function(
    root: Path, file: Path, *, line: int | None = None, name: str | None = None
) -> FunctionTarget:
    """The function at `line` (1-based, anywhere in its text) or called `name` (`f` or
    `Class.f`): module-level, or a method of a module-level class."""
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
    owner, node = _pick(tree, relative, line, name)
    params = _params(node)
    bound = False
    if owner is not None:
        kind = _method_kind(node)
        bound = kind == "instance"
        if kind != "static":
            params = params[1:]  # self or cls
        if bound:
            _check_constructible(owner)
    return FunctionTarget(
        module=module_name(relative),
        name=node.name,
        node=node,
        params=params,
        source=ast.get_source_segment(text, node) or "",
        module_source=text,
        relative_path=relative,
        owner=owner.name if owner else None,
        bound=bound,
    )


_Definition = ast.FunctionDef | ast.AsyncFunctionDef


def _pick(
    tree: ast.Module, relative: str, line: int | None, name: str | None
) -> tuple[ast.ClassDef | None, ast.FunctionDef]:
    for owner, node in _definitions(tree):
        qualname = f"{owner.name}.{node.name}" if owner else node.name
        if name is not None and name != qualname:
            continue
        if line is not None and not _spans(node, line):
            continue
        if isinstance(node, ast.AsyncFunctionDef):
            raise TestGenError(f"{qualname} is async: only plain functions for now")
        if node.name.startswith("test_"):
            raise TestGenError(f"{qualname} is a test itself")
        if owner is not None and node.name.startswith("__"):
            raise TestGenError(f"{qualname} is a special method: test the class through others")
        return owner, node
    where = f"called {name}" if name is not None else f"at line {line}"
    raise TestGenError(f"no function {where} in {relative}{_nested_hint(tree, line, name)}")


def _nested_hint(tree: ast.Module, line: int | None, name: str | None) -> str:
    """Say why when the place is a nested function (not supported)."""
    for node in ast.walk(tree):
        if isinstance(node, _Definition) and (
            node.name == name or (line is not None and _spans(node, line))
        ):
            return " (nested functions are not supported)"
    return ""


def _definitions(tree: ast.Module) -> list[tuple[ast.ClassDef | None, _Definition]]:
    """Module-level functions, then the methods of module-level classes."""
    found: list[tuple[ast.ClassDef | None, _Definition]] = []
    for node in tree.body:
        if isinstance(node, _Definition):
            found.append((None, node))
        elif isinstance(node, ast.ClassDef):
            found.extend((node, item) for item in node.body if isinstance(item, _Definition))
    return found


def _spans(node: _Definition, line: int) -> bool:
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return start <= line <= (node.end_lineno or node.lineno)


def _method_kind(node: ast.FunctionDef) -> str:
    names = {d.id for d in node.decorator_list if isinstance(d, ast.Name)}
    if "staticmethod" in names:
        return "static"
    return "class" if "classmethod" in names else "instance"


def _check_constructible(owner: ast.ClassDef) -> None:
    """An instance method's tests call it on `Owner()`: the constructor must need nothing."""
    for item in owner.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            required = [p for p in _params(item)[1:] if p.default is None]
            if required:
                names = ", ".join(p.name for p in required)
                raise TestGenError(
                    f"{owner.name}() needs arguments ({names}): methods are tested on an "
                    "instance made without arguments"
                )
    dataclass_like = any(
        (isinstance(d, ast.Name) and d.id == "dataclass")
        or (isinstance(d, ast.Call) and getattr(d.func, "id", "") == "dataclass")
        for d in owner.decorator_list
    )
    fields = [
        item.target.id
        for item in owner.body
        if isinstance(item, ast.AnnAssign)
        and item.value is None
        and isinstance(item.target, ast.Name)
    ]
    if dataclass_like and fields:
        raise TestGenError(
            f"{owner.name}() needs arguments ({', '.join(fields)}): methods are tested on an "
            "instance made without arguments"
        )


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
