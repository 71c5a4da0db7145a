"""
RFC 6120 rules on raw client streams: IQ semantics (8.2.3: an id, exactly
one payload for get and set; 8.3.1: an error is never answered), PLAIN
neither offered nor accepted without TLS (6.4, 13.8), binding errors
(7.7.2: a resource that fails resourceprep or is too long, a second bind
on one stream, a resource in use), the negotiation deadline (fixed at
accept: traffic does not extend it), and every stream error the operator
documentation promises, at its documented limit.
"""
import asyncio
import os
import re

import pytest

from conftest import (DOMAIN, HEADER, NS_BIND, NS_PING, NS_SASL, ROOT,
                      SLOW, STANZA_TIMEOUT, Raw, expect_stream_error,
                      sasl_plain, stream_errors_in, uniq)


def iq_re(iq_id):
    """The server's <iq/> answering iq_id (self-closing or not)."""
    return re.compile(rb"<iq\b[^>]*\bid=['\"]%s['\"][^>]*(?:/>|>.*?</iq>)"
                      % re.escape(iq_id.encode()), re.S)


async def restart_after_plain(raw, user):
    """On a raw stream after STARTTLS: PLAIN, then the stream restart;
    returns the match from <success/> to the new features."""
    await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                   % (NS_SASL, sasl_plain(user.local, user.password)))
    await raw.read_until(rb"<success\b")
    await raw.send(HEADER)
    return await raw.read_until(rb"<success\b.*</stream:features>")


async def authed(server, user, turn=0):
    """A raw stream after STARTTLS, PLAIN and the stream restart (the
    turn-th: with PARLEY_E2E_HOSTS, to the c2s hosts in turn)."""
    raw = await Raw.open(server.client_port(False, turn))
    await raw.starttls()
    await restart_after_plain(raw, user)
    return raw


async def bind(raw, resource=None):
    """Sends a bind request; returns the server's answer (bytes)."""
    bid = uniq("b")
    res = "<resource>%s</resource>" % resource if resource is not None \
        else ""
    await raw.send("<iq type='set' id='%s'><bind xmlns='%s'>%s</bind></iq>"
                   % (bid, NS_BIND, res))
    return (await raw.read_until(iq_re(bid))).group(0)


async def bound(server, user, resource=None):
    raw = await authed(server, user)
    answer = await bind(raw, resource or uniq("r"))
    assert b"type='result'" in answer or b'type="result"' in answer, answer
    return raw


async def ping(raw):
    """A ping to the server answered: the stream is open and in order."""
    pid = uniq("p")
    await raw.send("<iq type='get' id='%s' to='%s'><ping xmlns='%s'/></iq>"
                   % (pid, DOMAIN, NS_PING))
    answer = (await raw.read_until(iq_re(pid))).group(0)
    assert b"result" in answer, answer
    return answer


def condition_of(answer):
    m = re.search(rb"<([\w-]+)\s+xmlns=['\"]urn:ietf:params:xml:ns:"
                  rb"xmpp-stanzas['\"]", answer)
    return m.group(1).decode() if m else None


def assert_error(answer, condition):
    """answer is an <iq type='error'/> with that stanza error."""
    assert re.search(rb"type=['\"]error['\"]", answer), answer
    assert condition_of(answer) == condition, answer


# ---------------------------------------------------------------------------
# IQ semantics (RFC 6120 8.2.3)

async def test_iq_without_id_is_bad_request(server):
    raw = await bound(server, server.new_user())
    try:
        await raw.send("<iq type='get' to='%s'><ping xmlns='%s'/></iq>"
                       % (DOMAIN, NS_PING))
        m = await raw.read_until(rb"<iq\b[^>]*type=['\"]error['\"].*?</iq>")
        assert_error(m.group(0), "bad-request")
        await ping(raw)     # a stanza error, not a stream error
    finally:
        raw.close()


