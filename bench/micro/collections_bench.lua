-- collections: N int-key inserts and N lookups in a table; N array appends, then a sort.
-- Usage: lua5.4 collections_bench.lua [N]   (default 1000000)
local N = tonumber(arg and arg[1]) or 1000000
local M = 1000003
local d = {}
local size = 0
for i = 0, N - 1 do
  local k = (i * 7919) % M
  if d[k] == nil then size = size + 1 end
  d[k] = i
end
local hits, acc = 0, 0
for i = 0, N - 1 do
  local v = d[(i * 31) % M]
  if v ~= nil then
    hits = hits + 1
    acc = (acc + v) % 1000000007
  end
end
local lst = {}
for i = 0, N - 1 do
  lst[#lst + 1] = (i * 1103515245 + 12345) % 2147483648
end
table.sort(lst)
print(string.format("collections %d %d %d %d %d %d %d",
  N, size, hits, acc, lst[1], lst[N // 2 + 1], lst[N]))
