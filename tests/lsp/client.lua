-- Neovim's own LSP client against `cn lsp`: open tests/lsp/sample.cn, wait for the
-- diagnostics, then ask for hover, definition, completion, symbols and formatting, and write
-- what came back to $OUT, one line per fact, for tests/lsp.rs to read.
local out = {}
local function say(...) table.insert(out, table.concat({...}, " ")) end

local client = vim.lsp.start_client({ name = "cn", cmd = { vim.env.CN, "lsp" }, root_dir = vim.env.DIR })
vim.cmd("edit " .. vim.env.DIR .. "/sample.cn")
local buf = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(buf, client)

vim.wait(10000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
for _, d in ipairs(vim.diagnostic.get(buf)) do
  say("diagnostic", d.lnum + 1 .. ":" .. d.col + 1, d.message)
end

local function ask(method, line, col)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = line - 1, character = col - 1 },
    options = { tabSize = 4, insertSpaces = true },
  }
  local answers = vim.lsp.buf_request_sync(buf, method, params, 10000) or {}
  for _, answer in pairs(answers) do
    if answer.err then say("error", method, vim.inspect(answer.err)) end
    return answer.result
  end
end

local function hover(name, line, col)
  local result = ask("textDocument/hover", line, col)
  local text = result and result.contents and result.contents.value or "nothing"
  say("hover", name, (text:gsub("\n", " | ")))
end
hover("greet", 13, 8)
hover("Server", 14, 16)
hover("print", 13, 2)

local function definition(name, line, col)
  local result = ask("textDocument/definition", line, col)
  if result and result.range then
    local file = vim.fn.fnamemodify(vim.uri_to_fname(result.uri), ":t")
    say("definition", name, file .. ":" .. result.range.start.line + 1 .. ":" .. result.range.start.character + 1)
  else
    say("definition", name, "nothing")
  end
end
definition("greet", 13, 8)
definition("p", 13, 21)
definition("x", 13, 23)
definition("double", 13, 35)

local function completion(name, line, col)
  local result = ask("textDocument/completion", line, col) or {}
  local items = result.items or result
  local labels = {}
  for _, item in ipairs(items) do labels[item.label] = true end
  local wanted = {}
  for _, label in ipairs({ "Server", "get", "x", "y", "greet", "Point", "assert", "print", "http" }) do
    if labels[label] then table.insert(wanted, label) end
  end
  say("completion", name, table.concat(wanted, ","))
end
completion("http.", 14, 15)
completion("p.", 13, 23)
completion("line start", 15, 1)

local symbols = ask("textDocument/documentSymbol", 1, 1) or {}
local names = {}
for _, s in ipairs(symbols) do
  local children = {}
  for _, c in ipairs(s.children or {}) do table.insert(children, c.name) end
  table.insert(names, s.name .. (#children > 0 and "(" .. table.concat(children, ",") .. ")" or ""))
end
say("symbols", table.concat(names, " "))

vim.api.nvim_buf_set_lines(buf, 5, 6, false, { "    return   f\"hello {name}\"" })
local edits = ask("textDocument/formatting", 1, 1) or {}
vim.lsp.util.apply_text_edits(edits, buf, "utf-16")
say("formatted", vim.api.nvim_buf_get_lines(buf, 5, 6, false)[1])

vim.fn.writefile(out, vim.env.OUT)
vim.lsp.stop_client(client)
vim.wait(5000, function() return vim.lsp.client_is_stopped(client) end, 20)
vim.cmd("qa!")
