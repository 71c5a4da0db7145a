#!/usr/bin/python3
"""
Summarises the benchmark's JSON lines (tests/bench/run.sh): the median of
each figure over the runs, Markdown tables (summary.md: all servers x
scenarios, then the server's CPU split by program), the ratios of each
server's cost to Parley's (ratios.dat) and, when gnuplot is present, a
chart of them (ratios.png).

    report.py [--check] RESULTS.jsonl OUTDIR

--check (the smoke run) fails when a figure is nonsense: failed logins,
lost sessions, stanza errors, stalls, lost, misrouted or duplicated
deliveries (counted per sender and recipient by the load generator), no
deliveries, no memory measured.
"""
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys

COLUMNS = [
    ("login", "logins_per_s", "logins/s", "%.0f"),
    ("login", "login_p50_ms", "login p50 ms", "%.1f"),
    ("login", "login_p99_ms", "login p99 ms", "%.1f"),
    ("login", "server_cpu_ms_per_login", "CPU ms/login", "%.2f"),
    ("idle", "sessions", "idle sessions", "%.0f"),
    ("idle", "server_rss_per_session_kb", "KiB/session", "%.1f"),
    ("msg", "delivered_per_s", "msg/s", "%.0f"),
    ("msg", "latency_p50_ms", "msg p50 ms", "%.1f"),
    ("msg", "latency_p99_ms", "msg p99 ms", "%.1f"),
    ("msg", "server_cpu_s_per_1000", "CPU s/1k msg", "%.4f"),
    ("presence", "delivered_per_s", "presence/s", "%.0f"),
    ("presence", "server_cpu_s_per_1000", "CPU s/1k pres", "%.4f"),
    ("pep", "delivered_per_s", "pep/s", "%.0f"),
    ("pep", "latency_p50_ms", "pep p50 ms", "%.1f"),
    ("pep", "server_cpu_s_per_1000", "CPU s/1k pep", "%.4f"),
]
# costs compared in the chart: (scenario, figure, label)
RATIOS = [
    ("login", "server_cpu_ms_per_login", "CPU/login"),
    ("idle", "server_rss_per_session_kb", "memory/session"),
    ("msg", "server_cpu_s_per_1000", "CPU/message"),
    ("presence", "server_cpu_s_per_1000", "CPU/presence"),
    ("pep", "server_cpu_s_per_1000", "CPU/PEP event"),
]
ORDER = ["parley", "parley-b", "parley-w2", "parley-w4", "parley-scale", "relay",
         "prosody", "ejabberd", "jabberd2"]
# CPU by program (loadgen's FIGURE:COMM figures): (scenario, figure, unit)
SPLITS = [
    ("login", "server_cpu_ms_per_login", "ms per login"),
    ("msg", "server_cpu_s_per_1000", "s per 1000 messages"),
    ("presence", "server_cpu_s_per_1000", "s per 1000 presence"),
    ("pep", "server_cpu_s_per_1000", "s per 1000 PEP events"),
]


TROUBLE = ["login_failures", "login_stream_errors", "stanza_errors",
           "stalls", "sessions_lost", "lost", "misrouted", "duplicates",
           "reconnect_failures"]
# figures the smoke run requires to be zero (docs/BENCHMARKS.md)
MUST_BE_ZERO = ("login_failures", "stanza_errors", "sessions_lost",
                "stalls", "lost", "misrouted", "duplicates",
                "reconnect_failures")


def troubles(raw, servers):
    """Every nonzero failure count, its worst run."""
    out = []
    for s in servers:
        for (sv, sc, fig), v in sorted(raw.items()):
            if sv == s and fig in TROUBLE and max(v) > 0:
                out.append("* %s %s: %s %d" % (s, sc, fig, max(v)))
    return "\n".join(out)


