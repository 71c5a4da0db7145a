"""Remote links (docs/internals.md, "Remote links"): c2s workers of another
"host" (a second parleyd with router-address, on loopback) reach the router
over TCP and TLS-PSK, and so does an s2s process on a host of its own
(processes s2s), through which the router's domain federates. Messages and presence cross the hosts; a peer without
the key, with a wrong key, or speaking plain frames is refused and routes
nothing; a router that dies is found again. tests/e2e/test_remote_netns.py
runs the same across network namespaces, and PARLEY_E2E_HOSTS=3 runs every
e2e test with the router and the clients on different hosts (conftest.py,
HostsServer)."""
import asyncio
import os
import re
import signal
import socket
import struct
import subprocess

import pytest

from conftest import (BIN, DOMAIN, READY_TIMEOUT, RUNNING, STANZA_TIMEOUT,
                      RemoteHost, S2SHost, exchange, free_port,
                      proc_cmdline, psk_file, uniq, wait_for)
from imhelp import fence, grant, online, send_message, wait_presence
from test_rfc6120 import authed, bind, ping
from test_enumeration import scram_salt
from test_s2s import chat, mkcert, user
from test_upload import ahttp, good_slot, stored, upload_server

NS_SM = "urn:xmpp:sm:3"


async def across_three(a, b, c):
    """Clients of three hosts exchange messages in a ring, and a directed
    presence from b's host reaches c's."""
    await exchange(a, b)
    await exchange(b, c)
    await exchange(c, a)
    b.send_raw("<presence to='%s'/>" % c.boundjid.full)
    p = await c.next_presence(lambda p: p["from"].full == b.boundjid.full)
    assert p["type"] == "available"


@pytest.fixture
def lab(make_server, tmp_path_factory, cert):
    """The router's host (one local c2s) and two remote c2s hosts."""
    keyfile = str(tmp_path_factory.mktemp("keys") / "links.psk")
    psk_file(keyfile, ["hostb", "hostc"])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    link_port = sock.getsockname()[1]
    sock.close()
    srv = make_server(workers=1, link_listen="127.0.0.1:%d" % link_port,
                      link_psk_file=keyfile)
    srv.link_port = link_port
    srv.keyfile = keyfile
    hosts = []
    for ident, inst in (("hostb", 10), ("hostc", 20)):
        h = RemoteHost(tmp_path_factory.mktemp(ident), cert, srv, ident,
                       keyfile, inst)
        make_server.servers.append(h)
        h.start()
        hosts.append(h)
    return srv, hosts


async def test_messages_and_presence_across_hosts(lab, clients):
    srv, (hb, hc) = lab
    ua, ub, uc = (srv.new_user("x") for _ in range(3))
    a = await clients.login(srv, ua, resource="a")
    b = await clients.login(hb, ub, resource="b")
    c = await clients.login(hc, uc, resource="c")
    await across_three(a, b, c)
    b.send_raw("<presence type='unavailable' to='%s'/>" % c.boundjid.full)
    p = await c.next_presence(lambda p: p["from"].full == b.boundjid.full)
    assert p["type"] == "unavailable"


def link_hello():
    """A valid LINK_HELLO of a c2s instance 99, in the clear."""
    payload = struct.pack(">III", 8, 1, 99)
    return struct.pack(">IHHQ", len(payload), 1, 0, 0) + payload


async def test_plain_peer_refused(lab):
    srv, _ = lab
    since = srv.log_size()
    r, w = await asyncio.open_connection("127.0.0.1", srv.link_port)
    w.write(link_hello())
    await w.drain()
    data = b""
    try:    # no frame back (a TLS alert at most), then the close
        while True:
            chunk = await asyncio.wait_for(r.read(4096), STANZA_TIMEOUT)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    assert b"\x00\x00\x00\x0c\x00\x01" not in data
    w.close()
    await wait_for(lambda: "refused: tls handshake" in
                   srv.log_text(since), STANZA_TIMEOUT, "the refusal")
    assert "c2s[99] connected" not in srv.log_text(since)


