"""The missing-argument templates (the bug studies' "same function, more arguments"):
the argument they add comes from the callee's signature (in the file, in a project module
it is imported from, or a builtin's), from other calls of the same callee, or from a
variable of the scope; none is invented, and a call with nothing to add gets nothing.
One fix through the real sandbox that only they can make."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fixloop.loop.offline.source import Project, Source
from fixloop.loop.offline.templates import TEMPLATES
from tests.loop.test_offline import _rank_of
from tests.loop.test_offline_names import fix_offline


def added(template: str, code: str, line: int, src: Source | None = None) -> list[str]:
    """Each call on the line as the template rewrites it, best first."""
    src = src or Source("m.py", code)
    found = sorted(TEMPLATES[template](src, line), key=lambda e: e.rank)
    return [_call_after(code[: e.start] + e.text + code[e.end :], line) for e in found]


def _call_after(text: str, line: int) -> str:
    return text.splitlines()[line - 1].strip()


PRICES = """def parse(text, strict=False, *, base=10):
    return int(text, base)


def fmt(value, currency, digits):
    return f"{value:.{digits}f} {currency}"


def report(prices, strict, currency):
    mean = round(sum(prices) / len(prices))
    n = parse(prices[0])
    label = fmt(mean, 2)
    return n, label, {}.get("n")


def detail(prices):
    return round(prices[0], 3), fmt(prices[0], "EUR", 2), {}.get("k", 0)
