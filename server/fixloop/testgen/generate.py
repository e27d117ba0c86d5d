"""Generate a verified pytest file for one function: offline (samples run in the sandbox,
results pinned, property tests where typed) or by a model; either way the file is run in
the sandbox and offered only with the tests that pass on the current code."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fixloop.sandbox.project import imports_hypothesis
from fixloop.sandbox.results import Tester, trim_text
from fixloop.testgen import probe as probing
from fixloop.testgen.errors import TestGenError
from fixloop.testgen.inputs import cases, param_samples
from fixloop.testgen.model import model_tests
from fixloop.testgen.placement import test_path
from fixloop.testgen.render import Renderer, is_property_test
from fixloop.testgen.target import FunctionTarget, find_function, side_effects
from fixloop.testgen.verify import Dropped, pytest_command, verify
from fixloop.words import counted

if TYPE_CHECKING:
    from fixloop.config import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GeneratedTests:
    """A test file that ran and passed in the sandbox, ready to be created at `path`."""

    __test__ = False  # not a pytest test class, despite the name

    path: Path  # absolute; no file is there yet
    relative: str  # from the project root
    content: str
    function: str
    tests: tuple[str, ...]  # the tests kept, all passing
    dropped: tuple[Dropped, ...]  # removed because they fail on the current code
    engine: str  # "offline" or "llm:<model>"
    summary: str  # of the last sandbox run
    notes: tuple[str, ...] = ()  # e.g. why the model's tests were not used

    @property
    def property_tests(self) -> int:
        """How many of the offline engine's property tests were kept."""
        if self.engine != "offline":
            return 0
        return sum(1 for name in self.tests if is_property_test(name))

    def message(self) -> str:
        """One line for the user: how many tests, where, what was left out."""
        extra = f" ({counted(self.property_tests, 'property test')})" if self.property_tests else ""
        dropped = (
            f"; {len(self.dropped)} dropped (they fail on the current code)" if self.dropped else ""
        )
        return (
            f"{counted(len(self.tests), 'test')} for {self.function}{extra} in {self.relative}, "
            f"passing in the sandbox ({self.engine}){dropped}"
        )


def generate_tests(
    root: Path,
    file: Path,
    tester: Tester,
    *,
    line: int | None = None,
    function: str | None = None,
    settings: Settings | None = None,
    engine: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> GeneratedTests:
    """Tests for the function at `line` (1-based) or called `function` of `file`.

    Raises TestGenError (the message says why) when no file can be offered, SandboxError
    when the sandbox cannot run, ModelUnavailable for `llm` when the model cannot answer.
    """
    from fixloop.config import load_settings

    if (line is None) == (function is None):
        raise ValueError("give either a line or a function name")
    root = root.resolve()
    settings = settings or load_settings(root)
    engine = engine or settings.engine
    step = on_step or (lambda _message: None)
    target = find_function(root, file, line=line, name=function)
    path = test_path(root, target.module, target.slug)
    relative = path.relative_to(root).as_posix()
    context = _Context(root, tester, relative, settings, step)
    notes: list[str] = []
    if engine in ("llm", "auto") and settings.llm.model:
        try:
            return _with_model(target, context, path)
        except TestGenError as error:
            if engine == "llm":
                raise
            notes.append(f"the model's tests were not used: {error}")
        except Exception as error:
            if engine == "llm" or not _is_model_error(error):
                raise
            notes.append(f"the model could not be used: {error}")
    elif engine == "llm":
        raise TestGenError(
            "--engine llm needs a model: set llm.model (and llm.base-url for a local endpoint)"
        )
    generated = _offline(target, context, path)
    return dataclasses.replace(generated, notes=tuple(notes))


@dataclass(frozen=True)
class _Context:
    root: Path
    tester: Tester
    relative: str
    settings: Settings
    step: Callable[[str], None]

    @property
    def timeout(self) -> float:
        return float(self.settings.sandbox.timeout_seconds)

    @property
    def folder(self) -> str:
        return self.relative.rpartition("/")[0] or "."


def _is_model_error(error: Exception) -> bool:
    from fixloop.loop.llm import ModelError

    return isinstance(error, ModelError)


def _with_model(target: FunctionTarget, context: _Context, path: Path) -> GeneratedTests:
    context.step(f"asking the model for tests of {target.qualname}")
    content, model = model_tests(target, context.settings.llm)
    context.step("running the model's tests in the sandbox")
    return _verified(target, context, path, content, f"llm:{model}")


def _offline(target: FunctionTarget, context: _Context, path: Path) -> GeneratedTests:
    effects = side_effects(target.node)
    if effects:
        raise TestGenError(
            f"{target.qualname} has side effects ({', '.join(effects)}): the offline engine pins "
            "only what a function returns, and calling this one on made-up inputs, in the "
            "tests too, would act on them. Use a model (engine llm) or write these by hand"
        )
    samples = param_samples(target)
    chosen = cases(samples)
    context.step(f"calling {target.qualname} on {len(chosen)} sample inputs in the sandbox")
    probe_path, probe_text = probing.probe_file(target, chosen, context.folder)
    result = context.tester.run(
        context.root,
        {probe_path: probe_text},
        pytest_command(probe_path, context.settings.tests.command),
        timeout=context.timeout,
        probe=probing.the_probe(),
    )
    if result.infrastructure_error:
        raise TestGenError(
            f"the sandbox could not run {target.qualname}: {result.infrastructure_error}"
        )
    if not result.probe_data:
        raise TestGenError(
            f"{target.qualname} could not be called in the sandbox (does {target.module} import "
            f"there?): {trim_text(result.output.text, 1_500)}"
        )
    observation = probing.read_observation(
        result.probe_data, chosen, project_imports_hypothesis=imports_hypothesis(context.root)
    )
    content = Renderer(target, samples, observation).render()
    if "def test_" not in content:
        raise TestGenError(
            f"no sample input gave {target.qualname} a result that can be pinned (plain values "
            "or exceptions): try the model engine"
        )
    context.step("running the generated tests in the sandbox")
    return _verified(target, context, path, content, "offline")


def _verified(
    target: FunctionTarget, context: _Context, path: Path, content: str, engine: str
) -> GeneratedTests:
    checked = verify(
        context.tester,
        context.root,
        context.relative,
        content,
        project_command=context.settings.tests.command,
        timeout=context.timeout,
    )
    return GeneratedTests(
        path=path,
        relative=context.relative,
        content=checked.content,
        function=target.qualname,
        tests=checked.passed,
        dropped=checked.dropped,
        engine=engine,
        summary=checked.summary,
    )
