"""Settings: pyproject < environment < editor, and bad values fall back to defaults."""

from __future__ import annotations

from pathlib import Path

from fixloop.config import load_settings


def _project(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(toml, encoding="utf-8")
    return tmp_path


def test_defaults_without_any_source() -> None:
    settings = load_settings(None, environ={})
    assert settings.diagnostics.groups == ("syntax", "safety", "secrets")
    assert settings.engine == "auto" and settings.problems == ()


def test_pyproject_then_environment_then_editor(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        '[tool.fixloop]\ntest-command = "pytest -q"\nengine = "offline"\n'
        '[tool.fixloop.llm]\nmodel = "from-file"\n',
    )
    settings = load_settings(root, environ={"FIXLOOP_LLM_MODEL": "from-env"})
    assert settings.tests.command == "pytest -q"
    assert settings.engine == "offline"
    assert settings.llm.model == "from-env"
    settings = load_settings(
        root,
        environ={"FIXLOOP_LLM_MODEL": "from-env"},
        editor={"llm": {"model": "from-editor"}, "testCommand": "make t"},
    )
    assert settings.llm.model == "from-editor"
    assert settings.tests.command == "make t"


def test_environment_lists_and_booleans() -> None:
    settings = load_settings(
        None,
        environ={"FIXLOOP_DIAGNOSTICS_GROUPS": "syntax, secrets", "FIXLOOP_MEMORY_ENABLED": "off"},
    )
    assert settings.diagnostics.groups == ("syntax", "secrets")
    assert settings.memory.enabled is False


def test_invalid_values_are_reported_and_defaults_kept(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        '[tool.fixloop]\nengine = "quantum"\nbogus = 1\n'
        '[tool.fixloop.diagnostics]\nmax-file-bytes = "lots"\n',
    )
    settings = load_settings(root, environ={})
    assert settings.engine == "auto"
    assert settings.diagnostics.max_file_bytes == 2_000_000
    assert any("engine" in p and "quantum" in p for p in settings.problems)
    assert any("bogus" in p for p in settings.problems)
    assert any("diagnostics.max_file_bytes" in p for p in settings.problems)


def test_broken_pyproject_is_reported_not_fatal(tmp_path: Path) -> None:
    root = _project(tmp_path, "[tool.fixloop\nengine=")
    settings = load_settings(root, environ={})
    assert settings.engine == "auto"
    assert any("pyproject.toml" in p for p in settings.problems)
