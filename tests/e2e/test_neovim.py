"""The real Neovim (the one CI installs, 0.7 on Debian) driving the real server through
`editors/nvim`: diagnostics appear in `vim.diagnostic`, and a quick fix applies.

Each test runs `nvim --headless --clean` with an init.lua that calls our `setup`, plus a Lua
driver that waits (bounded) for the editor's state, writes what it saw as JSON, and quits.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PLUGIN_DIR = REPO / "editors" / "nvim"
SERVER_CMD = [sys.executable, "-m", "fixloop", "lsp"]
# Bounds: the driver gives up waiting after WAIT_MS; the whole editor is killed after this.
WAIT_MS = 15_000
NVIM_TIMEOUT_S = 60

# Runs the scenario (a Lua function body returning a table) and always quits, with a result
# file either way, so that a Lua error is reported instead of leaving the editor waiting.
DRIVER = """
local result_path = {result_path}
local function wait_for(predicate)
  return vim.wait({wait_ms}, predicate, 20)
end
local function diagnostics()
  local seen = {{}}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    table.insert(seen, {{
      lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
      message = d.message, source = d.source, code = d.code, severity = d.severity,
    }})
  end
  return seen
end
local function scenario()
{body}
end
local ok, outcome = xpcall(scenario, debug.traceback)
local report = {{
  ok = ok,
  outcome = ok and outcome or vim.NIL,
  error = (not ok) and outcome or vim.NIL,
  lsp_log = vim.lsp.get_log_path(),
  messages = vim.fn.execute("messages"),
}}
vim.fn.writefile({{ vim.fn.json_encode(report) }}, result_path)
vim.cmd("qa!")
"""


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal


def _lua_table(value: Any) -> str:
    """Settings as a Lua expression, decoded from JSON by Neovim itself."""
    return f"vim.fn.json_decode({_lua_string(json.dumps(value))})"


def nvim_environment(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "nvim-home"  # keeps the user's state, shada and LSP log out of it
    return {
        **os.environ,
        **{
            name: str(home / name.lower())
            for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")
        },
    }


def trust(project: Path, tmp_path: Path) -> None:
    """`fixloop trust PROJECT` as the user of the Neovim that `run_nvim` starts."""
    subprocess.run(
        [sys.executable, "-m", "fixloop", "trust", str(project)],
        env=nvim_environment(tmp_path),
        check=True,
        capture_output=True,
    )


def run_nvim(
    tmp_path: Path,
    file: Path,
    scenario: str,
    settings: Any = None,
    timeout_s: float = NVIM_TIMEOUT_S,
) -> dict[str, Any]:
    """Open `file` in a headless Neovim with fixloop set up, run `scenario`, return its report."""
    nvim = shutil.which("nvim")
    assert nvim, "nvim is not installed (CI installs Debian's `neovim`): this test needs it"
    init = tmp_path / "init.lua"
    init.write_text(
        textwrap.dedent(
            f"""
            vim.opt.runtimepath:append({_lua_string(str(PLUGIN_DIR))})
            vim.lsp.set_log_level("debug")
            require("fixloop").setup({{
              cmd = {_lua_table(SERVER_CMD)},
              settings = {_lua_table(settings or {})},
            }})
            """
        )
    )
    result_path = tmp_path / "result.json"
    driver = tmp_path / "driver.lua"
    driver.write_text(
        DRIVER.format(
            result_path=_lua_string(str(result_path)),
            wait_ms=WAIT_MS,
            body=textwrap.indent(textwrap.dedent(scenario), "  "),
        )
    )
    env = nvim_environment(tmp_path)
    command = [nvim, "--headless", "--clean", "-u", str(init), str(file), "-c", f"luafile {driver}"]
    # A session of its own: killing the group also ends the server Neovim started.
    process = subprocess.Popen(
        command,
        cwd=file.parent,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    finally:
        # The editor is gone; a server it failed to stop is not left behind either.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    lsp_log = Path(env["XDG_CACHE_HOME"]) / "nvim" / "lsp.log"
    context = "\n".join(
        [
            f"command: {' '.join(command)}",
            f"exit status: {process.returncode}",
            f"nvim stdout:\n{stdout.decode(errors='replace')}",
            f"nvim stderr:\n{stderr.decode(errors='replace')}",
            f"LSP log ({lsp_log}):\n{_tail(lsp_log)}",
        ]
    )
    assert result_path.exists(), f"Neovim wrote no result.\n{context}"
    report: dict[str, Any] = json.loads(result_path.read_text())
    assert report["ok"], f"the Lua scenario failed: {report['error']}\n{context}"
    report["context"] = context
    return report


def _tail(path: Path, lines: int = 80) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')
    return root


def test_syntax_error_shows_in_vim_diagnostic(tmp_path: Path, project: Path) -> None:
    broken = project / "greet.py"
    broken.write_text('def greet(name)\n    return "hello " + name\n')

    report = run_nvim(
        tmp_path,
        broken,
        """
        local found = wait_for(function() return #vim.diagnostic.get(0) > 0 end)
        local clients = vim.lsp.buf_get_clients(0)
        local names = {}
        for _, client in pairs(clients) do table.insert(names, client.name) end
        return { found = found, diagnostics = diagnostics(), clients = names }
        """,
    )

    outcome = report["outcome"]
    assert outcome["found"], f"no diagnostics within {WAIT_MS} ms\n{report['context']}"
    assert outcome["clients"] == ["fixloop"], report["context"]
    assert {
        "lnum": 0,
        "col": 14,
        "code": "FL001",
        "source": "fixloop",
        "message": "missing `:` at the end of the `def` line",
    }.items() <= outcome["diagnostics"][0].items(), report["context"]
    assert len(outcome["diagnostics"]) == 1, report["context"]


def test_yaml_quick_fix_applies_in_the_buffer(tmp_path: Path, project: Path) -> None:
    risky = project / "config_reader.py"
    risky.write_text("import yaml\n\n\ndef read(p):\n    return yaml.load(open(p))\n")

    report = run_nvim(
        tmp_path,
        risky,
        """
        local function yaml_finding()
          for _, d in ipairs(vim.diagnostic.get(0)) do
            if d.code == "FL106" then return d end
          end
        end
        if not wait_for(function() return yaml_finding() ~= nil end) then
          return { found = false, diagnostics = diagnostics() }
        end
        local d = yaml_finding()
        local range = {
          start = { line = d.lnum, character = d.col },
          ["end"] = { line = d.end_lnum, character = d.end_col },
        }
        local params = {
          textDocument = { uri = vim.uri_from_bufnr(0) },
          range = range,
          context = { diagnostics = {
            { range = range, message = d.message, source = d.source, code = d.code,
              severity = d.severity },
          } },
        }
        local responses = vim.lsp.buf_request_sync(0, "textDocument/codeAction", params, 5000)
        local titles, chosen, client_id = {}, nil, nil
        for id, response in pairs(responses or {}) do
          for _, action in ipairs(response.result or {}) do
            table.insert(titles, action.title)
            if action.title:find("Use yaml.safe_load", 1, true) == 1 then
              chosen, client_id = action, id
            end
          end
        end
        if chosen == nil then
          return { found = true, titles = titles, responses = responses }
        end
        -- Neovim 0.7's signature is (edit, offset_encoding); the client's encoding is what
        -- the server's positions are in (utf-16 on 0.7).
        local encoding = vim.lsp.get_client_by_id(client_id).offset_encoding
        vim.lsp.util.apply_workspace_edit(chosen.edit, encoding)
        return {
          found = true,
          titles = titles,
          encoding = encoding,
          lines = vim.api.nvim_buf_get_lines(0, 0, -1, false),
        }
        """,
    )

    outcome = report["outcome"]
    assert outcome["found"], f"no FL106 diagnostic within {WAIT_MS} ms\n{report['context']}"
    assert "lines" in outcome, f"no 'Use yaml.safe_load' action: {outcome}\n{report['context']}"
    assert outcome["encoding"] == "utf-16"
    assert outcome["lines"][4] == "    return yaml.safe_load(open(p))", report["context"]


def test_settings_reach_the_server(tmp_path: Path, project: Path) -> None:
    """Neovim 0.7 neither pushes `settings` nor declares workspace/configuration: the module
    pushes them in on_init. With only the syntax group on, the yaml warning must go."""
    both = project / "both.py"
    both.write_text("import yaml\n\ndata = yaml.load(open('x'))\n\ndef broken(:\n    pass\n")

    report = run_nvim(
        tmp_path,
        both,
        """
        local function codes()
          local seen = {}
          for _, d in ipairs(vim.diagnostic.get(0)) do seen[d.code] = true end
          return seen
        end
        local settled = wait_for(function()
          local seen = codes()
          return next(seen) ~= nil and not seen["FL106"]
        end)
        return { settled = settled, diagnostics = diagnostics() }
        """,
        settings={"fixloop": {"diagnostics": {"groups": ["syntax"]}}},
    )

    outcome = report["outcome"]
    codes = {d["code"] for d in outcome["diagnostics"]}
    assert outcome["settled"], f"settings not applied: {codes}\n{report['context']}"
    assert codes == {"FL002"}, report["context"]


def test_a_jsx_buffer_gets_diagnostics(tmp_path: Path, project: Path) -> None:
    """`.jsx` is Neovim's `javascriptreact` filetype: the module attaches there too."""
    component = project / "App.jsx"
    component.write_text("export function App( {\n  return <div>hello</div>;\n}\n")

    report = run_nvim(
        tmp_path,
        component,
        """
        local found = wait_for(function() return #vim.diagnostic.get(0) > 0 end)
        return { found = found, filetype = vim.bo.filetype, diagnostics = diagnostics() }
        """,
    )

    outcome = report["outcome"]
    assert outcome["filetype"] == "javascriptreact", report["context"]
    assert outcome["found"], f"no diagnostics within {WAIT_MS} ms\n{report['context']}"
    codes = {(d["source"], d["code"]) for d in outcome["diagnostics"]}
    assert codes & {("fixloop", "FL001"), ("fixloop", "FL002")}, report["context"]
