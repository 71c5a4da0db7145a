"""
Message Carbons (XEP-0280) with slixmpp's xep_0280 plugin and raw XML:
enabling and disabling, received and sent carbons for messages to full
and bare JIDs, the messages that are and are not copied (section 6,
private and the XEP-0334 no-copy hint), and forged carbons, from a local
user and over s2s, which never reach a client.
"""
import asyncio

import pytest

from conftest import NS_CLIENT, NS_DISCO_INFO, stanza_error, uniq
from test_s2s import open_as_b, pair, read_for, user

NS_CARBONS = "urn:xmpp:carbons:2"
NS_FORWARD = "urn:xmpp:forward:0"
NS_HINTS = "urn:xmpp:hints"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"


async def login(clients, server, u, resource, carbons=False, priority=None):
    """A session of u with the xep_0280 plugin; carbons enabled through
    the plugin when asked, available with priority when given."""
    c = await clients.login(server, u, resource=resource)
    c.register_plugin("xep_0030")
    c.register_plugin("xep_0297")
    c.register_plugin("xep_0280")
    c.carbons_in = asyncio.Queue()
    c.add_event_handler("carbon_received", c.carbons_in.put_nowait)
    c.add_event_handler("carbon_sent", c.carbons_in.put_nowait)
    if carbons:
        r = await c["xep_0280"].enable(timeout=5)
        assert r["type"] == "result", r
    if priority is not None:
        c.send_presence(ppriority=priority)
    await c.fence()
    return c


def forwarded(msg, direction):
    """The message inside a carbon of that direction, or None."""
    return msg.xml.find("{%s}%s/{%s}forwarded/{%s}message"
                        % (NS_CARBONS, direction, NS_FORWARD, NS_CLIENT))


def body_of(el):
    b = el.find("{%s}body" % NS_CLIENT)
    return b.text if b is not None else None


async def settle(*cs):
    """Everything the first client's messages caused has reached the
    others: each fence is answered after what the router sent before."""
    for c in cs:
        await c.fence()


async def quiet(*cs):
    """None of cs has a message waiting (presence is not looked at)."""
    for c in cs:
        got = []
        while not c.messages.empty():
            got.append(str(c.messages.get_nowait()))
        assert not got, "%s received unexpected messages: %s" % (
            c.boundjid, got)


async def expect_carbon(c, direction, body, frm, to):
    """The next message c receives is a carbon of that direction made by
    its server: outer from the bare JID, to its full JID, and inside the
    original from frm to to with body."""
    m = await c.next_message(what="a %s carbon of %r" % (direction, body))
    inner = forwarded(m, direction)
    assert inner is not None, "not a %s carbon: %s" % (direction, m)
    assert m["from"].full == c.boundjid.bare, str(m)
    assert m["to"].full == c.boundjid.full, str(m)
    assert body_of(inner) == body, str(m)
    assert inner.get("from") == frm, str(m)
    assert inner.get("to") == to, str(m)
    # the plugin accepts it: from the account's own bare JID
    ev = await asyncio.wait_for(c.carbons_in.get(), 5)
    assert ev["id"] == m["id"]
    return m, inner


async def expect_plain(c, body, frm):
    m = await c.next_message(what="%r" % body)
    assert forwarded(m, "received") is None and \
        forwarded(m, "sent") is None, "a carbon, not the message: %s" % m
    assert m["body"] == body and m["from"].full == frm, str(m)
    return m


def send(c, to, body, type_="chat", extra=""):
    mid = uniq("m")
    t = " type='%s'" % type_ if type_ else ""
    b = "<body>%s</body>" % body if body is not None else ""
    c.send_raw("<message to='%s' id='%s'%s>%s%s</message>"
               % (to, mid, t, b, extra))
    return mid


# ---------------------------------------------------------------------------
# enabling and disabling

async def test_disco_advertises_carbons(server, clients):
    """XEP-0280 3: the server lists the feature; an account's bare JID
    does not (enabling is a service of the user's own server)."""
    a, b = server.new_user("a"), server.new_user("b")
    ca = await login(clients, server, a, "r")
    r = await ca.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to="localhost")
    feats = [f.get("var") for f in r.xml.iter("{%s}feature" % NS_DISCO_INFO)]
    assert NS_CARBONS in feats, feats
    r = await ca.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=b.jid)
    feats = [f.get("var") for f in r.xml.iter("{%s}feature" % NS_DISCO_INFO)]
    assert NS_CARBONS not in feats, feats


