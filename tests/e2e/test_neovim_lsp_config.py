"""`editors/nvim/lsp/fixloop.lua`, the configuration for Neovim 0.11's
`vim.lsp.enable("fixloop")`, loaded by the real Neovim CI has (0.7: it has no `vim.lsp.config`,
but the file is plain Lua returning a table): it parses, and it starts the same server for
the same filetypes and roots as the module the 0.7 tests drive and the VS Code extension."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PLUGIN_DIR = REPO / "editors" / "nvim"
LSP_CONFIG = PLUGIN_DIR / "lsp" / "fixloop.lua"
PACKAGE = REPO / "vscode-client" / "package.json"
EXTENSION = REPO / "vscode-client" / "src" / "extension.ts"

# Loads both in Neovim and writes what matters as JSON (functions are not JSON: names only).
SCRIPT = """
vim.opt.runtimepath:append({plugin})
local loaded, err = loadfile({config})
if not loaded then
  vim.fn.writefile({{ vim.fn.json_encode({{ error = err }}) }}, {out})
  vim.cmd("qa!")
end
local config = loaded()
local module = require("fixloop")
local handlers = {{}}
for name, handler in pairs(config.handlers or {{}}) do
  handlers[name] = handler == module.handlers[name]
end
vim.fn.writefile({{ vim.fn.json_encode({{
  config = {{ cmd = config.cmd, filetypes = config.filetypes, root_markers = config.root_markers,
             settings = config.settings, handlers = handlers }},
  module = module.defaults,
}}) }}, {out})
vim.cmd("qa!")
"""


def _load_in_neovim(tmp_path: Path, config: Path) -> dict[str, Any]:
    nvim = shutil.which("nvim")
    assert nvim, "nvim is not installed (CI installs Debian's `neovim`): this test needs it"
    out = tmp_path / "out.json"
    script = tmp_path / "load.lua"
    script.write_text(
        SCRIPT.format(
            plugin=json.dumps(str(PLUGIN_DIR)),
            config=json.dumps(str(config)),
            out=json.dumps(str(out)),
        )
    )
    run = subprocess.run(
        [nvim, "--headless", "--clean", "-c", f"luafile {script}"],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert out.exists(), f"Neovim wrote nothing: {run.stdout[-2000:]} {run.stderr[-2000:]}"
    return dict(json.loads(out.read_text()))


def _extension_languages() -> tuple[list[str], list[str]]:
    """The VS Code extension's languages: its activation events and its documentSelector."""
    package = json.loads(PACKAGE.read_text())
    activation = [
        event.removeprefix("onLanguage:")
        for event in package["activationEvents"]
        if event.startswith("onLanguage:")
    ]
    found = re.search(r"const LANGUAGES = \[([^\]]*)\]", EXTENSION.read_text())
    assert found, "LANGUAGES not found in extension.ts"
    selector = re.findall(r'"([^"]+)"', found.group(1))
    return activation, selector


def test_the_0_11_config_is_the_modules_and_the_extensions(tmp_path: Path) -> None:
    loaded = _load_in_neovim(tmp_path, LSP_CONFIG)
    assert "error" not in loaded, loaded
    config, module = loaded["config"], loaded["module"]
    assert config["cmd"] == module["cmd"] == ["fixloop", "lsp", "--stdio"]
    assert config["root_markers"] == module["root_markers"]
    assert config["filetypes"] == module["filetypes"]
    activation, selector = _extension_languages()
    assert sorted(config["filetypes"]) == sorted(activation) == sorted(selector)
    assert {"javascriptreact", "typescriptreact"} <= set(config["filetypes"])
    assert config["settings"] == {"fixloop": []}  # an empty Lua table is a JSON list
    # The module's own handlers: a prompt answered headless, `fixloop/status` kept.
    assert config["handlers"] == {"window/showMessageRequest": True, "fixloop/status": True}


def test_a_broken_config_is_reported(tmp_path: Path) -> None:
    """The check above fails on a file Neovim cannot parse."""
    broken = tmp_path / "fixloop.lua"
    broken.write_text(LSP_CONFIG.read_text().replace("return {", "return {{", 1))
    assert "error" in _load_in_neovim(tmp_path, broken)


def test_the_neovim_docs_use_no_deprecated_api() -> None:
    """lspconfig's `configs` framework for custom servers and `buf_get_clients` are deprecated."""
    for doc in (PLUGIN_DIR / "README.md", REPO / "README.md"):
        text = doc.read_text()
        assert 'require("lspconfig.configs")' not in text, doc
        assert "buf_get_clients" not in text, doc
