"""
Group chat (XEP-0045) across the federation. Every lab server runs a
service at conference.DOMAIN (Parley "muc yes", Prosody's muc component,
ejabberd's mod_muc); scripts/lab gives those names an address, an SRV
record and a place in each certificate.

  remote occupants  users of Prosody, ejabberd and the second Parley join
                    a room on Parley (p1.test), see each other and the
                    Parley occupant, exchange groupchat messages (each
                    gets each message once, with the room's stanza-id),
                    private messages between a remote and the local
                    occupant, leave;
  remote rooms      a Parley user joins rooms on the others, sends and
                    receives groupchat;
  spoofing          a remote occupant cannot speak as another occupant's
                    nick, and a remote full JID that is not an occupant
                    (another resource of an occupant's account, or a
                    stranger) is refused with not-acceptable.
"""
import asyncio

import pytest

from conftest import new_user, stanza_error, uniq
from test_federation import (MODES, RawS2S, local_server, stream_error,
                             stream_header)

NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = NS_MUC + "#user"
NS_MUC_OWNER = NS_MUC + "#owner"
NS_SID = "urn:xmpp:sid:0"
REMOTES = [("prosody", "prosody.test"), ("ejabberd", "ejabberd.test"),
           ("parley", "p2.test")]


def statuses(p):
    x = p.xml.find("{%s}x" % NS_MUC_USER)
    if x is None:
        return set()
    return {s.get("code") for s in x.findall("{%s}status" % NS_MUC_USER)}


async def presence_where(c, pred, what, timeout=20):
    """The first presence pred accepts, from those kept earlier or the
    next ones; the others are kept (next_presence would drop them, and
    occupants' presences arrive in any order across servers)."""
    kept = c.__dict__.setdefault("kept", [])
    for p in kept:
        if pred(p):
            kept.remove(p)
            return p
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            p = await asyncio.wait_for(c.presences.get(),
                                       max(deadline - loop.time(), 0.01))
        except asyncio.TimeoutError:
            raise AssertionError("%s got no %s within %ss" % (
                c.boundjid, what, timeout))
        if pred(p):
            return p
        kept.append(p)


async def join(c, room, nick, create=False):
    """Joins room as nick, waits for the self-presence (status 110); the
    creator submits the instant configuration (10.1.2) to unlock it."""
    occ = "%s/%s" % (room, nick)
    c.send_raw("<presence to='%s'><x xmlns='%s'><history maxstanzas='0'/>"
               "</x></presence>" % (occ, NS_MUC))
    p = await presence_where(
        c, lambda p: str(p["from"]) == occ and
        (p["type"] == "error" or "110" in statuses(p)),
        "the self-presence of %s" % occ)
    assert p["type"] != "error", "%s joins %s: %s" % (c.boundjid, occ, p)
    if create:
        r = await c.iq("<query xmlns='%s'><x xmlns='jabber:x:data' "
                       "type='submit'/></query>" % NS_MUC_OWNER, to=room,
                       type_="set", timeout=20)
        assert r["type"] == "result", "%s configures %s: %s" % (
            c.boundjid, room, r)
    return occ


async def sees(c, occ, unavailable=False):
    return await presence_where(
        c, lambda p: str(p["from"]) == occ and
        (p["type"] == "unavailable") == unavailable,
        "%s presence of %s" % (
            "unavailable" if unavailable else "the", occ))


def groupchat(c, room, body):
    c.send_raw("<message to='%s' type='groupchat' id='%s'><body>%s</body>"
               "</message>" % (room, uniq("g"), body))


async def gets_groupchat(c, room, occ, body):
    m = await c.next_message(
        match=lambda m: m["body"] == body,
        what="groupchat %r from %s" % (body, occ), timeout=20)
    assert m["type"] == "groupchat" and str(m["from"]) == occ, \
        "%s: %s" % (c.boundjid, m)
    return m


def room_sids(m, room):
    return [s.get("id") for s in m.xml.findall("{%s}stanza-id" % NS_SID)
            if s.get("by") == room]