async def test_silent_peer_times_out(lab):
    """A connection that never finishes its handshake holds its slot only
    for the handshake deadline (10 s)."""
    srv, _ = lab
    since = srv.log_size()
    r, w = await asyncio.open_connection("127.0.0.1", srv.link_port)
    await wait_for(lambda: "not done in 10 s" in srv.log_text(since),
                   15, "the handshake deadline")
    assert await asyncio.wait_for(r.read(4096), STANZA_TIMEOUT) == b""
    w.close()


async def test_preauth_cap(lab):
    """At most 16 handshakes at once: the 17th connection is closed at
    accept; the hosts already linked are not disturbed."""
    srv, (hb, hc) = lab
    since = srv.log_size()
    held = [await asyncio.open_connection("127.0.0.1", srv.link_port)
            for _ in range(16)]
    await asyncio.sleep(0.3)
    r, w = await asyncio.open_connection("127.0.0.1", srv.link_port)
    try:
        assert await asyncio.wait_for(r.read(4096), STANZA_TIMEOUT) == b""
    except ConnectionResetError:
        pass
    w.close()
    assert "16 handshakes under way" in srv.log_text(since)
    for _, hw in held:
        hw.close()
    await wait_for(lambda: srv.log_text(since).count("refused: ") >= 16,
                   STANZA_TIMEOUT, "the held ones closed")


async def test_wrong_key_refused(lab, tmp_path_factory, cert, clients):
    srv, _ = lab
    bad = str(tmp_path_factory.mktemp("bad") / "links.psk")
    psk_file(bad, ["hostb"])       # hostb's name with another key
    since = srv.log_size()
    h = RemoteHost(tmp_path_factory.mktemp("hostbad"), cert, srv, "hostb",
                   bad, 30)
    h._log = open(h.log_path, "ab")
    h.proc = subprocess.Popen([os.path.join(BIN, "parleyd"), "-c", h.conf],
                              stdin=subprocess.DEVNULL, stdout=h._log,
                              stderr=subprocess.STDOUT)
    RUNNING.append(h)
    try:
        await wait_for(lambda: "refused: tls handshake" in
                       srv.log_text(since), READY_TIMEOUT, "the refusal")
        await asyncio.sleep(1)
        assert "c2s[30] connected" not in srv.log_text(since)
        # its clients get no session: with no router it does not accept
        u = srv.new_user("bad")
        await clients.connect(h, u, expect="timeout", timeout=3)
    finally:
        h.stop()


@pytest.mark.kills("router")
async def test_router_restart_relinks(lab, clients):
    """The router dies; the remote hosts connect again (with back-off) and
    their clients, still connected, exchange messages again."""
    srv, (hb, hc) = lab
    ub, uc = srv.new_user("r"), srv.new_user("r")
    b = await clients.login(hb, ub, resource="b")
    c = await clients.login(hc, uc, resource="c")
    await exchange(b, c)
    since = srv.log_size()
    os.kill(srv.router_pid(), signal.SIGKILL)
    await wait_for(lambda: "c2s[10] connected" in srv.log_text(since) and
                   "c2s[20] connected" in srv.log_text(since),
                   READY_TIMEOUT * 2, "both hosts back")
    await wait_for(lambda: not b.closed.done() and not c.closed.done(),
                   1, "clients still connected")
    await asyncio.sleep(0.5)
    await exchange(b, c)
    await exchange(c, b)


async def test_offline_across_hosts(lab, clients):
    """A message to an account with no session is stored by the router and
    delivered when it logs in on another host."""
    srv, (hb, hc) = lab
    ub, uc = srv.new_user("o"), srv.new_user("o")
    b = await clients.login(hb, ub, resource="b")
    body = "offline-" + os.urandom(4).hex()
    send_message(b, uc.jid, body)
    await fence(b)
    c = await clients.login(hc, uc, resource="c")
    c.send_raw("<presence/>")
    msg = await c.next_message(what="the offline message")
    assert msg["body"] == body


