"""Every test run keeps fixloop's data (session logs, the default memory, trusted projects)
in a folder of its own, never in the user's data folder, and reads no user config file;
servers and CLIs started by tests inherit it."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_DATA_HOME = tempfile.mkdtemp(prefix="fixloop-test-data-")
_CONFIG_HOME = tempfile.mkdtemp(prefix="fixloop-test-config-")


def pytest_configure(config: pytest.Config) -> None:
    os.environ["XDG_DATA_HOME"] = _DATA_HOME
    os.environ["XDG_CONFIG_HOME"] = _CONFIG_HOME
    os.environ.pop("FIXLOOP_DATA_DIR", None)
    os.environ.pop("FIXLOOP_MEMORY_PATH", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_DATA_HOME, ignore_errors=True)
    shutil.rmtree(_CONFIG_HOME, ignore_errors=True)
