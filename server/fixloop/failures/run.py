"""Running the tests related to some source files in the sandbox, and what they found."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from fixloop.failures.findings import Placement, TestFinding, findings_for
from fixloop.failures.related import Selection, select_tests
from fixloop.loop.localize import spectrum_probe
from fixloop.sandbox.cancellation import Cancellation
from fixloop.sandbox.commands import CommandKind, parse_command
from fixloop.sandbox.results import CandidateResult, Tester


@dataclass(frozen=True)
class TestRun:
    """One run: what ran, its result, and the findings of each source file asked about."""

    selection: Selection
    result: CandidateResult
    findings: Mapping[Path, tuple[TestFinding, ...]]

    @property
    def conclusive(self) -> bool:
        """False when the sandbox itself failed: the tests said nothing either way."""
        return self.result.infrastructure_error is None and not self.result.cancelled

    def summary(self) -> str:
        scope = "the whole suite" if self.selection.whole_suite else "related tests"
        return f"{self.result.summary()} ({scope})"


def run_tests(
    sandbox: Tester,
    root: Path,
    sources: Iterable[Path],
    command: str,
    *,
    timeout: float | None = None,
    also: Iterable[Path] = (),
    cancel: Cancellation | None = None,
) -> TestRun:
    """Run the tests related to `sources` on the project as saved on disk (blocking).
    Files in `also` get findings too when the run covered all their related tests.
    A cancelled run (`cancel`) comes back at once with no findings.

    Raises CommandRefused for a refused command and SandboxError when Docker or the
    image is missing.
    """
    root = root.resolve()
    sources = [source.resolve() for source in sources]
    selection = select_tests(root, sources, command)
    probe = spectrum_probe() if parse_command(command).kind is CommandKind.PYTEST else None
    result = sandbox.run(root, {}, selection.command, timeout=timeout, probe=probe, cancel=cancel)
    if result.cancelled:
        return TestRun(selection, result, {})
    findings = {source: tuple(findings_for(result, root, source, selection)) for source in sources}
    for other in also:
        other = other.resolve()
        if other not in findings and selection.speaks_for(root, other):
            found = findings_for(result, root, other, selection)
            findings[other] = tuple(f for f in found if f.placement is not Placement.RUN)
    return TestRun(selection, result, findings)
