"""Each isolation property of the sandbox, checked from inside a candidate's own tests.

Each candidate is a pytest file asserting what it must not be able to do; the candidate
passes only when the sandbox holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fixloop.sandbox import SandboxConfig, SandboxPool
from fixloop.sandbox.engine import connect
from tests.sandbox.conftest import TEST_CONFIG
from tests.sandbox.projects import calc_project, snapshot_files

pytestmark = pytest.mark.slow


def run_checks(pool: SandboxPool, project: Path, body: str) -> None:
    """Run `body` (pytest test functions) as a candidate and require that it passes."""
    header = "import os, socket, subprocess, pathlib, resource, pytest\n\n"
    result = pool.run(project, {"tests/test_sandbox.py": header + body}, "pytest -q")
    assert result.passed, result.output.text


def proc_status(field: str) -> str:
    return f"next(l.split()[1] for l in open('/proc/self/status') if l.startswith('{field}:'))"


def test_there_is_no_network(pool: SandboxPool, calc: Path) -> None:
    run_checks(
        pool,
        calc,
        "def test_no_network():\n"
        "    assert sorted(os.listdir('/sys/class/net')) == ['lo']\n"
        "    with pytest.raises(OSError):\n"
        "        socket.create_connection(('1.1.1.1', 53), timeout=3)\n",
    )


def test_tests_run_as_a_non_root_user_without_capabilities(pool: SandboxPool, calc: Path) -> None:
    run_checks(
        pool,
        calc,
        "def test_unprivileged():\n"
        "    assert os.getuid() != 0 and os.geteuid() != 0\n"
        f"    assert int({proc_status('CapEff')}, 16) == 0\n"
        f"    assert int({proc_status('CapBnd')}, 16) == 0\n"
        f"    assert {proc_status('NoNewPrivs')} == '1'\n"
        "    with pytest.raises(PermissionError):\n"
        "        os.setuid(0)\n",
    )


def test_the_root_filesystem_is_read_only_and_the_work_area_is_not(
    pool: SandboxPool, calc: Path
) -> None:
    run_checks(
        pool,
        calc,
        "def test_read_only_root():\n"
        "    for path in ('/etc/x', '/usr/x', '/x'):\n"
        "        with pytest.raises(OSError):\n"
        "            open(path, 'w')\n"
        "    pathlib.Path('scratch.txt').write_text('the work area is writable')\n",
    )


def test_memory_cpu_and_process_limits_are_set(pool: SandboxPool, calc: Path) -> None:
    memory = 512 * 1024**2
    run_checks(
        pool,
        calc,
        "def read(*paths):\n"
        "    for path in paths:\n"
        "        if os.path.exists(path):\n"
        "            return open(path).read().split()\n"
        "def test_limits():\n"
        "    memory = read('/sys/fs/cgroup/memory.max', "
        "'/sys/fs/cgroup/memory/memory.limit_in_bytes')\n"
        f"    assert memory == ['{memory}']\n"
        "    pids = read('/sys/fs/cgroup/pids.max', '/sys/fs/cgroup/pids/pids.max')\n"
        f"    assert pids == ['{TEST_CONFIG.pids}']\n"
        "    quota = read('/sys/fs/cgroup/cpu.max', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us')\n"
        "    assert quota[0] not in ('max', '-1')\n"
        "    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[0]\n"
        f"    assert nproc == {TEST_CONFIG.candidate_pids}\n",
    )


def test_the_docker_socket_is_never_mounted(pool: SandboxPool, calc: Path) -> None:
    run_checks(
        pool,
        calc,
        "def test_no_docker_socket():\n"
        "    assert not os.path.exists('/var/run/docker.sock')\n"
        "    assert not os.path.exists('/run/docker.sock')\n",
    )
    client = connect(TEST_CONFIG)
    ours = client.containers.list(filters={"label": f"fixloop.project={calc.resolve()}"})
    assert ours, "the pool's container should be running"
    for container in ours:
        assert container.attrs["Mounts"] == []  # no bind mount, no volume: nothing of the host


def test_nothing_outside_the_project_is_visible(pool: SandboxPool, calc: Path) -> None:
    run_checks(
        pool,
        calc,
        "def test_only_the_project():\n"
        f"    assert not os.path.exists({str(calc)!r})  # the host's path of the project\n"
        f"    assert not os.path.exists({str(Path.home())!r} + '/.bashrc')\n"
        "    here = sorted(p.name for p in pathlib.Path('.').iterdir())\n"
        "    assert set(here) - {'__pycache__'} == {'calc.py', 'tests'}  # and its bytecode\n",
    )


def test_git_virtualenvs_and_node_modules_are_not_copied(pool: SandboxPool, calc: Path) -> None:
    assert (calc / ".git").exists() and (calc / "node_modules").exists()
    run_checks(
        pool,
        calc,
        "def test_not_copied():\n"
        "    for name in ('.git', '.venv', 'node_modules'):\n"
        "        assert not os.path.exists(name)\n",
    )


def test_node_modules_are_copied_when_package_json_needs_them(
    pool: SandboxPool, tmp_path: Path
) -> None:
    project = calc_project(tmp_path)
    (project / "package.json").write_text('{"dependencies": {"left-pad": "1.3.0"}}')
    run_checks(
        pool,
        project,
        "def test_copied():\n    assert os.path.exists('node_modules/left-pad/index.js')\n",
    )


def test_the_users_files_are_never_written(pool: SandboxPool, tmp_path: Path) -> None:
    project = calc_project(tmp_path)
    before = snapshot_files(project)
    vandal = (
        "import pathlib, shutil\n\n"
        "def test_vandal():\n"
        "    pathlib.Path('calc.py').write_text('gone')\n"
        "    pathlib.Path('new.txt').write_text('new')\n"
        "    shutil.rmtree('tests', ignore_errors=True)\n"
    )
    changes = {"tests/test_vandal.py": vandal, "calc.py": "x = 1\n"}
    result = pool.run(project, changes, "pytest tests/test_vandal.py")
    assert result.exit_code == 0
    assert snapshot_files(project) == before
    assert pool.run(project, {}, "pytest -q").passed  # nor the shared copy in the container


def test_the_shared_project_copy_cannot_be_changed_by_a_candidate(
    pool: SandboxPool, calc: Path
) -> None:
    run_checks(
        pool,
        calc,
        "import glob\n\n"
        "def test_base_is_read_only():\n"
        "    base = sorted(glob.glob('/work/base-*'))[-1]\n"
        "    with pytest.raises(PermissionError):\n"
        "        open(base + '/calc.py', 'w')\n"
        "    with pytest.raises(PermissionError):\n"
        "        open(base + '/new.py', 'w')\n",
    )


def test_the_cpu_limit_is_enforced(calc: Path) -> None:
    """With half a CPU, two seconds of spinning get about one second of CPU time."""
    spin = (
        "import time\n"
        "end = time.monotonic() + 2\n"
        "while time.monotonic() < end:\n"
        "    pass\n"
        "print('cpu', time.process_time())\n"
    )
    with SandboxPool(SandboxConfig(cpus=0.5, parallel=1)) as pool:
        result = pool.run(calc, {"spin.py": spin}, "python3 spin.py")
    cpu_seconds = float(result.output.text.split("cpu")[1].split()[0])
    # Unlimited it gets the full 2 s; a busy machine can only give it less.
    assert 0 < cpu_seconds < 1.4
