-- loop: integer arithmetic and a branch in a while loop, N iterations.
-- Usage: lua5.4 loop.lua [N]   (default 10000000)
local N = tonumber(arg and arg[1]) or 10000000
local s = 0
local t = 0
local i = 0
while i < N do
  s = (s * 31 + i) % 1000000007
  if i % 3 == 0 then
    t = t + 1
  else
    t = t + 2
  end
  i = i + 1
end
print(string.format("loop %d %d %d", N, s, t))
