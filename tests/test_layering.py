"""The dependency rules of README's "Layout" section, checked on every import in
server/fixloop: top-level ones, those inside functions and under TYPE_CHECKING alike (a
lazy import is still a dependency)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "server" / "fixloop"
PROTOCOL_LIBRARIES = ("pygls", "lsprotocol")
FRONT_ENDS = ("fixloop.lsp", "fixloop.cli", "fixloop.__main__")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted: fixloop.memory.store
    imported: str  # what it imports, dotted and absolute: fixloop.loop.model
    line: int

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports_of(path: Path) -> Iterator[Import]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the importing package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield Import(module, target, node.lineno)
            # `from fixloop.loop import recall` imports the module fixloop.loop.recall
            for alias in node.names:
                yield Import(module, f"{target}.{alias.name}", node.lineno)


def _all_imports() -> list[Import]:
    return [found for path in sorted(PACKAGE.rglob("*.py")) for found in _imports_of(path)]


IMPORTS = _all_imports()


def _within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _fixloop_imports(*packages: str) -> list[Import]:
    """Imports from inside `packages` of fixloop modules outside them."""
    return [
        i
        for i in IMPORTS
        if _within(i.module, *packages)
        and _within(i.imported, "fixloop")
        and not _within(i.imported, *packages)
        and i.imported != "fixloop"
    ]


def _violations(found: list[Import]) -> str:
    lines = dict.fromkeys((i.module, i.line) for i in found)  # one per import statement
    return "\n".join(str(next(i for i in found if (i.module, i.line) == at)) for at in lines)


def _is_known_module(name: str) -> bool:
    """Whether `name` is a module or package of fixloop (not a name imported from one)."""
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_the_walker_sees_lazy_and_type_checking_imports() -> None:
    """The rules below would pass on nothing: make sure the imports are really read."""
    lazy = [i for i in IMPORTS if i.module == "fixloop.loop.recall"]
    assert any(i.imported == "fixloop.loop.offline" for i in lazy)  # inside a function
    assert any(i.imported == "fixloop.memory.store" for i in lazy)  # under TYPE_CHECKING
    lsp = [i for i in IMPORTS if _within(i.module, "fixloop.lsp")]
    assert any(i.imported == "pygls.lsp.server" for i in lsp)


def test_pygls_and_lsprotocol_only_under_lsp() -> None:
    found = [
        i
        for i in IMPORTS
        if _within(i.imported, *PROTOCOL_LIBRARIES) and not _within(i.module, "fixloop.lsp")
    ]
    assert not found, _violations(found)


@pytest.mark.parametrize(
    ("package", "allowed"),
    [
        ("fixloop.analysis", ()),
        ("fixloop.sessions", ("fixloop.words",)),
        ("fixloop.words", ()),
        # The sandbox's settings mark the fields a project file may not set (trust.py).
        ("fixloop.sandbox", ("fixloop.trust",)),
        # Storage: of the loop only its plain data types (records are made from them).
        (
            "fixloop.memory",
            ("fixloop.loop.model", "fixloop.analysis", "fixloop.trust", "fixloop.http"),
        ),
    ],
)
def test_a_package_imports_only_what_the_layout_allows(
    package: str, allowed: tuple[str, ...]
) -> None:
    found = [i for i in _fixloop_imports(package) if not _within(i.imported, *allowed)]
    assert not found, _violations(found)


def test_memory_imports_nothing_of_the_repair_policy() -> None:
    """No offline engine, no model client: what memory is worth to a fix is the loop's."""
    found = [
        i
        for i in _fixloop_imports("fixloop.memory")
        if _within(i.imported, "fixloop.loop") and not _within(i.imported, "fixloop.loop.model")
    ]
    assert not found, _violations(found)


def test_the_engine_knows_memory_only_by_its_protocol() -> None:
    found = [
        i
        for i in IMPORTS
        if i.module in ("fixloop.loop.engine", "fixloop.loop.build")
        and _within(i.imported, "fixloop.memory")
    ]
    assert not found, _violations(found)


def test_the_core_never_imports_the_front_ends() -> None:
    found = [
        i
        for i in IMPORTS
        if not _within(i.module, *FRONT_ENDS) and _within(i.imported, *FRONT_ENDS)
    ]
    assert not found, _violations(found)


def test_every_fixloop_import_names_a_real_module_or_name() -> None:
    """A moved module leaves no import of its old place behind (lazy ones included)."""
    missing = [
        i
        for i in IMPORTS
        if _within(i.imported, "fixloop")
        and not _is_known_module(i.imported)
        and not _is_known_module(i.imported.rpartition(".")[0])
    ]
    assert not missing, _violations(missing)
