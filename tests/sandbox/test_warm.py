"""The warm runner: candidates run in a fork of a pytest session that has collected already,
with the verdict a fresh pytest run gives them.

Every verdict is checked against a pool without the warm runner (the forked pytest of
before); `result.runner` says which way a candidate ran.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.sandbox import Cancellation, CandidateResult, SandboxConfig, SandboxPool
from fixloop.sandbox.engine import connect
from tests.sandbox.projects import snapshot_files
from tests.support.sandbox_processes import containers_of_project, running_in_sandbox

pytestmark = pytest.mark.slow

SHOP = """\
import functools


def logged(function):
    @functools.wraps(function)
    def wrapper(*args):
        return function(*args)

    return wrapper


def add(a, b):
    return a + b


def check(total):
    if total < 0:
        raise ValueError(total)
    return total


@logged
def mul(a, b):
    return a * b


def initial():
    return 0


START = initial()
SCALE = 1


def scaled(x):
    return x * SCALE


class Counter:
    def __init__(self):
        self.count = START

    def bump(self):
        self.count += 1
        return self.count


def make_counter():
    return Counter()


def wait(n):
    return n
"""

CONFTEST = """\
import pytest

from shop import make_counter


@pytest.fixture
def counter():
    return make_counter()
"""

TESTS = """\
import pathlib

import shop
from shop import add, mul, scaled


def test_add():
    assert add(2, 3) == 5


def test_mul():
    assert mul(4, 3) == 12


def test_scaled():
    assert scaled(3) == 3


def test_counter(counter):
    assert counter.bump() == 1


def test_wait():
    assert shop.wait(3) == 3


def test_files_are_the_projects():
    # What an earlier candidate's tests wrote must be gone.
    assert pathlib.Path("data.txt").read_text() == "pristine"
    assert not pathlib.Path("out.txt").exists()
    pathlib.Path("data.txt").write_text("written by a test")
    pathlib.Path("out.txt").write_text("new")
"""

COMMAND = "pytest -q tests"
SLEEPS = "__import__('subprocess').run(['sleep', '97'])"


def shop_project(root: Path) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "shop.py").write_text(SHOP)
    (root / "data.txt").write_text("pristine")
    (root / "tests" / "conftest.py").write_text(CONFTEST)
    (root / "tests" / "test_shop.py").write_text(TESTS)
    return root


def edit(old: str, new: str, source: str = SHOP) -> dict[str, str]:
    assert old in source
    return {"shop.py": source.replace(old, new)}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shop_project(tmp_path_factory.mktemp("shop"))


@pytest.fixture(scope="module")
def warm_pool() -> Iterator[SandboxPool]:
    with SandboxPool(SandboxConfig(timeout_seconds=30, parallel=1)) as pool:
        yield pool


@pytest.fixture(scope="module")
def fresh_pool() -> Iterator[SandboxPool]:
    config = SandboxConfig(timeout_seconds=30, parallel=1, pytest_warm_runner=False)
    with SandboxPool(config) as pool:
        yield pool


def verdict(result: CandidateResult) -> dict[str, object]:
    """Everything the loop judges a candidate by."""
    return {
        "passed": result.passed,
        "exit_code": result.exit_code,
        "timed_out": result.timed_out,
        "cancelled": result.cancelled,
        "cases": {case.test_id: case.outcome for case in result.cases},
        "messages": sorted(re.sub("0x[0-9a-f]+", "0x…", case.message) for case in result.failures),
        "frames": sorted(
            (case.test_id, [(frame.path, frame.line) for frame in case.frames])
            for case in result.failures
        ),
    }


def warm_run(
    pool: SandboxPool,
    project: Path,
    changes: dict[str, str],
    timeout: float | None = None,
    cancel: Cancellation | None = None,
) -> CandidateResult:
    result = pool.run(project, changes, COMMAND, timeout=timeout, cancel=cancel)
    assert result.runner == "warm", (result.warm_fallback, result.output.text)
    return result


def warmed(pool: SandboxPool, project: Path) -> None:
    """The command asked for twice: from then on it has a warm session."""
    for _ in range(2):
        assert pool.run(project, {}, COMMAND).passed


def warm_processes(project: Path) -> int:
    """How many warm sessions run in the project's containers."""
    client = connect(SandboxConfig())
    try:
        count = 0
        for name in containers_of_project(project):
            processes = client.api.top(name, ps_args="-eo pid,comm")["Processes"] or []
            count += sum(1 for process in processes if process[-1] == "fixloop-warm")
        return count
    finally:
        client.close()


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="unchanged"),
        pytest.param(edit("return a + b", "return a + b  # same code"), id="passing"),
        pytest.param(edit("return a + b", "return a - b"), id="failing"),
        pytest.param(edit("return a * b", "return a ** b"), id="failing-decorated"),
        pytest.param(edit("self.count += 1", "self.count += 2"), id="failing-method"),
        # In a closure the decorator made at import: the whole module is compiled.
        pytest.param(edit("return function(*args)", "return -function(*args)"), id="closure"),
        pytest.param(edit("return Counter()", "raise RuntimeError('no')"), id="fixture-error"),
        pytest.param(
            # Two lines longer: the traceback's lines in check(), below it, must move too.
            edit("return a + b", "total = a + b\n    total -= 100\n    return check(total)"),
            id="longer",
        ),
    ],
)
def test_a_body_edit_runs_warm_with_the_verdict_of_a_fresh_run(
    warm_pool: SandboxPool, fresh_pool: SandboxPool, shop: Path, changes: dict[str, str]
) -> None:
    warmed(warm_pool, shop)
    warm = warm_run(warm_pool, shop, changes)
    fresh = fresh_pool.run(shop, changes, COMMAND)
    assert fresh.runner == "fork"
    assert verdict(warm) == verdict(fresh), warm.output.text
    assert "test session starts" in warm.output.text or "passed" in warm.output.text


