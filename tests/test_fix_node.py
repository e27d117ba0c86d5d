"""`fixloop fix` on a JavaScript project whose tests run with `npm test` (the sandbox has
node but no npm: the package's test script runs itself), fixed by a model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.scripted_openai import scripted_openai

pytestmark = pytest.mark.slow

CART = """function total(prices) {
  let sum = 0;
  for (let i = 1; i < prices.length; i++) {
    sum += prices[i];
  }
  return sum;
}

module.exports = { total };
"""
CART_TESTS = """const test = require('node:test');
const assert = require('node:assert');
const { total } = require('../src/cart');

test('sums every price', () => {
  assert.strictEqual(total([1, 2, 3]), 6);
});

test('an empty basket costs nothing', () => {
  assert.strictEqual(total([]), 0);
});
"""
REPLY = (
    "The loop skips the first price.\n\nsrc/cart.js\n<<<<<<< SEARCH\n"
    "  for (let i = 1; i < prices.length; i++) {\n=======\n"
    "  for (let i = 0; i < prices.length; i++) {\n>>>>>>> REPLACE\n"
)


@pytest.fixture
def cart(tmp_path: Path) -> Path:
    root = tmp_path / "cart"
    (root / "src").mkdir(parents=True)
    (root / "test").mkdir()
    (root / "package.json").write_text(
        json.dumps({"name": "cart", "scripts": {"test": "node --test", "pretest": "eslint ."}})
    )
    (root / "src" / "cart.js").write_text(CART, encoding="utf-8")
    (root / "test" / "cart.test.js").write_text(CART_TESTS, encoding="utf-8")
    return root


def _fix(root: Path, base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "FIXLOOP_LLM_BASE_URL": base_url,
        "FIXLOOP_LLM_MODEL": "scripted",
        "FIXLOOP_LLM_API_KEY_ENV": "FIXLOOP_TEST_KEY",
        "FIXLOOP_TEST_KEY": "not-a-secret",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    return subprocess.run(
        [sys.executable, "-m", "fixloop", "fix", *args],
        cwd=root,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_model_fixes_a_javascript_bug_verified_by_npm_test(cart: Path) -> None:
    with scripted_openai([REPLY]) as server:
        result = _fix(cart, server.base_url, "src/cart.js", "--test", "npm test", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["verified"] and report["engine"].startswith("llm")
    assert "+  for (let i = 0; i < prices.length; i++) {" in report["patch"]
    assert report["tests"] == {"passed": 2, "failed": 0}
    # The model was shown the failing test and its message from node's own results.
    prompt = server.prompts[0]
    assert "sums every price" in prompt and "6" in prompt


def test_the_tests_already_passing_is_said_not_fixed(cart: Path) -> None:
    (cart / "src" / "cart.js").write_text(CART.replace("let i = 1", "let i = 0"), "utf-8")
    with scripted_openai([]) as server:
        result = _fix(cart, server.base_url, "src/cart.js", "--test", "npm test", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "already-passing" and report["tests"] == {"passed": 2, "failed": 0}
    assert not server.requests
