"""The whole suite split across the pool's slots: the same tests, the same verdict, as one
run (the real sandbox)."""

from __future__ import annotations

from pathlib import Path

from fixloop.sandbox import SandboxPool
from fixloop.sandbox._pytest_shard import assign, walk
from fixloop.sandbox.results import CandidateResult, Outcome
from fixloop.sandbox.runner import SHARD_CLAIMS_DIR

COMMAND = "python -m pytest -q"


def outcomes(result: CandidateResult) -> dict[str, Outcome]:
    return {case.test_id: case.outcome for case in result.cases}


def project(root: Path, files: int) -> Path:
    (root / "calc.py").write_text("def double(x):\n    return x * 2\n")
    for index in range(files):
        tests = [f"def test_{index}_{n}():\n    assert double({n}) == {2 * n}\n" for n in range(5)]
        (root / f"test_part{index}.py").write_text("from calc import double\n\n" + "\n".join(tests))
    return root


def test_files_are_dealt_whole_to_the_emptiest_shard() -> None:
    files = [("a.py", 10), ("b.py", 1), ("c.py", 1), ("d.py", 9)]
    assert assign(files, 2) == {"a.py": 0, "b.py": 1, "c.py": 1, "d.py": 1}
    assert assign(files, 1) == dict.fromkeys(["a.py", "b.py", "c.py", "d.py"], 0)


def test_the_shards_together_are_the_whole_run(tmp_path: Path, pool: SandboxPool) -> None:
    root = project(tmp_path, files=4)
    whole = pool.run(root, {}, COMMAND)
    broken = {"calc.py": "def double(x):\n    return x * 2 if x != 3 else 0\n"}
    sharded = pool.run_sharded(root, {}, COMMAND)
    assert sharded.passed and sharded.exit_code == 0
    assert outcomes(sharded) == outcomes(whole) and len(sharded.cases) == 20
    failing = pool.run_sharded(root, broken, COMMAND)
    assert not failing.passed and failing.exit_code == 1
    assert sorted(c.test_id for c in failing.failures) == [
        f"test_part{index}.py::test_{index}_3" for index in range(4)
    ]
    assert failing.summary().startswith("16 passed, 4 failed in ")


def test_the_shards_report_their_tests_in_the_collections_order(
    tmp_path: Path, pool: SandboxPool
) -> None:
    """The first failure (the one the loop fixes, memory's signature) is the same whatever
    shard ran a test first. A slow first test keeps shard 0 in the first file while shard 1
    runs the others: its report's order is 3rd, 4th, then 2nd file."""
    root = project(tmp_path, files=4)
    first = root / "test_part0.py"
    first.write_text("import time\n" + first.read_text().replace(
        "def test_0_0():\n", "def test_0_0():\n    time.sleep(1.5)\n"
    ))  # fmt: skip
    broken = {"calc.py": "def double(x):\n    return x * 2 if x != 3 else 0\n"}
    whole = pool.run(root, broken, COMMAND)
    sharded = pool.run_sharded(root, broken, COMMAND)
    assert [c.test_id for c in sharded.cases] == [c.test_id for c in whole.cases]
    assert [c.test_id for c in sharded.failures] == [
        f"test_part{index}.py::test_{index}_3" for index in range(4)
    ]


def test_a_shard_dealt_no_file_does_not_fail_the_run(tmp_path: Path, pool: SandboxPool) -> None:
    root = project(tmp_path, files=1)  # two slots, one test file: one shard runs nothing
    result = pool.run_sharded(root, {}, COMMAND)
    assert result.passed and result.exit_code == 0 and len(result.cases) == 5


def test_each_shard_walks_the_files_from_its_own_start() -> None:
    """The shards meet in a file only when the rest of the suite is done."""
    files = [["a1", "a2"], ["b1"], ["c1", "c2"], ["d1"]]
    assert [test for _, test in walk(files, 0, 2)] == ["a1", "a2", "b1", "c1", "c2", "d1"]
    assert [test for _, test in walk(files, 1, 2)] == ["c1", "c2", "d1", "a1", "a2", "b1"]
    # A test is claimed by its file's place and its own, the same in every shard.
    assert dict(walk(files, 1, 2))["2.1"] == "c2"


def test_two_slow_tests_of_one_file_run_side_by_side(tmp_path: Path, pool: SandboxPool) -> None:
    """A suite whose time is in one file still ends in its time divided by the slots: a
    shard that is free takes the next test, wherever it is. Each of the two tests waits
    for the other to start (in the container's shared /tmp), so they pass only when two
    shards run them at once; dealt whole files, one shard had both, and each waited in
    vain."""
    root = project(tmp_path, files=3)
    token = tmp_path.name
    waits = [
        f"def test_waits_for_{me}():\n"
        f"    open('/tmp/{token}-{me}', 'w').close()\n"
        f"    for _ in range(400):\n"
        f"        if os.path.exists('/tmp/{token}-{other}'):\n"
        f"            return\n"
        f"        time.sleep(0.05)\n"
        f"    raise AssertionError('{other} never started beside {me}')\n"
        for me, other in (("one", "two"), ("two", "one"))
    ]
    (root / "test_slow.py").write_text("import os\nimport time\n\n\n" + "\n\n".join(waits))
    result = pool.run_sharded(root, {}, COMMAND)
    assert result.passed, result.output.text
    assert len(result.cases) == 17  # every test once: 3 files of 5, and the 2 slow ones
    for warm in pool._warm.values():  # the shards' shared folder is gone with the run
        code, listing = warm.container.exec_run(["ls", "-A", SHARD_CLAIMS_DIR])
        assert code == 0 and listing.decode().strip() == ""
