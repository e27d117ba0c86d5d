"""Real suites: a hang is a failing test, and a session's cost grows with the failing
tests, not with the suite (the real sandbox, the offline engine as a user runs it)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fixloop.loop.engine import Budget, FixResult, FixSession, Status
from fixloop.loop.model import Candidate, RepairContext
from fixloop.loop.offline import OfflineGenerator
from fixloop.sandbox import SandboxConfig, SandboxPool

pytestmark = pytest.mark.slow

COMMAND = "python -m pytest -q"
# A second per test instead of ten: the same mechanism, a quicker test.
CONFIG = SandboxConfig(test_timeout_seconds=2.0, parallel=2)

LOOPS_FOREVER = """\
def total(items):
    result = 0
    index = 0
    while index < len(items):
        result += items[index]
        index += 0
    return result
"""
TOTAL_TESTS = """\
from sums import total


def test_empty():
    assert total([]) == 0


def test_two():
    assert total([1, 2]) == 3


def test_three():
    assert total([1, 2, 3]) == 6


def test_four():
    assert total([4]) == 4
"""


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool(CONFIG) as sandbox:
        yield sandbox


class Events:
    """The session's log, kept in memory."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Mapping[str, Any]]] = []

    def __call__(self, kind: str, data: Mapping[str, Any]) -> None:
        self.items.append((kind, data))

    def of(self, kind: str) -> list[Mapping[str, Any]]:
        return [data for event, data in self.items if event == kind]


def session(root: Path, target: str, pool: SandboxPool, events: Events) -> FixSession:
    return FixSession(
        root,
        COMMAND,
        [OfflineGenerator()],
        pool,
        targets=[target],
        budget=Budget(wall_clock_seconds=120, parallel=2),
        on_event=events,
    )


def test_an_infinite_loop_is_a_failing_test_and_gets_fixed(
    tmp_path: Path, pool: SandboxPool
) -> None:
    (tmp_path / "sums.py").write_text(LOOPS_FOREVER)
    (tmp_path / "test_sums.py").write_text(TOTAL_TESTS)
    events = Events()
    result = session(tmp_path, "sums.py", pool, events).run()
    assert result.status is Status.FIXED, result.message
    assert "-        index += 0\n+        index += 1\n" in result.diff
    # The first test that hangs ends its shard's run: the next ones would each cost the
    # limit. The two slots' shards take the tests in turn: each ends at its first hang,
    # and test_four, after them, never runs.
    hangs = result.baseline.failures if result.baseline else ()
    assert {hang.test_id for hang in hangs} == {
        "test_sums.py::test_two",
        "test_sums.py::test_three",
    }
    assert all("TestTimeout" in hang.message for hang in hangs)
    assert len(result.baseline.cases) == 3 if result.baseline else False
    # The stack where it was stuck is in the loop: that is what localizes the fix.
    for hang in hangs:
        assert any(f.path.endswith("sums.py") and 4 <= f.line <= 6 for f in hang.frames)
    # The whole suite for the fix: every test, the two the first run never reached too.
    [whole] = events.of("regression")
    assert whole["tests"] == {"passed": 4, "failed": 0}


SWALLOWS = """\
def total(items):
    result = 0
    index = 0
    while True:
        try:  # the kind of loop real parsers have: anything wrong, go on with the next
            while True:
                if index >= len(items):
                    return result
                result += items[index]
                index += 0
        except Exception:
            continue
"""