@pytest.mark.parametrize("type_,payload", [
    ("get", ""),
    ("get", "<ping xmlns='%s'/><ping xmlns='%s'/>" % (NS_PING, NS_PING)),
    ("set", ""),
    ("set", "<query xmlns='jabber:iq:roster'/><query xmlns='jabber:iq:"
            "private'/>"),
], ids=["get-none", "get-two", "set-none", "set-two"])
async def test_iq_get_set_needs_exactly_one_child(server, type_, payload):
    raw = await bound(server, server.new_user())
    try:
        iid = uniq("i")
        await raw.send("<iq type='%s' id='%s' to='%s'>%s</iq>"
                       % (type_, iid, DOMAIN, payload))
        answer = (await raw.read_until(iq_re(iid))).group(0)
        assert_error(answer, "bad-request")
        await ping(raw)
    finally:
        raw.close()


async def test_iq_error_without_id_not_answered(server):
    """8.3.1: an error (even a malformed one) never gets an error back;
    a result with no payload is allowed (8.2.3) and not answered either."""
    raw = await bound(server, server.new_user())
    raw.mark()
    try:
        await raw.send("<iq type='error' to='%s'><error type='cancel'>"
                       "<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-"
                       "stanzas'/></error></iq>" % DOMAIN)
        await raw.send("<iq type='result' id='%s' to='%s'/>"
                       % (uniq("r"), DOMAIN))
        await ping(raw)
        await asyncio.sleep(0.3)
        await ping(raw)
        assert raw.buf.count(b"<iq") == 2, raw.buf
    finally:
        raw.close()


# ---------------------------------------------------------------------------
# PLAIN only under TLS (RFC 6120 6.4, 13.8; RFC 4616 6)

async def test_plain_refused_without_tls(make_server):
    """With c2s-require-tls no, SASL is offered before TLS but PLAIN is
    not, and a PLAIN attempt is refused with <encryption-required/> even
    with the right password; after STARTTLS it is offered and works."""
    srv = make_server(workers=1, c2s_require_tls="no")
    u = srv.new_user()
    raw = await Raw.open(srv.port)
    try:
        feats = (await raw.stream_header()).string
        assert b"<mechanisms" in feats and b"SCRAM-SHA-256" in feats, feats
        assert b"PLAIN" not in feats, feats
        await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, sasl_plain(u.local, u.password)))
        await raw.read_until(rb"<failure\b[^>]*>\s*<encryption-required")
        assert b"<success" not in raw.buf
    finally:
        raw.close()
    raw = await Raw.open(srv.port)
    try:
        feats = await raw.starttls()
        assert b"PLAIN" in feats, feats
        await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, sasl_plain(u.local, u.password)))
        await raw.read_until(rb"<success\b")
    finally:
        raw.close()


async def test_no_sasl_before_tls_when_required(server):
    """c2s-require-tls yes (the default): no mechanism before STARTTLS,
    and an attempt (PLAIN or SCRAM) gets <encryption-required/>."""
    u = server.new_user()
    for mech, data in (("PLAIN", sasl_plain(u.local, u.password)),
                       ("SCRAM-SHA-256", "")):
        raw = await Raw.open(server.port)
        try:
            feats = (await raw.stream_header()).string
            assert b"<mechanisms" not in feats, feats
            assert b"<starttls" in feats and b"<required" in feats, feats
            await raw.send("<auth xmlns='%s' mechanism='%s'>%s</auth>"
                           % (NS_SASL, mech, data))
            await raw.read_until(rb"<failure\b[^>]*>\s*"
                                 rb"<encryption-required")
            assert b"<success" not in raw.buf
        finally:
            raw.close()


# ---------------------------------------------------------------------------
# resource binding (RFC 6120 7.6, 7.7)

@pytest.mark.parametrize("resource", [
    "\ue000private",            # private use: prohibited by resourceprep
    "\u200ebidi\u05d0",         # RFC 3454 6: mixed directions
    "r" * 1100,                 # past the 1023 bytes of RFC 7622 3.4
], ids=["prohibited", "bidi", "too-long"])
async def test_bind_bad_resource(server, resource):
    u = server.new_user()
    raw = await authed(server, u)
    try:
        answer = await bind(raw, resource)
        assert_error(answer, "bad-request")
        # the stream can still bind a good one
        answer = await bind(raw, "good")
        assert ("<jid>%s/good</jid>" % u.jid).encode() in answer, answer
    finally:
        raw.close()


