"""`fixloop rule CODE` explains a rule; `fixloop rule --all` lists every code."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rule", help="explain a rule (what, why, an example, how to silence it)"
    )
    parser.add_argument("code", nargs="?", metavar="CODE", help="a rule code, e.g. FL102")
    parser.add_argument("--all", action="store_true", help="list every rule")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from fixloop.analysis.catalogue import rule_docs

    docs = rule_docs()
    if args.all or not args.code:
        for each in docs.values():
            print(f"{each.code}  {each.name:<26} {each.severity.value:<8} {each.summary}")
        return 0
    doc = docs.get(args.code.strip().upper())
    if doc is None:
        print(
            f"fixloop rule: no rule {args.code}; `fixloop rule --all` lists them",
            file=sys.stderr,
        )
        return 2
    print(doc.text())
    return 0
