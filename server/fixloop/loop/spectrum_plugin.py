"""fixloop_spectrum: a pytest plugin recording, per test, the lines executed in project files.

Self-contained (stdlib + pytest only): the sandbox image has no `coverage`. fixloop
writes this file as `fixloop_spectrum.py` next to the tests' PYTHONPATH and runs

    FIXLOOP_SPECTRUM=/scratch/spectrum.json python -m pytest -p fixloop_spectrum ...

Environment:
- FIXLOOP_SPECTRUM: where to write the JSON (the plugin does nothing without it);
- FIXLOOP_SPECTRUM_ROOT: the project root (default: the working directory); only files
  under it are traced, test files and virtual environments excepted;
- FIXLOOP_SPECTRUM_FILES: comma-separated files relative to the root: only these traced.

Output: {"version": 1, "root": ROOT, "tests": [{"id": NODEID, "outcome":
"passed"|"failed"|"skipped", "lines": {"relative/path.py": [line, ...]}}]}
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Generator
from types import FrameType
from typing import Any

import pytest

try:  # a new-style wrapper, as pytest's own are (see the sandbox's fixloop_timeout)
    WRAPPER = pytest.hookimpl(wrapper=True)
except TypeError:  # pluggy before 1.1: the old style; the body suits both
    WRAPPER = pytest.hookimpl(hookwrapper=True)

_Tracer = Callable[[FrameType, str, Any], Any]


class _Recorder:
    """Traces only code in project files: the global tracer answers `call` events and
    returns a local tracer for project frames alone, so library code runs at full speed."""

    def __init__(self, root: str, files: str = "") -> None:
        self.root = os.path.realpath(root)
        # Only these files (relative to the root), when named: the rest runs untraced.
        self.only = {os.path.join(self.root, name) for name in files.split(",") if name}
        self.in_project: dict[str, bool] = {}
        self.lines: set[tuple[str, int]] = set()
        self.results: list[dict[str, Any]] = []
        self.outcomes: dict[str, str] = {}
        # Each traced file's path relative to the root, found once: a realpath per line a
        # test ran cost more than the tracing itself.
        self.relative: dict[str, str] = {}

    def wanted(self, filename: str) -> bool:
        known = self.in_project.get(filename)
        if known is None:
            real = os.path.realpath(filename)
            name = os.path.basename(real)
            parts = real.split(os.sep)
            known = (
                real.startswith(self.root + os.sep)
                and name.endswith(".py")
                and not name.startswith("test_")
                and not name.endswith("_test.py")
                and name != "conftest.py"
                and name != os.path.basename(__file__)
                and "site-packages" not in parts
                and not any(part.startswith(".venv") for part in parts)
                and (not self.only or real in self.only)
            )
            self.in_project[filename] = known
        return known

    def relative_path(self, filename: str) -> str:
        relative = self.relative.get(filename)
        if relative is None:
            relative = os.path.relpath(os.path.realpath(filename), self.root)
            relative = self.relative[filename] = relative.replace(os.sep, "/")
        return relative

    def global_trace(self, frame: FrameType, event: str, arg: Any) -> _Tracer | None:
        if event != "call" or not self.wanted(frame.f_code.co_filename):
            return None
        return self.local_trace

    def local_trace(self, frame: FrameType, event: str, arg: Any) -> _Tracer | None:
        if event == "line":
            self.lines.add((frame.f_code.co_filename, frame.f_lineno))
        return self.local_trace

    def finish_test(self, nodeid: str) -> None:
        by_file: dict[str, list[int]] = {}
        for filename, line in sorted(self.lines):
            by_file.setdefault(self.relative_path(filename), []).append(line)
        outcome = self.outcomes.pop(nodeid, "passed")
        self.results.append({"id": nodeid, "outcome": outcome, "lines": by_file})
        self.lines = set()


_recorder: _Recorder | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _recorder
    if os.environ.get("FIXLOOP_SPECTRUM"):
        _recorder = _Recorder(
            os.environ.get("FIXLOOP_SPECTRUM_ROOT") or os.getcwd(),
            os.environ.get("FIXLOOP_SPECTRUM_FILES", ""),
        )


@WRAPPER
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    recorder = _recorder
    if recorder is None:
        return (yield)
    previous = sys.gettrace()
    sys.settrace(recorder.global_trace)
    threading.settrace(recorder.global_trace)
    try:
        return (yield)
    finally:
        sys.settrace(previous)
        threading.settrace(previous)
        recorder.finish_test(item.nodeid)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # A failure in any phase fails the test; a skip counts only when nothing failed.
    if _recorder is None:
        return
    outcomes = _recorder.outcomes
    if report.failed:
        outcomes[report.nodeid] = "failed"
    elif report.skipped and outcomes.get(report.nodeid) != "failed":
        outcomes[report.nodeid] = "skipped"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _recorder is None:
        return
    path = os.environ["FIXLOOP_SPECTRUM"]
    data = {"version": 1, "root": _recorder.root, "tests": _recorder.results}
    with open(path, "w", encoding="utf-8") as out:
        json.dump(data, out)
