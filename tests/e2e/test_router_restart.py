"""
A planned router restart (parleyctl restart router; docs/internals.md,
"Router restart"): the router quiesces the c2s and s2s processes, moves
what only its memory holds to storage, exits, and parleyd starts the
binary now installed at once. Under load over two workers nobody is
disconnected, every numbered message arrives exactly once and in order,
the messages of a hibernated XEP-0198 session end in offline storage,
and presence is known again. A worker that never answers (SIGSTOP) does
not hang the restart.
"""
import asyncio
import datetime
import os
import re
import shutil
import signal
import time

import pytest

import conftest
from conftest import SLOW, exchange, wait_for
from imhelp import fence, grant, online, send_message, wait_presence
import test_remote_links
from test_rfc6120 import authed
from test_sm import attr, resume, sm_session
from xmpptest import child_deaths

# the remote hosts' fixture, for the test that restarts under them
lab = test_remote_links.lab

# A router of link version 15: it answers every process's LINK_HELLO with
# its own and closes, as a router of another version does (common/link.c)
OTHER_VERSION_ROUTER = """#!/usr/bin/python3
import os, socket, struct, sys
conf = sys.argv[sys.argv.index("-c") + 1]
rundir = [l.split()[1] for l in open(conf) if l.startswith("rundir ")][0]
path = os.path.join(rundir, "router.sock")
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(16)
hello = struct.pack(">IHHQIII", 12, 1, 0, 0, 15, 4, 0)
while True:
    c, _ = s.accept()
    try:
        c.recv(65536)
        c.sendall(hello)
    except OSError:
        pass
    c.close()
"""

# the router's waits (router/router.h): the answers, then the flush
QUIESCE_WAIT, FLUSH_WAIT = 5, 5


def private_bin(tmp_path, monkeypatch):
    """The binaries copied to a directory of the test's own, which the
    servers it starts run from: its parley-router can be replaced."""
    d = str(tmp_path / "bin")
    os.makedirs(d)
    for name in os.listdir(conftest.BIN):
        src = os.path.join(conftest.BIN, name)
        if os.path.isfile(src):     # bin/ also holds the asan/ tree
            shutil.copy2(src, os.path.join(d, name))
    # Server.start and Server.ctl read the module's BIN when called
    monkeypatch.setitem(conftest.Server.start.__globals__, "BIN", d)
    return d


def install_router(d):
    """A new parley-router file (a new inode) over the old one, as a
    package upgrade does; returns its inode."""
    path = os.path.join(d, "parley-router")
    tmp = path + ".new"
    shutil.copy2(path, tmp)
    with open(tmp, "ab") as f:      # another file, not only another inode
        f.write(b"\0upgrade\0")
    os.replace(tmp, path)
    return os.stat(path).st_ino


def exe_inode(pid):
    return os.stat("/proc/%d/exe" % pid).st_ino


def stamp(s):
    """Seconds of a log line's time stamp (2026-12-05T11:20:26.807Z)."""
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def router_deaths(srv):
    return [d for d in child_deaths(srv.log_text()) if d[0] == "router"]


def c2s_links(srv):
    """How many times a c2s linked to a router, since the start."""
    return len(re.findall(r"router: c2s\[\d+\] connected", srv.log_text()))


async def restarted(srv, old, timeout):
    await wait_for(lambda: srv.router_pid() not in (None, old), timeout,
                   "a new router process")
    await wait_for(lambda: c2s_links(srv) >= 2 * srv.linked_workers(),
                   timeout,
                   "the workers linked to the new router")


async def numbered(cu, cv, got, until):
    """cu sends cv a chat message numbered from 0 every 10 ms until the
    task until is done; got collects the numbers cv receives. Returns how
    many were sent, once they all arrived or the wait is over."""
    stop = asyncio.Event()

    async def receive():
        while not stop.is_set() or not cv.messages.empty():
            try:
                m = await asyncio.wait_for(cv.messages.get(), 0.2)
            except asyncio.TimeoutError:
                continue
            if m["type"] == "chat" and m["body"].isdigit():
                got.append(int(m["body"]))
    receiver = asyncio.ensure_future(receive())
    sent = 0
    while not until.done():
        cu.send_raw("<message to='%s' type='chat'><body>%d</body>"
                    "</message>" % (cv.boundjid.full, sent))
        sent += 1
        await asyncio.sleep(0.01)
    try:
        await wait_for(lambda: len(got) >= sent, 5 * SLOW, "every number")
    except AssertionError:
        pass        # check_numbers says what is missing
    await fence(cv)     # a duplicate would be in by now
    stop.set()
    await receiver
    return sent


