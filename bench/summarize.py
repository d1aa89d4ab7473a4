#!/usr/bin/env python3
"""Markdown tables from the hyperfine JSON exports written by bench/run (stdlib only).

Usage:
  summarize.py [--dir DIR] micro [BENCH ...]   one row per bench: median seconds of cn,
                                               python3.11 and lua5.4, cn/python3.11 and
                                               cn/lua5.4 ratios, and their geometric means
  summarize.py [--dir DIR] startup             start-up medians in milliseconds

DIR defaults to bench/results. Benches without a micro-<bench>.json are left out.
"""
import argparse
import json
import math
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ALL_BENCHES = ["fib", "loop", "strings", "collections_bench", "objects", "closures", "json_bench"]
RUNTIMES = ["cn", "python3.11", "lua5.4"]
TARGET = 1.0  # cn must take at most this times the python3.11 time, on every bench


def load(path):
    """{command name: list of wall times in seconds} from one hyperfine --export-json file."""
    with open(path) as f:
        results = json.load(f)["results"]
    return {r["command"]: r["times"] for r in results}


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt_s(x):
    return "-" if x is None else f"{x:.3f}"


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}"


def micro(rdir, benches):
    header = ["bench"] + [f"{r} median s" for r in RUNTIMES] + ["cn/python3.11", "cn/lua5.4"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    vs_py, vs_lua, over = [], [], []
    for b in benches:
        path = os.path.join(rdir, f"micro-{b}.json")
        if not os.path.exists(path):
            continue
        times = load(path)
        med = {r: statistics.median(times[r]) if r in times else None for r in RUNTIMES}
        r_py = med["cn"] / med["python3.11"] if med["cn"] and med["python3.11"] else None
        r_lua = med["cn"] / med["lua5.4"] if med["cn"] and med["lua5.4"] else None
        if r_py is not None:
            vs_py.append(r_py)
            if r_py > TARGET:
                over.append(b)
        if r_lua is not None:
            vs_lua.append(r_lua)
        cells = [b] + [fmt_s(med[r]) for r in RUNTIMES] + [fmt_ratio(r_py), fmt_ratio(r_lua)]
        print("| " + " | ".join(cells) + " |")
    print("| **geomean** | | | | **" + fmt_ratio(geomean(vs_py)) + "** | **"
          + fmt_ratio(geomean(vs_lua)) + "** |")
    print()
    if not vs_py:
        print("No results found in", rdir)
        return 1
    if over:
        print(f"Target (cn <= {TARGET:.1f}x python3.11 on every bench) missed on: " + ", ".join(over))
    else:
        print(f"Target met: cn <= {TARGET:.1f}x python3.11 on every bench measured.")
    return 0


def startup(rdir):
    path = os.path.join(rdir, "startup.json")
    if not os.path.exists(path):
        print("No", path)
        return 1
    times = load(path)
    base = statistics.median(times["python3.11 -c pass"]) if "python3.11 -c pass" in times else None
    print("| command | median ms | min ms | max ms | vs python3.11 -c pass |")
    print("|---|---|---|---|---|")
    for name, t in times.items():
        m = statistics.median(t)
        rel = fmt_ratio(m / base) if base else "-"
        print(f"| `{name}` | {m * 1e3:.1f} | {min(t) * 1e3:.1f} | {max(t) * 1e3:.1f} | {rel} |")
    return 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=os.path.join(HERE, "results"), help="results directory")
    ap.add_argument("mode", choices=["micro", "startup"])
    ap.add_argument("benches", nargs="*")
    a = ap.parse_args(argv)
    if a.mode == "startup":
        return startup(a.dir)
    return micro(a.dir, a.benches or ALL_BENCHES)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
