"""
Parley federating with Prosody, ejabberd and another Parley, in both modes:

  trusted   every server has a certificate from the lab CA and trusts the
            lab CA; Parley runs with "s2s-dialback no", so only SASL
            EXTERNAL can authenticate a stream.
  dialback  every server has a self-signed certificate nobody trusts;
            streams are TLS-encrypted and authenticated by Server Dialback.

The local server is Parley for p1.test; the remote one is Prosody
(prosody.test), ejabberd (ejabberd.test) or Parley for p2.test, whose SRV
record points at port 5299. Each test case is one (remote, mode) cell of
the matrix, e.g. test_chat[ejabberd-dialback]; "-m trusted", "-k prosody"
and the like select rows and columns.

Self-check of these tests without Parley: PARLEY_INTEROP_LOCAL=prosody runs
them with Prosody as the local server and ejabberd as the only remote
(Parley-only tests are skipped; the spoofing test is expected to fail
there, because Prosody answers with a stanza error instead of the
not-authorized stream error).
"""
import asyncio
import os
import re
import ssl
import time

import pytest

import lab
from conftest import (NS_DISCO_INFO, NS_PING, STANZA_TIMEOUT, exchange,
                      new_user, stanza_error, uniq)

LOCAL_KIND = os.environ.get("PARLEY_INTEROP_LOCAL", "parley")
LOCAL_DOMAIN = lab.DEFAULT_DOMAIN[LOCAL_KIND]

# a missing Parley binary fails every test loudly (lab.Parley.pre_start)
if LOCAL_KIND == "parley":
    REMOTES = [("prosody", "prosody.test"), ("ejabberd", "ejabberd.test"),
               ("parley", "p2.test")]
else:
    REMOTES = [("ejabberd", "ejabberd.test")]


def _cell(kind, domain, mode):
    name = "parley2" if kind == "parley" else kind
    return pytest.param(kind, domain, mode, id="%s-%s" % (name, mode),
                        marks=[pytest.mark.peer(kind),
                               pytest.mark.mode(mode)])


MATRIX = [_cell(k, d, m) for m in lab.MODES for k, d in REMOTES]
MODES = [pytest.param(m, id=m, marks=pytest.mark.mode(m))
         for m in lab.MODES]
matrix = pytest.mark.parametrize("kind,domain,mode", MATRIX)


def local_server(pool, mode):
    return pool.get(LOCAL_KIND, mode, LOCAL_DOMAIN)


def servers(pool, kind, domain, mode):
    return local_server(pool, mode), pool.get(kind, mode, domain)


async def online(clients, user):
    """Logs in, fetches the roster and sends initial presence, so that the
    resource is available and interested (RFC 6121)."""
    c = await clients.login(user)
    await c.iq("<query xmlns='jabber:iq:roster'/>")
    c.send_raw("<presence/>")
    return c


def assert_error(stanza, conditions, what):
    assert stanza["type"] == "error", "%s: expected an error, got %s" % (
        what, stanza)
    err = stanza_error(stanza)
    assert err[1] in conditions, "%s: expected %s, got %s in %s" % (
        what, "/".join(conditions), err, stanza)
    return err


def check_auth(remote, local_domain, mode):
    """A Prosody or ejabberd peer's log says how it authenticated the
    streams with us: SASL EXTERNAL in trusted mode, dialback otherwise."""
    got = remote.auth_methods(local_domain)
    if not got and remote.kind == "parley":
        return          # Parley's log format is not known here
    mech = "external" if mode == "trusted" else "dialback"
    assert got == {"in:" + mech, "out:" + mech}, (
        "%s authenticated the streams with %s by %s, expected %s"
        % (remote, local_domain, sorted(got), mech))


# ---------------------------------------------------------------------------
# messages

@matrix
async def test_chat(pool, clients, kind, domain, mode):
    """A local user writes first, the remote one replies; then the other
    way round on the established streams."""
    local, remote = servers(pool, kind, domain, mode)
    a, b = new_user(local, "a"), new_user(remote, "b")
    ca, cb = await clients.login(a), await clients.login(b)
    await exchange(ca, cb, "out-" + uniq())
    await exchange(cb, ca, "reply-" + uniq())
    await exchange(ca, cb)
    await exchange(cb, ca)
    check_auth(remote, local.domain, mode)