def split_table(med, servers):
    """The server's CPU per unit of work by program, and for Parley the
    router's ceiling: the routed stanzas per second one core allows."""
    lines = ["| server | scenario | CPU by program | router ceiling |",
             "|---|---|---|---|"]
    for s in servers:
        for sc, fig, unit in SPLITS:
            parts = sorted(((k[2].split(":", 1)[1], v)
                            for k, v in med.items()
                            if k[0] == s and k[1] == sc and
                            k[2].startswith(fig + ":")),
                           key=lambda kv: -kv[1])
            if not parts:
                continue
            cells = ", ".join("%s %.4g" % kv for kv in parts if kv[1] > 0)
            ceiling = "–"
            router = dict(parts).get("parley-router")
            if sc != "login" and router:
                ceiling = "%.0f/s" % (1000.0 / router)
            lines.append("| %s | %s | %s (%s) | %s |" % (
                s, sc, cells or "0", unit, ceiling))
    return "\n".join(lines) if len(lines) > 2 else ""


def pep_memory(med, servers):
    """The server's RSS growth per user in the presence and pep
    scenarios (same users, same rosters): logged in and settled (pep: with
    caps known) against before the logins, and pep after publishing
    (every account has its mood node and item) against settled. In all
    and, when split, by program."""
    lines = ["| server | program | users | presence: settled − before "
             "KiB/user | pep: settled − before KiB/user | pep: after "
             "publishing − settled KiB/user |", "|---|---|---|---|---|---|"]

    def kib(s, sc, a, b, prog):
        suf = ":" + prog if prog else ""
        va = med.get((s, sc, a + suf))
        vb = med.get((s, sc, b + suf))
        n = med.get((s, sc, "sessions"))
        if va is None or vb is None or not n:
            return "–"
        return "%.2f" % ((vb - va) * 1024.0 / n)

    for s in servers:
        if (s, "pep", "server_rss_after_mb") not in med:
            continue
        progs = sorted({k[2].split(":", 1)[1] for k in med
                        if k[0] == s and k[1] == "pep" and
                        k[2].startswith("server_rss_after_mb:")})
        for prog in [""] + (progs if len(progs) > 1 else []):
            lines.append("| %s | %s | %.0f | %s | %s | %s |" % (
                s, prog or "all", med.get((s, "pep", "sessions"), 0),
                kib(s, "presence", "server_rss_before_mb",
                    "server_rss_ready_mb", prog),
                kib(s, "pep", "server_rss_before_mb",
                    "server_rss_ready_mb", prog),
                kib(s, "pep", "server_rss_ready_mb",
                    "server_rss_after_mb", prog)))
    return "\n".join(lines) if len(lines) > 2 else ""


# issue 14's scenarios (run when BENCH_SCENARIOS names them): one row per
# server and scenario, (figure, heading, format)
MOBILE = ["mobile-none", "mobile-sm", "mobile-carbons", "mobile-mam",
          "mobile", "msg"]
MOBILE_COLS = [
    ("delivered_per_s", "msg/s", "%.0f"),
    ("latency_p50_ms", "p50 ms", "%.1f"),
    ("latency_p99_ms", "p99 ms", "%.1f"),
    ("server_cpu_s_per_1000", "CPU s/1k msg", "%.4f"),
    ("server_cpu_s_per_1000:parley-router", "router", "%.4f"),
    ("server_cpu_s_per_1000:parley-c2s", "c2s", "%.4f"),
    ("carbons_per_message", "carbons/msg", "%.2f"),
    ("sm_acks_sent", "acks", "%.0f"),
]
CSI_COLS = [
    ("delivered_per_s", "presence/s (active)", "%.0f"),
    ("server_cpu_s_per_1000", "CPU s/1k", "%.4f"),
    ("active_records_per_session_s", "active records/s", "%.1f"),
    ("inactive_records_per_session_s", "inactive records/s", "%.1f"),
    ("active_wakeups_per_session_s", "active wake-ups/s", "%.1f"),
    ("inactive_wakeups_per_session_s", "inactive wake-ups/s", "%.1f"),
    ("active_bytes_per_session_s", "active B/s", "%.0f"),
    ("inactive_bytes_per_session_s", "inactive B/s", "%.0f"),
]
# the web transports and FAST beside TCP and a SCRAM login (rows show
# when any of their figures is there)
WEB = ["login", "ws-login", "bosh-login", "fast", "idle", "ws-idle",
       "bosh-idle", "msg", "ws-msg", "bosh-msg"]
