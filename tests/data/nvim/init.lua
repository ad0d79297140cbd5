-- Minimal Neovim set-up that attaches `emberlint lsp` to Python buffers (works with Neovim 0.7+; on 0.8+
-- `vim.lsp.start` does the same in one call, see docs/editors.md).
-- EMBERLINT_LSP_CMD: the command as a JSON list (default: {"emberlint", "lsp"}).
local cmd = { "emberlint", "lsp" }
if vim.env.EMBERLINT_LSP_CMD and vim.env.EMBERLINT_LSP_CMD ~= "" then
  cmd = vim.fn.json_decode(vim.env.EMBERLINT_LSP_CMD)
end

local client_id = nil

vim.api.nvim_create_autocmd("FileType", {
  pattern = "python",
  callback = function(args)
    if client_id == nil then
      client_id = vim.lsp.start_client({
        name = "emberlint",
        cmd = cmd,
        root_dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(args.buf), ":p:h"),
      })
    end
    vim.lsp.buf_attach_client(args.buf, client_id)
  end,
})

-- Test helper: wait for emberlint's diagnostics in the current buffer and write them to `path` as JSON.
function _G.emberlint_dump(path, timeout_ms)
  local buf = vim.api.nvim_get_current_buf()
  vim.wait(timeout_ms or 30000, function()
    return #vim.diagnostic.get(buf) > 0
  end, 50)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local code = d.code
    if code == nil and d.user_data and d.user_data.lsp then
      code = d.user_data.lsp.code
    end
    table.insert(out, {
      code = code, source = d.source, message = d.message, severity = d.severity,
      lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
    })
  end
  vim.fn.writefile({ vim.fn.json_encode(out) }, path)
end
