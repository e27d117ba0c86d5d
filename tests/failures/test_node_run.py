"""A JavaScript project's failing tests as findings: `npm test` detected, its `node --test`
script run in the real sandbox, each failure on the line of the user's file where it
surfaced."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.failures import run_tests, select_tests
from fixloop.failures.findings import Placement
from fixloop.failures.related import package_script
from fixloop.sandbox import SandboxPool
from fixloop.testcommand import detect_test_command

PACKAGE = {"name": "cart", "private": True, "scripts": {"test": "node --test"}}
# The bug: a quantity of 1 is refused (`> 1` for `> 0`), on line 6, inside the helper the
# test reaches through total().
CART = """\
'use strict';
const assert = require('node:assert');

// Each line of a cart: a priced item and a positive quantity.
function checkItem(item) {
  assert.ok(item.quantity > 1, `quantity must be positive, got ${item.quantity}`);
  return item;
}

function total(items) {
  return items.map(checkItem).reduce((sum, item) => sum + item.price * item.quantity, 0);
}

module.exports = { total };
"""
BUG_LINE = 6
CART_TEST = """\
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { total } = require('../src/cart');

test('a cart sums its lines', () => {
  assert.strictEqual(total([{ price: 3, quantity: 2 }, { price: 4, quantity: 1 }]), 10);
});

test('an empty cart costs nothing', () => {
  assert.strictEqual(total([]), 0);
});
"""
CALL_LINE = 7  # where the failing test calls total()
# A test file of something else, that the selection leaves out.
OTHER_TEST = """\
const test = require('node:test');

test('unrelated', () => {});
"""


def node_project(root: Path) -> Path:
    files = {
        "package.json": json.dumps(PACKAGE, indent=2),
        "src/cart.js": CART,
        "test/cart.test.js": CART_TEST,
        "test/other.test.js": OTHER_TEST,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root.resolve()


def fixed(cart: str) -> str:
    return cart.replace("item.quantity > 1", "item.quantity > 0")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return node_project(tmp_path / "cart")


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool() as pool:
        yield pool


def test_npm_test_is_detected_and_runs_the_related_node_tests(project: Path) -> None:
    command = detect_test_command(project)
    assert command == "npm test"
    selection = select_tests(project, [project / "src/cart.js"], command)
    assert selection.command == "node --test test/cart.test.js"
    assert selection.test_files == ("test/cart.test.js",)
    # A test file runs itself; a file no test imports runs the whole suite.
    itself = select_tests(project, [project / "test/other.test.js"], command)
    assert itself.test_files == ("test/other.test.js",)
    (project / "src/unused.js").write_text("module.exports = {};\n", encoding="utf-8")
    assert select_tests(project, [project / "src/unused.js"], command).whole_suite


def test_only_a_test_script_the_sandbox_can_run_alone_replaces_npm_test(tmp_path: Path) -> None:
    def script(test: str, *, binary: str | None = None) -> str:
        root = tmp_path / str(len(list(tmp_path.iterdir())))
        root.mkdir()
        (root / "package.json").write_text(json.dumps({"scripts": {"test": test}}))
        if binary:
            (root / "node_modules/.bin").mkdir(parents=True)
            (root / "node_modules/.bin" / binary).write_text("#!/usr/bin/env node\n")
        return package_script(root, "npm test")

    assert script("node --test test/") == "node --test test/"
    assert script("jest --ci", binary="jest") == "node_modules/.bin/jest --ci"
    assert script("npm run unit") == "npm test"  # npm again: left as it was
    assert package_script(tmp_path, "npm test -- --watch") == "npm test -- --watch"
    # Given its own folder, node runs it all: no narrowing to the related files.
    root = tmp_path / "own"
    node_project(root)
    (root / "package.json").write_text(json.dumps({"scripts": {"test": "node --test test/"}}))
    assert select_tests(root, [root / "src/cart.js"], "npm test").whole_suite


@pytest.mark.slow
def test_the_failing_assertion_shows_on_the_bug_line(pool: SandboxPool, project: Path) -> None:
    source, test_file = project / "src/cart.js", project / "test/cart.test.js"
    command = detect_test_command(project)
    assert command is not None
    run = run_tests(pool, project, [source], command, also=[test_file])
    assert run.result.report_format == "node"
    assert run.summary().startswith("1 passed, 1 failed")
    assert run.summary().endswith("(related tests)")
    [finding] = run.findings[source]
    # The innermost frame in cart.js, not total() that called it.
    assert (finding.line, finding.placement) == (BUG_LINE, Placement.TRACEBACK)
    assert finding.message == (
        "test/cart.test.js::a cart sums its lines failed: quantity must be positive, got 1"
    )
    assert finding.test_location == (test_file, CALL_LINE)
    [in_test] = run.findings[test_file]
    assert (in_test.line, in_test.test_id) == (CALL_LINE, finding.test_id)


@pytest.mark.slow
def test_a_fixed_file_has_no_findings(pool: SandboxPool, project: Path) -> None:
    source = project / "src/cart.js"
    source.write_text(fixed(CART), encoding="utf-8")
    run = run_tests(pool, project, [source], "npm test")
    assert run.result.passed and run.findings == {source: ()}
    assert run.summary().startswith("2 passed")


@pytest.mark.slow
def test_a_wrong_value_asserted_in_the_test_shows_on_the_file(
    pool: SandboxPool, project: Path
) -> None:
    """No frame of the failure is in cart.js: its related test failed, so line 1 says so."""
    source, test_file = project / "src/cart.js", project / "test/cart.test.js"
    source.write_text(fixed(CART).replace("item.price * item.quantity", "item.price"), "utf-8")
    run = run_tests(pool, project, [source], "npm test", also=[test_file])
    [finding] = run.findings[source]
    assert (finding.line, finding.placement) == (1, Placement.FILE)
    assert "Expected values to be strictly equal" in finding.message
    assert "7 !== 10" in finding.message
    [in_test] = run.findings[test_file]
    assert (in_test.line, in_test.placement) == (CALL_LINE, Placement.TRACEBACK)


@pytest.mark.slow
def test_a_test_file_that_does_not_load_shows_its_syntax_error(
    pool: SandboxPool, project: Path
) -> None:
    """Like pytest's collection error: the test file's error on its line; the source its
    tests could not check gets that on line 1."""
    source, test_file = project / "src/cart.js", project / "test/cart.test.js"
    test_file.write_text(CART_TEST.replace("quantity: 1 }]), 10)", "quantity: 1 }), 10)"))
    run = run_tests(pool, project, [source], "npm test", also=[test_file])
    assert not run.result.passed
    [in_test] = run.findings[test_file]
    assert (in_test.line, in_test.placement) == (CALL_LINE, Placement.TRACEBACK)
    assert in_test.test_id == "test/cart.test.js"
    assert in_test.message.startswith("test/cart.test.js failed: SyntaxError: ")
    [in_source] = run.findings[source]
    assert (in_source.line, in_source.placement) == (1, Placement.FILE)
    assert in_source.message == in_test.message
    assert "/work/" not in in_test.message  # no path of the sandbox's copy


@pytest.mark.slow
def test_a_syntax_error_in_the_source_shows_on_its_line(pool: SandboxPool, project: Path) -> None:
    source = project / "src/cart.js"
    source.write_text(fixed(CART).replace("return item;", "return item;;)"), "utf-8")
    run = run_tests(pool, project, [source], "npm test")
    [finding] = run.findings[source]
    assert (finding.line, finding.placement) == (BUG_LINE + 1, Placement.TRACEBACK)
    assert "SyntaxError: Unexpected token ')'" in finding.message
