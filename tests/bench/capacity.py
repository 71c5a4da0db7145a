#!/usr/bin/python3
"""
Reads what tests/bench/capacity.sh collected and writes the tables of
docs/BENCHMARKS.md ("Capacity").

    capacity.py RAWDIR OUTDIR N...

From RAWDIR, for each size N: N.base.procs and N.idle.procs (one line per
process: server|gen, comm, RSS kB, PSS kB; before the logins and once the
sessions are quiet), N.{base,idle}.meminfo and N.{base,idle}.sockstat.

Per size: each program's RSS (c2s workers summed) and what it grew by per
session; the generator's PSS per session (its processes share pages
after fork); the kernel's slab and the drop of MemAvailable per session.
Between two sizes: the slope of each (bytes per added session), which is
what a session costs once the fixed parts are paid; and the largest N
the machine's MemAvailable (before the first run) allows at that slope.
Writes OUTDIR/capacity.md and appends to OUTDIR/capacity.jsonl.
"""
import json
import os
import sys


def procs(path):
    """{(who, comm): [rss bytes, pss bytes, count]}"""
    out = {}
    with open(path) as f:
        for line in f:
            who, comm, rss, pss = line.split()
            e = out.setdefault((who, comm), [0, 0, 0])
            e[0] += int(rss) * 1024
            e[1] += int(pss) * 1024
            e[2] += 1
    return out


def meminfo(path):
    out = {}
    with open(path) as f:
        for line in f:
            k, v = line.split(":", 1)
            out[k] = int(v.split()[0]) * 1024
    return out


def sockstat_tcp_mem(path):
    with open(path) as f:
        for line in f:
            if line.startswith("TCP:"):
                w = line.split()
                return int(w[w.index("mem") + 1]) * 4096
    return 0


def size_figures(raw, n):
    b = procs(os.path.join(raw, "%d.base.procs" % n))
    i = procs(os.path.join(raw, "%d.idle.procs" % n))
    mb = meminfo(os.path.join(raw, "%d.base.meminfo" % n))
    mi = meminfo(os.path.join(raw, "%d.idle.meminfo" % n))
    f = {"sessions": n}
    for (who, comm), (rss, pss, cnt) in sorted(i.items()):
        key = "%s:%s" % (who, comm)
        f[key + ":rss"] = rss
        f[key + ":pss"] = pss
        f[key + ":count"] = cnt
        f[key + ":rss_growth"] = rss - b.get((who, comm), [0, 0, 0])[0]
    f["server:rss"] = sum(v[0] for (w, _), v in i.items() if w == "server")
    f["server:rss_growth"] = f["server:rss"] - sum(
        v[0] for (w, _), v in b.items() if w == "server")
    f["gen:rss"] = sum(v[0] for (w, _), v in i.items() if w == "gen")
    f["gen:pss"] = sum(v[1] for (w, _), v in i.items() if w == "gen")
    f["kernel:slab_growth"] = mi["Slab"] - mb["Slab"]
    f["kernel:tcp_mem_growth"] = (
        sockstat_tcp_mem(os.path.join(raw, "%d.idle.sockstat" % n)) -
        sockstat_tcp_mem(os.path.join(raw, "%d.base.sockstat" % n)))
    f["machine:available_drop"] = mb["MemAvailable"] - mi["MemAvailable"]
    f["machine:available_before"] = mb["MemAvailable"]
    f["machine:total"] = mb["MemTotal"]
    return f


ROWS = [
    ("server:parley-router:rss", "parley-router RSS"),
    ("server:parley-c2s:rss", "parley-c2s RSS (all workers)"),
    ("server:parleyd:rss", "parleyd RSS"),
    ("server:parley-s2s:rss", "parley-s2s RSS"),
    ("server:rss", "server RSS, every process"),
    ("gen:pss", "generator PSS, every process"),
    ("kernel:slab_growth", "kernel slab growth (machine-wide)"),
    ("kernel:tcp_mem_growth", "TCP buffer pages growth"),
    ("machine:available_drop", "MemAvailable drop (machine-wide)"),
]


def main():
    raw, out = sys.argv[1], sys.argv[2]
    sizes = [int(a) for a in sys.argv[3:]]
    figs = [size_figures(raw, n) for n in sizes]
    lines = ["| figure | " + " | ".join("%d sessions" % n for n in sizes) +
             "".join(" | slope %d→%d" % (a, b)
                     for a, b in zip(sizes, sizes[1:])) + " |",
             "|---|" + "---|" * (2 * len(sizes) - 1)]
    js = []
    for key, name in ROWS:
        if key not in figs[0]:
            continue
        cells = []
        for f in figs:
            cells.append("%.0f MiB (%.2f KiB/session)" % (
                f[key] / 2**20, f[key] / 1024 / f["sessions"]))
            js.append({"figure": key, "sessions": f["sessions"],
                       "value": f[key], "unit": "B"})
        for a, b in zip(figs, figs[1:]):
            s = (b[key] - a[key]) / (b["sessions"] - a["sessions"])
            cells.append("%.2f KiB" % (s / 1024))
            js.append({"figure": key + ":slope", "sessions":
                       [a["sessions"], b["sessions"]], "value": s,
                       "unit": "B/session"})
        lines.append("| %s | %s |" % (name, " | ".join(cells)))
    for f in figs:
        lines.append("")
        lines.append("%d sessions: %d c2s workers, %d generator processes;"
                     " MemAvailable before %.1f GiB of %.1f GiB" % (
                         f["sessions"], f.get("server:parley-c2s:count", 0),
                         # the parent of loadgen -j only waits
                         max(f.get("gen:loadgen:count", 1) - 1, 1),
                         f["machine:available_before"] / 2**30,
                         f["machine:total"] / 2**30))
    if len(figs) >= 2:
        a, b = figs[0], figs[-1]
        dn = b["sessions"] - a["sessions"]

        def slope(k):
            return (b[k] - a[k]) / dn
        srv, gen = slope("server:rss"), slope("gen:pss")
        # the kernel's part: both ends of each loopback connection (half
        # of it is the server's socket); slab, not MemAvailable, which
        # moves with the other work of the machine
        kern = slope("kernel:slab_growth")
        per = srv + gen + kern
        avail = a["machine:available_before"]
        lines.append("")
        lines.append("Slope %d→%d: %.2f KiB per session (server %.2f, "
                     "generator %.2f, kernel slab %.2f for both ends; "
                     "MemAvailable fell by %.2f); %.1f GiB available "
                     "before the runs hold %d sessions at that slope; the "
                     "server alone (its RSS and half the slab, the "
                     "generator elsewhere) %d." % (
                         a["sessions"], b["sessions"], per / 1024,
                         srv / 1024, gen / 1024, kern / 1024,
                         slope("machine:available_drop") / 1024,
                         avail / 2**30, avail / per,
                         avail / (srv + kern / 2)))
        js.append({"figure": "max_sessions_derived", "value":
                   int(avail / per), "unit": "count"})
    with open(os.path.join(out, "capacity.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "capacity.jsonl"), "a") as f:
        for j in js:
            f.write(json.dumps(j) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
