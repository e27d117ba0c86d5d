"""The project's own image as its sandbox (`sandbox.dockerfile`): its Dockerfile or its
devcontainer's, built for real, chosen by the user only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.config import load_project
from fixloop.sandbox import SandboxConfig
from fixloop.sandbox.prepare import PrepareError
from fixloop.sandbox.project_image import REPOSITORY, image_source
from tests.support.packages import prepared_images, remove_prepared_images

BASE = SandboxConfig().image_ref
# What the project's image has and the sandbox's own does not: a module of its own.
DOCKERFILE = (
    f"FROM {BASE}\n"
    "USER root\n"
    "RUN mkdir -p /usr/local/lib/python3.11/dist-packages && "
    "echo 'ANSWER = 42' > /usr/local/lib/python3.11/dist-packages/projectdep.py\n"
)
CALC = "from projectdep import ANSWER\n\n\ndef answer():\n    return ANSWER + 1\n"
TESTS = "from calc import answer\n\n\ndef test_answer():\n    assert answer() == 42\n"
COMMAND = "python -m pytest -q"


def project(root: Path, dockerfile: str = DOCKERFILE) -> Path:
    root.mkdir(parents=True)
    (root / "calc.py").write_text(CALC)
    (root / "test_calc.py").write_text(TESTS)
    (root / "Dockerfile").write_text(dockerfile)
    return root


@pytest.fixture
def built() -> Iterator[list[Path]]:
    """Projects whose images are removed after the test."""
    roots: list[Path] = []
    yield roots
    remove_prepared_images(roots, REPOSITORY)


def fixloop(root: Path, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "FIXLOOP_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # the user has no settings file
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "fixloop", *args],
        cwd=root,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_the_projects_dockerfile_is_its_sandbox_when_the_user_says_so(
    tmp_path: Path, built: list[Path]
) -> None:
    root = project(tmp_path / "proj")
    built.append(root)
    fix = ("fix", "calc.py", "--test", COMMAND, "--no-memory")
    # The sandbox's own image lacks what the project's image installs.
    plain = fixloop(root, tmp_path, *fix)
    assert plain.returncode == 2 and "No module named 'projectdep'" in plain.stderr
    first = fixloop(root, tmp_path, *fix, FIXLOOP_SANDBOX_DOCKERFILE="Dockerfile")
    assert first.returncode == 0, first.stderr
    assert "-    return ANSWER + 1\n+    return ANSWER\n" in first.stdout
    assert "building the project's image (Dockerfile)" in first.stderr
    [image] = prepared_images(root, REPOSITORY)
    again = fixloop(root, tmp_path, *fix, FIXLOOP_SANDBOX_DOCKERFILE="Dockerfile")
    assert again.returncode == 0 and "building the project's image" not in again.stderr
    assert prepared_images(root, REPOSITORY) == [image]  # reused
    (root / "Dockerfile").write_text(DOCKERFILE + "ENV CHANGED=1\n")
    changed = fixloop(
        root, tmp_path, "sandbox", "prepare", "--json", FIXLOOP_SANDBOX_DOCKERFILE="Dockerfile"
    )
    assert changed.returncode == 0, changed.stderr
    described = json.loads(changed.stdout)
    assert described["prepared_now"] and described["image"] != image
    assert described["python"] == "3.11" and described["image"].startswith(f"{REPOSITORY}:")


@pytest.mark.slow
def test_a_devcontainer_names_the_dockerfile_and_its_context(
    tmp_path: Path, built: list[Path]
) -> None:
    root = project(tmp_path / "proj")
    built.append(root)
    folder = root / ".devcontainer"
    folder.mkdir()
    (root / "Dockerfile").rename(folder / "Dockerfile")
    (folder / "devcontainer.json").write_text(
        "// the project's dev container\n"
        '{\n  "name": "calc // dev",\n  /* built, not pulled */\n'
        '  "build": {"dockerfile": "Dockerfile", "context": ".."},\n}\n'
    )
    result = fixloop(
        root, tmp_path, "sandbox", "prepare", "--json", FIXLOOP_SANDBOX_DOCKERFILE="devcontainer"
    )
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout)
    assert described["image"].startswith(f"{REPOSITORY}:") and described["prepared_now"]
    fixed = fixloop(
        root,
        tmp_path,
        "fix",
        "calc.py",
        "--test",
        COMMAND,
        "--no-memory",
        FIXLOOP_SANDBOX_DOCKERFILE="devcontainer",
    )
    assert fixed.returncode == 0, fixed.stderr


@pytest.mark.slow
def test_an_image_without_pytest_is_named_with_what_to_add(
    tmp_path: Path, built: list[Path]
) -> None:
    packages = "/usr/lib/python3/dist-packages"
    no_pytest = DOCKERFILE + f"RUN rm -rf {packages}/pytest {packages}/_pytest\n"
    root = project(tmp_path / "proj", no_pytest)
    built.append(root)
    result = fixloop(root, tmp_path, "sandbox", "prepare", FIXLOOP_SANDBOX_DOCKERFILE="Dockerfile")
    assert result.returncode != 0
    assert "needs python3 with pytest (add `RUN pip install pytest`)" in result.stderr
    assert "No module named 'pytest'" in result.stderr


def test_a_dockerfile_that_fails_to_build_says_which_step(
    tmp_path: Path, built: list[Path]
) -> None:
    root = project(tmp_path / "proj", f"FROM {BASE}\nRUN exit 3\n")
    built.append(root)
    result = fixloop(root, tmp_path, "sandbox", "prepare", FIXLOOP_SANDBOX_DOCKERFILE="Dockerfile")
    assert result.returncode != 0
    assert "cannot build the project's image from Dockerfile" in result.stderr
    assert "returned a non-zero code: 3" in result.stderr


def test_a_project_cannot_choose_its_own_image_until_trusted(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    (root / "fixloop.toml").write_text('[sandbox]\ndockerfile = "Dockerfile"\n')
    loaded = load_project(root, environ={})
    assert loaded.settings.sandbox.dockerfile == ""
    assert "sandbox.dockerfile" in loaded.ignored
    assert load_project(root, environ={}, trusted=True).settings.sandbox.dockerfile == "Dockerfile"


def test_what_the_setting_may_name(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    assert image_source(root, "Dockerfile").dockerfile == (root / "Dockerfile").resolve()
    with pytest.raises(PrepareError, match="points outside the project"):
        image_source(root, "../Dockerfile")
    with pytest.raises(PrepareError, match="no such file in the project: Containerfile"):
        image_source(root, "Containerfile")
    with pytest.raises(PrepareError, match=r"has no \.devcontainer/devcontainer\.json"):
        image_source(root, "devcontainer")
    (root / ".devcontainer.json").write_text('{"image": "python:3.12", // pulled\n}')
    assert image_source(root, "devcontainer").image == "python:3.12"
