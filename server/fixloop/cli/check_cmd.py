"""`fixloop check PATH… [--format text|json|sarif]`: exit 1 when an error is found."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FORMAT_NAMES = ("json", "sarif", "text")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check", help="print diagnostics for files and folders (respects .gitignore)"
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument("--format", choices=FORMAT_NAMES, default="text")
    parser.add_argument("--output", "-o", type=Path, help="write the report to this file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: the server's start-up (`fixloop lsp`) must not pay for the checker.
    from fixloop.analysis.findings import Severity
    from fixloop.check import check_paths
    from fixloop.check.formats import FORMATS
    from fixloop.config import load_settings

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"fixloop check: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    settings = load_settings(Path.cwd())
    for problem in settings.problems:
        print(f"fixloop: {problem}", file=sys.stderr)
    files = check_paths(list(args.paths), settings.diagnostics)
    for checked in files:
        if checked.note:
            print(f"{checked.path}: {checked.note}", file=sys.stderr)
    report = FORMATS[args.format](files)
    if args.output:
        args.output.write_text(report + "\n", encoding="utf-8")
    else:
        print(report)
    errors = any(f.severity is Severity.ERROR for c in files for f in c.findings)
    return 1 if errors else 0
