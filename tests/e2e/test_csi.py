"""
Client state indication (XEP-0352): the stream feature after
authentication, <inactive/> and <active/>, and what an inactive session
is sent: presence collapsed to the latest per sender and chat states held
until something urgent (a message with a body, an IQ), <active/> or the
queue cap, always in order. The inactive session is a raw stream where
the order of bytes matters, and a slixmpp client with its xep_0352 plugin.
"""
import asyncio
import re
import xml.etree.ElementTree as ET

from conftest import (DOMAIN, NS_CLIENT, STANZA_TIMEOUT, Client,
                      Raw, expect_stream_error, parse_features, uniq)
from imhelp import fence
from test_rfc6120 import authed, bind, bound, iq_re, ping

NS_CSI = "urn:xmpp:csi:0"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"
INACTIVE = "<inactive xmlns='%s'/>" % NS_CSI
ACTIVE = "<active xmlns='%s'/>" % NS_CSI
QUIET = 0.5     # seconds in which nothing held may arrive


async def phone(server, mark=True):
    """A raw bound session that sent initial presence. Returns
    (raw, full JID). mark: forget what was received so far."""
    user = server.new_user("csi")
    raw = await bound(server, user, resource="phone")
    await raw.send("<presence/>")
    await ping(raw)
    if mark:
        raw.mark()
    return raw, user.jid + "/phone"


async def go_inactive(raw):
    """<inactive/>, in force once a ping sent after it is answered (the
    c2s reads a stream in order); what came meanwhile is forgotten."""
    await raw.send(INACTIVE)
    await ping(raw)
    raw.mark()


async def contact(server, clients):
    return await clients.login(server, server.new_user("c"),
                               resource=uniq("r"))


async def sent(*cs):
    """The router has handled what the clients sent (an IQ round trip
    each), and what it sent on had QUIET seconds to arrive."""
    for c in cs:
        await fence(c)
    await asyncio.sleep(QUIET)


async def nothing_arrives(raw):
    await raw._read_some(QUIET)
    assert b"<presence" not in raw.buf and b"<message" not in raw.buf, (
        "an inactive session was sent %r" % raw.buf)


def stanzas(data):
    """The top-level elements of data (complete ones) as ElementTree."""
    root = ET.fromstring("<r xmlns='%s'>%s</r>" % (NS_CLIENT,
                                                   data.decode()))
    return list(root)


def summary(els):
    """(kind, from, what) per stanza: a presence's status or type, a
    message's body or payload name, an iq's id."""
    out = []
    for el in els:
        kind = el.tag.split("}")[1]
        if kind == "presence":
            st = el.find("{%s}status" % NS_CLIENT)
            what = st.text if st is not None else el.get("type",
                                                          "available")
        elif kind == "message":
            body = el.find("{%s}body" % NS_CLIENT)
            what = body.text if body is not None else \
                el[0].tag.split("}")[1]
        else:
            what = el.get("id")
        out.append((kind, el.get("from"), what))
    return out


async def until_ping(raw):
    """Pings the server and returns the stanzas received before the
    answer (the ping's answer ends what a flush wrote, XEP-0352 5.1)."""
    pid = uniq("p")
    await raw.send("<iq type='get' id='%s' to='%s'><ping "
                   "xmlns='urn:xmpp:ping'/></iq>" % (pid, DOMAIN))
    m = await raw.read_until(iq_re(pid))
    got = raw.buf[:m.start()]
    raw.mark()
    return summary(stanzas(got))


def pres(c, to, status):
    c.send_raw("<presence to='%s'><status>%s</status></presence>"
               % (to, status))


def composing(c, to):
    c.send_raw("<message to='%s' type='chat'><composing xmlns='%s'/>"
               "</message>" % (to, NS_CHATSTATES))


async def test_feature_after_auth_only(server):
    """XEP-0352 4.1: <csi/> is offered with the features after SASL, not
    before."""
    user = server.new_user("csi")
    raw = await Raw.open(server.port)
    before = parse_features(await raw.starttls())
    assert before.find("{%s}csi" % NS_CSI) is None
    raw.close()
    raw = await authed(server, user)
    feats = raw.buf[raw.buf.rindex(b"<stream:features>"):]
    after = parse_features(feats)
    assert after.find("{%s}csi" % NS_CSI) is not None, feats
    raw.close()


async def test_presence_collapses_until_active(server, clients):
    """While inactive, presence from several contacts is held, each
    sender's latest replacing the earlier one (unavailable replaces
    available); <active/> sends the latest, in the order they came."""
    raw, jid = await phone(server)
    a, b, c = [await contact(server, clients) for _ in range(3)]
    await go_inactive(raw)
    pres(a, jid, "a1")
    pres(b, jid, "b1")
    await sent(a, b)
    pres(a, jid, "a2")
    pres(c, jid, "c1")
    await sent(a, c)
    b.send_raw("<presence to='%s' type='unavailable'/>" % jid)
    await sent(b)
    pres(a, jid, "a3")
    await sent(a)
    await nothing_arrives(raw)
    await raw.send(ACTIVE)
    assert await until_ping(raw) == [
        ("presence", c.boundjid.full, "c1"),
        ("presence", b.boundjid.full, "unavailable"),
        ("presence", a.boundjid.full, "a3")]
    # active again: at once
    pres(a, jid, "a4")
    await raw.read_until(rb"<status>a4</status>")
    raw.close()


