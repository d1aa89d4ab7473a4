#!/usr/bin/env python3
"""Summarizes bench/sql/run's wrk outputs: requests/s and p99 per server and database, medians
of the rounds, and cn/Go ratios. Usage: bench/sql/summarize.py RESULTS_DIR"""
import glob
import os
import re
import statistics
import sys

d = sys.argv[1]
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def read(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", text).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return rps, float(value) * UNITS[unit], int(errors.group(1)) if errors else 0


rows = {}
for path in glob.glob(os.path.join(d, "*.wrk")):
    server, db, _ = os.path.basename(path)[:-4].split("-")
    rows.setdefault((db, server), []).append(read(path))

print("| database | server | requests/s (median) | p99 ms (median) | non-2xx | rounds |")
print("|---|---|---|---|---|---|")
medians = {}
for (db, server), runs in sorted(rows.items()):
    rps = statistics.median(r[0] for r in runs)
    p99 = statistics.median(r[1] for r in runs)
    medians[(db, server)] = (rps, p99)
    print(f"| {db} | {server} | {rps:,.0f} | {p99:.2f} | {sum(r[2] for r in runs)} | {len(runs)} |")
print()
for db in sorted({db for db, _ in rows}):
    if (db, "cn") in medians and (db, "go") in medians:
        cn, go = medians[(db, "cn")], medians[(db, "go")]
        print(f"- {db}: cn/Go requests/s {cn[0] / go[0]:.2f}, p99 cn/Go {cn[1] / go[1]:.2f}")
