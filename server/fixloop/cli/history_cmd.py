"""`fixloop history` (the sessions, newest first, with statistics) and `fixloop report ID`
(one session as text, JSON lines, or a self-contained HTML page)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    history = subparsers.add_parser("history", help="list the logged fix sessions")
    history.add_argument("--limit", type=int, default=20, metavar="N", help="newest N (20)")
    history.add_argument("--json", action="store_true", help="one JSON object")
    _data_option(history)
    history.set_defaults(handler=run_history)

    report = subparsers.add_parser("report", help="show one fix session")
    report.add_argument("session", metavar="ID", help="a session id, its start, or `last`")
    report.add_argument(
        "--html",
        nargs="?",
        const="",
        metavar="FILE",
        help="write a self-contained page (default: fixloop-report-ID.html here)",
    )
    report.add_argument("--json", action="store_true", help="the logged events, a line each")
    _data_option(report)
    report.set_defaults(handler=run_report)


def _data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="fixloop's data folder (default: $FIXLOOP_DATA_DIR, else the user's data folder)",
    )


def _sessions(args: argparse.Namespace) -> Path:
    from fixloop.sessions.log import sessions_dir

    return sessions_dir(args.data_dir.expanduser() if args.data_dir else None)


def run_history(args: argparse.Namespace) -> int:
    from fixloop.sessions.history import list_sessions, statistics_of

    if args.limit < 1:
        print("fixloop history: --limit must be at least 1", file=sys.stderr)
        return 2
    directory = _sessions(args)
    sessions = list_sessions(directory, args.limit)
    stats = statistics_of(sessions)
    if args.json:
        payload = {
            "sessions": [asdict(s) for s in sessions],
            "statistics": asdict(stats),
        }
        print(json.dumps(payload, indent=2))
        return 0
    if not sessions:
        print(f"no session logged yet ({directory})")
        return 0
    print(
        f"{'SESSION':<23} {'STARTED':<19} {'STATUS':<17} {'IT':>3} {'CAND':>5} {'TIME':>7}  TARGET"
    )
    for s in sessions:
        target = ", ".join(s.targets) or "-"
        print(
            f"{s.session_id:<23} {s.started[:19]:<19} {s.status:<17} {s.iterations:>3} "
            f"{s.candidates_tried:>5} {s.duration:>6.1f}s  {target}"
        )
    print(
        f"\n{stats.fixed} fixed of {stats.sessions} sessions "
        f"(success rate {stats.success_rate:.0%}); per fix: median "
        f"{stats.median_iterations_per_fix:g} iterations, "
        f"{stats.median_candidates_per_fix:g} candidates, {stats.median_seconds_per_fix:.1f} s"
    )
    return 0


def run_report(args: argparse.Namespace) -> int:
    from fixloop.sessions.history import SessionNotFound, find_session, read_events
    from fixloop.sessions.report import html_report, text_report

    try:
        path = find_session(_sessions(args), args.session)
    except SessionNotFound as error:
        print(f"fixloop report: {error}", file=sys.stderr)
        return 2
    events = read_events(path)
    if args.json:
        for event in events:
            print(json.dumps(event))
        return 0
    if args.html is None:
        print(text_report(path.stem, events), end="")
        return 0
    target = Path(args.html or f"fixloop-report-{path.stem}.html")
    try:
        target.write_text(html_report(path.stem, events), encoding="utf-8")
    except OSError as error:
        print(f"fixloop report: cannot write {target}: {error.strerror}", file=sys.stderr)
        return 2
    print(f"fixloop: report written to {target}", file=sys.stderr)
    return 0
