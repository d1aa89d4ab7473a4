-- fib: naive recursive fib(30) (function-call overhead), summed REPS times.
-- Usage: lua5.4 fib.lua [REPS]   (default 12)
local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local N = 30
local REPS = tonumber(arg and arg[1]) or 12
local total = 0
for _ = 1, REPS do
  total = total + fib(N)
end
print(string.format("fib %d %d %d", N, REPS, total))