@matrix
async def test_chat_remote_first(pool, clients, kind, domain, mode):
    """The remote server opens the first stream: the local server is
    restarted (its streams die), then the remote user writes first."""
    local, remote = servers(pool, kind, domain, mode)
    a, b = new_user(local, "a"), new_user(remote, "b")
    problem = local.restart()
    assert problem is None, problem
    ca, cb = await clients.login(a), await clients.login(b)
    await exchange(cb, ca, "in-" + uniq())
    await exchange(ca, cb, "reply-" + uniq())


@matrix
async def test_unknown_remote_user_bounces(pool, clients, kind, domain, mode):
    """A message to an account that does not exist comes back as
    service-unavailable, from the remote server and from ours."""
    local, remote = servers(pool, kind, domain, mode)
    a, b = new_user(local, "a"), new_user(remote, "b")
    ca, cb = await clients.login(a), await clients.login(b)
    for c, dom in ((ca, remote.domain), (cb, local.domain)):
        nobody = "%s@%s" % (uniq("nobody"), dom)
        body = uniq("lost-")
        c.chat(nobody, body)
        err = await c.next_message(
            what="the bounce of the message to %s" % nobody,
            match=lambda m: m["type"] == "error" and
            m["from"].bare == nobody)
        assert_error(err, ("service-unavailable", "item-not-found"),
                     "message to %s" % nobody)


# ---------------------------------------------------------------------------
# presence

async def befriend(ca, a, cb, b):
    """a (client ca) and b (cb) subscribe to each other's presence, each
    request seen and approved by the other: 'both' on each side."""
    for x, y, cx, cy in ((a, b, ca, cb), (b, a, cb, ca)):
        cx.send_raw("<presence to='%s' type='subscribe'/>" % y.jid)
        await cy.next_presence(
            lambda p, x=x: p["type"] == "subscribe" and
            p["from"].bare == x.jid,
            what="subscription request from %s" % x.jid)
        cy.send_raw("<presence to='%s' type='subscribed'/>" % x.jid)
        await cx.next_presence(
            lambda p, y=y: p["type"] == "subscribed" and
            p["from"].bare == y.jid,
            what="subscription approval from %s" % y.jid)


@matrix
async def test_presence_subscription(pool, clients, kind, domain, mode):
    """Mutual subscription across the federation, then presence updates
    are delivered both ways."""
    local, remote = servers(pool, kind, domain, mode)
    a, b = new_user(local, "a"), new_user(remote, "b")
    ca, cb = await online(clients, a), await online(clients, b)
    await befriend(ca, a, cb, b)
    # presence updates, each way, must reach the other's resource
    for cx, cy in ((ca, cb), (cb, ca)):
        status = uniq("status-")
        cx.send_raw("<presence><status>%s</status></presence>" % status)
        p = await cy.next_presence(
            lambda p, s=status: p["status"] == s,
            what="presence with status %s from %s" % (status, cx.boundjid))
        assert p["from"].full == cx.boundjid.full
        assert p["type"] in ("available", "")
    # and unavailable presence too
    ca.send_raw("<presence type='unavailable'/>")
    await cb.next_presence(
        lambda p: p["type"] == "unavailable" and
        p["from"].full == ca.boundjid.full,
        what="unavailable presence from %s" % ca.boundjid)


# ---------------------------------------------------------------------------
# IQs

def _is_result(iq):
    return iq["type"] == "result"


@matrix
async def test_iq_remote_server(pool, clients, kind, domain, mode):
    """Ping and disco#info to the other server, from either side."""
    local, remote = servers(pool, kind, domain, mode)
    a, b = new_user(local, "a"), new_user(remote, "b")
    ca, cb = await clients.login(a), await clients.login(b)
    for c, target in ((ca, remote.domain), (cb, local.domain)):
        r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=target)
        assert _is_result(r), "ping %s -> %s: %s" % (c.boundjid, target, r)
        assert r["from"].full == target
        r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=target)
        assert _is_result(r), "disco#info %s -> %s: %s" % (
            c.boundjid, target, r)
        q = r.xml.find("{%s}query" % NS_DISCO_INFO)
        assert q is not None, r
        ids = [(i.get("category"), i.get("type"))
               for i in q.findall("{%s}identity" % NS_DISCO_INFO)]
        assert ("server", "im") in ids, "%s identities: %s" % (target, ids)


