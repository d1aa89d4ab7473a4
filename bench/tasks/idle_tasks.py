# idle_tasks: create N tasks that each `await asyncio.sleep(3)`, let them all park (main sleeps
# 0.5 s), print a line and exit while they are still asleep (os._exit: no cancellation of 100k
# tasks on the way out, which would add time but not memory). Run under `/usr/bin/time -f %M`
# with N and with N=0: (RSS_N - RSS_0) / N is the memory one idle task costs.
# Usage: python3 idle_tasks.py [N]    (default N=100000)
import asyncio
import os
import sys


async def idle():
    await asyncio.sleep(3)


async def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    tasks = [asyncio.create_task(idle()) for _ in range(n)]
    await asyncio.sleep(0.5)
    print("idle_tasks", n, len(tasks))
    sys.stdout.flush()
    os._exit(0)


asyncio.run(main())
