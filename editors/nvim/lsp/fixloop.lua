-- fixloop for Neovim 0.11+ (`:help lsp-config`): with editors/nvim on 'runtimepath',
--
--   vim.lsp.config("fixloop", { settings = { fixloop = { tests = { command = "pytest -q" } } } })
--   vim.lsp.enable("fixloop")
--
-- No nvim-lspconfig needed (fixloop is not in its list). The same command, filetypes and root
-- markers as lua/fixloop.lua's `setup`, whose handlers answer a prompt in a headless Neovim
-- and keep `fixloop/status` for a statusline (`require("fixloop").statusline()`).
return {
  cmd = { "fixloop", "lsp", "--stdio" },
  filetypes = { "python", "javascript", "javascriptreact", "typescript", "typescriptreact" },
  root_markers = { "pyproject.toml", "package.json", ".git" },
  -- The whole settings object: the server reads its `fixloop` section.
  settings = { fixloop = {} },
  handlers = require("fixloop").handlers,
}
