"""
Benchmark (docs/BENCHMARKS.md, "Message archive"), not part of the
suite: run it by name,
    PARLEY_BIN=$PWD/bin python3 -m pytest -q -s tests/e2e/bench_mam.py
The provision tool fills one account's archive with MAM_BENCH_N messages
(default 1,000,000, ten correspondents in turn) with the server stopped;
then one client times archive queries of a page of 50, the round trip
from the iq to its result with the 50 forwarded messages received:
the last page (RSM <before/>), a page in the middle (RSM after), the last
page of one correspondent (the with index) and the first page after a
start time. p50 and p99 over MAM_BENCH_Q queries each.
"""
import os
import subprocess
import time

from conftest import DOMAIN, ROOT, User
from test_mam import form, query, rsm

N = int(os.environ.get("MAM_BENCH_N", "1000000"))
Q = int(os.environ.get("MAM_BENCH_Q", "200"))
PROVISION = os.path.join(ROOT, "build", "bench", "provision")


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


def cpu_ms(pid):
    """utime + stime of a process, in ms."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / \
        os.sysconf("SC_CLK_TCK")


async def timed(c, n, **kw):
    ts = []
    pid = c.router_pid
    c0 = cpu_ms(pid)
    for _ in range(n):
        t = time.perf_counter()
        p = await query(c, **kw)
        ts.append((time.perf_counter() - t) * 1000)
        assert len(p.results) == 50, p
    c.cpu[id(ts)] = (cpu_ms(pid) - c0) / n
    return ts, p


async def test_mam_query_bench(make_server, clients):
    srv = make_server(start=False, lmdb_mapsize="2G", lmdb_mapsize_max="8G",
                      archive_page_max=50)
    t = time.time()
    subprocess.run([PROVISION, "-D", srv.opts["datadir"], "-d", DOMAIN,
                    "-u", "q", "-n", "11", "-w", "bench", "-i", "4096",
                    "-m", "2048", "-a", str(N)], check=True)
    fill = time.time() - t
    srv.start()
    c = await clients.login(srv, User("q0@" + DOMAIN, "bench"))
    c.router_pid = srv.router_pid()
    c.cpu = {}
    mid = await query(c, set_=rsm(1, before=""))
    assert mid.count == N, mid.count
    res = {}
    res["last page"], _ = await timed(c, Q, set_=rsm(50, before=""))
    # an id near the middle: the 50 after it
    half = await query(c, form(start=time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(t - N / 2000.0))),
        set_=rsm(1))
    res["middle (after id)"], _ = await timed(
        c, Q, set_=rsm(50, after=half.first))
    res["with, last page"], p = await timed(
        c, Q, fields=form(**{"with": "q3@" + DOMAIN}), set_=rsm(50,
                                                                before=""))
    assert p.count == len(range(2, N, 10)), p.count
    res["start time"], _ = await timed(c, Q, fields=form(
        start=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                            time.gmtime(t - N / 4000.0))),
        set_=rsm(50))
    print("\nMAM query benchmark: %d archived (filled in %.1f s), %d "
          "queries of 50 each" % (N, fill, Q))
    for k, v in res.items():
        print("  %-20s p50 %.2f ms  p99 %.2f ms  router CPU %.2f ms/query"
              % (k, pct(v, 50), pct(v, 99), c.cpu[id(v)]))
