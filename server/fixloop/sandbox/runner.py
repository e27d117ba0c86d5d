"""One candidate: the request the in-container agent runs, and the result read back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from fixloop.sandbox.commands import CommandKind, TestCommand, by_file
from fixloop.sandbox.config import SandboxConfig
from fixloop.sandbox.results import (
    CandidateResult,
    CaseResult,
    Output,
    PathMap,
    Probe,
    parse_junit,
    parse_node_events,
)

WORK_ROOT = "/work"
AGENT_PATH = f"{WORK_ROOT}/.fixloop/agent.py"
NODE_REPORTER_PATH = f"{WORK_ROOT}/.fixloop/node-reporter.mjs"
# Importable by every pytest run: the per-test time limit (fixloop_timeout).
PLUGIN_DIR = f"{WORK_ROOT}/.fixloop/plugins"
TIMEOUT_PLUGIN = "fixloop_timeout"
SELECT_PLUGIN = "fixloop_select"  # the named tests that exist (see _pytest_select.py)
SELECT_OPTION = "--fixloop-select"
SHARD_PLUGIN = "fixloop_shard"  # one shard of the collected tests (FIXLOOP_SHARD=i/n)
# Where the shards of one run claim their tests, a folder per run (see _pytest_shard.py):
# writable by every slot's uid, and not sticky, so that the last shard can remove it.
SHARD_CLAIMS_DIR = f"{WORK_ROOT}/shards"
WARM_PATH = f"{WORK_ROOT}/.fixloop/_fixloop_warm.py"  # imported by the agent's warm runner
CANDIDATES_DIR = f"{WORK_ROOT}/c"
# Candidates of slot i run as uid base + i (see _agent.py). Each container draws its own
# base: RLIMIT_NPROC counts per uid across the host, so two pools must not share uids.
SLOT_UID_FIRST, SLOT_UID_LAST = 20000, 60000
# Where a prepared environment installs the project's packages (see prepare.py); first on
# the PATH of every run, so that `python3` and the packages' tools are the project's.
ENV_PREFIX = "/opt/fixloop-env"
NODE_MODULES = "/opt/fixloop-node/node_modules"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PATH = f"{ENV_PREFIX}/bin:{NODE_MODULES}/.bin:{SYSTEM_PATH}"
HYPOTHESIS_PLUGIN = "hypothesis.extra.pytestplugin"


@dataclass(frozen=True)
class Shard:
    """The `index`-th of `count` runs that make one pytest run together, which claim
    their tests in the folder `claims` as they go (none: each keeps whole files)."""

    index: int
    count: int
    claims: str | None = None


@dataclass(frozen=True)
class Plan:
    """What to send to a slot's agent for one candidate, and how to read the answer."""

    request: dict[str, Any]
    paths: PathMap
    kind: CommandKind