async def test_chat_states_held_until_a_body(server, clients):
    """Chat states (XEP-0085) are held; a message with a body sends what
    was held first, then itself, and the session stays inactive."""
    raw, jid = await phone(server)
    a = await contact(server, clients)
    await go_inactive(raw)
    composing(a, jid)
    pres(a, jid, "typing")
    await sent(a)
    await nothing_arrives(raw)
    a.send_raw("<message to='%s' type='chat'><body>hello</body></message>"
               % jid)
    m = await raw.read_until(rb"<body>hello</body>.*?</message>")
    got = summary(stanzas(raw.buf[:m.end()]))
    assert got == [("message", a.boundjid.full, "composing"),
                   ("presence", a.boundjid.full, "typing"),
                   ("message", a.boundjid.full, "hello")], got
    raw.mark()
    composing(a, jid)
    await sent(a)
    await nothing_arrives(raw)
    raw.close()


async def test_body_hidden_in_an_attribute_is_held(server, clients):
    """Urgency reads the stanza, not its bytes: '<body' in an attribute
    value or in another namespace's element does not flush."""
    raw, jid = await phone(server)
    a = await contact(server, clients)
    await go_inactive(raw)
    a.send_raw("<message to='%s' type='chat'><active xmlns='%s' "
               "note='&lt;body&gt;x&lt;/body&gt;'/></message>"
               % (jid, NS_CHATSTATES))
    a.send_raw("<message to='%s' type='chat'><x xmlns='urn:example'>"
               "<body xmlns='jabber:client'>nested</body></x></message>"
               % jid)
    await sent(a)
    await nothing_arrives(raw)
    raw.close()


async def test_iq_passes_at_once(server, clients):
    """An IQ to an inactive session goes at once, after what was held."""
    raw, jid = await phone(server)
    a = await contact(server, clients)
    await go_inactive(raw)
    composing(a, jid)
    await sent(a)
    a.send_raw("<iq to='%s' type='get' id='q1'><query "
               "xmlns='jabber:iq:version'/></iq>" % jid)
    m = await raw.read_until(iq_re("q1"))
    got = summary(stanzas(raw.buf[:m.end()]))
    assert got == [("message", a.boundjid.full, "composing"),
                   ("iq", a.boundjid.full, "q1")], got
    raw.close()


async def test_answers_to_own_requests_at_once(server, clients):
    """The answers to what the inactive client asks go out at once, after
    what was held: carbons enabled, the roster, the block list (answers
    the router builds as a tree and sends to the session itself)."""
    raw, jid = await phone(server)
    a = await contact(server, clients)
    await go_inactive(raw)
    composing(a, jid)
    await sent(a)
    for qid, payload in (
            ("c1", "<enable xmlns='urn:xmpp:carbons:2'/>"),
            ("r1", "<query xmlns='jabber:iq:roster'/>"),
            ("b1", "<blocklist xmlns='urn:xmpp:blocking'/>")):
        kind = "set" if qid == "c1" else "get"
        await raw.send("<iq type='%s' id='%s'>%s</iq>" % (kind, qid,
                                                          payload))
        m = await raw.read_until(iq_re(qid), timeout=2)
        assert b"type='result'" in m.group(0), m.group(0)
    raw.close()


async def test_queue_cap_flushes(make_server, clients):
    """csi-queue-max: the stanza past the cap sends everything held,
    nothing is dropped."""
    server = make_server(csi_queue_max=3)
    raw, jid = await phone(server)
    a = await contact(server, clients)
    await go_inactive(raw)
    for _ in range(3):
        composing(a, jid)
    await sent(a)
    await nothing_arrives(raw)
    pres(a, jid, "fourth")
    m = await raw.read_until(rb"<status>fourth</status>.*?</presence>")
    got = summary(stanzas(raw.buf[:m.end()]))
    assert got == [("message", a.boundjid.full, "composing")] * 3 + [
        ("presence", a.boundjid.full, "fourth")], got
    raw.close()


async def test_inactive_twice(server, clients):
    """A second <inactive/> changes nothing; <active/> sends what was
    held under both."""
    raw, jid = await phone(server)
    a = await contact(server, clients)
    await go_inactive(raw)
    pres(a, jid, "one")
    await sent(a)
    await raw.send(INACTIVE)
    composing(a, jid)
    await sent(a)
    await nothing_arrives(raw)
    await raw.send(ACTIVE)
    assert await until_ping(raw) == [
        ("presence", a.boundjid.full, "one"),
        ("message", a.boundjid.full, "composing")]
    raw.close()


async def test_before_auth_not_authorized(server):
    """RFC 6120 4.9.3.12: before authentication a CSI element is refused
    like any other."""
    raw = await Raw.open(server.port)
    await raw.starttls()
    await raw.send(INACTIVE)
    await expect_stream_error(raw, "not-authorized")


