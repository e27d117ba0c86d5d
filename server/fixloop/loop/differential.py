"""Telling plausible patches apart with generated inputs: the changed function is called
on sample inputs (the test generator's, testgen/inputs.py) in the sandbox, on the
original code and with each patch, and each patch is scored by how often it behaves like
the original where the patches behave differently. The bug is one line; the rest of the
behaviour was right, so the patch that changes least of it is the likelier fix.

One run in the sandbox for all the versions (no network, a short limit per call and for
the run, none once the session is cancelled or out of time): each patch's version of the
file is written beside it under a module name of its own, and a driver runs the test
generator's probe (testgen/probe.py) on the original and on each version in turn.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from fixloop.loop.naturalness import changed_lines
from fixloop.loop.ranking import Behaviour, Tried
from fixloop.sandbox.cancellation import Cancellation
from fixloop.sandbox.results import Tester
from fixloop.testgen import TestGenError, find_function
from fixloop.testgen.inputs import cases, param_samples
from fixloop.testgen.probe import (
    OUTPUT_ENV,
    Observation,
    probe_file,
    read_observation,
    the_probe,
)
from fixloop.testgen.target import FunctionTarget, side_effects
from fixloop.testgen.verify import pytest_command

# Per call of the function (a patch that loops forever costs this, per input), and for the
# one run of a comparison: the driver stops starting versions at three quarters of it.
CALL_SECONDS = 0.1
TOTAL_SECONDS = 2.0

# Runs the probe (testgen/probe.py, unchanged) of each version in turn, each writing where
# it is told, and gathers what they wrote: None for a version that did not finish.
_DRIVER = '''\
"""fixloop: a function called on sample inputs, as the original and each patch have it."""
import json, os, time

PROBES = {probes!r}


def test_fixloop_differential():
    real = os.environ[{env!r}]
    started = time.monotonic()
    found = []
    for index, text in enumerate(PROBES):
        if time.monotonic() - started > {budget!r}:
            found.append(None)
            continue
        path = f"{{real}}.{{index}}"
        os.environ[{env!r}] = path
        try:
            namespace = {{"__name__": f"fixloop_probe_{{index}}"}}
            exec(compile(text, f"<probe {{index}}>", "exec"), namespace)
            namespace["test_fixloop_probe"]()
            with open(path) as handle:
                found.append(json.load(handle))
        except Exception:
            found.append(None)
        finally:
            os.environ[{env!r}] = real
    with open(real, "w") as handle:
        json.dump(found, handle)
'''
# Functions compared at most (those the best contenders change).
MAX_FUNCTIONS = 2


@dataclass(frozen=True)
class Differential:
    """What the comparison needs of the session: its sandbox and its stop signals."""

    tester: Tester
    root: Path
    sources: Mapping[str, str]
    test_command: str
    cancel: Cancellation
    stopped: Callable[[], bool] = lambda: False  # cancelled, or out of time

    def compare(self, contenders: Sequence[Tried]) -> list[Behaviour | None] | None:
        """Each contender's behaviour on the inputs where the contenders differ (None for
        one not told apart); None when there is nothing to compare on."""
        targets = self._targets(contenders)
        if not targets or self.stopped():
            return None
        agrees = [0] * len(contenders)
        of = 0
        known = [False] * len(contenders)
        for original, patched in self._observe_all(targets, contenders) or []:
            for case, expected in enumerate(original):
                if expected is None:
                    continue  # the original's own outcome is not a fact (nondeterministic)
                seen = [p[case] if p is not None else None for p in patched]
                if len({s for s in seen if s is not None}) < 2:
                    continue  # the contenders do not differ here: no evidence
                of += 1
                for index, outcome in enumerate(seen):
                    if outcome is not None:
                        known[index] = True
                        agrees[index] += outcome == expected
        if not of:
            return None
        return [Behaviour(a, of) if k else None for a, k in zip(agrees, known, strict=True)]

    def _targets(self, contenders: Sequence[Tried]) -> list[FunctionTarget]:
        """The functions the contenders change (in their order), that can be called on
        made-up inputs: no side effects, the file as the session read it."""
        found: dict[tuple[str, str], FunctionTarget] = {}
        for item in contenders:
            for path, after in item.candidate.changes.items():
                before = self.sources.get(path)
                if before is None or not path.endswith(".py") or len(found) >= MAX_FUNCTIONS:
                    continue
                lines = changed_lines(before, after)
                if lines is None:
                    continue
                target = self._function_at(path, before, lines[0])
                if target is not None:
                    found.setdefault((target.relative_path, target.qualname), target)
        return list(found.values())

    def _function_at(self, path: str, before: str, lines: range) -> FunctionTarget | None:
        file = self.root / path
        try:
            if file.read_text(encoding="utf-8") != before:
                return None  # an unsaved buffer: the probe would not see the same code
            # The first changed line, or the line an insertion follows.
            target = find_function(self.root, file, line=max(1, lines.start - (not lines)))
        except (OSError, UnicodeDecodeError, TestGenError):
            return None
        return None if side_effects(target.node) else target

    def _observe_all(
        self, targets: Sequence[FunctionTarget], contenders: Sequence[Tried]
    ) -> list[tuple[list[str | None], list[list[str | None] | None]]] | None:
        """For each target: the original's outcome on each case, and each contender's
        (None: not observed). One sandbox run for all: each contender's version of the
        target's file is written beside it under a module name of its own, and a driver
        runs the test generator's probe on each version in turn."""
        plans = [(t, cases(param_samples(t))) for t in targets]
        plans = [(t, chosen) for t, chosen in plans if len(chosen) >= 2]
        if not plans:
            return None
        files: dict[str, str] = {}
        probes: list[str] = []
        renamed: dict[str, str] = {}  # a copy's module name → the original's
        for target, chosen in plans:
            folder = target.relative_path.rpartition("/")[0]
            for index, item in enumerate([None, *contenders]):
                module = target.module
                if item is not None:
                    stem = PurePosixPath(target.relative_path).stem
                    name = f"_fixloop_v{index}_{stem}"
                    text = item.candidate.changes.get(target.relative_path)
                    text = self.sources[target.relative_path] if text is None else text
                    files[f"{folder}/{name}.py" if folder else f"{name}.py"] = text
                    module = f"{target.module.rpartition('.')[0]}.{name}".lstrip(".")
                    renamed[module] = target.module
                copy = replace(target, module=module)
                probes.append(probe_file(copy, chosen, folder or ".", seconds=CALL_SECONDS)[1])
        folder = plans[0][0].relative_path.rpartition("/")[0] or "."
        driver_path, _ = probe_file(plans[0][0], plans[0][1], folder)
        driver = _DRIVER.format(probes=probes, env=OUTPUT_ENV, budget=TOTAL_SECONDS * 0.75)
        if self.stopped() or self.cancel.cancelled:
            return None
        result = self.tester.run(
            self.root,
            {**files, driver_path: driver},
            pytest_command(driver_path, self.test_command),
            timeout=TOTAL_SECONDS + 1.0,
            probe=the_probe(),
            cancel=self.cancel,
        )
        if not result.probe_data or result.cancelled:
            return None
        try:
            found = json.loads(result.probe_data)
        except ValueError:
            return None
        if not isinstance(found, list) or len(found) != len(probes):
            return None
        observed: list[list[str | None] | None] = []
        step = len(contenders) + 1
        for number, (_, chosen) in enumerate(plans):
            for raw in found[number * step : (number + 1) * step]:
                observed.append(
                    None if raw is None else outcomes(_observation(raw, chosen), renamed)
                )
        return [
            (original, observed[n * step + 1 : (n + 1) * step])
            for n in range(len(plans))
            if (original := observed[n * step]) is not None
        ]


def _observation(raw: object, chosen: list[tuple[str, ...]]) -> Observation:
    return read_observation(json.dumps(raw), chosen)


def outcomes(observation: Observation, renamed: Mapping[str, str]) -> list[str | None]:
    """Each case's outcome as a comparable key: the value returned (its repr, else its
    type), the exception's type (a copy's own exceptions under the original's module), or
    a timeout; None when it was not deterministic."""
    keys: list[str | None] = []
    for case in observation.cases:
        if case.outcome == "return":
            key = f"= {case.repr}" if case.repr is not None else f"= <{case.type}>"
        elif case.outcome == "raise":
            key = f"! {renamed.get(case.module, case.module)}.{case.type}"
        else:
            key = case.outcome
        keys.append(key if case.deterministic or case.outcome == "timeout" else None)
    return keys
