"""`fixloop sandbox doctor`: is the engine there, is the image current, is each limit enforced."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixloop.sandbox.config import SandboxConfig
from fixloop.sandbox.engine import connect, engine_url
from fixloop.sandbox.errors import SandboxError
from fixloop.sandbox.image import BUILD_HINT, ImageState, image_state
from fixloop.sandbox.pool import SandboxPool
from fixloop.sandbox.results import CandidateResult

# Runs inside the sandbox as a candidate and reports what it can and cannot do.
PROBE = r"""
import glob, json, os, resource, socket

def status(field):
    with open("/proc/self/status") as lines:
        return next(line.split()[1] for line in lines if line.startswith(field + ":"))

def first(*paths):
    for path in paths:
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError:
            pass
    return ""

def refused(action):
    try:
        action()
    except OSError:
        return True
    return False

def connect():
    socket.create_connection(("1.1.1.1", 53), timeout=2).close()

def write_root():
    open("/etc/fixloop-probe", "w").close()

def write_base():
    base = sorted(glob.glob("/work/base-*"))[-1]
    open(os.path.join(base, "fixloop-probe"), "w").close()

visible = sorted(os.listdir("."))
quota = first("/sys/fs/cgroup/cpu.max") or (
    first("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") + " "
    + first("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))
print(json.dumps({
    "uid": os.getuid(),
    "cap_eff": int(status("CapEff"), 16),
    "cap_bnd": int(status("CapBnd"), 16),
    "no_new_privs": status("NoNewPrivs"),
    "interfaces": sorted(os.listdir("/sys/class/net")),
    "network_refused": refused(connect),
    "root_read_only": refused(write_root),
    "project_copy_read_only": refused(write_base),
    "workdir_writable": not refused(lambda: open("probe-out", "w").close()),
    "docker_socket": any(os.path.exists(p) for p in ("/var/run/docker.sock", "/run/docker.sock")),
    "memory": first("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"),
    "pids": first("/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max"),
    "cpu": quota,
    "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[0],
    "visible": visible,
}))
"""


# Allocates until something stops it: the memory limit must, as an out-of-memory kill.
MEMORY_HOG = """
hog = []
while True:
    hog.append(bytearray(64 * 2**20))
"""
# Forks sleeping children until fork fails: the per-candidate process cap must stop it.
FORK_COUNTER = """
import os, time
children = 0
while children < 10000:
    try:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
    except OSError:
        break
    children += 1
print(children)
"""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        text = f"{mark} {self.name}" + (f": {self.detail}" if self.detail else "")
        return text + (f"\n     -> {self.fix}" if self.fix and not self.ok else "")


def run_doctor(config: SandboxConfig) -> list[Check]:
    """All checks in order; stops early when a later check cannot run without an earlier."""
    checks: list[Check] = []
    try:
        client = connect(config)
    except SandboxError as error:
        return [Check("engine", False, str(error))]
    version = client.version().get("Version", "?")
    checks.append(Check("engine", True, f"Docker {version} at {engine_url(config)}"))
    state = image_state(client, config)
    image_ok = state == ImageState.CURRENT
    checks.append(Check("image", image_ok, f"{config.image_ref} is {state}", BUILD_HINT))
    if image_ok:
        checks.extend(_limit_checks(config))
    return checks


def _limit_checks(config: SandboxConfig) -> list[Check]:
    with tempfile.TemporaryDirectory(prefix="fixloop-doctor-") as project:
        Path(project, "README").write_text("a probe project\n")
        with SandboxPool(config) as pool:
            probe = pool.run(project, {"probe.py": PROBE}, "python3 probe.py")
            if probe.exit_code != 0:
                return [Check("probe", False, probe.summary() + "\n" + probe.output.text)]
            facts = json.loads(probe.output.text.strip().splitlines()[-1])
            checks = list(_isolation_checks(facts, config))
            hang = pool.run(project, {}, "sleep 600", timeout=1.0)
            checks.append(_timeout_check(hang))
            flood = pool.run(project, {}, "head -c 50000000 /dev/zero")
            checks.append(_output_check(flood, config))
            hog = pool.run(project, {"hog.py": MEMORY_HOG}, "python3 hog.py", timeout=30)
            checks.append(_memory_check(hog))
            forks = pool.run(project, {"forks.py": FORK_COUNTER}, "python3 forks.py", timeout=30)
            checks.append(_fork_check(forks, config))
    return checks


def _isolation_checks(facts: dict[str, Any], config: SandboxConfig) -> Iterator[Check]:
    def check(name: str, ok: bool, detail: str) -> Check:
        return Check(name, ok, detail, "upgrade Docker, or report this engine to fixloop")

    yield check(
        "no network",
        facts["network_refused"] and facts["interfaces"] == ["lo"],
        f"interfaces {facts['interfaces']}",
    )
    yield check("non-root user", facts["uid"] != 0, f"uid {facts['uid']}")
    yield check(
        "capabilities dropped",
        facts["cap_eff"] == 0 and facts["cap_bnd"] == 0,
        f"effective {facts['cap_eff']:#x}, bounding {facts['cap_bnd']:#x}",
    )
    yield check(
        "no-new-privileges", facts["no_new_privs"] == "1", f"NoNewPrivs {facts['no_new_privs']}"
    )
    yield check("read-only root", facts["root_read_only"], "writing /etc refused")
    yield check("tmpfs work area", facts["workdir_writable"], "the candidate's copy is writable")
    yield check(
        "project copy protected",
        facts["project_copy_read_only"],
        "candidates cannot change the shared copy",
    )
    yield check("no Docker socket", not facts["docker_socket"], "no /var/run/docker.sock")
    yield check(
        "nothing outside the project",
        facts["visible"] == ["README", "probe.py"],
        f"the work directory holds {facts['visible']}",
    )
    memory = _memory_bytes(config.memory)
    yield check("memory limit", facts["memory"] == str(memory), f"{facts['memory']} bytes")
    yield check("pids limit", facts["pids"] == str(config.pids), f"pids.max {facts['pids']}")
    yield check("cpu limit", _cpu_limited(facts["cpu"]), f"quota {facts['cpu']}")
    yield check(
        "per-candidate process cap",
        facts["nproc"] == config.candidate_pids,
        f"RLIMIT_NPROC {facts['nproc']}",
    )


def _timeout_check(result: CandidateResult) -> Check:
    ok = result.timed_out and result.duration < 5
    detail = f"`sleep 600` with a 1 s timeout ended after {result.duration:.1f} s"
    return Check("wall-clock timeout", ok, detail)


def _output_check(result: CandidateResult, config: SandboxConfig) -> Check:
    kept = len(result.output.head) + len(result.output.tail)
    ok = result.output.truncated and kept <= config.output_cap_bytes
    detail = f"{result.output.total_bytes} bytes printed, {kept} kept"
    return Check("output cap", ok, detail)


def _memory_check(result: CandidateResult) -> Check:
    detail = f"allocating without end was stopped after {result.duration:.1f} s"
    return Check("memory limit enforced", result.out_of_memory, detail)


def _fork_check(result: CandidateResult, config: SandboxConfig) -> Check:
    last_line = (result.output.text.strip().splitlines() or ["?"])[-1]
    forked = int(last_line) if last_line.isdigit() else -1
    ok = 0 < forked < config.candidate_pids
    return Check("process cap enforced", ok, f"a fork loop got {forked} processes")


def _cpu_limited(quota: str) -> bool:
    limit = quota.split()
    return len(limit) == 2 and limit[0] not in ("max", "-1")


def _memory_bytes(size: str) -> int:
    """Docker's size notation ("512m", "1g") in bytes."""
    multiplier = {"k": 1024, "m": 1024**2, "g": 1024**3}.get(size[-1].lower())
    return int(float(size[:-1]) * multiplier) if multiplier else int(size.rstrip("bB"))
