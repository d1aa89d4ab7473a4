# collections: N int-key inserts and N lookups in a dict; N list appends, then a sort.
# (Named collections_bench so it cannot shadow the stdlib module `collections`.)
# Usage: python3 collections_bench.py [N]   (default 1000000)
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
M = 1000003
d = {}
size = 0
for i in range(N):
    k = (i * 7919) % M
    if k not in d:
        size += 1
    d[k] = i
hits = 0
acc = 0
for i in range(N):
    v = d.get((i * 31) % M)
    if v is not None:
        hits += 1
        acc = (acc + v) % 1000000007
lst = []
for i in range(N):
    lst.append((i * 1103515245 + 12345) % 2147483648)
lst.sort()
print("collections", N, size, hits, acc, lst[0], lst[N // 2], lst[N - 1])
