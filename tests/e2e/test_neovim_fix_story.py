"""The fix story in the real Neovim (headless 0.7) with the real sandbox and the offline
engine: open a file whose test fails → the failure shows as a diagnostic on the faulty line
→ choose "Fix with fixloop (run tests)" → the buffer holds the verified fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_neovim import run_nvim, trust
from tests.support.examples import copy_of_shop

pytestmark = pytest.mark.slow

STORY = """
local function test_failure()
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.source == "fixloop-tests" then return d end
  end
end
if not vim.wait(90000, function() return test_failure() ~= nil end, 50) then
  return { stage = "no test diagnostic", diagnostics = diagnostics() }
end
local d = test_failure()
local seen = { lnum = d.lnum, message = d.message }
local range = {
  start = { line = d.lnum, character = d.col },
  ["end"] = { line = d.end_lnum, character = d.end_col },
}
local params = {
  textDocument = { uri = vim.uri_from_bufnr(0) },
  range = range,
  context = { diagnostics = { {
    range = range, message = d.message, source = d.source, code = d.code,
    severity = d.severity,
  } } },
}
local responses = vim.lsp.buf_request_sync(0, "textDocument/codeAction", params, 10000)
local titles, chosen, client_id = {}, nil, nil
for id, response in pairs(responses or {}) do
  for _, action in ipairs(response.result or {}) do
    table.insert(titles, action.title)
    if action.title == "Fix with fixloop (run tests)" and chosen == nil then
      chosen, client_id = action, id
    end
  end
end
if chosen == nil then
  return { stage = "no fix action", seen = seen, titles = titles }
end
-- What Neovim does with a chosen action that carries a command: execute it on the server,
-- which answers with workspace/applyEdit (handled by Neovim) once the tests pass.
local command = chosen.command
if type(command) == "string" then command = chosen end
local client = vim.lsp.get_client_by_id(client_id)
local done = false
client.request("workspace/executeCommand", {
  command = command.command, arguments = command.arguments,
}, function() done = true end, 0)
local fixed = vim.wait(120000, function()
  for _, line in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
    if line:find("quantity >= 10", 1, true) then return true end
  end
  return false
end, 50)
vim.wait(5000, function() return done end, 50)
return {
  stage = fixed and "fixed" or "no edit",
  seen = seen,
  titles = titles,
  lines = vim.api.nvim_buf_get_lines(0, 0, -1, false),
  modified = vim.bo.modified,
}
"""


def test_open_a_failing_file_choose_the_fix_and_the_buffer_holds_it(tmp_path: Path) -> None:
    shop = copy_of_shop(tmp_path)
    trust(shop, tmp_path)  # as a Neovim user does, so that its tests run on open
    pricing = shop / "pricing.py"
    faulty = pricing.read_text(encoding="utf-8").splitlines().index("    if quantity > 10:")

    report = run_nvim(
        tmp_path,
        pricing,
        STORY,
        settings={"fixloop": {"memory": {"enabled": False}}},
        timeout_s=240,
    )

    outcome = report["outcome"]
    assert outcome["stage"] == "fixed", f"{outcome}\n{report['context']}"
    assert outcome["seen"]["lnum"] == faulty, outcome  # the test failure, at the faulty line
    assert outcome["titles"].index("Fix with fixloop (run tests)") >= 0
    assert "    if quantity >= 10:" in outcome["lines"]
    assert outcome["modified"] is True  # in the buffer; the file is the user's to save
    assert "quantity > 10" in pricing.read_text(encoding="utf-8")
