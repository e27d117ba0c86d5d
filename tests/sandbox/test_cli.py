"""`fixloop sandbox build` and `fixloop sandbox doctor` against the real engine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fixloop.cli.sandbox_cmd import main
from fixloop.sandbox import image

pytestmark = pytest.mark.slow


def test_doctor_finds_every_limit_enforced(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 0
    report = capsys.readouterr().out
    for check in (
        "engine",
        "image",
        "no network",
        "non-root user",
        "capabilities dropped",
        "no-new-privileges",
        "read-only root",
        "memory limit",
        "pids limit",
        "cpu limit",
        "no Docker socket",
        "wall-clock timeout",
        "output cap",
        "memory limit enforced",
        "process cap enforced",
    ):
        assert f"ok   {check}" in report
    assert "FAIL" not in report


def test_doctor_says_how_to_build_a_missing_image(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--image", "fixloop-sandbox-missing"]) == 1
    report = capsys.readouterr().out
    assert "FAIL image: fixloop-sandbox-missing:latest is missing" in report
    assert "fixloop sandbox build --offline" in report


def test_doctor_reports_a_daemon_that_is_not_there(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert main(["doctor"]) == 1
    assert "FAIL engine: the Docker daemon is not running" in capsys.readouterr().out


def test_build_reuses_a_current_image(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--offline"]) == 0
    assert "reused the current image fixloop-sandbox:latest" in capsys.readouterr().out


def test_build_without_an_engine_is_an_environment_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    assert main(["build"]) == 2
    assert "does not answer" in capsys.readouterr().err


def test_a_long_build_says_each_stage_and_that_it_is_still_going(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A stand-in for the offline build (debootstrap's hundreds of lines, then minutes
    of silence, then a failure): one line per kind, a note while it is silent, and the
    failure with the script's last lines."""
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "build-offline.sh").write_text(
        "echo 'build-offline: debootstrap bookworm' >&2\n"
        'for i in $(seq 50); do echo "I: Retrieving pkg$i"; echo "I: Validating pkg$i"; done\n'
        "sleep 1.5\n"
        "echo 'E: pkg50 could not be downloaded' >&2\n"
        "exit 3\n"
    )
    monkeypatch.setenv("FIXLOOP_SANDBOX_CONTEXT", str(tmp_path))
    monkeypatch.setattr(image, "QUIET_SECONDS", 0.5)
    assert main(["build", "--offline", "--force", "--image", "fixloop-never-built"]) == 1
    err = capsys.readouterr().err
    assert re.search(r"^\[ *\d+\.\d s\] debootstrap bookworm$", err, re.MULTILINE), err
    assert "I: Retrieving pkg1\n" in err and "I: Validating pkg1\n" in err
    assert "pkg2\n" not in err  # folded
    assert "debootstrap bookworm: still going (" in err
    assert "failed with exit code 3" in err and "E: pkg50 could not be downloaded" in err


def test_a_registry_build_says_its_steps_and_why_it_failed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # FROM the local sandbox image: the classic build path without a registry.
    (tmp_path / "Dockerfile").write_text(
        "FROM fixloop-sandbox:latest\nARG REVISION=1\nRUN echo building && exit 7\n"
    )
    monkeypatch.setenv("FIXLOOP_SANDBOX_CONTEXT", str(tmp_path))
    assert main(["build", "--force", "--image", "fixloop-never-built"]) == 1
    err = capsys.readouterr().err
    assert re.search(r"^\[ *\d+\.\d s\] Step 3/3 : RUN echo building", err, re.MULTILINE), err
    assert "docker build failed:" in err and "non-zero code: 7" in err
