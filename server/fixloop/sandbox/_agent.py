"""The in-container half of the sandbox: one agent per slot of a warm container.

This file runs inside the sandbox image under its python3 (3.11, stdlib only); the host
never imports it, it streams its source into the container (pool.py), so the two halves
of the protocol cannot drift apart. Each agent runs under its own uid, which is what lets
it kill a candidate's whole process tree (kill(-1) reaches every process of that uid,
even daemonized ones) and cap its processes (RLIMIT_NPROC counts per uid).

Protocol on stdin/stdout: each message is a 4-byte big-endian length and a JSON object.
A request names the base copy of the project, the slot's work directory, the changed
files, the command (argv, or pytest arguments to run in a forked child of this already
warm process) and the limits; the response carries the exit status and trimmed output.
A `{"cancel": true}` sent while a candidate runs kills it and answers at once (marked
cancelled); the agent stays warm for the next one.

A pytest request marked `warm` may instead run in a warm session of its command (W, see
_warm.py, streamed beside this file): the second time a command is asked for, W collects
it once in a copy of the project of its own, and each candidate whose change is confined
to a function body runs in a fork of W; the answer says which way it ran (`runner`).
"""

import atexit
import contextlib
import fcntl
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from typing import NoReturn, Protocol

ERROR_LINE = re.compile(rb"error|exception|traceback|fail|assert|panic|killed", re.IGNORECASE)
# Substrings of ERROR_LINE's words: `in` on bytes is far faster than the regex on a flood.
ERROR_HINTS = tuple(
    case(word)
    for word in (b"rror", b"xception", b"raceback", b"ail", b"ssert", b"anic", b"illed")
    for case in (bytes.lower, bytes.upper)
)
OOM_FILES = ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events")
# A JUnit report takes ~200 bytes a test (more with long parametrized ids): packaging's
# 62,000 tests wrote over 8 MB, and a report cut short is no report at all.
REPORT_CAP = 64 * 1024 * 1024
PROTOCOL_FDS: list[int] = []  # closed in every child: tests must not reach the protocol
KEEP_ALIVE: set[int] = set()  # processes of this uid that a cleanup leaves alone (W)
WARM_MODULE = "_fixloop_warm"
BYTECODE_SKIPPED = frozenset({".git", "node_modules", ".tox", ".nox", ".venv", "venv"})
# W's copy, imports and collection; a candidate that finds it not ready by then runs the
# ordinary way with its whole timeout, within the host's 30 s of grace (pool.py).
WARM_STARTUP_LIMIT = 20.0
WARM_AFTER = 2  # a command gets W the second time it is run: one-off runs never pay for W
WARM_KEYS_KEPT = 32
# What W's startup may leave in the temporary folder, copied again for each candidate.
SCRATCH_KEPT_FILES = 200
SCRATCH_KEPT_BYTES = 4 * 1024 * 1024


def has_error_hint(chunk: bytes) -> bool:
    """A fast pre-filter (substring search) before the regex runs line by line."""
    return any(hint in chunk for hint in ERROR_HINTS)


class CappedOutput:
    """Keeps the head, the tail and the error lines of a stream of any size."""

    def __init__(self, cap: int) -> None:
        self.head_cap = cap // 2
        self.tail_cap = cap // 4
        self.errors_cap = cap - self.head_cap - self.tail_cap
        self.head = bytearray()
        self.tail = bytearray()
        self.errors: list[bytes] = []
        self.errors_size = 0
        self.total = 0
        self.partial = b""

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        self._collect_errors(data)
        self.tail += data
        if len(self.tail) > 2 * self.tail_cap:
            del self.tail[: len(self.tail) - self.tail_cap]

    def _collect_errors(self, data: bytes) -> None:
        chunk = self.partial + data
        cut = chunk.rfind(b"\n")
        self.partial = chunk[cut + 1 :][-4096:] if cut >= 0 else chunk[-4096:]
        if cut < 0 or self.errors_size >= self.errors_cap or not has_error_hint(chunk):
            return
        for line in chunk[:cut].split(b"\n"):
            if ERROR_LINE.search(line) and self.errors_size < self.errors_cap:
                line = line[:500]
                self.errors.append(line)
                self.errors_size += len(line) + 1

    def summary(self) -> dict[str, object]:
        head = bytes(self.head)
        tail = bytes(self.tail[-self.tail_cap :])
        if len(head) + len(tail) == self.total:  # nothing dropped: decode as one text
            head, tail = head + tail, b""
        return {
            "head": head.decode("utf-8", "replace"),
            "tail": tail.decode("utf-8", "replace"),
            "error_lines": [line.decode("utf-8", "replace") for line in self.errors],
            "total_bytes": self.total,
        }


def read_message(stream: int) -> dict[str, object] | None:
    header = read_exactly(stream, 4)
    if header is None:
        return None
    body = read_exactly(stream, struct.unpack(">I", header)[0])
    return None if body is None else json.loads(body)


