"""
The state handover of a planned router restart (docs/internals.md,
"Planned router restart"): what only the old router's memory held comes
back in the new one. Group chat occupants stay in their rooms, told of
nothing (same occupants, nicks, roles, XEP-0421 ids); directed presence
still gets its unavailable (RFC 6121 4.6.3); roster pushes still go to
the resources that asked for the roster, and only to them (RFC 6121
2.1.6). A corrupt handover file is logged and ignored.
"""
import os
import signal

import pytest

from conftest import DOMAIN, SLOW
from imhelp import fence, next_push, online, roster_set, track, wait_presence
from test_muc import (NS_MUC, NS_OCC, NS_USER, SVC, codes, create, item,
                      join, login, next_body, groupchat)
from test_router_restart import c2s_links, restarted, router_deaths


async def planned_restart(srv):
    """parleyctl restart router, until the held stanzas are released."""
    old = srv.router_pid()
    n = srv.log_text().count("restart: every process is back")
    srv.ctl("restart", "router")
    await restarted(srv, old, 10 * SLOW)
    await srv_wait(srv, lambda: srv.log_text().count(
        "restart: every process is back") > n, "the release")


async def srv_wait(srv, pred, what):
    from conftest import wait_for
    await wait_for(pred, 10 * SLOW, what)


def occ_id(st):
    o = st.xml.find("{%s}occupant-id" % NS_OCC)
    return o.get("id") if o is not None else None


def room_presences(c, rjid):
    # slixmpp writes attributes in double quotes
    return [p for p in c.pending() if "<presence" in p and
            ("from='%s" % rjid in p or 'from="%s' % rjid in p)]