@pytest.mark.parametrize(
    ("old", "new", "failing"),
    [
        ("return a + b", "return a + b + 100", "test_add"),  # `from shop import add`
        ("return a * b", "return a * b * 100", "test_mul"),  # behind a decorator's wrapper
        ("self.count += 1", "self.count += 100", "test_counter"),  # a method, via a fixture
    ],
)
def test_every_reference_to_the_edited_function_runs_the_new_code(
    warm_pool: SandboxPool, shop: Path, old: str, new: str, failing: str
) -> None:
    warmed(warm_pool, shop)
    result = warm_run(warm_pool, shop, edit(old, new))
    assert [case.test_id for case in result.failures] == [f"tests/test_shop.py::{failing}"]


def test_edits_of_several_functions_run_fresh(
    warm_pool: SandboxPool, fresh_pool: SandboxPool, shop: Path
) -> None:
    warmed(warm_pool, shop)
    changes = edit("return a + b", "return a + b + 100")
    changes = edit("self.count += 1", "self.count += 100", changes["shop.py"])
    result = warm_pool.run(shop, changes, COMMAND)
    assert result.runner == "fork"
    assert verdict(result) == verdict(fresh_pool.run(shop, changes, COMMAND))
    assert len(result.failures) == 2


def test_a_module_level_edit_runs_fresh_and_is_judged_right(
    warm_pool: SandboxPool, fresh_pool: SandboxPool, shop: Path
) -> None:
    warmed(warm_pool, shop)
    for changes, failing in (
        (edit("SCALE = 1", "SCALE = 2"), ["test_scaled"]),  # a module-level statement
        (edit("    return 0\n", "    return 5\n"), ["test_counter"]),  # it ran at import
        (edit("def wait(n):", "def wait(n=0):"), []),  # a signature
        (edit("    return n\n", "    yield n\n"), ["test_wait"]),  # now a generator
        ({"tests/test_shop.py": TESTS.replace("== 5", "== 6")}, ["test_add"]),  # a test
    ):
        result = warm_pool.run(shop, changes, COMMAND)
        assert result.runner == "fork"
        assert verdict(result) == verdict(fresh_pool.run(shop, changes, COMMAND))
        assert [case.test_id for case in result.failures] == [
            f"tests/test_shop.py::{name}" for name in failing
        ]


