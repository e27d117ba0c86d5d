"""Test generation for real: the samples run in the Docker sandbox, the generated file
runs there too, and the tests it keeps pin the function's current behaviour (they fail
once the function changes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.config import LlmSettings, Settings
from fixloop.sandbox import SandboxPool
from fixloop.testgen import GeneratedTests, TestGenError, generate_tests
from fixloop.testgen.verify import pytest_command
from tests.support.examples import copy_of_shop
from tests.support.scripted_openai import scripted_openai

pytestmark = pytest.mark.slow
TEXTUTIL = """\
def slugify(text: str) -> str:
    return "-".join(text.lower().split())


def dedupe(items: list[int]) -> list[int]:
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def parse_age(text: str) -> int:
    age = int(text)
    if age < 0:
        raise ValueError("negative age")
    return age


class RatingError(Exception):
    pass


def stars(rating: int) -> str:
    if rating > 5:
        raise RatingError("at most 5 stars")
    return "*" * rating


def countdown(n: int) -> int:
    while n != 0:
        n -= 1
    return n


class Counter:
    def __init__(self, start: int = 0) -> None:
        self.count = start

    def bump(self, by: int) -> int:
        if by > 3:
            raise ValueError("too fast")
        self.count += by
        return self.count
"""


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool() as sandbox:
        yield sandbox


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = copy_of_shop(tmp_path)
    return root


@pytest.fixture
def textutil(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "textutil.py").write_text(TEXTUTIL, encoding="utf-8")
    # Its tests use hypothesis (so the user's environment has it): property tests fit.
    (root / "conftest.py").write_text("from hypothesis import settings\n", encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def run_with(
    pool: SandboxPool, root: Path, generated: GeneratedTests, source: str, text: str
) -> bool:
    """Whether the generated tests pass with `source` changed to `text`."""
    changes = {generated.relative: generated.content, source: text}
    return pool.run(root, changes, pytest_command(generated.relative, None)).passed


def offline(pool: SandboxPool, root: Path, file: str, function: str) -> GeneratedTests:
    return generate_tests(root, root / file, pool, function=function, engine="offline")


def test_an_arithmetic_function_gets_tests_that_pin_its_boundary(
    pool: SandboxPool, shop: Path
) -> None:
    source = (shop / "pricing.py").read_text(encoding="utf-8")
    generated = offline(pool, shop, "pricing.py", "bulk_discount")
    assert generated.relative == "tests/test_pricing_bulk_discount.py"
    assert not generated.path.exists()  # offered, not written
    assert "from pricing import bulk_discount" in generated.content
    assert "bulk_discount(10) == pytest.approx(0.0)" in generated.content  # the boundary
    assert len(generated.tests) >= 5 and not generated.dropped
    assert run_with(pool, shop, generated, "pricing.py", source)
    fixed = source.replace("quantity > 10", "quantity >= 10")
    assert not run_with(pool, shop, generated, "pricing.py", fixed)


def test_a_typed_string_function_gets_examples_and_property_tests(
    pool: SandboxPool, textutil: Path
) -> None:
    generated = offline(pool, textutil, "textutil.py", "slugify")
    assert "slugify('Hello World') == 'hello-world'" in generated.content
    assert "@hypothesis.given(" in generated.content
    assert "test_slugify_is_idempotent" in generated.tests
    assert generated.property_tests >= 3
    changed = TEXTUTIL.replace('"-".join', '"_".join')
    assert not run_with(pool, textutil, generated, "textutil.py", changed)


def test_a_project_without_hypothesis_gets_no_property_tests(
    pool: SandboxPool, textutil: Path
) -> None:
    """itsdangerous, mistune: hypothesis came from the sandbox alone; the written file
    stopped the user's whole suite at collection (No module named 'hypothesis')."""
    (textutil / "conftest.py").unlink()
    generated = offline(pool, textutil, "textutil.py", "slugify")
    assert "slugify('Hello World') == 'hello-world'" in generated.content
    assert "hypothesis" not in generated.content and generated.property_tests == 0
    # Nothing of pytest used (no approx, no raises): not imported, no lint error there.
    assert "pytest" not in generated.content
    assert generated.message().startswith(f"{len(generated.tests)} tests for slugify in ")


def test_a_list_function_is_pinned(pool: SandboxPool, textutil: Path) -> None:
    generated = offline(pool, textutil, "textutil.py", "dedupe")
    assert "dedupe([1, 100, 1]) == [1, 100]" in generated.content
    assert "st.lists(st.integers(" in generated.content
    changed = TEXTUTIL.replace("    return seen\n", "    return items\n")
    assert not run_with(pool, textutil, generated, "textutil.py", changed)


def test_a_function_raising_on_bad_input_gets_pytest_raises(
    pool: SandboxPool, textutil: Path
) -> None:
    generated = offline(pool, textutil, "textutil.py", "parse_age")
    assert "with pytest.raises(ValueError):" in generated.content
    assert "parse_age('42') == 42" in generated.content
    lenient = TEXTUTIL.replace('raise ValueError("negative age")', "return 0")
    assert not run_with(pool, textutil, generated, "textutil.py", lenient)


def test_the_modules_own_exception_is_imported_and_pinned(
    pool: SandboxPool, textutil: Path
) -> None:
    generated = offline(pool, textutil, "textutil.py", "stars")
    assert "from textutil import RatingError, stars" in generated.content
    assert "with pytest.raises(RatingError):\n        stars(6)" in generated.content
    assert "stars(5) == '*****'" in generated.content
    assert "test_stars_raises_no_unexpected_error" in generated.tests


