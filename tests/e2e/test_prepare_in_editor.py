""" "Fix with fixloop" in a project whose tests need third-party packages: the server
prepares the project's sandbox environment on demand and says so in `$/progress` and
the status bar, then fixes the bug (the real server, the real sandbox, VS Code's
capabilities; packages from a wheelhouse, as a machine with no index would have them)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SERVER, initialize_in
from tests.support.editor import EditorClient, make_editor_client
from tests.support.packages import (
    fill_wheelhouse,
    make_project,
    offline_index,
    remove_prepared_images,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The package, its tests not run on open; the server started after this inherits
    the user's pip settings (no index, the wheelhouse)."""
    for name, value in offline_index(fill_wheelhouse()).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FIXLOOP_MEMORY_PATH", str(tmp_path / "memory"))
    root = make_project(tmp_path / "pkgproj", ["six>=1.10", "markupsafe>=2"])
    with (root / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write('\n[tool.fixloop.tests]\nrun = "off"\n')
    yield root
    remove_prepared_images([root])


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=make_editor_client)
)
async def client(lsp_client: LanguageClient, project: Path) -> AsyncIterator[None]:
    await initialize_in(lsp_client, "visual-studio-code", project)
    yield
    await lsp_client.shutdown_session()


async def test_the_fix_prepares_the_projects_environment_with_progress(
    client: EditorClient, project: Path
) -> None:
    assert os.environ.get("PIP_NO_INDEX") == "1"
    source = project / "src" / "pkg" / "core.py"
    uri = source.as_uri()
    client.open(uri, source.read_text(encoding="utf-8"))
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="fixloop.fix", arguments=[uri])
    )
    assert result["status"] == "fixed", result
    [reports] = client.progress_reports.values()
    said = [getattr(r, "message", None) or "" for r in reports]
    preparing = [m for m in said if m.startswith("preparing the sandbox")]
    assert any("installing" in m and "packages" in m for m in preparing), said
    assert any("4 passed" in m or "tests failing" in m for m in said), said  # then the loop
    assert any("preparing the sandbox" in str(s.get("message")) for s in client.statuses)
    _, fixed = client.buffers[uri]
    assert "        return high\n    if value < low" in fixed