def plan_candidate(
    *,
    command: TestCommand,
    changes: Mapping[str, str],
    config: SandboxConfig,
    project_root: Path,
    base: str,
    slot: int,
    timeout: float,
    uses_hypothesis: bool,
    probe: Probe | None = None,
    test_timeout: float | None = None,
    source_paths: tuple[str, ...] = (),
    stop_at_hang: bool = False,
    shard: Shard | None = None,
    pytest_switches: tuple[str, ...] = (),
    base_plugins: tuple[tuple[str, str], ...] = (),
) -> Plan:
    """The request for one run. `test_timeout` limits each pytest test (a test past it
    fails as a timeout; with `stop_at_hang` the run ends there); `source_paths` are the
    project's folders its code is imported from (e.g. `src`), ahead of anything
    installed; `shard` runs one shard of a pytest run's tests;
    `pytest_switches` turn off the environment's plugins that cost time, not verdicts
    (coverage: see prepare.py), when pytest loads them; `base_plugins` (distribution,
    entry point) are the sandbox's own plugins that the project does not install, which
    the user's pytest never loads."""
    workdir = f"{CANDIDATES_DIR}/{slot}"
    scratch = f"/tmp/fixloop-{slot}"
    report = f"{scratch}/report"
    request: dict[str, Any] = {
        "base": base,
        "workdir": workdir,
        "scratch": scratch,
        "files": dict(changes),
        "env": _environment(command, config, scratch),
        "timeout": timeout,
        "nproc": config.candidate_pids,
        "output_cap": config.output_cap_bytes,
        "report": report if command.kind != CommandKind.OTHER else None,
        "pythonpath": [f"{workdir}/{path}" for path in source_paths],
    }
    if command.kind == CommandKind.PYTEST:
        args = _pytest_args(command, config, report, uses_hypothesis)
        if config.pytest_autoload_plugins:
            args += pytest_switches
            args += _foreign_plugins_off(base_plugins, uses_hypothesis)
        request["pythonpath"].append(PLUGIN_DIR)
        args += ["-p", TIMEOUT_PLUGIN]
        if shard is not None:
            args += ["-p", SHARD_PLUGIN]
            request["env"]["FIXLOOP_SHARD"] = f"{shard.index}/{shard.count}"
            if shard.claims:
                request["env"]["FIXLOOP_SHARD_CLAIMS"] = shard.claims
        limit = test_timeout if test_timeout is not None else config.test_timeout_seconds
        if limit:
            request["env"]["FIXLOOP_TEST_TIMEOUT"] = f"{limit:g}"
            if stop_at_hang:  # one hanging test says enough of this run
                request["env"]["FIXLOOP_STOP_AT_HANG"] = "1"
        if probe is not None:
            _add_probe(request, args, probe, workdir, scratch)
        if config.pytest_forkserver and not _sets_interpreter_variables(command):
            request["pytest_args"] = args
            # hypothesis itself is the slow import; its plugin module is left to pytest,
            # which rewrites the asserts of plugins it imports (a warning otherwise).
            # Not with plugin auto-loading: pytest then marks the plugins' whole
            # distributions for assertion rewriting, and hypothesis imported already
            # warns (an error under the projects' `filterwarnings = error`).
            warm_hypothesis = uses_hypothesis and not config.pytest_autoload_plugins
            request["preimport"] = ["pytest", *(["hypothesis"] if warm_hypothesis else [])]
            # A repeated command may run in a warm session of its own (_warm.py); not a
            # shard of a long run (the first one, the whole suite for a fix): it runs once
            # or twice a session, its W would cost more than it saves, and would end the
            # slot's W of the candidates' tests.
            request["warm"] = config.pytest_warm_runner and probe is None and shard is None
        else:
            request["argv"] = ["python3", "-m", "pytest", *args]
    if command.kind == CommandKind.NODE:
        request["argv"] = _node_argv(command, report)
    elif command.kind == CommandKind.OTHER:
        request["argv"] = list(command.argv)
    # A new interpreter reads the variable: the command's own, or one a test starts
    # (`sys.executable -m pkg`) from a pytest forked in the agent, which has the paths in
    # sys.path alone.
    if request["pythonpath"]:
        given = request["env"].get("PYTHONPATH")
        request["env"]["PYTHONPATH"] = ":".join([*request["pythonpath"], *filter(None, [given])])
    return Plan(request, PathMap(workdir, project_root), command.kind)


def _foreign_plugins_off(
    base_plugins: tuple[tuple[str, str], ...], uses_hypothesis: bool
) -> list[str]:
    """`-p no:NAME` for each plugin of the sandbox's base image, but hypothesis' when the
    tests import it (the user's environment then has it, and pytest loads its plugin)."""
    return [
        switch
        for distribution, entry_point in base_plugins
        if not (distribution == "hypothesis" and uses_hypothesis)
        for switch in ("-p", f"no:{entry_point}")
    ]


def _add_probe(
    request: dict[str, Any], args: list[str], probe: Probe, workdir: str, scratch: str
) -> None:
    output = f"{scratch}/probe"
    request["files"] = {**probe.files, **request["files"]}
    request["env"].update(probe.env)
    request["env"][probe.output_env] = output
    if probe.root_env:
        request["env"][probe.root_env] = workdir
    request["artifact"] = output
    for plugin in probe.pytest_plugins:
        args += ["-p", plugin]