def test_a_candidate_reports_its_own_time_not_the_sessions(
    warm_pool: SandboxPool, shop: Path
) -> None:
    """The summary line's time is the candidate's run, not the time since W started."""
    warmed(warm_pool, shop)
    time.sleep(1.5)
    result = warm_run(warm_pool, shop, edit("return a + b", "return a - b"))
    match = re.search(r"1 failed, \d+ passed in ([\d.]+)s", result.output.text)
    assert match, result.output.text
    assert float(match.group(1)) < 1.0


def test_candidates_in_a_row_do_not_see_each_others_changes(
    warm_pool: SandboxPool, shop: Path
) -> None:
    """Each candidate's code and each run's files (test_files_are_the_projects writes
    into the project every run) are gone for the next one."""
    before = snapshot_files(shop)
    warmed(warm_pool, shop)
    broken_add = warm_run(warm_pool, shop, edit("return a + b", "return a - b"))
    assert [case.test_id for case in broken_add.failures] == ["tests/test_shop.py::test_add"]
    broken_mul = warm_run(warm_pool, shop, edit("return a * b", "return a + b"))
    assert [case.test_id for case in broken_mul.failures] == ["tests/test_shop.py::test_mul"]
    assert warm_run(warm_pool, shop, {}).passed
    assert snapshot_files(shop) == before


def test_a_hanging_candidate_times_out_and_the_session_stays_warm(
    warm_pool: SandboxPool, fresh_pool: SandboxPool, shop: Path
) -> None:
    warmed(warm_pool, shop)
    hangs = edit("    return n\n", "    while True:\n        pass\n")
    result = warm_run(warm_pool, shop, hangs, timeout=2)
    assert result.timed_out and not result.passed
    assert verdict(result) == verdict(fresh_pool.run(shop, hangs, COMMAND, timeout=2))
    assert warm_run(warm_pool, shop, {}).passed  # the next candidate, in the same session


def test_a_cancelled_candidate_stops_and_the_session_stays_warm(
    warm_pool: SandboxPool, shop: Path
) -> None:
    warmed(warm_pool, shop)
    cancel = Cancellation()
    results: list[CandidateResult] = []
    sleeps = edit("    return n\n", f"    {SLEEPS}\n    return n\n")
    running = threading.Thread(
        target=lambda: results.append(
            warm_pool.run(shop, sleeps, COMMAND, timeout=120, cancel=cancel)
        )
    )
    running.start()
    deadline = time.monotonic() + 60
    while running_in_sandbox(shop, "sleep 97") == 0:
        assert time.monotonic() < deadline, "the candidate never started"
        time.sleep(0.1)
    cancel.cancel()
    running.join(60)
    [result] = results
    assert result.cancelled and not result.passed and result.runner == "warm"
    assert running_in_sandbox(shop, "sleep 97") == 0
    assert warm_run(warm_pool, shop, {}).passed
    assert warm_processes(shop) == 1


def test_the_session_starts_again_when_the_project_changes_on_disk(tmp_path: Path) -> None:
    project = shop_project(tmp_path)
    with SandboxPool(SandboxConfig(timeout_seconds=30, parallel=1)) as pool:
        warmed(pool, project)
        assert warm_run(pool, project, {}).passed
        on_disk = SHOP.replace("return a * b", "return a - b")
        (project / "shop.py").write_text(on_disk)
        # The new copy is a new command: fresh, then warm again, on the new code.
        assert pool.run(project, {}, COMMAND).runner == "fork"
        assert warm_processes(project) == 0  # the session of the old copy ended
        again = warm_run(pool, project, edit("return a + b", "return a - b", on_disk))
        failed = sorted(case.test_id for case in again.failures)
        assert failed == ["tests/test_shop.py::test_add", "tests/test_shop.py::test_mul"]
        assert warm_processes(project) == 1
    assert containers_of_project(project) == []  # and nothing at all after closing


def test_another_command_keeps_one_session_per_slot(tmp_path: Path) -> None:
    project = shop_project(tmp_path)
    with SandboxPool(SandboxConfig(timeout_seconds=30, parallel=1)) as pool:
        warmed(pool, project)
        one = "pytest -q tests/test_shop.py::test_add"
        assert pool.run(project, {}, one).runner == "fork"  # a one-off run: W stays
        assert warm_run(pool, project, {}).passed
        assert pool.run(project, {}, one).runner == "warm"  # asked twice: its own W
        assert warm_processes(project) == 1