def read_exactly(stream: int, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = os.read(stream, size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def write_message(stream: int, message: dict[str, object]) -> None:
    body = json.dumps(message).encode()
    view = memoryview(struct.pack(">I", len(body)) + body)
    while view:
        view = view[os.write(stream, view) :]


def oom_kills() -> int:
    for path in OOM_FILES:
        try:
            with open(path) as lines:
                for line in lines:
                    if line.startswith("oom_kill "):
                        return int(line.split()[1])
        except OSError:
            continue
    return -1


def kill_my_processes() -> None:
    """SIGKILL every process of this uid but this one (and W): the candidate's whole tree."""
    if not KEEP_ALIVE:
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)
        return
    # Stopped first, all at once: kill(-1) is atomic against fork, so nothing of the uid
    # can fork between the listing below and the kills.
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGSTOP)
    for pid in processes_of_my_uid():
        if pid not in KEEP_ALIVE:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    for pid in KEEP_ALIVE:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


def processes_of_my_uid() -> list[int]:
    """Live processes (zombies left out) that kill(-1) from here would reach, but this one."""
    uid, me, found = os.getuid(), os.getpid(), []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:
            continue
        real, _effective, saved = (int(value) for value in fields["Uid"].split()[:3])
        if uid in (real, saved) and not fields["State"].strip().startswith(("Z", "X")):
            found.append(int(name))
    return found


def remove_tree(path: str) -> None:
    def make_writable(_func: object, failed: str, _exc: object) -> None:
        os.chmod(os.path.dirname(failed), 0o700)
        if os.path.isdir(failed) and not os.path.islink(failed):
            os.chmod(failed, 0o700)
            shutil.rmtree(failed, ignore_errors=True)
        else:
            os.unlink(failed)

    if os.path.lexists(path):
        shutil.rmtree(path, onerror=make_writable)


