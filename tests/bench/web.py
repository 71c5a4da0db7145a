#!/usr/bin/python3
"""
Parley over TCP+TLS beside WebSocket (plain, as behind a proxy or on
loopback, and over TLS), and BOSH: memory per idle session and server
CPU per 1000 messages (not for BOSH), each the median of --runs rounds,
on a fresh server (workers 1) per transport and round.
A small, Python-driven measurement (issue 16's web benchmark, partly):
the clients are asyncio streams made by the e2e helpers, so the client
side is slow and the message figure is server CPU, not throughput. No
peers (docs/BENCHMARKS.md, "Web transports").

    PARLEY_BIN=$PWD/bin /usr/bin/python3 tests/bench/web.py [-n 200]
"""
import argparse
import asyncio
import os
import re
import shutil
import ssl
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import conftest  # noqa: E402
from conftest import Raw, Server, free_port, sasl_plain  # noqa: E402
import test_bosh as tb  # noqa: E402
import test_websocket as tws  # noqa: E402

BIND = ("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:"
        "xmpp-bind'><resource>r</resource></bind></iq>")
AUTH = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s"\
       "</auth>"


class TCP:
    """Direct TLS (XEP-0368), PLAIN, bind."""

    @classmethod
    async def login(cls, srv, user):
        c = Raw.__new__(Raw)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        r, w = await asyncio.open_connection("127.0.0.1", srv.tls_port,
                                             ssl=ctx,
                                             server_hostname="localhost")
        Raw.__init__(c, r, w)
        await c.stream_header()
        await c.send(AUTH % sasl_plain(user.jid.split("@")[0],
                                       user.password))
        await c.read_until(rb"<success")
        c.buf = b""
        await c.stream_header()
        await c.send(BIND)
        await c.read_until(rb"</iq>")
        await c.send("<presence/>")
        c.buf = b""
        self = cls()
        self.c = c
        return self

    async def chat(self, to, body):
        await self.c.send("<message to='%s' type='chat'><body>%s</body>"
                          "</message>" % (to, body))

    async def expect(self, body):
        await self.c.read_until(body.encode(), timeout=30)
        self.c.buf = b""

    def close(self):
        self.c.w.close()


class WSS:
    """RFC 7395 over the plain HTTP listener (tls=False) or HTTPS."""

    def __init__(self, tls):
        self.tls = tls

    async def login(self, srv, user):
        port = srv.https_port if self.tls else srv.http_port
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            orig = asyncio.open_connection

            async def tls_open(host, p):
                return await orig(host, p, ssl=ctx,
                                  server_hostname="localhost")
            # the e2e helper opens plain connections: for the length
            # of one login, its module sees an asyncio whose
            # open_connection speaks TLS
            tws.asyncio = type(sys)("a")
            tws.asyncio.__dict__.update(asyncio.__dict__)
            tws.asyncio.open_connection = tls_open
        try:
            ws, _ = await tws.ws_login(port, user, resource="r")
        finally:
            tws.asyncio = asyncio
        await ws.send("<presence xmlns='jabber:client'/>")
        s = WSS(self.tls)
        s.ws = ws
        return s

    async def chat(self, to, body):
        await self.ws.send("<message xmlns='jabber:client' to='%s' "
                           "type='chat'><body>%s</body></message>"
                           % (to, body))

    async def expect(self, body):
        await self.ws.until(re.escape(body), timeout=30)

    def close(self):
        self.ws.w.close()


class BOSH:
    """XEP-0206 on the plain HTTP listener: a session between requests
    (no request held: the bench has no asynchronous BOSH client)."""

    @classmethod
    async def login(cls, srv, user):
        s = cls()
        s.b, _ = await tb.bosh_login(srv.http_port, user)
        return s

    def close(self):
        pass


def mem_kb(srv):
    """Resident memory of the c2s processes and the router (kB)."""
    total = 0
    for pid in srv.c2s_pids() + [srv.router_pid()]:
        with open("/proc/%d/status" % pid) as f:
            m = re.search(r"VmRSS:\s+(\d+)", f.read())
        total += int(m.group(1))
    return total


