# loop: integer arithmetic and a branch in a while loop, N iterations.
# Usage: python3 loop.py [N]   (default 10000000)
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
s = 0
t = 0
i = 0
while i < N:
    s = (s * 31 + i) % 1000000007
    if i % 3 == 0:
        t = t + 1
    else:
        t = t + 2
    i = i + 1
print("loop", N, s, t)