def prepare_workdir(request: dict[str, object]) -> str:
    workdir = str(request["workdir"])
    remove_tree(workdir)
    os.makedirs(os.path.dirname(workdir), exist_ok=True)
    copy_base(request, workdir)
    files = request["files"]
    assert isinstance(files, dict)
    for relative, text in files.items():
        target = os.path.normpath(os.path.join(workdir, relative))
        if not target.startswith(workdir + os.sep):
            raise ValueError(f"changed file outside the project: {relative}")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.lexists(target):
            os.unlink(target)
        with open(target, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        not_as_old_as(target, os.path.join(str(request["base"]), relative))
    return workdir


def bytecode_cache(request: dict[str, object]) -> str:
    """The slot's bytecode of the base (`harvest_bytecode`), beside its work directory:
    the slot's uid cannot write the base, which every slot copies."""
    return f"{request['workdir']}.pyc/{os.path.basename(str(request['base']))}"


def harvest_bytecode(request: dict[str, object], workdir: str) -> None:
    """Keep the bytecode an unchanged run wrote (importlib's, and pytest's of the test
    modules it rewrote) for the next copies of the base (`copy_base`): marshmallow's
    test modules cost 1.2 s of CPU to rewrite and compile in every run, 0.1 s to load.
    Only for a source the run left as the base has it (same size and mtime); each file
    is still checked against its source when it is loaded."""
    cache, base = bytecode_cache(request), str(request["base"])
    if not os.path.isdir(cache):
        remove_tree(os.path.dirname(cache))  # an older base's
    for folder, dirs, files in os.walk(workdir):
        if os.path.basename(folder) != "__pycache__":
            dirs[:] = [name for name in dirs if name not in BYTECODE_SKIPPED]
            continue
        relative = os.path.relpath(folder, workdir)
        for name in files:
            kept = os.path.join(cache, relative, name)
            if _worth_keeping(workdir, base, os.path.join(relative, name), kept):
                with contextlib.suppress(OSError):
                    os.makedirs(os.path.dirname(kept), exist_ok=True)
                    shutil.copy2(os.path.join(folder, name), kept)


def _worth_keeping(workdir: str, base: str, pyc: str, kept: str) -> bool:
    """Whether the run compiled `pyc` (relative) anew, of a source it left unchanged."""
    folder, name = os.path.split(pyc)
    source = os.path.join(os.path.dirname(folder), name.split(".", 1)[0] + ".py")
    return (
        name.endswith(".pyc")
        and not os.path.exists(kept)
        and not _copied(os.path.join(workdir, pyc), os.path.join(base, pyc))
        and _copied(os.path.join(workdir, source), os.path.join(base, source))
    )


def _copied(path: str, original: str) -> bool:
    """Whether `path` is the base's file as the copy brought it (the user's bytecode)."""
    try:
        here, there = os.stat(path), os.stat(original)
    except OSError:
        return False
    return (here.st_size, here.st_mtime_ns) == (there.st_size, there.st_mtime_ns)


def copy_base(request: dict[str, object], workdir: str) -> None:
    """A new copy of the base, with the bytecode the slot kept of it."""
    preserve = ["cp", "-R", "--preserve=mode,timestamps"]
    subprocess.run([*preserve, str(request["base"]), workdir], check=True)
    cache = bytecode_cache(request)
    if os.path.isdir(cache):
        subprocess.run([*preserve, f"{cache}/.", workdir], check=True)


def not_as_old_as(target: str, original: str) -> None:
    """A changed file's time, in whole seconds, made other than its original's. The
    base's bytecode of the original (`harvest_bytecode`) is checked against the source's
    size and whole-second mtime (importlib; pytest before 9.2): a candidate written in
    the same second as the original, and of the same size, would otherwise run the
    original's code."""
    with contextlib.suppress(OSError):
        old = int(os.stat(original).st_mtime)
        if int(os.stat(target).st_mtime) == old:
            later = (old + 1) * 1_000_000_000
            os.utime(target, ns=(later, later))


def child_setup(request: dict[str, object], workdir: str, write_end: int) -> None:
    os.setsid()
    nproc = int(str(request["nproc"]))
    import resource

    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    os.chdir(os.path.join(workdir, str(request.get("cwd") or "")))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    env = request["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in env.items()})


def project_path(request: dict[str, object]) -> None:
    """sys.path as `python -m pytest` in the project has it: the agent's directory out,
    the project in, then its source folders (`src`) and fixloop's plugins."""
    sys.path[0] = os.getcwd()
    extra = request.get("pythonpath")
    sys.path[1:1] = [str(p) for p in extra] if isinstance(extra, list) else []


def shadowed(request: dict[str, object]) -> list[str]:
    """The modules this agent has imported (pytest and what pytest imports: pluggy,
    packaging, ...) that the project's copy holds too: the project is one of them, or
    shadows one. A pytest forked from here would test the installed ones, which the
    user's own run, importing the project's, does not."""
    base, workdir = str(request["base"]), str(request["workdir"])
    folders = [os.path.join(base, str(request.get("cwd") or ""))]
    paths = request.get("pythonpath")
    for path in paths if isinstance(paths, list) else []:
        if str(path).startswith(workdir + os.sep):
            folders.append(base + str(path)[len(workdir) :])
    imported = {name.partition(".")[0] for name in sys.modules}
    found: set[str] = set()
    for folder in folders:
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                name = entry.name[:-3] if entry.name.endswith(".py") else entry.name
                package = entry.is_dir() and os.path.isfile(os.path.join(entry.path, "__init__.py"))
                if name in imported and (package or entry.name.endswith(".py")):
                    found.add(name)
    return sorted(found)


def run_child(request: dict[str, object], workdir: str, write_end: int) -> NoReturn:
    """In the forked child: exec the command, or run pytest in this warm interpreter
    (a new one when the project holds a module this one imported: see `shadowed`)."""
    try:
        for fd in PROTOCOL_FDS:
            os.close(fd)
        child_setup(request, workdir, write_end)
        # A fresh copy, thrown away after the run: its bytecode can never be stale, and
        # the base keeps what an unchanged run compiled (`harvest_bytecode`).
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        sys.dont_write_bytecode = False
        pytest_args = request.get("pytest_args")
        if isinstance(pytest_args, list) and request.get("shadowed"):
            os.execvp("python3", ["python3", "-m", "pytest", *map(str, pytest_args)])
        if isinstance(pytest_args, list):
            import pytest

            sys.argv = ["pytest", *pytest_args]
            project_path(request)
            code = pytest.main(pytest_args)
            atexit._run_exitfuncs()  # as a fresh process would at its end
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(int(code))
        argv = request["argv"]
        assert isinstance(argv, list)
        os.execvp(argv[0], argv)
    except BaseException as error:  # the child must never return into the agent loop
        os.write(2, f"fixloop sandbox: cannot run the command: {error}\n".encode())
        os._exit(127)


class Child(Protocol):
    """The candidate's process as supervise() sees it: `fd`, when set, turns readable
    when its status may be known."""

    fd: int | None

    def poll(self) -> int | None: ...

    def wait(self) -> int: ...


class ForkedChild:
    """A child of the agent itself."""

    fd: int | None = None

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self) -> int | None:
        done, raw = os.waitpid(self.pid, os.WNOHANG)
        return os.waitstatus_to_exitcode(raw) if done else None

    def wait(self) -> int:
        return os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])


