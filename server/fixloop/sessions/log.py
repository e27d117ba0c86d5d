"""Where sessions are kept, and the log one session writes while it runs."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`FIXLOOP_DATA_DIR`, else `$XDG_DATA_HOME/fixloop`, else `~/.local/share/fixloop`."""
    env = os.environ if environ is None else environ
    if env.get("FIXLOOP_DATA_DIR"):
        return Path(env["FIXLOOP_DATA_DIR"]).expanduser()
    data = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data).expanduser() / "fixloop"


def sessions_dir(data_dir: Path | None = None) -> Path:
    return (data_dir or default_data_dir()) / "sessions"


class SessionLog:
    """Appends one session's events to `<sessions>/<session id>.jsonl`, a line each, as
    they happen (a crash keeps what came before). A log that cannot be written says so once
    on stderr and the session goes on: the log must never cost a fix."""

    def __init__(self, session_id: str, directory: Path | None = None) -> None:
        self.session_id = session_id
        self.path = (directory or sessions_dir()) / f"{session_id}.jsonl"
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._broken = False

    def event(self, kind: str, data: Mapping[str, Any]) -> None:
        line = {
            "event": kind,
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "elapsed": round(time.monotonic() - self._started, 3),
            **data,
        }
        with self._lock:
            if self._broken:
                return
            try:
                if self._file is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._file = self.path.open("a", encoding="utf-8")
                self._file.write(json.dumps(line, default=str) + "\n")
                self._file.flush()
                if kind == "end":
                    self._close()
            except OSError as error:
                self._broken = True
                print(f"fixloop: the session log cannot be written: {error}", file=sys.stderr)

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