def assert_error(s, cond, what):
    assert s["type"] == "error", "%s: expected an error, got %s" % (what, s)
    assert stanza_error(s)[1] == cond, "%s: expected %s in %s" % (
        what, cond, s)


@pytest.mark.parametrize("mode", MODES)
async def test_remote_occupants_in_parley_room(pool, clients, mode):
    p1 = local_server(pool, mode)
    room = "%s@conference.%s" % (uniq("room"), p1.domain)
    la = new_user(p1, "a")
    ca = await clients.login(la)
    occ_a = await join(ca, room, "alice", create=True)
    remote = []
    for kind, domain in REMOTES:
        u = new_user(pool.get(kind, mode, domain), "r")
        c = await clients.login(u)
        nick = kind + "-nick"
        occ = await join(c, room, nick)
        remote.append((kind, c, occ))
    everyone = [("parley", ca, occ_a)] + remote
    # each sees every other occupant's presence (what arrived before its
    # own self-presence is still queued)
    for _, c, me in everyone:
        for _, _, occ in everyone:
            if occ != me:
                await sees(c, occ)
    # each says something; each occupant gets every message once, with
    # the room's stanza-id (XEP-0359, XEP-0045 7.2.2 via the archive)
    bodies = []
    for kind, c, occ in everyone:
        body = "hello from %s %s" % (kind, uniq())
        groupchat(c, room, body)
        bodies.append((occ, body))
    want = dict((body, occ) for occ, body in bodies)
    for _, c, _ in everyone:
        got = {}
        while set(got) != set(want):
            m = await c.next_message(
                match=lambda m: m["body"] in want,
                what="the groupchat messages (have %d of %d)" % (
                    len(got), len(want)), timeout=20)
            b = m["body"]
            assert b not in got, "%s got %r twice" % (c.boundjid, b)
            assert m["type"] == "groupchat" and \
                str(m["from"]) == want[b], "%s: %s" % (c.boundjid, m)
            assert len(room_sids(m, room)) == 1, \
                "%s: no stanza-id by the room: %s" % (c.boundjid, m)
            got[b] = m
    await asyncio.sleep(1)
    for _, c, _ in everyone:
        dup = [m for m in c.pending() if "hello from" in m]
        assert not dup, "%s got a message twice: %s" % (c.boundjid, dup)
    # private messages between each remote occupant and the local one
    for kind, c, occ in remote:
        body = "pm from %s %s" % (kind, uniq())
        c.send_raw("<message to='%s' type='chat'><body>%s</body><x "
                   "xmlns='%s'/></message>" % (occ_a, body, NS_MUC_USER))
        m = await ca.next_message(match=lambda m, b=body: m["body"] == b,
                                  what="the private message from " + occ)
        assert str(m["from"]) == occ, m
        body = "pm to %s %s" % (kind, uniq())
        ca.send_raw("<message to='%s' type='chat'><body>%s</body><x "
                    "xmlns='%s'/></message>" % (occ, body, NS_MUC_USER))
        m = await c.next_message(match=lambda m, b=body: m["body"] == b,
                                 what="the private message from alice")
        assert str(m["from"]) == occ_a, m
    # they leave; the others see it
    for kind, c, occ in remote:
        c.send_raw("<presence to='%s' type='unavailable'/>" % occ)
        p = await sees(c, occ, unavailable=True)
        assert "110" in statuses(p), p
        await sees(ca, occ, unavailable=True)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind,domain", [
    pytest.param(k, d, id=k if k != "parley" else "parley2",
                 marks=pytest.mark.peer(k)) for k, d in REMOTES])
