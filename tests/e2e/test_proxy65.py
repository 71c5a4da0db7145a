"""
The SOCKS5 bytestream proxy (XEP-0065) at proxy.DOMAIN: discovery, the
streamhost, a file transfer between two slixmpp clients through it, the
activation rules, the SOCKS5 errors and the limits (pending timeout,
pending connections, bytes and rate per transfer).
"""
import asyncio
import hashlib
import os
import signal
import time

import pytest

from conftest import (DOMAIN, NS_DISCO_INFO, STANZA_TIMEOUT, User,
                      disco_service, free_port, stanza_error, uniq, wait_for)

NS_BS = "http://jabber.org/protocol/bytestreams"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
PROXY = "proxy." + DOMAIN


def proxy_server(make_server, **opts):
    port = free_port()
    srv = make_server(proxy_listen="127.0.0.1:%d" % port,
                      host_options={DOMAIN: {"proxy": "yes"}}, **opts)
    srv.proxy_port = port
    return srv


def assert_error(r, condition):
    assert r["type"] == "error", str(r)
    assert stanza_error(r)[1] == condition, str(r)


def dst(sid, initiator, target):
    return hashlib.sha1((sid + initiator + target).encode()).hexdigest()


async def socks_connect(port, hash_):
    """A client's SOCKS5 handshake as XEP-0065 5.3.2 has it; returns the
    streams after a success reply."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(b"\x05\x01\x00")
    assert await asyncio.wait_for(r.readexactly(2), STANZA_TIMEOUT) == \
        b"\x05\x00"
    addr = hash_.encode()
    w.write(b"\x05\x01\x00\x03" + bytes([len(addr)]) + addr + b"\x00\x00")
    rep = await asyncio.wait_for(r.readexactly(7 + len(addr)),
                                 STANZA_TIMEOUT)
    assert rep == b"\x05\x00\x00\x03" + bytes([len(addr)]) + addr + \
        b"\x00\x00", rep
    return r, w


async def read_to_eof(r, timeout=STANZA_TIMEOUT):
    """Everything until the proxy closes (fails on a timeout)."""
    return await asyncio.wait_for(r.read(), timeout)


async def activate(c, sid, target):
    return await c.iq("<query xmlns='%s' sid='%s'><activate>%s</activate>"
                      "</query>" % (NS_BS, sid, target), to=PROXY,
                      type_="set")


async def pair(srv, clients, sid="s1"):
    """Initiator and target logged in, both connected to the proxy with
    the stream's hash, not activated."""
    ci = await clients.login(srv, srv.new_user("i"), resource="i")
    ct = await clients.login(srv, srv.new_user("t"), resource="t")
    h = dst(sid, str(ci.boundjid), str(ct.boundjid))
    rt, wt = await socks_connect(srv.proxy_port, h)     # the target first
    ri, wi = await socks_connect(srv.proxy_port, h)
    return ci, ct, (ri, wi), (rt, wt)


# ---------------------------------------------------------------------------
# discovery

async def test_disco(make_server, clients):
    srv = proxy_server(make_server)
    c = await clients.login(srv, srv.new_user(), resource="d")
    r, ids, feats = await disco_service(c, PROXY)
    assert ids == [("proxy", "bytestreams")], str(r)
    assert NS_BS in feats, str(r)
    r = await c.iq("<query xmlns='%s'/>" % NS_BS, to=PROXY)
    assert r["type"] == "result", str(r)
    sh = r.xml.find("{%s}query/{%s}streamhost" % (NS_BS, NS_BS))
    assert sh is not None, str(r)
    assert (sh.get("jid"), sh.get("host"), sh.get("port")) == \
        (PROXY, "127.0.0.1", str(srv.proxy_port)), sh.attrib


