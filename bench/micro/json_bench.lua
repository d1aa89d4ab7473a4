-- json: build a ~2.5 MB nested document (10k users), then encode + decode it REPS times
-- (lua-cjson, C; Debian package lua-cjson). Usage: lua5.4 json_bench.lua [REPS]   (default 8)
local cjson = require("cjson")
local REPS = tonumber(arg and arg[1]) or 8
local CITIES = {"Oslo", "Lima", "Pune", "Kyiv", "Nice", "Graz"}
local format = string.format

local function make_doc(n)
  local users = {}
  for i = 0, n - 1 do
    local history = {}
    for d = 0, 2 do history[d + 1] = {day = d, count = (i + d) % 13} end
    users[i + 1] = {
      id = i,
      name = format("user%d", i),
      email = format("user%d@example.com", i),
      active = i % 2 == 0,
      score = (i * 7919) % 1000,
      tags = {format("t%d", i % 10), format("t%d", i % 3), "common"},
      address = {city = CITIES[i % 6 + 1], zip = format("%05d", (i * 31) % 100000),
                 geo = {lat = i % 90, lon = i % 180}},
      history = history,
    }
  end
  return {version = 1, count = n, users = users,
          meta = {source = "bench", ok = true, none = cjson.null}}
end

local doc = make_doc(10000)
local total_len, score = 0, 0
for _ = 1, REPS do
  local s = cjson.encode(doc)
  total_len = total_len + #s
  local back = cjson.decode(s)
  local users = back.users
  for j = 1, #users do
    local u = users[j]
    score = score + u.score + u.history[3].count
  end
  doc = back
end
print(format("json %d %d %d", REPS, total_len, score))
