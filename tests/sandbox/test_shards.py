"""The whole suite split across the pool's slots: the same tests, the same verdict, as one
run (the real sandbox)."""

from __future__ import annotations

from pathlib import Path

from fixloop.sandbox import SandboxPool
from fixloop.sandbox._pytest_shard import assign
from fixloop.sandbox.results import CandidateResult, Outcome

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


def test_a_shard_dealt_no_file_does_not_fail_the_run(tmp_path: Path, pool: SandboxPool) -> None:
    root = project(tmp_path, files=1)  # two slots, one test file: one shard runs nothing
    result = pool.run_sharded(root, {}, COMMAND)
    assert result.passed and result.exit_code == 0 and len(result.cases) == 5
