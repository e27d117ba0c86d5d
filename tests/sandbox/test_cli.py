"""`fixloop sandbox build` and `fixloop sandbox doctor` against the real engine."""

from __future__ import annotations

import pytest

from fixloop.cli.sandbox_cmd import main

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
