# spawn_join: N coroutines, each `await asyncio.sleep(0)` once and return a value; gathered.
# Usage: python3 spawn_join.py [N]    (default N=100000)
import asyncio
import sys


async def work(i):
    await asyncio.sleep(0)
    return i * 2


async def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    results = await asyncio.gather(*(work(i) for i in range(n)))
    total = 0
    for r in results:
        total += r
    print("spawn_join", n, total)


asyncio.run(main())