"""


def test_a_required_parameter_is_passed_from_the_same_named_variable() -> None:
    # `currency` dropped in the middle: the scope's variable, at the parameter's place
    # (the other call of `fmt` passes `2` there, which this call already passes).
    found = added("required_arg", PRICES, 12)
    assert found[0] == "label = fmt(mean, currency, 2)"
    # Then, as the call fails without one, the nearest variables already assigned (not
    # `label`, which this line assigns).
    assert found[1:] == [
        "label = fmt(mean, 2, n)",
        "label = fmt(mean, 2, currency)",
        "label = fmt(mean, 2, prices)",
    ]
    # The call certainly fails: the other templates leave it to required_arg.
    assert added("more_args", PRICES, 12) == added("keyword_arg", PRICES, 12) == []


def test_an_argument_other_calls_of_the_callee_pass() -> None:
    found = added("more_args", PRICES, 10)
    assert found[0] == "mean = round(sum(prices) / len(prices), 3)"
    # Every other `round` passes two arguments: the nearest variables follow.
    assert found[1:] == [
        "mean = round(sum(prices) / len(prices), currency)",
        "mean = round(sum(prices) / len(prices), strict)",
    ]
    # A method by its name: another `.get` passes a default.
    assert added("more_args", PRICES, 13)[0] == 'return n, label, {}.get("n", 0)'


def test_an_optional_parameter_is_passed_by_keyword_from_the_same_named_variable() -> None:
    # `strict` is in scope, `base` is not: only `strict=strict`, and not by position
    # (no other call of `parse` passes it so).
    assert added("keyword_arg", PRICES, 11) == ["n = parse(prices[0], strict=strict)"]
    assert added("more_args", PRICES, 11) == []


def test_nothing_is_added_when_nothing_fits() -> None:
    # Complete calls, a builtin with nothing in scope or in other calls to add.
    plain = "def area(w, h):\n    return abs(w * h)\n"
    for template in ("required_arg", "more_args", "keyword_arg"):
        assert added(template, PRICES, 17) == []
        assert added(template, plain, 2) == []


def test_no_name_is_invented() -> None:
    tree = ast.parse(PRICES)
    known = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    known |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    for line in range(1, PRICES.count("\n") + 1):
        for template in ("required_arg", "more_args", "keyword_arg"):
            for call in added(template, PRICES, line):
                tree = ast.parse(call.removeprefix("return "))
                names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
                names |= {k.arg for k in ast.walk(tree) if isinstance(k, ast.keyword) and k.arg}
                assert names <= known | {"round", "sum", "len", "int"}, call


def test_a_value_of_another_call_is_used_only_where_its_names_exist() -> None:
    code = (
        "def total(items, scale):\n    return sum(items) * scale\n\n\n"
        "def a(items, factor):\n    return total(items, factor)\n\n\n"
        "def b(items, weight):\n    return total(items)\n"
    )
    # `factor` is not in b's scope: only b's own variable, the call failing without one.
    assert added("required_arg", code, 10) == ["return total(items, weight)"]
    with_scale = code.replace("weight", "scale")
    assert added("required_arg", with_scale, 10) == ["return total(items, scale)"]


def test_a_keyword_another_call_of_the_callee_passes() -> None:
    code = (
        "import json\n\n\n"
        "def save(data):\n    return json.dumps(data, sort_keys=True)\n\n\n"
        "def show(data):\n    return json.dumps(data)\n"
    )
    assert added("keyword_arg", code, 9)[0] == "return json.dumps(data, sort_keys=True)"


def test_the_signature_of_a_function_imported_from_the_project(tmp_path: Path) -> None:
    (tmp_path / "money.py").write_text(
        "def fmt(value, currency, digits=2):\n    return f'{value:.{digits}f} {currency}'\n",
        encoding="utf-8",
    )
    code = "from money import fmt\n\n\ndef label(total, currency, digits):\n    return fmt(total)\n"
    src = Source("report.py", code)
    src.project = Project(tmp_path, {"report.py": src})
    assert added("required_arg", code, 5, src)[0] == "return fmt(total, currency)"
    fixed = code.replace("fmt(total)", "fmt(total, currency)")
    src = Source("report.py", fixed)
    src.project = Project(tmp_path, {"report.py": src})
    assert added("keyword_arg", fixed, 5, src) == ["return fmt(total, currency, digits=digits)"]
    # A function of an imported project module, called through the module.
    through = "import money\n\n\ndef label(total, currency):\n    return money.fmt(total)\n"
    src = Source("report.py", through)
    src.project = Project(tmp_path, {"report.py": src})
    assert added("required_arg", through, 5, src) == ["return money.fmt(total, currency)"]
    # Without the project, the callee is unknown: nothing to add.
    assert added("required_arg", code, 5) == [] and added("keyword_arg", fixed, 5) == []


def test_a_dropped_argument_comes_early() -> None:
    # A call that certainly fails is filled in the first batch of 16 candidates tested.
    rank = _rank_of(PRICES, PRICES.replace("fmt(mean, 2)", "fmt(mean, currency, 2)"), 12)
    assert rank is not None and rank <= 16
    # An optional argument, after the classic edits of the line: in the second batch.
    rank = _rank_of(
        PRICES, PRICES.replace("parse(prices[0])", "parse(prices[0], strict=strict)"), 11
    )
    assert rank is not None and rank <= 32


TEXTS = """def parse_price(text, decimals=2):
    return round(float(text.strip().lstrip("$")), decimals)


def parse_prices(lines, decimals=2):
    return [parse_price(line) for line in lines]
"""


@pytest.mark.slow
def test_the_offline_engine_adds_a_dropped_argument_in_the_sandbox(tmp_path: Path) -> None:
    project = tmp_path / "prices"
    project.mkdir()
    (project / "prices.py").write_text(TEXTS, encoding="utf-8")
    (project / "test_prices.py").write_text(
        "from prices import parse_prices\n\n\n"
        "def test_parse_prices():\n"
        "    assert parse_prices(['$1.234', ' 2.5']) == [1.23, 2.5]\n"
        "    assert parse_prices(['$1.26', '7'], decimals=1) == [1.3, 7.0]\n"
        "    assert parse_prices(['3.14159'], decimals=3) == [3.142]\n",
        encoding="utf-8",
    )
    report = fix_offline(project, "prices.py")
    assert report["verified"] is True
    assert "parse_price(line, decimals=decimals)" in report["patch"]