def cpu_s(srv):
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in srv.c2s_pids() + [srv.router_pid()]:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / tick


async def idle(srv, kind, users):
    base = mem_kb(srv)
    conns = []
    for u in users:
        conns.append(await kind.login(srv, u))
    await asyncio.sleep(1)
    per = (mem_kb(srv) - base) * 1024 / len(users)
    for c in conns:
        c.close()
    await asyncio.sleep(2)
    return per


async def msgs(srv, kind, a, b, n):
    ca, cb = await kind.login(srv, a), await kind.login(srv, b)
    t0 = cpu_s(srv)
    for i in range(n):
        await ca.chat(b.jid, "m%d" % i)
        if i % 100 == 99 or i == n - 1:
            await cb.expect("m%d<" % i)
    per = (cpu_s(srv) - t0) * 1000 / n
    ca.close()
    cb.close()
    await asyncio.sleep(1)
    return per


async def main(args):
    d = tempfile.mkdtemp(prefix="parley-webbench-")
    crt, key = os.path.join(d, "localhost.crt"), os.path.join(d, "l.key")
    os.system("%s/../../scripts/mkcert.sh localhost %s %s >/dev/null 2>&1"
              % (HERE, crt, key))
    users = [conftest.User("w%d@localhost" % i, "pw%d" % i)
             for i in range(args.n + 2)]
    # the accounts once, offline; each server gets a copy of the data:
    # a fresh server per transport and round, so that no transport
    # lands in heap another one grew and freed
    os.makedirs(os.path.join(d, "tmpl"))
    tmpl = Server(os.path.join(d, "tmpl"), (crt, key), {})
    for u in users:
        tmpl.adduser(u.jid, u.password)
    kinds = [("tcp+tls", TCP), ("websocket", WSS(False)),
             ("websocket+tls", WSS(True)), ("bosh", BOSH)]
    kinds = [k for k in kinds if k[0] in args.kinds.split(",")]
    res = {}
    k = 0
    for r in range(args.runs):
        for name, kind in kinds:
            k += 1
            base = os.path.join(d, "s%d" % k)
            os.makedirs(base)
            shutil.copytree(tmpl.opts["datadir"],
                            os.path.join(base, "data"))
            http, https = free_port(), free_port()
            srv = Server(base, (crt, key), {
                "workers": "1", "log-level": "info",
                "http-listen": "127.0.0.1:%d" % http,
                "https-listen": "127.0.0.1:%d" % https})
            srv.http_port, srv.https_port = http, https
            srv.start()
            try:
                res.setdefault((name, "idle"), []).append(
                    await idle(srv, kind, users[:args.n]))
                if kind is not BOSH:
                    res.setdefault((name, "msg"), []).append(
                        await msgs(srv, kind, users[-2], users[-1],
                                   args.msgs))
            finally:
                srv.stop()
    shutil.rmtree(d, ignore_errors=True)
    print("| transport | memory per idle session (bytes) | "
          "server CPU per 1000 messages (ms) |")
    print("|---|---|---|")
    med = {k: statistics.median(v) for k, v in res.items()}
    tcp_i = med.get(("tcp+tls", "idle"))
    tcp_m = med.get(("tcp+tls", "msg"))
    for name, _ in kinds:
        i = med[(name, "idle")]
        m = med.get((name, "msg"))
        print("| %s | %.0f (%s) | %s |" % (
            name, i, "%.2fx" % (i / tcp_i) if tcp_i else "-",
            "-" if m is None else "%.0f (%s)" % (
                m * 1000, "%.2fx" % (m / tcp_m) if tcp_m else "-")))
    print("runs:", {"%s/%s" % k: [round(x, 4) for x in v]
                    for k, v in res.items()})


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("-n", type=int, default=200)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--msgs", type=int, default=3000)
    p.add_argument("--kinds", default="tcp+tls,websocket,websocket+tls,"
                   "bosh")
    asyncio.run(main(p.parse_args()))