def test_a_loop_that_swallows_exceptions_still_fails_at_the_tests_limit(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """dateutil's parser: a hang inside `try/except` swallowed the timeout, and each such
    candidate ran to the whole run's limit (65 s) instead of the test's (2 s here)."""
    (tmp_path / "sums.py").write_text(SWALLOWS)
    (tmp_path / "test_sums.py").write_text(TOTAL_TESTS)
    events = Events()
    result = session(tmp_path, "sums.py", pool, events).run()
    assert result.status is Status.FIXED, result.message
    hangs = result.baseline.failures if result.baseline else ()  # one per shard at most
    assert 1 <= len(hangs) <= CONFIG.parallel and all("TestTimeout" in h.message for h in hangs)
    assert not result.baseline.timed_out  # type: ignore[union-attr]
    assert result.baseline.duration < 10  # type: ignore[union-attr]
    hanging = [c for c in events.of("candidate") if "timed out" in str(c["summary"])]
    assert hanging == []  # a candidate that still loops fails at the limit, like a test


def test_a_test_that_hangs_outside_the_target_ends_fast_with_the_reason(
    tmp_path: Path, pool: SandboxPool
) -> None:
    (tmp_path / "sums.py").write_text(LOOPS_FOREVER.replace("index += 0", "index += 1"))
    (tmp_path / "test_sums.py").write_text(
        "import time\n\nfrom sums import total\n\n\ndef test_waits():\n"
        "    assert total([1]) == 1\n    time.sleep(10**6)\n"
    )
    events = Events()
    result = session(tmp_path, "sums.py", pool, events).run()
    assert result.status is Status.NOT_FOUND
    assert "test_sums.py::test_waits hangs in test_sums.py:8" in result.message
    assert "outside the code under repair" in result.message
    assert result.candidates_tried == 0 and not events.of("candidate")


def indirect_bug(root: Path) -> None:
    """shop.py's bug, seen only by test_cart.py (through cart.py); test_shop.py passes."""
    suite(root, files=0)
    (root / "test_shop.py").write_text(
        "from shop import price\n\n\ndef test_one():\n    assert price(1, 2) == 2\n"
    )
    (root / "cart.py").write_text(
        "from shop import price\n\n\ndef bulk():\n    return price(10, 1)\n"
    )
    (root / "test_cart.py").write_text(
        "from cart import bulk\n\n\ndef test_bulk():\n    assert bulk() == 9.0\n"
    )


def suite(root: Path, files: int = 6, per_file: int = 60) -> int:
    """A project with `files` files of `per_file` tests; one of them fails on the bug in shop.py."""
    (root / "shop.py").write_text(
        "def price(quantity, unit):\n"
        "    if quantity > 10:\n"
        "        return quantity * unit * 0.9\n"
        "    return quantity * unit\n"
    )
    for index in range(files):
        lines = ["from shop import price", ""]
        for number in range(per_file):
            lines += [f"def test_{number}():", f"    assert price(1, {number}) == {number}", ""]
        if index == files - 1:  # the one test that sees the bug
            lines += ["def test_bulk():", "    assert price(10, 1) == 9.0", ""]
        (root / f"test_part{index}.py").write_text("\n".join(lines))
    return files * per_file + 1


def test_a_large_suite_costs_the_failing_tests_not_the_suite(
    tmp_path: Path, pool: SandboxPool
) -> None:
    size = suite(tmp_path)
    events = Events()
    result = session(tmp_path, "shop.py", pool, events).run()
    assert result.status is Status.FIXED and "quantity >= 10" in result.diff

    def ran(data: Mapping[str, Any]) -> int:
        return int(data["tests"]["passed"]) + int(data["tests"]["failed"])

    [localize] = events.of("localize")  # the failing test and its file's passing ones
    selected = localize["command"].removeprefix(COMMAND).split()
    assert next(t for t in selected if "::" in t) == "test_part5.py::test_bulk"
    assert ran(localize) == 61
    candidates = events.of("candidate")
    assert candidates and all(ran(c) == 1 for c in candidates)  # the failing test alone
    whole = events.of("regression")
    assert len(whole) == 1 and ran(whole[0]) == size  # the whole suite once, for the winner
    [baseline] = events.of("baseline")
    executed = ran(baseline) + ran(localize) + sum(ran(c) for c in candidates) + ran(whole[0])
    assert executed < 2 * size + 100


def test_a_test_named_by_the_time_does_not_blind_the_localization(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """marshmallow names a parametrized test by `datetime.now()`: the localization run
    named it as the first run saw it, pytest found no such test and ran nothing, and the
    candidates went in file order (80 of them before the fix, not 16)."""
    checks = [f"def check_{n}(value):\n    return value > {n}\n" for n in range(12)]
    (tmp_path / "checks.py").write_text(
        "\n".join([*checks, "def is_empty(items):\n    return len(items) != 0\n"])
    )
    tests = [f"def test_check_{n}():\n    assert check_{n}({n + 1})\n" for n in range(12)]
    (tmp_path / "test_checks.py").write_text(
        "import time\nimport pytest\nfrom checks import *\n\n\n"
        + "\n".join(tests)
        + "\n@pytest.mark.parametrize('stamp', [str(time.time_ns())])\n"
        "def test_stamped(stamp):\n    assert check_0(len(stamp))\n\n"
        "def test_is_empty():\n"
        "    assert is_empty([]) and not is_empty([1]) and not is_empty([1, 2])\n"
    )
    events = Events()
    result = session(tmp_path, "checks.py", pool, events).run()
    assert result.status is Status.FIXED and "len(items) == 0" in result.diff
    [localize] = events.of("localize")
    assert ran(localize) == 13  # the failing test and its file's passing ones, but the stamped
    first = events.of("candidate")[0]
    assert first["description"].endswith(f"checks.py:{3 * len(checks) + 2}")


def test_a_command_that_runs_no_test_ends_the_session_with_its_error(
    tmp_path: Path, pool: SandboxPool
) -> None:
    (tmp_path / "sums.py").write_text(LOOPS_FOREVER)
    (tmp_path / "test_sums.py").write_text(TOTAL_TESTS)
    events = Events()
    session = FixSession(
        tmp_path,
        f"{COMMAND} --no-such-option",
        [OfflineGenerator()],
        pool,
        targets=["sums.py"],
        on_event=events,
    )
    result = session.run()
    assert result.status is Status.ENVIRONMENT
    assert "ran no test (exit code 4)" in result.message
    assert "unrecognized arguments: --no-such-option" in result.message
    assert not events.of("candidate")


@dataclass
class Given:
    """Candidates of shop.py in the order given, smallest edit first."""

    texts: list[str]
    name: str = "given"
    reflective: bool = False

    def candidates(self, context: RepairContext) -> Iterator[Candidate]:
        for size, text in enumerate(self.texts, 1):
            yield Candidate({"shop.py": text}, f"candidate {size}", self.name, edit_size=size)


def partial_then_right(tmp_path: Path, pool: SandboxPool) -> tuple[FixResult, Events]:
    """A bug failing 16 tests of test_shop.py; candidate 1 fixes the first ten alone,
    candidate 2 all of them."""
    (tmp_path / "shop.py").write_text("def next_of(x):\n    return x + 2\n")
    tests = ["from shop import next_of", ""]
    for number in range(16):
        tests += [f"def test_{number}():", f"    assert next_of({number}) == {number + 1}", ""]
    (tmp_path / "test_shop.py").write_text("\n".join(tests))
    partial = "def next_of(x):\n    return x + 1 if x < 10 else x + 2\n"
    right = "def next_of(x):\n    return x + 1\n"
    events = Events()
    session = FixSession(
        tmp_path,
        COMMAND,
        [Given([partial, right])],
        pool,
        targets=["shop.py"],
        budget=Budget(wall_clock_seconds=120, parallel=2, alternative_batches=0),
        on_event=events,
    )
    result = session.run()
    assert result.status is Status.FIXED and result.changes == {"shop.py": right}
    return result, events


def test_tests_the_first_run_never_reached_must_be_fixed_too(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """The first run stops at its fifth failure in each of the two slots' shards; a patch
    that fixes those ten and leaves the bug's later failures is no fix (a whole first run
    would have made them targets)."""
    result, events = partial_then_right(tmp_path, pool)
    assert result.final is not None and result.final.tally() == {"passed": 16, "failed": 0}
    [rejected] = [e for e in events.of("regression") if e.get("unfixed")]
    assert rejected["description"] == "candidate 1"
    unreached = {f"test_shop.py::test_{n}" for n in range(10, 16)}
    assert rejected["unfixed"] and set(rejected["unfixed"]) <= unreached  # some witnesses


def test_the_targets_own_tests_run_whole_first_so_a_partial_fix_costs_no_suite_run(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """When the first run is the target's own tests (fewer than the suite), it does not
    stop at five failures: every test the bug fails there is a target, and a patch that
    fixes only the first ten fails as a candidate, not after a run of the whole suite."""
    (tmp_path / "test_other.py").write_text("def test_other():\n    assert True\n")
    _, events = partial_then_right(tmp_path, pool)
    [first] = events.of("baseline")
    assert sorted(first["failing"]) == sorted(f"test_shop.py::test_{n}" for n in range(16))
    [partial_run] = [e for e in events.of("candidate") if e["description"] == "candidate 1"]
    assert partial_run["passed"] is False
    [whole] = events.of("regression")  # the right patch's, alone
    assert whole["description"] == "candidate 2" and ran(whole) == 17


def ran(data: Mapping[str, Any]) -> int:
    return int(data["tests"]["passed"]) + int(data["tests"]["failed"])


def test_tests_elsewhere_that_fail_without_the_patch_too_do_not_stop_the_fix(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """Tests the sandbox cannot pass (a program it lacks, the network), outside the first
    run: they fail with the patch and without it and never run the lines it edits. The
    fix is verified, and the user is told which tests were not counted against it."""
    suite(tmp_path, files=1, per_file=3)
    (tmp_path / "test_pager.py").write_text(
        "import shutil\n\n\ndef test_pager():\n    assert shutil.which('a-pager-it-lacks')\n"
    )
    (tmp_path / "test_zz.py").write_text("def test_network():\n    assert False, 'offline'\n")
    events = Events()
    result = session(tmp_path, "shop.py", pool, events).run()
    assert result.status is Status.FIXED, result.message
    assert "quantity >= 10" in result.diff
    [note] = [n for n in result.notes if n.startswith("not counted against the patch")]
    assert "2 tests that fail without it too" in note
    # The headline says it too: "verified: 8 passed, 2 failed" alone reads as a failure.
    headline = r"verified: \d+ passed, 2 failed in [\d.]+ s; 2 fail without the patch too \("
    assert re.match(headline, result.message), result.message
    [verified] = [e for e in events.of("regression") if "failing_regardless" in e]
    regardless = ["test_pager.py::test_pager", "test_zz.py::test_network"]
    assert verified["failing_regardless"] == regardless


def test_a_test_module_that_cannot_be_imported_here_does_not_hide_the_bug(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """tomlkit cloned without its git submodule: one test module reads a data folder at
    import and cannot be collected, which stopped pytest before any test ran; the session
    ended as 'the tests fail for a reason in the environment'. The other modules' tests
    run, the bug they show is fixed, and the module left out is said once."""
    suite(tmp_path, files=1, per_file=3)
    (tmp_path / "test_data.py").write_text(
        "import os\n\nfrom shop import price\n\n"
        "CASES = os.listdir(os.path.join(os.path.dirname(__file__), 'data-submodule'))\n\n\n"
        "def test_cases():\n    assert all(price(1, 1) == 1 for _ in CASES)\n"
    )
    events = Events()
    result = session(tmp_path, "shop.py", pool, events).run()
    assert result.status is Status.FIXED, result.message
    assert "quantity >= 10" in result.diff
    [note] = [n for n in result.notes if n.startswith("left out")]
    assert "(test_data.py: FileNotFoundError" in note and str(tmp_path) in note
    [baseline] = events.of("baseline")  # each shard collects it: one error, not two
    assert baseline["failing"].count("test_data.py") == 1
    assert result.final is not None and result.final.tally() == {"passed": 4, "failed": 0}


def test_failing_tests_that_never_run_the_target_are_not_what_to_fix(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """The whole first run stops at its fifth failure, all tests the sandbox cannot pass
    and that never run the target; the bug's own failing test comes later. The session
    looks further without them, fixes the bug, and says which tests it did not count."""
    indirect_bug(tmp_path)
    offline = [f"def test_online_{n}():\n    assert False, 'no network'\n" for n in range(6)]
    # Each slot's shard starts in a file of its own and stops at its fifth failure there.
    for name in (
        "test_aa_online.py",
        "test_ab_online.py",
        "test_ac_online.py",
        "test_ad_online.py",
    ):
        (tmp_path / name).write_text("\n\n".join(offline))
    events = Events()
    result = session(tmp_path, "shop.py", pool, events).run()
    assert result.status is Status.FIXED, result.message
    assert "quantity >= 10" in result.diff
    [first] = events.of("baseline")  # stopped at its fifth failure (in each shard)
    assert "test_cart.py::test_bulk" not in first["failing"], first
    dropped = [t for e in events.of("unreached") for t in e["tests"]]
    assert dropped and all("_online.py::" in t for t in dropped)
    assert all(
        "test_cart.py::test_bulk" in c["failing"] or c["passed"] for c in events.of("candidate")
    )
    [note] = [n for n in result.notes if n.startswith("not counted against the patch")]
    assert "24 tests that fail without it too" in note


def test_the_first_run_is_the_tests_of_the_code_under_repair(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """The tests that import the target run first; the rest of the suite runs once, for
    the fix, split across the slots."""
    suite(tmp_path, files=1, per_file=30)  # test_part0.py: shop's tests, one failing
    (tmp_path / "other.py").write_text("def name():\n    return 'other'\n")
    for index in range(4):
        tests = [f"def test_{n}():\n    assert name() == 'other'\n" for n in range(50)]
        (tmp_path / f"test_other{index}.py").write_text(
            "from other import name\n\n" + "\n".join(tests)
        )
    events = Events()
    result = session(tmp_path, "shop.py", pool, events).run()
    assert result.status is Status.FIXED and "quantity >= 10" in result.diff
    [baseline] = events.of("baseline")
    assert ran(baseline) == 31  # test_part0.py alone, not the 200 others
    [whole] = events.of("regression")
    assert whole["tests"] == {"passed": 231, "failed": 0}
    # Each failing candidate stopped at its first failing test.
    assert all(ran(c) == 1 for c in events.of("candidate"))


def test_when_the_tests_of_the_target_pass_the_whole_suite_runs(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """A bug only an indirect test sees (it imports another module that uses the target):
    the first run of the target's own tests passes, and the whole suite finds it."""
    indirect_bug(tmp_path)
    events = Events()
    result = session(tmp_path, "shop.py", pool, events).run()
    assert result.status is Status.FIXED and "quantity >= 10" in result.diff
    [baseline] = events.of("baseline")
    assert baseline["tests"] == {"passed": 1, "failed": 1}  # the whole suite, this time
    phases = [data["message"] for data in events.of("phase") if data["phase"] == "baseline"]
    assert phases == ["running the tests of the code under repair", "running the tests as they are"]


def test_a_test_elsewhere_that_hangs_ends_fast_with_the_reason(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """The first run (the target's own tests) cannot see a test of other code that hangs;
    the whole suite for the fix does, and the same test hangs without the patch: no edit
    of the target can pass the suite, and the session says so at once."""
    suite(tmp_path, files=1, per_file=3)
    (tmp_path / "clock.py").write_text("import time\n\n\ndef wait():\n    time.sleep(10**6)\n")
    (tmp_path / "test_clock.py").write_text(
        "from clock import wait\n\n\ndef test_waits():\n    wait()\n"
    )
    events = Events()
    result = session(tmp_path, "shop.py", pool, events).run()
    assert result.status is Status.NOT_FOUND
    assert "test_clock.py::test_waits hangs in clock.py:5" in result.message
    assert (
        "outside the code under repair (shop.py), with the patch and without it" in result.message
    )
    assert len(events.of("regression")) == 0 and len(events.of("unchanged")) == 1
    assert result.duration < 60  # two runs into the 2 s limit, not the session's 120 s


def test_a_slow_test_is_not_a_hung_one_and_the_fix_is_verified(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """A healthy test slower than the sandbox's per-test limit (2 s here, 10 s by
    default): killed at the limit in the first run, it looked like a failure to fix, one
    no patch could pass. Run alone with more time, it passes: slow, not hung."""
    fixed = LOOPS_FOREVER.replace("index += 0", "index += 1")
    (tmp_path / "sums.py").write_text(fixed.replace("result = 0", "result = 1"))
    (tmp_path / "test_sums.py").write_text(
        "import time\n\n" + TOTAL_TESTS + "\n\ndef test_zz_slow():\n    time.sleep(3)\n"
    )
    events = Events()
    result = session(tmp_path, "sums.py", pool, events).run()
    assert result.status is Status.FIXED, result.message
    assert "-    result = 1\n+    result = 0\n" in result.diff
    [slow] = events.of("slow")
    assert slow["slow"] == ["test_sums.py::test_zz_slow"]
    assert result.final is not None and result.final.tally() == {"passed": 5, "failed": 0}


def test_a_slow_test_the_first_run_never_saw_is_no_hang_outside_the_target(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """pyparsing from a test file, on a busy machine: the first run, the target's own
    tests, saw no slow test; in the whole suite one ran past the per-test limit, and
    alone on the unchanged code too, so the session ended with "hangs outside the code
    under repair, with the patch and without it". With more time alone it passes: slow,
    not hung, and the patch is verified."""
    fixed = LOOPS_FOREVER.replace("index += 0", "index += 1")
    (tmp_path / "sums.py").write_text(fixed.replace("result = 0", "result = 1"))
    (tmp_path / "test_sums.py").write_text(TOTAL_TESTS)
    # Through another module: not among the target's own tests, which the first run runs.
    (tmp_path / "report.py").write_text(
        "from sums import total\n\n\ndef render(items):\n    return f'total {total(items)}'\n"
    )
    (tmp_path / "test_report.py").write_text(
        "import time\n\nfrom report import render\n\n\n"
        "def test_render():\n"
        "    time.sleep(2.5)  # past the 2 s limit, wherever it runs\n"
        "    assert render([2]).startswith('total')\n"
    )
    events = Events()
    result = session(tmp_path, "sums.py", pool, events).run()
    assert result.status is Status.FIXED, result.message
    assert "-    result = 1\n+    result = 0\n" in result.diff
    [slow] = events.of("slow")
    assert slow["slow"] == ["test_report.py::test_render"] and slow["passed"]
    assert result.final is not None and result.final.tally() == {"passed": 5, "failed": 0}
    # Once the suite's limit is known, the next whole-suite runs give the test that time.
    assert all(not data["failing"] for data in events.of("regression"))


def test_a_test_that_sleeps_once_the_code_works_does_not_sink_the_right_fix(
    tmp_path: Path,
) -> None:
    """pyjwt's cache-expiry test fails at once with the bug and sleeps 2 s once the code
    works: the candidates' tight limit (ten times the failing tests' time, at least 2 s)
    failed the right fix on it, every time, and the session ran out of time. A failure
    that is only a test past that limit, stuck outside the edited file, runs again with
    the suite's limit."""
    fixed = LOOPS_FOREVER.replace("index += 0", "index += 1")
    (tmp_path / "sums.py").write_text(fixed.replace("result = 0", "result = 1"))
    (tmp_path / "test_sums.py").write_text(
        # A first run of a second or so: a run's own limit is four times the first's.
        "import time\n\n\ndef test_setup_of_a_second():\n    time.sleep(1)\n\n\n"
        + TOTAL_TESTS
        + "\n\ndef test_after_a_wait():\n    assert total([]) == 0\n    time.sleep(2.5)\n"
    )
    events = Events()
    with SandboxPool(SandboxConfig(test_timeout_seconds=6.0, parallel=2)) as patient:
        result = session(tmp_path, "sums.py", patient, events).run()
    assert result.status is Status.FIXED, result.message
    assert "-    result = 1\n+    result = 0\n" in result.diff
    assert result.final is not None and result.final.tally() == {"passed": 6, "failed": 0}


RATES = """\
\"\"\"Shipping rates by zone.\"\"\"

FREE_SHIPPING_FROM = 50
ZONES = {"near": 4.5, "far": 9.0, "abroad": 15.0}
HEAVY_KG = 21


def zone_rate(zone):
    if zone not in ZONES:
        raise KeyError(f"no zone {zone!r}")
    return ZONES[zone]


def is_heavy(kg):
    return kg >= HEAVY_KG


def surcharge(rate, kg):
    extra = 0.0
    if is_heavy(kg):
        extra = rate
    return extra


def discount(total):
    if total >= FREE_SHIPPING_FROM:
        return 1.0
    share = total / FREE_SHIPPING_FROM
    return round(share / 10, 2)


def shipping(total, zone, kg):
    rate = zone_rate(zone)
    cost = rate + surcharge(rate, kg)
    cost = cost * (1 - discount(total))
    return round(cost, 2)


def label(total, zone, kg):
    cost = shipping(total, zone, kg)
    heavy = f" (over {HEAVY_KG - 1} kg)" if is_heavy(kg) else ""
    if cost == 0:
        return f"{zone}: free{heavy}"
    return f"{zone}: {cost:.2f}{heavy}"
"""
RATES_TESTS = """\
from rates import is_heavy, label, shipping, zone_rate


def test_zone_rate():
    assert zone_rate("far") == 9.0


def test_free_from_fifty():
    assert shipping(50, "far", 30) == 0.0


def test_light_parcel():
    assert shipping(0, "near", 5) == 4.5


def test_twenty_kilos_is_heavy():
    assert not is_heavy(19.5)
    assert label(0, "abroad", 20) == "abroad: 30.00 (over 19 kg)"


def test_labels():
    assert label(60, "near", 1) == "near: free"
    assert label(0, "far", 1) == "far: 9.00"
"""


def test_a_wrong_constant_set_when_the_module_is_imported_is_fixed_soon(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """A module-level line runs at import, in no test's trace: it counts as run by every
    test, ahead of the lines no failing test runs (before: behind all of them, 2,384
    candidates here). No edit where the constant is read fixes both of its uses."""
    (tmp_path / "rates.py").write_text(RATES)
    (tmp_path / "test_rates.py").write_text(RATES_TESTS)
    result = session(tmp_path, "rates.py", pool, Events()).run()
    assert result.status is Status.FIXED, result.message
    assert "-HEAVY_KG = 21\n+HEAVY_KG = 20\n" in result.diff
    assert result.candidates_tried <= 600
