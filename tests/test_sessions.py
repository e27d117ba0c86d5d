"""Session logs, `fixloop history` and `fixloop report`, as a person uses them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixloop.sessions.history import SessionNotFound, find_session, list_sessions, statistics_of
from fixloop.sessions.log import SessionLog, default_data_dir
from tests.support.examples import copy_of_shop

FIXLOOP = [sys.executable, "-m", "fixloop"]


def _fixloop(*args: str, cwd: Path, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FIXLOOP_DATA_DIR": str(data)}
    return subprocess.run(
        [*FIXLOOP, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _logged(directory: Path, session_id: str, status: str | None, **end: object) -> None:
    log = SessionLog(session_id, directory)
    log.event("start", {"root": "/p", "targets": ["a.py"], "command": "pytest", "engine": "x"})
    log.event("candidate", {"iteration": 1, "passed": status == "fixed", "description": "d"})
    if status is not None:
        log.event("end", {"status": status, "iterations": 1, "candidates_tried": 1, **end})


def test_the_data_folder_follows_the_environment(tmp_path: Path) -> None:
    assert default_data_dir({"FIXLOOP_DATA_DIR": str(tmp_path)}) == tmp_path
    assert default_data_dir({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "fixloop"


def test_history_summarizes_newest_first_with_statistics(tmp_path: Path) -> None:
    _logged(tmp_path, "20261101-100000-aaaaaa", "fixed", duration=2.0)
    _logged(tmp_path, "20261102-100000-bbbbbb", "not-found", duration=9.0)
    _logged(tmp_path, "20261103-100000-cccccc", "fixed", duration=4.0)
    sessions = list_sessions(tmp_path)
    assert [s.session_id[:8] for s in sessions] == ["20261103", "20261102", "20261101"]
    stats = statistics_of(sessions)
    assert stats.fixed == 2 and stats.success_rate == pytest.approx(2 / 3)
    assert stats.median_seconds_per_fix == 3.0


def test_a_log_cut_short_is_read_as_incomplete(tmp_path: Path) -> None:
    _logged(tmp_path, "20261101-100000-aaaaaa", None)
    with (tmp_path / "20261101-100000-aaaaaa.jsonl").open("a") as log:
        log.write('{"event": "cand')  # the process died mid-line
    [session] = list_sessions(tmp_path)
    assert session.status == "incomplete" and session.candidates_tried == 1


def test_sessions_are_found_by_prefix_unless_ambiguous(tmp_path: Path) -> None:
    _logged(tmp_path, "20261101-100000-aaaaaa", "fixed")
    _logged(tmp_path, "20261101-100500-bbbbbb", "fixed")
    assert find_session(tmp_path, "20261101-1005").stem == "20261101-100500-bbbbbb"
    assert find_session(tmp_path, "last").stem == "20261101-100500-bbbbbb"
    with pytest.raises(SessionNotFound, match="names 2 sessions"):
        find_session(tmp_path, "20261101")
    with pytest.raises(SessionNotFound, match="no session 'nope'"):
        find_session(tmp_path, "nope")


def test_an_unwritable_log_never_stops_the_session(tmp_path: Path) -> None:
    (tmp_path / "sessions").write_text("a file where the folder should be", encoding="utf-8")
    log = SessionLog("20261101-100000-aaaaaa", tmp_path / "sessions")
    log.event("start", {})  # says so on stderr, raises nothing
    log.event("end", {})


def test_report_of_an_unknown_session_is_a_usage_error(tmp_path: Path) -> None:
    result = _fixloop("report", "nope", cwd=tmp_path, data=tmp_path / "data")
    assert result.returncode == 2
    assert "no session logged yet" in result.stderr


@pytest.mark.slow
def test_a_fix_shows_in_history_and_its_report(tmp_path: Path) -> None:
    shop = copy_of_shop(tmp_path)
    data = tmp_path / "data"
    fix = _fixloop(
        "fix", "pricing.py", "--test", "python -m pytest -q", "--engine", "offline", "--json",
        cwd=shop, data=data,
    )  # fmt: skip
    assert fix.returncode == 0, fix.stderr
    session_id = json.loads(fix.stdout)["session_id"]

    history = _fixloop("history", cwd=shop, data=data)
    assert history.returncode == 0
    [row] = [line for line in history.stdout.splitlines() if line.startswith(session_id)]
    assert "fixed" in row and "pricing.py" in row
    assert "1 fixed of 1 sessions (success rate 100%)" in history.stdout

    report = _fixloop("report", session_id[:15], cwd=shop, data=data)
    assert report.returncode == 0, report.stderr
    assert "result    fixed: verified" in report.stdout
    assert "+    if quantity >= 10:" in report.stdout
    assert "failing: tests/test_pricing.py::" in report.stdout

    page = _fixloop("report", "last", "--html", str(tmp_path / "r.html"), cwd=shop, data=data)
    assert page.returncode == 0, page.stderr
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "quantity &gt;= 10" in html and session_id in html
    assert "http://" not in html and "https://" not in html  # self-contained