async def test_no_proxy_without_option(make_server, clients):
    """A host without proxy lists none; proxy.DOMAIN is then nothing of
    ours and goes to federation (which fails for it)."""
    srv = make_server()
    c = await clients.login(srv, srv.new_user(), resource="d")
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to=DOMAIN)
    jids = [i.get("jid") for i in r.xml.iter("{%s}item" % NS_DISCO_ITEMS)]
    assert PROXY not in jids, str(r)


# ---------------------------------------------------------------------------
# a file transfer between two slixmpp clients

async def test_file_transfer_slixmpp(make_server, clients):
    srv = proxy_server(make_server)
    plugins = ("xep_0199", "xep_0030", "xep_0065")
    a = await clients.login(srv, srv.new_user("a"), resource="a",
                            plugins=plugins)
    b = await clients.login(srv, srv.new_user("b"), resource="b",
                            plugins=plugins)
    b["xep_0065"].auto_accept = True
    got = bytearray()
    closed = asyncio.get_running_loop().create_future()
    b.add_event_handler("socks5_data", lambda d: got.extend(d))
    b.add_event_handler("socks5_closed",
                        lambda e: closed.done() or closed.set_result(True))
    data = os.urandom(300 * 1024)
    sock = await asyncio.wait_for(a["xep_0065"].handshake(b.boundjid),
                                  STANZA_TIMEOUT)
    assert sock is not None, "no stream through the proxy"
    assert list(a["xep_0065"]._proxies) == [PROXY] or \
        str(list(a["xep_0065"]._proxies)[0]) == PROXY
    for i in range(0, len(data), 16384):
        await sock.write(data[i:i + 16384])
    sock.transport.close()
    await asyncio.wait_for(closed, 3 * STANZA_TIMEOUT)
    assert len(got) == len(data) and bytes(got) == data, \
        "%d of %d bytes arrived intact" % (len(got), len(data))
    assert "proxy: activated" in srv.log_text()


# ---------------------------------------------------------------------------
# activation

async def test_activation_rules(make_server, clients):
    srv = proxy_server(make_server)
    ci, ct, (ri, wi), (rt, wt) = await pair(srv, clients)
    target = str(ct.boundjid)
    # someone else than the initiator: the hash is not theirs
    m = await clients.login(srv, srv.new_user("m"), resource="m")
    assert_error(await activate(m, "s1", target), "item-not-found")
    # another stream id: an unknown hash
    assert_error(await activate(ci, "s2", target), "item-not-found")
    # malformed requests
    assert_error(await ci.iq("<query xmlns='%s'><activate>%s</activate>"
                             "</query>" % (NS_BS, target), to=PROXY,
                             type_="set"), "bad-request")
    assert_error(await ci.iq("<query xmlns='%s' sid='s1'/>" % NS_BS,
                             to=PROXY, type_="set"), "bad-request")
    assert_error(await activate(ci, "s1", "a@b@c"), "jid-malformed")
    assert_error(await ci.iq("<query xmlns='%s' sid='%s'><activate>%s"
                             "</activate></query>" % (NS_BS, "x" * 300,
                                                      target),
                             to=PROXY, type_="set"), "bad-request")
    # the initiator: relayed both ways
    r = await activate(ci, "s1", target)
    assert r["type"] == "result", str(r)
    assert r["from"].full == PROXY, str(r)
    wi.write(b"hello target")
    assert await asyncio.wait_for(rt.readexactly(12), STANZA_TIMEOUT) == \
        b"hello target"
    wt.write(b"hi")
    assert await asyncio.wait_for(ri.readexactly(2), STANZA_TIMEOUT) == \
        b"hi"
    # activated once: a second activation finds no waiting pair
    assert_error(await activate(ci, "s1", target), "item-not-found")
    # one side closing closes the other
    wi.close()
    assert await read_to_eof(rt) == b""
    wt.close()


