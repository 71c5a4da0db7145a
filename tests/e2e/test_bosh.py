"""
BOSH (XEP-0124, XEP-0206) on the c2s HTTP listener, with raw HTTP
(http.client): session creation, SASL PLAIN, restart, binding, messages
to and from a TCP client, held requests, several in flight, pause,
terminate, inactivity, and the conditions for a wrong sid or rid. The
servers run two c2s workers (the harness's default).
"""
import asyncio
import http.client
import os
import random
import re
import signal
import time

import pytest

import webhelp
from conftest import TCP_LISTEN, proc_socket_inodes, tcp_table, uniq
from webhelp import auth_plain, bind_iq, bound_jid

NS = "http://jabber.org/protocol/httpbind"
XBOSH = "urn:xmpp:xbosh"


def web_server(make_server, **kw):
    srv = webhelp.web_server(make_server, **kw)
    assert srv.workers > 1
    return srv


def post(port, body, timeout=20, method="POST", conn=None):
    """One request on a connection of its own (conn: that one)."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port,
                                           timeout=timeout)
    c.request(method, "/http-bind", body.encode() if body else None,
              {"Content-Type": "text/xml; charset=utf-8",
               "Host": "localhost"})
    r = c.getresponse()
    data = r.read().decode()
    c.close()
    return r.status, data


async def apost(port, body, **kw):
    return await asyncio.to_thread(post, port, body, **kw)


class Bosh:
    def __init__(self, port, wait=2, srv=None):
        self.port = port
        self.rid = random.randrange(1 << 20, 1 << 40)
        self.wait = wait
        self.sid = None
        self.srv = srv
        self.via = None         # c2s pids the requests go to, in turn
        self.n = 0

    async def post(self, body):
        if self.via is None:
            return await apost(self.port, body)
        pid = self.via[self.n % len(self.via)]
        self.n += 1
        return await asyncio.to_thread(post_via, self.srv, pid, body)

    async def create(self):
        st, t = await self.post((
            "<body xmlns='%s' xmlns:xmpp='%s' rid='%d' to='localhost' "
            "wait='%d' hold='1' ver='1.6' xmpp:version='1.0' "
            "content='text/xml; charset=utf-8'/>")
            % (NS, XBOSH, self.rid, self.wait))
        assert st == 200, t
        self.sid = re.search(r"sid='([0-9a-f]+)'", t).group(1)
        return t

    def body(self, payload="", attrs="", rid=None):
        if rid is None:
            self.rid += 1
            rid = self.rid
        return ("<body xmlns='%s' xmlns:xmpp='%s' rid='%d' sid='%s'%s>%s"
                "</body>" % (NS, XBOSH, rid, self.sid, attrs, payload))

    async def send(self, payload="", attrs="", rid=None):
        st, t = await self.post(self.body(payload, attrs, rid))
        assert st == 200, t
        return t

    async def until(self, pattern, tries=10):
        """Polls (empty bodies) until a response matches."""
        for _ in range(tries):
            t = await self.send()
            if re.search(pattern, t):
                return t
        raise AssertionError("no response matched %r" % pattern)


async def bosh_login(port, user, resource="bosh", b=None):
    b = b or Bosh(port)
    t = await b.create()
    if "PLAIN" not in t:
        t = await b.until(r"PLAIN")
    assert "requests='2'" in t and "hold='1'" in t
    t = await b.send(auth_plain(user))
    assert "<success" in t, t
    t = await b.send(attrs=" xmpp:restart='true'")
    if "xmpp-bind" not in t:
        t = await b.until(r"xmpp-bind")
    t = await b.send(bind_iq(resource, " xmlns='jabber:client'"))
    if "<jid>" not in t:
        t = await b.until(r"<jid>")
    return b, bound_jid(t)


async def message_out(b, jid, tcp):
    """A chat message from the BOSH session jid reaches the TCP client."""
    body = uniq("hi")
    await b.send("<message xmlns='jabber:client' to='%s' type='chat'>"
                 "<body>%s</body></message>" % (tcp.boundjid, body))
    m = await tcp.next_message()
    assert m["body"] == body and str(m["from"]) == jid


async def test_login_and_messages(make_server, clients):
    srv = web_server(make_server)
    a, c = srv.new_user("ba"), srv.new_user("bc")
    b, jid = await bosh_login(srv.http_port, a)
    assert jid == a.jid + "/bosh"
    tcp = await clients.login(srv, c)
    await message_out(b, jid, tcp)
    # a held request carries the reply as soon as it comes
    poll = asyncio.ensure_future(b.send())
    await asyncio.sleep(0.5)
    reply = uniq("back")
    tcp.chat(jid, reply)
    t = await poll
    if reply not in t:
        t = await b.until(reply)
    assert "xmlns='jabber:client'" in t, t
    t = await b.send(attrs=" type='terminate'")
    assert "type='terminate'" in t, t
    t = await b.send()
    assert "condition='item-not-found'" in t, t


async def test_held_request_answers_after_wait(make_server):
    srv = web_server(make_server)
    a = srv.new_user("bw")
    b, _ = await bosh_login(srv.http_port, a)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    t = await b.send()
    assert t.startswith("<body") and 1.5 < loop.time() - t0 < 6, t


PING = ("<iq xmlns='jabber:client' type='get' id='%s'><ping "
        "xmlns='urn:xmpp:ping'/></iq>")


async def two_in_flight(b, tag):
    """Two pings in flight, the second sent first: it waits for the
    first, and both are answered."""
    r1, r2 = b.rid + 1, b.rid + 2
    b.rid = r2
    later = asyncio.ensure_future(b.send(PING % (tag + "2"), rid=r2))
    await asyncio.sleep(0.3)
    first = asyncio.ensure_future(b.send(PING % (tag + "1"), rid=r1))
    got = (await first) + (await later)
    want = ["id='%s1'" % tag, "id='%s2'" % tag]
    for _ in range(5):
        if all(w in got for w in want):
            break
        got += await b.send()
    assert all(w in got for w in want), got


async def test_two_requests_in_flight_out_of_order(make_server):
    srv = web_server(make_server)
    a = srv.new_user("bo")
    b, _ = await bosh_login(srv.http_port, a)
    await two_in_flight(b, "p")


async def test_retransmitted_rid_gets_the_same_answer(make_server):
    srv = web_server(make_server)
    a = srv.new_user("br")
    b, _ = await bosh_login(srv.http_port, a)
    t1 = await b.send("<iq xmlns='jabber:client' type='get' id='x1'><ping "
                      "xmlns='urn:xmpp:ping'/></iq>")
    assert "id='x1'" in t1, t1
    st, t2 = await apost(srv.http_port, b.body(rid=b.rid))
    assert st == 200 and t2 == t1


async def test_wrong_sid(make_server):
    srv = web_server(make_server)
    st, t = await apost(srv.http_port, "<body xmlns='%s' rid='5' "
                        "sid='0123456789abcdef'/>" % NS)
    assert st == 200
    assert "type='terminate'" in t and "item-not-found" in t, t


async def test_rid_out_of_window_ends_the_session(make_server):
    srv = web_server(make_server)
    b = Bosh(srv.http_port)
    await b.create()
    t = await b.send(rid=b.rid + 50)
    assert "item-not-found" in t, t
    t = await b.send()
    assert "item-not-found" in t, t


async def test_unknown_host_and_bad_bodies(make_server):
    srv = web_server(make_server)
    st, t = await apost(srv.http_port, "<body xmlns='%s' rid='7' "
                        "to='nowhere.example' wait='5' hold='1'/>" % NS)
    assert "host-unknown" in t, t
    for bad in ["not xml", "<body xmlns='%s'/>" % NS,
                "<body xmlns='%s' rid='-1' to='localhost'/>" % NS,
                "<body xmlns='%s' rid='1x' to='localhost'/>" % NS,
                "<other rid='3' to='localhost'/>",
                "<!DOCTYPE x [<!ENTITY a 'b'>]><body xmlns='%s' rid='3' "
                "to='localhost'/>" % NS]:
        st, t = await apost(srv.http_port, bad)
        assert st == 400, (bad, st, t)
    st, _ = await apost(srv.http_port, None, method="GET")
    assert st == 405


async def test_inactivity_ends_the_session(make_server):
    srv = web_server(make_server, bosh_max_inactivity="5")
    b = Bosh(srv.http_port, wait=1)
    await b.create()
    await asyncio.sleep(7)
    t = await b.send()
    assert "item-not-found" in t, t


async def test_pause_answers_and_extends(make_server):
    srv = web_server(make_server, bosh_max_inactivity="5")
    b = Bosh(srv.http_port, wait=1)
    await b.create()
    t = await b.send(attrs=" pause='9'")
    assert t.startswith("<body"), t
    await asyncio.sleep(6)
    t = await b.send()
    assert "item-not-found" not in t, t


def test_every_worker_takes_http(make_server):
    # SO_REUSEPORT: each worker has its own listening socket on the port
    srv = web_server(make_server)
    owners = [pid for pid in srv.c2s_pids()
              if any(lp == srv.http_port and st == TCP_LISTEN and
                     ino in proc_socket_inodes(pid)
                     for lp, rp, st, ino in tcp_table())]
    assert sorted(owners) == sorted(srv.c2s_pids()), owners


async def test_many_sessions_all_work(make_server):
    srv = web_server(make_server)
    for _ in range(6):
        b = Bosh(srv.http_port, wait=1)
        await b.create()
        t = await b.send("<iq xmlns='jabber:client' type='get' id='v'>"
                         "<query xmlns='jabber:iq:version'/></iq>")
        assert "item-not-found" not in t, t


# ---- several workers: a session's requests on either ------------------

def http_owner(srv, cport):
    """The c2s pid holding our connection from local port cport."""
    table = tcp_table()
    for pid in srv.c2s_pids():
        mine = proc_socket_inodes(pid)
        if any(lp == srv.http_port and rp == cport and ino in mine
               for lp, rp, st, ino in table):
            return pid
    return None


def conn_to(srv, pid, timeout=30):
    """An HTTP connection that the kernel gave to worker pid: fresh
    connections until one lands there (SO_REUSEPORT picks by a hash of
    the addresses and ports)."""
    for _ in range(100):
        c = http.client.HTTPConnection("127.0.0.1", srv.http_port,
                                       timeout=timeout)
        c.connect()
        cport = c.sock.getsockname()[1]
        owner = None
        deadline = time.monotonic() + 0.5
        while owner is None and time.monotonic() < deadline:
            owner = http_owner(srv, cport)
            if owner is None:
                time.sleep(0.01)
        if owner == pid:
            return c
        c.close()
    raise AssertionError("no connection reached worker %d" % pid)


def post_via(srv, pid, body, timeout=30):
    return post(srv.http_port, body, conn=conn_to(srv, pid, timeout))


def instance_of(srv, pid):
    """The worker's instance, from parleyd's "started c2s[N] pid=P"."""
    m = re.findall(r"started c2s\[(\d+)\] pid=%d\b" % pid, srv.log_text())
    assert m, pid
    return int(m[-1])


def forwards(srv, sid):
    """Requests of sid a worker forwarded to another (debug log)."""
    return len(re.findall(r"bosh %s forwarded to c2s\[" % sid,
                          srv.log_text()))


async def forwarded(srv, sid, n=1, timeout=20):
    """Until n requests of sid were forwarded, and a moment for the
    last to reach its owner."""
    deadline = time.monotonic() + timeout
    while forwards(srv, sid) < n:
        assert time.monotonic() < deadline, "no forward of %s" % sid
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)


async def test_sid_names_its_worker(make_server):
    srv = web_server(make_server)
    sids = {}
    for pid in srv.c2s_pids():
        b = Bosh(srv.http_port, wait=1, srv=srv)
        b.via = [pid]
        await b.create()
        # XEP-0124 7.1 sid: the owner's instance in 4 hex digits, then
        # 128 random bits
        assert re.fullmatch(r"[0-9a-f]{36}", b.sid), b.sid
        assert int(b.sid[:4], 16) == instance_of(srv, pid), (b.sid, pid)
        sids[pid] = b.sid
    a, c = sids.values()
    assert a[:4] != c[:4] and a[4:] != c[4:]


async def test_session_across_workers(make_server, clients):
    srv = web_server(make_server)
    one, two = srv.c2s_pids()
    a, c = srv.new_user("bx"), srv.new_user("by")
    b = Bosh(srv.http_port, srv=srv)
    # created on one, then each request on the other worker in turn:
    # login, restart and binding half through forwards
    b.via = [one, two]
    _, jid = await bosh_login(srv.http_port, a, b=b)
    assert int(b.sid[:4], 16) == instance_of(srv, one)
    assert forwards(srv, b.sid) >= 2
    tcp = await clients.login(srv, c)
    # a message from a forwarded request
    b.via = [two]
    await message_out(b, jid, tcp)
    # a long poll held by the owner for the other worker: the reply
    # comes back through it
    n = forwards(srv, b.sid)
    poll = asyncio.ensure_future(b.send())
    await asyncio.sleep(0.5)
    assert not poll.done()
    reply = uniq("back")
    tcp.chat(jid, reply)
    t = await poll
    if reply not in t:
        t = await b.until(reply)
    assert forwards(srv, b.sid) > n
    # two in flight, on both workers, the later one first
    b.via = [two, one]
    await two_in_flight(b, "q")
    # the same rid again, through the other worker (XEP-0124 14.3)
    b.via = [one]
    t1 = await b.send(PING % "q3")
    b.via = [two]
    st, t2 = await b.post(b.body(rid=b.rid))
    assert st == 200 and t2 == t1 and "id='q3'" in t1, (t1, t2)
    # a pause through the non-owner answers at once
    t = await b.send(attrs=" pause='10'")
    assert t.startswith("<body") and "terminate" not in t, t
    # the non-owner ends the session
    t = await b.send(attrs=" type='terminate'")
    assert "type='terminate'" in t, t
    t = await b.send()
    assert "condition='item-not-found'" in t, t
    for w in (one, two):
        b.via = [w]
        t = await b.send()
        assert "condition='item-not-found'" in t, t


async def test_forwarded_unknown_sids(make_server):
    srv = web_server(make_server)
    one, two = srv.c2s_pids()
    other = instance_of(srv, one)
    # a session of worker one that it does not have: it says so
    fake = "%04x%032x" % (other, random.getrandbits(128))
    st, t = await asyncio.to_thread(
        post_via, srv, two, "<body xmlns='%s' rid='5' sid='%s'/>"
        % (NS, fake))
    assert st == 200 and "condition='item-not-found'" in t, t
    assert forwards(srv, fake) == 1
    # no worker has that number: the router says so
    nobody = "%04x%032x" % (0x7777, random.getrandbits(128))
    st, t = await asyncio.to_thread(
        post_via, srv, two, "<body xmlns='%s' rid='5' sid='%s'/>"
        % (NS, nobody))
    assert st == 200 and "condition='item-not-found'" in t, t
    assert forwards(srv, nobody) == 1
    # instance 0 and the old layout name nobody: not forwarded
    for sid in ["0000%032x" % random.getrandbits(128),
                "%032x" % random.getrandbits(128)]:
        st, t = await asyncio.to_thread(
            post_via, srv, two, "<body xmlns='%s' rid='5' sid='%s'/>"
            % (NS, sid))
        assert "condition='item-not-found'" in t, t
        assert forwards(srv, sid) == 0


async def forwarded_poll(srv, owner, via, wait):
    """A session made on worker owner and a long poll of it through
    worker via, held at the owner: (the session, the poll's future)."""
    b = Bosh(srv.http_port, wait=wait, srv=srv)
    b.via = [owner]
    await b.create()
    b.via = [via]
    held = asyncio.ensure_future(b.send())
    await forwarded(srv, b.sid)
    assert not held.done()
    return b, held


async def killed_under_a_forward(srv, victim):
    """A long poll of worker one's session that worker two forwarded;
    then victim(pid of one) is killed: the other worker answers it at
    once, not after the wait (XEP-0124 17.2). Returns the session."""
    one, two = srv.c2s_pids()
    b, held = await forwarded_poll(srv, one, two, 20)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    os.kill(victim(one), signal.SIGKILL)
    t = await held
    assert loop.time() - t0 < 5, t
    assert "condition='remote-connection-failed'" in t, t
    return b


@pytest.mark.kills("c2s")
async def test_owner_killed(make_server):
    srv = web_server(make_server)
    # the owner dies
    b = await killed_under_a_forward(srv, lambda owner: owner)
    # the next request: the router says the owner is gone, or the owner
    # started again knows no such session
    t = await b.send()
    assert re.search(r"condition='(remote-connection-failed|"
                     r"item-not-found)'", t), t


async def test_forward_bounds(make_server):
    # three workers, each with room for one client stream: the owner
    # holds as many forwarded requests as it would have connections
    srv = web_server(make_server, workers="3", c2s_max_sessions="1",
                     http_max_body_size="2M")
    one, two, three = srv.c2s_pids()
    b, held = await forwarded_poll(srv, one, two, 5)
    # the owner is full: 503, the rid unused, for the client to resend
    b.via = [three]
    st, t = await b.post(b.body(rid=b.rid + 1))
    assert st == 503, (st, t)
    assert "<body" in await held
    # a body larger than a link frame is not forwarded: 413
    big = "<x xmlns='jabber:client'>%s</x>" % ("a" * (1100 << 10))
    st, t = await b.post(b.body(big))
    assert st == 413, (st, t[:200])
    b.rid -= 1
    # and the session goes on
    b.via = [two]
    t = await b.send()
    assert t.startswith("<body") and "terminate" not in t, t


@pytest.mark.kills("router")
async def test_router_gone_during_a_forward(make_server):
    srv = web_server(make_server)
    # the forwarding worker's link goes: no answer can come back
    await killed_under_a_forward(srv, lambda owner: srv.router_pid())


async def test_connection_gone_at_the_forwarding_worker(make_server,
                                                        clients):
    srv = web_server(make_server)
    one, two = srv.c2s_pids()
    a, c = srv.new_user("bg"), srv.new_user("bh")
    b = Bosh(srv.http_port, wait=20, srv=srv)
    b.via = [one]
    _, jid = await bosh_login(srv.http_port, a, b=b)
    tcp = await clients.login(srv, c)
    # a long poll through the other worker, whose client then leaves
    conn = await asyncio.to_thread(conn_to, srv, two)
    n = forwards(srv, b.sid)
    conn.request("POST", "/http-bind", b.body().encode(),
                 {"Content-Type": "text/xml; charset=utf-8",
                  "Host": "localhost"})
    await forwarded(srv, b.sid, n + 1)
    conn.close()
    await asyncio.sleep(1)
    # the owner let go of it: a message for the client waits for its
    # next request instead of going out on the one nobody reads
    body = uniq("kept")
    tcp.chat(jid, body)
    await asyncio.sleep(0.5)
    t = await b.send()
    if body not in t:
        t = await b.until(body, tries=3)
    assert body in t, t


async def test_owner_that_never_answers(make_server):
    # a stopped owner: the forwarding worker answers by its deadline
    # (bosh-max-wait + bosh-max-inactivity + http-request-timeout)
    srv = web_server(make_server, bosh_max_wait="1",
                     bosh_max_inactivity="5", http_request_timeout="2")
    one, two = srv.c2s_pids()
    b = Bosh(srv.http_port, wait=1, srv=srv)
    b.via = [one]
    await b.create()
    b.via = [two]
    loop = asyncio.get_running_loop()
    os.kill(one, signal.SIGSTOP)
    try:
        t0 = loop.time()
        t = await b.send()
        took = loop.time() - t0
    finally:
        os.kill(one, signal.SIGCONT)
    assert "condition='internal-server-error'" in t, t
    assert 7 <= took < 15, took


class Hosts:
    """The c2s workers of several parleyd sharing one HTTP port."""

    def __init__(self, port, *servers):
        self.http_port = port
        self.servers = servers

    def c2s_pids(self):
        return [p for s in self.servers for p in s.c2s_pids()]


async def test_session_across_hosts(make_server, tmp_path_factory, cert,
                                    clients):
    # a c2s host with router-address listens on the same HTTP port (as
    # behind a load balancer): its sessions' requests that reach the
    # router's host go to it over the TLS-PSK link, and back
    from test_remote_links import RemoteHost, psk_file
    keyfile = str(tmp_path_factory.mktemp("keys") / "links.psk")
    psk_file(keyfile, ["hostb"])
    link_port = webhelp.free_port()
    srv = web_server(make_server, workers=2,
                     link_listen="127.0.0.1:%d" % link_port,
                     link_psk_file=keyfile)
    srv.link_port = link_port
    hb = RemoteHost(tmp_path_factory.mktemp("hostb"), srv.cert, srv,
                    "hostb", keyfile, 10,
                    {"http-listen": "127.0.0.1:%d" % srv.http_port})
    make_server.servers.append(hb)
    hb.start()
    local, remote = srv.c2s_pids()[0], hb.c2s_pids()[0]
    a, c = srv.new_user("bz"), srv.new_user("bq")
    b = Bosh(srv.http_port, srv=Hosts(srv.http_port, srv, hb))
    b.via = [remote, local]
    _, jid = await bosh_login(srv.http_port, a, b=b)
    assert int(b.sid[:4], 16) == 10, b.sid
    assert forwards(srv, b.sid) >= 2
    tcp = await clients.login(srv, c)
    b.via = [local]
    await message_out(b, jid, tcp)
    reply = uniq("near")
    tcp.chat(jid, reply)
    assert reply in await b.until(reply)
