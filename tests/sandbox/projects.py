"""Small projects the sandbox tests run candidates on."""

from __future__ import annotations

from pathlib import Path

CALC = """\
def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b


def div(a, b):
    return a / b


def clamp(x, lo, hi):
    return max(lo, min(x, hi))
"""

CALC_TESTS = """\
from calc import add, clamp, div, mul, sub


def test_add():
    assert add(2, 3) == 5


def test_sub():
    assert sub(5, 3) == 2


def test_mul():
    assert mul(4, 3) == 12


def test_div():
    assert div(9, 3) == 3


class TestClamp:
    def test_clamp(self):
        assert clamp(15, 0, 10) == 10
"""

# add() broken: two of the five tests fail, and the failure surfaces inside calc.py.
CALC_BROKEN = CALC.replace("return a + b", "return a - b").replace(
    "return a / b", "return a / (b - b)"
)


def calc_project(root: Path) -> Path:
    """A 5-test pytest project, plus the directories the sandbox must not copy."""
    (root / "tests").mkdir(parents=True)
    (root / "calc.py").write_text(CALC)
    (root / "tests" / "test_calc.py").write_text(CALC_TESTS)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / "node_modules" / "left-pad").mkdir(parents=True)
    (root / "node_modules" / "left-pad" / "index.js").write_text("module.exports = 1;\n")
    return root


NODE_SOURCE = """\
function add(a, b) { return a + b; }
module.exports = { add };
"""

NODE_TESTS = """\
const test = require('node:test');
const assert = require('node:assert');
const { add } = require('../math.js');

test('adds', () => { assert.strictEqual(add(1, 2), 3); });
test.skip('not yet', () => {});
test('group', async (t) => {
  await t.test('inner', () => { assert.strictEqual(add(2, 2), 4); });
});
"""


def node_project(root: Path) -> Path:
    (root / "test").mkdir(parents=True)
    (root / "math.js").write_text(NODE_SOURCE)
    (root / "test" / "math.test.js").write_text(NODE_TESTS)
    return root


def snapshot_files(root: Path) -> dict[str, bytes]:
    """Every file under root with its content: to prove the sandbox never wrote there."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