@pytest.mark.kills("router")
async def test_occupants_stay_in_their_rooms(make_server, clients):
    srv = make_server(workers=2, host_options={DOMAIN: {"muc": "yes"}})
    by = {}
    for _ in range(24):     # SO_REUSEPORT places them: two on each
        c = await login(srv, clients)
        by.setdefault(srv.owner_of(c.local_port), []).append(c)
        if len(by) == 2 and all(len(v) >= 2 for v in by.values()):
            break
    assert len(by) == 2, "clients on one worker only: %s" % by
    (a, c), (b, d) = [v[:2] for v in by.values()]
    cs = (a, b, c, d)
    rjid = await create(a, "hand", "alice")
    await join(b, "hand", "bob")
    await join(c, "hand", "carol")
    # a moderator and two participants, and the ids each is known by
    r = await a.iq("<query xmlns='%s#admin'><item nick='bob' role="
                   "'moderator'/></query>" % NS_MUC, to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    ids = {}
    for x, nick in ((a, "alice"), (b, "bob"), (c, "carol")):
        groupchat(x, rjid, "before " + nick)
        m = await next_body(a, "before " + nick)
        ids[nick] = occ_id(m)
    assert len(set(ids.values())) == 3, ids
    for x in (a, b, c):
        await fence(x)
        await fence(x)
        x.pending()
    await planned_restart(srv)
    # a message to the room reaches every occupant, from the same id
    groupchat(b, rjid, "after")
    for x in (a, b, c):
        m = await next_body(x, "after")
        assert m["from"] == rjid + "/bob", str(m)
    # nobody saw a leave or a join
    for x in (a, b, c):
        await fence(x)
        await fence(x)
        left = room_presences(x, rjid)
        assert not left, "%s saw %s" % (x.boundjid, left)
    # the occupant list, roles and occupant ids as before
    others, me = await join(d, "hand", "dave")
    seen = {p["from"].resource: (item(p).get("role"), occ_id(p))
            for p in others}
    assert seen == {"alice": ("moderator", ids["alice"]),
                    "bob": ("moderator", ids["bob"]),
                    "carol": ("participant", ids["carol"])}, seen
    groupchat(c, rjid, "from carol")
    m = await next_body(a, "from carol")
    assert occ_id(m) == ids["carol"], str(m)
    # a leave after the restart is broadcast as usual
    c.send_raw("<presence to='%s/carol' type='unavailable'/>" % rjid)
    p = await a.next_presence(match=lambda p: p["type"] == "unavailable")
    assert p["from"] == rjid + "/carol", str(p)
    assert "handover of" in srv.log_text()
    assert not router_deaths(srv), router_deaths(srv)
    assert not any(x.closed.done() for x in cs)


@pytest.mark.kills("router")
async def test_directed_presence(make_server, clients):
    srv = make_server(workers=2)
    uu, vu = srv.new_user("hd"), srv.new_user("hv")
    u = await online(srv, clients, uu, resource="u")
    v = await online(srv, clients, vu, resource="v")
    # RFC 6121 4.6: directed presence to someone not in the roster
    u.send_raw("<presence to='%s'/>" % v.boundjid.full)
    await wait_presence(v, frm=u.boundjid.full)
    await planned_restart(srv)
    # 4.6.3: the unavailable reaches whom the directed presence did
    u.send_raw("<presence type='unavailable'/>")
    await wait_presence(v, frm=u.boundjid.full, type_="unavailable")
    assert not router_deaths(srv), router_deaths(srv)


@pytest.mark.kills("router")
async def test_roster_interest(make_server, clients):
    srv = make_server(workers=2)
    wu = srv.new_user("hw")
    # one resource asked for the roster, the other did not
    keen = await online(srv, clients, wu, resource="keen")
    idle = await online(srv, clients, wu, resource="idle", roster=False)
    track(idle)
    await planned_restart(srv)
    # RFC 6121 2.1.6: the push goes to the interested resource only
    r = await roster_set(keen, "someone@%s" % DOMAIN, name="S")
    assert r["type"] == "result", str(r)
    push = await next_push(keen)
    assert "someone@" in str(push), str(push)
    await fence(idle)
    await fence(idle)
    assert idle.pushes.empty(), "a push to a resource that never asked"
    assert not router_deaths(srv), router_deaths(srv)


@pytest.mark.kills("router")
async def test_sessions_not_back_are_ended(make_server, clients):
    """A worker stopped through the restart is not awaited: its sessions'
    occupancy and directed presence end as their end would end them
    (unavailable from the room and to the directed target), and once it
    runs again its clients are no longer occupants."""
    srv = make_server(workers=2, host_options={DOMAIN: {"muc": "yes"}})
    by = {}
    for _ in range(24):
        c = await login(srv, clients)
        by.setdefault(srv.owner_of(c.local_port), []).append(c)
        if len(by) == 2:
            break
    assert len(by) == 2, by
    frozen, alive = list(by)
    a, f = by[alive][0], by[frozen][0]
    rjid = await create(a, "gone", "alice")
    await join(f, "gone", "frank")
    f.send_raw("<presence to='%s'/>" % a.boundjid.full)
    await wait_presence(a, frm=f.boundjid.full)
    await fence(a)
    a.pending()
    old = srv.router_pid()
    os.kill(frozen, signal.SIGSTOP)
    try:
        srv.ctl("restart", "router")
        await restarted_one(srv, old)
        # both, in either order
        want = {rjid + "/frank", f.boundjid.full}
        while want:
            p = await a.next_presence(timeout=10 * SLOW,
                                      what="unavailable from %s" % want)
            if p["type"] == "unavailable":
                want.discard(str(p["from"]))
    finally:
        os.kill(frozen, signal.SIGCONT)
    assert "sessions not back; their occupancy" in srv.log_text()
    groupchat(a, rjid, "alone")
    await next_body(a, "alone")
    await fence(f)
    assert not [s for s in f.pending() if "alone" in s]
    assert not router_deaths(srv), router_deaths(srv)


async def restarted_one(srv, old):
    await srv_wait(srv, lambda: srv.router_pid() not in (None, old),
                   "a new router")
    await srv_wait(srv, lambda: "releasing held stanzas" in srv.log_text(),
                   "the release")


@pytest.mark.kills("router")
async def test_corrupt_handover_is_ignored(make_server, clients):
    """A handover whose checksum is wrong (a torn write, a disk fault)
    is logged, removed and ignored; the router serves."""
    import struct
    from conftest import exchange
    srv = make_server(workers=1)
    full = b"x@" + DOMAIN.encode() + b"/r"
    body = b"I\x01" + struct.pack(">I", len(full)) + full
    data = b"PARLEYHO" + struct.pack(">II", 1, len(body)) + body + \
        b"\0" * 8
    path = os.path.join(srv.opts["rundir"], "router.handover")
    with open(path, "wb") as fh:
        fh.write(data)
    old = srv.router_pid()
    os.kill(old, signal.SIGKILL)
    await srv_wait(srv, lambda: "router.handover: bad checksum; ignored"
                   in srv.log_text(), "the refusal logged")
    assert not os.path.exists(path)
    await srv_wait(srv, lambda: srv.router_pid() not in (None, old),
                   "the router back")
    await srv_wait(srv, lambda: c2s_links(srv) >= 2 * srv.linked_workers(),
                   "the worker back")
    c1 = await clients.login(srv, srv.new_user("hc"), resource="a")
    c2 = await clients.login(srv, srv.new_user("hc"), resource="b")
    await exchange(c1, c2)


@pytest.mark.kills("router")
async def test_sm_queue_carried_over(make_server, clients):
    """XEP-0198 through a planned restart. a: acked its presence, the
    ping's answer and "one", not "two"; after the restart it gets
    "three", loses its connection, resumes with h=3 and gets exactly
    "two" and "three" again (then "four"). b:
    acks everything after the restart (the c2s passes the ack of what
    the old router sent on, numbered alike) and ends its stream: nothing
    of it goes to offline storage as unacked."""
    from conftest import session_ended, wait_for
    from imhelp import send_message
    from test_rfc6120 import authed
    from test_sm import attr, bodies, resume, sm_session
    srv = make_server(workers=1, sm_resume_timeout=300)
    ua, ub = srv.new_user("hs"), srv.new_user("hs")
    a, aid = await sm_session(srv, ua, "phone")
    b, _ = await sm_session(srv, ub, "pad")
    c = await clients.login(srv, srv.new_user("hc"), resource="c")
    afull, bfull = ua.jid + "/phone", ub.jid + "/pad"
    for body in ("one", "two"):
        send_message(c, afull, body)
        send_message(c, bfull, body)
    await a.read_until(rb"<body>two</body>")
    await b.read_until(rb"<body>two</body>")
    await a.send("<a xmlns='urn:xmpp:sm:3' h='3'/>")
    await fence(c)
    await planned_restart(srv)
    send_message(c, afull, "three")
    await a.read_until(rb"<body>three</body>")
    a.close()           # a lost connection
    await wait_for(lambda: "session %s hibernated" % afull in
                   srv.log_text(), 5 * SLOW, "a hibernates")
    new = await authed(srv, ua)
    try:
        new.mark()
        el = await resume(new, aid, 3)
        assert el.startswith(b"<resumed"), el
        await new.read_until(rb"<body>three</body>")
        send_message(c, afull, "four")
        await new.read_until(rb"<body>four</body>")
        assert bodies(new.buf) == [b"two", b"three", b"four"], new.buf
    finally:
        new.close()
    # b acks all it got (presence, ping answer, one, two), then ends
    await b.send("<a xmlns='urn:xmpp:sm:3' h='4'/>")
    await b.send("</stream:stream>")
    await session_ended(srv, bfull)
    back = await online(srv, clients, ub, resource="back")
    got = [m["body"] for m in back.at_login.messages]
    assert got == [], "acked stanzas stored as unacked: %s" % got
    assert "%s: 1 unacked stanzas handed over" % afull in srv.log_text()
    assert "%s: 4 unacked stanzas handed over" % bfull in srv.log_text()
    assert not router_deaths(srv), router_deaths(srv)


@pytest.mark.kills("router")
async def test_remote_occupant_stays(make_server, tmp_path_factory, clients):
    """An occupant of another server (over s2s) is in the room after the
    restart as before: it gets the room's messages, its own reach the
    local occupant, and neither saw a leave or a join."""
    from conftest import STANZA_TIMEOUT
    from test_s2s import pair, user
    svc = "conference.a.test"
    a, b = pair(make_server, tmp_path_factory, a_host_options={"muc": "yes"},
                b_routes=[svc])
    la = await login(a, clients, user(a, "a.test", "ha"))
    rb = await login(b, clients, user(b, "b.test", "hb"))
    rjid = "hand@" + svc
    slow = 3 * STANZA_TIMEOUT
    la.send_raw("<presence to='%s/local'><x xmlns='%s'/></presence>"
                % (rjid, NS_MUC))
    await la.next_presence(match=lambda p: 110 in codes(p))
    r = await la.iq("<query xmlns='%s#owner'><x xmlns='jabber:x:data' "
                    "type='submit'/></query>" % NS_MUC, to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    rb.send_raw("<presence to='%s/far'><x xmlns='%s'/></presence>"
                % (rjid, NS_MUC))
    await rb.next_presence(match=lambda p: 110 in codes(p), timeout=slow)
    await la.next_presence(match=lambda p: p["from"].resource == "far",
                           timeout=slow)
    groupchat(rb, rjid, "before")
    await la.next_message(match=lambda m: m["body"] == "before",
                          timeout=slow)
    await rb.next_message(match=lambda m: m["body"] == "before",
                          timeout=slow)
    for x in (la, rb):
        await fence(x)
        x.pending()
    await planned_restart(a)
    groupchat(la, rjid, "after")
    m = await rb.next_message(match=lambda m: m["body"] == "after",
                              timeout=slow)
    assert m["from"] == rjid + "/local", str(m)
    groupchat(rb, rjid, "back")
    m = await la.next_message(match=lambda m: m["body"] == "back",
                              timeout=slow)
    assert m["from"] == rjid + "/far", str(m)
    for x in (la, rb):
        await fence(x)
        seen = room_presences(x, rjid)
        assert not seen, "%s saw %s" % (x.boundjid, seen)
    assert not router_deaths(a), router_deaths(a)


@pytest.mark.kills("router")
async def test_carbons_kept(make_server, clients):
    """XEP-0280: a resource that enabled carbons still gets the copies
    after the restart."""
    from imhelp import send_message
    srv = make_server(workers=2)
    xu, yu = srv.new_user("hx"), srv.new_user("hy")
    r1 = await online(srv, clients, xu, resource="r1")
    r2 = await online(srv, clients, xu, resource="r2")
    y = await online(srv, clients, yu, resource="y")
    r = await r1.iq("<enable xmlns='urn:xmpp:carbons:2'/>", type_="set")
    assert r["type"] == "result", str(r)
    await planned_restart(srv)
    send_message(y, r2.boundjid.full, "copied")
    await r2.next_message(match=lambda m: m["body"] == "copied")
    await fence(r1)
    got = [s for s in r1.pending() if "urn:xmpp:carbons:2" in s and
           "copied" in s]
    assert got, "no carbon after the restart"
    assert not router_deaths(srv), router_deaths(srv)


async def history_of(c):
    """The history sent on a join, up to the subject: (body, stanza-id,
    has a delay) each."""
    got = []
    while True:
        m = await c.next_message(what="history, then the subject")
        if m.xml.find("{jabber:client}subject") is not None:
            return got
        sid = m.xml.find("{urn:xmpp:sid:0}stanza-id")
        got.append((m["body"], sid.get("id") if sid is not None else None,
                    m.xml.find("{urn:xmpp:delay}delay") is not None))


@pytest.mark.kills("router")
async def test_history_ring_carried(make_server, clients):
    """With the room archive off the history is the room's in-memory
    ring: after a planned restart a newcomer gets the same history (the
    newest historylength messages, in order, with their stanza-ids and
    delays), in a temporary room with occupants and in a stored room
    without any."""
    srv = make_server(workers=1, host_options={DOMAIN: {"muc": "yes"}},
                      archive="no")
    a = await login(srv, clients)
    rjid = await create(a, "ring", "alice", conf={"historylength": "3"})
    sjid = await create(a, "stored", "alice",
                        conf={"persistentroom": "1"})
    sids = {}
    for room, body in ((rjid, "r0"), (rjid, "r1"), (rjid, "r2"),
                       (rjid, "r3"), (sjid, "s0")):
        groupchat(a, room, body)
        m = await next_body(a, body)
        sids[body] = m.xml.find("{urn:xmpp:sid:0}stanza-id").get("id")
    a.send_raw("<presence to='%s/alice' type='unavailable'/>" % sjid)
    await a.next_presence(match=lambda p: p["type"] == "unavailable")
    await planned_restart(srv)
    b = await login(srv, clients)
    await join(b, "ring", "bob", "<history maxstanzas='5'/>")
    assert await history_of(b) == [(x, sids[x], True)
                                   for x in ("r1", "r2", "r3")]
    await join(b, "stored", "bob")
    assert await history_of(b) == [("s0", sids["s0"], True)]
    assert "(0 refused)" in srv.log_text()
    assert not router_deaths(srv), router_deaths(srv)


@pytest.mark.kills("router")
async def test_caps_cache_carried(make_server, clients):
    """An entity caps hash (XEP-0115) verified before a planned restart
    is known after it: neither the holder whose presence its c2s sends
    the new router again, nor a new client announcing the same hash, is
    asked for its disco#info again."""
    from test_caps import IDENTITY, announce, new_features, ver_of
    from test_caps import login as caps_login
    srv = make_server(workers=2)
    info = ([IDENTITY], new_features())
    ver = ver_of(*info)
    c, w = await caps_login(srv, clients, answer=info)
    announce(c, ver)
    await w.next()
    await fence(c)          # the answer is in, verified and cached
    await planned_restart(srv)
    await w.none(2.0)
    d, wd = await caps_login(srv, clients, answer=info)
    announce(d, ver)
    await wd.none(2.0)
    assert "(0 refused)" in srv.log_text()
    assert not router_deaths(srv), router_deaths(srv)