async def test_parley_user_in_remote_room(pool, clients, kind, domain,
                                          mode):
    p1 = local_server(pool, mode)
    srv = pool.get(kind, mode, domain)
    room = "%s@conference.%s" % (uniq("room"), domain)
    ur = new_user(srv, "o")
    cr = await clients.login(ur)
    occ_r = await join(cr, room, "owner", create=True)
    la = new_user(p1, "a")
    ca = await clients.login(la)
    occ_a = await join(ca, room, "parley-user")
    await sees(ca, occ_r)
    await sees(cr, occ_a)
    for c, occ in ((ca, occ_a), (cr, occ_r)):
        body = "in %s's room %s" % (kind, uniq())
        groupchat(c, room, body)
        for d in (ca, cr):
            m = await gets_groupchat(d, room, occ, body)
            # only Parley's rooms archive by default (Prosody's need
            # mod_muc_mam, ejabberd's mod_mam; see docs/interop.md)
            assert kind != "parley" or room_sids(m, room), \
                "no stanza-id by the room: %s" % m
    ca.send_raw("<presence to='%s' type='unavailable'/>" % occ_a)
    await sees(ca, occ_a, unavailable=True)
    await sees(cr, occ_a, unavailable=True)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind,domain", [
    pytest.param(k, d, id=k if k != "parley" else "parley2",
                 marks=pytest.mark.peer(k)) for k, d in REMOTES])
async def test_remote_spoofing_refused(pool, clients, kind, domain, mode):
    p1 = local_server(pool, mode)
    srv = pool.get(kind, mode, domain)
    room = "%s@conference.%s" % (uniq("room"), p1.domain)
    la = new_user(p1, "a")
    ca = await clients.login(la)
    occ_a = await join(ca, room, "alice", create=True)
    ub = new_user(srv, "b")
    cb = await clients.login(ub, resource="in")
    occ_b = await join(cb, room, "bob")
    await sees(ca, occ_b)
    # bob cannot take alice's nick (7.2.9) ...
    cb.send_raw("<presence to='%s'/>" % occ_a)
    p = await presence_where(cb, lambda p: p["type"] == "error",
                             "the error for alice's nick")
    assert_error(p, "conflict", "%s takes alice's nick" % ub.jid)
    # ... nor send a groupchat message as her (7.5.1: groupchat to an
    # occupant JID is bad-request), and what he says is his
    cb.send_raw("<message to='%s' type='groupchat' id='s1'><body>as alice"
                "</body></message>" % occ_a)
    m = await cb.next_message(match=lambda m: m["type"] == "error",
                              what="the error for groupchat to alice")
    assert_error(m, "bad-request", "groupchat to an occupant JID")
    body = "bob speaks " + uniq()
    groupchat(cb, room, body)
    m = await gets_groupchat(ca, room, occ_b, body)
    # another resource of bob's account is not an occupant
    cb2 = await clients.login(ub, resource="out")
    groupchat(cb2, room, "not joined")
    m = await cb2.next_message(match=lambda m: m["type"] == "error",
                               what="the error for a non-occupant")
    assert_error(m, "not-acceptable", "groupchat from a non-occupant")
    # nor is a stranger of the same server
    cs = await clients.login(new_user(srv, "s"))
    groupchat(cs, room, "stranger")
    m = await cs.next_message(match=lambda m: m["type"] == "error",
                              what="the error for a stranger")
    assert_error(m, "not-acceptable", "groupchat from a stranger")
    # alice got none of it
    await asyncio.sleep(1)
    got = [str(x) for x in ca.pending()
           if "as alice" in str(x) or "not joined" in str(x) or
           "stranger" in str(x)]
    assert not got, "alice received refused stanzas: %s" % got


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.peer("prosody")
async def test_unauthenticated_server_cannot_speak_for_occupant(
        pool, clients, mode):
    """A stream to the room's service that claims prosody.test but never
    authenticated sends a groupchat message as a real Prosody occupant
    (RFC 6120 4.9.3.12): not-authorized, and nothing reaches the room."""
    p1 = local_server(pool, mode)
    srv = pool.get("prosody", mode, "prosody.test")
    service = "conference." + p1.domain
    room = "%s@%s" % (uniq("room"), service)
    ca = await clients.login(new_user(p1, "a"))
    await join(ca, room, "alice", create=True)
    ub = new_user(srv, "b")
    cb = await clients.login(ub, resource="in")
    occ_b = await join(cb, room, "bob")
    await sees(ca, occ_b)
    body = uniq("spoof-")
    raw = await RawS2S.open(p1.addr, p1.s2s_port)
    try:
        await raw.send(stream_header(srv.domain, service))
        text = await raw.read_until(r"</(stream:)?features>|"
                                    r"</(stream:)?error>")
        if stream_error(text) is None:
            await raw.starttls()
            await raw.send(stream_header(srv.domain, service))
            text = await raw.read_until(r"</(stream:)?features>|"
                                        r"</(stream:)?error>")
        if stream_error(text) is None:
            await raw.send("<message from='%s/in' to='%s' type='groupchat' "
                           "id='%s'><body>%s</body></message>"
                           % (ub.jid, room, uniq("s"), body))
            text = await raw.read_until(r"</(stream:)?error>")
        assert stream_error(text) == "not-authorized", text[-800:]
    finally:
        raw.close()
    # the real occupant still speaks; the forged message never came first
    real = uniq("real-")
    groupchat(cb, room, real)
    m = await ca.next_message(match=lambda m: m["body"] in (body, real),
                              what="bob's real message")
    assert m["body"] == real, "the forged message reached the room: %s" % m


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind,domain", [
    pytest.param(k, d, id=k if k != "parley" else "parley2",
                 marks=pytest.mark.peer(k)) for k, d in REMOTES])
