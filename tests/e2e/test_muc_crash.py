"""
Group chat after a router crash (docs/internals.md, "Group chat after a
crash"): the c2s processes join each session again to the rooms it was
in (its last join presence, asking for no history), so occupants keep
getting each other's messages without rejoining; XEP-0410 self-ping
answers for them as before, and not-acceptable for someone not joined.
A temporary room the crash ended tells its occupant so (item-not-found).
A session resumed (XEP-0198) on another worker is joined again too: the
router told its new c2s its rooms and presence (LINK_SESS_KEEP).
"""
import os
import re
import signal
import time

import pytest

from conftest import DOMAIN, SLOW, STANZA_TIMEOUT, uniq, wait_for
from test_muc import (NS_MUC, create, error_of, groupchat, join, login,
                      next_body)
from test_process import login_retrying
from test_rfc6120 import bind, iq_re, ping
from test_router_restart import restarted
from test_sm import attr, authed_on, enabled, resume

PING = "<ping xmlns='urn:xmpp:ping'/>"


async def crash(srv):
    old = srv.router_pid()
    os.kill(old, signal.SIGKILL)
    await restarted(srv, old, 10 * SLOW)


async def drained(*cs):
    for c in cs:
        await c.fence()
        await c.fence()
        c.pending()


@pytest.mark.kills("router")
async def test_occupants_rebuilt_after_crash(make_server, clients):
    srv = make_server(workers=2, host_options={DOMAIN: {"muc": "yes"}})
    a = await login(srv, clients)
    b = await login(srv, clients)
    c = await login(srv, clients)
    rjid = await create(a, "kept", "alice", conf={"persistentroom": "1"})
    await join(b, "kept", "bob", "<history maxstanzas='5'/>")
    # a temporary room: the crash ends it
    tjid = await create(a, "gone", "alice")
    groupchat(a, rjid, "before")
    await next_body(b, "before")
    await drained(a, b, c)
    await crash(srv)
    # XEP-0410: a rebuilt occupant is joined (its c2s joined it again
    # before this ping, on the same link); someone never joined is not
    r = await b.iq(PING, to=rjid + "/bob")
    assert r["type"] == "result", str(r)
    r = await a.iq(PING, to=rjid + "/alice")
    assert r["type"] == "result", str(r)
    r = await c.iq(PING, to=rjid + "/bob")
    assert error_of(r) == "not-acceptable", str(r)
    # each receives the other's messages, without joining again
    groupchat(a, rjid, "after from alice")
    m = await next_body(b, "after from alice")
    assert m["from"] == rjid + "/alice", str(m)
    groupchat(b, rjid, "after from bob")
    m = await next_body(a, "after from bob")
    assert m["from"] == rjid + "/bob", str(m)
    # the join asked for no history: the message before is not sent again
    await b.fence()
    got = b.pending()
    assert not [s for s in got if ">before<" in s], got
    # the temporary room is gone, and its occupant was told
    assert [s for s in a.pending() if tjid + "/alice" in s and
            "item-not-found" in s], "no word of the gone room"
    r = await a.iq(PING, to=tjid + "/alice")
    assert r["type"] == "error", str(r)
    # a leave after the rebuild is broadcast as usual
    b.send_raw("<presence to='%s/bob' type='unavailable'/>" % rjid)
    p = await a.next_presence(match=lambda p: p["type"] == "unavailable")
    assert p["from"] == rjid + "/bob", str(p)


@pytest.mark.kills("router")
async def test_left_rooms_not_rejoined(make_server, clients):
    """A room left before the crash (unavailable to it), and every room
    after the session's broadcast unavailable, is not joined again."""
    srv = make_server(workers=1, host_options={DOMAIN: {"muc": "yes"}})
    a = await login(srv, clients)
    b = await login(srv, clients)
    d = await login(srv, clients)
    rjid = await create(a, "left", "alice", conf={"persistentroom": "1"})
    await join(b, "left", "bob")
    await join(d, "left", "dave")
    b.send_raw("<presence to='%s/bob' type='unavailable'/>" % rjid)
    await a.next_presence(match=lambda p: p["type"] == "unavailable")
    d.send_raw("<presence type='unavailable'/>")
    await a.next_presence(match=lambda p: p["type"] == "unavailable" and
                          p["from"].resource == "dave")
    d.send_raw("<presence/>")
    await drained(a, b, d)
    await crash(srv)
    r = await a.iq(PING, to=rjid + "/alice")
    assert r["type"] == "result", str(r)
    for x, nick in ((b, "bob"), (d, "dave")):
        r = await x.iq(PING, to="%s/%s" % (rjid, nick))
        assert error_of(r) == "not-acceptable", str(r)


