"""The project's own environment in the sandbox, for real: a package with a pure-Python
and a compiled dependency, installed from a wheelhouse (the user's pip settings name it:
no index at all), its bug fixed by `fixloop fix` with no flags, the environment reused on
the next run and prepared again when the dependency files change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixloop.sandbox.prepare import pytest_switches
from tests.support.packages import (
    fill_wheelhouse,
    make_project,
    offline_index,
    prepared_images,
    remove_prepared_images,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheelhouse() -> Path:
    return fill_wheelhouse()


@pytest.fixture
def offline_pip(wheelhouse: Path, tmp_path: Path) -> dict[str, str]:
    """The user's pip settings: no index, only the wheelhouse; fixloop's data apart."""
    return {
        **os.environ,
        **offline_index(wheelhouse),
        "FIXLOOP_DATA_DIR": str(tmp_path / "data"),
        "FIXLOOP_MEMORY_PATH": str(tmp_path / "memory"),
    }


@pytest.fixture
def images_removed() -> Iterator[list[Path]]:
    """Projects whose prepared images are removed after the test."""
    roots: list[Path] = []
    yield roots
    remove_prepared_images(roots)


def fixloop(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixloop", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_project_with_dependencies_is_fixed_then_its_environment_reused(
    tmp_path: Path, offline_pip: dict[str, str], images_removed: list[Path]
) -> None:
    root = make_project(tmp_path / "proj", ["six>=1.10", "markupsafe>=2"])
    images_removed.append(root)
    # As a user would: from a folder inside the project, no --test, no flags.
    first = fixloop(root / "tests", offline_pip, "fix", "../src/pkg/core.py", "--no-memory")
    assert first.returncode == 0, first.stderr
    assert "-        return low\n+        return high\n" in first.stdout
    assert "preparing the sandbox: installing" in first.stderr
    assert "4 passed" in first.stderr  # the compiled dependency loaded in the sandbox
    [image] = prepared_images(root)

    second = fixloop(root, offline_pip, "fix", "src/pkg/core.py", "--no-memory", "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["verified"] is True
    assert "preparing the sandbox" not in second.stderr  # reused at once
    assert prepared_images(root) == [image]


def test_a_python_a_test_starts_imports_the_project_as_pytest_does(
    tmp_path: Path, offline_pip: dict[str, str], images_removed: list[Path]
) -> None:
    """A src-layout project's test that runs `sys.executable -c "import pkg"` (a CLI's
    tests do): the new interpreter finds the project, as in the user's own venv."""
    root = make_project(tmp_path / "proj", ["six", "markupsafe"])
    images_removed.append(root)
    (root / "tests" / "test_cli.py").write_text(
        "import subprocess\nimport sys\n\n\ndef test_runs():\n"
        "    subprocess.run([sys.executable, '-c', 'import pkg.core'], check=True)\n"
    )
    fixed = fixloop(root, offline_pip, "fix", "src/pkg/core.py", "--no-memory", "--json")
    assert fixed.returncode == 0, fixed.stderr
    result = json.loads(fixed.stdout)
    assert result["verified"] and result["tests"] == {"passed": 5, "failed": 0}, result
    assert not [note for note in result["notes"] if "not counted" in note]


def test_changed_dependency_files_prepare_again(
    tmp_path: Path, offline_pip: dict[str, str], images_removed: list[Path]
) -> None:
    root = make_project(tmp_path / "proj", ["six"])
    images_removed.append(root)
    first = fixloop(root, offline_pip, "sandbox", "prepare", "--json")
    assert first.returncode == 0, first.stderr
    before = json.loads(first.stdout)
    assert before["prepared_now"] and before["source_paths"] == ["src"]
    again = json.loads(fixloop(root, offline_pip, "sandbox", "prepare", "--json").stdout)
    assert again["image"] == before["image"] and not again["prepared_now"]

    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('["six"]', '["six", "iniconfig"]'))
    changed = fixloop(root, offline_pip, "sandbox", "prepare", "--json")
    assert changed.returncode == 0, changed.stderr
    after = json.loads(changed.stdout)
    assert after["prepared_now"] and after["image"] != before["image"]
    assert prepared_images(root) == [after["image"]]  # the outdated one is gone


def test_a_dependency_that_cannot_be_installed_is_named(
    tmp_path: Path, offline_pip: dict[str, str], images_removed: list[Path]
) -> None:
    root = make_project(tmp_path / "proj", ["six", "fixloop-no-such-dist==9.9"])
    images_removed.append(root)
    prepared = fixloop(root, offline_pip, "sandbox", "prepare")
    assert prepared.returncode == 1
    assert "fixloop-no-such-dist==9.9" in prepared.stderr
    assert "pip download" in prepared.stderr
    fixed = fixloop(root, offline_pip, "fix", "src/pkg/core.py", "--no-memory")
    assert fixed.returncode == 2 and "fixloop-no-such-dist==9.9" in fixed.stderr
    assert "environment, not the code" not in fixed.stderr  # never the silent verdict


