# objects: small classes with fields and methods; P particles bouncing in a box for STEPS steps
# (integer math; ~4 method calls and 1-3 allocations per particle-step).
# Usage: python3 objects.py [STEPS]   (default 3000)
import sys


class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def add(self, o):
        return Vec(self.x + o.x, self.y + o.y)

    def dot(self, o):
        return self.x * o.x + self.y * o.y


class Particle:
    def __init__(self, pos, vel):
        self.pos = pos
        self.vel = vel

    def step(self):
        p = self.pos.add(self.vel)
        v = self.vel
        if p.x < 0 or p.x > 1000:
            v = Vec(-v.x, v.y)
        if p.y < 0 or p.y > 1000:
            v = Vec(v.x, -v.y)
        self.pos = p
        self.vel = v

    def energy(self):
        return self.vel.dot(self.vel)


P = 1000
STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
ps = []
for i in range(P):
    ps.append(Particle(Vec((i * 37) % 1000, (i * 91) % 1000), Vec(i % 7 - 3, i % 5 - 2)))
e = 0
for _ in range(STEPS):
    for p in ps:
        p.step()
        e += p.energy()
sx = 0
sy = 0
for p in ps:
    sx += p.pos.x
    sy += p.pos.y
print("objects", P, STEPS, sx, sy, e)
