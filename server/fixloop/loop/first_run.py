"""What the first run of the tests says: whether there is anything to fix here, which
sources to edit, and where in them to look.

Shared by the fix session (engine.py) and the check of a remembered fix (reuse.py): both
start from the same first run (verify.py) and must agree on what it means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from fixloop.loop.localize import (
    import_time_lines,
    locations_from_frames,
    merge_locations,
    ochiai,
    read_spectrum,
)
from fixloop.loop.model import Failure, Location, RepairContext
from fixloop.loop.patches import is_test_file
from fixloop.loop.verify import Verifier, hang_message, spectrum_runs, timed_out
from fixloop.sandbox.results import CandidateResult, CaseResult, Outcome

# When nothing names the sources: the files of the lines the failing tests run that rank
# this high by Ochiai, at most this many files (the lines' own ranks order the search).
SPECTRUM_LINES = 100
SPECTRUM_FILES = 10
# The share of its Ochiai score a line run at import keeps (see `_locations`).
IMPORT_TIME_SHARE = 0.25
# Error messages that mean the tests cannot run here, whatever the code says.
_ENVIRONMENTAL = (  # most telling first: the reason shown is the first one found
    "No module named",
    "ModuleNotFoundError",
    "fixture '",
    "command not found",
    "No such file or directory",
    "ImportError while importing",
)


class Status(StrEnum):
    FIXED = "fixed"
    ALREADY_PASSING = "already-passing"
    NOT_FOUND = "not-found"
    ENVIRONMENT = "environment-error"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Verdict:
    """Why a session ends on its first run: there is nothing a patch could fix."""

    status: Status
    message: str


def verdict_on_baseline(baseline: CandidateResult, verifier: Verifier) -> Verdict | None:
    """None when the first run shows failing tests a patch may fix; else why not."""
    if baseline.infrastructure_error:
        return Verdict(
            Status.ENVIRONMENT, f"the tests could not run: {baseline.infrastructure_error}"
        )
    if baseline.passed:
        which = "the tests it ran" if verifier.narrowed_baseline() else "the tests"
        return Verdict(Status.ALREADY_PASSING, f"{which} already pass: nothing to fix")
    if baseline.timed_out:
        return Verdict(Status.ENVIRONMENT, "the tests time out as they are")
    if baseline.exit_code == 127 or (verifier.is_pytest() and not baseline.cases):
        # The command did not get as far as running a test: no failure to fix.
        return Verdict(
            Status.ENVIRONMENT,
            f"the test command ran no test (exit code {baseline.exit_code}): "
            f"{first_error(baseline.output.text)}",
        )
    if baseline.out_of_memory:
        memory_limit = getattr(getattr(verifier.tester, "config", None), "memory", "its limit")
        return Verdict(
            Status.ENVIRONMENT,
            f"the tests run out of memory in the sandbox (sandbox.memory = {memory_limit}): "
            "raise it in your settings",
        )
    failures = baseline.failures
    if not failures and baseline.cases:
        return Verdict(
            Status.ENVIRONMENT, f"the test command failed ({baseline.summary()}) but no test did"
        )
    reasons = [_environmental_reason(f, baseline.output.text) for f in failures]
    if failures and all(reasons):
        return Verdict(
            Status.ENVIRONMENT,
            f"the tests fail for a reason in the environment, not the code: {reasons[0]}",
        )
    return None


def _environmental_reason(failure: CaseResult, output: str) -> str | None:
    """The line saying a test cannot run here (a missing module, fixture, program), if
    that is why it fails. A collection error's reason is in the output, not its message."""
    texts = [failure.message]
    if _uncollected(failure):
        texts.append(output)
    for text in texts:  # its own message first: the output may be another test's
        lines = text.splitlines()
        for marker in _ENVIRONMENTAL:
            for line in lines:
                if marker in line:
                    return line.strip().removeprefix("E").strip()
    return None


def _uncollected(failure: CaseResult) -> bool:
    """Whether this is a test module pytest could not import (no test of it ran)."""
    return failure.outcome is Outcome.ERROR and "::" not in failure.test_id


def uncollectable(
    baseline: CandidateResult, sources: Mapping[str, str], verifier: Verifier
) -> dict[str, str]:
    """The test modules that cannot be imported here for a reason in the environment (a
    data folder of a submodule not checked out, an optional package not installed), each
    with that reason, when other tests fail for the code: those are what to fix, and
    these are left out (no edit of the code under repair brings the folder or package).
    Not one whose error passes through the sources: the code under repair raised it."""
    failures = baseline.failures
    found = {
        case.test_id: reason
        for case in failures
        if _uncollected(case)
        and not any(verifier.relative(frame.path) in sources for frame in case.frames)
        and (reason := _environmental_reason(case, baseline.output.text))
    }
    return found if len(found) < len(failures) else {}


