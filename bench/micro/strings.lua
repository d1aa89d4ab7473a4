-- strings: format N strings, join them, split the text, count the words in a table; REPS rounds.
-- Usage: lua5.4 strings.lua [REPS]   (default 5)
local N = 200000
local REPS = tonumber(arg and arg[1]) or 5
local WORDS = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}
local format, concat = string.format, table.concat

local total_len, distinct, check = 0, 0, 0
for r = 0, REPS - 1 do
  local parts = {}
  for i = 0, N - 1 do
    parts[i + 1] = format("w%d n%d %s", (i + r) % 1000, i, WORDS[i % 8 + 1])
  end
  local text = concat(parts, " ")
  total_len = total_len + #text
  -- split on single spaces (the text has no empty fields) and count
  local counts = {}
  local nd = 0
  for w in text:gmatch("[^ ]+") do
    local c = counts[w]
    if c == nil then
      nd = nd + 1
      counts[w] = 1
    else
      counts[w] = c + 1
    end
  end
  distinct = distinct + nd
  check = check + counts["w7"] * 3 + counts["gamma"] + counts["n199999"]
end
print(format("strings %d %d %d %d %d", N, REPS, total_len, distinct, check))
