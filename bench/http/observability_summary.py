"""Tables for bench/http/observability: medians of per-slice figures and of per-round ratios.

Usage: python3 bench/http/observability_summary.py RESULTS_DIR

Each slice file is `NAME.TAG.ROUND.txt` (wrk --latency output plus a `# server_cpu_ticks=N hz=H`
line). Ratios are taken within a round (the servers were measured seconds apart) and then the
median over rounds is reported, so slow bursts of the machine cancel out.
"""

import glob
import os
import re
import statistics
import sys

ORDER = ["cn-on", "cn-off", "cn-quiet", "go", "cn-pre"]


def read_slice(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", text)
    p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    m = re.search(r"server_cpu_ticks=(\d+) hz=(\d+)", text)
    cpu_us = int(m.group(1)) / int(m.group(2)) / max(requests, 1) * 1e6
    return {"rps": rps, "p99": p99, "cpu": cpu_us}


def main(out):
    slices = {}  # (tag, round) -> name -> figures
    for path in glob.glob(os.path.join(out, "*.txt")):
        name, tag, round_ = os.path.basename(path)[: -len(".txt")].rsplit(".", 2)
        slices.setdefault((tag, round_), {})[name] = read_slice(path)
    present = {name for figures in slices.values() for name in figures}
    names = [n for n in ORDER if n in present]
    print(f"results: {out}\n")
    print("| path | server | req/s | vs cn-off (paired) | vs go (paired) | p99 ms "
          "| CPU us/request | CPU per request vs cn-off (paired) |")
    print("|---|---|---|---|---|---|---|---|")
    for tag in sorted({t for t, _ in slices}):
        rounds = [s for (t, _), s in slices.items() if t == tag and all(n in s for n in names)]
        med = lambda f: statistics.median(f(r) for r in rounds)
        for name in names:
            print(
                f"| /{'' if tag == 'root' else tag} | {name} "
                f"| {med(lambda r: r[name]['rps']):,.0f} "
                f"| {med(lambda r: r[name]['rps'] / r['cn-off']['rps']):.3f} "
                f"| {med(lambda r: r[name]['rps'] / r['go']['rps']):.2f} "
                f"| {med(lambda r: r[name]['p99']):.2f} "
                f"| {med(lambda r: r[name]['cpu']):.2f} "
                f"| {med(lambda r: r[name]['cpu'] / r['cn-off']['cpu']):.3f} |"
            )
    print(f"\n{len(slices)} rounds x paths; medians over rounds.")


if __name__ == "__main__":
    main(sys.argv[1])
