"""The parts that need no sandbox: finding the function, choosing inputs and the file's
place, pruning failing tests, reading a model's reply."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixloop.testgen import TestGenError, find_function
from fixloop.testgen.inputs import cases, param_samples
from fixloop.testgen.model import test_file_of as file_of_reply
from fixloop.testgen.placement import test_path as place
from fixloop.testgen.target import side_effects
from fixloop.testgen.verify import remove_tests
from fixloop.testgen.verify import test_names as names_in

SOURCE = '''\
import functools


def discount(quantity, code="none"):
    """Boundaries come from the comparisons."""
    if quantity >= 10:
        return 0.1
    if code == "VIP":
        return 0.2
    return 0.0


class Cart:
    def add(self, item):
        return item


@functools.cache
def greet(name: str, *, loud: bool = False) -> str:
    return name.upper() if loud else name
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "shop.py").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def test_the_function_is_found_by_any_line_of_it(project: Path) -> None:
    target = find_function(project, project / "pkg" / "shop.py", line=7)
    assert (target.name, target.module) == ("discount", "pkg.shop")
    decorated = find_function(project, project / "pkg" / "shop.py", line=18)
    assert decorated.name == "greet"


def test_a_method_is_called_on_a_fresh_instance(project: Path) -> None:
    method = find_function(project, project / "pkg" / "shop.py", line=15)
    assert (method.qualname, method.callee, method.imported) == ("Cart.add", "Cart().add", "Cart")
    assert [p.name for p in method.params] == ["item"]  # not self
    assert method.slug == "cart_add"


def test_what_cannot_be_tested_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "till.py").write_text(
        "class Till:\n    def __init__(self, cash):\n        self.cash = cash\n\n"
        "    def pay(self, amount):\n        return self.cash - amount\n\n\n"
        "def outer():\n    def inner(x):\n        return x\n    return inner\n",
        encoding="utf-8",
    )
    with pytest.raises(TestGenError, match=r"Till\(\) needs arguments \(cash\)"):
        find_function(tmp_path, tmp_path / "till.py", name="Till.pay")
    with pytest.raises(TestGenError, match="special method"):
        find_function(tmp_path, tmp_path / "till.py", line=2)
    with pytest.raises(
        TestGenError,
        match=r"no function called inner in till\.py \(nested functions are not supported\)",
    ):
        find_function(tmp_path, tmp_path / "till.py", name="inner")
    with pytest.raises(TestGenError, match=r"no function at line 7 in till\.py$"):
        find_function(tmp_path, tmp_path / "till.py", line=7)


def test_inputs_come_from_comparisons_defaults_and_hints(project: Path) -> None:
    samples = param_samples(find_function(project, project / "pkg" / "shop.py", line=4))
    quantity, code = samples
    assert {"9", "10", "11"} <= set(quantity.values)
    assert code.values[0] == "'none'" and "'VIP'" in code.values
    assert quantity.shape is None  # untyped: no property test draws it
    greet = param_samples(find_function(project, project / "pkg" / "shop.py", line=19))
    assert [s.shape.base if s.shape else None for s in greet] == ["str", "bool"]
    all_cases = cases(samples)
    assert all_cases[0] == ("1", "'none'") and ("10", "'none'") in all_cases
    assert len(all_cases) <= 12


def test_the_file_goes_to_tests_and_never_over_an_existing_one(tmp_path: Path) -> None:
    assert place(tmp_path, "pkg.shop", "discount") == tmp_path / "tests/test_shop_discount.py"
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_shop_discount.py").write_text("", encoding="utf-8")
    (tmp_path / "tests" / "test_shop_discount_2.py").write_text("", encoding="utf-8")
    assert place(tmp_path, "pkg.shop", "discount").name == "test_shop_discount_3.py"


def test_failing_tests_are_removed_with_their_decorators_and_empty_classes() -> None:
    text = (
        "import pytest\n\n\n@pytest.mark.slow\ndef test_a():\n    assert False\n\n\n"
        "def test_b():\n    pass\n\n\nclass TestC:\n    def test_c(self):\n        assert 0\n"
    )
    pruned = remove_tests(text, {"test_a", "test_c"})
    assert names_in(pruned) == ["test_b"]
    assert "mark.slow" not in pruned and "class TestC" not in pruned


def test_a_model_reply_must_hold_a_python_block_with_tests() -> None:
    assert file_of_reply("Sure:\n```python\ndef test_x():\n    pass\n```\n").startswith(
        "def test_x"
    )
    with pytest.raises(TestGenError, match="no ```python code block"):
        file_of_reply("def test_x(): pass")
    with pytest.raises(TestGenError, match="do not parse"):
        file_of_reply("```python\ndef test_x(:\n```")
    with pytest.raises(TestGenError, match="defines no test"):
        file_of_reply("```python\nx = 1\n```")


EFFECTS = """\
import os
import subprocess


def archive(folder):
    subprocess.run("tar czf archive.tgz " + folder, shell=True)


def save(path, text):
    with open(path, "w") as handle:
        handle.write(text)


def tidy(path):
    os.remove(path)


def pure(items, text):
    items.remove(1)
    return text.replace("a", "b")
"""


def test_functions_with_side_effects_are_told_apart_from_pure_ones(tmp_path: Path) -> None:
    (tmp_path / "effects.py").write_text(EFFECTS, encoding="utf-8")
    found = {
        name: side_effects(find_function(tmp_path, tmp_path / "effects.py", name=name).node)
        for name in ("archive", "save", "tidy", "pure")
    }
    assert found == {
        "archive": ["subprocess"],
        "save": ["open(..., 'w')"],
        "tidy": [".remove()"],
        "pure": [],
    }