def test_a_python_the_sandbox_lacks_is_said(
    tmp_path: Path, offline_pip: dict[str, str], images_removed: list[Path]
) -> None:
    root = make_project(tmp_path / "proj", ["six"], requires_python=">=3.99")
    images_removed.append(root)
    prepared = fixloop(root, offline_pip, "sandbox", "prepare")
    assert prepared.returncode == 1
    assert "Python >=3.99" in prepared.stderr and "sandbox runs Python 3." in prepared.stderr


def test_a_javascript_projects_packages_are_prepared_when_not_installed(
    tmp_path: Path, offline_pip: dict[str, str], images_removed: list[Path]
) -> None:
    from fixloop.sandbox import SandboxPool

    root = tmp_path / "jsp"
    (root / "src").mkdir(parents=True)
    (root / "test").mkdir()
    (root / "package.json").write_text(
        json.dumps(
            {
                "name": "jsp",
                "description": str(root),
                "type": "module",
                "scripts": {"test": "node --test"},
                "dependencies": {"is-number": "7.0.0"},
            }
        )
    )
    (root / "src" / "check.js").write_text(
        'import isNumber from "is-number";\n'
        "export const positive = (x) => isNumber(x) && Number(x) > 0;\n"
    )
    (root / "test" / "check.test.js").write_text(
        'import { test } from "node:test";\nimport assert from "node:assert";\n'
        'import { positive } from "../src/check.js";\n'
        'test("positive", () => { assert.strictEqual(positive("3"), true); });\n'
    )
    images_removed.append(root)
    prepared = fixloop(root, offline_pip, "sandbox", "prepare", "--json")
    assert prepared.returncode == 0, prepared.stderr
    assert json.loads(prepared.stdout)["node_modules"] is True
    assert not (root / "node_modules").exists()  # the user's folder is left as it was
    with SandboxPool() as pool:
        result = pool.run(root, {}, "npm test")
    assert result.passed and result.tally() == {"passed": 1, "failed": 0}, result.output.text


def test_a_pytest_plugins_modules_are_rewritten_once_when_prepared(
    tmp_path: Path, offline_pip: dict[str, str], images_removed: list[Path]
) -> None:
    """pytest rewrites every module of a plugin's distribution; the sandbox writes no
    bytecode, so without this each run rewrote them again (hypothesis: 0.5 s a run)."""
    root = make_project(tmp_path / "proj", ["pytest-mock"])
    images_removed.append(root)
    prepared = fixloop(root, offline_pip, "sandbox", "prepare", "--json")
    assert prepared.returncode == 0, prepared.stderr
    image = json.loads(prepared.stdout)["image"]
    found = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", image, "sh", "-c",
         "find / -path '*pytest_mock/__pycache__/*-pytest-*.pyc' 2>/dev/null; "
         "stat -c %U $(python3 -c 'import pytest_mock, os; print(os.path.dirname("
         "pytest_mock.__file__))')"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = found.stdout.split()
    assert any(line.endswith(".pyc") for line in lines), found.stdout + found.stderr
    assert lines[-1] == "root"  # and the sandbox's user cannot change them afterwards


def test_a_projects_coverage_options_cost_its_runs_nothing(
    tmp_path: Path, offline_pip: dict[str, str], images_removed: list[Path]
) -> None:
    """`addopts = --cov` (most projects that use pytest-cov): coverage is a report, not a
    verdict. With it on, each candidate's run measured and reported coverage, failed its
    threshold in a run of a few tests, and could not run warm (coverage's tracer replaced
    the warm runner's)."""
    root = make_project(tmp_path / "proj", ["six", "markupsafe", "pytest-cov"])
    images_removed.append(root)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + 'addopts = "--cov=pkg --cov-branch --cov-fail-under=100"\n'
    )
    fixed = fixloop(root, offline_pip, "fix", "src/pkg/core.py", "--no-memory", "--json")
    assert fixed.returncode == 0, fixed.stderr
    result = json.loads(fixed.stdout)
    assert result["verified"] and result["tests"] == {"passed": 4, "failed": 0}, result
    [log] = (tmp_path / "data" / "sessions").glob("*.jsonl")
    events = [json.loads(line) for line in log.read_text().splitlines()]
    runners = {e.get("runner") for e in events if e["event"] == "candidate"}
    assert runners == {"warm"}, [e.get("warm_fallback") for e in events if "warm_fallback" in e]


def test_only_the_plugins_an_environment_has_are_switched_off(tmp_path: Path) -> None:
    for name in ("pytest_cov-7.0.0", "pytest_xdist-3.8.0", "six-1.17.0", "coverage-7.10.0"):
        (tmp_path / f"{name}-py3-none-any.whl").write_bytes(b"")
    assert pytest_switches(tmp_path) == ["--no-cov", "-n", "0"]