async def test_remote_occupant_history_nick_kick(pool, clients, kind,
                                                 domain, mode):
    """A remote occupant gets the room's history on join, changes its
    nick (303, 7.6) and is kicked by the Parley owner (307, 8.2)."""
    p1 = local_server(pool, mode)
    srv = pool.get(kind, mode, domain)
    room = "%s@conference.%s" % (uniq("room"), p1.domain)
    ca = await clients.login(new_user(p1, "a"))
    await join(ca, room, "alice", create=True)
    said = "before you came " + uniq()
    groupchat(ca, room, said)
    await gets_groupchat(ca, room, room + "/alice", said)
    cb = await clients.login(new_user(srv, "b"))
    occ_b = "%s/bob" % room
    cb.send_raw("<presence to='%s'><x xmlns='%s'/></presence>"
                % (occ_b, NS_MUC))
    m = await cb.next_message(match=lambda m: m["body"] == said,
                              what="the history")
    assert str(m["from"]) == room + "/alice", m
    assert m.xml.find("{urn:xmpp:delay}delay") is not None, m
    await presence_where(cb, lambda p: str(p["from"]) == occ_b and
                         "110" in statuses(p), "bob's self-presence")
    await sees(ca, occ_b)
    # nick change: unavailable with 303 and the new nick, then available
    occ_b2 = "%s/robert" % room
    cb.send_raw("<presence to='%s'/>" % occ_b2)
    for c in (ca, cb):
        p = await sees(c, occ_b, unavailable=True)
        assert "303" in statuses(p), p
        item = p.xml.find("{%s}x/{%s}item" % (NS_MUC_USER, NS_MUC_USER))
        assert item is not None and item.get("nick") == "robert", p
        await sees(c, occ_b2)
    # the owner kicks him
    r = await ca.iq("<query xmlns='%s#admin'><item nick='robert' "
                    "role='none'/></query>" % NS_MUC, to=room, type_="set")
    assert r["type"] == "result", r
    p = await sees(cb, occ_b2, unavailable=True)
    assert {"307", "110"} <= statuses(p), p
    await sees(ca, occ_b2, unavailable=True)
    # and is no longer an occupant
    groupchat(cb, room, "after the kick")
    m = await cb.next_message(match=lambda m: m["type"] == "error",
                              what="the error after the kick")
    assert_error(m, "not-acceptable", "groupchat after the kick")