async def test_enable_disable(server, clients):
    """4, 5, 9.1: enable and disable answer a result, twice as well; to
    the server's JID and to the own bare JID as without 'to'."""
    a = server.new_user("a")
    c = await login(clients, server, a, "r")
    for payload, to in (("enable", None), ("enable", None),
                        ("disable", None), ("disable", None),
                        ("enable", "localhost"), ("disable", a.jid)):
        r = await c.iq("<%s xmlns='%s'/>" % (payload, NS_CARBONS),
                       type_="set", to=to)
        assert r["type"] == "result", "%s to %s: %s" % (payload, to, r)
    r = await c["xep_0280"].disable(timeout=5)
    assert r["type"] == "result", r


async def test_bad_enable(server, clients):
    """Enabling another user's carbons: not-allowed (4.1, 5.1); an unknown
    element of the namespace: bad-request; a get: an error."""
    a, b = server.new_user("a"), server.new_user("b")
    ca = await login(clients, server, a, "r")
    cb = await login(clients, server, b, "r")
    for payload in ("enable", "disable"):
        r = await ca.iq("<%s xmlns='%s'/>" % (payload, NS_CARBONS),
                        type_="set", to=b.jid)
        assert r["type"] == "error" and \
            stanza_error(r)[1] == "not-allowed", str(r)
    r = await ca.iq("<private xmlns='%s'/>" % NS_CARBONS, type_="set")
    assert r["type"] == "error" and stanza_error(r)[1] == "bad-request", str(r)
    r = await ca.iq("<enable xmlns='%s'/>" % NS_CARBONS, type_="get")
    assert r["type"] == "error", str(r)
    # none of that enabled anything, for a's session or b's: messages
    # to the other sessions of either account are not copied
    ca2 = await login(clients, server, a, "r2")
    cb2 = await login(clients, server, b, "r2")
    send(cb2, ca2.boundjid.full, "to-a2")
    await expect_plain(ca2, "to-a2", cb2.boundjid.full)
    send(ca2, cb2.boundjid.full, "to-b2")
    await expect_plain(cb2, "to-b2", ca2.boundjid.full)
    await settle(ca2, cb2, ca, cb)
    await quiet(ca, cb)


# ---------------------------------------------------------------------------
# received and sent carbons

async def test_received_to_full_jid(server, clients):
    """7: a message to one full JID is copied to the account's other
    enabled sessions, not to the addressed one, not to one that did not
    enable; the copy is wrapped as the XEP says."""
    a, b = server.new_user("a"), server.new_user("b")
    a1 = await login(clients, server, a, "a1", carbons=True)
    a2 = await login(clients, server, a, "a2", carbons=True)
    a3 = await login(clients, server, a, "a3")
    cb = await login(clients, server, b, "b")
    body = uniq("full-")
    mid = send(cb, a1.boundjid.full, body)
    m = await expect_plain(a1, body, cb.boundjid.full)
    assert m["id"] == mid
    c, inner = await expect_carbon(a2, "received", body, cb.boundjid.full,
                                   a1.boundjid.full)
    assert c["type"] == "chat" and inner.get("id") == mid
    await settle(cb, a1, a2, a3)
    await quiet(a1, a2, a3)


async def test_sent_carbons(server, clients):
    """8: what a session sends is copied to the account's other enabled
    sessions, whether the sender enabled carbons or not; the sender gets
    no copy."""
    a, b = server.new_user("a"), server.new_user("b")
    a1 = await login(clients, server, a, "a1", carbons=True)
    a2 = await login(clients, server, a, "a2", carbons=True)
    a3 = await login(clients, server, a, "a3")
    cb = await login(clients, server, b, "b", priority=0)
    body = uniq("sent-")
    send(a1, cb.boundjid.full, body)
    await expect_plain(cb, body, a1.boundjid.full)
    await expect_carbon(a2, "sent", body, a1.boundjid.full,
                        cb.boundjid.full)
    body = uniq("sent-bare-")
    send(a3, b.jid, body)
    await expect_plain(cb, body, a3.boundjid.full)
    await expect_carbon(a1, "sent", body, a3.boundjid.full, b.jid)
    await expect_carbon(a2, "sent", body, a3.boundjid.full, b.jid)
    await settle(a1, a3, cb, a1, a2)
    await quiet(a1, a2, a3, cb)