WEB_COLS = [
    ("logins_per_s", "logins/s", "%.0f"),
    ("server_cpu_ms_per_login", "CPU ms/login", "%.2f"),
    ("server_rss_per_session_kb", "KiB/session", "%.1f"),
    ("delivered_per_s", "msg/s", "%.0f"),
    ("latency_p50_ms", "msg p50 ms", "%.1f"),
    ("server_cpu_s_per_1000", "CPU s/1k msg", "%.4f"),
]
# reconnects with stream management resumption (issue 17)
RECONNECT = ["reconnect-fast", "reconnect-scram", "reconnect-full"]
RECONNECT_COLS = [
    ("reconnects_per_s", "reconnects/s", "%.0f"),
    ("round_trips_per_reconnect", "round trips", "%.0f"),
    ("xmpp_round_trips_per_reconnect", "of them XMPP", "%.0f"),
    ("server_cpu_ms_per_reconnect", "CPU ms/reconnect", "%.2f"),
    ("server_cpu_ms_per_reconnect:parley-c2s", "c2s", "%.2f"),
    ("server_cpu_ms_per_reconnect:parley-router", "router", "%.2f"),
    ("reconnect_p50_ms", "p50 ms", "%.1f"),
]
HIB_COLS = [
    ("sessions", "sessions", "%.0f"),
    ("sm_enabled", "resumable", "%.0f"),
    ("server_rss_per_hibernated_kb", "KiB/hibernated session", "%.1f"),
]


def scen_table(med, servers, scens, cols):
    """Rows of server x scenario for the scenarios that ran."""
    lines = ["| server | scenario | " + " | ".join(c[1] for c in cols) +
             " |", "|---" * (len(cols) + 2) + "|"]
    for sc in scens:
        for s in servers:
            if (s, sc, cols[0][0]) not in med:
                continue
            if scens is WEB and not any(k[0] == s and k[1].startswith(
                    ("ws-", "bosh-", "fast")) for k in med):
                continue
            cells = []
            for fig, _, fmt in cols:
                v = med.get((s, sc, fig))
                cells.append(fmt % v if v is not None else "–")
            lines.append("| %s | %s | %s |" % (s, sc, " | ".join(cells)))
    return "\n".join(lines) if len(lines) > 2 else ""


def load(path):
    vals = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            vals[(r["server"], r["scenario"], r["figure"])].append(
                r["value"])
    return {k: statistics.median(v) for k, v in vals.items()}, vals


def check(med, raw):
    bad = []
    servers = sorted({k[0] for k in med})
    if not servers:
        bad.append("no results at all")
    for (s, sc, fig), v in med.items():
        if fig in MUST_BE_ZERO and max(raw[(s, sc, fig)]) > 0:
            bad.append("%s %s: %s = %g" % (s, sc, fig, max(raw[(s, sc,
                                                                   fig)])))
    for s in servers:
        # the accounting of deliveries must have run at all
        for sc in ("msg", "presence", "pep", "mobile", "ws-msg",
                   "bosh-msg"):
            if any(k[0] == s and k[1] == sc for k in med) and \
                    (s, sc, "lost") not in raw:
                bad.append("%s %s: lost deliveries not counted" % (s, sc))
        for sc, fig in (("login", "logins"), ("msg", "delivered"),
                        ("mobile", "delivered"), ("ws-msg", "delivered"),
                        ("ws-login", "logins"), ("fast", "logins"),
                        ("bosh-msg", "delivered"),
                        ("bosh-login", "logins"),
                        ("ws-idle", "server_rss_total_mb"),
                        ("bosh-idle", "server_rss_total_mb"),
                        ("presence", "delivered"), ("pep", "delivered"),
                        ("idle", "server_rss_total_mb")):
            if any(k[0] == s and k[1] == sc for k in med) and \
                    min(raw.get((s, sc, fig), [0])) <= 0:
                bad.append("%s %s: %s is zero or missing" % (s, sc, fig))
        v = med.get((s, "idle", "server_rss_per_session_kb"))
        if v is not None and not 0.1 < v < 100000:
            bad.append("%s idle: %.3g KiB per session is not plausible"
                       % (s, v))
    return bad


