"""What a candidate's test run produced: from JUnit XML, node's test events, or the exit code."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from fixloop.sandbox.cancellation import Cancellation


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    XFAILED = "xfailed"  # an expected failure (pytest.mark.xfail): neither a pass nor a fault


@dataclass(frozen=True)
class Frame:
    """One traceback location; `path` is the user's file when `in_project`."""

    path: str
    line: int
    in_project: bool


@dataclass(frozen=True)
class CaseResult:
    """One test: its id (a pytest node id, or file::name for node), outcome and failure."""

    test_id: str
    outcome: Outcome
    message: str = ""
    frames: tuple[Frame, ...] = ()
    duration: float = 0.0
    # Its place in the collection when the run was one shard of several (else None):
    # how merge_shards orders the shards' tests. Not part of what the test's result is.
    order: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Output:
    """The test command's output, capped: its head, error lines from the middle, its tail."""

    head: str = ""
    error_lines: tuple[str, ...] = ()
    tail: str = ""
    total_bytes: int = 0

    @property
    def truncated(self) -> bool:
        return self.total_bytes > len(self.head.encode()) + len(self.tail.encode())

    @property
    def text(self) -> str:
        if not self.truncated:
            return self.head + self.tail
        omitted = self.total_bytes - len(self.head.encode()) - len(self.tail.encode())
        tail_lines = set(self.tail.splitlines())
        kept = [line for line in self.error_lines if line not in tail_lines]
        middle = "".join(f"{line}\n" for line in kept)
        return (
            f"{self.head}\n[... {omitted} bytes omitted, error lines kept ...]\n{middle}{self.tail}"
        )


@dataclass(frozen=True)
class Probe:
    """Something extra to learn from a pytest run (e.g. which lines each test executes):
    `files` are written into the candidate's copy, `pytest_plugins` loaded with `-p`, and
    the plugin writes its data to the path it finds in the environment variable
    `output_env` (the project copy's root is in `root_env`); the data comes back in
    `CandidateResult.probe_data`."""

    files: Mapping[str, str]
    pytest_plugins: tuple[str, ...]
    output_env: str
    root_env: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)  # more variables for the plugin


@dataclass(frozen=True)
class CandidateResult:
    """The verdict on one candidate; `passed` is what the loop ranks on first."""

    cases: tuple[CaseResult, ...]
    exit_code: int | None
    duration: float
    output: Output = field(default_factory=Output)
    timed_out: bool = False
    out_of_memory: bool = False
    infrastructure_error: str | None = None
    cancelled: bool = False  # stopped because nobody wanted the result any more
    report_format: str = "exit-code"  # "junit", "node" or "exit-code"
    # What a Probe wrote (e.g. the coverage spectrum), when one was asked for.
    probe_data: str | None = None
    # How pytest ran: "warm" (a fork of a session that had collected already), "fork"
    # (pytest.main in a fork of the agent), "exec" (a process of its own); "" otherwise.
    runner: str = ""
    # Why a run asked to be warm was not (the warm runner's reason), for the session log.
    warm_fallback: str | None = None
    # The CPU seconds the run cost in the container (the agent, and the warm session or
    # forked pytest it ran), when the sandbox measured them: unlike `duration`, the same
    # on a busy machine as on an idle one.
    cpu: float | None = None

    @property
    def passed(self) -> bool:
        return (
            self.infrastructure_error is None
            and not self.timed_out
            and not self.cancelled
            and not self.out_of_memory
            and self.exit_code == 0
            and not self.failures
        )

    @property
    def failures(self) -> tuple[CaseResult, ...]:
        bad = (Outcome.FAILED, Outcome.ERROR)
        return tuple(case for case in self.cases if case.outcome in bad)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for case in self.cases if case.outcome == outcome)

    def tally(self) -> dict[str, int]:
        """`{"passed": …, "failed": …}`, as the session log and `fix --json` report it."""
        return {"passed": self.count(Outcome.PASSED), "failed": len(self.failures)}

    def summary(self) -> str:
        if self.infrastructure_error:
            return f"sandbox error: {self.infrastructure_error}"
        if self.cancelled:
            return f"cancelled after {self.duration:.1f} s"
        if self.timed_out:
            return f"timed out after {self.duration:.1f} s"
        if self.out_of_memory:
            return "out of memory"
        if not self.cases:
            return f"exit code {self.exit_code}"
        counts = ", ".join(
            f"{self.count(outcome)} {outcome}" for outcome in Outcome if self.count(outcome)
        )
        return f"{counts} in {self.duration:.2f} s"


# pytest's exit code when some tests failed.
_TESTS_FAILED = 1


def with_outcomes_of(run: CandidateResult, again: CandidateResult) -> CandidateResult:
    """A run with the outcomes a second run of some of its tests gave them: a test that
    passed there passed. With no failure left, a run that only failed tests passed."""
    outcomes = {case.test_id: case for case in again.cases}
    cases = tuple(outcomes.get(case.test_id, case) for case in run.cases)
    cleared = not any(case.outcome in (Outcome.FAILED, Outcome.ERROR) for case in cases)
    exit_code = 0 if cleared and run.exit_code == _TESTS_FAILED else run.exit_code
    return replace(run, cases=cases, exit_code=exit_code)