async def test_sm_resume_on_other_host(lab, clients):
    """XEP-0198: a session on host B whose connection is lost resumes on
    host C with what was sent meanwhile (the router holds it)."""
    srv, (hb, hc) = lab
    user = srv.new_user("sm")
    raw = await authed(hb, user)
    await bind(raw, "phone")
    await raw.send("<enable xmlns='%s' resume='true'/>" % NS_SM)
    el = (await raw.read_until(rb"<enabled\b[^>]*/>")).group(0)
    previd = re.search(rb"\bid=['\"]([^'\"]*)['\"]", el).group(1).decode()
    await raw.send("<presence/>")
    await ping(raw)
    c = await clients.login(srv, srv.new_user("c"), resource="c")
    full = user.jid + "/phone"
    send_message(c, full, "one")
    await raw.read_until(rb"<body>one</body>")
    raw.close()         # lost, not closed: the session hibernates
    await wait_for(lambda: "hibernated" in srv.log_text(), STANZA_TIMEOUT,
                   "the session hibernates")
    send_message(c, full, "two")
    await fence(c)
    new = await authed(hc, user)
    try:
        await new.send("<resume xmlns='%s' previd='%s' h='1'/>"
                       % (NS_SM, previd))
        el = (await new.read_until(
            rb"<(resumed|failed)\b[^>]*(/>|>.*?</failed>)")).group(0)
        assert el.startswith(b"<resumed"), el
        await new.read_until(rb"<body>two</body>")
        send_message(c, full, "three")
        await new.read_until(rb"<body>three</body>")
        await ping(new)
    finally:
        new.close()


async def test_roster_presence_across_hosts(lab, clients):
    """A subscription made between hosts B and C: each sees the other come
    online and go offline (the router's presence broadcast reaches the
    remote c2s as one LINK_STANZA_MULTI per link)."""
    srv, (hb, hc) = lab
    ub, uc = srv.new_user("p"), srv.new_user("p")
    b = await online(hb, clients, ub, resource="b")
    c = await online(hc, clients, uc, resource="c")
    await grant(b, ub, c, uc)
    await grant(c, uc, b, ub)
    d = await online(hb, clients, ub, resource="d")
    await wait_presence(c, d.boundjid.full)
    d.send_raw("<presence type='unavailable'/>")
    await wait_presence(c, d.boundjid.full, "unavailable")


async def test_parleyctl_on_remote_host_refused(lab):
    """A c2s host has no storage: parleyctl there points to the router
    instead of making an empty database."""
    _, (hb, _) = lab
    cp = hb.ctl("adduser", "nobody@localhost", stdin="pw-x\n", check=False)
    assert cp.returncode == 1
    assert "run parleyctl there" in cp.stderr
    assert not os.path.exists(os.path.join(hb.opts["datadir"], "data.mdb"))


def s2s_lab(make_server, tmp_path_factory, cert):
    """Server A (a.test) as two hosts: the router's (processes router,c2s:
    no s2s there) and an s2s host (processes s2s) that federates for it;
    server B (b.test), one host, routes a.test to the s2s host's port."""
    ca, cb = mkcert(tmp_path_factory, "a.test"), mkcert(tmp_path_factory,
                                                       "b.test")
    keyfile = str(tmp_path_factory.mktemp("keys") / "links.psk")
    psk_file(keyfile, ["s2s-a", "s2s-standby"])
    link_port, pa, pb = free_port(), free_port(), free_port()
    secret = uniq("s")
    a = make_server(hosts=[("a.test",) + ca], workers=1,
                    processes="router,c2s",
                    link_listen="127.0.0.1:%d" % link_port,
                    link_psk_file=keyfile)
    a.link_port = link_port
    a.keyfile = keyfile
    assert sorted(a.kid_kinds().values()) == ["c2s", "router"]
    s = S2SHost(tmp_path_factory.mktemp("s2s-a"), cert, a, "s2s-a", keyfile,
                {"s2s-listen": "127.0.0.1:%d" % pa,
                 "s2s-route": "b.test=127.0.0.1:%d" % pb,
                 "s2s-connect-timeout": "5",
                 "s2s-dialback-secret": secret},
                extra_hosts=[("a.test",) + ca])
    make_server.servers.append(s)
    s.start()
    assert list(s.kid_kinds().values()) == ["s2s"]
    b = make_server(hosts=[("b.test",) + cb], s2s_connect_timeout="5",
                    s2s_dialback_secret=uniq("s"),
                    s2s_listen="127.0.0.1:%d" % pb,
                    s2s_route="a.test=127.0.0.1:%d" % pa)
    return a, s, b


