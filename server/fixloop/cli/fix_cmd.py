"""`fixloop fix TARGET --test "CMD"`: run the loop on a file, print (or apply) the verified
patch. Exit 0 when a fix was verified (or the tests already pass), 1 when none was found,
2 on a usage or environment error."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fixloop.cli import output
from fixloop.words import counted

if TYPE_CHECKING:
    from fixloop.config import Settings
    from fixloop.loop.engine import FixResult, FixSession, Progress
    from fixloop.loop.recall import SessionMemory
    from fixloop.sandbox import SandboxPool

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "fix", help="generate, test and reflect until the tests pass; print the patch"
    )
    parser.add_argument(
        "target",
        metavar="TARGET",
        help="the source file to repair (FILE or FILE:LINE); a test file (the code its failing "
        "tests run is repaired) or a folder (`.`: wherever the failing tests point); its "
        "project root is the nearest folder above it with a pyproject.toml, setup.py, "
        "package.json or .git",
    )
    parser.add_argument(
        "--test",
        metavar="CMD",
        help='the test command, e.g. "python -m pytest -q" (default: the settings\' '
        "test-command, else detected: pytest's configuration or test files, a package.json "
        "test script)",
    )
    parser.add_argument(
        "--engine",
        choices=("auto", "offline", "llm"),
        help="offline templates, the model, or the model when configured",
    )
    parser.add_argument(
        "--max-iterations", type=int, metavar="N", help="rounds of a model (default 5)"
    )
    parser.add_argument(
        "--candidates",
        type=int,
        metavar="N",
        help="candidates per round (default: 1 from a model, 8 per sandbox slot of templates)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="time limit of each test run (default: scaled to the suite's own time)",
    )
    parser.add_argument(
        "--wall-clock",
        type=float,
        metavar="SECONDS",
        help="time budget of the whole session (default 300); the templates go on "
        "while candidates remain and time allows",
    )
    parser.add_argument(
        "--apply",
        action="store_true",
        help="write the fix into the file (a backup is kept in .fixloop/)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    memory = parser.add_mutually_exclusive_group()
    memory.add_argument(
        "--memory",
        type=Path,
        metavar="PATH",
        help="the memory's folder (default: settings, else the data folder)",
    )
    memory.add_argument(
        "--no-memory", action="store_true", help="neither read nor write the memory of past fixes"
    )
    output.add_options(parser)
    # Once the result is printed, the records written and the sandbox removed, the
    # process ends without the interpreter's teardown (fixloop.cli.exit_at_once).
    parser.set_defaults(handler=run, exit_at_once=True)


def _say(message: str) -> None:
    _clear_progress()
    output.preparing(f"fixloop: {message}")


def _fail(message: str) -> int:
    print(f"fixloop fix: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from fixloop.config import load_settings
    from fixloop.project import find_project_root
    from fixloop.sandbox import CommandRefused, SandboxError, SandboxPool
    from fixloop.sandbox.config import unverifiable_source
    from fixloop.testcommand import detect_test_command

    name, line = _split_target(Path.cwd(), args.target)
    target = (Path.cwd() / name).resolve()
    if not target.exists():
        return _fail(f"no such file: {name}")
    if target.is_dir() and line is not None:
        return _fail(f"{name} is a folder: a line needs a FILE:LINE")
    root = find_project_root(target)
    if problem := _budget_problem(args):
        return _fail(problem)
    settings = load_settings(root)
    for problem in settings.problems:
        print(f"fixloop: {problem}", file=sys.stderr)
    command = args.test or detect_test_command(root, settings.tests.command)
    if command is None:
        return _fail(
            f'no test command for {root}: pass --test "CMD" or set `test-command` in [tool.fixloop]'
        )
    relative = target.relative_to(root).as_posix()
    if problem := unverifiable_source(relative, settings.sandbox):
        return _fail(problem)
    original: str | None = None  # a folder: the loop finds the files to edit in it
    if target.is_file():
        try:
            original = target.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            return _fail(f"{relative} is not UTF-8 text")
        if line is not None and not 1 <= line <= original.count("\n") + 1:
            return _fail(f"{relative} has no line {line}")
    try:
        with SandboxPool(settings.sandbox, on_prepare=_say) as pool:
            # First: the container starts while the engine is imported and built.
            _warm_up_soon(pool, root, command)
            fixed = _fix(args, settings, (root, relative, line), command, pool)
            if isinstance(fixed, int):
                return fixed
            result, written = fixed
        # The memory records were written while the container was removed.
        written()
    except CommandRefused as error:
        return _fail(str(error))
    except SandboxError as error:
        return _fail(str(error))
    if result.fixed and args.apply:
        return _apply(root, relative, original, result)
    if result.status.value == "environment-error":
        return 2
    if result.status.value == "cancelled":
        return 130  # as for any program stopped by Ctrl+C
    return 0 if result.fixed or result.status.value == "already-passing" else 1


def _fix(
    args: argparse.Namespace,
    settings: Settings,
    target: tuple[Path, str, int | None],
    command: str,
    pool: SandboxPool,
) -> int | tuple[FixResult, Callable[[], None]]:
    """Run the session on the target (root, file, line) and print its result; the
    result, and what waits for the memory records being written meanwhile (an exit code
    when the session cannot be built). The engine is imported here, once the sandbox is
    starting."""
    from fixloop.loop import build
    from fixloop.loop.engine import new_session_id
    from fixloop.loop.generators import GeneratorUnavailable
    from fixloop.sessions.log import SessionLog

    memory = _session_memory(args, settings)
    session_id = new_session_id()
    try:
        session = build.build_session(
            settings,
            build.Target(*target),
            command,
            pool,
            memory=memory,
            engine=args.engine,
            on_progress=_progress_printer(),
            on_event=SessionLog(session_id).event,
            session_id=session_id,
            budget_changes=_budget_flags(args),
            write_memory_later=True,
        )
    except GeneratorUnavailable as error:
        return _fail(str(error))
    result = _run_until_interrupted(session)
    _show(args, result)
    return result, _write_memory_meanwhile(session)


def _show(args: argparse.Namespace, result: FixResult) -> None:
    _clear_progress()
    if args.json:
        print(json.dumps(_as_json(result), indent=2))
    elif result.diff:
        print(output.diff_text(result.diff, sys.stdout), end="")
    output.info(
        f"fixloop: {result.message} · {counted(result.candidates_tried, 'candidate')}, "
        f"{counted(result.iterations, 'iteration')}, {result.duration:.1f} s · "
        f"session {result.session_id} (fixloop report {result.session_id})"
    )
    if result.why:
        output.info(f"fixloop: why this patch: {result.why}")
    for note in result.notes:
        output.info(f"fixloop: {note}")
    sys.stdout.flush()  # the result is out before the records are written


def _write_memory_meanwhile(session: FixSession) -> Callable[[], None]:
    """Write the session's memory records in a thread (the container is removed
    meanwhile); the returned call waits for them and says when they went to the spool.
    Not a daemon: the records are written before the process exits, whatever happens."""
    notes: list[str] = []

    def write() -> None:
        if (note := session.write_memory()) is not None:
            notes.append(note)

    thread = threading.Thread(target=write, name="fixloop-memory-write")
    thread.start()

    def written() -> None:
        thread.join()
        for note in notes:
            output.info(f"fixloop: {note}")

    return written


def _warm_up_soon(pool: SandboxPool, root: Path, command: str) -> None:
    """The sandbox starts (container, copy of the project, the slots' agents) while the
    session is built and the engine imported: the first run then starts at once. A
    failure here is the first run's to report."""

    def warm_up() -> None:
        try:
            pool.warm_up(root, command)
        except Exception as error:
            logger.debug("warming the sandbox up failed: %s", error)

    threading.Thread(target=warm_up, name="fixloop-warm-up", daemon=True).start()


def _budget_flags(args: argparse.Namespace) -> dict[str, object]:
    """The budget's fields the command line sets (they override the settings)."""
    flags = {
        "max_iterations": args.max_iterations,
        "candidates_per_iteration": args.candidates,
        "wall_clock_seconds": args.wall_clock,
        "test_timeout": args.timeout,
    }
    return {name: value for name, value in flags.items() if value is not None}


def _run_until_interrupted(session: FixSession) -> FixResult:
    """The session in a thread of its own, so that Ctrl+C cancels it (its test runs are
    killed in the sandbox, the session is logged as cancelled) instead of waiting for the
    candidates being tested."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="fixloop-session") as executor:
        running = executor.submit(session.run)
        try:
            return running.result()
        except KeyboardInterrupt:
            _clear_progress()
            print("fixloop: cancelling…", file=sys.stderr)
            session.cancel()
            return running.result()


def _split_target(root: Path, target: str) -> tuple[str, int | None]:
    """`file.py:42` → ("file.py", 42); a file whose own name ends in `:digits` stays whole."""
    name, _, number = target.rpartition(":")
    if name and number.isdigit() and not (root / target).exists():
        return name, int(number)
    return target, None


def _budget_problem(args: argparse.Namespace) -> str | None:
    if args.max_iterations is not None and args.max_iterations < 1:
        return "--max-iterations must be at least 1"
    if args.candidates is not None and args.candidates < 1:
        return "--candidates must be at least 1"
    for option, value in (("--timeout", args.timeout), ("--wall-clock", args.wall_clock)):
        if value is not None and value <= 0:
            return f"{option} must be a positive number of seconds"
    return None


def _session_memory(args: argparse.Namespace, settings: Settings) -> SessionMemory | None:
    """The memory of past fixes, as the settings and the options say (None: off)."""
    if args.no_memory or not settings.memory.enabled:
        return None
    from fixloop.memory.extra import memory_missing

    if (missing := memory_missing()) is not None:
        print(f"fixloop: {missing}", file=sys.stderr)
        return None
    from fixloop.loop.recall import SessionMemory
    from fixloop.memory.store import MemoryConfig, MemoryStore

    config = MemoryConfig.from_settings(settings.memory, settings.llm)
    if args.memory is not None:
        config = dataclasses.replace(config, path=args.memory.expanduser(), url=None)

    def say_once(reason: str) -> None:
        print(f"fixloop: memory unavailable, going on without it: {reason}", file=sys.stderr)

    return SessionMemory(MemoryStore(config, on_unavailable=say_once))


def _apply(root: Path, relative: str, original: str | None, result: FixResult) -> int:
    """Write the fix to the files it changes (the target, or those the loop found from a
    test file or in a folder), unless one changed while the loop ran; keep a backup of
    each."""
    originals = {**result.originals, **({relative: original} if original is not None else {})}
    for path in result.changes:
        if (root / path).read_text(encoding="utf-8") != originals.get(path):
            return _fail(f"{path} changed while the loop ran: not applied (run again)")
    backups = root / ".fixloop" / "backups" / time.strftime("%Y%m%d-%H%M%S")
    for path, text in result.changes.items():
        backup = backups / path
        backup.parent.mkdir(parents=True, exist_ok=True)
        backup.write_text(originals[path], encoding="utf-8")
        (root / path).write_text(text, encoding="utf-8")
    changed = ", ".join(sorted(result.changes))
    output.info(f"fixloop: applied to {changed} (backup: {backups.relative_to(root)})")
    return 0


def _as_json(result: FixResult) -> dict[str, Any]:
    from fixloop.loop.engine import tally_of

    candidate = result.candidate
    return {
        "verified": result.fixed,
        "status": result.status.value,
        "message": result.message,
        "patch": result.diff,
        "files": sorted(result.changes),
        "candidates_tried": result.candidates_tried,
        "iterations": result.iterations,
        "duration_s": round(result.duration, 3),
        "engine": result.engine,
        "session_id": result.session_id,
        # The final run of the whole suite when verified, else the run as it was.
        "tests": tally_of(result.final or result.baseline),
        "tests_before": tally_of(result.baseline),
        "tokens": result.tokens,
        "cost": round(result.cost, 6),
        "generator": candidate.generator if candidate else None,
        "template": candidate.template if candidate else None,
        "description": candidate.description if candidate else None,
        "notes": list(result.notes),
        # Why this patch and not the other candidates that passed ("" when not fixed).
        "why": result.why,
    }


def _progress_printer() -> Any:
    interactive = sys.stderr.isatty() and not output.quiet()

    def show(progress: Progress) -> None:
        if interactive:
            print(f"\r\033[K{progress.line()}", end="", file=sys.stderr, flush=True)

    return show


def _clear_progress() -> None:
    if sys.stderr.isatty() and not output.quiet():
        print("\r\033[K", end="", file=sys.stderr, flush=True)
