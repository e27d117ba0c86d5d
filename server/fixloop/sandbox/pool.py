"""Warm containers, one per (project, image), reused across candidates.

The project is copied in once (again only when it changes on disk); each candidate only
sends its changed files to one of the container's slots, whose agent gives it a fresh
copy of the project, so candidates never see each other's changes. Containers carry the
`fixloop` label; they are removed by close() (also at interpreter exit) and containers
left by a crashed run on this host are swept when a pool first connects.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import queue
import random
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fixloop.sandbox import _node_reporter
from fixloop.sandbox import project as project_files
from fixloop.sandbox.cancellation import Cancellation
from fixloop.sandbox.channel import ChannelClosed, ExecChannel
from fixloop.sandbox.commands import CommandKind, TestCommand, package_script, parse_command
from fixloop.sandbox.config import SandboxConfig
from fixloop.sandbox.engine import connect
from fixloop.sandbox.errors import SandboxError
from fixloop.sandbox.image import require_image
from fixloop.sandbox.prepare import Say, environment_for
from fixloop.sandbox.results import CandidateResult, Probe, merge_shards
from fixloop.sandbox.runner import (
    AGENT_PATH,
    CANDIDATES_DIR,
    NODE_MODULES,
    NODE_REPORTER_PATH,
    PLUGIN_DIR,
    SELECT_PLUGIN,
    SHARD_CLAIMS_DIR,
    SHARD_PLUGIN,
    SLOT_UID_FIRST,
    SLOT_UID_LAST,
    TIMEOUT_PLUGIN,
    WARM_PATH,
    WORK_ROOT,
    Shard,
    plan_candidate,
    read_result,
)

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

LABEL = "fixloop"
OWNER_UID = 1000  # the image's non-root user: owns the project copy
GRACE_SECONDS = 30.0  # beyond the test timeout, for copying and reporting
# Where the kernel counts the processes it killed for the memory limit (cgroup v2, v1).
_OOM_FILES = ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control")
_AGENT_SOURCE = (Path(__file__).parent / "_agent.py").read_bytes()
_TIMEOUT_SOURCE = (Path(__file__).parent / "_pytest_timeout.py").read_bytes()
_SHARD_SOURCE = (Path(__file__).parent / "_pytest_shard.py").read_bytes()
_SELECT_SOURCE = (Path(__file__).parent / "_pytest_select.py").read_bytes()
_WARM_SOURCE = (Path(__file__).parent / "_warm.py").read_bytes()
# Projects whose containers a pool keeps once it is done with them: an editor moves
# between a few; the least recently used go when another starts.
PROJECTS_KEPT = 4
_live_pools: weakref.WeakSet[SandboxPool] = weakref.WeakSet()


def _close_live_pools() -> None:
    for pool in list(_live_pools):
        pool.close()


atexit.register(_close_live_pools)


class _Gate:
    """Many candidates at once, or one refresh of the project copy alone."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._running = 0
        self._exclusive = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._exclusive)
            self._running += 1
        try:
            yield
        finally:
            with self._condition:
                self._running -= 1
                self._condition.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._exclusive and self._running == 0)
            self._exclusive = True
        try:
            yield
        finally:
            with self._condition:
                self._exclusive = False
                self._condition.notify_all()


@dataclass
class _Slot:
    index: int
    uid: int  # the uid its candidates run as
    channel: ExecChannel | None = None


@dataclass
class _Warm:
    """A warm container of one project: its copy of the project and its slots."""

    container: Container
    root: Path
    fingerprint: str
    base: str
    uses_hypothesis: bool
    # The project's folders its code is imported from (`src`): ahead of what is installed.
    source_paths: tuple[str, ...] = ()
    config: SandboxConfig | None = None  # the pool's, unless the environment asks otherwise
    node_modules: bool = False  # its image holds the project's node packages
    # pytest arguments that turn off its plugins that cost time, not verdicts (prepare.py).
    pytest_switches: tuple[str, ...] = ()
    # Its base image's pytest plugins the project does not install (prepare.py).
    base_plugins: tuple[tuple[str, str], ...] = ()
    oom_kills: int = 0  # the kernel's count of processes it killed there, seen so far
    generation: int = 0
    slots: queue.Queue[_Slot] = field(default_factory=queue.Queue)
    gate: _Gate = field(default_factory=_Gate)
    refresh_lock: threading.Lock = field(default_factory=threading.Lock)


