"""fixloop_select: a pytest plugin that runs the named tests that exist and skips the rest.

Runs inside the sandbox (stdlib + pytest only; the host never imports it). Given node ids
on its command line, pytest stops with "ERROR: not found" (exit 4, no test run) when one
of them is not collected. A test's id is not always stable between two runs: a parameter
made of the time (`dt.datetime.now()`, in marshmallow's suite), a random value or an
object's address. The localization run, a candidate's related tests and the like name
tests from an earlier run, so one such id cost the whole run. The runner instead gives
pytest each test's file and the ids themselves with `--fixloop-select ID` (runner.py);
this plugin keeps the collected tests those ids name, as pytest's own selection would
(a function's id keeps all its parameters; a class's, all its tests), and deselects the
rest of their files. An id that names nothing runs nothing, like a test that is gone.
"""

from __future__ import annotations

import os

import pytest

OPTION = "--fixloop-select"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(OPTION, action="append", default=[], dest="fixloop_select")


def _file(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _selects(wanted: str, name: str) -> bool:
    """Whether the id part `wanted` (after the file) names the collected `name`."""
    return not wanted or name == wanted or name.startswith((f"{wanted}::", f"{wanted}["))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected: list[str] = config.getoption("fixloop_select")
    if not selected:
        return
    base = str(config.invocation_params.dir)
    wanted: dict[str, list[str]] = {}
    for test in selected:
        path, _, rest = test.partition("::")
        wanted.setdefault(_file(os.path.join(base, path)), []).append(rest)
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        _, _, name = item.nodeid.partition("::")
        names = wanted.get(_file(str(item.path)), [])
        (kept if any(_selects(rest, name) for rest in names) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