def _sets_interpreter_variables(command: TestCommand) -> bool:
    """PYTHONPATH, PYTHONHASHSEED, ... act when an interpreter starts: a forked one is too late."""
    return any(name.startswith("PYTHON") for name, _ in command.env)


def _environment(command: TestCommand, config: SandboxConfig, scratch: str) -> dict[str, str]:
    env = {
        "PATH": PATH,
        "HOME": scratch,
        "TMPDIR": scratch,
        "LANG": "C.UTF-8",
        # W and its candidates write no bytecode: its copy outlives a candidate, and a
        # stale .pyc must never stand in for one (a fresh run writes: _agent.run_child).
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "CI": "1",
        # Otherwise fixed at import time to the importer's directory, which for a warm
        # agent is not the candidate's.
        "HYPOTHESIS_STORAGE_DIRECTORY": f"{scratch}/.hypothesis",
    }
    if command.kind == CommandKind.PYTEST and not config.pytest_autoload_plugins:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.update(dict(command.env))
    return env


def _pytest_args(
    command: TestCommand, config: SandboxConfig, report: str, uses_hypothesis: bool
) -> list[str]:
    given, ids = by_file(command.args) or (list(command.args), [])
    args = [*given, "-p", "no:cacheprovider", "-o", "junit_family=xunit1"]
    if ids:  # a node id the run does not collect would stop pytest before any test runs
        args += ["-p", SELECT_PLUGIN, *(f"{SELECT_OPTION}={test}" for test in ids)]
    args.append(f"--junitxml={report}")
    # A test module that cannot be imported here (a data folder of a git submodule not
    # checked out, an optional dependency) otherwise stops pytest before any test runs,
    # hiding the failures of the code under repair behind it.
    args.append("--continue-on-collection-errors")
    if uses_hypothesis and not config.pytest_autoload_plugins:
        args += ["-p", HYPOTHESIS_PLUGIN]  # what auto-loading would have done for it
    return args


def _node_argv(command: TestCommand, report: str) -> list[str]:
    # Test events to a file for the results, the readable spec reporter on stdout for people.
    reporters = [
        f"--test-reporter={NODE_REPORTER_PATH}",
        f"--test-reporter-destination={report}",
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
    ]
    return ["node", "--test", *reporters, *command.args]


def read_result(plan: Plan, response: Mapping[str, Any]) -> CandidateResult:
    if error := response.get("infrastructure_error"):
        return CandidateResult((), None, 0.0, infrastructure_error=str(error))
    raw_output = response.get("output") or {}
    user_paths = plan.paths.user_paths
    output = Output(
        head=user_paths(raw_output.get("head", "")),
        error_lines=tuple(user_paths(line) for line in raw_output.get("error_lines", ())),
        tail=user_paths(raw_output.get("tail", "")),
        total_bytes=int(raw_output.get("total_bytes", 0)),
    )
    cases: tuple[CaseResult, ...] = ()
    report_format = "exit-code"
    report = response.get("report")
    if report and not response.get("timed_out"):
        try:
            if plan.kind == CommandKind.PYTEST:
                cases, report_format = parse_junit(report, plan.paths), "junit"
            elif plan.kind == CommandKind.NODE:
                cases, report_format = parse_node_events(report, plan.paths), "node"
        except ParseError:
            pass  # a report cut short by a crash: the exit code still says what happened
    return CandidateResult(
        cases=cases,
        exit_code=response.get("exit_code"),
        duration=float(response.get("duration", 0.0)),
        output=output,
        timed_out=bool(response.get("timed_out")),
        cancelled=bool(response.get("cancelled")),
        out_of_memory=bool(response.get("out_of_memory")),
        report_format=report_format,
        probe_data=response.get("artifact"),
        runner=str(response.get("runner", "")),
        warm_fallback=str(response["warm_fallback"]) if response.get("warm_fallback") else None,
        cpu=float(str(response["cpu_seconds"])) if "cpu_seconds" in response else None,
    )
