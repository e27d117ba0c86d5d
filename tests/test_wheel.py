"""The wheel is the product: built from this checkout and installed into a fresh virtual
environment outside it, fixloop builds the sandbox image from the files it carries and
fixes the example project; without its `memory` extra it says once that memory is off and
how to turn it on, and with the extra it remembers.

The dependencies come from the index pip is set up with, at the versions in
constraints.txt (as scripts/setup.sh installs them); the Docker engine and the sandbox
image are the ones scripts/ensure-docker.sh provides (`setup.sh --all`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.sandbox.config import SandboxConfig
from fixloop.sandbox.engine import connect
from fixloop.sandbox.image import IMAGE_REVISION, REVISION_LABEL
from tests.support.examples import copy_of_shop

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"
IMAGE = "fixloop-wheel-check"  # built by the installed wheel, removed afterwards
TEST = "python -m pytest -q"
MEMORY_HINT = "pip install 'fixloop[memory]'"
FIXED = "-    if quantity > 10:\n+    if quantity >= 10:"


def _clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without what would let the checkout's fixloop in."""
    hidden = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    return {**{k: v for k, v in os.environ.items() if k not in hidden}, **extra}


def _run(
    command: list[str], cwd: Path, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    result = subprocess.run(
        command,
        cwd=cwd,
        env=_clean_environment(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    print(f"{time.monotonic() - started:6.1f} s  {' '.join(command[:4])} …")  # -s shows it
    return result


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources (a build in the checkout would leave
    its build/ folder there, and stale files in it would end up in later wheels)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignored = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "server", source / "server", ignore=ignored)
    dist = tmp_path_factory.mktemp("dist")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist)]
    _ok(_run([*pip_wheel, str(source)], cwd=dist))
    [built] = dist.glob("fixloop-*.whl")
    return built


def _pip_install(bin_folder: Path, requirement: str) -> None:
    # --no-compile: a user's install compiles the bytecode; here it would only cost time.
    pip = [str(bin_folder / "python"), "-m", "pip", "install", "-q", "--no-compile"]
    _ok(_run([*pip, "-c", str(CONSTRAINTS), requirement], cwd=bin_folder, timeout=600))


def _venv_with(wheel: Path, folder: Path) -> Path:
    """A fresh virtual environment with the wheel installed; its `bin` folder."""
    _ok(_run([sys.executable, "-m", "venv", str(folder)], cwd=folder.parent))
    bin_folder = folder / "bin"
    _pip_install(bin_folder, str(wheel))
    python = str(bin_folder / "python")
    where = _ok(_run([python, "-c", "import fixloop; print(fixloop.__file__)"], cwd=folder))
    assert Path(where.stdout.strip()).is_relative_to(folder), where.stdout  # not the checkout's
    return bin_folder


@pytest.fixture(scope="module")
def built_image() -> Iterator[str]:
    """The name of the image the installed wheel builds; removed afterwards."""
    yield IMAGE
    client = connect(SandboxConfig())
    try:
        client.images.remove(f"{IMAGE}:latest", force=True)
    except Exception as error:  # the test that builds it may have failed before
        print(f"not removed: {error}")
    finally:
        client.close()


@pytest.mark.slow
def test_the_installed_wheel_builds_the_sandbox_and_fixes_the_example(
    wheel: Path, built_image: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    bin_folder = _venv_with(wheel, tmp_path / "venv")
    fixloop = str(bin_folder / "fixloop")
    shop = copy_of_shop(tmp_path)
    memory = {"FIXLOOP_MEMORY_PATH": str(tmp_path / "memory")}

    # The image from the build files inside the installed package, said stage by stage.
    build = _ok(
        _run([fixloop, "sandbox", "build", "--offline", "--force", "--image", built_image], shop)
    )
    assert f"built {built_image}:latest" in build.stdout
    assert "s] docker build ->" in build.stderr, build.stderr
    assert str(bin_folder.parent) in build.stderr  # the script it ran is the package's
    client = connect(SandboxConfig())
    labels = client.images.get(f"{built_image}:latest").labels or {}
    client.close()
    assert labels.get(REVISION_LABEL) == IMAGE_REVISION

    # The image a checkout's setup built is the one the wheel expects: nothing to build.
    reuse = _ok(_run([fixloop, "sandbox", "build", "--offline"], shop))
    assert "reused the current image fixloop-sandbox:latest" in reuse.stdout

    fix_command = [fixloop, "fix", "pricing.py", "--test", TEST]
    fix = _run(fix_command, shop, FIXLOOP_SANDBOX_IMAGE=built_image, **memory)
    assert fix.returncode == 0, fix.stderr
    assert FIXED in fix.stdout
    print(f"{time.monotonic() - started:6.1f} s  from a new venv to the first fix")

    # Without the memory extra: one line that says so and how to install it, no store.
    assert fix.stderr.count(MEMORY_HINT) == 1, fix.stderr
    assert "memory is off: ChromaDB is not installed" in fix.stderr
    assert not (tmp_path / "memory").exists()
    stats = _run([fixloop, "memory", "stats", "--json"], shop, **memory)
    assert stats.returncode == 2 and MEMORY_HINT in stats.stderr, stats.stderr

    # As the line says: the extra, and the next fix is remembered.
    _pip_install(bin_folder, f"{wheel}[memory]")
    fix = _run(fix_command, shop, FIXLOOP_SANDBOX_IMAGE=built_image, **memory)
    assert fix.returncode == 0, fix.stderr
    assert FIXED in fix.stdout and MEMORY_HINT not in fix.stderr
    stats = _ok(_run([fixloop, "memory", "stats", "--json"], shop, **memory))
    assert json.loads(stats.stdout)["records"] >= 1, stats.stdout  # the session's attempts