def first_error(output: str) -> str:
    """The line of a run's output that says why it failed, else its last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if "rror" in line or "cannot" in line or "not found" in line:
            return line[:300]
    return lines[-1][:300] if lines else "no output"


def editable_sources(
    verifier: Verifier, targets: Sequence[str], baseline: CandidateResult
) -> dict[str, str]:
    """The sources a patch may change: the target files, else (a test file or a folder
    given, or nothing) the project files the failing tests' tracebacks pass through, in
    the target folders when given; never a test file."""
    folders = target_folders(verifier, targets)
    paths = [t for t in targets if t not in folders and not is_test_file(t)]
    if not paths:
        for failure in baseline.failures:
            for frame in failure.frames:
                relative = verifier.relative(frame.path)
                if relative and frame.in_project and relative not in paths:
                    paths.append(relative)
        paths = within(paths, folders)
    sources = {}
    for path in paths:
        file = verifier.project_root / path
        if is_test_file(path) or not file.is_file():
            continue
        sources[path] = file.read_text(encoding="utf-8")
    return sources


def sources_the_failures_run(
    verifier: Verifier, spectrum: str | None, folders: Sequence[str] = ()
) -> dict[str, str]:
    """The project sources the failing tests run (a spectrum traced in every project file
    but the tests) that hold their most suspicious lines by Ochiai, in `folders` when
    they run any there: where to look when no target and no traceback names one (a wrong
    value asserted in the test)."""
    ranked = [
        location
        for location in ochiai(spectrum_runs(spectrum, verifier.project_root))
        if not is_test_file(location.path)
    ]
    inside = set(within([location.path for location in ranked], folders))
    lines = [location for location in ranked if location.path in inside] or ranked
    paths = list(dict.fromkeys(location.path for location in lines[:SPECTRUM_LINES]))
    sources = {}
    for path in paths[:SPECTRUM_FILES]:
        file = verifier.project_root / path
        if file.is_file():
            sources[path] = file.read_text(encoding="utf-8")
    return sources


def target_folders(verifier: Verifier, targets: Sequence[str]) -> list[str]:
    """The targets that are folders (`fixloop fix .`): the fix is sought in them."""
    return [t for t in targets if (verifier.project_root / t).is_dir()]


def within(paths: list[str], folders: Sequence[str]) -> list[str]:
    """The paths inside one of `folders` (all of them when no folder is given)."""
    if not folders:
        return paths
    prefixes = ["" if f in (".", "") else f.rstrip("/") + "/" for f in folders]
    return [p for p in paths if any(p.startswith(prefix) for prefix in prefixes)]


def hang_outside(
    baseline: CandidateResult, sources: Mapping[str, str], verifier: Verifier
) -> str | None:
    """Why no edit of the sources can help, when every failing test hangs somewhere else:
    the stack where each was stuck never passes through the sources."""
    failures = baseline.failures
    if not failures or not all(timed_out(case) for case in failures):
        return None
    for case in failures:
        if any(verifier.relative(frame.path) in sources for frame in case.frames):
            return None
    return hang_message(verifier, failures[0], sources)


def repair_context(
    verifier: Verifier,
    baseline: CandidateResult,
    sources: dict[str, str],
    spectrum: str | None,
    *,
    focus: Location | None = None,
    use_localization: bool = True,
    template_prior: Mapping[str, float] | None = None,
) -> RepairContext:
    """What a generator (and memory) sees: the sources, the failures and the lines to
    suspect, most suspicious first."""
    failures = tuple(
        Failure(
            case.test_id,
            case.message,
            tuple(
                (rel, frame.line)
                for frame in case.frames
                if (rel := verifier.relative(frame.path)) is not None
            ),
        )
        for case in baseline.failures
    )
    # Without localization: every line, equally suspicious (to measure what it is worth).
    ranked = _locations(failures, sources, spectrum) if use_localization else _every_line(sources)
    return RepairContext(
        project_root=verifier.project_root,
        sources=sources,
        failures=failures,
        locations=tuple(_focused(ranked, sources, focus)),
        test_output=baseline.output.text,
        template_prior=dict(template_prior or {}),
    )


def _locations(
    failures: tuple[Failure, ...], sources: dict[str, str], spectrum_data: str | None
) -> list[Location]:
    """Frames first; the spectrum (Ochiai) adds the lines a traceback cannot show, such
    as a wrong value computed in one function and asserted in a test, and the lines the
    modules run when imported (a wrong constant), at a share of their score: an edit
    there needs a fresh interpreter per candidate, some fifteen warm ones' time."""
    frames = locations_from_frames(failures, sources)
    spectrum: list[Location] = []
    if spectrum_data:
        loaded = {p: import_time_lines(text) for p, text in sources.items() if p.endswith(".py")}
        try:
            runs = read_spectrum(spectrum_data)
        except (ValueError, KeyError):
            runs = []  # a spectrum cut short: the frames still say something
        at_import = {(path, line) for path, lines in loaded.items() for line in lines}
        spectrum = [
            replace(loc, score=loc.score * IMPORT_TIME_SHARE)
            if (loc.path, loc.line) in at_import
            else loc
            for loc in ochiai(runs, loaded)
            if loc.path in sources
        ]
    return merge_locations(frames, spectrum) if spectrum else frames


def _focused(
    ranked: list[Location], sources: dict[str, str], focus: Location | None
) -> list[Location]:
    """The line the user pointed at first, scored just above the rest (a finite score:
    later arithmetic on scores must stay meaningful)."""
    if focus is None or focus.path not in sources:
        return ranked
    top = max((loc.score for loc in ranked), default=0.0)
    rest = [loc for loc in ranked if (loc.path, loc.line) != (focus.path, focus.line)]
    return [replace(focus, score=top + 1.0), *rest]


def _every_line(sources: Mapping[str, str]) -> list[Location]:
    return [
        Location(path, number, 1.0)
        for path, text in sources.items()
        for number in range(1, text.count("\n") + 2)
    ]