async def test_proxy_iq_errors(make_server, clients):
    srv = proxy_server(make_server)
    c = await clients.login(srv, srv.new_user(), resource="e")
    assert_error(await c.iq("<ping xmlns='urn:xmpp:ping'/>", to=PROXY),
                 "service-unavailable")
    assert_error(await c.iq("<query xmlns='%s' node='x'/>" % NS_DISCO_INFO,
                            to=PROXY), "item-not-found")
    c.send_raw("<message to='%s' id='m1'><body>x</body></message>" % PROXY)
    msg = await c.next_message()
    assert msg["type"] == "error", str(msg)
    assert stanza_error(msg)[1] == "service-unavailable", str(msg)
    # the stream survived
    r = await c.iq("<query xmlns='%s'/>" % NS_BS, to=PROXY)
    assert r["type"] == "result", str(r)


# ---------------------------------------------------------------------------
# SOCKS5 errors: the reply RFC 1928 has, then the connection closes

async def raw_socks(port, first, second=None):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(first)
    if second is not None:
        assert await asyncio.wait_for(r.readexactly(2), STANZA_TIMEOUT) == \
            b"\x05\x00"
        w.write(second)
    out = await read_to_eof(r)
    w.close()
    return out


async def test_socks5_errors(make_server):
    srv = proxy_server(make_server)
    port = srv.proxy_port
    h = b"a" * 40
    # only username/password offered: no acceptable method
    assert await raw_socks(port, b"\x05\x01\x02") == b"\x05\xff"
    assert await raw_socks(port, b"\x05\x00") == b"\x05\xff"
    # SOCKS4: no reply at all
    assert await raw_socks(port, b"\x04\x01\x00\x50\x7f\x00\x00\x01\x00") \
        == b""
    # BIND: command not supported
    out = await raw_socks(port, b"\x05\x01\x00",
                          b"\x05\x02\x00\x03\x28" + h + b"\x00\x00")
    assert out[:2] == b"\x05\x07", out
    # an IPv4 address: address type not supported
    out = await raw_socks(port, b"\x05\x01\x00",
                          b"\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50")
    assert out[:2] == b"\x05\x08", out
    # a name that is no stream hash
    out = await raw_socks(port, b"\x05\x01\x00",
                          b"\x05\x01\x00\x03\x0bexample.org\x00\x00")
    assert out[:2] == b"\x05\x01", out
    # data before activation
    r, w = await socks_connect(port, "b" * 40)
    w.write(b"too early")
    assert await read_to_eof(r) == b""
    w.close()
    # a third connection for one hash
    conns = [await socks_connect(port, "c" * 40) for _ in range(2)]
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(b"\x05\x01\x00")
    assert await r.readexactly(2) == b"\x05\x00"
    w.write(b"\x05\x01\x00\x03\x28" + b"c" * 40 + b"\x00\x00")
    out = await read_to_eof(r)
    assert out[:2] == b"\x05\x00", out  # accepted, then closed
    w.close()
    for _, cw in conns:
        cw.close()
    assert "SOCKS5: not CONNECT" in srv.log_text()


# ---------------------------------------------------------------------------
# limits

async def test_pending_timeout_and_max(make_server):
    srv = proxy_server(make_server, proxy_pending_timeout="1",
                       proxy_max_pending="2")
    port = srv.proxy_port
    t0 = time.monotonic()
    r1, w1 = await socks_connect(port, "d" * 40)
    r2, w2 = await asyncio.open_connection("127.0.0.1", port)  # silent
    await asyncio.sleep(0.2)
    # a third waiting connection is refused at once
    r3, w3 = await asyncio.open_connection("127.0.0.1", port)
    assert await asyncio.wait_for(r3.read(), STANZA_TIMEOUT) == b""
    assert time.monotonic() - t0 < 1.0
    # the two others are closed once the pending timeout passes
    assert await read_to_eof(r1) == b""
    assert await read_to_eof(r2) == b""
    assert time.monotonic() - t0 >= 0.9
    for w in (w1, w2, w3):
        w.close()
    assert "proxy-max-pending (2) reached" in srv.log_text()


