"""`fixloop fix TARGET --test "CMD"`: run the loop on a file, print (or apply) the verified
patch. Exit 0 when a fix was verified (or the tests already pass), 1 when none was found,
2 on a usage or environment error."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fixloop.config import Settings
    from fixloop.loop.engine import FixResult, Progress
    from fixloop.memory.session import SessionMemory


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "fix", help="generate, test and reflect until the tests pass; print the patch"
    )
    parser.add_argument(
        "target",
        metavar="TARGET",
        type=Path,
        help="the source file to repair, relative to the project root (cwd)",
    )
    parser.add_argument(
        "--test", required=True, metavar="CMD", help='the test command, e.g. "python -m pytest -q"'
    )
    parser.add_argument(
        "--engine",
        choices=("auto", "offline", "llm"),
        help="offline templates, the model, or the model when configured",
    )
    parser.add_argument("--max-iterations", type=int, metavar="N")
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="wall-clock budget of the whole session (default 300)",
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
    parser.set_defaults(handler=run)


def _fail(message: str) -> int:
    print(f"fixloop fix: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from fixloop.config import load_settings
    from fixloop.loop.engine import Budget, FixSession
    from fixloop.loop.generators import GeneratorUnavailable, generators_for
    from fixloop.sandbox import CommandRefused, SandboxError, SandboxPool

    root = Path.cwd().resolve()
    target = (root / args.target).resolve()
    if not target.is_file():
        return _fail(f"no such file: {args.target}")
    if not target.is_relative_to(root):
        return _fail(f"{args.target} is outside the project root {root} (run from the root)")
    if args.max_iterations is not None and args.max_iterations < 1:
        return _fail("--max-iterations must be at least 1")
    settings = load_settings(root)
    for problem in settings.problems:
        print(f"fixloop: {problem}", file=sys.stderr)
    try:
        generators = generators_for(args.engine or settings.engine, settings)
    except GeneratorUnavailable as error:
        return _fail(str(error))
    budget = Budget(
        max_iterations=args.max_iterations or 5,
        wall_clock_seconds=args.timeout or 300.0,
        parallel=settings.sandbox.parallel,
    )
    memory = _session_memory(args, settings)
    relative = target.relative_to(root).as_posix()
    original = target.read_text(encoding="utf-8")
    try:
        with SandboxPool(settings.sandbox) as pool:
            session = FixSession(
                root,
                args.test,
                generators,
                pool,
                targets=[relative],
                budget=budget,
                on_progress=_progress_printer(),
                memory=memory,
            )
            result = session.run()
    except CommandRefused as error:
        return _fail(str(error))
    except SandboxError as error:
        return _fail(str(error))
    _clear_progress()
    if args.json:
        print(json.dumps(_as_json(result), indent=2))
    elif result.diff:
        print(result.diff, end="")
    print(
        f"fixloop: {result.message} · {result.candidates_tried} candidates, "
        f"{result.iterations} iterations, {result.duration:.1f} s",
        file=sys.stderr,
    )
    if result.fixed and args.apply:
        return _apply(root, relative, original, result)
    if result.status.value == "environment-error":
        return 2
    return 0 if result.fixed or result.status.value == "already-passing" else 1


def _session_memory(args: argparse.Namespace, settings: Settings) -> SessionMemory | None:
    """The memory of past fixes, as the settings and the options say (None: off)."""
    if args.no_memory or not settings.memory.enabled:
        return None
    from fixloop.memory.session import SessionMemory
    from fixloop.memory.store import MemoryConfig, MemoryStore

    config = MemoryConfig.from_settings(settings.memory, settings.llm)
    if args.memory is not None:
        config = dataclasses.replace(config, path=args.memory.expanduser(), url=None)

    def say_once(reason: str) -> None:
        print(f"fixloop: memory unavailable, going on without it: {reason}", file=sys.stderr)

    return SessionMemory(MemoryStore(config, on_unavailable=say_once))


def _apply(root: Path, relative: str, original: str, result: FixResult) -> int:
    """Write the fix, unless the file changed while the loop ran; keep a backup."""
    target = root / relative
    if target.read_text(encoding="utf-8") != original:
        return _fail(f"{relative} changed while the loop ran: not applied (run again)")
    backup = root / ".fixloop" / "backups" / time.strftime("%Y%m%d-%H%M%S") / relative
    backup.parent.mkdir(parents=True, exist_ok=True)
    backup.write_text(original, encoding="utf-8")
    for path, text in result.changes.items():
        (root / path).write_text(text, encoding="utf-8")
    print(f"fixloop: applied to {relative} (backup: {backup.relative_to(root)})", file=sys.stderr)
    return 0


def _as_json(result: FixResult) -> dict[str, Any]:
    candidate = result.candidate
    return {
        "status": result.status.value,
        "message": result.message,
        "diff": result.diff,
        "files": sorted(result.changes),
        "generator": candidate.generator if candidate else None,
        "template": candidate.template if candidate else None,
        "description": candidate.description if candidate else None,
        "iterations": result.iterations,
        "candidates_tried": result.candidates_tried,
        "duration_seconds": round(result.duration, 3),
        "tests": result.final.summary() if result.final else None,
        "baseline": result.baseline.summary() if result.baseline else None,
    }


def _progress_printer() -> Any:
    interactive = sys.stderr.isatty()

    def show(progress: Progress) -> None:
        if interactive:
            print(f"\r\033[K{progress.line()}", end="", file=sys.stderr, flush=True)

    return show


def _clear_progress() -> None:
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)
