"""`fixloop trust [PATH]`: let a project's own files set the restricted settings (where code,
data or the key go) and let the editor run its tests on its own. The record is bound to
the restricted values shown here: when the project changes them, they are ignored until it
is trusted again. `--revoke` forgets a project, `--list` shows every record."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fixloop.trust import TrustStore


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "trust",
        help="let a project's own settings choose the model, memory and Docker host",
        description=(
            "Trust a project: its pyproject.toml / fixloop.toml may then set the settings that "
            "decide where code, data or your key go, and editors run its tests on open and "
            "save. Bound to the values shown: a change to them asks again."
        ),
    )
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        metavar="PATH",
        help="the project folder (default: the project root above here, as `fixloop fix` "
        "finds it: a pyproject.toml, fixloop.toml, setup.py, setup.cfg, package.json or .git)",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--revoke", action="store_true", help="stop trusting the project")
    action.add_argument("--list", action="store_true", help="list the trusted projects")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from fixloop.project import find_project_root
    from fixloop.trust import TrustStore

    store = TrustStore.default()
    if args.list:
        return _list(store)
    root = args.path.expanduser() if args.path is not None else find_project_root(Path.cwd())
    if not root.is_dir():
        print(f"fixloop trust: {root} is not a folder", file=sys.stderr)
        return 2
    root = root.resolve()
    try:
        if args.revoke:
            revoked = store.revoke(root)
            print(f"{root}: {'no longer trusted' if revoked else 'was not trusted'}")
            return 0
        return _trust(store, root)
    except OSError as error:
        print(f"fixloop trust: cannot write {store.path}: {error}", file=sys.stderr)
        return 2


def _trust(store: TrustStore, root: Path) -> int:
    from fixloop.config import load_project
    from fixloop.trust import digest_of

    loaded = load_project(root, trusted=True)
    for problem in loaded.settings.problems:
        print(f"fixloop: {problem}", file=sys.stderr)
    found = dict(loaded.restricted)
    store.trust(root, digest_of(found), tuple(sorted(found)))
    print(f"{root}: trusted (recorded in {store.path})")
    if found:
        print("its own settings now used:")
        for name, value in sorted(found.items()):
            print(f"  {name} = {value!r}")
    else:
        print("it sets no restricted setting; its tests may now run on open and save")
    print(f"a change to these asks again; `fixloop trust --revoke {root}` undoes this")
    return 0


def _list(store: TrustStore) -> int:
    from fixloop.config import load_project
    from fixloop.trust import Trust

    records = store.records()
    if not records:
        print("no trusted projects")
        return 0
    for path, record in sorted(records.items()):
        root = Path(path)
        if not root.is_dir():
            state = "folder missing"
        else:
            now = load_project(root).trust
            state = "settings changed since" if now is Trust.CHANGED else "trusted"
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.trusted_at))
        names = ", ".join(record.settings) or "no restricted settings"
        print(f"{path}\t{state} ({when})\t{names}")
    return 0
