"""
Process failures under load and hostile resources (issue: hardening):
contacts of sessions lost with a killed c2s see them go unavailable; the
s2s process is restarted and federation resumes; the router is killed
while pairs exchange numbered messages and nobody sees a duplicate or a
reordering; a full disk gives clear errors and loses nothing that was
acknowledged; a certificate that turns bad makes a child fail to start,
clearly and with backoff, never in a tight loop.
"""
import asyncio
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import (DOMAIN, NS_PING, SLOW, exchange, stanza_error, uniq)
from imhelp import (drain, grant, online, ptype, send_message, settle,
                    wait_presence)
from test_process import spread_sessions, wait_for
from test_s2s import chat, pair, user


@pytest.mark.kills("c2s")
async def test_kill_c2s_contacts_see_unavailable(make_server, clients):
    """The sessions of a SIGKILLed c2s end as if they had sent unavailable
    presence: their contacts on the other c2s are told."""
    srv = make_server(workers=2)
    by_pid = await spread_sessions(srv, clients, n=12)
    assert len(by_pid) == 2, "sessions on only one c2s: %s" % list(by_pid)
    victim, survivor = list(by_pid)
    watcher = by_pid[survivor][0]
    wu = next(u for u in srv.users if u.jid == watcher.boundjid.bare)
    lost = by_pid[victim][:3]
    watcher.send_raw("<presence/>")     # available: it gets presence
    for c in lost:
        cu = next(u for u in srv.users if u.jid == c.boundjid.bare)
        await grant(watcher, wu, c, cu)     # watcher sees c
        c.send_raw("<presence/>")
        await wait_presence(watcher, frm=c.boundjid.full)
    drain(watcher)
    # slixmpp forgets the bound JID of a client whose connection drops
    gone = [c.boundjid.full for c in lost]
    os.kill(victim, signal.SIGKILL)
    seen = set()
    deadline = time.monotonic() + 5 * SLOW
    while not set(gone) <= seen:
        left = deadline - time.monotonic()
        assert left > 0, "unavailable from %s only" % sorted(seen)
        try:
            p = await asyncio.wait_for(watcher.presences.get(), left)
        except asyncio.TimeoutError:
            continue
        if ptype(p) == "unavailable":
            seen.add(p["from"].full)
    # the survivors keep exchanging meanwhile
    s = by_pid[survivor]
    await exchange(s[0], s[1])


@pytest.mark.kills("s2s")
async def test_kill_s2s_restarted(make_server, tmp_path_factory, clients):
    """parleyd restarts a killed s2s process; it links to the router again
    and federation resumes without touching the other processes."""
    a, b = pair(make_server, tmp_path_factory)
    ua, ub = user(a, "a.test"), user(b, "b.test")
    ca = await clients.login(a, ua, resource="ra")
    cb = await clients.login(b, ub, resource="rb")
    await chat(ca, cb)
    s2s = [p for p in a.children()
           if "parley-s2s" in " ".join(open("/proc/%d/cmdline" % p)
                                       .read().split("\0")[:1])]
    assert len(s2s) == 1, a.children()
    c2s_before = set(a.c2s_pids())
    router_before = a.router_pid()
    os.kill(s2s[0], signal.SIGKILL)
    await wait_for(lambda: a.log_text().count("router: s2s connected") >= 2,
                   10 * SLOW, "a new s2s linked to the router")
    deadline = time.monotonic() + 10 * SLOW
    while True:
        try:
            await chat(ca, cb)
            await chat(cb, ca)
            break
        except AssertionError:
            assert time.monotonic() < deadline, "federation did not resume"
    assert set(a.c2s_pids()) == c2s_before
    assert a.router_pid() == router_before


