"""
Federation between two Parley servers on loopback (the interop lab in
tests/interop/ adds Prosody, ejabberd and DNS): server A serves a.test,
server B serves b.test, each finds the other with an s2s-route. With
self-signed certificates only Server Dialback can authenticate; with each
other's certificate as trust anchor the SASL EXTERNAL path is taken.
Also: bounces when the remote server cannot be reached, and a stream
that claims a domain it did not authenticate is refused.
"""
import asyncio
import re
import os
import subprocess
import time

import pytest

from conftest import (BIN, NS_PING, ROOT, SLOW, STANZA_TIMEOUT, User,
                      exchange, free_port, stanza_error, uniq)
from imhelp import grant, online, roster_get, wait_presence

NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"


def mkcert(tmp_path_factory, domain):
    d = tmp_path_factory.mktemp("cert-" + domain)
    crt, key = str(d / (domain + ".crt")), str(d / (domain + ".key"))
    subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), domain, crt,
                    key], check=True, capture_output=True, timeout=60)
    return crt, key


def pair(make_server, tmp_path_factory, trusted=False, a_host_options=None,
         b_routes=(), a_options=None, a_cert=None, b_cert=None, **kw):
    """Servers A (a.test) and B (b.test) that route to each other;
    a_host_options go into a.test's block, a_options are A's alone
    (a_cert and b_cert their (certificate, key)), and B routes the
    domains b_routes (A's services) to A too."""
    ca = a_cert or mkcert(tmp_path_factory, "a.test")
    cb = b_cert or mkcert(tmp_path_factory, "b.test")
    pa, pb = free_port(), free_port()
    common = {"s2s_connect_timeout": "5", "s2s_dialback_secret": uniq("s")}
    common.update(kw)
    oa = dict(common, s2s_listen="127.0.0.1:%d" % pa,
              s2s_route="b.test=127.0.0.1:%d" % pb, **(a_options or {}))
    ob = dict(common, s2s_listen="127.0.0.1:%d" % pb,
              s2s_route="a.test=127.0.0.1:%d" % pa)
    if trusted:
        oa["s2s_ca_file"] = cb[0]
        ob["s2s_ca_file"] = ca[0]
    a = make_server(hosts=[("a.test",) + ca],
                    host_options={"a.test": a_host_options or {}}, **oa)
    b = make_server(hosts=[("b.test",) + cb], start=False, **ob)
    with open(b.conf, "a") as f:
        for d in b_routes:
            f.write("s2s-route %s=127.0.0.1:%d\n" % (d, pa))
    b.start()
    return a, b


def user(srv, domain, prefix="u"):
    u = User("%s@%s" % (uniq(prefix), domain), uniq("pw"))
    srv.adduser(u.jid, u.password)
    return u


async def chat(a, b):
    body = uniq("hello")
    a.send_raw("<message to='%s' type='chat'><body>%s</body></message>"
               % (b.boundjid.full, body))
    m = await b.next_message(what="a message across servers",
                             timeout=3 * STANZA_TIMEOUT)
    assert m["body"] == body, str(m)
    assert m["from"].full == a.boundjid.full, str(m)


@pytest.mark.parametrize("trusted", [False, True],
                         ids=["dialback", "sasl-external"])
async def test_message_both_ways(make_server, tmp_path_factory, clients,
                                 trusted):
    a, b = pair(make_server, tmp_path_factory, trusted=trusted)
    ua, ub = user(a, "a.test"), user(b, "b.test")
    ca = await clients.login(a, ua, resource="ra")
    cb = await clients.login(b, ub, resource="rb")
    await chat(ca, cb)
    await chat(cb, ca)
    how = "SASL EXTERNAL" if trusted else "dialback"
    log = a.log_text() + b.log_text()
    if trusted:
        assert "certificate ok" in log, log[-3000:]
    else:
        assert "authenticated for" in log, log[-3000:]
    assert ("b.test authenticated for a.test" in log and
            "a.test authenticated for b.test" in log) or trusted, how