@matrix
async def test_iq_remote_full_jid(pool, clients, kind, domain, mode):
    """Ping and disco#info to a user's resource on the other server (the
    client answers), from either side; an IQ to a resource that is not
    there comes back as an error."""
    local, remote = servers(pool, kind, domain, mode)
    a, b = new_user(local, "a"), new_user(remote, "b")
    ca, cb = await clients.login(a), await clients.login(b)
    for c, peer in ((ca, cb), (cb, ca)):
        target = peer.boundjid.full
        r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=target)
        assert _is_result(r), "ping %s -> %s: %s" % (c.boundjid, target, r)
        assert r["from"].full == target
        r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=target)
        assert _is_result(r), "disco#info %s -> %s: %s" % (
            c.boundjid, target, r)
        gone = "%s/%s" % (peer.boundjid.bare, uniq("gone"))
        r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=gone)
        assert_error(r, ("service-unavailable", "item-not-found",
                         "recipient-unavailable"), "ping to %s" % gone)


# ---------------------------------------------------------------------------
# DNS

@pytest.mark.parametrize("mode", MODES)
async def test_nodns_domain_bounces(pool, clients, mode):
    """A domain without any DNS record: the message comes back as
    remote-server-not-found (or remote-server-timeout) within the
    configured connect timeout, and so does an IQ."""
    local = local_server(pool, mode)
    a = new_user(local, "a")
    ca = await clients.login(a)
    limit = getattr(local, "connect_timeout", 10) + 2
    target = "%s@%s" % (uniq("x"), lab.NODNS)
    t0 = time.monotonic()
    ca.chat(target, uniq("void-"))
    err = await ca.next_message(
        timeout=limit, what="the bounce of the message to %s" % target,
        match=lambda m: m["type"] == "error")
    elapsed = time.monotonic() - t0
    assert_error(err, ("remote-server-not-found", "remote-server-timeout"),
                 "message to %s" % target)
    assert err["from"].full in (target, lab.NODNS), err
    assert elapsed <= limit, "bounce took %.1fs" % elapsed
    r = await ca.iq("<ping xmlns='%s'/>" % NS_PING, to=lab.NODNS,
                    timeout=limit)
    assert_error(r, ("remote-server-not-found", "remote-server-timeout"),
                 "ping to %s" % lab.NODNS)


@pytest.mark.parametrize("mode", MODES)
async def test_srv_nondefault_port(pool, clients, mode):
    """p2.test's SRV record says port 5299 and nothing listens on 5269 of
    its address: federation with it works only if SRV is honoured."""
    if LOCAL_KIND != "parley":
        pytest.skip("needs the second Parley")
    local = local_server(pool, mode)
    p2 = pool.get("parley", mode, "p2.test")
    assert p2.s2s_port == 5299
    assert not lab.port_open(p2.addr, 5269), "something listens on 5269"
    a, b = new_user(local, "a"), new_user(p2, "b")
    ca, cb = await clients.login(a), await clients.login(b)
    await exchange(ca, cb)
    await exchange(cb, ca)


@pytest.mark.parametrize("mode", MODES)
async def test_direct_tls_by_srv(pool, clients, mode):
    """p2.test also publishes _xmpps-server (XEP-0368) at the same
    priority: Parley merges both record sets and prefers direct TLS, so
    its stream to p2 starts with TLS on port 5298 (and p2's
    s2s-tls-listen accepts it)."""
    if LOCAL_KIND != "parley":
        pytest.skip("needs the second Parley")
    local = local_server(pool, mode)
    p2 = pool.get("parley", mode, "p2.test")
    a, b = new_user(local, "a"), new_user(p2, "b")
    ca, cb = await clients.login(a), await clients.login(b)
    await exchange(ca, cb)
    log = local.log_text()
    assert "p2.test: trying p2.test port %d (direct TLS)" % lab.P2_TLS_PORT \
        in log, log[-4000:]


@pytest.mark.parametrize("peer", ["prosody", "ejabberd"])
@pytest.mark.parametrize("mode", MODES)
async def test_peers_reach_p2_by_srv(pool, clients, peer, mode):
    """Prosody and ejabberd find p2.test on 5299 too (they follow SRV),
    and talk to it first."""
    if LOCAL_KIND != "parley":
        pytest.skip("needs the second Parley")
    p2 = pool.get("parley", mode, "p2.test")
    remote = pool.get(peer, mode)
    a, b = new_user(remote, "a"), new_user(p2, "b")
    ca, cb = await clients.login(a), await clients.login(b)
    await exchange(ca, cb)
    await exchange(cb, ca)


# ---------------------------------------------------------------------------
# spoofing

# the domain the spoofer claims: a real lab peer, not the local server
SPOOFED = "prosody.test" if LOCAL_KIND != "prosody" else "ejabberd.test"
NS_SERVER = "jabber:server"
NS_STREAM = "http://etherx.jabber.org/streams"
NS_STREAMS_ERR = "urn:ietf:params:xml:ns:xmpp-streams"


