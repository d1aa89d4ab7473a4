-- closures: map/filter/reduce written as plain functions taking closures over a 100k array;
-- ROUNDS rounds (~233k closure calls a round). Usage: lua5.4 closures.lua [ROUNDS]   (default 80)
local function map_(f, xs)
  local out, n = {}, 0
  for i = 1, #xs do
    n = n + 1
    out[n] = f(xs[i])
  end
  return out
end

local function filter_(pred, xs)
  local out, n = {}, 0
  for i = 1, #xs do
    local x = xs[i]
    if pred(x) then
      n = n + 1
      out[n] = x
    end
  end
  return out
end

local function reduce_(f, xs, acc)
  for i = 1, #xs do
    acc = f(acc, xs[i])
  end
  return acc
end

local function make_adder(n)
  return function(x) return x + n end
end

local function make_divisible(k)
  return function(x) return x % k == 0 end
end

local ROUNDS = tonumber(arg and arg[1]) or 80
local N = 100000
local xs = {}
for i = 0, N - 1 do xs[i + 1] = i end
local total, calls = 0, 0
for r = 0, ROUNDS - 1 do
  local ys = map_(make_adder(r), xs)
  local zs = filter_(make_divisible(3), ys)
  total = reduce_(function(a, b) return (a * 7 + b) % 1000003 end, zs, total)
  calls = calls + #ys + #ys + #zs
end
print(string.format("closures %d %d %d %d", ROUNDS, N, calls, total))
