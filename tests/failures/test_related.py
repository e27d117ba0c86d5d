"""Which tests run for a source file."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixloop.failures import select_tests
from fixloop.failures.related import related_test_files, runs_for
from fixloop.sandbox.errors import CommandRefused

PYTEST = "python -m pytest -q"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_test_files_that_import_the_module_run(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "shop/pricing.py": "",
            "shop/cart.py": "",
            "tests/test_pricing.py": "from shop.pricing import total\n",
            "tests/test_cart.py": "from shop import cart\n",
            "tests/unit/test_both.py": "import shop.pricing\nimport shop.cart\n",
            "node_modules/x/test_pricing_vendored.py": "import pricing\n",
            ".venv/lib/test_pricing.py": "import pricing\n",
        },
    )
    selection = select_tests(root, [root / "shop/pricing.py"], PYTEST)
    assert selection.test_files == ("tests/test_pricing.py", "tests/unit/test_both.py")
    assert selection.command == f"{PYTEST} tests/test_pricing.py tests/unit/test_both.py"
    both = select_tests(root, [root / "shop/pricing.py", root / "shop/cart.py"], PYTEST)
    assert both.test_files == (
        "tests/test_cart.py",
        "tests/test_pricing.py",
        "tests/unit/test_both.py",
    )


def test_a_test_file_runs_itself(tmp_path: Path) -> None:
    root = _write(tmp_path, {"tests/test_a.py": "", "tests/test_b.py": ""})
    assert related_test_files(root, root / "tests/test_a.py") == ["tests/test_a.py"]


def test_a_file_no_test_names_runs_the_whole_suite(tmp_path: Path) -> None:
    root = _write(tmp_path, {"lonely.py": "", "tests/test_a.py": "import other\n"})
    selection = select_tests(root, [root / "lonely.py", root / "tests/test_a.py"], PYTEST)
    assert selection.whole_suite and selection.command == PYTEST


def test_a_name_inside_another_word_does_not_count(tmp_path: Path) -> None:
    root = _write(tmp_path, {"price.py": "", "tests/test_a.py": "import pricelist\n"})
    assert related_test_files(root, root / "price.py") == []


def test_paths_with_spaces_are_quoted(tmp_path: Path) -> None:
    root = _write(tmp_path, {"m.py": "", "my tests/test_m.py": "import m\n"})
    assert select_tests(root, [root / "m.py"], PYTEST).command == f"{PYTEST} 'my tests/test_m.py'"


def test_other_commands_run_the_whole_suite(tmp_path: Path) -> None:
    root = _write(tmp_path, {"index.js": "", "test/index.test.js": "require('../index')\n"})
    assert select_tests(root, [root / "index.js"], "npm test").whole_suite


def test_which_files_are_a_reason_to_run(tmp_path: Path) -> None:
    assert runs_for(Path("a.py"), PYTEST) and not runs_for(Path("a.js"), PYTEST)
    assert runs_for(Path("a.ts"), "npm test") and not runs_for(Path("a.py"), "npm test")
    assert not runs_for(Path("README.md"), "make test")


def test_a_dangerous_command_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandRefused):
        select_tests(tmp_path, [tmp_path / "a.py"], "rm -rf /")


def test_the_selection_speaks_for_files_whose_tests_all_ran(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "a.py": "",
            "b.py": "",
            "tests/test_a.py": "import a\n",
            "tests/test_b.py": "import b\nimport a\n",
        },
    )
    selection = select_tests(root, [root / "b.py"], PYTEST)
    assert selection.speaks_for(root, root / "b.py")
    assert selection.speaks_for(root, root / "tests/test_b.py")
    assert not selection.speaks_for(root, root / "a.py")  # test_a.py did not run
