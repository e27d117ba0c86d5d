"""The `fixloop` command: `lsp`, `check`, and the commands of later features."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from contextlib import suppress
from typing import NoReturn

from fixloop import __version__
from fixloop.cli import (
    check_cmd,
    fix_cmd,
    history_cmd,
    lsp_cmd,
    memory_cmd,
    output,
    rule_cmd,
    sandbox_cmd,
    tests_cmd,
    trust_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fixloop",
        description="A language server that fixes code by the loop: generate, test, reflect.",
    )
    parser.add_argument("--version", action="version", version=f"fixloop {__version__}")
    output.add_options(parser, top=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    lsp_cmd.add_parser(subparsers)
    check_cmd.add_parser(subparsers)
    rule_cmd.add_parser(subparsers)
    fix_cmd.add_parser(subparsers)
    sandbox_cmd.add_parser(subparsers)
    memory_cmd.add_parser(subparsers)
    history_cmd.add_parsers(subparsers)
    tests_cmd.add_parser(subparsers)
    trust_cmd.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    output.configure(args)
    try:
        code = int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `fixloop check … | head`
        sys.stderr.close()
        return 0
    if argv is None and getattr(args, "exit_at_once", False):
        exit_at_once(code)
    return code


def exit_at_once(code: int) -> NoReturn:
    """End the program without the interpreter's teardown, for a command that has written
    everything it writes (its result, session log, memory records) and removed its
    sandbox: what is left is freeing memory, and the embedded memory store's objects
    alone take half a second or more to tear down (more on a loaded machine)."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):  # a closed pipe: nothing more to say anyway
            stream.flush()
    os._exit(code)
