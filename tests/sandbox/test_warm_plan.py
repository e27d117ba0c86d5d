"""The warm runner compiles only the edited function: the code it gets must be what
compiling the whole module gives, and the functions below must move by the lines gained.

Checked on real modules (the standard library's), without Docker.
"""

from __future__ import annotations

import ast
import inspect
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest._code import source as pytest_source

from fixloop.sandbox._warm import (
    Region,
    StatementCache,
    _alone,
    _first_line,
    _imported_names,
    _innermost_def,
    _shifted,
    _startend,
    _statement_lines,
)

MODULES = ["argparse", "json.decoder", "dataclasses", "fractions", "typing"]


def codes(code: types.CodeType) -> Iterator[types.CodeType]:
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield const
            yield from codes(const)


def same(a: types.CodeType, b: types.CodeType) -> bool:
    """Equal code, nested code included (`==` compares nested code objects by identity)."""
    fields = ("co_code", "co_names", "co_varnames", "co_freevars", "co_cellvars", "co_flags")
    more = ("co_linetable", "co_exceptiontable", "co_firstlineno", "co_qualname", "co_argcount")
    if any(getattr(a, name) != getattr(b, name) for name in fields + more):
        return False
    if len(a.co_consts) != len(b.co_consts):
        return False
    return all(
        same(x, y) if isinstance(x, types.CodeType) and isinstance(y, types.CodeType) else x == y
        for x, y in zip(a.co_consts, b.co_consts, strict=True)
    )


def by_place(code: types.CodeType) -> dict[tuple[str, int], types.CodeType]:
    return {(c.co_qualname, c.co_firstlineno): c for c in codes(code)}


def functions_in_classes_only(tree: ast.Module) -> Iterator[ast.FunctionDef]:
    """Module-level functions and methods of module-level classes."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node
        elif isinstance(node, ast.ClassDef):
            yield from (n for n in node.body if isinstance(n, ast.FunctionDef))


@pytest.mark.parametrize("module", MODULES)
def test_a_function_compiled_alone_is_the_whole_modules_code(module: str) -> None:
    source = inspect.getsource(__import__(module, fromlist=["_"]))
    tree = ast.parse(source)
    lines = source.splitlines(True)
    checked = 0
    nodes = list(functions_in_classes_only(tree))
    for node in nodes[:: max(1, len(nodes) // 12)]:  # a dozen, spread over the module
        last = node.body[-1]
        # One statement more at the end of its body: the function changes, the rest moves.
        indent = " " * last.col_offset
        edited = lines[:]
        edited.insert(last.end_lineno or 0, f"{indent}__warm_check = 1\n")
        new_source = "".join(edited)
        region = Region(source, new_source)
        found = _innermost_def(tree, *region.span(region.old_end))
        assert found is not None and found.node is node and found.in_classes_only
        first, end = _first_line(node), (node.end_lineno or 0) + region.delta
        text = _alone(edited, found, first, end, _imported_names(tree))
        alone = compile(text, module, "exec", dont_inherit=True)
        whole = by_place(compile(new_source, module, "exec", dont_inherit=True))
        assert same(by_place(alone)[(found.qualname, first)], whole[(found.qualname, first)])
        old = by_place(compile(source, module, "exec", dont_inherit=True))
        for (qualname, line), code in old.items():
            if line > (node.end_lineno or 0):
                assert same(_shifted(code, region.delta), whole[(qualname, line + region.delta)])
        checked += 1
    assert checked > 5


def test_the_changed_lines_and_the_function_around_them() -> None:
    old = "class A:\n    def f(self):\n        return 1\n\n\ndef g():\n    return 2\n"
    new = old.replace("return 1", "x = 1\n        return x")
    region = Region(old, new)
    assert (region.start, region.old_end, region.new_end, region.delta) == (3, 3, 4, 1)
    found = _innermost_def(ast.parse(old), *region.span(region.old_end))
    assert found is not None and found.qualname == "A.f" and found.outermost == "A.f"
    assert _innermost_def(ast.parse(old), 1, 1) is None  # a class header: no function


@pytest.mark.parametrize("module", MODULES)
def test_the_statements_a_failure_report_shows_are_pytests_own(module: str) -> None:
    """Failure reports find a traceback line's statement from the file's statement lines:
    the warm runner's, found once per file (and for an edited file, from the edited
    function alone), must be what pytest finds parsing the whole new file."""
    path = inspect.getsourcefile(__import__(module, fromlist=["_"]))
    assert path is not None
    source = Path(path).read_text(encoding="utf-8")
    tree = ast.parse(source)
    values = _statement_lines(tree)
    for lineno in range(0, len(source.splitlines()), 61):
        assert _startend(lineno, values) == pytest_source.get_statement_startend2(lineno, tree)
    cache = StatementCache()
    cache.by_path[path] = cache._statements(source)
    lines = source.splitlines(True)
    nodes = list(functions_in_classes_only(tree))
    checked = 0
    for node in nodes[:: max(1, len(nodes) // 12)]:
        for edit in ("insert", "delete"):
            edited = lines[:]
            last = node.body[-1]
            if edit == "insert":  # an `if` with an `else:` block: the marks pytest adds
                indent = " " * last.col_offset
                block = [f"{indent}if x:\n", f"{indent}    y = 1\n", f"{indent}else:\n"]
                edited[last.lineno - 1 : last.lineno - 1] = [
                    *block,
                    f"{indent}    y = 2\n",
                ]
            elif len(node.body) > 1 and last.lineno == last.end_lineno:
                del edited[last.lineno - 1]  # the function ends earlier than by one line
            else:
                continue
            new_source = "".join(edited)
            region = Region(source, new_source)
            found = _innermost_def(tree, *region.span(region.old_end))
            assert found is not None and found.node is node
            first, end = _first_line(node), (node.end_lineno or 0) + region.delta
            text = _alone(edited, found, first, end, _imported_names(tree))
            cache.for_candidate(path, new_source, tree, found, ast.parse(text), region.delta)
            assert cache.candidate is not None
            assert cache.candidate[1].lines == _statement_lines(ast.parse(new_source))
            assert cache._statements(new_source.rstrip("\n")) is cache.candidate[1]
            checked += 1
    assert checked > 5