def supervise(
    child: Child, read_end: int, output: CappedOutput, deadline: float, proto_in: int
) -> tuple[int, str | None]:
    """Drain the output until the child exits; on the deadline, or when the host asks
    (a message on `proto_in`), kill its whole tree. (status, "timeout" | "cancel" | None)"""
    status: int | None = None
    open_pipe = True
    grace_end = None
    while open_pipe:
        now = time.monotonic()
        if now >= deadline:
            kill_my_processes()
            return (child.wait() if status is None else status), "timeout"
        if status is not None and grace_end is None:
            grace_end = now + 0.5  # a background process may hold the pipe open
        if grace_end is not None and now >= grace_end:
            break
        watched = [read_end, proto_in]
        if child.fd is not None and status is None:
            watched.append(child.fd)
        ready, _, _ = select.select(watched, [], [], min(0.05, deadline - now))
        if proto_in in ready:
            read_message(proto_in)  # a cancel, or the end of the host's stream: stop either way
            kill_my_processes()
            if status is None:
                child.wait()
            return -signal.SIGKILL, "cancel"
        if read_end in ready:
            data = os.read(read_end, 1 << 20)
            if data:
                output.feed(data)
            else:
                open_pipe = False
        if status is None and (child.fd is None or child.fd in ready):
            status = child.poll()
    if status is None:
        status = child.wait()
    return status, None


def read_report(path: object) -> str | None:
    if not isinstance(path, str):
        return None
    try:
        with open(path, "rb") as report:
            return report.read(REPORT_CAP).decode("utf-8", "replace")
    except OSError:
        return None


def output_pipe() -> tuple[int, int]:
    read_end, write_end = os.pipe()
    with contextlib.suppress(OSError):  # fewer, larger reads when a test floods its output
        fcntl.fcntl(read_end, fcntl.F_SETPIPE_SZ, 1 << 20)
    return read_end, write_end


def start_child(request: dict[str, object], workdir: str) -> tuple[int, int]:
    """Fork the candidate's process; its pid and the read end of its output."""
    read_end, write_end = output_pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:
        os.close(read_end)
        run_child(request, workdir, write_end)  # never returns
    os.close(write_end)
    return pid, read_end


Answer = tuple[dict[str, object], Callable[[], None]]  # the response, and what to do after


def handle(request: dict[str, object], proto_in: int) -> Answer:
    """The candidate's response (with the CPU it cost in this container, cleanup aside)."""
    cpu_before = cpu_seconds()
    response, cleanup = run_candidate(request, proto_in)
    response["cpu_seconds"] = cpu_seconds() - cpu_before + float(str(WARM.cpu or 0.0))
    WARM.cpu = 0.0
    return response, cleanup


def cpu_seconds() -> float:
    """This process's and its waited-for children's (the forked pytest, cp)."""
    import resource

    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def run_candidate(request: dict[str, object], proto_in: int) -> Answer:
    started = time.monotonic()
    oom_before = oom_kills()
    try:
        scratch = str(request["scratch"])
        remove_tree(scratch)
        os.makedirs(scratch)
    except OSError as error:
        return {"infrastructure_error": f"cannot start the candidate: {error}"}, nothing
    if WARM.session is not None and WARM.session.base != request["base"]:
        WARM.stop()  # the project was copied again: its command can never come back
    if isinstance(request.get("pytest_args"), list) and (names := shadowed(request)):
        request["shadowed"] = names
        request["warm"] = False
    key = warm_key(request)
    if key is not None:
        WARM.why_not = "not asked for before"
        answer = WARM.run(request, key, proto_in, started, oom_before)
        if answer is not None:
            return answer
        started = time.monotonic()  # a failed start of W takes nothing of the timeout
    response, cleanup = run_fresh(request, proto_in, started, oom_before)
    if key is not None:
        response["warm_fallback"] = WARM.why_not
    return response, cleanup


def nothing() -> None:
    pass


def run_fresh(request: dict[str, object], proto_in: int, started: float, oom_before: int) -> Answer:
    """Today's way: a fresh copy of the project, pytest forked from this process (or the
    command executed); W's copy, when there is one, is moved out of the way meanwhile."""
    workdir = str(request["workdir"])
    session = WARM.set_aside()
    if session is None:
        remove_tree(workdir + ".warm")  # left by an agent that died during a fresh run

    def cleanup() -> None:
        if not request["files"]:
            harvest_bytecode(request, workdir)
        remove_tree(workdir)
        if session is not None:
            WARM.put_back(session)

    try:
        pid, read_end = start_child(request, prepare_workdir(request))
    except (OSError, ValueError, subprocess.CalledProcessError) as error:
        # e.g. no process left to fork: another candidate exhausted the container's pids.
        return {"infrastructure_error": f"cannot start the candidate: {error}"}, cleanup
    deadline = started + float(str(request["timeout"]))
    response = finish(request, ForkedChild(pid), read_end, proto_in, started, oom_before, deadline)
    forked = isinstance(request.get("pytest_args"), list) and not request.get("shadowed")
    response["runner"] = "fork" if forked else "exec"
    if isinstance(names := request.get("shadowed"), list):
        response["warm_fallback"] = (
            f"pytest itself imports the project's own {', '.join(map(str, names))}: "
            "each run starts an interpreter of its own"
        )
    return response, cleanup