def check_numbers(sent, got):
    assert got == list(range(sent)), (
        "%d sent, %d received, first differences %s" % (
            sent, len(got), [(k, v) for k, v in enumerate(got) if k != v][:5]))


@pytest.mark.kills("router")
async def test_planned_restart_under_load(make_server, clients, tmp_path,
                                          monkeypatch):
    d = private_bin(tmp_path, monkeypatch)
    srv = make_server(workers=2, sm_resume_timeout=300)
    c2s_before = sorted(srv.c2s_pids())
    npairs = 8
    pairs = []
    for i in range(npairs):
        u, v = srv.new_user("ra"), srv.new_user("rb")
        cu = await clients.login(srv, u, resource="u")
        cv = await clients.login(srv, v, resource="v")
        pairs.append((cu, cv))
    owners = {srv.owner_of(c.local_port) for p in pairs for c in p}
    assert len(owners) == 2, "clients on one worker only: %s" % owners

    # presence: watcher sees target; both available
    wu, tu = srv.new_user("rw"), srv.new_user("rt")
    watcher = await online(srv, clients, wu, resource="w")
    target = await online(srv, clients, tu, resource="t")
    await grant(watcher, wu, target, tu)

    # a hibernated resumable session, with messages only the router holds
    hu = srv.new_user("rh")
    raw, _ = await sm_session(srv, hu, "phone")
    hfull = hu.jid + "/phone"
    raw.close()
    await wait_for(lambda: "session %s hibernated" % hfull in srv.log_text(),
                   5 * SLOW, "the session hibernates")
    sender = pairs[0][0]
    for k in range(3):
        send_message(sender, hfull, "held %d" % k)
    await fence(sender)

    inode = None
    gots = [[] for _ in pairs]

    async def restart():
        nonlocal inode
        await wait_for(lambda: all(len(g) >= 20 for g in gots), 10 * SLOW,
                       "every pair chatting before the restart")
        inode = install_router(d)
        assert exe_inode(old) != inode
        cp = srv.ctl("restart", "router")
        assert cp.stdout.strip() == "restarting router", cp.stdout
        await restarted(srv, old, 10 * SLOW)
        mark = [len(g) for g in gots]
        await wait_for(lambda: all(len(g) >= m + 20
                                   for g, m in zip(gots, mark)),
                       10 * SLOW, "every pair chatting after the restart")

    old = srv.router_pid()
    until = asyncio.ensure_future(restart())
    sents = await asyncio.gather(*[numbered(cu, cv, g, until)
                                   for (cu, cv), g in zip(pairs, gots)])
    await until
    # started from the file installed, at once (no backoff)
    assert exe_inode(srv.router_pid()) == inode
    for (cu, _), sent, got in zip(pairs, sents, gots):
        check_numbers(sent, got)
        errs = []
        while not cu.messages.empty():
            m = cu.messages.get_nowait()
            if m["type"] == "error":
                errs.append(str(m))
        assert not errs, "a sender was refused: %s" % errs[:3]
    closed = [c.boundjid.full for p in pairs for c in p if c.closed.done()]
    closed += [c.boundjid.full for c in (watcher, target)
               if c.closed.done()]
    assert not closed, "connections dropped: %s" % closed
    assert sorted(srv.c2s_pids()) == c2s_before, "a worker restarted"
    assert not router_deaths(srv), router_deaths(srv)
    # at once: no backoff (a crash waits 1 s at least)
    log = srv.log_text()
    m = re.search(r"^(\S+) parleyd: router pid=%d stopped for a planned "
                  r"restart.*\n(?:.*\n)*?(\S+) parleyd: started router "
                  r"pid=%d$" % (old, srv.router_pid()), log, re.M)
    assert m, log[-3000:]
    assert stamp(m.group(2)) - stamp(m.group(1)) < 0.5, m.group(0)

    # presence rebuilt: a new session of the watcher's account learns
    # the target is available from the new router
    w2 = await clients.login(srv, wu, resource="w2")
    w2.send_raw("<presence/>")
    await wait_presence(w2, frm=target.boundjid.full)

    # the hibernated session's messages were stored, and are delivered
    back = await online(srv, clients, hu, resource="back")
    bodies = sorted(m["body"] for m in back.at_login.messages
                    if m["body"].startswith("held"))
    assert bodies == ["held 0", "held 1", "held 2"], bodies
    await exchange(pairs[0][0], pairs[0][1])