@pytest.mark.kills("router")
async def test_nick_change_kept(make_server, clients):
    """A nick change (7.6) the room took is the nick joined again; one it
    refused (409) leaves the old nick."""
    srv = make_server(workers=1, host_options={DOMAIN: {"muc": "yes"}})
    a = await login(srv, clients)
    b = await login(srv, clients)
    rjid = await create(a, "nicks", "alice", conf={"persistentroom": "1"})
    await join(b, "nicks", "bob")
    b.send_raw("<presence to='%s/robert'/>" % rjid)
    await a.next_presence(match=lambda p: p["from"].resource == "robert")
    b.send_raw("<presence to='%s/alice'/>" % rjid)
    p = await b.next_presence(match=lambda p: p["type"] == "error")
    assert error_of(p) == "conflict", str(p)
    await drained(a, b)
    await crash(srv)
    r = await b.iq(PING, to=rjid + "/robert")
    assert r["type"] == "result", str(r)
    groupchat(a, rjid, "to robert")
    m = await next_body(b, "to robert")
    assert m["from"] == rjid + "/alice", str(m)


def self_presences(data, occupant):
    """The room's self-presences (status 110) to occupant in data."""
    return re.findall(rb"<presence\b[^>]*\bfrom=['\"]%s['\"][^>]*>"
                      rb"(?:(?!</presence>).)*?code=['\"]110['\"]"
                      % re.escape(occupant.encode()), data, re.S)


async def sm_joined(srv, user, occupant, extra=""):
    """A raw resumable session of user, available (with a status), in
    the room as occupant. Returns (raw, its c2s's pid, the SM id)."""
    raw, pid = await authed_on(srv, user)
    await bind(raw, "phone")
    previd = attr(await enabled(raw), "id")
    await raw.send("<presence><status>here</status></presence>")
    await ping(raw)
    await raw.send("<presence to='%s'><x xmlns='%s'>%s</x></presence>"
                   % (occupant, NS_MUC, extra))
    await raw.read_until(rb"code=['\"]110['\"]")
    return raw, pid, previd


async def hibernated(srv, raw):
    raw.close()         # no </stream:stream>: the session hibernates
    await wait_for(lambda: "hibernated" in srv.log_text(), STANZA_TIMEOUT,
                   "the session hibernates")


async def raw_iq_type(raw, body, to):
    iid = uniq("i")
    await raw.send("<iq type='get' id='%s' to='%s'>%s</iq>" % (iid, to, body))
    return attr((await raw.read_until(iq_re(iid))).group(0), "type")


@pytest.mark.kills("router")
async def test_resumed_elsewhere_rejoined_after_crash(make_server, clients):
    """A session that joined a room on one worker, lost its connection
    and resumed on the other is still the room's occupant after a crash:
    its new c2s learnt the room (and the session's presence) from the
    router at the resumption. One join, no history again."""
    srv = make_server(workers=2, host_options={DOMAIN: {"muc": "yes"}})
    a = await login(srv, clients)
    rjid = await create(a, "moved", "alice", conf={
        "persistentroom": "1", "passwordprotectedroom": "1",
        "roomsecret": "s3cret"})
    user = srv.new_user("sm")
    bob = rjid + "/bob"
    raw, first, previd = await sm_joined(
        srv, user, bob, "<password>s3cret</password>"
        "<history maxstanzas='5'/>")
    groupchat(a, rjid, "before")
    await raw.read_until(rb"<body>before</body>")
    await hibernated(srv, raw)
    new, _ = await authed_on(srv, user, avoid=first)
    # an h past what was sent acks it all: nothing is replayed
    el = await resume(new, previd, 1000)
    assert el.startswith(b"<resumed"), el
    await ping(new)
    await a.fence()
    a.pending()
    new.mark()
    await crash(srv)
    # XEP-0410: joined again (the room's password was in the join)
    assert await raw_iq_type(new, "<ping xmlns='urn:xmpp:ping'/>",
                             bob) == "result", new.buf
    groupchat(a, rjid, "after")
    await new.read_until(rb"<body>after</body>")
    # its presence was kept too: a message to the bare JID reaches it
    a.send_raw("<message to='%s' type='chat'><body>to bare</body>"
               "</message>" % user.jid)
    await new.read_until(rb"<body>to bare</body>")
    await a.fence()
    # listed: someone joining now is told of bob
    d = await login_retrying(srv, clients, srv.new_user("d"),
                             time.monotonic() + 10 * SLOW)
    others, _ = await join(d, "moved", "dave",
                           "<password>s3cret</password>")
    assert bob in [str(p["from"]) for p in others], others
    # one join: one self-presence; alice saw bob come once at most
    await ping(new)
    assert len(self_presences(new.buf, bob)) == 1, new.buf
    got = [p for p in a.pending() if bob in p and "unavailable" not in p]
    assert len([p for p in got if "<presence" in p]) <= 1, got
    # no history again
    assert b">before<" not in new.buf, new.buf
    new.close()


