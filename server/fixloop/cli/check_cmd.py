"""`fixloop check PATH… [--format text|json|sarif] [--fail-on error|warning|none]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from fixloop.cli import output

if TYPE_CHECKING:
    from fixloop.check.runner import CheckedFile

FORMAT_NAMES = ("json", "sarif", "text")
FAIL_ON = ("error", "warning", "none")
EXIT_CODES = """exit codes:
  0  no finding at or above the --fail-on severity (or --fail-on none)
  1  at least one finding at or above the --fail-on severity
  2  a usage error: a bad option, or a path that does not exist"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="print diagnostics for files and folders (respects .gitignore)",
        description="Print the editor's syntax, safety and secret diagnostics for files and "
        "folders. Each file takes the settings of the nearest pyproject.toml with "
        "[tool.fixloop] or fixloop.toml above it.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument("--format", choices=FORMAT_NAMES, default="text")
    parser.add_argument("--output", "-o", type=Path, help="write the report to this file")
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="error",
        help="exit 1 when a finding of this severity or worse is reported (default: error; "
        "warning includes the safety and secret warnings; none always exits 0)",
    )
    output.add_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: the server's start-up (`fixloop lsp`) must not pay for the checker.
    from fixloop.check import check_paths
    from fixloop.check.formats import FORMATS, format_text
    from fixloop.check.runner import NearestSettings

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"fixloop check: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    said: set[str] = set()

    def report(problem: str) -> None:
        if problem not in said:
            said.add(problem)
            print(f"fixloop: {problem}", file=sys.stderr)

    files = check_paths(list(args.paths), NearestSettings(Path.cwd(), report))
    for checked in files:
        if checked.note:
            output.info(f"{checked.path}: {checked.note}")
    if args.format == "text":
        report_text = format_text(files, summary=not output.quiet())
    else:
        report_text = FORMATS[args.format](files)
    if args.output:
        args.output.write_text(report_text + "\n", encoding="utf-8")
    else:
        print(report_text)
    return 1 if failing(files, args.fail_on) else 0


def failing(files: list[CheckedFile], fail_on: str) -> bool:
    """Whether a finding reaches the `--fail-on` severity."""
    from fixloop.analysis.findings import Severity

    levels = {"error": {Severity.ERROR}, "warning": {Severity.ERROR, Severity.WARNING}}
    wanted = levels.get(fail_on, set())
    return any(f.severity in wanted for checked in files for f in checked.findings)
