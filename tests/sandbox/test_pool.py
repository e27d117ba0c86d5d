"""The warm pool: reuse, parallel candidates that never see each other, cleanup, remote engines."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fixloop.sandbox import SandboxConfig, SandboxPool
from fixloop.sandbox.engine import connect
from fixloop.sandbox.pool import PROJECTS_KEPT
from tests.sandbox.conftest import TEST_CONFIG
from tests.support.sandbox_processes import containers_of_process, containers_of_project

pytestmark = pytest.mark.slow


def candidate(value: int) -> dict[str, str]:
    """A candidate whose test passes only if it sees its own value.py and no other's files."""
    test = (
        "import glob, time\n"
        "from value import VALUE\n\n"
        "def test_sees_only_itself():\n"
        f"    open('mine-{value}', 'w').close()\n"
        "    print('ran', time.time(), end=' ')\n"
        "    time.sleep(0.5)  # overlap with the other candidates\n"
        "    print(time.time(), 'until')\n"
        f"    assert VALUE == {value}\n"
        f"    assert glob.glob('mine-*') == ['mine-{value}']\n"
    )
    return {"value.py": f"VALUE = {value}\n", "tests/test_value.py": test}


def test_parallel_candidates_never_see_each_others_changes(calc: Path) -> None:
    with SandboxPool(SandboxConfig(parallel=3)) as pool:
        pool.warm_up(calc)
        results = pool.run_many(calc, [candidate(n) for n in range(6)], "pytest -q -s")
    assert [r.passed for r in results] == [True] * 6, [r.output.text for r in results]
    spans = [_span(r.output.text) for r in results]
    # They ran side by side: some candidate started before another had finished.
    assert any(a[0] < b[1] and b[0] < a[1] for a in spans for b in spans if a is not b), spans


def test_a_candidate_reports_the_cpu_it_cost_not_the_time_it_waited(calc: Path) -> None:
    with SandboxPool(TEST_CONFIG) as pool:
        result = pool.run(calc, candidate(1), "pytest -q -s")
    assert result.passed, result.output.text
    # Its test sleeps half a second: that is in the duration, not in the CPU.
    assert result.duration > 0.5
    assert result.cpu is not None and 0 < result.cpu < 0.4, result.cpu


def _span(output: str) -> tuple[float, float]:
    """When a candidate's test slept, from the wall clock the containers share with the host."""
    match = re.search(r"ran ([0-9.]+) ([0-9.]+) until", output)
    assert match, output
    return float(match[1]), float(match[2])


def test_one_warm_container_serves_every_candidate_of_a_project(calc: Path) -> None:
    with SandboxPool(TEST_CONFIG) as pool:
        for _ in range(3):
            assert pool.run(calc, {}, "pytest -q").passed
        assert len(containers_of_process(os.getpid())) == 1
    assert containers_of_process(os.getpid()) == []  # close() removed it


def test_a_pool_keeps_the_containers_of_its_most_recent_projects_only(tmp_path: Path) -> None:
    projects = []
    for index in range(PROJECTS_KEPT + 2):
        project = tmp_path / f"project{index}"
        (project / "tests").mkdir(parents=True)
        (project / "tests" / "test_one.py").write_text(
            f"def test_one():\n    assert {index} >= 0\n"
        )
        projects.append(project)
    with SandboxPool(TEST_CONFIG) as pool:
        for project in projects:
            assert pool.run(project, {}, "pytest -q").passed
        assert len(containers_of_process(os.getpid())) == PROJECTS_KEPT
        assert containers_of_project(projects[0]) == []  # the least recently used went
        assert containers_of_project(projects[-1])
        assert pool.run(projects[0], {}, "pytest -q").passed  # and comes back when asked
        assert len(containers_of_process(os.getpid())) == PROJECTS_KEPT


def test_containers_carry_the_fixloop_label(calc: Path) -> None:
    with SandboxPool(TEST_CONFIG) as pool:
        pool.warm_up(calc)
        client = connect(TEST_CONFIG)
        [container] = client.containers.list(filters={"label": f"fixloop.pid={os.getpid()}"})
        assert container.labels["fixloop"] == "1"
        assert container.labels["fixloop.project"] == str(calc.resolve())


def test_warming_up_for_a_pytest_command_starts_every_slots_agent(calc: Path) -> None:
    """A session warms the sandbox up while it builds its engine: then its first runs
    (one per slot) start their tests at once, with pytest imported already."""
    config = SandboxConfig(parallel=2)
    with SandboxPool(config) as pool:
        pool.warm_up(calc, "python -m pytest -q")
        [warm] = pool._warm.values()
        agents = [warm.slots.get_nowait() for _ in range(2)]
        assert all(slot.channel is not None for slot in agents)
        for slot in agents:
            warm.slots.put(slot)
        started = {id(slot.channel) for slot in agents}
        results = pool.run_many(calc, [{}, {}], "python -m pytest -q")
        assert [r.passed for r in results] == [True, True]
        again = [warm.slots.get_nowait() for _ in range(2)]
        assert {id(slot.channel) for slot in again} == started  # the same agents ran them
        for slot in again:
            warm.slots.put(slot)


def test_warming_up_for_another_command_starts_no_agent(calc: Path) -> None:
    with SandboxPool(TEST_CONFIG) as pool:
        pool.warm_up(calc, "make test")
        [warm] = pool._warm.values()
        slot = warm.slots.get_nowait()
        assert slot.channel is None
        warm.slots.put(slot)


def test_containers_are_removed_when_the_process_exits(calc: Path) -> None:
    script = (
        "import os, sys\n"
        "from fixloop.sandbox import SandboxPool\n"
        "pool = SandboxPool()\n"  # never closed explicitly: exit must clean up
        "assert pool.run(sys.argv[1], {}, 'pytest -q').passed\n"
        "print(os.getpid())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(calc)], capture_output=True, text=True, check=True
    )
    assert containers_of_process(int(done.stdout.strip())) == []


def test_containers_left_by_a_crashed_run_are_swept_at_start(calc: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer runs: the "crashed" fixloop
    client = connect(TEST_CONFIG)
    labels = {"fixloop": "1", "fixloop.host": socket.gethostname(), "fixloop.pid": str(dead.pid)}
    client.containers.create(TEST_CONFIG.image_ref, ["true"], labels=labels)
    assert containers_of_process(dead.pid)
    with SandboxPool(TEST_CONFIG) as pool:
        pool.warm_up(calc)
    assert containers_of_process(dead.pid) == []


def test_docker_host_selects_a_remote_engine(calc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine also listens on tcp://127.0.0.1:2375 (scripts/ensure-docker.sh)."""
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    with SandboxPool(SandboxConfig(parallel=1)) as pool:
        result = pool.run(calc, {}, "pytest -q")
        assert result.passed
        assert pool._client is not None
        assert pool._client.api.base_url == "http://127.0.0.1:2375"
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    remote = SandboxConfig(parallel=1, docker_host="tcp://127.0.0.1:2375")
    with SandboxPool(remote) as pool:  # the setting wins over the environment
        assert pool.run(calc, {}, "pytest -q").passed


async def test_the_loop_can_await_a_candidate(calc: Path) -> None:
    with SandboxPool(TEST_CONFIG) as pool:
        result = await pool.arun(calc, {}, "pytest -q")
    assert result.passed