async def test_received_to_bare_jid(server, clients):
    """7 with RFC 6121 8.5.2.1.1: a message to the bare JID reaches the
    sessions of highest priority; the enabled ones that it did not reach
    (lower or negative priority) get a carbon, those it reached do not."""
    a, b = server.new_user("a"), server.new_user("b")
    top = await login(clients, server, a, "top", carbons=True, priority=5)
    low = await login(clients, server, a, "low", carbons=True, priority=1)
    neg = await login(clients, server, a, "neg", carbons=True, priority=-1)
    top2 = await login(clients, server, a, "top2", priority=5)
    cb = await login(clients, server, b, "b")
    for c in (top, low, neg, top2):
        c.pending()
    body = uniq("bare-")
    send(cb, a.jid, body)
    await expect_plain(top, body, cb.boundjid.full)
    await expect_plain(top2, body, cb.boundjid.full)
    await expect_carbon(low, "received", body, cb.boundjid.full, a.jid)
    await expect_carbon(neg, "received", body, cb.boundjid.full, a.jid)
    await settle(cb, top, low, neg, top2)
    for c in (top, low, neg, top2):
        assert all("<presence" in p for p in c.pending())


async def test_disabled_and_other_accounts_get_nothing(server, clients):
    """A session that disabled carbons gets none; carbons never cross to
    another account's sessions."""
    a, b, d = (server.new_user("a"), server.new_user("b"),
               server.new_user("d"))
    a1 = await login(clients, server, a, "a1", carbons=True)
    a2 = await login(clients, server, a, "a2", carbons=True)
    r = await a2["xep_0280"].disable(timeout=5)
    assert r["type"] == "result"
    d1 = await login(clients, server, d, "d1", carbons=True)
    d2 = await login(clients, server, d, "d2", carbons=True)
    cb = await login(clients, server, b, "b")
    send(cb, a1.boundjid.full, "in")
    await expect_plain(a1, "in", cb.boundjid.full)
    send(a1, cb.boundjid.full, "out")
    await expect_plain(cb, "out", a1.boundjid.full)
    await settle(cb, a1, a2, d1, d2)
    await quiet(a1, a2, d1, d2)


async def test_to_offline_user_no_carbons(server, clients):
    """A message to a user with no session goes to offline storage and
    is no carbon, then or at login; the sender's own carbons still go."""
    a, b = server.new_user("a"), server.new_user("b")
    b1 = await login(clients, server, b, "b1", carbons=True)
    b2 = await login(clients, server, b, "b2", carbons=True)
    body = uniq("offline-")
    send(b1, a.jid, body)
    await expect_carbon(b2, "sent", body, b1.boundjid.full, a.jid)
    await settle(b1, b2)
    a1 = await clients.login(server, a, resource="a1")
    a1.send_presence()
    await expect_plain(a1, body, b1.boundjid.full)
    await settle(b1, a1)
    assert not [m for m in a1.pending() if "carbons" in m]


async def test_stored_offline_not_copied(server, clients):
    """A message no session can take yet (none available) is stored, and
    copied to none of them: each gets it from storage once it is
    available, and would otherwise see it twice."""
    a, b = server.new_user("a"), server.new_user("b")
    a1 = await login(clients, server, a, "a1", carbons=True)
    a2 = await login(clients, server, a, "a2", carbons=True, priority=-1)
    cb = await login(clients, server, b, "b")
    send(cb, a.jid, "stored")
    await settle(cb, a1, a2)
    await quiet(a1, a2)
    a1.send_presence()
    await expect_plain(a1, "stored", cb.boundjid.full)
    await settle(a1)
    await quiet(a1, a2)


async def test_gone_resource_as_bare(server, clients):
    """A message to a full JID that is not online goes to the bare JID's
    best sessions; the other enabled sessions get a carbon."""
    a, b = server.new_user("a"), server.new_user("b")
    top = await login(clients, server, a, "top", priority=3)
    low = await login(clients, server, a, "low", carbons=True, priority=0)
    cb = await login(clients, server, b, "b")
    gone = a.jid + "/gone"
    send(cb, gone, "lost")
    await expect_plain(top, "lost", cb.boundjid.full)
    await expect_carbon(low, "received", "lost", cb.boundjid.full, gone)
    await settle(cb, top, low)
    await quiet(top, low)