async def test_bind_twice_on_one_stream(server):
    """One resource per stream: a second bind is refused (not-allowed),
    the first stays bound."""
    raw = await bound(server, server.new_user(), "first")
    try:
        answer = await bind(raw, "second")
        assert_error(answer, "not-allowed")
        await ping(raw)
    finally:
        raw.close()


async def test_stanza_before_bind_not_authorized(server):
    """7.1: after SASL, nothing but binding: a message before it closes
    the stream with <not-authorized/> and is not delivered."""
    u, v = server.new_user(), server.new_user()
    watcher = await bound(server, v, "w")
    raw = await authed(server, u)
    try:
        body = uniq("unbound")
        await raw.send("<message to='%s/w' type='chat'><body>%s</body>"
                       "</message>" % (v.jid, body))
        await expect_stream_error(raw, "not-authorized")
        watcher.mark()
        await ping(watcher)
        assert body.encode() not in watcher.buf, watcher.buf
    finally:
        raw.close()
        watcher.close()


async def test_bind_conflict_old_stream_closed(server):
    """7.7.2.2: a resource in use: the new session wins, the old stream
    gets <conflict/> and is closed, and stanzas to the full JID reach
    the new one."""
    u, v = server.new_user(), server.new_user()
    old = await bound(server, u, "same")
    new = await authed(server, u)
    sender = await bound(server, v, "s")
    try:
        answer = await bind(new, "same")
        assert ("<jid>%s/same</jid>" % u.jid).encode() in answer, answer
        await expect_stream_error(old, "conflict")
        body = uniq("to-new")
        await sender.send("<message to='%s/same' type='chat'><body>%s"
                          "</body></message>" % (u.jid, body))
        await new.read_until(body.encode())
    finally:
        for r in (old, new, sender):
            r.close()


# ---------------------------------------------------------------------------
# the negotiation deadline is fixed at accept (hardening.md)

@pytest.mark.parametrize("stage", ["header", "tls", "sasl"])
async def test_negotiation_deadline_not_reset_by_traffic(make_server, stage):
    """A client that keeps sending whitespace but never finishes
    negotiating is cut at negotiation-timeout, counted from the accept;
    if traffic reset the timer it would never be cut."""
    srv = make_server(workers=1, negotiation_timeout="2")
    u = srv.new_user()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    raw = await Raw.open(srv.port)
    try:
        if stage == "header":
            await raw.stream_header()
        elif stage == "tls":
            await raw.starttls()
        else:
            await raw.starttls()
            await restart_after_plain(raw, u)

        async def trickle():
            while not raw.eof and not raw.reset_by_peer:
                await raw.send(b" ")
                await asyncio.sleep(0.1)
        task = asyncio.ensure_future(trickle())
        try:
            await expect_stream_error(raw, "connection-timeout",
                                      timeout=8 * SLOW)
        finally:
            task.cancel()
        took = loop.time() - t0
        assert took < 2 + 2 * SLOW, "cut only after %.1fs" % took
    finally:
        raw.close()


# ---------------------------------------------------------------------------
# the stream errors the documentation promises, each at its limit

DOCS = os.path.join(ROOT, "docs")


def doc_rows():
    """{what: answer} from the limits table of docs/hardening.md."""
    rows = {}
    with open(os.path.join(DOCS, "hardening.md")) as f:
        for line in f:
            p = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(p) == 3 and p[0] not in ("what", "---"):
                rows[p[0]] = p[2]
    return rows


async def depth(server, n):
    """A bound stream sends a message n elements deep (the message is
    depth 1); returns the stream."""
    raw = await bound(server, server.new_user())
    await raw.send("<message to='%s'>%s%s</message>"
                   % (DOMAIN, "<x>" * (n - 1), "</x>" * (n - 1)))
    return raw


async def attrs(server, n):
    """A bound stream sends a message with n attributes."""
    raw = await bound(server, server.new_user())
    await raw.send("<message to='%s' %s/>" % (DOMAIN, " ".join(
        "a%d='v'" % i for i in range(n - 1))))
    return raw


async def big(server, n):
    raw = await bound(server, server.new_user())
    await raw.send("<message to='%s'><body>%s</body></message>"
                   % (DOMAIN, "b" * n))
    return raw