async def test_iq_and_presence_across(make_server, tmp_path_factory, clients):
    a, b = pair(make_server, tmp_path_factory)
    ua, ub = user(a, "a.test"), user(b, "b.test")
    ca = await online(a, clients, ua, resource="ra")
    cb = await online(b, clients, ub, resource="rb")
    # IQ to the remote server and to a remote full JID
    r = await ca.iq("<ping xmlns='%s'/>" % NS_PING, to="b.test",
                    timeout=3 * STANZA_TIMEOUT)
    assert r["type"] == "result", str(r)
    r = await ca.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to="b.test",
                    timeout=3 * STANZA_TIMEOUT)
    assert r["type"] == "result", str(r)
    r = await ca.iq("<ping xmlns='%s'/>" % NS_PING, to=cb.boundjid.full,
                    timeout=3 * STANZA_TIMEOUT)
    assert r["type"] == "result", str(r)
    # subscriptions to both, then presence flows
    await grant(ca, ua, cb, ub)
    await grant(cb, ub, ca, ua)
    items, _, _ = await roster_get(ca)
    assert items[ub.jid].sub == "both", items
    items, _, _ = await roster_get(cb)
    assert items[ua.jid].sub == "both", items
    cb.send_raw("<presence><status>far away</status></presence>")
    p = await wait_presence(ca, frm=cb.boundjid.full,
                            timeout=3 * STANZA_TIMEOUT)
    assert p["status"] == "far away", str(p)


async def test_unknown_remote_user_bounced(make_server, tmp_path_factory,
                                           clients):
    a, b = pair(make_server, tmp_path_factory)
    ua = user(a, "a.test")
    ca = await clients.login(a, ua, resource="ra")
    ca.send_raw("<message to='nobody@b.test' type='chat' id='nb1'>"
                "<body>x</body></message>")
    e = await ca.next_message(what="the remote bounce",
                              timeout=3 * STANZA_TIMEOUT)
    assert e["type"] == "error" and e["id"] == "nb1", str(e)
    assert stanza_error(e)[1] == "service-unavailable", str(e)


async def test_unreachable_server_bounced(make_server, tmp_path_factory,
                                          clients):
    """Nothing listens at the route's port: the queued stanzas come back
    as remote-server-not-found (never reached) within the timeout."""
    ca_ = mkcert(tmp_path_factory, "a.test")
    dead = free_port()
    a = make_server(hosts=[("a.test",) + ca_], s2s_connect_timeout="3",
                    s2s_route="gone.test=127.0.0.1:%d" % dead)
    ua = user(a, "a.test")
    ca = await clients.login(a, ua, resource="ra")
    t0 = time.monotonic()
    for i in range(3):
        ca.send_raw("<message to='x@gone.test' type='chat' id='g%d'>"
                    "<body>x</body></message>" % i)
    ids = set()
    for _ in range(3):
        e = await ca.next_message(what="a bounce", timeout=8 * SLOW)
        assert e["type"] == "error", str(e)
        assert stanza_error(e)[1] in ("remote-server-not-found",
                                      "remote-server-timeout"), str(e)
        ids.add(e["id"])
    assert ids == {"g0", "g1", "g2"}
    assert time.monotonic() - t0 < 6


