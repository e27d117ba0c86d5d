"""Telling plausible patches apart with generated inputs: the changed function is called
on sample inputs (the test generator's, testgen/inputs.py) in the sandbox, on the
original code and with each patch, and each patch is scored by how often it behaves like
the original where the patches behave differently. The bug is one line; the rest of the
behaviour was right, so the patch that changes least of it is the likelier fix.

Runs only the probe (a small pytest file, testgen/probe.py) in the sandbox: no network,
a short per-call limit, a bounded run, none once the session is cancelled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from fixloop.loop.naturalness import hunk_lines
from fixloop.loop.ranking import Behaviour, Tried
from fixloop.sandbox.cancellation import Cancellation
from fixloop.sandbox.results import Tester
from fixloop.testgen import TestGenError, find_function
from fixloop.testgen.inputs import cases, param_samples
from fixloop.testgen.probe import Observation, probe_file, read_observation, the_probe
from fixloop.testgen.target import FunctionTarget, side_effects
from fixloop.testgen.verify import pytest_command

# Per call of the function (a patch that loops forever costs this, per input), and for all
# the runs of one comparison: a run starts only within it, and ends by its end.
CALL_SECONDS = 0.2
TOTAL_SECONDS = 2.0
_MIN_RUN_SECONDS = 0.5
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
    parallel: int = 2
    stopped: Callable[[], bool] = lambda: False  # cancelled, or out of time

    def compare(self, contenders: Sequence[Tried]) -> list[Behaviour | None] | None:
        """Each contender's behaviour on the inputs where the contenders differ (None for
        one not told apart); None when there is nothing to compare on."""
        targets = self._targets(contenders)
        if not targets or self.stopped():
            return None
        deadline = time.monotonic() + TOTAL_SECONDS
        agrees = [0] * len(contenders)
        of = 0
        known = [False] * len(contenders)
        for target in targets:
            runs = self._observe(target, contenders, deadline)
            if runs is None:
                continue
            original, patched = runs
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
                lines = hunk_lines(before, after)
                if lines is None:
                    continue
                target = self._function_at(path, before, lines[0])
                if target is not None:
                    found.setdefault((target.relative_path, target.qualname), target)
        return list(found.values())

    def _function_at(self, path: str, before: str, hunk: tuple[int, int]) -> FunctionTarget | None:
        file = self.root / path
        try:
            if file.read_text(encoding="utf-8") != before:
                return None  # an unsaved buffer: the probe would not see the same code
            first, last = hunk
            target = find_function(self.root, file, line=min(last, first + 1))
        except (OSError, UnicodeDecodeError, TestGenError):
            return None
        return None if side_effects(target.node) else target

    def _observe(
        self, target: FunctionTarget, contenders: Sequence[Tried], deadline: float
    ) -> tuple[list[str | None], list[list[str | None] | None]] | None:
        """The original's outcome on each case, and each contender's (None: no run)."""
        chosen = cases(param_samples(target))
        if len(chosen) < 2:
            return None
        folder = target.relative_path.rpartition("/")[0] or "."
        probe_path, probe_text = probe_file(target, chosen, folder, seconds=CALL_SECONDS)
        variants: list[Mapping[str, str]] = [{}, *(c.candidate.changes for c in contenders)]

        def run(changes: Mapping[str, str]) -> list[str | None] | None:
            left = deadline - time.monotonic()
            if self.stopped() or self.cancel.cancelled or left <= 0:
                return None
            result = self.tester.run(
                self.root,
                {**changes, probe_path: probe_text},
                pytest_command(probe_path, self.test_command),
                timeout=max(_MIN_RUN_SECONDS, left),
                probe=the_probe(),
                cancel=self.cancel,
            )
            if not result.probe_data or result.cancelled:
                return None
            try:
                return outcomes(read_observation(result.probe_data, chosen))
            except ValueError:
                return None

        with ThreadPoolExecutor(max_workers=max(1, self.parallel)) as pool:
            observed = list(pool.map(run, variants))
        if observed[0] is None:
            return None
        return observed[0], observed[1:]


def outcomes(observation: Observation) -> list[str | None]:
    """Each case's outcome as a comparable key: the value returned (its repr, else its
    type), the exception's type, or a timeout; None when it was not deterministic."""
    keys: list[str | None] = []
    for case in observation.cases:
        if case.outcome == "return":
            key = f"= {case.repr}" if case.repr is not None else f"= <{case.type}>"
        elif case.outcome == "raise":
            key = f"! {case.module}.{case.type}"
        else:
            key = case.outcome
        keys.append(key if case.deterministic or case.outcome == "timeout" else None)
    return keys
