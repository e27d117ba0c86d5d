"""Projects with real third-party dependencies, for the tests of the prepared sandbox
environment: a src-layout package depending on a pure-Python library (six) and on one
with a C extension (markupsafe), installed from a wheelhouse the tests fill once from the
registry (kept between runs), so that preparing needs no index."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

import docker
import docker.errors

from fixloop.sandbox.prepare import ENV_REPOSITORY, LABEL_PROJECT, project_label

WHEELHOUSE = Path.home() / ".cache" / "fixloop-tests" / "wheelhouse"
# six: pure Python; markupsafe: a C extension; pytest plugins; the rest is what preparing
# itself needs.
WHEELS = (
    "six", "markupsafe", "iniconfig", "pytest-mock", "pytest-cov", "setuptools", "wheel", "pip",
)  # fmt: skip

CORE = """\
import six
from markupsafe import _speedups, escape


def clamp(value, low, high):
    if value > high:
        return high
    if value < low:
        return low
    return value


def shout(text):
    return six.text_type(escape(text)).upper()


def speedups():
    return _speedups.__name__
"""
TESTS = """\
from pkg.core import clamp, shout, speedups


def test_clamp_inside():
    assert clamp(5, 0, 10) == 5


def test_clamp_high():
    assert clamp(11, 0, 10) == 10


def test_shout_escapes():
    assert shout("<a>") == "&LT;A&GT;"


def test_compiled_dependency_loads():
    assert speedups() == "markupsafe._speedups"
"""


def fill_wheelhouse() -> Path:
    """The wheels the tests install, downloaded once."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    download = [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:"]
    subprocess.run([*download, "--dest", str(WHEELHOUSE), *WHEELS], check=True)
    return WHEELHOUSE


def offline_index(wheelhouse: Path) -> dict[str, str]:
    """The user's pip settings of a machine with no index: the wheelhouse alone."""
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse)}


def make_project(root: Path, dependencies: list[str], requires_python: str = ">=3.8") -> Path:
    """A src-layout package; its own description makes its environment its own (the same
    dependency files elsewhere share one)."""
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "pkg"
            version = "0.1"
            description = "{root}"
            requires-python = "{requires_python}"
            dependencies = {json.dumps(dependencies)}
            [tool.pytest.ini_options]
            testpaths = ["tests"]
            """
        )
    )
    (root / "src" / "pkg" / "__init__.py").write_text("")
    (root / "src" / "pkg" / "core.py").write_text(CORE.replace("return high", "return low"))
    (root / "tests" / "test_core.py").write_text(TESTS)
    return root


def prepared_images(root: Path, repository: str = ENV_REPOSITORY) -> list[str]:
    """The tags of the environments prepared (or project images built) for `root`."""
    client = docker.from_env()
    label = f"{LABEL_PROJECT}={project_label(root)}"
    images = client.images.list(name=repository, filters={"label": label})
    client.close()
    return [tag for image in images for tag in image.tags]


def remove_prepared_images(roots: Iterable[Path], repository: str = ENV_REPOSITORY) -> None:
    client = docker.from_env()
    for root in roots:
        label = f"{LABEL_PROJECT}={project_label(root)}"
        for image in client.images.list(name=repository, filters={"label": label}):
            for tag in image.tags:
                with suppress(docker.errors.APIError):  # gone already: fine
                    client.images.remove(tag, force=True)
    client.close()