async def retries(server, n):
    u = server.new_user()
    raw = await Raw.open(server.port)
    await raw.starttls()
    for i in range(n):
        await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, sasl_plain(u.local, "wrong%d" % i)))
        await raw.read_until(rb"(?:<failure\b.*?){%d}" % (i + 1))
    return raw


async def plain_bytes(server, data):
    raw = await Raw.open(server.port)
    await raw.send(HEADER + data)
    return raw


# (row of the docs table, condition, options, at the limit, past it):
# each maker returns an open stream; at the limit it must stay open
PROMISES = [
    ("XML depth, attributes per element", "policy-violation", {},
     lambda s: depth(s, 64), lambda s: depth(s, 65)),
    ("XML depth, attributes per element", "policy-violation", {},
     lambda s: attrs(s, 64), lambda s: attrs(s, 65)),
    ("stanza size", "policy-violation", {"max_stanza_size": "16K"},
     lambda s: big(s, 15 * 1024), lambda s: big(s, 17 * 1024)),
    ("failed SASL attempts per stream", "policy-violation",
     {"auth_retries": "2"}, lambda s: retries(s, 1),
     lambda s: retries(s, 2)),
    ("DTD, entities, comments, PIs", "restricted-xml", {}, None,
     lambda s: plain_bytes(s, b"<?pi x?>")),
    ("invalid UTF-8, NUL", "unsupported-encoding", {}, None,
     lambda s: plain_bytes(s, b"<iq type='get' id='u'><q>\xc0\xaf</q>")),
    ("invalid UTF-8, NUL", "not-well-formed", {}, None,
     lambda s: plain_bytes(s, b"<iq type='get' id='n'><q>\x00</q>")),
    ("negotiation time", "connection-timeout",
     {"negotiation_timeout": "1"}, None, lambda s: plain_bytes(s, b"")),
    ("idle session", "connection-timeout", {"idle_timeout": "1"}, None,
     lambda s: bound(s, s.new_user())),
    ("connections per address (per c2s)", "policy-violation",
     {"c2s_max_per_address": "2"},
     lambda s: Raw.open(s.port), None),
]


def test_promises_match_the_docs():
    rows = doc_rows()
    for what, cond, *_ in PROMISES:
        assert what in rows, "docs/hardening.md has no row %r" % what
        assert cond in rows[what], (
            "docs/hardening.md row %r promises %r, not %s"
            % (what, rows[what], cond))
    # every stream-only condition the table promises is exercised here
    stream_only = {"restricted-xml", "unsupported-encoding",
                   "not-well-formed", "connection-timeout"}
    for what, answer in rows.items():
        for cond in re.findall(r"`([a-z-]+)`", answer):
            if cond in stream_only:
                assert any(w == what and c == cond for w, c, *_ in
                           PROMISES), (what, cond)


@pytest.mark.parametrize("i", range(len(PROMISES)), ids=[
    "%s-%s" % (re.sub(r"\W+", "-", p[0])[:24], p[1]) for p in PROMISES])
async def test_promised_stream_error(make_server, i):
    what, cond, opts, at, past = PROMISES[i]
    srv = make_server(workers=1, **opts)
    held = []
    try:
        if what.startswith("connections per address"):
            # the limit counts open connections: fill it, then one more
            n = int(opts["c2s_max_per_address"])
            for _ in range(n):
                r = await Raw.open(srv.port)
                held.append(r)
                await r.stream_header()
            extra = await Raw.open(srv.port)
            held.append(extra)
            await extra.send(HEADER)
            await expect_stream_error(extra, cond)
            for r in held[:n]:
                assert not r.eof, "a connection within the limit was cut"
            return
        if at is not None:
            r = await at(srv)
            held.append(r)
            await asyncio.sleep(0.2)
            assert not stream_errors_in(r.buf), (what, r.buf[-500:])
            assert not r.eof, "closed at the limit: %r" % r.buf[-500:]
        r = await past(srv)
        held.append(r)
        await expect_stream_error(r, cond, timeout=STANZA_TIMEOUT + 3)
    finally:
        for r in held:
            r.close()
