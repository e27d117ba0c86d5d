"""A test file is offered only if it runs: it is run in the sandbox alone, the tests that
fail on the current code are removed (with the reason), and what is left must pass."""

from __future__ import annotations

import ast
import shlex
from dataclasses import dataclass
from pathlib import Path

from fixloop.sandbox.commands import CommandKind, parse_command
from fixloop.sandbox.results import CandidateResult, Outcome, Tester, trim_text
from fixloop.testgen.errors import TestGenError


@dataclass(frozen=True)
class Dropped:
    test: str
    reason: str


@dataclass(frozen=True)
class Verified:
    content: str
    passed: tuple[str, ...]  # the names of the tests kept, all passing
    dropped: tuple[Dropped, ...]
    summary: str


def pytest_command(path: str, project_command: str | None) -> str:
    """pytest on that one file, with the project's `VAR=value` settings if it has any."""
    env: tuple[tuple[str, str], ...] = ()
    if project_command:
        try:
            parsed = parse_command(project_command)
        except Exception:  # a refused command: ours does not need it
            parsed = None
        if parsed is not None and parsed.kind == CommandKind.PYTEST:
            env = parsed.env
    prefix = "".join(f"{name}={shlex.quote(value)} " for name, value in env)
    return f"{prefix}python -m pytest -q {shlex.quote(path)}"


def verify(
    tester: Tester,
    root: Path,
    path: str,
    content: str,
    *,
    project_command: str | None = None,
    timeout: float | None = None,
) -> Verified:
    """Run the file; drop its failing tests and run again. Raises TestGenError when the
    file does not collect, or nothing passes."""
    command = pytest_command(path, project_command)
    result = tester.run(root, {path: content}, command, timeout=timeout)
    _check_ran(result, path)
    dropped = [
        Dropped(_test_name(case.test_id), case.message or case.outcome.value)
        for case in result.failures
    ]
    if dropped:
        content = remove_tests(content, {d.test for d in dropped})
        if not test_names(content):
            reasons = "; ".join(f"{d.test}: {d.reason}" for d in dropped[:3])
            raise TestGenError(
                f"none of the generated tests passes on the current code ({reasons})"
            )
        result = tester.run(root, {path: content}, command, timeout=timeout)
        _check_ran(result, path)
        if not result.passed:
            raise TestGenError(
                "the generated tests still fail after the failing ones were removed: "
                + trim_text(result.output.text, 1_500)
            )
    passed = tuple(_test_name(c.test_id) for c in result.cases if c.outcome == Outcome.PASSED)
    if not passed:
        raise TestGenError("the generated file has no test that runs and passes")
    return Verified(content, tuple(dict.fromkeys(passed)), tuple(dropped), result.summary())


def _check_ran(result: CandidateResult, path: str) -> None:
    if result.infrastructure_error:
        raise TestGenError(f"the sandbox could not run the tests: {result.infrastructure_error}")
    if result.timed_out:
        raise TestGenError(f"the generated tests timed out ({result.summary()})")
    collection = [c for c in result.cases if "::" not in c.test_id and c.outcome == Outcome.ERROR]
    if collection or not result.cases:
        detail = collection[0].message if collection else trim_text(result.output.text, 1_500)
        raise TestGenError(f"the generated file {path} does not run: {detail}")


def _test_name(test_id: str) -> str:
    """`tests/test_x.py::TestY::test_z[3]` → `test_z` (what the file defines)."""
    return test_id.rpartition("::")[2].partition("[")[0]


def test_names(content: str) -> list[str]:
    """The test functions a file defines (at module level and in test classes)."""
    try:
        tree = ast.parse(content)
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names.extend(
                item.name
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and item.name.startswith("test")
            )
    return names


def remove_tests(content: str, names: set[str]) -> str:
    """`content` without the test functions called `names` (decorators included); a test
    class left without tests goes too."""
    tree = ast.parse(content)
    spans: list[tuple[int, int]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names:
            spans.append(_span(node))
        elif isinstance(node, ast.ClassDef):
            doomed = [
                item
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name in names
            ]
            methods = [
                i for i in node.body if isinstance(i, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
            tests = [m for m in methods if m.name.startswith("test")]
            if doomed and len(doomed) == len(tests):
                spans.append(_span(node))
            else:
                spans.extend(_span(item) for item in doomed)
    lines = content.splitlines(keepends=True)
    for start, end in sorted(spans, reverse=True):
        del lines[start - 1 : end]
    return _tidy("".join(lines))


def _span(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> tuple[int, int]:
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return start, node.end_lineno or node.lineno


def _tidy(text: str) -> str:
    """No runs of more than two blank lines where tests were removed."""
    out: list[str] = []
    blank = 0
    for line in text.splitlines():
        blank = blank + 1 if not line.strip() else 0
        if blank <= 2:
            out.append(line)
    return "\n".join(out).rstrip("\n") + "\n"