@pytest.mark.kills("s2s")
async def test_no_s2s_bounces_directed_presence(make_server, clients):
    """While there is no s2s process (parleyd stopped, so not restarting
    it), a directed presence to a remote room comes back as an error
    at once, as a message does, instead of a join that never gets an
    answer; with the s2s process back, nothing more comes."""
    srv = make_server()
    c = await clients.login(srv, srv.new_user("np"), resource="np")
    s2s = [p for p, k in srv.kid_kinds().items() if k == "s2s"]
    assert len(s2s) == 1, srv.kid_kinds()
    os.kill(srv.proc.pid, signal.SIGSTOP)
    try:
        os.kill(s2s[0], signal.SIGKILL)
        await wait_for(lambda: "s2s link closed" in srv.log_text(),
                       10 * SLOW, "the router to see the s2s process go")
        room = "room@conference.far.example/nick"
        c.send_raw("<presence to='%s'><x xmlns='http://jabber.org/"
                   "protocol/muc'/></presence>" % room)
        p = await c.next_presence(
            match=lambda s: s["from"] == room, what="the join's error")
        assert p["type"] == "error", str(p)
        assert stanza_error(p)[1] == "service-unavailable", str(p)
        mid = send_message(c, "someone@far.example", "hello")
        m = await c.next_message(match=lambda s: s["id"] == mid)
        assert m["type"] == "error", str(m)
        assert stanza_error(m)[1] == "service-unavailable", str(m)
    finally:
        os.kill(srv.proc.pid, signal.SIGCONT)
    await wait_for(lambda: srv.log_text().count("router: s2s connected")
                   >= 2, 10 * SLOW, "a new s2s linked to the router")


@pytest.mark.kills("router")
async def test_kill_router_under_load(make_server, clients):
    """Pairs exchange numbered messages; the router is SIGKILLed in the
    middle. Every receiver sees each number at most once and in order;
    afterwards, with the router back, every pair exchanges again."""
    srv = make_server(workers=2)
    npairs = 8
    pairs = []
    for i in range(npairs):
        u, v = srv.new_user("la"), srv.new_user("lb")
        cu = await clients.login(srv, u, resource="u")
        cv = await clients.login(srv, v, resource="v")
        pairs.append((u, cu, v, cv))
    stop = asyncio.Event()
    got = {i: [] for i in range(npairs)}
    sent = {i: 0 for i in range(npairs)}

    async def sender(i):
        _, cu, _, cv = pairs[i]
        n = 0
        while not stop.is_set() and not cu.closed.done():
            cu.send_raw("<message to='%s' type='chat'><body>%d</body>"
                        "</message>" % (cv.boundjid.full, n))
            n += 1
            sent[i] = n
            await asyncio.sleep(0.01)

    async def receiver(i):
        cv = pairs[i][3]
        while not stop.is_set():
            try:
                m = await asyncio.wait_for(cv.messages.get(), 0.2)
            except asyncio.TimeoutError:
                continue
            if m["type"] == "chat" and m["body"].isdigit():
                got[i].append(int(m["body"]))

    tasks = [asyncio.ensure_future(sender(i)) for i in range(npairs)]
    tasks += [asyncio.ensure_future(receiver(i)) for i in range(npairs)]
    await wait_for(lambda: all(len(g) >= 5 for g in got.values()),
                   10 * SLOW, "every pair chatting before the kill")
    old = srv.router_pid()
    os.kill(old, signal.SIGKILL)
    await wait_for(lambda: srv.router_pid() not in (None, old), 10 * SLOW,
                   "a new router")
    # the promise (docs/internals.md, Sessions): the c2s processes link
    # to the new router and announce their sessions, which keep chatting:
    # every pair receives messages sent after the new router came up
    mark = dict(sent)
    await wait_for(lambda: all(got[i] and got[i][-1] >= mark[i]
                               for i in got),
                   10 * SLOW, "every pair receiving what it sent after the "
                   "router came back")
    stop.set()
    await asyncio.gather(*tasks)
    for i, seq in got.items():
        assert seq, "pair %d received nothing" % i
        assert len(seq) == len(set(seq)), "pair %d saw duplicates" % i
        assert seq == sorted(seq), "pair %d saw reordering" % i
    # no session was lost with the router
    lost = [(cu.boundjid.full, cv.boundjid.full) for _, cu, _, cv in pairs
            if cu.closed.done() or cv.closed.done()]
    assert not lost, "sessions lost with the router: %s" % lost
    for _, cu, _, cv in pairs:
        # the last numbers may still be on their way: a ping each side
        # brings them in (a server handles a session's stanzas in order)
        await cu.fence()
        await cv.fence()
        while not cv.messages.empty():     # the tail of the numbers
            m = cv.messages.get_nowait()
            assert m["type"] == "chat" and m["body"].isdigit(), str(m)
        await exchange(cu, cv)