class SandboxPool:
    """Runs candidates' tests in warm sandbox containers; thread-safe.

    `run` is what the loop calls for one candidate, `run_many` for several in parallel
    (at most `config.parallel` at a time), `arun` from asyncio code. Close the pool (or
    use it as a context manager) to remove its containers.
    """

    def __init__(
        self, config: SandboxConfig | None = None, *, on_prepare: Say | None = None
    ) -> None:
        self.config = config or SandboxConfig()
        # Told what preparing a project's environment is doing ("installing 14 packages").
        self.on_prepare = on_prepare
        self._client: docker.DockerClient | None = None
        self._warm: dict[tuple[Path, str], _Warm] = {}
        self._lock = threading.RLock()
        self._closed = False
        self._counter = 0
        _live_pools.add(self)

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- the API the loop calls -------------------------------------------------------

    def run(
        self,
        project_root: Path | str,
        changes: Mapping[str, str],
        command: str,
        *,
        timeout: float | None = None,
        probe: Probe | None = None,
        cancel: Cancellation | None = None,
        test_timeout: float | None = None,
        stop_at_hang: bool = False,
        shard: Shard | None = None,
    ) -> CandidateResult:
        """Run `command` on a copy of the project with `changes` (path → new text) applied.
        Once `cancel` is set the run stops at once, its result marked cancelled. `timeout`
        limits the whole run, `test_timeout` each pytest test (default: the config's);
        with `stop_at_hang` the first test past it ends the run; `shard` runs one shard
        of a pytest command's tests (see `run_sharded`).

        Raises CommandRefused for a dangerous command and SandboxError when Docker or the
        image is missing; everything that goes wrong while the tests run is in the result.
        """
        root = Path(project_root).resolve()
        if not root.is_dir():
            raise SandboxError(f"the project root is not a directory: {root}")
        # The image has node but no package manager: `npm test` runs the script itself.
        test_command = parse_command(package_script(root, command))
        changes = _relative_changes(root, changes)
        limit = timeout if timeout is not None else self.config.timeout_seconds
        if cancel is not None and cancel.cancelled:
            return CandidateResult((), None, 0.0, cancelled=True)
        # A container that died (the engine restarted, someone removed it) is replaced once.
        limits = _Limits(limit, test_timeout, stop_at_hang, shard)
        result = self._attempt(root, test_command, changes, limits, probe, cancel)
        if result is None and not (cancel is not None and cancel.cancelled):
            result = self._attempt(root, test_command, changes, limits, probe, cancel)
        lost = "the sandbox container stopped twice while running this candidate"
        return result or CandidateResult((), None, 0.0, infrastructure_error=lost)

    def run_many(
        self,
        project_root: Path | str,
        candidates: Sequence[Mapping[str, str]],
        command: str,
        *,
        timeout: float | None = None,
    ) -> list[CandidateResult]:
        """Several candidates in parallel, results in the order given."""
        from concurrent.futures import ThreadPoolExecutor  # imported here: ~10 ms

        parse_command(command)  # refuse before anything starts
        workers = max(1, min(self.config.parallel, len(candidates)))
        with ThreadPoolExecutor(max_workers=workers) as executor:
            futures = [
                executor.submit(self.run, project_root, changes, command, timeout=timeout)
                for changes in candidates
            ]
            return [future.result() for future in futures]

    def run_sharded(
        self,
        project_root: Path | str,
        changes: Mapping[str, str],
        command: str,
        *,
        timeout: float | None = None,
        cancel: Cancellation | None = None,
        test_timeout: float | None = None,
        stop_at_hang: bool = False,
    ) -> CandidateResult:
        """A pytest command's run split into `config.parallel` shards run side by side
        (each claims its next test when it is free, see _pytest_shard.py), as one result:
        a long run (the first one, the whole suite for a fix) costs its time divided by
        the slots, not its time. Each shard stops at its own `--maxfail` or hang. Other
        commands, or one slot, run as `run` does."""

        def one(shard: Shard | None) -> CandidateResult:
            return self.run(
                project_root, changes, command, timeout=timeout, cancel=cancel,
                test_timeout=test_timeout, stop_at_hang=stop_at_hang, shard=shard,
            )  # fmt: skip

        shards = self.config.parallel
        if shards < 2 or parse_command(command).kind is not CommandKind.PYTEST:
            return one(None)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=shards) as executor:
            claims = f"{SHARD_CLAIMS_DIR}/{uuid.uuid4().hex[:16]}"
            futures = [
                executor.submit(one, Shard(index, shards, claims)) for index in range(shards)
            ]
            return merge_shards([future.result() for future in futures])

    async def arun(
        self,
        project_root: Path | str,
        changes: Mapping[str, str],
        command: str,
        *,
        timeout: float | None = None,
        cancel: Cancellation | None = None,
    ) -> CandidateResult:
        import asyncio  # imported here: ~45 ms that importing the sandbox need not pay

        return await asyncio.to_thread(
            self.run, project_root, changes, command, timeout=timeout, cancel=cancel
        )

    def warm_up(self, project_root: Path | str, command: str | None = None) -> None:
        """Start the project's container now, so that the first candidate does not wait;
        with the test `command`, each free slot's agent too, side by side, having imported
        what that command's runs import first (pytest): a session starts its sandbox
        while it reads the project and builds its engine, and its first run starts at
        once."""
        warm = self._warm_container(Path(project_root).resolve())
        preimport = self._preimport(command) if command is not None else None
        if preimport is None:
            return
        free = _free_slots(warm, self.config.parallel)
        _side_by_side(self._start_agent, [(warm, slot, preimport) for slot in free])

    def prewarm(
        self,
        project_root: Path | str,
        command: str,
        *,
        test_timeout: float | None = None,
        stop_at_hang: bool = False,
        leave_free: int = 0,
        cancel: Cancellation | None = None,
    ) -> None:
        """Start the warm runner (_warm.py) of the free slots for a pytest `command`
        about to run for many candidates, with the limits they will run with: their first
        candidates then run warm, where a slot otherwise runs a command the ordinary way
        once and starts its warm runner the second time. Only the slots no run holds,
        leaving `leave_free` of them for a run about to start; returns once they are
        ready (or could not be: their runs then go the ordinary way)."""
        if not self.config.pytest_warm_runner or self._preimport(command) is None:
            return
        root = Path(project_root).resolve()
        warm = self._warm_container(root)
        free = _free_slots(warm, self.config.parallel - leave_free)
        limits = _Limits(self.config.timeout_seconds, test_timeout, stop_at_hang)
        test_command = parse_command(package_script(root, command))
        _side_by_side(
            self._prewarm_slot, [(warm, slot, test_command, limits, cancel) for slot in free]
        )

    def _prewarm_slot(
        self,
        warm: _Warm,
        slot: _Slot,
        command: TestCommand,
        limits: _Limits,
        cancel: Cancellation | None,
    ) -> None:
        """One slot's warm runner started (see `prewarm`), then the slot freed."""
        try:
            if cancel is not None and cancel.cancelled:
                return
            with warm.gate.shared():
                plan = plan_candidate(
                    command=command,
                    changes={},
                    config=warm.config or self.config,
                    project_root=warm.root,
                    base=warm.base,
                    slot=slot.index,
                    timeout=limits.run,
                    uses_hypothesis=warm.uses_hypothesis,
                    test_timeout=limits.test,
                    stop_at_hang=limits.stop_at_hang,
                    source_paths=warm.source_paths,
                    pytest_switches=warm.pytest_switches,
                    base_plugins=warm.base_plugins,
                )
                channel = self._agent(warm, slot, plan.request.get("preimport", []))
                channel.send_message({**plan.request, "prewarm": True})
                stopper = _Stopper(channel)
                try:
                    with cancel.watching(stopper.ask) if cancel else nullcontext():
                        channel.receive_message(GRACE_SECONDS)
                finally:
                    stopper.end()
        except Exception:  # the slot's next run starts its agent again and says what failed
            self._reset_slot(warm, slot)
        finally:
            warm.slots.put(slot)

    def _preimport(self, command: str) -> list[str] | None:
        """What a run of `command` has its slot's agent import; None: it starts no agent
        worth warming (not pytest, or a new interpreter each run)."""
        try:
            parsed = parse_command(command)
        except Exception:
            return None  # a refused command: its run says so
        forked = parsed.kind is CommandKind.PYTEST and self.config.pytest_forkserver
        return ["pytest"] if forked else None

    def _start_agent(self, warm: _Warm, slot: _Slot, preimport: list[str]) -> None:
        """Start a slot's agent, then free the slot (a failed start is left to the run,
        which starts it again and reports what went wrong)."""
        try:
            self._agent(warm, slot, preimport)
        except Exception:
            self._reset_slot(warm, slot)
        finally:
            warm.slots.put(slot)

    def close(self) -> None:
        """Remove every container of this pool; safe to call twice or with Docker gone."""
        with self._lock:
            self._closed = True
            warm_containers = list(self._warm.values())
            self._warm.clear()
        for warm in warm_containers:
            self._remove(warm)
        _live_pools.discard(self)

    def sweep_stale(self) -> int:
        """Remove containers that a crashed fixloop on this host left; their number."""
        client = self._connected()
        host = socket.gethostname()
        removed = 0
        # Sparse: no inspect per container, which fails for one another process removes
        # meanwhile (two editors, or CI, sweeping at once); the list carries the labels.
        for container in client.containers.list(all=True, sparse=True, filters={"label": LABEL}):
            labels = container.attrs.get("Labels") or {}
            if labels.get("fixloop.host") != host or _pid_alive(labels.get("fixloop.pid")):
                continue
            try:
                container.remove(force=True)
                removed += 1
            except Exception:
                continue
        return removed

    # --- containers -------------------------------------------------------------------

    def _connected(self) -> docker.DockerClient:
        with self._lock:
            if self._client is None:
                self._client = connect(self.config)
                self.sweep_stale()
            return self._client

    def _warm_container(self, root: Path) -> _Warm:
        if self._closed:
            raise SandboxError("the sandbox pool is closed")
        key = (root, self.config.image_ref)
        with self._lock:
            warm = self._warm.pop(key, None)
            if warm is None:
                warm = self._start(root)
            self._warm[key] = warm  # the most recently used last
            unused = self._least_recently_used()
        for old in unused:
            self._remove(old)
        self._refresh_if_changed(warm)
        return warm

    def _least_recently_used(self) -> list[_Warm]:
        """The idle containers past the PROJECTS_KEPT most recently used, taken out of the
        pool (under its lock): a long-lived pool that saw many projects (a server, a
        benchmark) would otherwise keep a container, and its warm sessions, for each."""
        unused: list[_Warm] = []
        for key in list(self._warm)[:-PROJECTS_KEPT]:
            warm = self._warm[key]
            if warm.slots.qsize() >= self.config.parallel:  # no run holds one of its slots
                unused.append(self._warm.pop(key))
        return unused

    def _start(self, root: Path) -> _Warm:
        import docker.errors

        try:
            return self._create(root)
        except docker.errors.DockerException:
            self._client = None  # the engine may have restarted: reconnect once
            return self._create(root)

    def _create(self, root: Path) -> _Warm:
        client = self._connected()
        require_image(client, self.config)
        environment = environment_for(client, self.config, root, self.on_prepare)
        container = client.containers.run(
            environment.image_ref,
            ["sleep", "infinity"],
            name=self._container_name(root),
            labels=self._labels(root),
            **self._isolation(client),
        )
        snapshot = project_files.snapshot(root, self.config.excludes, bytecode=True)
        warm = _Warm(container, root, snapshot.fingerprint, "", False, environment.source_paths)
        warm.node_modules = environment.node_modules
        warm.pytest_switches = environment.pytest_switches
        warm.base_plugins = environment.base_plugins
        if environment.autoload_plugins:  # the project's pytest plugins are there to load
            warm.config = replace(self.config, pytest_autoload_plugins=True)
        try:
            self._copy_project(warm, snapshot)
        except BaseException:
            self._remove(warm)
            raise
        uid_base = random.randrange(SLOT_UID_FIRST, SLOT_UID_LAST, 1000)
        for index in range(self.config.parallel):
            warm.slots.put(_Slot(index, uid_base + index))
        return warm

    def _isolation(self, client: docker.DockerClient) -> dict[str, Any]:
        """Every limit of the sandbox, as docker run options."""
        config = self.config
        cpus = min(config.cpus, float(client.info().get("NCPU") or config.cpus))
        tmpfs_options = "rw,exec,nosuid,nodev"
        return {
            "detach": True,
            "init": True,  # reaps the zombies that killed candidates leave
            "network_mode": "none",
            "mem_limit": config.memory,
            "memswap_limit": config.memory,  # no swap: a memory bomb ends, not crawls
            "nano_cpus": int(cpus * 1e9),
            "pids_limit": config.pids,
            "read_only": True,
            "tmpfs": {
                WORK_ROOT: f"{tmpfs_options},size={config.work_size},uid={OWNER_UID},"
                f"gid={OWNER_UID},mode=0755",
                "/tmp": f"{tmpfs_options},size=256m,mode=1777",
            },
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "user": f"{OWNER_UID}:{OWNER_UID}",
            "working_dir": WORK_ROOT,
        }

    def _labels(self, root: Path) -> dict[str, str]:
        return {
            LABEL: "1",
            "fixloop.host": socket.gethostname(),
            "fixloop.pid": str(os.getpid()),
            "fixloop.project": str(root),
        }

    def _container_name(self, root: Path) -> str:
        with self._lock:
            self._counter += 1
            counter = self._counter
        digest = hashlib.sha256(str(root).encode()).hexdigest()[:8]
        return f"fixloop-{digest}-{os.getpid()}-{counter}-{int(time.time())}"

    def _copy_project(self, warm: _Warm, snapshot: project_files.Snapshot) -> None:
        """Stream the project (and the agent) into a new base directory in the tmpfs."""
        warm.generation += 1
        base = f"base-{warm.generation}"
        extra = {
            AGENT_PATH.removeprefix(f"{WORK_ROOT}/"): _AGENT_SOURCE,
            NODE_REPORTER_PATH.removeprefix(f"{WORK_ROOT}/"): _node_reporter.SOURCE.encode(),
            f"{PLUGIN_DIR}/{TIMEOUT_PLUGIN}.py".removeprefix(f"{WORK_ROOT}/"): _TIMEOUT_SOURCE,
            f"{PLUGIN_DIR}/{SHARD_PLUGIN}.py".removeprefix(f"{WORK_ROOT}/"): _SHARD_SOURCE,
            f"{PLUGIN_DIR}/{SELECT_PLUGIN}.py".removeprefix(f"{WORK_ROOT}/"): _SELECT_SOURCE,
            WARM_PATH.removeprefix(f"{WORK_ROOT}/"): _WARM_SOURCE,
        }
        # A prepared image holds the node packages the project's copy lacks: linked in.
        links = {"node_modules": NODE_MODULES} if warm.node_modules else {}
        tar = project_files.archive(snapshot, base, extra, OWNER_UID, links)
        script = (
            f"mkdir -p -m 1777 {CANDIDATES_DIR} && mkdir -p -m 0777 {SHARD_CLAIMS_DIR} && "
            f"head -c {len(tar.data)} | tar -x -p --no-same-owner -C {WORK_ROOT} -f -"
        )
        if warm.base:
            script += f" && rm -rf {warm.base}"
        channel = ExecChannel(
            self._connected(), warm.container.id, ["sh", "-c", script], user=str(OWNER_UID)
        )
        try:
            channel.send(tar.data)
            channel.read_to_end(timeout=GRACE_SECONDS)
            code = channel.exit_code()
        finally:
            channel.close()
        if code != 0:
            stderr = channel.stderr.decode(errors="replace").strip()
            raise SandboxError(f"cannot copy the project into the sandbox: {stderr}")
        warm.base = f"{WORK_ROOT}/{base}"
        warm.uses_hypothesis = tar.uses_hypothesis
        warm.fingerprint = snapshot.fingerprint

    def _refresh_if_changed(self, warm: _Warm) -> None:
        """The user's files changed since the copy was made: copy them again."""
        with warm.refresh_lock:
            snapshot = project_files.snapshot(warm.root, self.config.excludes, bytecode=True)
            if snapshot.fingerprint == warm.fingerprint:
                return
            with warm.gate.exclusive():
                self._copy_project(warm, snapshot)

    def _container_alive(self, warm: _Warm) -> bool:
        try:
            warm.container.reload()
        except Exception:
            return False
        return bool(warm.container.status == "running")

    def _out_of_memory(self, warm: _Warm) -> bool:
        """Whether the container's memory limit made the kernel kill one of its processes."""
        try:
            _, output = warm.container.exec_run(["cat", *_OOM_FILES])
        except Exception:
            return False
        for line in output.decode(errors="replace").splitlines():
            name, _, count = line.partition(" ")
            if name == "oom_kill" and count.strip().isdigit() and int(count) > warm.oom_kills:
                warm.oom_kills = int(count)
                return True
        return False

    def _discard(self, warm: _Warm) -> None:
        with self._lock:
            for key, known in list(self._warm.items()):
                if known is warm:
                    del self._warm[key]
            self._client = None
        self._remove(warm)

    def _remove(self, warm: _Warm) -> None:
        while not warm.slots.empty():
            slot = warm.slots.get_nowait()
            if slot.channel:
                slot.channel.close()
        with suppress(Exception):
            warm.container.remove(force=True)

    # --- candidates -------------------------------------------------------------------

    def _attempt(
        self,
        root: Path,
        command: TestCommand,
        changes: Mapping[str, str],
        limits: _Limits,
        probe: Probe | None = None,
        cancel: Cancellation | None = None,
    ) -> CandidateResult | None:
        """The candidate's result, or None when its container is gone (now discarded)."""
        warm: _Warm | None = None
        try:
            warm = self._warm_container(root)
            return self._run_on(warm, command, changes, limits, probe, cancel)
        except ChannelClosed as error:
            if warm is not None and self._container_alive(warm):
                if self._out_of_memory(warm):  # the kernel killed the slot's agent
                    return CandidateResult((), None, 0.0, out_of_memory=True)
                return CandidateResult((), None, 0.0, infrastructure_error=str(error))
            if warm is not None:
                self._discard(warm)
            return None

    def _run_on(
        self,
        warm: _Warm,
        command: TestCommand,
        changes: Mapping[str, str],
        limits: _Limits,
        probe: Probe | None = None,
        cancel: Cancellation | None = None,
    ) -> CandidateResult:
        timeout = limits.run
        slot = self._take_slot(warm)
        try:
            if cancel is not None and cancel.cancelled:  # while it waited for a slot
                return CandidateResult((), None, 0.0, cancelled=True)
            with warm.gate.shared():
                plan = plan_candidate(
                    command=command,
                    changes=changes,
                    config=warm.config or self.config,
                    project_root=warm.root,
                    base=warm.base,
                    slot=slot.index,
                    timeout=timeout,
                    uses_hypothesis=warm.uses_hypothesis
                    or project_files.uses_hypothesis(dict(changes)),
                    probe=probe,
                    test_timeout=limits.test,
                    stop_at_hang=limits.stop_at_hang,
                    source_paths=warm.source_paths,
                    pytest_switches=warm.pytest_switches,
                    base_plugins=warm.base_plugins,
                    shard=limits.shard,
                )
                channel = self._agent(warm, slot, plan.request.get("preimport", []))
                channel.send_message(plan.request)
                stopper = _Stopper(channel)
                try:
                    with cancel.watching(stopper.ask) if cancel else nullcontext():
                        response = channel.receive_message(timeout + GRACE_SECONDS)
                finally:
                    stopper.end()  # before the slot is free: no stop reaches its next run
            # The kernel's count of memory kills so far: a later lost agent is blamed on
            # the memory limit only when the count has grown since.
            warm.oom_kills = max(warm.oom_kills, int(response.get("oom_count") or 0))
            return read_result(plan, response)
        except ChannelClosed:
            self._reset_slot(warm, slot)
            raise
        finally:
            warm.slots.put(slot)

    def _take_slot(self, warm: _Warm) -> _Slot:
        """A free slot; ChannelClosed once the pool is closed (close() takes the slots
        away, and a run waiting for one would otherwise wait forever)."""
        while True:
            try:
                return warm.slots.get(timeout=0.5)
            except queue.Empty:
                if self._closed:
                    raise ChannelClosed("the sandbox pool was closed") from None

    def _agent(self, warm: _Warm, slot: _Slot, preimport: list[str]) -> ExecChannel:
        """The slot's agent, started (and its imports warmed) on first use."""
        if slot.channel is None:
            channel = ExecChannel(
                self._connected(),
                warm.container.id,
                ["python3", "-B", AGENT_PATH],
                user=f"{slot.uid}:{slot.uid}",
                environment={"HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"},
            )
            channel.send_message({"ping": True, "preimport": preimport})
            channel.receive_message(GRACE_SECONDS)
            slot.channel = channel
        return slot.channel

    def _reset_slot(self, warm: _Warm, slot: _Slot) -> None:
        """Close a slot whose agent died or hung, killing whatever is left of its uid."""
        if slot.channel:
            slot.channel.close()
            slot.channel = None
        with suppress(Exception):  # the container is gone: nothing left to kill
            warm.container.exec_run(["kill", "-9", "-1"], user=f"{slot.uid}:{slot.uid}")