def test_a_method_is_tested_on_a_fresh_instance(pool: SandboxPool, textutil: Path) -> None:
    generated = offline(pool, textutil, "textutil.py", "Counter.bump")
    assert generated.relative == "tests/test_textutil_counter_bump.py"
    assert "from textutil import Counter" in generated.content
    assert "assert Counter().bump(3) == 3" in generated.content  # not 3 more each call
    assert "Counter().bump(4)" in generated.content  # the boundary raises
    changed = TEXTUTIL.replace("if by > 3:", "if by > 4:")
    assert not run_with(pool, textutil, generated, "textutil.py", changed)


def test_inputs_that_never_return_are_left_out_and_no_property_is_drawn(
    pool: SandboxPool, textutil: Path
) -> None:
    generated = offline(pool, textutil, "textutil.py", "countdown")
    assert "countdown(7) == 0" in generated.content
    assert "countdown(-1)" not in generated.content  # never returns: not pinned
    assert "hypothesis" not in generated.content


def test_a_function_with_side_effects_is_refused_offline(pool: SandboxPool, shop: Path) -> None:
    with pytest.raises(TestGenError, match=r"archive has side effects \(subprocess\)"):
        offline(pool, shop, "pricing.py", "archive")


def test_the_file_goes_next_to_the_existing_tests_under_a_free_name(
    pool: SandboxPool, textutil: Path
) -> None:
    (textutil / "test_old.py").write_text("def test_ok():\n    pass\n", encoding="utf-8")
    (textutil / "test_textutil_slugify.py").write_text("", encoding="utf-8")
    generated = offline(pool, textutil, "textutil.py", "slugify")
    assert generated.relative == "test_textutil_slugify_2.py"


def test_the_offline_tests_run_where_written(pool: SandboxPool, shop: Path) -> None:
    """Written to disk, the file collects with the project's own test command."""
    generated = offline(pool, shop, "pricing.py", "total")
    generated.path.write_text(generated.content, encoding="utf-8")
    result = pool.run(shop, {}, "python -m pytest -q tests/test_pricing_total.py")
    assert result.passed and len(result.cases) == len(generated.tests)


GOOD_REPLY = """Here are the tests.

```python
import pytest

from textutil import parse_age


def test_parses_a_number():
    assert parse_age("42") == 42


def test_refuses_a_negative_age():
    with pytest.raises(ValueError):
        parse_age("-1")


def test_wrong_guess():
    assert parse_age("7") == 8
```
"""
BAD_REPLY = """```python
from textutil import parse_age


def test_wrong():
    assert parse_age("1") == 2


def test_also_wrong():
    assert parse_age("-1") == -1
```
"""


def model_settings(base_url: str) -> Settings:
    return Settings(
        llm=LlmSettings(
            base_url=base_url, model="scripted", api_key_env="FIXLOOP_TEST_KEY", max_retries=0
        )
    )


def test_the_model_writes_the_tests_and_the_failing_one_is_dropped(
    pool: SandboxPool, textutil: Path
) -> None:
    with scripted_openai([GOOD_REPLY]) as server:
        generated = generate_tests(
            textutil,
            textutil / "textutil.py",
            pool,
            line=14,  # inside parse_age
            settings=model_settings(server.base_url),
            engine="llm",
        )
    assert "def parse_age(text: str) -> int:" in server.prompts[0]
    assert "from textutil import parse_age" in server.prompts[0]
    assert generated.engine == "llm:scripted"
    assert generated.tests == ("test_parses_a_number", "test_refuses_a_negative_age")
    assert [d.test for d in generated.dropped] == ["test_wrong_guess"]
    assert "test_wrong_guess" not in generated.content
    assert "7 == 8" in generated.dropped[0].reason


def test_a_secret_in_the_module_never_reaches_the_model(pool: SandboxPool, textutil: Path) -> None:
    key = "AKIA" + "Z7QX3MPLE4KEYW2R"
    source = textutil / "textutil.py"
    source.write_text(f'KEY = "{key}"\n\n\n' + TEXTUTIL, encoding="utf-8")
    with scripted_openai([GOOD_REPLY]) as server:
        generate_tests(
            textutil,
            source,
            pool,
            function="parse_age",
            settings=model_settings(server.base_url),
            engine="llm",
        )
    assert key not in json.dumps(server.requests)
    assert '"<redacted:FL301>"' in server.prompts[0]


def test_model_tests_that_all_fail_are_not_offered(pool: SandboxPool, textutil: Path) -> None:
    with (
        scripted_openai([BAD_REPLY]) as server,
        pytest.raises(TestGenError, match="none of the generated tests passes"),
    ):
        generate_tests(
            textutil,
            textutil / "textutil.py",
            pool,
            function="parse_age",
            settings=model_settings(server.base_url),
            engine="llm",
        )


def test_auto_falls_back_to_offline_when_the_models_tests_fail(
    pool: SandboxPool, textutil: Path
) -> None:
    with scripted_openai([BAD_REPLY]) as server:
        generated = generate_tests(
            textutil,
            textutil / "textutil.py",
            pool,
            function="parse_age",
            settings=model_settings(server.base_url),
            engine="auto",
        )
    assert generated.engine == "offline"
    assert "the model's tests were not used" in generated.notes[0]
    assert "pytest.raises(ValueError)" in generated.content


def test_a_module_that_does_not_import_is_a_clear_error(pool: SandboxPool, tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text(
        "import not_installed_anywhere\n\n\ndef f(x: int) -> int:\n    return x\n",
        encoding="utf-8",
    )
    with pytest.raises(TestGenError, match="could not be called in the sandbox"):
        generate_tests(tmp_path, tmp_path / "broken.py", pool, function="f", engine="offline")