def _mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size,
                        "tmpfs", path], capture_output=True, text=True)
    if r.returncode != 0:
        # not a skip: a suite that cannot run here must say so loudly
        pytest.fail("cannot mount a tmpfs for the full-disk test (needs "
                    "root): %s" % r.stderr.strip(), pytrace=False)


async def test_full_disk(make_server, tmp_path, clients):
    """The data directory on a small tmpfs: storing offline messages
    fails once it is full, with an error to the sender and a clear log
    line; the server keeps serving, and after a restart every message
    whose storing was acknowledged (a ping answered after it, with no
    error before it) is delivered."""
    data = str(tmp_path / "small")
    _mount_tmpfs(data, "600k")
    try:
        srv = make_server(workers=1, datadir=data, lmdb_mapsize="16M",
                          offline_max="100000", start=False)
        u = srv.new_user("fd")
        srv.start()
        s = await online(srv, clients, srv.new_user("fs"), resource="s")
        body = "z" * 4000
        acked, failed = [], None
        for i in range(400):
            mid = send_message(s, u.jid, "%d %s" % (i, body))
            r = await s.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN)
            assert r["type"] == "result", str(r)
            got, = await settle(s)
            errs = [m for m in got.messages if m["type"] == "error"]
            if errs:
                assert errs[0]["id"] == mid, str(errs[0])
                failed = stanza_error(errs[0])[1]
                break
            acked.append(i)
        assert failed is not None, "the disk never filled"
        assert failed in ("resource-constraint", "service-unavailable",
                          "internal-server-error"), failed
        assert acked, "nothing fitted at all"
        log = srv.log_text()
        # LMDB reports a write cut short by the full file system as EIO
        assert re.search(r"(No space left|map full|ENOSPC|MDB_MAP_FULL|"
                         r"Input/output error)", log), log[-3000:]
        # still serving
        r = await s.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN)
        assert r["type"] == "result"
        await clients.close()
        srv.restart()
        r = await online(srv, clients, u, resource="r")
        bodies = [int(m["body"].split()[0]) for m in r.at_login.messages]
        assert bodies == acked, (len(bodies), len(acked))
        srv.stop()
    finally:
        subprocess.run(["umount", "-l", data], capture_output=True)


@pytest.mark.kills("c2s")
async def test_bad_certificate_no_crash_loop(make_server, tmp_path_factory,
                                             clients):
    """A certificate that turns unreadable while the server runs: a c2s
    that dies cannot start again; parleyd says why and retries with
    backoff (not in a tight loop); with the file fixed it comes back."""
    from test_s2s import mkcert
    crt, key = mkcert(tmp_path_factory, "bad.test")
    srv = make_server(workers=1, hosts=[("bad.test", crt, key)])
    good = open(crt).read()
    with open(crt, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n"
                "-----END CERTIFICATE-----\n")
    victim = srv.c2s_pids()[0]
    since = srv.log_size()
    t0 = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    # two restarts, after 1 s and 2 s of backoff: in a tight loop these
    # would come at once
    await wait_for(lambda: len(re.findall(r"started c2s\[\d+\]",
                                          srv.log_text(since))) >= 2,
                   10 * SLOW, "two restarts of the c2s")
    assert time.monotonic() - t0 >= 2.5, (
        "two restarts within %.1fs: no backoff" % (time.monotonic() - t0))
    log = srv.log_text()
    fails = log.count("bad.test")
    assert "bad.test" in log and crt in log, log[-3000:]
    # 4 s of backoff (1 s, 2 s, ...) allows a handful of attempts, never
    # hundreds
    starts = len(re.findall(r"started c2s\[\d+\]", srv.log_text(since)))
    assert 1 <= starts <= 4, (starts, log[-3000:])
    with open(crt, "w") as f:
        f.write(good)
    await wait_for(lambda: len(srv.c2s_pids()) == srv.workers and
                   all(srv.listening(p) for p in srv.c2s_pids()),
                   40, "the c2s back with a good certificate")
    c = await clients.login(srv, srv.new_user(), resource="back")
    r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN)
    assert r["type"] == "result"
    assert fails > 0
