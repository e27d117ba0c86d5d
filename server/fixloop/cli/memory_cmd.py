"""`fixloop memory stats|search QUERY|prune|export FILE|import FILE`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from fixloop.memory.store import MemoryConfig, MemoryStats, MemoryStore


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("memory", help="inspect and maintain the memory of fixes")
    parser.add_argument("--memory", metavar="PATH", help="the memory's folder (embedded store)")
    parser.add_argument("--memory-url", metavar="URL", help="a Chroma server (team memory)")
    parser.add_argument("--no-memory", action="store_true", help="do not use memory")
    actions = parser.add_subparsers(dest="memory_command", metavar="ACTION", required=True)

    stats = actions.add_parser("stats", help="records, outcomes and verdicts")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(handler=run_stats)

    search = actions.add_parser("search", help="records similar to an error message or code")
    search.add_argument("query")
    search.add_argument("--language", help="only this language (python, javascript, …)")
    search.add_argument("-k", type=int, default=10, help="how many (default 10)")
    search.add_argument("--json", action="store_true", help="print JSON lines")
    search.set_defaults(handler=run_search)

    prune = actions.add_parser("prune", help="drop old records and those over the cap per kind")
    prune.add_argument("--max-age-days", type=float, help="retention (default from settings: 90)")
    prune.add_argument("--cap-per-kind", type=int, help="records per kind (default 1000)")
    prune.set_defaults(handler=run_prune)

    export = actions.add_parser("export", help="write every record as JSON lines")
    export.add_argument("file", type=Path)
    export.set_defaults(handler=run_export)

    load = actions.add_parser("import", help="read records from JSON lines")
    load.add_argument("file", type=Path)
    load.set_defaults(handler=run_import)


def memory_config(args: argparse.Namespace, root: Path | None = None) -> MemoryConfig:
    """The project's memory settings with the command line on top."""
    import dataclasses

    from fixloop.config import load_settings
    from fixloop.memory.store import MemoryConfig

    settings = load_settings(root or Path.cwd())
    config = MemoryConfig.from_settings(settings.memory, settings.llm)
    overrides: dict[str, object] = {}
    if args.memory:  # a folder given on the command line means the embedded store
        overrides["path"], overrides["url"] = Path(args.memory).expanduser(), None
    if args.memory_url:
        overrides["url"] = args.memory_url
    if args.no_memory:
        overrides["enabled"] = False
    return dataclasses.replace(config, **overrides)  # type: ignore[arg-type]


def _usable(config: MemoryConfig) -> bool:
    """Memory is on and installed; else say why."""
    from fixloop.memory.extra import memory_missing

    if not config.enabled:
        print("fixloop memory: memory is turned off (--no-memory or settings)", file=sys.stderr)
        return False
    if (missing := memory_missing()) is not None:
        print(f"fixloop {missing}", file=sys.stderr)
        return False
    return True


def _open(args: argparse.Namespace) -> MemoryStore | None:
    """The store, or None after saying why it cannot be used (exit code 2)."""
    from fixloop.memory.store import MemoryStore

    config = memory_config(args)
    if not _usable(config):
        return None
    reasons: list[str] = []
    store = MemoryStore(config, on_unavailable=reasons.append)
    if not store.available():
        print(f"fixloop {reasons[0] if reasons else 'memory: unavailable'}", file=sys.stderr)
        return None
    return store


def run_stats(args: argparse.Namespace) -> int:
    from fixloop.memory.store import MemoryStore

    config = memory_config(args)
    if not _usable(config):
        return 2
    stats = MemoryStore(config, on_unavailable=lambda reason: None).stats()
    if args.json:
        print(json.dumps(_stats_json(stats), indent=2))
    else:
        for line in _stats_lines(stats):
            print(line)
    return 0 if stats.available else 2


def _stats_json(stats: MemoryStats) -> dict[str, object]:
    import dataclasses

    return {**dataclasses.asdict(stats), "records": stats.records}


def _stats_lines(stats: MemoryStats) -> list[str]:
    lines = [f"memory: {stats.where}"]
    if not stats.available:
        lines.append(f"unavailable: {stats.reason}")
    else:
        lines.append(f"records: {stats.records}")
        lines.extend(f"  {name}: {count}" for name, count in sorted(stats.collections.items()))
        lines.append("outcomes: " + _counts(stats.outcomes))
        lines.append("verdicts: " + _counts(stats.verdicts))
        if stats.disk_bytes is not None:
            lines.append(f"on disk: {stats.disk_bytes / 1e6:.1f} MB")
    if stats.spooled:
        lines.append(f"waiting in the spool: {stats.spooled}")
    return lines


def _counts(counts: Mapping[str, int]) -> str:
    items = sorted(counts.items())
    return ", ".join(f"{count} {name}" for name, count in items) or "none"


def run_search(args: argparse.Namespace) -> int:
    store = _open(args)
    if store is None:
        return 2
    for record, similarity in store.search(args.query, args.language, args.k):
        if args.json:
            print(json.dumps({"similarity": round(similarity, 4), **record.to_json()}))
            continue
        verdict = f", {record.verdict}" if record.verdict else ""
        template = record.template or record.generator
        print(f"{similarity:.2f}  {record.outcome}{verdict}  {template}  {record.language}")
        print("      " + record.signature.text().replace("\n", "\n      "))
    return 0


def run_prune(args: argparse.Namespace) -> int:
    store = _open(args)
    if store is None:
        return 2
    removed = store.prune(args.max_age_days, args.cap_per_kind)
    print(f"fixloop memory: removed {removed} records")
    return 0


def run_export(args: argparse.Namespace) -> int:
    store = _open(args)
    if store is None:
        return 2
    try:
        count = store.export(args.file)
    except OSError as error:
        print(f"fixloop memory: cannot write {args.file}: {error}", file=sys.stderr)
        return 2
    print(f"fixloop memory: exported {count} records to {args.file}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from fixloop.memory.store import MemoryUnavailable

    store = _open(args)
    if store is None:
        return 2
    try:
        count = store.import_(args.file)
    except (OSError, ValueError, MemoryUnavailable) as error:
        print(f"fixloop memory: cannot import {args.file}: {error}", file=sys.stderr)
        return 2
    print(f"fixloop memory: imported {count} records from {args.file}")
    return 0
