"""`fixloop tests generate FILE:LINE|FILE::FUNCTION`: pytest tests for one function,
verified in the sandbox; printed, or written with `--write`. Exit 0 when a file is
offered, 1 when none could be, 2 on a usage or environment error."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from fixloop.cli import output


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("tests", help="generate tests for a function")
    actions = parser.add_subparsers(dest="tests_command", metavar="ACTION", required=True)
    generate = actions.add_parser(
        "generate", help="pytest tests for one function, run in the sandbox before they are shown"
    )
    generate.add_argument(
        "target",
        metavar="FILE:LINE|FILE::FUNCTION",
        help="the function: a line in it, or its name (relative to the project root, the cwd)",
    )
    generate.add_argument(
        "--engine",
        choices=("auto", "offline", "llm"),
        help="offline (sample inputs, pinned results, property tests), the model, or the "
        "model when configured (default: the settings' engine)",
    )
    generate.add_argument(
        "--write", action="store_true", help="create the test file (never over an existing one)"
    )
    output.add_options(generate)
    generate.set_defaults(handler=run)


def parse_target(text: str) -> tuple[Path, int | None, str | None]:
    """`a.py:12` → (a.py, 12, None); `a.py::f` → (a.py, None, "f"); `a.py::C.f` too."""
    if "::" in text:
        file, _, name = text.partition("::")
        if not all(part.isidentifier() for part in name.split(".")):  # f or Class.f
            raise ValueError(f"{name!r} is not a function name")
        return Path(file), None, name
    file, _, line = text.rpartition(":")
    if not file or not line.isdigit() or int(line) < 1:
        raise ValueError("give FILE:LINE (a line from 1) or FILE::FUNCTION")
    return Path(file), int(line), None


def _fail(message: str, code: int = 2) -> int:
    print(f"fixloop tests generate: {message}", file=sys.stderr)
    return code


def _preparing(message: str) -> None:
    output.preparing(f"fixloop: {message}")


def run(args: argparse.Namespace) -> int:
    from fixloop.config import load_settings
    from fixloop.loop.llm import ModelError
    from fixloop.sandbox import SandboxError, SandboxPool
    from fixloop.testgen import TestGenError, generate_tests

    try:
        file, line, name = parse_target(args.target)
    except ValueError as error:
        return _fail(str(error))
    root = Path.cwd()
    if not (root / file).is_file():
        return _fail(f"no such file: {file}")
    settings = load_settings(root)
    if args.engine:
        settings = dataclasses.replace(settings, engine=args.engine)
    try:
        # Its first use in a project prepares the sandbox: a minute, said as it goes.
        with SandboxPool(settings.sandbox, on_prepare=_preparing) as pool:
            generated = generate_tests(
                root,
                root / file,
                pool,
                line=line,
                function=name,
                settings=settings,
                on_step=lambda step: output.info(f"… {step}"),
            )
    except TestGenError as error:
        return _fail(str(error), 1)
    except (SandboxError, ModelError) as error:
        return _fail(str(error))
    for note in generated.notes:
        output.info(f"note: {note}")
    for dropped in generated.dropped:
        output.info(f"dropped {dropped.test}: {dropped.reason}")
    if args.write:
        generated.path.parent.mkdir(parents=True, exist_ok=True)
        with generated.path.open("x", encoding="utf-8") as handle:  # never overwrite
            handle.write(generated.content)
        print(generated.message())
    else:
        sys.stdout.write(generated.content)
        output.info(f"# {generated.message()}")
    return 0