async def test_own_full_jid(server, clients):
    """A message from one session to another of the same account: the
    addressed session gets it, the other enabled ones a received carbon,
    the sender nothing."""
    a = server.new_user("a")
    a1 = await login(clients, server, a, "a1", carbons=True)
    a2 = await login(clients, server, a, "a2", carbons=True)
    a3 = await login(clients, server, a, "a3", carbons=True)
    send(a1, a2.boundjid.full, "self")
    await expect_plain(a2, "self", a1.boundjid.full)
    await expect_carbon(a3, "received", "self", a1.boundjid.full,
                        a2.boundjid.full)
    await settle(a1, a2, a3)
    await quiet(a1, a2, a3)


# ---------------------------------------------------------------------------
# which messages are copied (section 6 and 7)

@pytest.mark.parametrize("type_,body,extra,copied", [
    ("normal", "hi", "", True),
    (None, "hi", "", True),
    ("normal", None, "", False),
    ("headline", "news", "", False),
    ("normal", None, "<received xmlns='urn:xmpp:receipts' id='x'/>", True),
    ("chat", None, "<composing xmlns='http://jabber.org/protocol/"
     "chatstates'/>", True),
    ("normal", None, "<active xmlns='http://jabber.org/protocol/"
     "chatstates'/>", True),
    ("normal", None, "<x xmlns='jabber:x:conference' jid='r@muc.x'/>", True),
    ("error", "echoed", "<error type='cancel'><service-unavailable "
     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>", True),
    ("error", None, "<error type='cancel'><service-unavailable "
     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>", False),
    ("chat", "hi", "<no-copy xmlns='urn:xmpp:hints'/>", False),
    ("chat", "hi", "<no-store xmlns='urn:xmpp:hints'/>", True),
    ("chat", "hi", "<private xmlns='urn:xmpp:carbons:2'/>", False),
], ids=["normal-body", "no-type-body", "normal-empty", "headline",
        "receipt", "chatstate-chat", "chatstate-normal", "invite",
        "error-echo", "error-bare", "no-copy", "no-store", "private"])
async def test_eligible(server, clients, type_, body, extra, copied):
    """Both directions: a message b sends a1 is copied to a2 (received)
    and to b's enabled b2 (sent) exactly when section 6 says so."""
    a, b = server.new_user("a"), server.new_user("b")
    a1 = await login(clients, server, a, "a1", carbons=True)
    a2 = await login(clients, server, a, "a2", carbons=True)
    b1 = await login(clients, server, b, "b1", carbons=True)
    b2 = await login(clients, server, b, "b2", carbons=True)
    send(b1, a1.boundjid.full, body, type_=type_, extra=extra)
    m = await a1.next_message(what="the original")
    assert forwarded(m, "received") is None
    if copied:
        await expect_carbon(a2, "received", body, b1.boundjid.full,
                            a1.boundjid.full)
        await expect_carbon(b2, "sent", body, b1.boundjid.full,
                            a1.boundjid.full)
    await settle(b1, a1, a2, b2)
    await quiet(a1, a2, b1, b2)


async def test_private_stripped_for_the_recipient(server, clients):
    """7: <private/> keeps a message from being copied on both sides, and
    the recipient's server removes it; <no-copy/> stays."""
    a, b = server.new_user("a"), server.new_user("b")
    a1 = await login(clients, server, a, "a1", carbons=True)
    a2 = await login(clients, server, a, "a2", carbons=True)
    b1 = await login(clients, server, b, "b1", carbons=True)
    b2 = await login(clients, server, b, "b2", carbons=True)
    send(b1, a1.boundjid.full, "secret",
         extra="<private xmlns='%s'/><no-copy xmlns='%s'/>"
         % (NS_CARBONS, NS_HINTS))
    m = await expect_plain(a1, "secret", b1.boundjid.full)
    assert m.xml.find("{%s}private" % NS_CARBONS) is None, str(m)
    assert m.xml.find("{%s}no-copy" % NS_HINTS) is not None, str(m)
    await settle(b1, a1, a2, b2)
    await quiet(a1, a2, b1, b2)


async def test_muc_private_messages(server, clients):
    """6: a MUC private message (muc#user <x/>) from a full JID is not
    copied to the recipient's sessions; the sender's copy is made (a
    private message the user sends to an occupant)."""
    a, b = server.new_user("a"), server.new_user("b")
    a1 = await login(clients, server, a, "a1", carbons=True)
    a2 = await login(clients, server, a, "a2", carbons=True)
    b1 = await login(clients, server, b, "b1", carbons=True)
    b2 = await login(clients, server, b, "b2", carbons=True)
    send(b1, a1.boundjid.full, "pm", extra="<x xmlns='%s'/>" % NS_MUC_USER)
    await expect_plain(a1, "pm", b1.boundjid.full)
    await expect_carbon(b2, "sent", "pm", b1.boundjid.full,
                        a1.boundjid.full)
    # a mediated invitation is copied
    send(b1, a1.boundjid.full, "inv", type_="normal",
         extra="<x xmlns='%s'><invite from='%s'/></x>"
         % (NS_MUC_USER, b.jid))
    await expect_plain(a1, "inv", b1.boundjid.full)
    await expect_carbon(a2, "received", "inv", b1.boundjid.full,
                        a1.boundjid.full)
    await expect_carbon(b2, "sent", "inv", b1.boundjid.full,
                        a1.boundjid.full)
    await settle(b1, a1, a2, b2)
    await quiet(a1, a2, b1, b2)


async def test_groupchat_not_copied(server, clients):
    """6: groupchat messages are not copied (to an online full JID they
    are delivered; to the bare JID refused)."""
    a, b = server.new_user("a"), server.new_user("b")
    a1 = await login(clients, server, a, "a1", carbons=True)
    a2 = await login(clients, server, a, "a2", carbons=True)
    b1 = await login(clients, server, b, "b1", carbons=True)
    b2 = await login(clients, server, b, "b2", carbons=True)
    send(b1, a1.boundjid.full, "gc", type_="groupchat")
    await expect_plain(a1, "gc", b1.boundjid.full)
    await settle(b1, a1, a2, b2)
    await quiet(a1, a2, b2)


# ---------------------------------------------------------------------------
# forged carbons (section 11)

FORGED = ("<%(dir)s xmlns='urn:xmpp:carbons:2'><forwarded "
          "xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' "
          "from='%(frm)s' to='%(to)s' type='chat'><body>%(body)s</body>"
          "</message></forwarded></%(dir)s>")


async def test_forged_carbon_from_local_users(server, clients):
    """A carbon some session sends, another user's or one of the
    account's own, to a full or the bare JID, enabled or not, online or
    offline: dropped, the recipient never sees it."""
    a, m, off = (server.new_user("a"), server.new_user("m"),
                 server.new_user("off"))
    a1 = await login(clients, server, a, "a1", carbons=True)
    a2 = await login(clients, server, a, "a2")
    a3 = await login(clients, server, a, "a3", carbons=True)
    cm = await login(clients, server, m, "m")
    for sender in (cm, a3):
        for to in (a1.boundjid.full, a2.boundjid.full, a.jid, off.jid):
            for d in ("received", "sent"):
                send(sender, to, None, extra=FORGED % {
                    "dir": d, "frm": "evil@localhost/x", "to": a.jid,
                    "body": "forged"})
    # and one whose sender claims the bare JID (the c2s stamps its own)
    cm.send_raw("<message from='%s' to='%s' type='chat'>%s</message>"
                % (a.jid, a1.boundjid.full, FORGED % {
                    "dir": "received", "frm": "x@localhost", "to": a.jid,
                    "body": "forged"}))
    send(cm, a1.boundjid.full, "after")
    await expect_plain(a1, "after", cm.boundjid.full)
    await expect_carbon(a3, "received", "after", cm.boundjid.full,
                        a1.boundjid.full)
    await settle(cm, a3, a1, a2, a3)
    await quiet(a1, a2, a3, cm)
    assert "forged carbon from" in server.log_text()
    o = await clients.login(server, off, resource="o")
    o.send_presence()
    await settle(o)
    assert not [x for x in o.pending() if "forged" in x]


async def test_forged_carbon_over_s2s(make_server, tmp_path_factory,
                                      clients):
    """A remote server (raw, authenticated as b.test by dialback) sends
    carbons to a local user, with any outer from, to full and bare JIDs:
    none reaches a client, and what follows on the stream does. A sent
    carbon is also made for a message to a remote user."""
    a, _ = pair(make_server, tmp_path_factory, s2s_require_tls="no")
    ua = user(a, "a.test")
    a1 = await login(clients, a, ua, "a1", carbons=True)
    a2 = await login(clients, a, ua, "a2", carbons=True)
    r, w, _ = await open_as_b(a, a.opts["s2s-dialback-secret"])
    data = await read_for(r, b"type='valid'")
    assert b"type='valid'" in data, data
    try:
        for frm in ("x@b.test/r", "x@b.test", "b.test"):
            for to in (a1.boundjid.full, ua.jid):
                for d in ("received", "sent"):
                    w.write(("<message from='%s' to='%s' type='chat'>%s"
                             "</message>" % (frm, to, FORGED % {
                                 "dir": d, "frm": "y@b.test/z",
                                 "to": ua.jid, "body": "forged"}))
                            .encode())
        w.write(("<message from='x@b.test/r' to='%s' type='chat'><body>"
                 "after</body><private xmlns='%s'/></message>"
                 % (a1.boundjid.full, NS_CARBONS)).encode())
        await w.drain()
        m = await a1.next_message(what="the message after the forgeries",
                                  timeout=15)
        assert m["body"] == "after" and forwarded(m, "received") is None, \
            str(m)
        # the receiving server removes <private/> and copies nothing
        assert m.xml.find("{%s}private" % NS_CARBONS) is None, str(m)
        await settle(a1, a2)
        await quiet(a1, a2)
    finally:
        w.close()
    # a message to a remote user is copied to the other enabled session
    send(a1, "someone@b.test", "out")
    await expect_carbon(a2, "sent", "out", a1.boundjid.full,
                        "someone@b.test")


@pytest.mark.one_host("counts the frames of the one c2s that holds"
                      " every session")
async def test_copies_share_one_frame_per_c2s(make_server, clients,
                                              monkeypatch):
    """With one c2s, the received carbons of three sessions go as one
    LINK_STANZA_MULTI frame, and each still names its own session in
    'to' (the c2s writes it in, LINK_F_STAMP_TO)."""
    monkeypatch.setenv("PARLEY_TRACE", "link")
    srv = make_server(workers=1)
    a, b = srv.new_user("a"), srv.new_user("b")
    a1 = await login(clients, srv, a, "a1")
    copies = [await login(clients, srv, a, "c%d" % i, carbons=True)
              for i in range(3)]
    cb = await login(clients, srv, b, "b")
    await settle(cb, a1, *copies)
    since = srv.log_size()
    send(cb, a1.boundjid.full, "fan")
    await expect_plain(a1, "fan", cb.boundjid.full)
    for c in copies:
        await expect_carbon(c, "received", "fan", cb.boundjid.full,
                            a1.boundjid.full)
    log = srv.log_text(since)
    multi = [ln for ln in log.splitlines()
             if "c2s[1]" in ln and "recv" in ln and "STANZA_MULTI" in ln]
    assert len(multi) == 1, log


async def test_refused_message_not_copied(make_server, clients):
    """A message the server refuses at once (offline storage off, a user
    that does not exist) comes back as an error and is not copied."""
    srv = make_server(offline_max=0)
    a, b = srv.new_user("a"), srv.new_user("b")
    b1 = await login(clients, srv, b, "b1", carbons=True)
    b2 = await login(clients, srv, b, "b2", carbons=True)
    for to in (a.jid, "nobody-%s@localhost" % uniq("n")):
        mid = send(b1, to, "refused")
        m = await b1.next_message(what="the error")
        assert m["type"] == "error" and m["id"] == mid, str(m)
    await settle(b1, b2)
    await quiet(b1, b2)


async def test_copy_to_resource_needing_escapes(server, clients):
    """The 'to' the c2s writes into a copy is escaped: a resource with an
    apostrophe and an ampersand comes back intact."""
    a, b = server.new_user("a"), server.new_user("b")
    a1 = await login(clients, server, a, "a1")
    odd = await login(clients, server, a, "it's <&> odd", carbons=True)
    cb = await login(clients, server, b, "b")
    send(cb, a1.boundjid.full, "esc")
    await expect_plain(a1, "esc", cb.boundjid.full)
    m, _ = await expect_carbon(odd, "received", "esc", cb.boundjid.full,
                               a1.boundjid.full)
    assert m["to"].resource == "it's <&> odd", str(m)
