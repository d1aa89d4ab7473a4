-- objects: small "classes" (metatables) with fields and methods; P particles bouncing in a box
-- for STEPS steps (integer math). Usage: lua5.4 objects.lua [STEPS]   (default 3000)
local Vec = {}
Vec.__index = Vec

function Vec.new(x, y)
  return setmetatable({x = x, y = y}, Vec)
end

function Vec:add(o)
  return Vec.new(self.x + o.x, self.y + o.y)
end

function Vec:dot(o)
  return self.x * o.x + self.y * o.y
end

local Particle = {}
Particle.__index = Particle

function Particle.new(pos, vel)
  return setmetatable({pos = pos, vel = vel}, Particle)
end

function Particle:step()
  local p = self.pos:add(self.vel)
  local v = self.vel
  if p.x < 0 or p.x > 1000 then
    v = Vec.new(-v.x, v.y)
  end
  if p.y < 0 or p.y > 1000 then
    v = Vec.new(v.x, -v.y)
  end
  self.pos = p
  self.vel = v
end

function Particle:energy()
  return self.vel:dot(self.vel)
end

local P = 1000
local STEPS = tonumber(arg and arg[1]) or 3000
local ps = {}
for i = 0, P - 1 do
  ps[#ps + 1] = Particle.new(Vec.new((i * 37) % 1000, (i * 91) % 1000), Vec.new(i % 7 - 3, i % 5 - 2))
end
local e = 0
for _ = 1, STEPS do
  for j = 1, #ps do
    local p = ps[j]
    p:step()
    e = e + p:energy()
  end
end
local sx, sy = 0, 0
for j = 1, #ps do
  sx = sx + ps[j].pos.x
  sy = sy + ps[j].pos.y
end
print(string.format("objects %d %d %d %d %d", P, STEPS, sx, sy, e))