@pytest.mark.kills("router")
async def test_federation_through_s2s_host(make_server, tmp_path_factory,
                                           cert, clients):
    """The router's host runs no s2s; A's federation goes through the s2s
    host: messages and presence both ways (the s2s host authenticates
    with dialback for a.test), an IQ to the remote server, and a router
    crash survived: what B sends while A's router is away is held by the
    s2s host and delivered once the new router has its link."""
    a, s, b = s2s_lab(make_server, tmp_path_factory, cert)
    ua, ub = user(a, "a.test"), user(b, "b.test")
    ca = await online(a, clients, ua, resource="ra")
    cb = await online(b, clients, ub, resource="rb")
    await chat(ca, cb)
    await chat(cb, ca)
    # the dialback for a.test ran on the s2s host, not the router's
    assert "authenticated for" in s.log_text(), s.log_tail()
    assert "parley-s2s" not in " ".join(
        " ".join(proc_cmdline(p)) for p in a.children())
    r = await ca.iq("<ping xmlns='urn:xmpp:ping'/>", to="b.test",
                    timeout=3 * STANZA_TIMEOUT)
    assert r["type"] == "result", str(r)
    await grant(ca, ua, cb, ub)
    cb.send_raw("<presence><status>over there</status></presence>")
    # the one with the status: the subscription's own presence of cb
    # may still be on its way (under ASan it came after)
    p = await ca.next_presence(
        match=lambda p: p["from"].full == cb.boundjid.full and
        p["status"] == "over there", timeout=3 * STANZA_TIMEOUT,
        what="cb's presence with its status")
    assert p["type"] == "available", str(p)

    # A's router crashes: the s2s host keeps its streams and holds what
    # comes once it knows (a stanza it wrote to the router in the instant
    # of the crash is lost with the router, as a c2s's would be)
    since, ssince = a.log_size(), s.log_size()
    os.kill(a.router_pid(), signal.SIGKILL)
    await wait_for(lambda: "router link lost" in s.log_text(ssince),
                   READY_TIMEOUT, "the s2s host noticed")
    body = uniq("held")
    cb.send_raw("<message to='%s' type='chat'><body>%s</body></message>"
                % (ca.boundjid.full, body))
    await wait_for(lambda: "s2s connected" in a.log_text(since),
                   READY_TIMEOUT * 2, "the s2s host linked to the new router")
    m = await ca.next_message(what="the message held over the crash",
                              timeout=READY_TIMEOUT * 2)
    assert m["body"] == body, str(m)
    await chat(ca, cb)
    assert not ca.closed.done() and not cb.closed.done()


async def test_standby_s2s_host(make_server, tmp_path_factory, cert,
                                clients):
    """One s2s is linked at a time: a second s2s host is refused while the
    first is (the router says so, and federation goes on through the
    first), keeps trying, and links once the first is gone."""
    a, s, b = s2s_lab(make_server, tmp_path_factory, cert)
    ua, ub = user(a, "a.test"), user(b, "b.test")
    ca = await online(a, clients, ua, resource="ra")
    cb = await online(b, clients, ub, resource="rb")
    since = a.log_size()
    standby = S2SHost(tmp_path_factory.mktemp("s2s-standby"), cert, a,
                      "s2s-standby", a.keyfile,
                      {"s2s-listen": "127.0.0.1:%d" % free_port()},
                      extra_hosts=[("a.test",) + mkcert(tmp_path_factory,
                                                        "a.test")])
    make_server.servers.append(standby)
    standby.wait_ready = lambda *args, **kw: None     # it is not, yet
    standby.start()
    await wait_for(lambda: a.log_text(since).count("a second s2s process")
                   >= 2, READY_TIMEOUT, "the standby refused, twice")
    await chat(ca, cb)
    await chat(cb, ca)
    since = a.log_size()
    s.stop()
    await wait_for(lambda: "s2s connected" in a.log_text(since),
                   READY_TIMEOUT * 2, "the standby linked")
    assert "s2s connected" in a.log_text(since)


