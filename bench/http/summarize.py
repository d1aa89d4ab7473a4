#!/usr/bin/env python3
"""Tables for bench/http/run from one results directory.

Usage: summarize.py [--clean PCT] DIR [DIR...]
Reads DIR/wrk/<server>.<root|json>.r<N>.txt (wrk --latency output plus the runner's `# ...`
lines), DIR/wrk/<server>.r<N>.{rss-idle,rss-loaded,exit} and DIR/startup.tsv; prints medians
over the rounds (of all DIRs together) and the cn targets. --clean PCT keeps only the wrk runs
during which other processes and hypervisor steal took at most PCT % of a core.
"""
import glob
import os
import re
import statistics
import sys

ORDER = ["cn", "go", "hyper", "node"]
NAMES = {"cn": "cn (http.Server)", "go": "Go 1.19 net/http", "hyper": "raw hyper 1.x (tokio)",
         "node": "Node 20 http"}
UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", v)
    return float(m.group(1)) * UNIT[m.group(2)]


def parse(path):
    txt = open(path).read()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", txt)
    if not rps:
        return None
    extra = dict(re.findall(r"^# (\w+)=(\S+)", txt, re.M))
    errors = []
    for pat in (r"Socket errors:.*", r"Non-2xx or 3xx responses:.*"):
        m = re.search(pat, txt)
        if m:
            errors.append(m.group(0).strip())
    return {
        "rps": float(rps.group(1)),
        "p50": ms(re.search(r"^\s+50%\s+(\S+)", txt, re.M).group(1)),
        "p99": ms(re.search(r"^\s+99%\s+(\S+)", txt, re.M).group(1)),
        "requests": int(re.search(r"(\d+) requests in", txt).group(1)),
        "errors": errors,
        "load1": float(extra.get("load1", "nan")),
        "server_cpu": float(extra.get("server_cpu", "nan").rstrip("%")),
        "client_core": float(extra.get("client_core", "nan").rstrip("%")),
        "other_cpu": float(extra.get("other_cpu", "nan").rstrip("%")),
        "steal": float(extra.get("steal", "nan").rstrip("%")),
    }


def noise(r):
    """`other` CPU of a run, with the steal part in brackets where it was recorded."""
    text = format(r["other_cpu"], ".0f")
    return text if r["steal"] != r["steal"] else f"{text} [{r['steal']:.0f}]"


def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def rng(xs, fmt):
    return f"{fmt.format(min(xs))}-{fmt.format(max(xs))}" if len(xs) > 1 else ""


def files(dirs, pattern):
    return [f for d in dirs for f in sorted(glob.glob(os.path.join(d, pattern)))]