def finish(
    request: dict[str, object],
    child: Child,
    read_end: int,
    proto_in: int,
    started: float,
    oom_before: int,
    deadline: float,
) -> dict[str, object]:
    """Supervise the candidate's process to its end; the response."""
    output = CappedOutput(int(str(request["output_cap"])))
    try:
        status, stopped = supervise(child, read_end, output, deadline, proto_in)
    finally:
        os.close(read_end)
        kill_my_processes()  # stragglers left in the background by the tests
    killed = status == -signal.SIGKILL and stopped is None
    oom_now = oom_kills()
    return {
        "oom_count": oom_now,  # the container's, for the host to tell a later loss by
        "exit_code": status,
        "timed_out": stopped == "timeout",
        "cancelled": stopped == "cancel",
        "out_of_memory": killed and oom_now > oom_before,
        "killed": killed,
        "duration": time.monotonic() - started,
        "output": output.summary(),
        "report": read_report(request.get("report")),
        "artifact": read_report(request.get("artifact")),
    }


# --- the warm runner ----------------------------------------------------------------------


def warm_key(request: dict[str, object]) -> str | None:
    """What W is made for: the same base copy, command, environment and limits (the
    report's path aside, which W sets per candidate); None when it may not run warm."""
    args = request.get("pytest_args")
    if not request.get("warm") or not isinstance(args, list) or request.get("artifact"):
        return None
    kept = [arg for arg in args if not str(arg).startswith("--junitxml=")]
    fields = ("base", "workdir", "scratch", "cwd", "env", "nproc")
    return json.dumps([kept, *(request.get(name) for name in fields)], sort_keys=True)


class Watcher:
    """inotify on every directory of W's copy: what a candidate's tests wrote there."""

    MASK = 0x2 | 0x4 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800  # writes, moves, attrs
    OVERFLOW = 0x4000

    def __init__(self, root: str) -> None:
        import ctypes

        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = int(self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC))
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.dirs: dict[int, str] = {}
        try:
            self.watch(root)
        except OSError:
            os.close(self.fd)
            raise

    def watch(self, directory: str) -> None:
        """This directory and those under it (the copy's, or ones made since)."""
        import ctypes

        for folder, _, _ in os.walk(directory):
            wd = int(self.libc.inotify_add_watch(self.fd, os.fsencode(folder), self.MASK))
            if wd < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {folder}")
            self.dirs[wd] = folder

    def changes(self) -> set[str] | None:
        """The paths changed since the last call; None when too many to tell."""
        paths: set[str] = set()
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return paths
            offset = 0
            while offset < len(data):
                wd, mask, _cookie, size = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16 : offset + 16 + size].rstrip(b"\0")
                offset += 16 + size
                if mask & self.OVERFLOW:
                    return None
                directory = self.dirs.get(wd, "/")
                paths.add(os.path.normpath(os.path.join(directory, os.fsdecode(name))))

    def close(self) -> None:
        os.close(self.fd)


def sync_tree(source: str, target: str) -> None:
    """Make `target` a copy of `source` again in place: directories in both are kept (W's
    working directory among them), anything else that differs is replaced or removed."""
    wanted = {entry.name: entry for entry in os.scandir(source)}
    for entry in os.scandir(target):
        twin = wanted.get(entry.name)
        if twin is not None and _kind(twin) == _kind(entry):
            continue
        if _kind(entry) == "dir":
            remove_tree(entry.path)
        else:
            os.unlink(entry.path)
    for name, twin in wanted.items():
        path = os.path.join(target, name)
        if not os.path.lexists(path):
            if _kind(twin) == "dir":
                shutil.copytree(twin.path, path, symlinks=True)
            else:
                shutil.copy2(twin.path, path, follow_symlinks=False)
        elif _kind(twin) == "dir":
            shutil.copystat(twin.path, path)
            sync_tree(twin.path, path)
        elif _differs(twin.stat(follow_symlinks=False), os.lstat(path)):
            os.unlink(path)
            shutil.copy2(twin.path, path, follow_symlinks=False)


def _kind(entry: os.DirEntry[str]) -> str:
    if entry.is_symlink():
        return "link"
    return "dir" if entry.is_dir() else "file"


def _differs(want: os.stat_result, have: os.stat_result) -> bool:
    return (want.st_size, want.st_mtime_ns, want.st_mode) != (
        have.st_size,
        have.st_mtime_ns,
        have.st_mode,
    )