async def test_router_host_without_s2s_refuses_remote(make_server, clients):
    """processes router,c2s and no s2s host linked: a stanza to another
    server is bounced at once (service-unavailable), not queued."""
    srv = make_server(workers=1, processes="router,c2s")
    assert sorted(srv.kid_kinds().values()) == ["c2s", "router"]
    u = srv.new_user("n")
    c = await clients.login(srv, u, resource="n")
    c.send_raw("<message to='x@example.net' type='chat' id='f1'>"
               "<body>x</body></message>")
    e = await c.next_message(what="the bounce")
    assert e["type"] == "error" and e["id"] == "f1", str(e)
    assert e["error"]["condition"] == "service-unavailable", str(e)


async def test_parleyctl_on_s2s_host_refused(make_server, tmp_path_factory,
                                            cert):
    """An s2s host has no storage either, and no sasl-secret is made
    there (only a router makes one)."""
    a, s, _ = s2s_lab(make_server, tmp_path_factory, cert)
    cp = s.ctl("adduser", "nobody@a.test", stdin="pw-x\n", check=False)
    assert cp.returncode == 1 and "run parleyctl there" in cp.stderr
    assert not os.path.exists(os.path.join(s.opts["datadir"], "data.mdb"))
    assert not os.path.exists(os.path.join(s.opts["datadir"],
                                           "sasl-secret"))


async def test_remote_host_gets_the_router_keys(make_server, tmp_path_factory,
                                                cert, clients):
    """A c2s host with nothing copied from the router host's data
    directory: the router hands its workers the keys they share
    (LINK_SECRETS). An unknown account's made-up SCRAM salt is the one the
    router host's c2s gives, and a PUT there to a slot the router signed
    is taken; the keys are never written on that host."""
    keyfile = str(tmp_path_factory.mktemp("keys") / "links.psk")
    psk_file(keyfile, ["hostb"])
    link_port = free_port()
    srv = upload_server(make_server, tmp_path_factory.mktemp("up"),
                        workers=1, link_listen="127.0.0.1:%d" % link_port,
                        link_psk_file=keyfile)
    srv.link_port = link_port
    b_http = free_port()
    b_dir = str(tmp_path_factory.mktemp("upb") / "upload")
    hb = RemoteHost(tmp_path_factory.mktemp("hostb"), cert, srv, "hostb",
                    keyfile, 10, extra={
                        "http-listen": "127.0.0.1:%d" % b_http,
                        "upload-dir": b_dir,
                        "upload-url": srv.opts["upload-url"],
                        "upload-max-file-size": "64K"},
                    host_options={DOMAIN: {"upload": "yes"}})
    make_server.servers.append(hb)
    hb.start()

    ghost = uniq("ghost")
    _, here = await scram_salt(srv, ghost)
    _, there = await scram_salt(hb, ghost)
    assert there == here, "the remote c2s made up its own key"
    assert (await scram_salt(hb, uniq("ghost")))[1] != here

    c = await clients.login(srv, srv.new_user(), resource="up")
    put, _ = await good_slot(c, "far.txt", 5, "text/plain")
    hb.http_port, hb.upload_dir = b_http, b_dir
    st, _, body = await ahttp(hb, "PUT", put, body=b"hello",
                              headers={"Content-Type": "text/plain"})
    assert st == 201, (st, body)
    assert len(stored(hb)) == 1
    for name in ("sasl-secret", "upload-secret"):
        assert not os.path.exists(os.path.join(hb.opts["datadir"], name))
        assert os.path.exists(os.path.join(srv.opts["datadir"], name))
