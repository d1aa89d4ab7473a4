# closures: map/filter/reduce written as plain functions taking closures over a 100k list;
# ROUNDS rounds (~233k closure calls a round).
# Usage: python3 closures.py [ROUNDS]   (default 80)
import sys


def map_(f, xs):
    out = []
    for x in xs:
        out.append(f(x))
    return out


def filter_(pred, xs):
    out = []
    for x in xs:
        if pred(x):
            out.append(x)
    return out


def reduce_(f, xs, acc):
    for x in xs:
        acc = f(acc, x)
    return acc


def make_adder(n):
    return lambda x: x + n


def make_divisible(k):
    return lambda x: x % k == 0


ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 80
N = 100_000
xs = []
for i in range(N):  # an append loop, as closures.cn builds it (the reference: list(range(N)))
    xs.append(i)
total = 0
calls = 0
for r in range(ROUNDS):
    ys = map_(make_adder(r), xs)
    zs = filter_(make_divisible(3), ys)
    total = reduce_(lambda a, b: (a * 7 + b) % 1000003, zs, total)
    calls += len(ys) + len(ys) + len(zs)
print("closures", ROUNDS, N, calls, total)