def test_a_long_run_in_shards_never_takes_the_candidates_warm_session(tmp_path: Path) -> None:
    """The whole suite for a fix runs in shards, once or twice a session: each time fresh,
    and the slots' warm sessions of the candidates' tests stay for the next candidates."""
    project = shop_project(tmp_path)
    with SandboxPool(SandboxConfig(timeout_seconds=30, parallel=2)) as pool:
        pool.prewarm(project, COMMAND)
        for _ in range(3):
            whole = pool.run_sharded(project, {}, COMMAND)
            assert whole.passed and whole.runner == "fork"
        # Both slots still hold the candidates' sessions: the next ones run warm at once.
        for changes in ({}, edit("return a + b", "return a - b")):
            assert warm_run(pool, project, changes).passed == (not changes)


def test_a_prewarmed_slot_runs_its_first_candidate_warm(tmp_path: Path) -> None:
    """A command the host is about to run for many candidates gets its warm session
    before the first of them, with the limits they run with: no fresh run first. A
    command that differs (another per-test limit) is not served by it."""
    project = shop_project(tmp_path)
    with SandboxPool(SandboxConfig(timeout_seconds=30, parallel=2)) as pool:
        pool.prewarm(project, COMMAND, test_timeout=4.0, stop_at_hang=True)
        assert warm_processes(project) == 2  # one per slot
        for changes in ({}, edit("return a + b", "return a - b")):
            result = pool.run(project, changes, COMMAND, test_timeout=4.0, stop_at_hang=True)
            assert result.runner == "warm", (result.warm_fallback, result.output.text)
        other = pool.run(project, {}, COMMAND, test_timeout=5.0, stop_at_hang=True)
        assert other.runner == "fork" and other.passed


def test_prewarming_leaves_slots_free_and_skips_what_cannot_run_warm(tmp_path: Path) -> None:
    project = shop_project(tmp_path)
    with SandboxPool(SandboxConfig(timeout_seconds=30, parallel=2)) as pool:
        pool.prewarm(project, COMMAND, leave_free=1)
        assert warm_processes(project) == 1
        pool.prewarm(project, "python -c 'print(1)'")  # not pytest: nothing to warm
        assert warm_processes(project) == 1
        pool.prewarm(project, COMMAND)  # the other slot too; the warm one answers at once
        assert warm_processes(project) == 2
        for _ in range(2):
            assert warm_run(pool, project, {}).passed


def test_the_session_ends_with_its_agent(tmp_path: Path) -> None:
    """The host closing a slot's agent (a reset, a closed pool) ends its W as well."""
    project = shop_project(tmp_path)
    with SandboxPool(SandboxConfig(timeout_seconds=30, parallel=1)) as pool:
        warmed(pool, project)
        assert warm_processes(project) == 1
        warm = next(iter(pool._warm.values()))
        slot = warm.slots.get()
        assert slot.channel is not None
        slot.channel.close()  # the agent reads the end of its input and exits
        slot.channel = None
        warm.slots.put(slot)
        deadline = time.monotonic() + 30
        while warm_processes(project) != 0:
            assert time.monotonic() < deadline, "W outlived its agent"
            time.sleep(0.1)
        assert pool.run(project, {}, COMMAND).runner == "fork"  # a new agent, cold again


def test_what_a_candidate_leaves_running_is_killed_and_the_session_kept(
    warm_pool: SandboxPool, shop: Path
) -> None:
    warmed(warm_pool, shop)
    daemon = "__import__('subprocess').Popen(['sleep', '987654'], start_new_session=True)"
    result = warm_run(warm_pool, shop, edit("    return n\n", f"    {daemon}\n    return n\n"))
    assert result.passed
    assert running_in_sandbox(shop, "sleep 987654") == 0
    bomb = (  # a fork bomb in the body: processes until the slot's cap, then spinning
        "    while True:\n"
        "        try:\n"
        "            __import__('os').fork()\n"
        "        except OSError:\n"
        "            pass\n"
    )
    assert warm_run(warm_pool, shop, edit("    return n\n", bomb), timeout=3).timed_out
    assert warm_run(warm_pool, shop, {}).passed
    assert warm_processes(shop) == 1


