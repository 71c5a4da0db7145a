"""
The process model: sessions spread over several c2s processes, delivery
between them through the router, and parleyd restarting a child that dies
while the others keep serving.
"""
import asyncio
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import (BIN, DOMAIN, LOGIN_TIMEOUT, NS_PING, SLOW, TCP_LISTEN,
                      LoginFailed, exchange, proc_alive, tcp_table,
                      wait_for)

NCLIENTS = 16


async def spread_sessions(srv, clients, n=NCLIENTS):
    """Logs in n clients; returns {c2s pid: [clients]} from /proc. The
    kernel spreads connections over the workers by a hash of their
    ports (SO_REUSEPORT), so n clients can all land on one worker (one
    time in 2^(n-1) with two): then up to four more batches of n are
    logged in, until every worker holds one."""
    by_pid = {}
    for batch in range(5):
        users = [srv.new_user("s") for _ in range(n)]
        cs = await asyncio.gather(*[
            clients.login(srv, u, resource="r%d" % (batch * n + i))
            for i, u in enumerate(users)])
        for c in cs:
            pid = srv.owner_of(c.local_port)
            assert pid is not None, (
                "no c2s holds the connection from port %d (c2s %s)"
                % (c.local_port, srv.c2s_pids()))
            by_pid.setdefault(pid, []).append(c)
        if len(by_pid) >= len(srv.c2s_pids()):
            break
    return by_pid


async def test_sessions_on_both_workers(make_server, clients):
    srv = make_server(workers=2)
    by_pid = await spread_sessions(srv, clients)
    pids = srv.c2s_pids()
    assert len(pids) == 2
    for pid in pids:
        n = len(srv.established(pid))
        assert n > 0, ("c2s pid %d carries no client connection; "
                       "distribution %s" % (pid, {p: len(c) for p, c in
                                                   by_pid.items()}))
    assert set(by_pid) == set(pids)
    # delivery across processes, both ways, and within one process
    (p1, c1), (p2, c2) = list(by_pid.items())
    await exchange(c1[0], c2[0])
    await exchange(c2[0], c1[0])
    if len(c1) > 1:
        await exchange(c1[0], c1[1])
    # an IQ round trip across processes
    r = await c1[0].iq("<ping xmlns='%s'/>" % NS_PING, to=c2[0].boundjid.full)
    assert r["type"] == "result", str(r)


@pytest.mark.kills("c2s")
async def test_kill_c2s_restarted(make_server, clients):
    srv = make_server(workers=2)
    by_pid = await spread_sessions(srv, clients)
    assert len(by_pid) == 2, "sessions on only one c2s: %s" % list(by_pid)
    victim, survivor = list(by_pid)
    dead = by_pid[victim][0].boundjid.full
    since = srv.log_size()
    os.kill(victim, signal.SIGKILL)
    # the victim's clients lose their connection
    await by_pid[victim][0].wait_closed(timeout=5 * SLOW)
    # the other c2s keeps working meanwhile, within itself
    s = by_pid[survivor]
    if len(s) >= 2:
        await exchange(s[0], s[1])
        await exchange(s[1], s[0])
    # parleyd starts a new c2s
    new = await wait_for(
        lambda: [p for p in srv.c2s_pids() if p not in (victim, survivor)
                 and srv.listening(p)],
        10 * SLOW, "a new c2s process listening")
    assert not proc_alive(victim)
    assert len(srv.c2s_pids()) == 2, srv.c2s_pids()
    assert survivor in srv.c2s_pids()
    # the router forgot the dead sessions once it saw the link drop: an IQ
    # to one is not routed into the void but answered with an error
    await wait_for(lambda: re.search(r"router: c2s\[\d+\] gone: \d+ "
                                     r"sessions ended", srv.log_text(since)),
                   5 * SLOW, "the router ended the killed c2s's sessions")
    r = await s[0].iq("<ping xmlns='%s'/>" % NS_PING, to=dead)
    assert r["type"] == "error", (
        "IQ to a session of the killed c2s still answered: %s" % r)
    # new clients log in (some land on the new process) and reach the
    # surviving sessions
    await wait_for(lambda: srv.router_links() >= 2, 10 * SLOW,
                   "the new c2s linked to the router")
    again = await spread_sessions(srv, clients)
    assert new[0] in again, (
        "no new session on the restarted c2s %d: %s"
        % (new[0], {p: len(c) for p, c in again.items()}))
    for cs in again.values():
        await exchange(cs[0], s[0])
        await exchange(s[0], cs[0])


