# fib: naive recursive fib(30) (function-call overhead), summed REPS times.
# Usage: python3 fib.py [REPS]   (default 12)
import sys


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


N = 30
REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 12
total = 0
for _ in range(REPS):
    total += fib(N)
print("fib", N, REPS, total)