LATE_CONFTEST = """\
import sys


def pytest_terminal_summary(terminalreporter):
    # As hypothesis' plugin does: a library imported at the very end of the run.
    terminalreporter.write_line(f"late stdlib: {'mailbox' in sys.modules}")
    terminalreporter.write_line(f"late project: {'lazy' in sys.modules}")
    import lazy
    import mailbox
"""


def test_what_a_candidate_imports_late_is_imported_once_for_the_next(tmp_path: Path) -> None:
    """A module outside the project that C imported at its end is imported in W after it,
    so the next candidates do not pay for it again (0.45 s a candidate on dateutil); the
    project's own modules never are: a candidate may change them."""
    project = shop_project(tmp_path)
    (project / "tests" / "conftest.py").write_text(CONFTEST + "\n" + LATE_CONFTEST)
    (project / "lazy.py").write_text("VALUE = 1\n")
    with SandboxPool(SandboxConfig(timeout_seconds=30, parallel=1)) as pool:
        assert pool.run(project, {}, COMMAND).runner == "fork"  # W starts at the second
        first = warm_run(pool, project, edit("return a + b", "return a - b"))
        assert "late stdlib: False" in first.output.text, first.output.text
        second = warm_run(pool, project, edit("return a * b", "return a + b"))
        assert "late stdlib: True" in second.output.text, second.output.text
        assert "late project: False" in second.output.text
        assert [case.test_id for case in second.failures] == ["tests/test_shop.py::test_mul"]


SCRATCH_CONFTEST = """\
import os
import pathlib

# As hypothesis does at import (`.hypothesis/`): a cache in the temporary folder.
CACHE = pathlib.Path(os.environ["TMPDIR"]) / ".cache" / "constants"
CACHE.parent.mkdir(parents=True, exist_ok=True)
CACHE.write_text("collected")
"""

SCRATCH_TEST = """\
from conftest import CACHE


def test_the_cache_collection_wrote_is_there():
    assert CACHE.read_text() == "collected"
    CACHE.write_text("changed by a test")  # the next candidate must not see this
"""


def test_what_collection_writes_in_the_temporary_folder_is_there_for_every_candidate(
    tmp_path: Path,
) -> None:
    each_candidate_sees_what_collection_wrote(tmp_path, SCRATCH_CONFTEST, "cache", SCRATCH_TEST)


def each_candidate_sees_what_collection_wrote(
    tmp_path: Path, conftest: str, name: str, tests: str
) -> None:
    """Candidates in a row run warm, and none fails tests/test_<name>.py (which checks
    what the conftest wrote at collection, then changes it)."""
    project = shop_project(tmp_path)
    (project / "tests" / "conftest.py").write_text(CONFTEST + "\n" + conftest)
    (project / "tests" / f"test_{name}.py").write_text(tests)
    with SandboxPool(SandboxConfig(timeout_seconds=30, parallel=1)) as pool:
        warmed(pool, project)
        for new in ("a - b", "a * b", "a + b"):
            result = warm_run(pool, project, edit("return a + b", f"return {new}"))
            failing = {c.test_id for c in result.failures if f"test_{name}.py" in c.test_id}
            assert not failing, result.output.text
        assert warm_run(pool, project, {}).passed


PROJECT_CONFTEST = """\
import pathlib

# As pytest-benchmark does when its plugin starts (`.benchmarks/`): a folder of the project.
STORE = pathlib.Path(__file__).resolve().parent.parent / ".benchmarks" / "machine"
STORE.parent.mkdir(exist_ok=True)
STORE.write_text("collected")
"""

PROJECT_TEST = """\
from conftest import STORE


def test_the_store_collection_made_is_there_and_nothing_else():
    assert STORE.read_text() == "collected"
    assert not (STORE.parent / "extra").exists()
    # The next candidate must see neither.
    STORE.write_text("changed by a test")
    (STORE.parent / "extra").write_text("left by a test")
"""


def test_what_collection_writes_in_the_project_is_there_for_every_candidate(
    tmp_path: Path,
) -> None:
    each_candidate_sees_what_collection_wrote(tmp_path, PROJECT_CONFTEST, "store", PROJECT_TEST)