async def test_max_bytes(make_server, clients):
    srv = proxy_server(make_server, proxy_max_bytes="4K")
    ci, ct, (ri, wi), (rt, wt) = await pair(srv, clients)
    assert (await activate(ci, "s1", str(ct.boundjid)))["type"] == "result"
    wi.write(b"x" * 3000)
    assert len(await asyncio.wait_for(rt.readexactly(3000),
                                      STANZA_TIMEOUT)) == 3000
    wi.write(b"y" * 3000)   # past 4K in all: both close
    await read_to_eof(rt)
    await read_to_eof(ri)
    await wait_for(lambda: "proxy-max-bytes" in srv.log_text(),
                   STANZA_TIMEOUT, "the proxy-max-bytes log line")
    wi.close()
    wt.close()


async def test_rate_limit(make_server, clients):
    """proxy-rate 20K: 60000 bytes take about two seconds past the first
    second's worth; nothing is lost."""
    srv = proxy_server(make_server, proxy_rate="20K")
    ci, ct, (ri, wi), (rt, wt) = await pair(srv, clients)
    assert (await activate(ci, "s1", str(ct.boundjid)))["type"] == "result"
    data = os.urandom(60000)
    t0 = time.monotonic()
    wi.write(data)
    got = await asyncio.wait_for(rt.readexactly(len(data)),
                                 5 * STANZA_TIMEOUT)
    elapsed = time.monotonic() - t0
    assert got == data
    assert elapsed >= 1.5, "relayed in %.2fs, over the rate" % elapsed
    wi.close()
    wt.close()


async def test_idle_timeout(make_server, clients):
    srv = proxy_server(make_server, proxy_idle_timeout="1")
    ci, ct, (ri, wi), (rt, wt) = await pair(srv, clients)
    assert (await activate(ci, "s1", str(ct.boundjid)))["type"] == "result"
    t0 = time.monotonic()
    assert await read_to_eof(rt) == b""
    assert await read_to_eof(ri) == b""
    assert time.monotonic() - t0 >= 0.9
    wi.close()
    wt.close()


@pytest.mark.kills("proxy")
async def test_proxy_restart_answers_activation(make_server, clients):
    """An activation while the proxy process is away is refused, not
    left unanswered; the supervisor restarts it."""
    srv = proxy_server(make_server)
    pid = [p for p, k in srv.kid_kinds().items() if k == "proxy"]
    assert len(pid) == 1, srv.kid_kinds()
    c = await clients.login(srv, srv.new_user(), resource="k")
    os.kill(pid[0], signal.SIGKILL)
    await wait_for(lambda: "proxy link closed" in srv.log_text(),
                   STANZA_TIMEOUT, "the router to see the proxy go")
    assert_error(await activate(c, "s9", "x@" + DOMAIN + "/y"),
                 "internal-server-error")
    await wait_for(lambda: srv.log_text().count("proxy connected") >= 2,
                   5 * STANZA_TIMEOUT, "the proxy to come back")
    r = await c.iq("<query xmlns='%s'/>" % NS_BS, to=PROXY)
    assert r["type"] == "result"


async def test_other_host_forbidden(make_server, clients, cert):
    """An account of another host of the server may not use this host's
    proxy (the streamhost query and activation are forbidden)."""
    other = "other.test"
    port = free_port()
    srv = make_server(proxy_listen="127.0.0.1:%d" % port,
                      hosts=[(other,) + tuple(cert)],
                      host_options={DOMAIN: {"proxy": "yes"}})
    ou = User("%s@%s" % (uniq("o"), other), uniq("pw"))
    srv.adduser(ou.jid, ou.password)
    c = await clients.login(srv, ou, resource="o")
    assert_error(await c.iq("<query xmlns='%s'/>" % NS_BS, to=PROXY),
                 "forbidden")
    assert_error(await activate(c, "s1", "a@" + DOMAIN + "/b"), "forbidden")
    # disco stays open to all
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=PROXY)
    assert r["type"] == "result", str(r)
