"""How the command line speaks: `-q` (the result alone), `-v`/`-vv` (what fixloop does,
as log lines), and colour (`--color auto|always|never`; auto: a terminal, unless
`NO_COLOR` is set; `FORCE_COLOR` forces it), as ruff and git users expect."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from typing import TextIO

# Set once per command from its options (`configure`).
_quiet = False
_color = "auto"

_RESET = "\033[0m"
_STYLES = {"+++": "\033[1m", "---": "\033[1m", "@@": "\033[36m", "+": "\033[32m", "-": "\033[31m"}


def add_options(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """`-q`, `-v` and `--color`, before the command (`fixloop -q fix …`) or after it. After
    it, an option not given leaves the value from before it in place."""

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    parser.add_argument(
        "-q", "--quiet", action="store_true", default=default(False),
        help="print the result alone: no progress, notes or summary on stderr",
    )  # fmt: skip
    parser.add_argument(
        "-v", "--verbose", action="count", default=default(0),
        help="say what fixloop does on stderr (-vv: in detail)",
    )  # fmt: skip
    parser.add_argument(
        "--color", choices=("auto", "always", "never"), default=default("auto"),
        help="colour the diff (default auto: on a terminal, unless NO_COLOR is set)",
    )  # fmt: skip


def configure(args: argparse.Namespace) -> None:
    global _quiet, _color
    _quiet = bool(getattr(args, "quiet", False))
    _color = str(getattr(args, "color", None) or "auto")
    verbose = int(getattr(args, "verbose", 0) or 0)
    if verbose:
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            format="fixloop %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        if verbose == 1:  # the libraries' chatter only at -vv
            for noisy in ("urllib3", "docker", "chromadb", "httpx", "openai"):
                logging.getLogger(noisy).setLevel(logging.WARNING)


def quiet() -> bool:
    return _quiet


def info(message: str) -> None:
    """A line for people (progress, notes, summaries) on stderr; none with `-q`."""
    if not _quiet:
        print(message, file=sys.stderr, flush=True)


# A progress bar's step, as the sandbox's preparation says it: "… [####----] 7/24".
_BAR_STEP = re.compile(r"\[[#-]+\] (\d+)/(\d+)$")


def preparing(message: str) -> None:
    """A line of the sandbox's preparation on stderr: a progress bar's steps overwrite
    one another on a terminal, and elsewhere (a log, CI) only its last is printed."""
    if _quiet:
        return
    step = _BAR_STEP.search(message)
    unfinished = step is not None and step.group(1) != step.group(2)
    if sys.stderr.isatty():
        print(f"\r\033[K{message}", end="" if unfinished else "\n", file=sys.stderr, flush=True)
    elif not unfinished:
        print(message, file=sys.stderr, flush=True)


def colored(stream: TextIO) -> bool:
    if _color != "auto":
        return _color == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()


def diff_text(diff: str, stream: TextIO) -> str:
    """A unified diff, coloured line by line when `stream` is coloured."""
    if not colored(stream):
        return diff
    lines = []
    for line in diff.splitlines(keepends=True):
        style = next((s for prefix, s in _STYLES.items() if line.startswith(prefix)), None)
        body = line.rstrip("\n")
        ending = line[len(body) :]
        lines.append(f"{style}{body}{_RESET}{ending}" if style else line)
    return "".join(lines)