@pytest.mark.kills("router")
async def test_hibernated_at_crash_learns_it_is_out(make_server, clients):
    """A session hibernating (no connection) when the router crashes is
    lost with it: its resumption fails, so the client knows its rooms
    are gone too (XEP-0198 5), and the room says it is not joined."""
    srv = make_server(workers=1, host_options={DOMAIN: {"muc": "yes"}})
    a = await login(srv, clients)
    rjid = await create(a, "slept", "alice", conf={"persistentroom": "1"})
    user = srv.new_user("sm")
    raw, _, previd = await sm_joined(srv, user, rjid + "/bob")
    await hibernated(srv, raw)
    await crash(srv)
    new, _ = await authed_on(srv, user)
    el = await resume(new, previd, 1000)
    assert el.startswith(b"<failed") and b"item-not-found" in el, el
    await bind(new, "phone")
    assert await raw_iq_type(new, "<ping xmlns='urn:xmpp:ping'/>",
                             rjid + "/bob") == "error", new.buf
    new.close()


@pytest.mark.kills("router")
async def test_remote_occupants_rebuilt_after_crash(make_server,
                                                    tmp_path_factory,
                                                    clients):
    """Users of another server (b.test, over s2s) in a persistent room
    of a.test: the s2s process of a.test, which outlives the router,
    joins them again (s2s/rejoin.c, "Group chat after a crash: remote
    occupants"). After a SIGKILL of a.test's router the remote occupant
    answers self-pings and still gets the room's messages, without the
    history sent again; one that left before the crash is not joined."""
    from test_muc import codes
    from test_s2s import pair, user
    svc = "conference.a.test"
    a, b = pair(make_server, tmp_path_factory, a_host_options={"muc": "yes"},
                b_routes=[svc])
    slow = 3 * STANZA_TIMEOUT
    la = await login(a, clients, user(a, "a.test", "ma"))
    rb = await login(b, clients, user(b, "b.test", "mb"))
    gb = await login(b, clients, user(b, "b.test", "gb"))
    room = uniq("fedkept")
    rjid = "%s@%s" % (room, svc)
    la.send_raw("<presence to='%s/local'><x xmlns='%s'/></presence>"
                % (rjid, NS_MUC))
    await la.next_presence(match=lambda p: 110 in codes(p))
    r = await la.iq("<query xmlns='http://jabber.org/protocol/muc#owner'>"
                    "<x xmlns='jabber:x:data' type='submit'><field var="
                    "'muc#roomconfig_persistentroom'><value>1</value>"
                    "</field></x></query>", to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    for c, nick in ((rb, "far"), (gb, "gone")):
        c.send_raw("<presence to='%s/%s'><x xmlns='%s'><history "
                   "maxstanzas='5'/></x></presence>" % (rjid, nick, NS_MUC))
        await c.next_presence(match=lambda p, n=nick: p["from"] ==
                              rjid + "/" + n, timeout=slow,
                              what="the self-presence of " + nick)
        await la.next_presence(match=lambda p, n=nick:
                               p["from"].resource == n, timeout=slow)
    # gone leaves before the crash: its server's unavailable
    gb.send_raw("<presence to='%s/gone' type='unavailable'/>" % rjid)
    await la.next_presence(match=lambda p: p["type"] == "unavailable" and
                           p["from"].resource == "gone", timeout=slow)
    groupchat(la, rjid, "before")
    await rb.next_message(match=lambda m: m["body"] == "before",
                          timeout=slow)
    await drained(la, rb, gb)
    await crash(a)
    # XEP-0410: far is an occupant again (the s2s joined it before
    # anything far's server sent after the crash); gone is not
    r = await rb.iq(PING, to=rjid + "/far", timeout=slow)
    assert r["type"] == "result", str(r)
    r = await gb.iq(PING, to=rjid + "/gone", timeout=slow)
    assert error_of(r) == "not-acceptable", str(r)
    r = await la.iq(PING, to=rjid + "/local")
    assert r["type"] == "result", str(r)
    groupchat(la, rjid, "after from local")
    m = await rb.next_message(match=lambda m: m["body"] ==
                              "after from local", timeout=slow)
    assert m["from"] == rjid + "/local", str(m)
    groupchat(rb, rjid, "after from far")
    m = await la.next_message(match=lambda m: m["body"] ==
                              "after from far", timeout=slow)
    assert m["from"] == rjid + "/far", str(m)
    # the join asked for no history: "before" is not sent again
    await rb.fence()
    got = rb.pending()
    assert not [s for s in got if ">before<" in s], got
