"""The name and literal templates of the bug studies' single-statement categories (wrong
function name, a function passed as a value, an identifier swapped for its opposite, a
changed number or string literal): the edits they make, that they only use names and
literals the file has, and one fix through the real sandbox that only they can make."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixloop.loop.offline.source import Source
from fixloop.loop.offline.templates import TEMPLATES
from tests.loop.test_offline import _early

FIX = [sys.executable, "-m", "fixloop", "fix", "--no-memory"]


def fix_offline(project: Path, target: str) -> dict[str, Any]:
    """`fixloop fix TARGET --engine offline --json` in the project, as a user runs it."""
    result = subprocess.run(
        [*FIX, target, "--test", "python -m pytest -q", "--engine", "offline", "--json"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def edits(template: str, code: str, line: int) -> list[tuple[str, str]]:
    """(old text, new text) of each edit the template makes at the line, in rank order."""
    src = Source("m.py", code)
    found = sorted(TEMPLATES[template](src, line), key=lambda e: e.rank)
    return [(code[e.start : e.end], e.text) for e in found]


def identifiers(code: str) -> set[str]:
    tree = ast.parse(code)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names |= {
        n.name
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    return names


STATS = """import os


def mean(xs):
    return sum(xs) / len(xs)


def median(xs):
    return sorted(xs)[len(xs) // 2]


def parse_int(text):
    return int(text)


def parse_float(text):
    return float(text)


def summary(xs, path):
    values = list(map(parse_int, xs))
    name = os.path.basename(path)
    return {"name": name, "mean": mean(values), "median": mean(values)}
"""


def test_wrong_function_name_is_replaced_by_the_most_alike_function_of_the_module() -> None:
    found = edits("wrong_func", STATS, 23)
    assert ("mean", "median") in found
    assert found.index(("mean", "median")) < 2
    # A function passed as a value is a function too.
    assert edits("wrong_func", STATS, 21)[0] == ("parse_int", "parse_float")
    # Builtins are swap_builtin's: `list`, `map` and `sum` get nothing here.
    assert all(old not in ("list", "map") for old, _ in edits("wrong_func", STATS, 21))


def test_a_method_or_module_function_is_replaced_by_a_sibling_of_similar_name() -> None:
    source = (
        "class Table:\n    def add_row(self, row):\n        self.rows.append(row)\n\n"
        "    def add_rows(self, rows):\n        for row in rows:\n            self.add_rows(row)\n"
    )
    assert edits("wrong_func", source, 7) == [("add_rows", "add_row")]
    # os.path is loaded: its own names are the alternatives of one of them.
    news = [new for old, new in edits("wrong_func", STATS, 22) if old == "basename"]
    assert "dirname" in news


def test_wrong_func_invents_no_name() -> None:
    names = identifiers(STATS) | set(dir(__import__("os.path").path))
    for line in range(1, len(STATS.splitlines()) + 1):
        for _, new in edits("wrong_func", STATS, line):
            assert new in names


def test_a_builtin_passed_as_a_value_is_swapped_like_a_called_one() -> None:
    source = "def check(rows):\n    return list(map(all, rows))\n"
    assert ("all", "any") in edits("swap_builtin", source, 2)
    keyed = "def pick(words):\n    return sorted(words, key=str.lower)\n"
    assert ("lower", "upper") in edits("swap_builtin", keyed, 2)
    # A variable named like a builtin is not a builtin.
    shadowed = "def f(xs):\n    max = 3\n    return g(xs, max)\n"
    assert edits("swap_builtin", shadowed, 3) == []


LINKED = """class Node:
    def __init__(self, value):
        self.value = value
        self.prev = None
        self.next = None


def last(node):
    while node.next is not None:
        node = node.prev
    return node


def search(items, target):
    lo, hi = 0, len(items) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if items[mid] < target:
            hi = mid + 1
        else:
            hi = mid - 1
    return lo
"""


def test_of_two_copies_the_later_is_swapped_for_its_opposite_first() -> None:
    source = (
        "class R:\n    def __init__(self, width, height):\n        self.width = width\n"
        "        self.height = height\n\n    def area(self):\n"
        "        return self.width * self.width\n"
    )
    found = sorted(TEMPLATES["opposite_name"](Source("m.py", source), 7), key=lambda e: e.rank)
    assert source[: found[0].start].endswith("self.width * self.")


def test_a_name_or_attribute_swapped_for_its_opposite_where_that_exists() -> None:
    assert edits("opposite_name", LINKED, 10) == [("prev", "next")]
    assert ("hi", "lo") in edits("opposite_name", LINKED, 19)
    _early(LINKED, "            hi = mid + 1", "            lo = mid + 1", 19, within=20)


def test_opposite_name_invents_no_name() -> None:
    # `first` has an opposite, `last`, but no variable or attribute of that name.
    source = "def head(items):\n    first = items[0]\n    return first.left\n"
    assert edits("opposite_name", source, 2) == []
    assert edits("opposite_name", source, 3) == []
    names = identifiers(LINKED)
    for line in range(1, len(LINKED.splitlines()) + 1):
        for _, new in edits("opposite_name", LINKED, line):
            assert new in names


def test_a_number_changed_to_another_of_the_function_then_a_nearby_magnitude() -> None:
    source = (
        "def price(kind, amount):\n    if kind == 'gold':\n        return amount * 0.8\n"
        "    if kind == 'silver':\n        return amount * 0.9\n    return amount * 100\n"
    )
    found = [new for _, new in edits("change_number", source, 5)]
    assert found[0] == "0.8"
    assert "9.0" in found and "0.09" in found
    assert "20" not in [new for _, new in edits("change_number", "x = y - 2\n", 1)]
    ints = [new for _, new in edits("change_number", source, 6)]
    assert "1000" in ints and "10" in ints
    assert all("." not in new for new in ints), "an int stays an int"
    assert "101" not in ints and "99" not in ints  # one more or less is off_by_one's


def test_a_string_changed_to_another_compared_or_assigned_in_the_same_place() -> None:
    source = (
        "def apply(op, a, b):\n    if op == 'add':\n        return a + b\n"
        "    elif op == 'sub':\n        return a - b\n    elif op in ('sub', 'times'):\n"
        "        return a * b\n    mode = 'strict'\n    return mode\n\n\n"
        "def relax():\n    mode = 'lenient'\n    return mode\n"
    )
    assert [new for old, new in edits("change_string", source, 6) if old == "'sub'"] == [
        "'times'",
        "'add'",
    ]
    assert edits("change_string", source, 8) == [("'strict'", "'lenient'")]
    literals = {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant)}
    for line in range(1, 15):
        for _, new in edits("change_string", source, line):
            assert ast.literal_eval(new) in literals


def test_sequence_wrappers_for_iterables_not_numbers() -> None:
    source = "def f(items):\n    total = len(items) + 1\n    return g(items, total)\n"
    wrapped = [new for old, new in edits("wrap_call", source, 3) if old == "items"]
    assert {"tuple(items)", "reversed(items)", "set(items)", "sorted(items)"} <= set(wrapped)
    numbers = [new for old, new in edits("wrap_call", source, 3) if old == "total"]
    assert "tuple(total)" not in numbers and "reversed(total)" not in numbers


@pytest.mark.slow
def test_the_offline_engine_fixes_a_wrong_function_name_in_the_sandbox(tmp_path: Path) -> None:
    project = tmp_path / "stats"
    project.mkdir()
    (project / "stats.py").write_text(STATS, encoding="utf-8")
    (project / "test_stats.py").write_text(
        "from stats import summary\n\n\n"
        "def test_summary():\n"
        "    got = summary(['1', '2', '9'], '/data/x.csv')\n"
        "    assert got == {'name': 'x.csv', 'mean': 4, 'median': 2}\n"
        "    got = summary(['3', '5', '4', '10'], 'y.csv')\n"
        "    assert got == {'name': 'y.csv', 'mean': 5.5, 'median': 5}\n",
        encoding="utf-8",
    )
    report = fix_offline(project, "stats.py")
    assert report["verified"] is True
    assert '"median": median(values)}' in report["patch"]


CALLS = """def window(items, size=3, *, step=1):
    return items[::step][:size]


def report(items):
    first = round(sum(items) / len(items), 2)
    rest = sorted(items, reversed=True)
    return window(items, sise=2), first, rest
"""


def test_a_keyword_renamed_to_a_parameter_of_the_callee() -> None:
    assert edits("keyword_name", CALLS, 7) == [("reversed", "reverse")]
    assert edits("keyword_name", CALLS, 8)[0] == ("sise", "size")
    # Only the callee's own parameters: `step` and `size`, nothing else.
    assert {new for _, new in edits("keyword_name", CALLS, 8)} <= {"size", "step", "items"}


def test_an_argument_too_many_is_dropped() -> None:
    found = edits("remove_arg", CALLS, 6)
    assert found[0] == (", 2", "")
    _early(CALLS, "round(sum(items) / len(items), 2)", "round(sum(items) / len(items))", 6)