class WarmSession:
    """The agent's side of W: its process, its socket, its copy of the project."""

    def __init__(
        self, key: str, request: dict[str, object], pid: int, sock: socket.socket, watcher: Watcher
    ) -> None:
        self.key = key
        self.base = str(request["base"])
        self.workdir = str(request["workdir"])
        self.pid = pid
        self.sock = sock
        self.watcher = watcher
        self.broken = False
        self.scratch = str(request["scratch"])
        # What W's startup wrote into the temporary folder (hypothesis' `.hypothesis`, a
        # tool's cache in HOME): a fresh run's collection writes it too, so each C gets it.
        self.scratch_start: str | None = None
        # W's copy as its startup left it, when that wrote into the project (a plugin's
        # `.benchmarks`): a fresh run's collection writes it too, so each C starts from it.
        self.start_copy: str | None = None
        KEEP_ALIVE.add(pid)
        PROTOCOL_FDS.extend((sock.fileno(), watcher.fd))

    def alive(self) -> bool:
        if self.broken:
            return False
        try:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            done = self.pid
        return done == 0

    def reply(self, timeout: float) -> dict[str, object] | None:
        """W's next message; None when W is gone or silent that long (then broken)."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        message = None
        if ready:
            with contextlib.suppress(OSError, ValueError):
                message = read_message(self.sock.fileno())
        if message is None:
            self.broken = True
        return message

    def stop(self) -> None:
        KEEP_ALIVE.discard(self.pid)
        for fd in (self.sock.fileno(), self.watcher.fd):
            with contextlib.suppress(ValueError):
                PROTOCOL_FDS.remove(fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self.sock.close()
        self.watcher.close()
        remove_tree(self.workdir)
        remove_tree(self.workdir + ".warm")
        if self.scratch_start:
            remove_tree(self.scratch_start)
        if self.start_copy:
            remove_tree(self.start_copy)

    @property
    def reference(self) -> str:
        """What W's copy is made the same as again after each candidate."""
        return self.start_copy or self.base

    def run(
        self, request: dict[str, object], proto_in: int, started: float, oom_before: int
    ) -> Answer | None:
        """The candidate in a fork of W; None when W says it needs a fresh run."""
        files = request["files"]
        assert isinstance(files, dict)
        if self.scratch_start:
            shutil.copytree(self.scratch_start, self.scratch, symlinks=True, dirs_exist_ok=True)
        for relative, text in files.items():  # for subprocesses and tracebacks: on disk too
            target = os.path.join(self.workdir, relative)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
            with open(target, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            not_as_old_as(target, os.path.join(self.reference, relative))
        read_end, write_end = output_pipe()
        job = json.dumps({"files": files, "report": request.get("report")}).encode()
        try:
            socket.send_fds(self.sock, [b"j"], [write_end])
            self.sock.sendall(struct.pack(">I", len(job)) + job)
        except OSError:
            self.broken = True
        finally:
            os.close(write_end)
        reply = None if self.broken else self.reply(WARM_STARTUP_LIMIT)
        if reply is None or "pid" not in reply:
            os.close(read_end)
            self.restore(files)
            remove_tree(self.scratch)  # the fresh run starts from an empty one
            os.makedirs(self.scratch, exist_ok=True)
            WARM.why_not = str((reply or {}).get("fallback", "the warm runner stopped"))
            return None
        deadline = time.monotonic() + float(str(request["timeout"]))
        child = WarmChild(self)
        response = finish(request, child, read_end, proto_in, started, oom_before, deadline)
        response["runner"] = "warm"
        return response, lambda: self.restore(files)

    def restore(self, files: dict[str, str]) -> None:
        """W's copy as the base again for the next candidate; W stopped when it cannot be."""
        try:
            for relative in files:
                target = os.path.join(self.workdir, relative)
                if os.path.lexists(target):
                    os.unlink(target)
                shutil.copy2(os.path.join(self.reference, relative), target)
            expected = {os.path.normpath(os.path.join(self.workdir, name)) for name in files}
            changed = self.watcher.changes()
            if changed is None or changed - expected:
                sync_tree(self.reference, self.workdir)
                self.watcher.changes()
        except OSError:
            self.broken = True
        if not self.alive():
            WARM.stop()


class WarmChild:
    """C, a child of W: W tells its exit status on its socket."""

    def __init__(self, session: WarmSession) -> None:
        self.session = session
        self.fd: int | None = session.sock.fileno()

    def poll(self) -> int | None:
        ready, _, _ = select.select([self.session.sock], [], [], 0)
        return self.wait() if ready else None

    def wait(self) -> int:
        reply = self.session.reply(60.0)
        if reply is None or "status" not in reply:
            return -signal.SIGKILL  # W died with it: a test killed its parent
        WARM.cpu = float(str(reply.get("cpu", 0.0)))
        return int(str(reply["status"]))


class WarmRunner:
    """At most one W per slot (agent), for the command last asked for twice."""

    def __init__(self) -> None:
        self.session: WarmSession | None = None
        self.seen: dict[str, int] = {}
        self.refused: dict[str, str] = {}  # commands W cannot serve, and why
        self.why_not = ""  # why the last candidate asked to run warm did not (for people)
        self.cpu = 0.0  # what W and C spent on the last candidate, as W told

    def run(
        self, request: dict[str, object], key: str, proto_in: int, started: float, oom_before: int
    ) -> Answer | None:
        self.seen[key] = self.seen.pop(key, 0) + 1
        while len(self.seen) > WARM_KEYS_KEPT:
            del self.seen[next(iter(self.seen))]
        if not self._files_may_run_warm(request):
            self.why_not = "changes a file that is not a module of the project"
            return None
        session = self.session
        if session is None or session.key != key or not session.alive():
            if key in self.refused:
                self.why_not = self.refused[key]
                return None
            if self.seen[key] < WARM_AFTER:
                return None
            started_session = self.start(request, key, proto_in)
            if started_session == "cancel":
                cancelled = {"exit_code": -signal.SIGKILL, "cancelled": True, "runner": "warm"}
                return {**cancelled, "duration": time.monotonic() - started}, nothing
            if not isinstance(started_session, WarmSession):
                self.refused[key] = f"the command cannot run warm: {started_session}"
                self.why_not = self.refused[key]
                return None
            session = started_session
        return session.run(request, proto_in, started, oom_before)

    def prewarm(self, request: dict[str, object], proto_in: int) -> dict[str, object]:
        """Start W now for a command the host is about to run for many candidates (no
        candidate in this request): its first candidate then runs warm, instead of once
        the ordinary way and W's startup with the second."""
        if names := shadowed(request):
            return {"warm": False, "why": f"pytest itself imports the project's {names[0]}"}
        key = warm_key(request)
        if key is None:
            return {"warm": False, "why": "the command may not run warm"}
        if self.session is not None and self.session.key == key and self.session.alive():
            return {"warm": True}
        if key in self.refused:
            return {"warm": False, "why": self.refused[key]}
        try:
            scratch = str(request["scratch"])
            remove_tree(scratch)
            os.makedirs(scratch)
        except OSError as error:
            return {"warm": False, "why": f"cannot make its temporary folder: {error}"}
        started = self.start(request, key, proto_in)
        if isinstance(started, WarmSession):
            return {"warm": True}
        if started != "cancel":
            self.refused[key] = f"the command cannot run warm: {started}"
        return {"warm": False, "why": started}

    def _files_may_run_warm(self, request: dict[str, object]) -> bool:
        files, base = request["files"], str(request["base"])
        assert isinstance(files, dict)
        return all(
            name.endswith(".py") and os.path.isfile(os.path.join(base, name)) for name in files
        )

    def start(self, request: dict[str, object], key: str, proto_in: int) -> WarmSession | str:
        """W, ready to serve; "cancel" when the host cancelled meanwhile; else why the
        command cannot run warm (W refused, failed, or took too long)."""
        self.stop()
        workdir = str(request["workdir"])
        remove_tree(workdir)
        remove_tree(workdir + ".warm")
        try:
            copy_base(request, workdir)
            watcher = Watcher(workdir)
        except (OSError, subprocess.CalledProcessError) as error:
            remove_tree(workdir)
            return f"its copy of the project could not be made ({error})"
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            ours.close()
            run_session(request, workdir, theirs, watcher.fd)  # never returns
        theirs.close()
        self.session = WarmSession(key, request, pid, ours, watcher)
        outcome = self._wait_ready(self.session, proto_in, str(request["scratch"]))
        if outcome is not self.session:
            self.stop()
        return outcome

    def _wait_ready(self, session: WarmSession, proto_in: int, scratch: str) -> WarmSession | str:
        deadline = time.monotonic() + WARM_STARTUP_LIMIT
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([session.sock.fileno(), proto_in], [], [], left)
            if proto_in in ready:
                read_message(proto_in)
                return "cancel"
            if ready:
                reply = session.reply(0)
                if not reply or "ready" not in reply:
                    return str((reply or {}).get("refused") or "its session ended at startup")
                return _unclean_startup(session, scratch) or session
        return f"its startup took longer than {WARM_STARTUP_LIMIT:g} s"

    def stop(self) -> None:
        if self.session is not None:
            self.session.stop()
            self.session = None

    def set_aside(self) -> WarmSession | None:
        """W's copy moved away (its inodes kept) while a fresh run needs the workdir."""
        session = self.session
        if session is None:
            return None
        try:
            os.rename(session.workdir, session.workdir + ".warm")
        except OSError:
            self.stop()
            return None
        return session

    def put_back(self, session: WarmSession) -> None:
        try:
            os.rename(session.workdir + ".warm", session.workdir)
            session.watcher.changes()  # the moves themselves
        except OSError:
            session.broken = True
        if self.session is session and not session.alive():
            self.stop()


def _unclean_startup(session: WarmSession, scratch: str) -> str | None:
    """Why W's startup left something a candidate's run would inherit, if it did."""
    written = session.watcher.changes()
    if written is None:
        return "collecting the tests wrote into the project (many files)"
    if written and (why := _keep_start_copy(session, written)):
        return why
    if os.listdir(scratch):
        return _keep_scratch(session, scratch)
    if processes_of_my_uid() != [session.pid]:
        return "collecting the tests started another process"
    return None


def _keep_start_copy(session: WarmSession, written: set[str]) -> str | None:
    """Keep W's copy as its startup left it, for every C, with the folders it made
    watched; why not when the startup wrote too much to keep."""
    files = [f for path in written for f in _files_under(path)]
    count, size = len(files), 0
    for name in files:
        with contextlib.suppress(OSError):
            size += os.lstat(name).st_size
    if count > SCRATCH_KEPT_FILES or size > SCRATCH_KEPT_BYTES:
        shown = ", ".join(sorted(os.path.relpath(p, session.workdir) for p in written)[:3])
        return f"collecting the tests wrote {count} files into the project ({shown})"
    try:
        for path in sorted(written):
            if os.path.isdir(path) and not os.path.islink(path):
                session.watcher.watch(path)
        session.watcher.changes()
        session.start_copy = session.workdir + ".start"
        remove_tree(session.start_copy)
        shutil.copytree(session.workdir, session.start_copy, symlinks=True)
    except OSError as error:
        return f"what collecting the tests wrote into the project cannot be kept ({error})"
    return None


def _files_under(path: str) -> list[str]:
    if not os.path.isdir(path) or os.path.islink(path):
        return [path] if os.path.lexists(path) else []
    return [os.path.join(folder, name) for folder, _, names in os.walk(path) for name in names]


def _keep_scratch(session: WarmSession, scratch: str) -> str | None:
    """Keep what W's startup wrote into the temporary folder, for every C; why not when
    it is too much to copy for each candidate."""
    count, size = 0, 0
    for folder, _dirs, files in os.walk(scratch):
        for name in files:
            count += 1
            with contextlib.suppress(OSError):
                size += os.lstat(os.path.join(folder, name)).st_size
    if count > SCRATCH_KEPT_FILES or size > SCRATCH_KEPT_BYTES:
        shown = ", ".join(sorted(os.listdir(scratch))[:3])
        return f"collecting the tests wrote {count} files into its temporary folder ({shown})"
    session.scratch_start = scratch + ".warm-start"
    remove_tree(session.scratch_start)
    shutil.copytree(scratch, session.scratch_start, symlinks=True)
    return None


WARM = WarmRunner()


def run_session(
    request: dict[str, object], workdir: str, sock: socket.socket, watcher_fd: int
) -> NoReturn:
    """In the forked W: pytest's startup and collection, then serving candidates; returns
    (exits) in each C with its pytest's exit code, as a forked pytest would."""
    try:
        for fd in (*PROTOCOL_FDS, watcher_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        memfd = os.memfd_create("fixloop-warm-startup")  # pytest's header, replayed by each C
        child_setup(request, workdir, memfd)
        with open("/proc/self/comm", "w") as comm:
            comm.write("fixloop-warm")
        warm = __import__(WARM_MODULE)  # from the agent's directory, before the project's
        pytest_args = request["pytest_args"]
        assert isinstance(pytest_args, list)
        args = [str(arg) for arg in pytest_args]
        sys.argv = ["pytest", *args]
        project_path(request)
        code = warm.run(args, sock, memfd, workdir, str(request["base"]))
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(code))
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.write(2, f"fixloop sandbox: the warm runner failed: {error}\n".encode())
        os._exit(127)


def preimport(modules: object) -> None:
    for name in modules if isinstance(modules, list) else []:
        try:
            __import__(str(name))
        except Exception as error:  # reported by the child's own import later
            print(f"fixloop agent: preimport {name}: {error}", file=sys.stderr)


def main() -> None:
    # The protocol owns the original stdin/stdout; stray prints go to stderr instead.
    proto_in, proto_out = os.dup(0), os.dup(1)
    PROTOCOL_FDS.extend((proto_in, proto_out))
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.dont_write_bytecode = True
    # Speak only when spoken to: bytes sent before the host has read the HTTP upgrade
    # response could be swallowed by its HTTP client's buffer.
    while (request := read_message(proto_in)) is not None:
        preimport(request.get("preimport"))
        if request.get("ping"):
            write_message(proto_out, {"pong": os.getpid()})
            continue
        if request.get("cancel"):
            continue  # it came after its run had ended: nothing to stop
        if request.get("prewarm"):
            write_message(proto_out, WARM.prewarm(request, proto_in))
            continue
        response, cleanup = handle(request, proto_in)
        write_message(proto_out, response)
        cleanup()  # after answering: the host need not wait for it
    KEEP_ALIVE.clear()
    kill_my_processes()


if __name__ == "__main__":
    main()
