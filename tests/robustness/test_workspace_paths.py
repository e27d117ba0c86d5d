"""Issue 16, case 9: workspace membership is decided on resolved paths. A URI that starts
with a workspace folder but climbs out of it with `..` is outside the workspace, and no
command reads the file it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixloop.lsp.workspace_paths import innermost_folder
from tests.support.raw_server import RawServer


def test_dot_dot_out_of_a_folder_is_outside(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "sub").mkdir(parents=True)
    folders = [workspace.as_uri(), (workspace / "sub").as_uri()]
    assert innermost_folder(workspace.as_uri() + "/../../../etc/passwd.py", folders) is None
    assert innermost_folder(workspace.as_uri() + "/sub/../a.py", folders) == workspace
    assert innermost_folder((workspace / "sub" / "a.py").as_uri(), folders) == workspace / "sub"


def test_a_symlink_out_of_the_folder_is_outside(tmp_path: Path) -> None:
    workspace, outside = tmp_path / "ws", tmp_path / "outside"
    workspace.mkdir()
    outside.mkdir()
    (workspace / "link").symlink_to(outside)
    assert innermost_folder((workspace / "link" / "a.py").as_uri(), [workspace.as_uri()]) is None


@pytest.mark.parametrize(
    ("command", "arguments"),
    [("fixloop.fix", ["{uri}"]), ("fixloop.generateTests", ["{uri}", 0])],
)
def test_case_9_commands_refuse_a_file_outside_the_workspace(
    server: RawServer, tmp_path: Path, command: str, arguments: list[object]
) -> None:
    workspace = tmp_path / "ws"
    (workspace / "pytest.ini").write_text("[pytest]\n")
    secret = tmp_path / "outside" / "secret.py"
    secret.parent.mkdir()
    secret.write_text("TOKEN = 'hunter2'\n")
    uri = workspace.as_uri() + "/../outside/secret.py"  # textually under the folder
    document = {"uri": uri, "languageId": "python", "version": 1, "text": secret.read_text()}
    server.notify("textDocument/didOpen", {"textDocument": document})
    arguments = [uri if a == "{uri}" else a for a in arguments]
    params = {"command": command, "arguments": arguments}
    result = server.answer(server.request("workspace/executeCommand", params), timeout=30)
    assert result["result"]["status"] == "refused"
    assert "outside the workspace" in result["result"]["message"]