async def login_retrying(srv, clients, user, deadline):
    """Logs in, retrying until deadline (the router is restarting)."""
    last = None
    while time.monotonic() < deadline:
        try:
            return await clients.login(srv, user, resource="again",
                                       timeout=min(3 * SLOW, LOGIN_TIMEOUT))
        except LoginFailed as e:
            last = e
            await asyncio.sleep(0.3)
    raise AssertionError("no login within the deadline after the router "
                         "restart; last attempt: %s" % last)


@pytest.mark.kills("router")
async def test_kill_router_restarted(make_server, clients):
    """docs/internals.md (Sessions), README (Processes): the router can
    restart without dropping clients; the c2s processes announce their
    sessions again, so clients stay connected and keep chatting. New
    logins work again within about 10 s of the crash."""
    srv = make_server(workers=2)
    u1, u2 = srv.new_user(), srv.new_user()
    a = await clients.login(srv, u1, resource="a")
    b = await clients.login(srv, u2, resource="b")
    await exchange(a, b)
    old = srv.router_pid()
    c2s_before = set(srv.c2s_pids())
    os.kill(old, signal.SIGKILL)
    # the contract: logins work again within about 10 s of the crash
    deadline = time.monotonic() + 10 * SLOW
    await wait_for(lambda: srv.router_pid() not in (None, old), 10 * SLOW,
                   "a new router process")
    na = await login_retrying(srv, clients, u1, deadline)
    nb = await login_retrying(srv, clients, u2, deadline)
    await exchange(na, nb)
    await exchange(nb, na)
    # accounts survived (storage is on disk) and the c2s processes did not
    # have to be restarted for this
    assert set(srv.c2s_pids()) == c2s_before
    r = await na.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN)
    assert r["type"] == "result"
    # the sessions from before the crash were never closed and chat on,
    # with each other and with the new ones
    assert not a.closed.done() and not b.closed.done(), (
        "a session was dropped with the router: a closed=%s b closed=%s "
        "(stream errors %s %s)" % (a.closed.done(), b.closed.done(),
                                   a.stream_errors, b.stream_errors))
    await exchange(a, b)
    await exchange(b, a)
    await exchange(nb, a)
    await exchange(a, nb)


@pytest.mark.one_host("SIGTERM to one parleyd ends every process;"
                      " a c2s host is stopped on its own")
async def test_sigterm_stops_everything(make_server, clients):
    srv = make_server(workers=3)
    a = await clients.login(srv, srv.new_user(), resource="a")
    kids = srv.children()
    assert len(kids) == 5, kids     # router, s2s and 3 c2s
    srv.proc.send_signal(signal.SIGTERM)
    await wait_for(lambda: srv.proc.poll() is not None, 10,
                   "parleyd gone after SIGTERM", every=0.05)
    assert srv.proc.returncode == 0, (
        "parleyd exit status %s after SIGTERM" % srv.proc.returncode)
    await wait_for(lambda: not any(map(proc_alive, kids)), 5,
                   "all children gone after SIGTERM")
    # the client saw its stream end (system-shutdown or a plain close)
    await a.wait_closed(timeout=5 * SLOW)
    if a.stream_errors:
        assert a.stream_errors == ["system-shutdown"], a.stream_errors


async def test_second_server_on_same_port_refused(make_server, clients):
    """Workers share their ports with SO_REUSEPORT; a second server on the
    same port (another run directory) must not silently take half of the
    first one's clients: it refuses to start, naming the file and line."""
    first = make_server()
    second = make_server(start=False, c2s_listen="127.0.0.1:%d" % first.port)
    cp = subprocess.run([os.path.join(BIN, "parleyd"), "-c", second.conf],
                        capture_output=True, text=True, timeout=20 * SLOW)
    assert cp.returncode != 0, "a second parleyd started on a port in use"
    with open(second.conf) as f:
        line = 1 + [i for i, l in enumerate(f)
                    if l.startswith("c2s-listen ")][0]
    want = "%s:%d: 127.0.0.1 port %d is in use" % (second.conf, line,
                                                  first.port)
    assert want in cp.stderr, cp.stderr
    # it started nothing, and the first server still serves every client
    assert not any(lp == second.tls_port and st == TCP_LISTEN
                   for lp, rp, st, ino in tcp_table())
    a = await clients.login(first, first.new_user(), resource="a")
    b = await clients.login(first, first.new_user(), resource="b")
    await exchange(a, b)