def main():
    args = sys.argv[1:]
    do_check = "--check" in args
    args = [a for a in args if a != "--check"]
    if len(args) != 2:
        sys.exit("usage: report.py [--check] RESULTS.jsonl OUTDIR")
    med, raw = load(args[0])
    outdir = args[1]
    servers = sorted({k[0] for k in med},
                     key=lambda s: (ORDER.index(s) if s in ORDER else 99, s))
    runs = max((len(v) for v in raw.values()), default=0)
    lines = ["| server | " + " | ".join(c[2] for c in COLUMNS) + " |",
             "|---" * (len(COLUMNS) + 1) + "|"]
    for s in servers:
        cells = []
        for sc, fig, _, fmt in COLUMNS:
            v = med.get((s, sc, fig))
            cells.append(fmt % v if v is not None else "–")
        lines.append("| %s | %s |" % (s, " | ".join(cells)))
    table = "\n".join(lines)
    split = split_table(med, servers)
    if split:
        table += "\n\nServer CPU by program (median):\n\n" + split
    mem = pep_memory(med, servers)
    if mem:
        table += "\n\nPEP memory (median):\n\n" + mem
    for title, scens, cols in (
            ("Mobile (issue 14)", MOBILE, MOBILE_COLS),
            ("CSI, presence churn, every second user inactive", ["csi"],
             CSI_COLS),
            ("Hibernated sessions", ["hibernate"], HIB_COLS),
            ("Web transports and FAST, beside TCP", WEB, WEB_COLS),
            ("Reconnects with stream management", RECONNECT,
             RECONNECT_COLS)):
        t = scen_table(med, servers, scens, cols)
        if t:
            table += "\n\n%s (median):\n\n%s" % (title, t)
    trouble = troubles(raw, servers)
    if trouble:
        table += "\n\nFailures, stalls and errors (worst run):\n\n" + trouble
    with open(os.path.join(outdir, "summary.md"), "w") as f:
        f.write("Median of %d run(s).\n\n%s\n" % (runs, table))
    print("\nMedian of %d run(s):\n\n%s\n" % (runs, table))

    # cost ratios to Parley (1 worker): above 1, the other costs more
    base = "parley"
    others = [s for s in servers if not s.startswith("parley")]
    if base in servers and others:
        dat = os.path.join(outdir, "ratios.dat")
        with open(dat, "w") as f:
            f.write("# cost " + " ".join(others) + "\n")
            for sc, fig, label in RATIOS:
                b = med.get((base, sc, fig))
                row = []
                for s in others:
                    v = med.get((s, sc, fig))
                    row.append("%.3f" % (v / b) if v and b else "NaN")
                f.write('"%s" %s\n' % (label, " ".join(row)))
        print("cost relative to Parley (x times Parley's):")
        with open(dat) as f:
            print(f.read())
        if shutil.which("gnuplot"):
            png = os.path.join(outdir, "ratios.png")
            cols = " ".join(
                "'%s' using %d:xtic(1) title '%s'," % (dat, i + 2, s)
                for i, s in enumerate(others)).rstrip(",")
            script = """
set terminal pngcairo size 900,480 font 'sans,10' noenhanced
set output '%s'
set title 'Server cost relative to Parley (1 = Parley; log scale; lower is cheaper)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [0.1:*]
set grid ytics
set key top left
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 dt 2
plot %s
""" % (png, cols)
            r = subprocess.run(["gnuplot"], input=script, text=True,
                               capture_output=True)
            if r.returncode != 0:
                # pngcairo missing (gnuplot-nox): the plain png terminal
                script = script.replace("pngcairo", "png")
                r = subprocess.run(["gnuplot"], input=script, text=True,
                                   capture_output=True)
            if r.returncode == 0:
                print("chart: " + png)
            else:
                print("gnuplot failed: " + r.stderr, file=sys.stderr)
    if do_check:
        bad = check(med, raw)
        if bad:
            print("bench-smoke: FAILED:\n  " + "\n  ".join(bad),
                  file=sys.stderr)
            sys.exit(1)
        print("bench-smoke: ok (%d servers)" % len(servers))


if __name__ == "__main__":
    main()
