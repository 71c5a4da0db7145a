"""
Message retraction by its author (XEP-0424 urn:xmpp:message-retract:1):
in a room, by the room's stanza-id, checked against the occupant id of
the original (the real account, not the nick), which leaves the history
and the room's archive while the retraction is relayed and kept; another
account's message is refused with forbidden. Between two accounts, by
the message's id: the original leaves both archives and the offline
store, the retraction is archived; a retraction of someone else's
message changes nothing. Both the room and the account list the
feature.
"""
from conftest import DOMAIN, NS_DISCO_INFO, uniq
from imhelp import online, send_message
from test_mam import query
from test_mam import stanza_id_of as sid_of
from test_muc import (create, error_of, groupchat, join, login,
                      next_body)
# the module's server: test_muc's fixture, one more instance here
from test_muc import msrv  # noqa: F401

NS_RETRACT = "urn:xmpp:message-retract:1"
NS_MAM = "urn:xmpp:mam:2"
NS_FWD = "urn:xmpp:forward:0"


def retraction(to, target, type_="groupchat"):
    """What Conversations, Dino and Gajim send (XEP-0424 3, version 0.4)."""
    mid = uniq("r")
    return mid, ("<message to='%s' type='%s' id='%s'>"
                 "<retract xmlns='%s' id='%s'/>"
                 "<fallback xmlns='urn:xmpp:fallback:0' for='%s'/>"
                 "<body>/me retracted a previous message</body>"
                 "<store xmlns='urn:xmpp:hints'/></message>"
                 % (to, type_, mid, NS_RETRACT, target, NS_RETRACT))


async def refused(c, rjid, sid):
    """c's retraction of sid is refused with forbidden."""
    mid, x = retraction(rjid, sid)
    c.send_raw(x)
    e = await c.next_message(match=lambda m: m["id"] == mid and
                             m["type"] == "error")
    assert error_of(e) == "forbidden", str(e)


async def room_archive(c, rjid):
    """The bodies of the room's archive, oldest first (retractions as
    'retract:ID')."""
    qid = uniq("q")
    c.pending()
    r = await c.iq("<query xmlns='%s' queryid='%s'/>" % (NS_MAM, qid),
                   to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    await c.fence()
    out = []
    while not c.messages.empty():
        res = c.messages.get_nowait().xml.find("{%s}result" % NS_MAM)
        if res is None or res.get("queryid") != qid:
            continue
        msg = res.find("{%s}forwarded/{jabber:client}message" % NS_FWD)
        ret = msg.find("{%s}retract" % NS_RETRACT)
        out.append("retract:" + ret.get("id") if ret is not None
                   else msg.findtext("{jabber:client}body"))
    return out


async def history(c, room, nick):
    """A join's history, until the subject: bodies and retractions."""
    await join(c, room, nick, "<history maxstanzas='20'/>")
    got = []
    while True:
        m = await c.next_message()
        if m.xml.find("{jabber:client}subject") is not None:
            return got
        ret = m.xml.find("{%s}retract" % NS_RETRACT)
        got.append("retract:" + ret.get("id") if ret is not None
                   else m["body"])


async def features(c, jid):
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=jid)
    return [f.get("var") for f in r.xml.iter("{%s}feature" % NS_DISCO_INFO)]


async def test_room_own_message(msrv, clients):
    """XEP-0424 in a room: the author's retraction (by the room's
    stanza-id) is relayed with its own stanza-id and occupant id, the
    original leaves the archive and a newcomer's history, the retraction
    stays in both; an unknown id is relayed as is."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    room = uniq("ret")
    rjid = await create(a, room, "alice")
    assert NS_RETRACT in await features(a, rjid)
    await join(b, room, "bob")
    groupchat(b, rjid, "secret")
    sid = sid_of(await next_body(a, "secret"), rjid)
    groupchat(b, rjid, "keep")
    await next_body(a, "keep")
    mid, x = retraction(rjid, sid)
    b.send_raw(x)
    m = await a.next_message(match=lambda m: m["id"] == mid)
    ret = m.xml.find("{%s}retract" % NS_RETRACT)
    assert ret is not None and ret.get("id") == sid, str(m)
    assert sid_of(m, rjid) and sid_of(m, rjid) != sid, str(m)
    assert m.xml.find("{urn:xmpp:occupant-id:0}occupant-id") is not None
    # the author has its reflection, no error
    await b.next_message(match=lambda m: m["id"] == mid)
    assert await room_archive(a, rjid) == ["keep", "retract:" + sid]
    c = await login(msrv, clients)
    assert await history(c, room, "carol") == ["keep", "retract:" + sid]
    # gone already, or never there: relayed, nothing to check
    mid, x = retraction(rjid, sid)
    b.send_raw(x)
    await a.next_message(match=lambda m: m["id"] == mid)
    assert len(await room_archive(a, rjid)) == 3


async def test_room_others_message(msrv, clients):
    """Another account's message is not retracted (forbidden, nothing
    relayed), not even by whoever holds its author's nick now: the room
    checks the occupant id, the hash of the real account."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    c = await login(msrv, clients)
    room = uniq("ret")
    rjid = await create(a, room, "alice")
    await join(b, room, "bob")
    await join(c, room, "carol")
    groupchat(b, rjid, "mine")
    sid = sid_of(await next_body(a, "mine"), rjid)
    await refused(c, rjid, sid)
    # the moderator's own (XEP-0424, not 0425) is refused the same way
    await refused(a, rjid, sid)
    # bob leaves, carol takes the nick: still not hers
    b.send_raw("<presence to='%s/bob' type='unavailable'/>" % rjid)
    c.send_raw("<presence to='%s/bob'/>" % rjid)
    await c.next_presence(match=lambda p: p["from"].resource == "bob"
                          and p["type"] != "unavailable")
    await refused(c, rjid, sid)
    assert await room_archive(a, rjid) == ["mine"]