def main(dirs, clean=None):
    runs = {}
    dropped = []
    for s in ORDER:
        for tag in ("root", "json"):
            data = []
            for f in files(dirs, f"wrk/{s}.{tag}.r*.txt"):
                p = parse(f)
                if p and clean is not None and not p["other_cpu"] <= clean:
                    dropped.append(f"{s} {'/' if tag == 'root' else '/json'} ({p['other_cpu']:.0f}%)")
                elif p:
                    data.append(p)
            if data:
                runs[(s, tag)] = data
    servers = [s for s in ORDER if (s, "root") in runs or (s, "json") in runs]

    def m(s, tag, key):
        return med([r[key] for r in runs.get((s, tag), [])])

    def rss(s, kind):
        vals = [int(open(f).read().split()[0]) for f in
                files(dirs, f"wrk/{s}.r*.rss-{kind}") if open(f).read().strip()]
        return med(vals) / 1024 if vals else float("nan")

    go_root, go_json = m("go", "root", "rps"), m("go", "json", "rps")
    if servers:
        nrounds = max(len(v) for v in runs.values())
        print(f"Medians of {'up to ' if clean is not None else ''}{nrounds} run(s) from {len(dirs)} directory(ies); server on CPU {os.environ.get('SERVER_CPU', '1')}, "
              f"wrk -t1 -c50 on CPU {os.environ.get('CLIENT_CPU', '0')}.")
        if clean is not None:
            print(f"Only runs with other CPU <= {clean:g}% of a core; left out: {', '.join(dropped) or 'none'}.")
        print()
        print("| server | `/` req/s | vs Go | p50 / p99 ms | `/json` req/s | vs Go | `/json` p50 / p99 ms | idle RSS | RSS after load |")
        print("|---|---|---|---|---|---|---|---|---|")
        for s in servers:
            r, j = m(s, "root", "rps"), m(s, "json", "rps")
            print(f"| {NAMES[s]} | {r:,.0f} | {r / go_root:.2f} | {m(s, 'root', 'p50'):.2f} / {m(s, 'root', 'p99'):.2f} "
                  f"| {j:,.0f} | {j / go_json:.2f} | {m(s, 'json', 'p50'):.2f} / {m(s, 'json', 'p99'):.2f} "
                  f"| {rss(s, 'idle'):.1f} MiB | {rss(s, 'loaded'):.1f} MiB |")
        print()
        print("Per run: req/s and p99 of each round; medians of the server's CPU use (% of its core), the")
        print("wrk core's busy share, busy CPU not charged to server or wrk (other processes + hypervisor")
        print("steal, % of a core: the noise; steal alone in brackets where recorded); 1-min load at the start.")
        print()
        print("| server | path | req/s (runs) | p99 ms (runs) | server CPU | wrk core | other CPU % (runs) | load1 | errors |")
        print("|---|---|---|---|---|---|---|---|---|")
        for s in servers:
            for tag, path in (("root", "/"), ("json", "/json")):
                data = runs.get((s, tag), [])
                if not data:
                    continue
                errs = "; ".join(e for r in data for e in r["errors"]) or "-"
                print(f"| {s} | {path} | {', '.join(format(r['rps'], ',.0f') for r in data)} "
                      f"| {', '.join(format(r['p99'], '.2f') for r in data)} "
                      f"| {med([r['server_cpu'] for r in data]):.0f}% | {med([r['client_core'] for r in data]):.0f}% | {', '.join(noise(r) for r in data)} "
                      f"| {', '.join(format(r['load1'], '.2f') for r in data)} | {errs} |")
        noisy = files(dirs, "wrk/*.txt.noisy*")
        if noisy:
            print()
            print(f"Discarded and repeated because other processes used CPU during the run: {len(noisy)} run(s) "
                  f"({', '.join(os.path.basename(f) for f in noisy)}).")
        exits = {}
        for s in servers:
            exits[s] = [open(f).read().strip() for f in files(dirs, f"wrk/{s}.r*.exit")]
        print()
        print("Exit status after SIGTERM: " + "; ".join(f"{s} {','.join(v) or '?'}" for s, v in exits.items()))

    startup, listen = {}, {}
    for path in files(dirs, "startup.tsv"):
        for line in open(path).read().splitlines()[1:]:
            f = line.split("\t")
            startup.setdefault(f[0], []).append((f[2], f[3]))
            if len(f) > 4 and f[4] not in ("-", ""):
                listen.setdefault(f[0], []).append(float(f[4]))
    if startup:
        print()
        print("Start-up: launch -> first 200 (cn: /healthz, others: /), polled every 1 ms:")
        print()
        print("| server | median ms | min-max ms | runs | exit after SIGTERM | 'listening' logged at (median) |")
        print("|---|---|---|---|---|---|")
        for s in ORDER:
            if s not in startup:
                continue
            ts = [float(t) for t, _ in startup[s] if t != "timeout"]
            fails = sum(1 for t, _ in startup[s] if t == "timeout")
            rcs = sorted({rc for _, rc in startup[s]})
            print(f"| {NAMES[s]} | {med(ts):.1f} | {rng(ts, '{:.1f}')} | {len(ts)}{f' ({fails} timed out)' if fails else ''} | {','.join(rcs)} | {f'{med(listen[s]):.1f} ms' if s in listen else '-'} |")

    # Targets for cn.
    if (("cn", "root") in runs or "cn" in startup):
        print()
        print("cn targets:")
        checks = []
        if ("cn", "root") in runs and ("go", "root") in runs:
            ratio = m("cn", "root", "rps") / go_root
            checks.append((ratio >= 1.0, f"`/` req/s >= 1.0x Go: {ratio:.2f}x ({m('cn', 'root', 'rps'):,.0f} vs {go_root:,.0f})"))
            jr = m("cn", "json", "rps") / go_json
            checks.append((jr >= 1.0, f"`/json` req/s >= 1.0x Go: {jr:.2f}x ({m('cn', 'json', 'rps'):,.0f} vs {go_json:,.0f})"))
            cp, gp = m("cn", "root", "p99"), m("go", "root", "p99")
            checks.append((cp <= gp, f"`/` p99 <= Go's: {cp:.2f} ms vs {gp:.2f} ms"))
        if ("cn", "root") in runs and ("hyper", "root") in runs:
            hr = m("cn", "root", "rps") / m("hyper", "root", "rps")
            checks.append((hr >= 0.7, f"`/` req/s >= 0.7x raw hyper: {hr:.2f}x ({m('cn', 'root', 'rps'):,.0f} vs {m('hyper', 'root', 'rps'):,.0f})"))
        if ("cn", "root") in runs:
            r = rss("cn", "idle")
            checks.append((r < 15, f"idle RSS < 15 MB (read as MiB, like the reference table): {r:.2f} MiB = {r * 1.048576:.2f} MB decimal"))
            bad = [e for t in ("root", "json") for x in runs.get(("cn", t), []) for e in x["errors"]]
            checks.append((not bad, f"no socket errors / non-2xx under load: {'; '.join(bad) or 'none'}"))
        if "cn" in startup:
            ts = [float(t) for t, _ in startup["cn"] if t != "timeout"]
            checks.append((bool(ts) and med(ts) < 50, f"start-up to first 200 from /healthz < 50 ms: {med(ts):.1f} ms"))
        exits = [open(f).read().strip() for f in files(dirs, "wrk/cn.r*.exit")]
        exits += [rc for _, rc in startup.get("cn", [])]
        if exits:
            checks.append((all(e == "0" for e in exits), f"exit 0 on SIGTERM: {len([e for e in exits if e == '0'])}/{len(exits)} stops"))
        for ok, text in checks:
            print(f"- {'PASS' if ok else 'MISS'}  {text}")


if __name__ == "__main__":
    argv = sys.argv[1:]
    clean = None
    if argv[:1] == ["--clean"]:
        clean, argv = float(argv[1]), argv[2:]
    main(argv or [os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "latest")], clean)