# pytest's exit code when a run kept no test: a shard dealt no test file says nothing.
_NO_TESTS = 5


def merge_shards(shards: list[CandidateResult]) -> CandidateResult:
    """The shards of one pytest run (run side by side) as that run: every test, the worst
    exit code, the longest shard's time, and each shard's output in turn."""
    spoke = [r for r in shards if r.cases or r.exit_code != _NO_TESTS] or shards[:1]
    codes = [r.exit_code for r in spoke]
    exit_code = next((code for code in codes if code not in (0, None)), None)
    if exit_code is None:
        exit_code = None if None in codes else 0
    outputs = [r.output for r in spoke]
    # Every shard collects every module: one that cannot be collected errs in each.
    first: dict[str, CaseResult] = {}
    for case in (case for r in shards for case in r.cases):
        first.setdefault(case.test_id, case)
    # In collection order (a collection error, which has none, first, as pytest reports it).
    cases = sorted(first.values(), key=lambda case: -1 if case.order is None else case.order)
    return CandidateResult(
        cases=tuple(cases),
        exit_code=exit_code,
        duration=max((r.duration for r in shards), default=0.0),
        output=Output(
            head="".join(o.head for o in outputs),
            error_lines=tuple(line for o in outputs for line in o.error_lines),
            tail="".join(o.tail for o in outputs),
            total_bytes=sum(o.total_bytes for o in outputs),
        ),
        timed_out=any(r.timed_out for r in shards),
        out_of_memory=any(r.out_of_memory for r in shards),
        infrastructure_error=next(
            (r.infrastructure_error for r in shards if r.infrastructure_error), None
        ),
        cancelled=any(r.cancelled for r in shards),
        report_format=spoke[0].report_format if spoke else "exit-code",
        runner=spoke[0].runner if spoke else "",
    )


@dataclass(frozen=True)
class PathMap:
    """Maps paths seen inside the container back to the user's project."""

    workdir: str  # the candidate's copy inside the container
    project_root: Path
    cwd: str = ""  # the command's directory, relative to the project

    def frame(self, path: str, line: int) -> Frame:
        posix = PurePosixPath(path)
        if posix.is_absolute():
            try:
                relative = posix.relative_to(self.workdir)
            except ValueError:
                return Frame(path, line, in_project=False)
            return Frame(str(self.project_root / relative), line, in_project=True)
        local = self.project_root / self.cwd / path
        return Frame(str(local), line, in_project=local.exists())

    def user_paths(self, text: str) -> str:
        """`text` with the container's paths of the candidate's copy made the user's."""
        pattern = re.escape(self.workdir) + r"(?![\w.-])"  # not /work/c/1 inside /work/c/10
        return re.sub(pattern, lambda _: str(self.project_root), text)

    def relative(self, path: str) -> str:
        posix = PurePosixPath(path)
        if posix.is_absolute():
            try:
                return str(posix.relative_to(self.workdir))
            except ValueError:
                return path
        return str(PurePosixPath(self.cwd) / posix) if self.cwd else path


_PYTEST_LOCATION = re.compile(r"^(?P<path>[^\s:\"']+\.py):(?P<line>\d+): ", re.MULTILINE)
_NATIVE_LOCATION = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')
_JS_LOCATION = re.compile(r"(?P<path>/[^\s:()'\"]+\.(?:[cm]?js|ts)):(?P<line>\d+)(?::\d+)?")


def extract_frames(text: str, paths: PathMap) -> tuple[Frame, ...]:
    """Traceback locations in the order they appear, consecutive duplicates dropped."""
    found: list[tuple[int, str, int]] = []
    for pattern in (_PYTEST_LOCATION, _NATIVE_LOCATION, _JS_LOCATION):
        for match in pattern.finditer(text):
            found.append((match.start(), match["path"], int(match["line"])))
    frames: list[Frame] = []
    for _, path, line in sorted(found):
        frame = paths.frame(path, line)
        if not frames or frames[-1] != frame:
            frames.append(frame)
    return tuple(frames)


def parse_junit(xml_text: str, paths: PathMap) -> tuple[CaseResult, ...]:
    """pytest's JUnit XML (xunit1 family, which keeps each test's file) → results."""
    root = ElementTree.fromstring(xml_text)
    return tuple(_junit_case(case, paths) for case in root.iter("testcase"))


