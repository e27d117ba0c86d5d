"""The memory's settings as the store reads them: every `MemorySettings` field reaches
`MemoryConfig`, an `openai:` embedding uses the model's endpoint and key variable, and what
the settings do not name keeps the store's defaults."""

from __future__ import annotations

from pathlib import Path

from fixloop.config import load_settings
from fixloop.memory.store import MemoryConfig


def test_the_users_memory_settings_reach_the_store(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "FIXLOOP_MEMORY_PATH": "~/team-memory",
        "FIXLOOP_MEMORY_EMBEDDING": "openai:text-embedding-3-small",
        "FIXLOOP_MEMORY_RETENTION_DAYS": "7",
        "FIXLOOP_MEMORY_CAP_PER_KIND": "50",
        "FIXLOOP_MEMORY_ENABLED": "false",
        "FIXLOOP_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "FIXLOOP_LLM_API_KEY_ENV": "MY_MODEL_KEY",
    }
    settings = load_settings(None, environ=env)
    assert settings.problems == ()
    config = MemoryConfig.from_settings(settings.memory, settings.llm)
    assert config.path == Path("~/team-memory").expanduser()
    assert config.url is None
    assert config.embedding == "openai:text-embedding-3-small"
    assert (config.retention_days, config.cap_per_kind, config.enabled) == (7, 50, False)
    assert config.embedding_base_url == "http://127.0.0.1:9/v1"
    assert config.api_key_env == "MY_MODEL_KEY"
    defaults = MemoryConfig()
    assert (config.retry_seconds, config.lock_timeout, config.probe) == (
        defaults.retry_seconds,
        defaults.lock_timeout,
        defaults.probe,
    )


def test_without_the_model_settings_an_embedding_uses_the_default_key_variable() -> None:
    settings = load_settings(None, environ={"FIXLOOP_MEMORY_URL": "http://chroma:8000"})
    config = MemoryConfig.from_settings(settings.memory)
    assert config.url == "http://chroma:8000" and config.path is None
    assert config.embedding_base_url is None and config.api_key_env == "OPENAI_API_KEY"
    assert config == MemoryConfig.from_settings(settings.memory, settings.llm)