async def test_room_without_archive(make_server, clients):
    """With archive off the in-memory history drops the author's
    message and keeps the retraction; another's stays."""
    srv = make_server(host_options={DOMAIN: {"muc": "yes"}}, archive="no")
    a, b = await login(srv, clients), await login(srv, clients)
    room = uniq("ring")
    rjid = await create(a, room, "alice")
    await join(b, room, "bob")
    groupchat(a, rjid, "one")
    sid1 = sid_of(await next_body(b, "one"), rjid)
    groupchat(b, rjid, "two")
    sid2 = sid_of(await next_body(a, "two"), rjid)
    await refused(b, rjid, sid1)
    mid, x = retraction(rjid, sid2)
    b.send_raw(x)
    await a.next_message(match=lambda m: m["id"] == mid)
    c = await login(srv, clients)
    assert await history(c, room, "carol") == ["one", "retract:" + sid2]


async def test_chat(server, clients):
    """XEP-0424 between accounts: the author's retraction by the
    message's id reaches the contact and the original leaves both
    archives while the retraction is kept; the contact retracting the
    author's message changes no archive; the account lists the
    feature."""
    ua, ub = server.new_user("ra"), server.new_user("rb")
    a = await online(server, clients, ua, resource="a")
    b = await online(server, clients, ub, resource="b")
    assert NS_RETRACT in await features(a, ua.jid)
    oops = send_message(a, b.boundjid.full, "oops")
    await b.next_message(match=lambda m: m["body"] == "oops")
    send_message(a, b.boundjid.full, "fine")
    await b.next_message(match=lambda m: m["body"] == "fine")
    # the contact cannot retract it
    mid, x = retraction(a.boundjid.full, oops, "chat")
    b.send_raw(x)
    await a.next_message(match=lambda m: m["id"] == mid)
    for c in (a, b):
        assert (await query(c)).bodies[:2] == ["oops", "fine"]
    mid, x = retraction(b.boundjid.full, oops, "chat")
    a.send_raw(x)
    m = await b.next_message(match=lambda m: m["id"] == mid)
    assert m.xml.find("{%s}retract" % NS_RETRACT).get("id") == oops
    for c in (a, b):
        p = await query(c)
        assert "oops" not in p.bodies and "fine" in p.bodies, p.bodies
        rets = [r["msg"].find("{%s}retract" % NS_RETRACT) for r in
                p.results]
        assert [r.get("id") for r in rets if r is not None] == \
            [oops, oops], p.results


async def test_room_after_restart(make_server, clients):
    """A persistent room keeps its XEP-0421 salt: after a full restart
    the author has the same occupant id and may still retract."""
    srv = make_server(host_options={DOMAIN: {"muc": "yes"}})
    ua, ub = srv.new_user(), srv.new_user()
    a, b = await login(srv, clients, ua), await login(srv, clients, ub)
    room = uniq("keep")
    rjid = await create(a, room, "alice", conf={"persistentroom": "1"})
    await join(b, room, "bob")
    groupchat(b, rjid, "before")
    m = await next_body(a, "before")
    sid = sid_of(m, rjid)
    occ = m.xml.find("{urn:xmpp:occupant-id:0}occupant-id").get("id")
    srv.restart()
    a, b = await login(srv, clients, ua), await login(srv, clients, ub)
    await join(a, room, "alice")
    await join(b, room, "bobby")
    groupchat(b, rjid, "after")
    m = await next_body(a, "after")
    assert m.xml.find("{urn:xmpp:occupant-id:0}occupant-id").get("id") \
        == occ, str(m)
    mid, x = retraction(rjid, sid)
    b.send_raw(x)
    m = await a.next_message(match=lambda m: m["id"] == mid)
    assert m["type"] == "groupchat", str(m)
    assert await room_archive(a, rjid) == ["after", "retract:" + sid]


async def test_chat_offline(server, clients):
    """A retraction that reaches the offline store takes the message it
    names out of it: the contact, once online, gets the retraction and
    the other message, not the retracted one; the archive agrees."""
    ua, ub = server.new_user("ra"), server.new_user("rb")
    a = await online(server, clients, ua, resource="a")
    oops = send_message(a, ub.jid, "oops")
    send_message(a, ub.jid, "fine")
    mid, x = retraction(ub.jid, oops, "chat")
    a.send_raw(x)
    await a.fence()
    b = await online(server, clients, ub, resource="b", presence=None)
    b.send_raw("<presence/>")
    got = []
    while not got or got[-1]["id"] != mid:
        got.append(await b.next_message(what="the offline messages"))
    assert [m["body"] for m in got[:-1]] == ["fine"], got
    assert got[-1].xml.find("{%s}retract" % NS_RETRACT).get("id") == oops
    assert "oops" not in (await query(b)).bodies
