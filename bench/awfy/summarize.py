#!/usr/bin/env python3
"""The AWFY table from a bench/awfy/run results folder: median seconds per runtime, ratios to
python3.11, their geometric means, and peak RSS. Usage: summarize.py RESULTS_DIR"""
import json
import math
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
rows = []
for path in sorted(out.glob("*.json")):
    results = {r["command"]: r["median"] for r in json.loads(path.read_text())["results"]}
    rss = {}
    for f in out.glob(path.stem + ".*.rss"):
        text = f.read_text().split()
        rss[f.name[len(path.stem) + 1 : -4]] = int(text[-1]) / 1024 if text else float("nan")
    rows.append((path.stem, results, rss))
names = ["cn", "python3.11", "lua5.4", "luajit-joff"]
print("| benchmark | " + " | ".join(f"{n} s" for n in names) + " | cn/py | cn/lua | cn MiB | py MiB |")
print("|---" * (len(names) + 5) + "|")
ratios = {"py": [], "lua": []}
for name, res, rss in rows:
    cells = [f"{res[n]:.3f}" if n in res else "-" for n in names]
    py = res["cn"] / res["python3.11"]
    lua = res["cn"] / res["lua5.4"]
    ratios["py"].append(py)
    ratios["lua"].append(lua)
    print(f"| {name} | " + " | ".join(cells)
          + f" | {py:.2f} | {lua:.2f} | {rss.get('cn', float('nan')):.0f} | {rss.get('python3.11', float('nan')):.0f} |")
geo = lambda xs: math.exp(sum(map(math.log, xs)) / len(xs))
print(f"\ngeomean cn/python3.11 {geo(ratios['py']):.2f}, cn/lua5.4 {geo(ratios['lua']):.2f} "
      f"over {len(rows)} benchmarks")