def _junit_case(case: ElementTree.Element, paths: PathMap) -> CaseResult:
    outcome, message, text = Outcome.PASSED, "", ""
    for tag, status in (("failure", Outcome.FAILED), ("error", Outcome.ERROR)):
        element = case.find(tag)
        if element is not None:
            outcome, message, text = status, element.get("message", ""), element.text or ""
            break
    else:
        skipped = case.find("skipped")
        if skipped is not None:
            outcome, message = _skipped_outcome(skipped), skipped.get("message", "")
    frames = extract_frames(text, paths) if text else ()
    if message == _COLLECTION_FAILURE:  # pytest's word for any module it cannot import
        message = paths.user_paths(_last_error_line(text)) or message
    return CaseResult(
        test_id=_junit_test_id(case, paths),
        outcome=outcome,
        message=message or _last_error_line(text),
        frames=frames,
        duration=float(case.get("time") or 0.0),
        order=_junit_order(case),
    )


# JUnit XML has no element for an expected failure: it is a `skipped` of this type.
_XFAIL_TYPE = "pytest.xfail"
_COLLECTION_FAILURE = "collection failure"


def _skipped_outcome(skipped: ElementTree.Element) -> Outcome:
    return Outcome.XFAILED if skipped.get("type") == _XFAIL_TYPE else Outcome.SKIPPED


_NODE_ID = "properties/property[@name='fixloop_nodeid']"  # _pytest_timeout.py writes it
_ORDER = "properties/property[@name='fixloop_order']"  # _pytest_shard.py writes it


def _junit_order(case: ElementTree.Element) -> int | None:
    element = case.find(_ORDER)
    try:
        return int(element.get("value", "")) if element is not None else None
    except ValueError:
        return None


def _junit_test_id(case: ElementTree.Element, paths: PathMap) -> str:
    node = case.find(_NODE_ID)
    if node is not None and (node_id := node.get("value")):
        path, _, rest = node_id.partition("::")
        return f"{paths.relative(path)}::{rest}" if rest else paths.relative(path)
    name, classname, file = case.get("name", ""), case.get("classname", ""), case.get("file")
    if not file:
        return f"{classname}::{name}" if classname else name
    module = file.removesuffix(".py").replace("/", ".")
    if not classname and name == module:  # a collection error: the whole file
        return paths.relative(file)
    inner = classname[len(module) + 1 :] if classname.startswith(module + ".") else ""
    parts = [paths.relative(file), *filter(None, inner.split(".")), name]
    return "::".join(parts)


def _last_error_line(text: str) -> str:
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return lines[-1] if lines else ""


def parse_node_events(report: str, paths: PathMap) -> tuple[CaseResult, ...]:
    """The JSON lines of fixloop's node --test reporter (_node_reporter.py) → results.

    A test's id is its file and its parents' names (`test/a.test.js::group > inner`),
    the same whatever its outcome; a file that failed outside any test is just the file
    (like pytest's collection errors). Frames are turned outermost first, as in a Python
    traceback: a JS stack lists the innermost first.
    """
    cases: list[CaseResult] = []
    for line in report.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line cut short when the run was killed
        file = paths.relative(str(event.get("file", "")))
        names = " > ".join(str(name) for name in event.get("names", []))
        stack = str(event.get("stack", ""))
        frames = tuple(reversed(extract_frames(stack, paths))) if stack else ()
        cases.append(
            CaseResult(
                test_id=f"{file}::{names}" if file and names else file or names,
                outcome=Outcome(event.get("outcome", "failed")),
                message=str(event.get("message", "")),
                frames=frames,
                duration=float(event.get("duration_ms", 0)) / 1000,
            )
        )
    return tuple(cases)


def trim_text(text: str, cap: int) -> str:
    """Head, error lines and tail of `text` in about `cap` characters (for prompts)."""
    if len(text) <= cap:
        return text
    head, tail = text[: cap // 2], text[-(cap // 4) :]
    middle = text[cap // 2 : -(cap // 4)]
    errors = [line for line in middle.splitlines() if _ERROR_LINE.search(line)]
    kept = "\n".join(errors)[: cap // 4]
    omitted = len(middle)
    return f"{head}\n[... {omitted} characters omitted, error lines kept ...]\n{kept}\n{tail}"


_ERROR_LINE = re.compile(r"error|exception|traceback|fail|assert", re.IGNORECASE)


class Tester(Protocol):
    """What the loop, the test diagnostics and test generation need of the sandbox
    (`fixloop.sandbox.SandboxPool`): run a command on the project with some files changed."""

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
    ) -> CandidateResult: ...


@runtime_checkable
class ShardingTester(Tester, Protocol):
    """A tester that can split a pytest run across its parallel slots (the sandbox pool):
    the whole suite for a fix runs in its time divided by the slots."""

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
    ) -> CandidateResult: ...


@runtime_checkable
class WarmingTester(Tester, Protocol):
    """A tester whose slots can get ready for a command about to run for many candidates
    (the sandbox pool's warm runner): their first candidates then cost what the others do."""

    def prewarm(
        self,
        project_root: Path | str,
        command: str,
        *,
        test_timeout: float | None = None,
        stop_at_hang: bool = False,
        leave_free: int = 0,
        cancel: Cancellation | None = None,
    ) -> None: ...
