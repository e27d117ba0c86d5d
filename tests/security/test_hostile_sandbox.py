"""What a hostile repository's own tests try in the real Docker sandbox, each asserted
contained: from inside (the repository's test passes only when the attempt fails) and from
the host (nothing changed, nothing arrived, nothing left running).

The host holds a canary secret in its environment and in a file beside the project; the
repository reaches for them by symlinks, /proc, the environment and the filesystem. The
cases tests/sandbox already covers (fork bomb, memory bomb, huge output, the Docker socket,
a process tree at the timeout) are listed in the README with theirs, not repeated here."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.sandbox import SandboxPool
from tests.sandbox.conftest import TEST_CONFIG
from tests.sandbox.projects import calc_project, snapshot_files
from tests.security.hostile import Listener, listening, new_canary
from tests.support.sandbox_processes import containers_of_process, running_in_sandbox

pytestmark = pytest.mark.slow

CANARY_VARIABLE = "FIXLOOP_HOST_CANARY"
LEFT_RUNNING = "sleep 987655"


class Host:
    """The host side: the canary, the folder beside the project, the listener."""

    def __init__(self, folder: Path, listener: Listener) -> None:
        self.canary = new_canary()
        self.listener = listener
        self.beside = folder / "beside"
        self.beside.mkdir()
        self.secret = self.beside / "secret.txt"
        self.secret.write_text(self.canary)
        self.project = calc_project(folder / "repo")
        # Symlinks out of the project: absolute, relative, and a folder.
        (self.project / "leak.txt").symlink_to(self.secret)
        (self.project / "relative_leak.txt").symlink_to(Path("..") / "beside" / "secret.txt")
        (self.project / "up").symlink_to(Path(".."), target_is_directory=True)

    @property
    def hidden(self) -> str:
        """The canary as a repository's test may hold it: reversed, so that the test file
        itself (copied into the sandbox) does not contain it."""
        return repr(self.canary[::-1]) + "[::-1]"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    with listening() as listener, pytest.MonkeyPatch.context() as patch:
        host = Host(tmp_path_factory.mktemp("hostile"), listener)
        patch.setenv(CANARY_VARIABLE, host.canary)  # before the pool starts: it could leak
        yield host
    assert not listener.received, f"reached the host's listener: {listener.arrived()}"


@pytest.fixture(scope="module")
def pool(host: Host) -> Iterator[SandboxPool]:
    with SandboxPool(TEST_CONFIG) as shared:
        yield shared
    assert not containers_of_process(os.getpid())


def run_repository_test(pool: SandboxPool, host: Host, body: str) -> str:
    """Run the repository's test `body` (with `CANARY` defined); it must pass (the attempt
    failed inside), and the canary must not be in anything it printed."""
    header = f"import os, pathlib, socket, subprocess, pytest\n\nCANARY = {host.hidden}\n\n"
    result = pool.run(host.project, {"tests/test_hostile.py": header + body}, "pytest -q -s")
    assert result.passed, result.output.text
    assert host.canary not in result.output.text
    return result.output.text


def test_symlinks_out_of_the_project_lead_nowhere(pool: SandboxPool, host: Host) -> None:
    run_repository_test(
        pool,
        host,
        "def test_follow_the_links():\n"
        "    for link in ('leak.txt', 'relative_leak.txt'):\n"
        "        assert os.path.islink(link)  # copied as a link, not as the host's file\n"
        "        with pytest.raises(OSError):\n"
        "            open(link).read()\n"
        "    assert not os.path.exists('up')  # a link to a folder is not copied\n",
    )


def test_proc_1_environ_and_the_environment_hold_nothing_of_the_hosts(
    pool: SandboxPool, host: Host
) -> None:
    run_repository_test(
        pool,
        host,
        f"def test_environment():\n"
        f"    assert {CANARY_VARIABLE!r} not in os.environ\n"
        "    assert not [v for v in os.environ.values() if CANARY in v]\n"
        "    assert 'DOCKER_HOST' not in os.environ\n"
        "    for environ in pathlib.Path('/proc').glob('[0-9]*/environ'):\n"
        "        try:\n"
        "            data = environ.read_bytes()\n"
        "        except OSError:\n"
        "            continue  # another user's process (PID 1 is): unreadable\n"
        "        assert CANARY.encode() not in data\n"
        f"        assert {CANARY_VARIABLE.encode()!r} not in data\n",
    )


def test_files_beside_the_project_are_nowhere_in_the_sandbox(pool: SandboxPool, host: Host) -> None:
    run_repository_test(
        pool,
        host,
        f"def test_beside():\n"
        f"    assert not os.path.exists({str(host.secret)!r})\n"
        f"    assert not os.path.exists({str(host.beside)!r})\n"
        "    assert not os.path.exists('../beside/secret.txt')\n"
        "    found = []\n"
        "    for folder, dirs, files in os.walk('/'):\n"
        "        if folder == '/':\n"
        "            dirs[:] = [d for d in dirs if d not in ('proc', 'sys', 'dev')]\n"
        "        for name in files:\n"
        "            path = os.path.join(folder, name)\n"
        "            try:\n"
        "                if os.path.getsize(path) < 2**20 and CANARY.encode() in "
        "open(path, 'rb').read():\n"
        "                    found.append(path)\n"
        "            except OSError:\n"
        "                pass\n"
        "    assert found == []\n",
    )


def test_the_network_is_unreachable_by_name_and_by_ip_v4_and_v6(
    pool: SandboxPool, host: Host
) -> None:
    port = host.listener.port
    run_repository_test(
        pool,
        host,
        "def test_no_network():\n"
        "    for name in ('example.com', 'host.docker.internal', 'gateway.docker.internal'):\n"
        "        with pytest.raises(OSError):\n"
        "            socket.getaddrinfo(name, 80)\n"
        # The host's listener at its loopback addresses and at the Docker bridge, the Docker
        # engine's TCP port (the container's own loopback answers: refused), and addresses
        # outside by IP, v4 and v6.
        f"    for address in (('127.0.0.1', {port}), ('::1', {port}), ('172.17.0.1', {port}),"
        " ('127.0.0.1', 2375), ('1.1.1.1', 53), ('2606:4700:4700::1111', 53)):\n"
        "        with pytest.raises(OSError):\n"
        "            socket.create_connection(address, timeout=3).close()\n",
    )
    # The host's listener (127.0.0.1 and ::1) got nothing: checked when the module ends.


def test_writes_outside_the_work_copy_change_nothing_on_the_host(
    pool: SandboxPool, host: Host
) -> None:
    parent = host.project.parent
    before = snapshot_files(parent)
    run_repository_test(
        pool,
        host,
        "def attempt(path):\n"
        "    try:\n"
        "        pathlib.Path(path).write_text('pwned')\n"
        "    except OSError:\n"
        "        pass\n"
        "def test_write_everywhere():\n"
        f"    for path in ('../pwned.txt', {str(parent / 'pwned.txt')!r}, "
        f"{str(host.secret)!r}, 'leak.txt', '/pwned', '/etc/pwned'):\n"
        "        attempt(path)\n"
        "    pathlib.Path('calc.py').write_text('pwned')  # the work copy: allowed\n",
    )
    assert snapshot_files(parent) == before
    assert host.secret.read_text() == host.canary


def test_a_process_left_running_after_a_passing_run_is_ended(pool: SandboxPool, host: Host) -> None:
    run_repository_test(
        pool,
        host,
        "def test_leave_a_daemon():\n"
        f"    subprocess.Popen({LEFT_RUNNING.split()!r}, start_new_session=True,\n"
        "                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n",
    )
    assert running_in_sandbox(host.project, LEFT_RUNNING) == 0
    for _ in range(TEST_CONFIG.parallel):  # whichever slot runs next sees none either
        run_repository_test(
            pool,
            host,
            "def test_nothing_left():\n"
            "    proc = pathlib.Path('/proc')\n"
            "    cmdlines = [p.read_bytes() for p in proc.glob('[0-9]*/cmdline')]\n"
            f"    assert not [c for c in cmdlines if {LEFT_RUNNING.split()[1].encode()!r} in c]\n",
        )
