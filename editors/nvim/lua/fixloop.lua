-- fixloop for Neovim's built-in LSP client, on Neovim 0.7 and later (on 0.11+,
-- `vim.lsp.enable("fixloop")` with lsp/fixloop.lua is the other way; it uses `handlers` here).
--
--   require("fixloop").setup({
--     cmd = { "fixloop", "lsp", "--stdio" },
--     settings = { fixloop = { diagnostics = { groups = { "syntax", "safety" } } } },
--   })
--
-- One client per project root (the nearest directory holding one of `root_markers`, else the
-- file's own directory), attached to every buffer of `filetypes` under that root.

local M = {}

local defaults = {
  cmd = { "fixloop", "lsp", "--stdio" },
  -- The whole settings object: the server reads its `fixloop` section.
  settings = {},
  -- The languages the server analyses (as the VS Code extension's), by Neovim filetype.
  filetypes = { "python", "javascript", "javascriptreact", "typescript", "typescriptreact" },
  root_markers = { "pyproject.toml", "package.json", ".git" },
}
M.defaults = defaults

-- Neovim 0.7 only: client ids by root directory (0.8+ `vim.lsp.start` reuses by itself).
local client_id_by_root = {}

local function find_root(path, markers)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  while true do
    for _, marker in ipairs(markers) do
      if (vim.uv or vim.loop).fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return nil
    end
    dir = parent
  end
end

-- Neovim's default handler asks with `inputlist()`, which waits forever when there is no UI
-- (headless, CI): answer "no choice" there instead of hanging the server's request.
local function show_message_request(err, result, ctx, config)
  if #vim.api.nvim_list_uis() == 0 then
    return vim.NIL
  end
  return vim.lsp.handlers["window/showMessageRequest"](err, result, ctx, config)
end

-- The server's `fixloop/status` notification: what the loop is doing ("idle", "testing",
-- "fixing" (with iteration/maxIterations when a model's rounds bound the fix), "unavailable" with the reason), for a statusline.
M.status = { state = "idle", message = "" }

local function on_status(_, params)
  if type(params) ~= "table" then
    return
  end
  M.status = params
  pcall(vim.api.nvim_exec_autocmds, "User", { pattern = "FixloopStatus", modeline = false })
  vim.cmd("redrawstatus")
end

-- The handlers every fixloop client needs (also used by lsp/fixloop.lua).
M.handlers = {
  ["window/showMessageRequest"] = show_message_request,
  ["fixloop/status"] = on_status,
}

--- The loop's state as short text: "fixloop: idle", "fixloop: fixing 2/5", … For a
--- statusline: `vim.o.statusline = "%f %= %{v:lua.require'fixloop'.statusline()}"`.
function M.statusline()
  local status = M.status
  if status.state == "fixing" and status.iteration and status.maxIterations then
    return string.format("fixloop: fixing %d/%d", status.iteration, status.maxIterations)
  end
  if status.state == "unavailable" then
    return "fixloop: unavailable (" .. (status.message or "") .. ")"
  end
  return "fixloop: " .. (status.state or "idle")
end

-- Neovim 0.8+ sends `settings` with workspace/didChangeConfiguration after `initialize`;
-- 0.7 leaves that to `on_init`, and declares no workspace/configuration either, so without
-- this push the server would never see them.
local function push_settings(client)
  if next(client.config.settings or {}) ~= nil then
    client.notify("workspace/didChangeConfiguration", { settings = client.config.settings })
  end
end

local function start_with_0_7(bufnr, config)
  local client_id = client_id_by_root[config.root_dir]
  local client = client_id and vim.lsp.get_client_by_id(client_id)
  if client == nil or client.is_stopped() then
    config.on_init = push_settings
    client_id = vim.lsp.start_client(config)
    client_id_by_root[config.root_dir] = client_id
  end
  if client_id then
    vim.lsp.buf_attach_client(bufnr, client_id)
  end
  return client_id
end

--- Starts (or reuses) the fixloop client for a buffer; returns the client id, or nil.
function M.attach(bufnr, opts)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local path = vim.api.nvim_buf_get_name(bufnr)
  if path == "" or vim.bo[bufnr].buftype ~= "" then
    return nil -- scratch and special buffers have no file for a root
  end
  local config = {
    name = "fixloop",
    cmd = opts.cmd,
    root_dir = find_root(path, opts.root_markers) or vim.fn.fnamemodify(path, ":p:h"),
    settings = opts.settings,
    handlers = M.handlers,
  }
  if vim.lsp.start ~= nil then
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  return start_with_0_7(bufnr, config)
end

function M.setup(user_opts)
  local opts = vim.tbl_deep_extend("force", {}, defaults, user_opts or {})
  local group = vim.api.nvim_create_augroup("fixloop", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = opts.filetypes,
    callback = function(event)
      M.attach(event.buf, opts)
    end,
  })
  -- Buffers already open when setup runs (e.g. `nvim file.py` with setup in a later script).
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(opts.filetypes, vim.bo[bufnr].filetype) then
      M.attach(bufnr, opts)
    end
  end
end

return M
