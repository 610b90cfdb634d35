-- Neovim smoke test of `stackc lsp` (run by tests/lsp.rs): open a .stack file with an error,
-- wait for the server's diagnostics, ask where a link is defined, and write what came back to
-- $STACKC_NVIM_OUT. Written for Neovim 0.7 (Debian's): `vim.lsp.start_client` and
-- `vim.lsp.buf_attach_client`, since `vim.lsp.start` arrived in 0.8.
local bin = os.getenv('STACKC_BIN')
local file = os.getenv('STACKC_NVIM_FILE')
local out_path = os.getenv('STACKC_NVIM_OUT')
local lines = {}

local function finish(ok)
  local f = io.open(out_path, 'w')
  f:write(table.concat(lines, '\n') .. '\n')
  f:close()
  vim.cmd(ok and 'qall!' or 'cquit! 1')
end

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = 'stackc',
    cmd = { bin, 'lsp' },
    root_dir = vim.fn.fnamemodify(file, ':h'),
  })
  assert(client_id, 'the client did not start')
  assert(vim.lsp.buf_attach_client(buf, client_id), 'the client did not attach')

  local got = vim.wait(15000, function()
    return #vim.diagnostic.get(buf) > 0
  end, 50)
  assert(got, 'no diagnostics within 15 s')
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(lines, string.format('diagnostic %s %d:%d %s', d.code, d.lnum, d.col,
      (d.message:gsub('\n', ' '))))
  end

  -- `worker` in `links     = [worker]` (line 8, 0-based, column 17).
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(buf),
    position = { line = 8, character = 17 },
  }
  local responses = vim.lsp.buf_request_sync(buf, 'textDocument/definition', params, 10000)
  for _, r in pairs(responses or {}) do
    local result = r.result
    if result and result.range then
      result = { result }
    end
    for _, loc in ipairs(result or {}) do
      table.insert(lines, string.format('definition %d:%d', loc.range.start.line,
        loc.range.start.character))
    end
  end

  vim.lsp.stop_client(client_id)
  vim.wait(5000, function()
    return vim.lsp.get_client_by_id(client_id) == nil
  end, 50)
end)

if not ok then
  table.insert(lines, 'error: ' .. tostring(err))
end
finish(ok)