def test_a_project_pytest_itself_imports_is_tested_as_its_own_code(
    tmp_path: Path, wheelhouse: Path, offline_pip: dict[str, str], images_removed: list[Path]
) -> None:
    """iniconfig (or pluggy, packaging, ...) fixed in its own repository: pytest imports
    the project's copy in the user's venv. A pytest forked from the sandbox's warm agent,
    which imported the installed copy already, tested that one: "the tests already pass"."""
    root = tmp_path / "iniconfig"
    [wheel] = wheelhouse.glob("iniconfig-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(
            root / "src", [n for n in archive.namelist() if n.startswith("iniconfig/")]
        )
    images_removed.append(root)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "iniconfig"\nversion = "0"\ndescription = "' + str(root) + '"\n'
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
    )
    source = root / "src" / "iniconfig" / "__init__.py"
    right = "return None if lineno is None else lineno + 1"
    assert right in source.read_text()
    source.write_text(source.read_text().replace(right, right.replace("+ 1", "+ 2")))
    (root / "tests").mkdir()
    (root / "tests" / "test_lines.py").write_text(
        "from iniconfig import IniConfig\n\n\ndef test_lineof():\n"
        '    ini = IniConfig("x.ini", data="[s]\\nk = v\\nj = w\\n")\n'
        '    assert (ini.lineof("s", "k"), ini.lineof("s", "j")) == (2, 3)\n'
    )
    fixed = fixloop(root, offline_pip, "fix", "src/iniconfig/__init__.py", "--no-memory", "--json")
    assert fixed.returncode == 0, fixed.stderr
    result = json.loads(fixed.stdout)
    assert result["verified"] and f"+        {right}\n" in result["patch"], fixed.stderr


def test_a_test_tool_that_cannot_be_installed_is_left_out_and_said(
    tmp_path: Path, offline_pip: dict[str, str], images_removed: list[Path]
) -> None:
    """tinydb's dev group names pytest-pycodestyle, which has no wheel: its preparation
    failed, and with it every fix. A tool of the tests is left out, said; the project's
    own dependencies still must install (the test above)."""
    root = make_project(tmp_path / "proj", ["six", "markupsafe"])
    images_removed.append(root)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '[dependency-groups]\ndev = ["fixloop-no-such-tool==1.0"]\n'
    )
    prepared = fixloop(root, offline_pip, "sandbox", "prepare", "--json")
    assert prepared.returncode == 0, prepared.stderr
    notes = json.loads(prepared.stdout)["notes"]
    assert any(n.startswith("not installed: fixloop-no-such-tool==1.0") for n in notes), notes
    fixed = fixloop(root, offline_pip, "fix", "src/pkg/core.py", "--no-memory", "--json")
    assert fixed.returncode == 0, fixed.stderr
    assert json.loads(fixed.stdout)["verified"] is True


WRAPPED_ERROR_TEST = """\
import pluggy
import pytest

spec, impl = pluggy.HookspecMarker("t"), pluggy.HookimplMarker("t")


class Spec:
    @spec
    def work(self): ...


class Wrapper:
    @impl(hookwrapper=True)
    def work(self):
        yield


class Failing:
    @impl
    def work(self):
        raise ValueError("boom")


class Recording:
    @impl(hookwrapper=True)
    def work(self):
        self.seen = (yield).get_result()


class Returning:
    @impl
    def work(self):
        return 1


def test_an_error_goes_through_an_old_style_wrapper():
    manager = pluggy.PluginManager("t")
    manager.add_hookspecs(Spec)
    manager.register(Wrapper())
    manager.register(Failing())
    with pytest.raises(ValueError):
        manager.hook.work()


def test_an_old_style_wrapper_sees_the_result():
    manager, wrapper = pluggy.PluginManager("t"), Recording()
    manager.add_hookspecs(Spec)
    manager.register(wrapper)
    manager.register(Returning())
    assert manager.hook.work() == wrapper.seen == [1]
"""


def test_a_project_pytest_imports_gets_the_verdict_of_the_users_pytest(
    tmp_path: Path, wheelhouse: Path, offline_pip: dict[str, str], images_removed: list[Path]
) -> None:
    """pluggy fixed in its own repository, with a pytest and plugins of its own: its bug
    turns the exception an old-style hookwrapper wraps into a result. The user's pytest
    (whose own wrappers are new-style) reports the failing test; the sandbox's ran every
    test inside old-style wrappers, fixloop's timeout plugin's and the base image's
    hypothesis plugin's, which swallowed the failure: "the tests already pass" (and on
    pluggy itself, a patch breaking the wrappers was verified)."""
    root = tmp_path / "pluggy"
    [wheel] = wheelhouse.glob("pluggy-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(root / "src", [n for n in archive.namelist() if n.startswith("pluggy/")])
    images_removed.append(root)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "pluggy"\nversion = "0"\ndescription = "{root}"\n'
        'dependencies = ["pytest>=8", "pytest-mock"]\n'
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
    )
    source = root / "src" / "pluggy" / "_execution.py"
    right = "result = Result(None, exc)"
    assert right in source.read_text()
    source.write_text(source.read_text().replace(right, "result = Result(exc, None)"))
    (root / "tests").mkdir()
    (root / "tests" / "test_wrappers.py").write_text(WRAPPED_ERROR_TEST)
    fixed = fixloop(root, offline_pip, "fix", "src/pluggy/_execution.py", "--no-memory", "--json")
    assert fixed.returncode == 0, fixed.stderr
    result = json.loads(fixed.stdout)
    assert result["verified"] and f"+        {right}\n" in result["patch"], fixed.stderr