@pytest.mark.kills("router")
async def test_restart_with_a_stopped_worker(make_server, clients):
    """A c2s that never answers LINK_QUIESCE (stopped) does not hang the
    restart; once it runs again it links to the new router, its clients
    still connected."""
    srv = make_server(workers=2)
    cp = srv.ctl("restart", "c2s", check=False)
    assert cp.returncode == 1 and "only the router" in cp.stderr, cp
    by = {}
    for _ in range(32):     # SO_REUSEPORT places them: two on each
        c = await clients.login(srv, srv.new_user("rs"), resource="r")
        by.setdefault(srv.owner_of(c.local_port), []).append(c)
        if len(by) == 2 and all(len(v) >= 2 for v in by.values()):
            break
    assert len(by) == 2 and all(len(v) >= 2 for v in by.values()), by
    frozen, alive = list(by)
    old = srv.router_pid()
    os.kill(frozen, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        srv.ctl("restart", "router")
        await wait_for(lambda: srv.router_pid() not in (None, old),
                       QUIESCE_WAIT + FLUSH_WAIT + 10 * SLOW,
                       "a new router despite the stopped worker")
        took = time.monotonic() - t0
        assert took >= QUIESCE_WAIT - 1, took
        assert "1 processes did not answer" in srv.log_text()
        # the running worker serves through the new router
        await exchange(by[alive][0], by[alive][1])
    finally:
        os.kill(frozen, signal.SIGCONT)
    await wait_for(lambda: c2s_links(srv) >= 2 * srv.linked_workers(),
                   10 * SLOW,
                   "the stopped worker linked again")
    a, b = by[frozen][0], by[frozen][1]
    assert not a.closed.done() and not b.closed.done()
    await exchange(a, b)
    await exchange(a, by[alive][0])
    assert not router_deaths(srv), router_deaths(srv)


@pytest.mark.kills("router")
async def test_planned_restart_federated(make_server, tmp_path_factory,
                                         clients):
    """Messages across servers both ways while one server's router
    restarts: its s2s process holds what the other server sends, its
    c2s what its clients send; each arrives once and in order."""
    from test_s2s import pair, user
    a, b = pair(make_server, tmp_path_factory)
    ua, ub = user(a, "a.test"), user(b, "b.test")
    ca = await clients.login(a, ua, resource="ra")
    cb = await clients.login(b, ub, resource="rb")
    # federation up both ways before the load
    await exchange(ca, cb)
    old = a.router_pid()

    async def restart():
        await asyncio.sleep(0.5)
        a.ctl("restart", "router")
        await restarted(a, old, 10 * SLOW)
        await asyncio.sleep(1)
    until = asyncio.ensure_future(restart())
    gots = [], []
    sents = await asyncio.gather(numbered(cb, ca, gots[0], until),
                                 numbered(ca, cb, gots[1], until))
    await until
    for sent, got in zip(sents, gots):
        check_numbers(sent, got)
    assert "the router is restarting: holding what servers send" in \
        a.log_text()
    assert not ca.closed.done() and not cb.closed.done()
    assert not router_deaths(a), router_deaths(a)


# c2s-restart-hold in the test below: the message is sent after the new
# router is refused, so up to half the hold may go by before it, and it
# is still held (not refused at once, as past the hold)
HOLD = int(8 * SLOW)


@pytest.mark.kills("router")
async def test_restart_hold_is_bounded(make_server, clients, tmp_path,
                                       monkeypatch):
    """A router that does not take the workers back, here one of another
    link version (a mixed-version upgrade): what a client sent after the
    quiesce is not sent into the refused link, and is refused after
    c2s-restart-hold (30 s by default, HOLD here), as when the router is
    away, not held for ever; the right router back, the client is
    served."""
    d = private_bin(tmp_path, monkeypatch)
    srv = make_server(workers=1, c2s_restart_hold=HOLD)
    u, v = srv.new_user("rx"), srv.new_user("ry")
    cu = await clients.login(srv, u, resource="u")
    cv = await clients.login(srv, v, resource="v")
    path = os.path.join(d, "parley-router")
    good = path + ".good"
    shutil.copy2(path, good)
    with open(path + ".bad", "w") as f:
        f.write(OTHER_VERSION_ROUTER)
    os.chmod(path + ".bad", 0o755)
    os.replace(path + ".bad", path)
    old = srv.router_pid()
    srv.ctl("restart", "router")

    def fake():
        return [p for p in srv.children()
                if "parley-router" in " ".join(conftest.proc_cmdline(p)[1:2])]
    await wait_for(fake, 10 * SLOW, "the new router started")
    await wait_for(lambda: "peer speaks link version 15" in srv.log_text(),
                   10 * SLOW, "the worker refused by the other version")
    t0 = time.monotonic()
    mid = send_message(cu, v.jid + "/v", "held")
    m = await cu.next_message(what="the refusal", timeout=45 * SLOW)
    took = time.monotonic() - t0
    assert m["type"] == "error" and m["id"] == mid, str(m)
    assert m["error"]["condition"] == "resource-constraint", str(m)
    assert "restarting" in m["error"]["text"], str(m)
    assert HOLD / 2 <= took <= HOLD + 10 * SLOW, took
    assert "is not back after %d s" % HOLD in srv.log_text()
    os.replace(good, path)
    os.kill(fake()[0], signal.SIGKILL)   # restarted in 1 s: the real one
    await wait_for(lambda: srv.router_pid() not in (None, old), 10 * SLOW,
                   "the router back")
    await wait_for(lambda: c2s_links(srv) >= 2 * srv.linked_workers(),
                   10 * SLOW,
                   "the worker linked again")
    assert not cu.closed.done() and not cv.closed.done()
    await fence(cu)
    await fence(cv)
    late = [s for s in cv.pending() if "<body>held</body>" in s]
    assert not late, "a refused message was delivered too: %s" % late
    await exchange(cu, cv)


@pytest.mark.kills("router")
async def test_planned_restart_remote_workers(lab, clients):
    """c2s workers of other hosts (remote links over TLS-PSK) hold and
    are awaited as the local one is: messages between the hosts through
    the restart arrive once and in order."""
    srv, (hb, hc) = lab
    ua, ub, uc = (srv.new_user("rr") for _ in range(3))
    a = await clients.login(srv, ua, resource="a")
    b = await clients.login(hb, ub, resource="b")
    c = await clients.login(hc, uc, resource="c")
    old = srv.router_pid()
    links = c2s_links(srv)

    async def restart():
        await asyncio.sleep(0.5)
        srv.ctl("restart", "router")
        await wait_for(lambda: c2s_links(srv) >= 2 * links, 15 * SLOW,
                       "the three workers linked to the new router")
        await asyncio.sleep(1)
    until = asyncio.ensure_future(restart())
    gots = [], [], []
    sents = await asyncio.gather(numbered(b, a, gots[0], until),
                                 numbered(c, b, gots[1], until),
                                 numbered(a, c, gots[2], until))
    await until
    assert srv.router_pid() != old
    for sent, got in zip(sents, gots):
        check_numbers(sent, got)
    assert "restart: every process is back" in srv.log_text()
    assert not any(x.closed.done() for x in (a, b, c))


@pytest.mark.kills("router")
async def test_planned_restart_keeps_sm_counts(make_server, clients):
    """An attached resumable session through a planned restart: the new
    router learns its presence again without counting it as one of the
    client's stanzas, so a resumption later reports the client's h."""
    srv = make_server(workers=1)
    user = srv.new_user("rk")
    raw, previd = await sm_session(srv, user, "phone")   # h: 2 stanzas
    old = srv.router_pid()
    srv.ctl("restart", "router")
    await restarted(srv, old, 10 * SLOW)
    await wait_for(lambda: "restart: every process is back" in
                   srv.log_text(), 10 * SLOW, "the release")
    raw.close()
    full = user.jid + "/phone"
    await wait_for(lambda: srv.log_text().count("session %s hibernated"
                                                % full) >= 1,
                   5 * SLOW, "the session hibernates in the new router")
    new = await authed(srv, user)
    try:
        el = await resume(new, previd, 0)
        assert el.startswith(b"<resumed"), el
        assert attr(el, "h") == "2", el
    finally:
        new.close()