@dataclass(frozen=True)
class _Limits:
    run: float  # the whole command
    test: float | None  # each pytest test (None: the config's)
    stop_at_hang: bool = False  # end the run at the first test past its limit
    shard: Shard | None = None  # one of the shards of the tests


class _Stopper:
    """Asks a slot's agent to stop the candidate it runs, never after that run ended (the
    message would otherwise reach the slot's next candidate)."""

    def __init__(self, channel: ExecChannel) -> None:
        self._channel = channel
        self._lock = threading.Lock()
        self._ended = False

    def ask(self) -> None:
        # From a thread of its own: the canceller may be an event loop, which must not
        # wait on the sandbox's socket.
        threading.Thread(target=self._send, name="fixloop-stop", daemon=True).start()

    def end(self) -> None:
        with self._lock:
            self._ended = True

    def _send(self) -> None:
        with self._lock:
            if not self._ended:
                with suppress(ChannelClosed):
                    self._channel.send_message({"cancel": True})


def _relative_changes(root: Path, changes: Mapping[str, str]) -> dict[str, str]:
    """Changed files keyed by their posix path relative to the project root."""
    relative: dict[str, str] = {}
    for path, text in changes.items():
        candidate = Path(path)
        if candidate.is_absolute() and candidate.resolve().is_relative_to(root):
            candidate = candidate.resolve().relative_to(root)
        if candidate.is_absolute() or ".." in candidate.parts or not candidate.parts:
            raise SandboxError(f"a changed file must be inside the project: {path!r}")
        relative[candidate.as_posix()] = text
    return relative


def _pid_alive(pid: str | None) -> bool:
    try:
        os.kill(int(pid or ""), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _free_slots(warm: _Warm, count: int) -> list[_Slot]:
    """Up to `count` of the slots no run holds: never waits for one."""
    free: list[_Slot] = []
    with suppress(queue.Empty):
        while len(free) < count:
            free.append(warm.slots.get_nowait())
    return free


def _side_by_side(target: Callable[..., None], calls: list[tuple[Any, ...]]) -> None:
    """`target` called with each argument tuple on its own thread; returns when all end."""
    threads = [
        threading.Thread(target=target, args=args, name="fixloop-slot", daemon=True)
        for args in calls
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