async def test_before_bind_ignored(server, clients):
    """Between SASL and binding there is no session whose state could
    change: <inactive/> is ignored and the session starts active."""
    user = server.new_user("csi")
    raw = await authed(server, user)
    await raw.send(INACTIVE)
    answer = await bind(raw, "phone")
    assert b"type='result'" in answer, answer
    await raw.send("<presence/>")
    await ping(raw)
    raw.mark()
    a = await contact(server, clients)
    composing(a, user.jid + "/phone")
    await raw.read_until(rb"<composing\b")
    raw.close()


async def test_unknown_csi_element(server):
    """RFC 6120 4.9.3.22: an element of the CSI namespace that is not
    <active/> or <inactive/>."""
    raw, _ = await phone(server, mark=False)
    await raw.send("<csi xmlns='%s'/>" % NS_CSI)
    await expect_stream_error(raw, "unsupported-stanza-type")


async def test_malformed_csi_element(server):
    """XEP-0352 9: <active/> and <inactive/> are empty."""
    raw, _ = await phone(server, mark=False)
    await raw.send("<inactive xmlns='%s'><x/></inactive>" % NS_CSI)
    await expect_stream_error(raw, "bad-format")


async def test_stream_end_sends_what_is_held(server, clients):
    """Held stanzas are output not yet written: the client's stream end
    gets them before </stream:stream>."""
    raw, jid = await phone(server)
    a = await contact(server, clients)
    await go_inactive(raw)
    composing(a, jid)
    await sent(a)
    await raw.send("</stream:stream>")
    data = await raw.read_until_close()
    assert re.search(rb"<composing\b.*</stream:stream>", data, re.S), data


async def test_slixmpp_plugin(server, clients):
    """slixmpp's xep_0352 sees the feature; presence churn while it is
    inactive reaches it as the latest per contact once active."""
    user = server.new_user("csi")
    c = Client(user.jid + "/phone", user.password, ("127.0.0.1",
                                                    server.port))
    c.register_plugin("xep_0352")
    clients.all.append(c)
    c.start()
    assert await c.wait_state() == "session"
    assert c.plugin["xep_0352"].enabled
    c.send_raw("<presence/>")
    await fence(c)
    a, b = [await contact(server, clients) for _ in range(2)]
    c.plugin["xep_0352"].send_inactive()
    await fence(c)
    while not c.presences.empty():      # its own, from before
        c.presences.get_nowait()
    for i in range(5):
        pres(a, c.boundjid.full, "a%d" % i)
        pres(b, c.boundjid.full, "b%d" % i)
    await sent(a, b)
    assert c.presences.empty(), "held presence arrived"
    c.plugin["xep_0352"].send_active()
    await fence(c)
    got = []
    while not c.presences.empty():
        p = c.presences.get_nowait()
        got.append((p["from"].full, p["status"]))
    # a and b may be on different c2s processes: either may come first
    assert sorted(got) == sorted([(a.boundjid.full, "a4"),
                                  (b.boundjid.full, "b4")]), got


async def churn(raw, contacts, jid, rounds):
    """Each contact changes its presence rounds times; returns (reads
    that brought data, bytes) seen by raw until a ping after the churn
    is answered (the ping also ends an inactive session's hold)."""
    reads = 0
    start = len(raw.buf)
    for r in range(rounds):
        for i, c in enumerate(contacts):
            pres(c, jid, "r%d-%d" % (r, i))
        await asyncio.sleep(0.05)
        while await raw._read_some(0.05):
            reads += 1
    await sent(*contacts)
    while await raw._read_some(0.05):
        reads += 1
    held = len(raw.buf) - start
    pid = uniq("p")
    await raw.send("<iq type='get' id='%s' to='%s'><ping "
                   "xmlns='urn:xmpp:ping'/></iq>" % (pid, DOMAIN))
    while not iq_re(pid).search(raw.buf):
        assert await raw._read_some(STANZA_TIMEOUT), "no pong"
        reads += 1
    m = iq_re(pid).search(raw.buf)
    return reads, len(raw.buf) - start - len(m.group(0)), held


async def test_churn_measure(server, clients):
    """The measurement of the report: 10 contacts change presence 10
    times; the wake-ups (reads that brought data) and bytes of an active
    session and of an inactive one that is pinged at the end."""
    contacts = [await contact(server, clients) for _ in range(10)]
    act, ajid = await phone(server)
    ina, ijid = await phone(server)
    await go_inactive(ina)
    ar, ab, _ = await churn(act, contacts, ajid, 10)
    ir, ib, held = await churn(ina, contacts, ijid, 10)
    print("\ncsi churn e2e: active reads=%d bytes=%d; inactive reads=%d "
          "bytes=%d (before the ping: %d)" % (ar, ab, ir, ib, held))
    assert held == 0
    assert ir <= 2 and ib * 5 < ab, (ar, ab, ir, ib)
    act.close()
    ina.close()
