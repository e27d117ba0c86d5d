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
import struct
import subprocess
import sys
import time
from typing import NoReturn

ERROR_LINE = re.compile(rb"error|exception|traceback|fail|assert|panic|killed", re.IGNORECASE)
# Substrings of ERROR_LINE's words: `in` on bytes is far faster than the regex on a flood.
ERROR_HINTS = tuple(
    case(word)
    for word in (b"rror", b"xception", b"raceback", b"ail", b"ssert", b"anic", b"illed")
    for case in (bytes.lower, bytes.upper)
)
OOM_FILES = ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events")
REPORT_CAP = 8 * 1024 * 1024
PROTOCOL_FDS: list[int] = []  # closed in every child: tests must not reach the protocol


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
    """SIGKILL every process of this uid but this one: the candidate's whole tree."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)


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
    subprocess.run(
        ["cp", "-R", "--preserve=mode,timestamps", str(request["base"]), workdir], check=True
    )
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
    return workdir


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


def run_child(request: dict[str, object], workdir: str, write_end: int) -> NoReturn:
    """In the forked child: exec the command, or run pytest in this warm interpreter."""
    try:
        for fd in PROTOCOL_FDS:
            os.close(fd)
        child_setup(request, workdir, write_end)
        pytest_args = request.get("pytest_args")
        if isinstance(pytest_args, list):
            import pytest

            sys.argv = ["pytest", *pytest_args]
            sys.path[0] = os.getcwd()  # the agent's directory out, the project in: `python -m`
            extra = request.get("pythonpath")
            sys.path[1:1] = [str(p) for p in extra] if isinstance(extra, list) else []
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


def supervise(
    pid: int, read_end: int, output: CappedOutput, deadline: float, proto_in: int
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
            os.waitpid(pid, 0)
            return -signal.SIGKILL, "timeout"
        if status is not None and grace_end is None:
            grace_end = now + 0.5  # a background process may hold the pipe open
        if grace_end is not None and now >= grace_end:
            break
        ready, _, _ = select.select([read_end, proto_in], [], [], min(0.05, deadline - now))
        if proto_in in ready:
            read_message(proto_in)  # a cancel, or the end of the host's stream: stop either way
            kill_my_processes()
            os.waitpid(pid, 0)
            return -signal.SIGKILL, "cancel"
        if ready:
            data = os.read(read_end, 1 << 20)
            if data:
                output.feed(data)
            else:
                open_pipe = False
        if status is None:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(raw)
    if status is None:
        status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return status, None


def read_report(path: object) -> str | None:
    if not isinstance(path, str):
        return None
    try:
        with open(path, "rb") as report:
            return report.read(REPORT_CAP).decode("utf-8", "replace")
    except OSError:
        return None


def start_child(request: dict[str, object], workdir: str) -> tuple[int, int]:
    """Fork the candidate's process; its pid and the read end of its output."""
    read_end, write_end = os.pipe()
    with contextlib.suppress(OSError):  # fewer, larger reads when a test floods its output
        fcntl.fcntl(read_end, fcntl.F_SETPIPE_SZ, 1 << 20)
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


def handle(request: dict[str, object], proto_in: int) -> dict[str, object]:
    started = time.monotonic()
    oom_before = oom_kills()
    try:
        scratch = str(request["scratch"])
        remove_tree(scratch)
        os.makedirs(scratch)
        pid, read_end = start_child(request, prepare_workdir(request))
    except (OSError, ValueError, subprocess.CalledProcessError) as error:
        # e.g. no process left to fork: another candidate exhausted the container's pids.
        return {"infrastructure_error": f"cannot start the candidate: {error}"}
    output = CappedOutput(int(str(request["output_cap"])))
    deadline = started + float(str(request["timeout"]))
    try:
        status, stopped = supervise(pid, read_end, output, deadline, proto_in)
    finally:
        os.close(read_end)
        kill_my_processes()  # stragglers left in the background by the tests
    killed = status == -signal.SIGKILL and stopped is None
    return {
        "exit_code": status,
        "timed_out": stopped == "timeout",
        "cancelled": stopped == "cancel",
        "out_of_memory": killed and oom_kills() > oom_before,
        "killed": killed,
        "duration": time.monotonic() - started,
        "output": output.summary(),
        "report": read_report(request.get("report")),
        "artifact": read_report(request.get("artifact")),
    }


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
        write_message(proto_out, handle(request, proto_in))
        remove_tree(str(request["workdir"]))
    kill_my_processes()


if __name__ == "__main__":
    main()
