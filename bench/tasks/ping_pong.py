# ping_pong: main sends i on `ping`, a second task receives it and puts i+1 on `pong`, main
# receives it; N round trips over two asyncio.Queue(maxsize=1). A None on `ping` stands for
# close() (asyncio.Queue has no close in 3.11).
# Usage: python3 ping_pong.py [N]     (default N=100000)
import asyncio
import sys


async def ponger(ping, pong):
    count = 0
    while True:
        n = await ping.get()
        if n is None:
            return count
        await pong.put(n + 1)
        count += 1


async def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    ping = asyncio.Queue(maxsize=1)
    pong = asyncio.Queue(maxsize=1)
    p = asyncio.create_task(ponger(ping, pong))
    total = 0
    for i in range(n):
        await ping.put(i)
        total += await pong.get()
    await ping.put(None)
    print("ping_pong", n, total, await p)


asyncio.run(main())