class RawS2S:
    """A raw s2s connection to a server's port 5269 (or its SRV port)."""

    def __init__(self, reader, writer):
        self.r, self.w = reader, writer
        self.data = b""
        self.closed = False

    @classmethod
    async def open(cls, addr, port):
        r, w = await asyncio.wait_for(asyncio.open_connection(addr, port), 5)
        return cls(r, w)

    async def send(self, text):
        self.w.write(text.encode())
        await self.w.drain()

    async def read_until(self, pattern, timeout=STANZA_TIMEOUT):
        """Reads until the regex matches the data so far (or the stream
        closes); returns the data."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern, re.S)
        while not rx.search(self.data.decode("utf-8", "replace")):
            if self.closed:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                chunk = await asyncio.wait_for(self.r.read(65536), left)
            except asyncio.TimeoutError:
                break
            except (ConnectionError, ssl.SSLError):
                chunk = b""
            if not chunk:
                self.closed = True
            self.data += chunk
        return self.data.decode("utf-8", "replace")

    async def starttls(self):
        await self.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        text = await self.read_until(r"<proceed")
        assert "<proceed" in text, "no <proceed/> to STARTTLS: %r" % text
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        await asyncio.wait_for(self.w.start_tls(ctx), 5)
        self.data = b""

    def close(self):
        try:
            self.w.close()
        except Exception:
            pass


def stream_header(frm, to):
    return ("<?xml version='1.0'?><stream:stream xmlns='%s' "
            "xmlns:stream='%s' xmlns:db='jabber:server:dialback' "
            "from='%s' to='%s' version='1.0'>" % (NS_SERVER, NS_STREAM,
                                                  frm, to))


def stream_error(text):
    """The condition of the first stream error in text, or None."""
    m = re.search(r"<(?:stream:)?error\b[^>]*>(.*?)</(?:stream:)?error>",
                  text, re.S)
    if not m:
        return None
    c = re.search(r"<([a-z-]+)[^>]*xmlns=['\"]%s['\"]"
                  % re.escape(NS_STREAMS_ERR), m.group(1))
    return c.group(1) if c else "?"


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "starttls"])
@pytest.mark.parametrize("mode", MODES)
async def test_spoofed_from_rejected(pool, clients, mode, tls):
    """An unauthenticated stream that claims to come from prosody.test
    sends a message from x@prosody.test (RFC 6120 4.9.3.12): the server
    must close it with
    <not-authorized/> and deliver nothing."""
    local = local_server(pool, mode)
    victim = new_user(local, "victim")
    cv = await clients.login(victim)
    raw = await RawS2S.open(local.addr, local.s2s_port)
    body = uniq("spoof-")
    try:
        await raw.send(stream_header(SPOOFED, local.domain))
        text = await raw.read_until(r"</(stream:)?features>|</(stream:)?error>")
        if tls and stream_error(text) is None:
            assert "starttls" in text, "no STARTTLS offered: %r" % text
            await raw.starttls()
            await raw.send(stream_header(SPOOFED, local.domain))
            text = await raw.read_until(
                r"</(stream:)?features>|</(stream:)?error>")
        if stream_error(text) is None:
            # A server may also refuse the stream before any stanza (e.g.
            # after TLS, for want of a certificate it can verify); that is
            # fine as long as it says not-authorized and delivers nothing.
            assert "features" in text, "no stream features: %r" % text
            await raw.send("<message from='x@%s' to='%s' type='chat' "
                           "id='%s'><body>%s</body></message>"
                           % (SPOOFED, victim.jid, uniq("s"), body))
            text = await raw.read_until(r"</(stream:)?error>")
        cond = stream_error(text)
        assert cond == "not-authorized", (
            "expected a not-authorized stream error, got %s: %r"
            % (cond, text[-800:]))
        text = await raw.read_until(r"</(stream:)?stream>", timeout=3)
        assert raw.closed or re.search(r"</(stream:)?stream>", text), (
            "the stream stayed open after the error")
    finally:
        raw.close()
    # anything the local server accepted from that stream was routed
    # before the error: two pings through it let it reach the victim
    await cv.fence()
    await cv.fence()
    got = []
    while not cv.messages.empty():
        got.append(cv.messages.get_nowait())
    assert not any(m["body"] == body for m in got), (
        "the spoofed message was delivered: %s" % got)