async def test_unauthenticated_stream_refused(make_server, tmp_path_factory,
                                              clients):
    """A stream claiming from='b.test' that never authenticated sends a
    message: not-authorized, and nothing is delivered."""
    a, b = pair(make_server, tmp_path_factory, s2s_require_tls="no")
    ua = user(a, "a.test")
    ca = await clients.login(a, ua, resource="ra")
    port = int(a.opts["s2s-listen"].split(":")[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(("<?xml version='1.0'?><stream:stream xmlns='jabber:server'"
                  " xmlns:stream='http://etherx.jabber.org/streams'"
                  " xmlns:db='jabber:server:dialback' from='b.test'"
                  " to='a.test' version='1.0'>").encode())
    writer.write(("<message from='evil@b.test' to='%s' type='chat'>"
                  "<body>spoof</body></message>" % ca.boundjid.full).encode())
    await writer.drain()
    data = b""
    try:
        while b"</stream:stream>" not in data:
            chunk = await asyncio.wait_for(reader.read(4096), 5)
            if not chunk:
                break
            data += chunk
    except asyncio.TimeoutError:
        pass
    writer.close()
    assert b"not-authorized" in data, data
    # the s2s process wrote anything it forwarded to the router before
    # the error; two pings through the router let it all reach ca
    await ca.fence()
    await ca.fence()
    assert ca.messages.empty(), "a spoofed message was delivered"


S2S_HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server'"
              " xmlns:stream='http://etherx.jabber.org/streams'"
              " xmlns:db='jabber:server:dialback' from='%s' to='%s'"
              " version='1.0'>")


async def read_for(reader, pattern, timeout=10 * SLOW):
    data = b""
    deadline = time.monotonic() + timeout
    while pattern not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            chunk = await asyncio.wait_for(reader.read(65536), left)
        except asyncio.TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return data


async def test_forged_dialback_key(make_server, tmp_path_factory, clients):
    """A stream that claims b.test with a key b.test never issued: A asks
    B (db:verify), B says invalid, A answers invalid and accepts nothing
    from it; real federation between A and B is unaffected."""
    a, b = pair(make_server, tmp_path_factory, s2s_require_tls="no")
    ua, ub = user(a, "a.test"), user(b, "b.test")
    ca = await clients.login(a, ua, resource="ra")
    cb = await clients.login(b, ub, resource="rb")
    port = int(a.opts["s2s-listen"].split(":")[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write((S2S_HEADER % ("b.test", "a.test")).encode())
    writer.write(b"<db:result from='b.test' to='a.test'>"
                 + b"0" * 64 + b"</db:result>")
    await writer.drain()
    data = await read_for(reader, b"type='invalid'")
    assert b"type='invalid'" in data, data
    writer.write(("<message from='x@b.test' to='%s' type='chat'><body>"
                  "forged</body></message>" % ca.boundjid.full).encode())
    await writer.drain()
    data = await read_for(reader, b"</stream:stream>", timeout=5 * SLOW)
    assert b"not-authorized" in data, data
    writer.close()
    await chat(cb, ca)
    await chat(ca, cb)
    for m in list(ca.messages._queue):
        assert m["body"] != "forged"


async def test_authoritative_server_never_answers(make_server,
                                                  tmp_path_factory, clients):
    """The claimed domain's server accepts our db:verify and never
    answers: the db:result is answered invalid once s2s-connect-timeout
    passes, and nothing hangs."""
    ca_ = mkcert(tmp_path_factory, "a.test")
    seen = []

    async def mute(reader, writer):
        seen.append(True)
        await read_for(reader, b"<stream:stream", timeout=5 * SLOW)
        writer.write((S2S_HEADER.replace(" from='%s' to='%s'", " id='%s'")
                      % uniq("id")).encode() + b"<stream:features/>")
        await writer.drain()
        await read_for(reader, b"never", timeout=15 * SLOW)     # says nothing
        writer.close()

    srv_mute = await asyncio.start_server(mute, "127.0.0.1", 0)
    mport = srv_mute.sockets[0].getsockname()[1]
    pa = free_port()
    a = make_server(hosts=[("a.test",) + ca_], s2s_require_tls="no",
                    s2s_connect_timeout="3",
                    s2s_listen="127.0.0.1:%d" % pa,
                    s2s_route="mute.test=127.0.0.1:%d" % mport)
    reader, writer = await asyncio.open_connection("127.0.0.1", pa)
    t0 = time.monotonic()
    writer.write((S2S_HEADER % ("mute.test", "a.test")).encode())
    writer.write(b"<db:result from='mute.test' to='a.test'>"
                 + b"1" * 64 + b"</db:result>")
    await writer.drain()
    data = await read_for(reader, b"type='invalid'", timeout=10 * SLOW)
    assert b"type='invalid'" in data, data
    assert seen, "A never asked mute.test"
    assert time.monotonic() - t0 < 8
    writer.close()
    srv_mute.close()


async def test_oversized_stanza_from_a_server(make_server, tmp_path_factory,
                                              clients):
    """A server stream sending an element over the limit (before
    authentication: s2s-max-stanza-size-preauth) is closed with
    <policy-violation/>; the listener keeps serving."""
    a, b = pair(make_server, tmp_path_factory, s2s_require_tls="no",
                max_stanza_size="64K")
    port = int(a.opts["s2s-listen"].split(":")[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write((S2S_HEADER % ("b.test", "a.test")).encode())
    writer.write(b"<db:result from='b.test' to='a.test'>" +
                 b"q" * (20 * 1024))
    try:
        await writer.drain()
    except ConnectionError:
        pass
    data = await read_for(reader, b"</stream:stream>")
    assert b"policy-violation" in data, data[-500:]
    writer.close()
    ua, ub = user(a, "a.test"), user(b, "b.test")
    ca = await clients.login(a, ua, resource="ra")
    cb = await clients.login(b, ub, resource="rb")
    await chat(ca, cb)


def dialback_key(secret, receiving, originating, stream_id):
    """XEP-0185: HMAC-SHA256 keyed with the hex SHA-256 of the secret."""
    import hashlib
    import hmac
    k = hashlib.sha256(secret.encode()).hexdigest().encode()
    return hmac.new(k, ("%s %s %s" % (receiving, originating, stream_id))
                    .encode(), hashlib.sha256).hexdigest()


async def open_as_b(a, secret, stream_id_of=None):
    """A raw stream to A that authenticates as b.test with a key made
    from B's secret (as B itself would). Returns (reader, writer, id)."""
    port = int(a.opts["s2s-listen"].split(":")[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write((S2S_HEADER % ("b.test", "a.test")).encode())
    await writer.drain()
    hdr = await read_for(reader, b"</stream:features>")
    m = re.search(rb"id='([^']+)'", hdr)
    assert m, hdr
    sid = m.group(1).decode()
    key = dialback_key(secret, "a.test", "b.test",
                       stream_id_of if stream_id_of else sid)
    writer.write(("<db:result from='b.test' to='a.test'>%s</db:result>"
                  % key).encode())
    await writer.drain()
    return reader, writer, sid


async def test_replayed_dialback_key(make_server, tmp_path_factory,
                                     clients):
    """A valid key is bound to its stream id: replayed on another stream
    it is invalid."""
    a, b = pair(make_server, tmp_path_factory, s2s_require_tls="no")
    secret = a.opts["s2s-dialback-secret"]
    r1, w1, sid1 = await open_as_b(a, secret)
    assert b"type='valid'" in await read_for(r1, b"type='valid'")
    r2, w2, _ = await open_as_b(a, secret, stream_id_of=sid1)
    assert b"type='invalid'" in await read_for(r2, b"type='invalid'")
    w1.close()
    w2.close()


async def test_flooding_server(make_server, tmp_path_factory, clients):
    """An authenticated server floods a user with 20,000 messages: they
    are delivered (none dropped), the s2s process stays small, and local
    users are served meanwhile. The archive is off: its cost per
    message is test_mam's and the benchmark's subject (docs/BENCHMARKS.md);
    under ASan it alone would take this flood past the fairness bound."""
    a, b = pair(make_server, tmp_path_factory, s2s_require_tls="no",
                archive="no")
    secret = a.opts["s2s-dialback-secret"]
    ua, uc = user(a, "a.test"), user(a, "a.test")
    ca = await clients.login(a, ua, resource="ra")
    cc = await clients.login(a, uc, resource="rc")
    reader, writer, _ = await open_as_b(a, secret)
    assert b"type='valid'" in await read_for(reader, b"type='valid'")
    n = 20000
    got = 0

    async def flood():
        chunk = "".join("<message from='f@b.test/x' to='%s' type='chat'>"
                        "<body>%d</body></message>" % (ca.boundjid.full, i)
                        for i in range(500))
        for _ in range(n // 500):
            writer.write(chunk.encode())
            await writer.drain()
    task = asyncio.ensure_future(flood())
    t0 = time.monotonic()
    while got < n:
        try:
            m = await asyncio.wait_for(ca.messages.get(), 20)
        except asyncio.TimeoutError:
            break
        if m["from"].bare == "f@b.test":
            got += 1
        if got == n // 2:
            # a local pair is served in the middle of the flood
            t1 = time.monotonic()
            await exchange(cc, cc)
            assert time.monotonic() - t1 < 5 * SLOW
    await task
    assert got == n, "%d of %d delivered" % (got, n)
    s2s = [p for p in a.children()
           if "parley-s2s" in open("/proc/%d/cmdline" % p).read()]
    rss = int(re.search(r"VmRSS:\s+(\d+)",
                        open("/proc/%d/status" % s2s[0]).read()).group(1))
    # (ASan's shadow memory and quarantine make RSS meaningless there)
    assert rss < 64 * 1024 or "asan" in BIN, "s2s RSS %d KiB" % rss
    writer.close()
    assert time.monotonic() - t0 < 60
