"""
Group chat (XEP-0045) at conference.DOMAIN: the service in disco, room
creation (instant and reserved, 201, the owner's form), joining (the
others' presence first, the self-presence with 110 last, then history
and subject), groupchat messages with the room's stanza-id (XEP-0359)
and occupant ids (XEP-0421), private messages, nick changes (303),
leaving and session ends, the subject, kick and ban (307, 301), members-
only rooms, passwords, moderated rooms and voice, invitations (mediated
and XEP-0249), nick registration, destroy, self-ping (XEP-0410),
moderation (XEP-0425), the room's vCard, and the errors of each.
"""
import asyncio

import pytest
from slixmpp.xmlstream import ET

from conftest import DOMAIN, NS_DISCO_INFO, ServerFactory, uniq

SVC = "conference." + DOMAIN
NS_MUC = "http://jabber.org/protocol/muc"
NS_USER = NS_MUC + "#user"
NS_OWNER = NS_MUC + "#owner"
NS_ADMIN = NS_MUC + "#admin"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_XDATA = "jabber:x:data"
NS_SID = "urn:xmpp:sid:0"
NS_OCC = "urn:xmpp:occupant-id:0"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
PLUGINS = ("xep_0199", "xep_0030", "xep_0004", "xep_0045", "xep_0249",
           "xep_0092")


@pytest.fixture(scope="module")
def msrv(tmp_path_factory, cert):
    """A server whose host localhost has its group chat service on."""
    f = ServerFactory(tmp_path_factory, cert)
    srv = f(host_options={DOMAIN: {"muc": "yes"}}, muc_rate="20")
    yield srv
    f.close()


async def login(srv, clients, user=None):
    c = await clients.login(srv, user or srv.new_user(), plugins=PLUGINS)
    c.send_presence()
    await c.fence()
    await c.fence()
    c.pending()
    return c


def codes(p, logged=False):
    """The status codes, without 170 (the room is archived: the tests
    that care ask for it with logged)."""
    x = p.xml.find("{%s}x" % NS_USER)
    return [int(s.get("code")) for s in x.findall("{%s}status" % NS_USER)
            if logged or s.get("code") != "170"] if x is not None else []


def item(p):
    return p.xml.find("{%s}x/{%s}item" % (NS_USER, NS_USER))


def error_of(st):
    e = st.xml.find("{jabber:client}error")
    assert e is not None, "no error in %s" % st
    return [c.tag.split("}")[1] for c in e
            if c.tag.startswith("{%s}" % NS_STANZAS)][0]


def join_raw(c, room, nick, extra=""):
    c.send_raw("<presence to='%s@%s/%s'><x xmlns='%s'>%s</x></presence>"
               % (room, SVC, nick, NS_MUC, extra))


async def self_presence(c, room, nick):
    """Presence until the self-presence; returns (others, self)."""
    others = []
    while True:
        p = await c.next_presence(what="presence from the room")
        if p["from"].bare != "%s@%s" % (room, SVC):
            continue
        if p["type"] == "error":
            return others, p
        if 110 in codes(p):
            return others, p
        others.append(p)


async def subject_msg(c):
    return await c.next_message(match=lambda m: m.xml.find(
        "{jabber:client}subject") is not None, what="the subject")


async def configure(c, rjid, **conf):
    """Submits the owner's form with these muc#roomconfig_ fields."""
    fields = "".join("<field var='muc#roomconfig_%s'><value>%s</value>"
                     "</field>" % kv for kv in conf.items())
    return await c.iq("<query xmlns='%s'><x xmlns='%s' type='submit'>%s"
                      "</x></query>" % (NS_OWNER, NS_XDATA, fields),
                      to=rjid, type_="set")


async def create(c, room, nick="owner", conf=None):
    """A room made and configured (instant, or with conf fields)."""
    join_raw(c, room, nick)
    _, me = await self_presence(c, room, nick)
    assert codes(me) == [201, 110], str(me)
    await subject_msg(c)
    r = await configure(c, "%s@%s" % (room, SVC), **(conf or {}))
    assert r["type"] == "result", str(r)
    return "%s@%s" % (room, SVC)


async def join(c, room, nick, extra=""):
    join_raw(c, room, nick, extra)
    others, me = await self_presence(c, room, nick)
    assert me["type"] != "error", str(me)
    return others, me


def groupchat(c, rjid, body):
    mid = uniq("g")
    c.send_raw("<message to='%s' type='groupchat' id='%s'><body>%s</body>"
               "</message>" % (rjid, mid, body))
    return mid


async def next_body(c, body):
    return await c.next_message(match=lambda m: m["body"] == body,
                                what="message %r" % body)


# ---------------------------------------------------------------------------

async def test_disco(msrv, clients):
    """The host lists the service; it is conference/text with the MUC
    feature; public rooms are its items, hidden ones are not; a room's
    disco#info has the MUC features and the muc#roominfo form."""
    o = await login(msrv, clients)
    r = await o.iq("<query xmlns='%s'/>" % NS_ITEMS, to=DOMAIN)
    assert SVC in [i.get("jid") for i in r.xml.iter("{%s}item" % NS_ITEMS)]
    info = await o["xep_0030"].get_info(jid=SVC)
    assert ("conference", "text") in [i[:2] for i in
                                      info["disco_info"]["identities"]]
    assert NS_MUC in info["disco_info"]["features"]
    pub = await create(o, uniq("pub"), conf={"roomname": "Public one",
                                              "roomdesc": "About it"})
    hid = await create(o, uniq("hid"), "o2", conf={"publicroom": "0"})
    r = await o.iq("<query xmlns='%s'/>" % NS_ITEMS, to=SVC)
    found = {i.get("jid"): i.get("name") for i in
             r.xml.iter("{%s}item" % NS_ITEMS)}
    assert found.get(pub) == "Public one" and hid not in found, found
    info = await o["xep_0030"].get_info(jid=pub)
    feats = info["disco_info"]["features"]
    for f in (NS_MUC, "muc_public", "muc_temporary", "muc_open",
              "muc_semianonymous", "muc_unsecured", "muc_unmoderated",
              NS_SID, NS_OCC):
        assert f in feats, (f, feats)
    s = str(info)
    assert "muc#roominfo" in s and "About it" in s, s
    assert "<value>1</value>" in s, s     # one occupant
    assert "muc_hidden" in (await o["xep_0030"].get_info(jid=hid))[
        "disco_info"]["features"]


async def test_join_order_message_leave(msrv, clients):
    """7.2.3: the others' presence first, the self-presence last with 110
    as its last status; then the subject; a groupchat message reaches
    everyone (the sender too) from room/nick with the room's stanza-id
    and an occupant id; 7.14 leaving is unavailable with 110 to oneself
    and without to the others; a closed session leaves."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    room = uniq("r")
    rjid = await create(a, room, "alice")
    others, me = await join(b, room, "bob")
    assert [p["from"].resource for p in others] == ["alice"], others
    assert codes(me)[-1] == 110, str(me)
    assert item(me).get("role") == "participant"
    assert item(me).get("affiliation") == "none"
    await subject_msg(b)
    p = await a.next_presence(match=lambda p: p["from"].resource == "bob")
    # a moderator sees real JIDs in a semi-anonymous room, others do not
    assert 110 not in codes(p) and item(p).get("jid") == b.boundjid.full
    assert item(others[0]).get("jid") is None, str(others[0])
    groupchat(b, rjid, "hello room")
    for c in (a, b):
        m = await next_body(c, "hello room")
        assert m["from"] == rjid + "/bob" and m["type"] == "groupchat"
        sid = m.xml.find("{%s}stanza-id" % NS_SID)
        assert sid is not None and sid.get("by") == rjid, str(m)
        assert m.xml.find("{%s}occupant-id" % NS_OCC) is not None, str(m)
    # a claimed stanza-id is removed, ours put in
    b.send_raw("<message to='%s' type='groupchat'><body>x</body><stanza-id "
               "xmlns='%s' by='%s' id='fake'/></message>" % (rjid, NS_SID,
                                                            rjid))
    m = await next_body(a, "x")
    ids = m.xml.findall("{%s}stanza-id" % NS_SID)
    assert len(ids) == 1 and ids[0].get("id") != "fake", str(m)
    b.send_raw("<presence to='%s/bob' type='unavailable'/>" % rjid)
    p = await b.next_presence(match=lambda p: p["type"] == "unavailable")
    assert codes(p) == [110], str(p)
    p = await a.next_presence(match=lambda p: p["type"] == "unavailable")
    assert p["from"].resource == "bob" and codes(p) == [], str(p)
    # presence to a room one is not in, after leaving: not-acceptable
    b.send_raw("<message to='%s' type='groupchat'><body>gone</body>"
               "</message>" % rjid)
    m = await b.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "not-acceptable", str(m)
    # a session that ends leaves
    await join(b, room, "bob")
    b.disconnect()
    p = await a.next_presence(match=lambda p: p["type"] == "unavailable")
    assert p["from"].resource == "bob", str(p)


async def test_history_and_subject(msrv, clients):
    """7.2.15 the subject after the history; 8.1 a participant changes it
    when allowed, not when changesubject is off (forbidden), an oversized
    one is not-acceptable; 7.2.14 history with maxstanzas, maxchars 0
    (none), a since to come (none), seconds (all) and the XEP-0203 delay
    from the room."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    room = uniq("h")
    rjid = await create(a, room, "alice")
    for i in range(4):
        groupchat(a, rjid, "old %d" % i)
        await next_body(a, "old %d" % i)
    a.send_raw("<message to='%s' type='groupchat'><subject>Topic one"
               "</subject></message>" % rjid)
    m = await subject_msg(a)
    assert m["subject"] == "Topic one" and m["from"] == rjid + "/alice"
    await join(b, room, "bob", "<history maxstanzas='2'/>")
    got = []
    while True:
        m = await b.next_message(what="history then subject")
        if m.xml.find("{jabber:client}subject") is not None:
            break
        got.append(m)
    assert [m["body"] for m in got] == ["old 2", "old 3"], got
    d = got[0].xml.find("{urn:xmpp:delay}delay")
    assert d is not None and d.get("from") == rjid, str(got[0])
    assert m["subject"] == "Topic one", str(m)
    # a participant may change it by default
    b.send_raw("<message to='%s' type='groupchat'><subject>Bob's"
               "</subject></message>" % rjid)
    m = await subject_msg(a)
    assert m["subject"] == "Bob's" and m["from"].resource == "bob"
    b.send_raw("<message to='%s' type='groupchat'><subject>%s</subject>"
               "</message>" % (rjid, "x" * 2000))
    m = await b.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "not-acceptable", str(m)
    r = await configure(a, rjid, changesubject="0")
    assert r["type"] == "result", str(r)
    b.send_raw("<message to='%s' type='groupchat'><subject>no</subject>"
               "</message>" % rjid)
    m = await b.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "forbidden", str(m)
    # maxchars 0, or a since in the future: no history at all, the
    # subject still comes; seconds of an hour: all of it
    c = await login(msrv, clients)
    for i, h in enumerate(("maxchars='0'",
                           "since='2999-01-01T00:00:00Z'",
                           "seconds='3600'")):
        await join(c, room, "carol%d" % i, "<history %s/>" % h)
        got = []
        while True:
            m = await c.next_message()
            if m.xml.find("{jabber:client}subject") is not None:
                break
            got.append(m["body"])
        assert got == ([] if i < 2 else ["old 0", "old 1", "old 2",
                                         "old 3"]), (h, got)
        c.send_raw("<presence to='%s/carol%d' type='unavailable'/>"
                   % (rjid, i))
        await c.next_presence(match=lambda p: p["type"] == "unavailable"
                              and 110 in codes(p))


async def test_private_messages_and_nick_change(msrv, clients):
    """7.5 a private message to room/nick reaches the occupant from the
    sender's occupant JID; to a nick not there: item-not-found; type
    groupchat to an occupant: bad-request; allowpm none: not-allowed.
    7.6 a nick change: unavailable with 303 and the new nick, then the
    new presence; a taken nick: conflict (409)."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    room = uniq("p")
    rjid = await create(a, room, "alice")
    await join(b, room, "bob")
    await subject_msg(b)
    b.send_raw("<message to='%s/alice' type='chat'><body>psst</body>"
               "</message>" % rjid)
    m = await next_body(a, "psst")
    assert m["from"] == rjid + "/bob" and m["type"] == "chat", str(m)
    assert m.xml.find("{%s}x" % NS_USER) is not None, str(m)
    b.send_raw("<message to='%s/nobody' type='chat'><body>?</body>"
               "</message>" % rjid)
    m = await b.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "item-not-found", str(m)
    b.send_raw("<message to='%s/alice' type='groupchat'><body>?</body>"
               "</message>" % rjid)
    m = await b.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "bad-request", str(m)
    # nick change
    a.pending()
    b.send_raw("<presence to='%s/robert'/>" % rjid)
    p = await a.next_presence(match=lambda p: p["type"] == "unavailable")
    assert p["from"].resource == "bob" and codes(p) == [303], str(p)
    assert item(p).get("nick") == "robert", str(p)
    p = await a.next_presence()
    assert p["from"].resource == "robert" and p["type"] == "available"
    p = await b.next_presence(match=lambda p: p["type"] == "unavailable")
    assert codes(p) == [303, 110], str(p)
    b.send_raw("<presence to='%s/alice'/>" % rjid)
    p = await b.next_presence(match=lambda p: p["type"] == "error")
    assert error_of(p) == "conflict", str(p)
    # a join with a taken nick: conflict
    c = await login(msrv, clients)
    join_raw(c, room, "alice")
    _, p = await self_presence(c, room, "alice")
    assert p["type"] == "error" and error_of(p) == "conflict", str(p)
    # private messages off
    r = await configure(a, rjid, allowpm="none")
    assert r["type"] == "result", str(r)
    b.send_raw("<message to='%s/alice' type='chat'><body>no</body>"
               "</message>" % rjid)
    m = await b.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "not-allowed", str(m)


async def test_kick_ban_and_affiliations(msrv, clients):
    """8.2 a moderator kicks a participant (307, the reason and the
    actor), 9.1 an admin bans (301), the banned may not join again
    (forbidden); a participant may not kick (not-allowed); 9.5 the
    outcast list; 10.6 the last owner stays (conflict)."""
    a, b, c = (await login(msrv, clients) for _ in range(3)) \
        if False else (await login(msrv, clients),
                       await login(msrv, clients),
                       await login(msrv, clients))
    room = uniq("k")
    rjid = await create(a, room, "alice")
    await join(b, room, "bob")
    await join(c, room, "carol")
    r = await b.iq("<query xmlns='%s'><item nick='carol' role='none'/>"
                   "</query>" % NS_ADMIN, to=rjid, type_="set")
    assert r["type"] == "error" and error_of(r) == "not-allowed", str(r)
    a.pending()
    r = await a.iq("<query xmlns='%s'><item nick='bob' role='none'>"
                   "<reason>noise</reason></item></query>" % NS_ADMIN,
                   to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    p = await b.next_presence(match=lambda p: p["type"] == "unavailable")
    assert codes(p) == [307, 110], str(p)
    assert item(p).find("{%s}reason" % NS_USER).text == "noise"
    assert item(p).find("{%s}actor" % NS_USER).get("nick") == "alice"
    p = await c.next_presence(match=lambda p: p["type"] == "unavailable")
    assert p["from"].resource == "bob" and codes(p) == [307], str(p)
    # ban
    r = await a.iq("<query xmlns='%s'><item jid='%s' affiliation="
                   "'outcast'/></query>" % (NS_ADMIN, c.boundjid.bare),
                   to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    p = await c.next_presence(match=lambda p: p["type"] == "unavailable")
    assert codes(p) == [301, 110] and item(p).get("affiliation") == \
        "outcast", str(p)
    join_raw(c, room, "carol")
    _, p = await self_presence(c, room, "carol")
    assert p["type"] == "error" and error_of(p) == "forbidden", str(p)
    r = await a.iq("<query xmlns='%s'><item affiliation='outcast'/>"
                   "</query>" % NS_ADMIN, to=rjid)
    assert c.boundjid.bare in str(r), str(r)
    r = await a.iq("<query xmlns='%s'><item jid='%s' affiliation='none'/>"
                   "</query>" % (NS_ADMIN, a.boundjid.bare), to=rjid,
                   type_="set")
    assert r["type"] == "error" and error_of(r) == "conflict", str(r)
    # an owner (with another owner) bans itself, the last occupant of a
    # temporary room: it is told, the room goes, the answer still comes
    r = await a.iq("<query xmlns='%s'><item jid='other@%s' affiliation="
                   "'owner'/></query>" % (NS_ADMIN, DOMAIN), to=rjid,
                   type_="set")
    assert r["type"] == "result", str(r)
    a.pending()
    r = await a.iq("<query xmlns='%s'><item jid='%s' affiliation="
                   "'outcast'/></query>" % (NS_ADMIN, a.boundjid.bare),
                   to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    p = await a.next_presence(match=lambda p: p["type"] == "unavailable")
    assert codes(p) == [301, 110], str(p)
    r = await a.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=rjid)
    assert error_of(r) == "item-not-found", str(r)


async def test_members_only_password_moderated(msrv, clients):
    """7.2.7 members-only: a non-member gets registration-required, a
    member joins; 7.2.6 a password: none or a wrong one is
    not-authorized, the right one joins; 7.2.8 moderated: a newcomer is a
    visitor whose groupchat is forbidden until given voice; a voice
    request (7.13) reaches the moderator, whose approval (8.6) gives it."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    room = uniq("m")
    rjid = await create(a, room, "alice", conf={"membersonly": "1"})
    join_raw(b, room, "bob")
    _, p = await self_presence(b, room, "bob")
    assert error_of(p) == "registration-required", str(p)
    r = await a.iq("<query xmlns='%s'><item jid='%s' affiliation="
                   "'member'/></query>" % (NS_ADMIN, b.boundjid.bare),
                   to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    _, me = await join(b, room, "bob")
    assert item(me).get("affiliation") == "member", str(me)
    room = uniq("pw")
    rjid = await create(a, room, "alice", conf={
        "passwordprotectedroom": "1", "roomsecret": "sesame"})
    for extra in ("", "<password>wrong</password>"):
        join_raw(b, room, "bob", extra)
        _, p = await self_presence(b, room, "bob")
        assert error_of(p) == "not-authorized", str(p)
    await join(b, room, "bob", "<password>sesame</password>")
    room = uniq("mod")
    rjid = await create(a, room, "alice", conf={"moderatedroom": "1"})
    _, me = await join(b, room, "bob")
    assert item(me).get("role") == "visitor", str(me)
    await subject_msg(b)
    groupchat(b, rjid, "may I?")
    m = await b.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "forbidden", str(m)
    b.send_raw("<message to='%s'><x xmlns='%s' type='submit'><field "
               "var='FORM_TYPE'><value>%s#request</value></field><field "
               "var='muc#role'><value>participant</value></field></x>"
               "</message>" % (rjid, NS_XDATA, NS_MUC))
    m = await a.next_message(match=lambda m: "muc#request" in str(m))
    assert b.boundjid.bare in str(m) and m["from"] == rjid, str(m)
    # 8.6: the moderator approves with the form
    a.send_raw("<message to='%s'><x xmlns='%s' type='submit'><field "
               "var='FORM_TYPE'><value>%s#request</value></field><field "
               "var='muc#roomnick'><value>bob</value></field><field "
               "var='muc#request_allow'><value>true</value></field></x>"
               "</message>" % (rjid, NS_XDATA, NS_MUC))
    p = await b.next_presence(match=lambda p: item(p) is not None and
                              item(p).get("role") == "participant")
    groupchat(b, rjid, "thanks")
    await next_body(a, "thanks")
    # 8.4: a moderator revokes voice with muc#admin
    r = await a.iq("<query xmlns='%s'><item nick='bob' role='visitor'/>"
                   "</query>" % NS_ADMIN, to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    await b.next_presence(match=lambda p: item(p) is not None and
                          item(p).get("role") == "visitor")
    groupchat(b, rjid, "again?")
    m = await b.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "forbidden", str(m)


async def test_errors(msrv, clients):
    """Presence to a room with no nick: jid-malformed; a message to a
    room one is not in: not-acceptable; to a room that does not exist:
    item-not-found; an IQ to a room that does not exist: item-not-found;
    a configuration form with an unknown field: bad-request, with a bad
    value: not-acceptable; a non-owner asking for the form: forbidden;
    a locked room refuses others (item-not-found); chat to the room
    itself: bad-request."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    room = uniq("e")
    a.send_raw("<presence to='%s@%s'><x xmlns='%s'/></presence>"
               % (room, SVC, NS_MUC))
    p = await a.next_presence(match=lambda p: p["type"] == "error")
    assert error_of(p) == "jid-malformed", str(p)
    join_raw(a, room, "alice")
    _, me = await self_presence(a, room, "alice")
    assert codes(me) == [201, 110]
    rjid = "%s@%s" % (room, SVC)
    join_raw(b, room, "bob")       # locked until configured
    _, p = await self_presence(b, room, "bob")
    assert error_of(p) == "item-not-found", str(p)
    r = await a.iq("<query xmlns='%s'/>" % NS_OWNER, to=rjid)
    assert "muc#roomconfig_roomname" in str(r), str(r)
    r = await configure(a, rjid, nosuch="1")
    assert error_of(r) == "bad-request", str(r)
    r = await configure(a, rjid, maxusers="many")
    assert error_of(r) == "not-acceptable", str(r)
    r = await configure(a, rjid)
    assert r["type"] == "result"
    await join(b, room, "bob")
    r = await b.iq("<query xmlns='%s'/>" % NS_OWNER, to=rjid)
    assert error_of(r) == "forbidden", str(r)
    b.send_raw("<message to='%s' type='chat'><body>hi</body></message>"
               % rjid)
    m = await b.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "bad-request", str(m)
    c = await login(msrv, clients)
    c.send_raw("<message to='%s' type='groupchat'><body>hi</body>"
               "</message>" % rjid)
    m = await c.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "not-acceptable", str(m)
    c.send_raw("<message to='%s@%s' type='groupchat'><body>hi</body>"
               "</message>" % (uniq("none"), SVC))
    m = await c.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "item-not-found", str(m)
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO,
                   to="%s@%s" % (uniq("none"), SVC))
    assert error_of(r) == "item-not-found", str(r)


async def test_rate_limit(msrv, clients):
    """muc-rate (20 per 10 s here): past it a groupchat message is
    refused with resource-constraint, never dropped silently."""
    a = await login(msrv, clients)
    room = uniq("rate")
    rjid = await create(a, room, "alice")
    for i in range(20):
        groupchat(a, rjid, "m%d" % i)
    for i in range(20):
        await next_body(a, "m%d" % i)
    groupchat(a, rjid, "one too many")
    m = await a.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "resource-constraint", str(m)


async def test_invitations(msrv, clients):
    """7.8.2 a mediated invitation reaches the invitee from the room with
    the inviter's JID and the reason; 7.8.3 its decline reaches the
    inviter; allowinvites off: a participant's is forbidden; XEP-0249 a
    direct invitation passes between clients."""
    a, b, c = (await login(msrv, clients), await login(msrv, clients),
               await login(msrv, clients))
    room = uniq("inv")
    rjid = await create(a, room, "alice")
    await join(b, room, "bob")
    b.send_raw("<message to='%s'><x xmlns='%s'><invite to='%s'><reason>"
               "come</reason></invite></x></message>"
               % (rjid, NS_USER, c.boundjid.bare))
    m = await c.next_message(match=lambda m: "invite" in str(m))
    inv = m.xml.find("{%s}x/{%s}invite" % (NS_USER, NS_USER))
    assert m["from"] == rjid and inv.get("from") == b.boundjid.bare
    assert inv.find("{%s}reason" % NS_USER).text == "come", str(m)
    c.send_raw("<message to='%s'><x xmlns='%s'><decline to='%s'><reason>"
               "busy</reason></decline></x></message>"
               % (rjid, NS_USER, b.boundjid.bare))
    m = await b.next_message(match=lambda m: "decline" in str(m))
    dec = m.xml.find("{%s}x/{%s}decline" % (NS_USER, NS_USER))
    assert dec.get("from") == c.boundjid.bare, str(m)
    # a decline is no relay: to someone not of the room, not-acceptable
    c.send_raw("<message to='%s'><x xmlns='%s'><decline to='x@%s'/></x>"
               "</message>" % (rjid, NS_USER, DOMAIN))
    m = await c.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "not-acceptable", str(m)
    r = await configure(a, rjid, allowinvites="0")
    assert r["type"] == "result"
    b.send_raw("<message to='%s'><x xmlns='%s'><invite to='%s'/></x>"
               "</message>" % (rjid, NS_USER, c.boundjid.bare))
    m = await b.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "forbidden", str(m)
    b["xep_0249"].send_invitation(c.boundjid.bare, rjid, reason="direct")
    m = await c.next_message(match=lambda m: "jabber:x:conference"
                             in str(m))
    assert m["from"].bare == b.boundjid.bare and rjid in str(m), str(m)


async def test_register_destroy_selfping(msrv, clients):
    """7.10 nick registration (the form, the registered nick, another
    account's join with it: conflict); XEP-0410 a ping to one's own
    occupant JID is answered, from outside the room it is
    not-acceptable; an IQ to another occupant is relayed and answered;
    10.9 destroy: everyone gets unavailable with the destroy element,
    the reason and the alternate venue. A temporary
    room's archive goes with it: a room made again under its name has
    no history."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    room = uniq("reg")
    rjid = await create(a, room, "alice")
    r = await b.iq("<query xmlns='jabber:iq:register'/>", to=rjid)
    assert "muc#register_roomnick" in str(r), str(r)
    r = await b.iq("<query xmlns='jabber:iq:register'><x xmlns='%s' "
                   "type='submit'><field var='FORM_TYPE'><value>%s#register"
                   "</value></field><field var='muc#register_roomnick'>"
                   "<value>Bobby</value></field></x></query>"
                   % (NS_XDATA, NS_MUC), to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    r = await b.iq("<query xmlns='jabber:iq:register'/>", to=rjid)
    assert "<registered" in str(r) and "Bobby" in str(r), str(r)
    c = await login(msrv, clients)
    join_raw(c, room, "Bobby")
    _, p = await self_presence(c, room, "Bobby")
    assert error_of(p) == "conflict", str(p)
    await join(b, room, "Bobby")
    r = await b.iq("<ping xmlns='urn:xmpp:ping'/>", to=rjid + "/Bobby")
    assert r["type"] == "result", str(r)
    r = await c.iq("<ping xmlns='urn:xmpp:ping'/>", to=rjid + "/Bobby")
    assert error_of(r) == "not-acceptable", str(r)
    # an IQ to another occupant goes to it and its answer comes back,
    # both between occupant JIDs; to no such nick: item-not-found
    r = await b.iq("<query xmlns='jabber:iq:version'/>", to=rjid + "/alice")
    assert r["type"] == "result" and r["from"] == rjid + "/alice", str(r)
    assert r.xml.find("{jabber:iq:version}query/{jabber:iq:version}name") \
        is not None, str(r)
    r = await b.iq("<query xmlns='jabber:iq:version'/>", to=rjid + "/nobody")
    assert error_of(r) == "item-not-found", str(r)
    b.pending()
    r = await a.iq("<query xmlns='%s'><destroy jid='elsewhere@%s'><reason>"
                   "moving</reason></destroy></query>" % (NS_OWNER, SVC),
                   to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    p = await b.next_presence(match=lambda p: p["type"] == "unavailable")
    d = p.xml.find("{%s}x/{%s}destroy" % (NS_USER, NS_USER))
    assert d is not None and d.get("jid") == "elsewhere@" + SVC, str(p)
    assert d.find("{%s}reason" % NS_USER).text == "moving", str(p)
    r = await b.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=rjid)
    assert error_of(r) == "item-not-found", str(r)
    # a room made again under the name has none of the old history
    groupchat(a, rjid, "never seen")
    await a.next_message(match=lambda m: m["type"] == "error")
    room2 = uniq("again")
    r2 = await create(a, room2, "alice")
    groupchat(a, r2, "old")
    await next_body(a, "old")
    a.send_raw("<presence to='%s/alice' type='unavailable'/>" % r2)
    await a.next_presence(match=lambda p: p["type"] == "unavailable")
    await create(a, room2, "alice")
    await join(b, room2, "bob")
    m = await b.next_message()
    assert m.xml.find("{jabber:client}subject") is not None, str(m)


async def test_moderation_and_avatar(msrv, clients):
    """XEP-0425: a moderator retracts a message by its stanza-id: all
    get the retraction, a newcomer's history and the room's archive no
    longer have it; a
    participant may not (forbidden). The owner sets the room's vCard;
    its photo's hash is in the occupants' presence and roominfo."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    room = uniq("mod")
    rjid = await create(a, room, "alice")
    _, me = await join(b, room, "bob")
    assert codes(me, logged=True) == [170, 110], str(me)
    groupchat(b, rjid, "spam")
    m = await next_body(a, "spam")
    sid = m.xml.find("{%s}stanza-id" % NS_SID).get("id")
    payload = ("<moderate xmlns='urn:xmpp:message-moderate:1' id='%s'>"
               "<retract xmlns='urn:xmpp:message-retract:1'/><reason>bad"
               "</reason></moderate>" % sid)
    r = await b.iq(payload, to=rjid, type_="set")
    assert error_of(r) == "forbidden", str(r)
    r = await a.iq(payload, to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    m = await b.next_message(match=lambda m: "retract" in str(m))
    ret = m.xml.find("{urn:xmpp:message-retract:1}retract")
    assert ret.get("id") == sid, str(m)
    # gone from the room's archive too; twice: item-not-found
    r = await a.iq("<query xmlns='urn:xmpp:mam:2'/>", to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    await a.fence()
    assert not any("spam" in x and "urn:xmpp:mam:2" in x
                   for x in a.pending())
    r = await a.iq(payload, to=rjid, type_="set")
    assert error_of(r) == "item-not-found", str(r)
    c = await login(msrv, clients)
    await join(c, room, "carol")
    m = await c.next_message()
    assert m.xml.find("{jabber:client}subject") is not None, str(m)
    # the room's avatar
    r = await a.iq("<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE>"
                   "<BINVAL>aGVsbG8=</BINVAL></PHOTO></vCard>", to=rjid,
                   type_="set")
    assert r["type"] == "result", str(r)
    p = await c.next_presence(match=lambda p: "vcard-temp:x:update"
                              in str(p))
    # sha1("hello")
    assert "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d" in str(p), str(p)
    r = await c.iq("<vCard xmlns='vcard-temp'/>", to=rjid)
    assert "aGVsbG8=" in str(r), str(r)
    r = await c.iq("<vCard xmlns='vcard-temp'/>", to=rjid, type_="set")
    assert error_of(r) == "forbidden", str(r)


async def test_multi_session_and_slixmpp(msrv, clients):
    """Two sessions of one account behind one nick: the second gets the
    room's state and the first's messages reach both; when one leaves
    the others see nothing; slixmpp's xep_0045 joins and an echo bot
    answers groupchat messages."""
    u = msrv.new_user()
    a1 = await login(msrv, clients, u)
    a2 = await login(msrv, clients, u)
    o = await login(msrv, clients)
    room = uniq("ms")
    rjid = await create(o, room, "owner")
    await join(a1, room, "me")
    await o.fence()
    o.pending()
    others, me = await join(a2, room, "me")
    assert [p["from"].resource for p in others] == ["owner"], others
    groupchat(o, rjid, "to both")
    await next_body(a1, "to both")
    await next_body(a2, "to both")
    a2.send_raw("<presence to='%s/me' type='unavailable'/>" % rjid)
    p = await a2.next_presence(match=lambda p: p["type"] == "unavailable")
    assert codes(p) == [110], str(p)
    await next_body(o, "to both")
    await o.quiet(0.5)
    # slixmpp's plugin, and an echo bot
    bot = await login(msrv, clients)

    def echo(msg):
        if msg["mucnick"] != "bot" and msg["body"].startswith("ping"):
            bot.send_message(mto=msg["from"].bare, mbody="pong",
                             mtype="groupchat")
    bot.add_event_handler("groupchat_message", echo)
    await bot["xep_0045"].join_muc_wait(rjid, "bot", maxstanzas=0)
    groupchat(o, rjid, "ping bot")
    m = await next_body(o, "pong")
    assert m["from"] == rjid + "/bot", str(m)


async def test_persistent_room_survives_restart(make_server, clients):
    """A persistent room, its configuration, subject, affiliations,
    registered nicks and vCard survive a restart (it is listed and joins
    as configured); a temporary one does not; a room made temporary
    again is forgotten."""
    srv = make_server(host_options={DOMAIN: {"muc": "yes"}})
    ua, ub = srv.new_user(), srv.new_user()
    a, b = await login(srv, clients, ua), await login(srv, clients, ub)
    room, tmp, gone = uniq("keep"), uniq("tmp"), uniq("gone")
    rjid = await create(a, room, "alice", conf={
        "persistentroom": "1", "roomname": "Kept", "membersonly": "1"})
    await create(a, tmp, "a2")
    g = await create(a, gone, "a3", conf={"persistentroom": "1"})
    r = await configure(a, g, persistentroom="0")
    assert r["type"] == "result", str(r)
    a.send_raw("<message to='%s' type='groupchat'><subject>Kept topic"
               "</subject></message>" % rjid)
    await subject_msg(a)
    r = await a.iq("<query xmlns='%s'><item jid='%s' affiliation="
                   "'member'/></query>" % (NS_ADMIN, b.boundjid.bare),
                   to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    r = await a.iq("<vCard xmlns='vcard-temp'><PHOTO><BINVAL>aGVsbG8="
                   "</BINVAL></PHOTO></vCard>", to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    groupchat(a, rjid, "before the restart")
    await next_body(a, "before the restart")
    srv.restart()
    a, b = await login(srv, clients, ua), await login(srv, clients, ub)
    r = await a.iq("<query xmlns='%s'/>" % NS_ITEMS, to=SVC)
    found = {i.get("jid"): i.get("name") for i in
             r.xml.iter("{%s}item" % NS_ITEMS)}
    assert found == {rjid: "Kept"}, found
    # the member joins the members-only room: no 201, the history (from
    # the room's archive) and the subject kept
    _, me = await join(b, room, "bob")
    assert codes(me) == [110] and item(me).get("affiliation") == "member"
    m = await b.next_message()
    assert m["body"] == "before the restart", str(m)
    assert m.xml.find("{%s}stanza-id" % NS_SID) is not None, str(m)
    assert m.xml.find("{urn:xmpp:delay}delay") is not None, str(m)
    m = await subject_msg(b)
    assert m["subject"] == "Kept topic", str(m)
    _, me = await join(a, room, "alice")
    assert item(me).get("affiliation") == "owner", str(me)
    r = await a.iq("<vCard xmlns='vcard-temp'/>", to=rjid)
    assert "aGVsbG8=" in str(r), str(r)
    info = await a["xep_0030"].get_info(jid=rjid)
    assert "muc_persistent" in info["disco_info"]["features"]
    # the room stays when its occupants leave
    for c, n in ((a, "alice"), (b, "bob")):
        c.send_raw("<presence to='%s/%s' type='unavailable'/>" % (rjid, n))
        await c.next_presence(match=lambda p: p["type"] == "unavailable"
                              and 110 in codes(p))
    info = await a["xep_0030"].get_info(jid=rjid)
    assert "muc_persistent" in info["disco_info"]["features"]


async def test_remote_occupant(make_server, tmp_path_factory, clients):
    """A user of b.test (another server, over s2s) joins a room of
    conference.a.test: it gets the presence of the local occupant, its
    own with 110, the subject; groupchat messages flow both ways and
    private messages reach it; its leaving reaches the local occupant."""
    from conftest import STANZA_TIMEOUT
    from test_s2s import pair, user
    svc = "conference.a.test"
    a, b = pair(make_server, tmp_path_factory, a_host_options={"muc": "yes"},
                b_routes=[svc])
    ua, ub = user(a, "a.test", "ma"), user(b, "b.test", "mb")
    la, rb = await login(a, clients, ua), await login(b, clients, ub)
    room = uniq("fed")
    rjid = "%s@%s" % (room, svc)
    la.send_raw("<presence to='%s/local'><x xmlns='%s'/></presence>"
                % (rjid, NS_MUC))
    p = await la.next_presence(match=lambda p: 110 in codes(p))
    assert codes(p) == [201, 110], str(p)
    r = await la.iq("<query xmlns='%s'><x xmlns='%s' type='submit'/>"
                    "</query>" % (NS_OWNER, NS_XDATA), to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    slow = 3 * STANZA_TIMEOUT
    rb.send_raw("<presence to='%s/far'><x xmlns='%s'/></presence>"
                % (rjid, NS_MUC))
    p = await rb.next_presence(timeout=slow, what="the local occupant")
    assert p["from"] == rjid + "/local", str(p)
    p = await rb.next_presence(timeout=slow, what="the self-presence")
    assert p["from"] == rjid + "/far" and codes(p) == [110], str(p)
    await rb.next_message(match=lambda m: m.xml.find(
        "{jabber:client}subject") is not None, timeout=slow)
    p = await la.next_presence(match=lambda p: p["from"].resource == "far",
                               timeout=slow)
    assert item(p).get("jid") == rb.boundjid.full, str(p)
    groupchat(la, rjid, "hello far")
    m = await rb.next_message(match=lambda m: m["body"] == "hello far",
                              timeout=slow)
    assert m["from"] == rjid + "/local", str(m)
    groupchat(rb, rjid, "hello near")
    m = await la.next_message(match=lambda m: m["body"] == "hello near",
                              timeout=slow)
    assert m["from"] == rjid + "/far", str(m)
    la.send_raw("<message to='%s/far' type='chat'><body>psst</body>"
                "</message>" % rjid)
    m = await rb.next_message(match=lambda m: m["body"] == "psst",
                              timeout=slow)
    assert m["from"] == rjid + "/local", str(m)
    rb.send_raw("<presence to='%s/far' type='unavailable'/>" % rjid)
    p = await la.next_presence(match=lambda p: p["type"] == "unavailable",
                               timeout=slow)
    assert p["from"].resource == "far", str(p)
    # only a.test's own users create rooms (muc-create local)
    rb.send_raw("<presence to='%s@%s/far'><x xmlns='%s'/></presence>"
                % (uniq("theirs"), svc, NS_MUC))
    p = await rb.next_presence(match=lambda p: p["type"] == "error",
                               timeout=slow)
    assert error_of(p) == "not-allowed", str(p)


async def test_room_archive(msrv, clients):
    """XEP-0313 on the room's JID: the room's messages, forwarded from
    their occupant JIDs, with the room's stanza-id as the result id; the
    query form; a room made members-only removes those not members
    (322) and its archive is then its members' (forbidden to others);
    the room lists urn:xmpp:mam:2."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    room = uniq("arc")
    rjid = await create(a, room, "alice")
    ids = []
    for t in ("first", "second"):
        groupchat(a, rjid, t)
        m = await next_body(a, t)
        ids.append(m.xml.find("{%s}stanza-id" % NS_SID).get("id"))
    info = await b["xep_0030"].get_info(jid=rjid)
    assert "urn:xmpp:mam:2" in info["disco_info"]["features"]
    r = await b.iq("<query xmlns='urn:xmpp:mam:2' queryid='q1'/>",
                   to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    assert r.xml.find("{urn:xmpp:mam:2}fin") is not None, str(r)
    got = []
    while len(got) < 2:
        m = await b.next_message(match=lambda m: "urn:xmpp:mam:2" in str(m))
        res = m.xml.find("{urn:xmpp:mam:2}result")
        assert m["from"] == rjid and res.get("queryid") == "q1", str(m)
        fwd = res.find("{urn:xmpp:forward:0}forwarded/{jabber:client}"
                       "message")
        assert fwd.get("from") == rjid + "/alice", str(m)
        got.append((res.get("id"), fwd.find("{jabber:client}body").text))
    assert got == list(zip(ids, ["first", "second"])), got
    r = await b.iq("<query xmlns='urn:xmpp:mam:2'/>", to=rjid)
    assert "jabber:x:data" in str(r), str(r)
    # 9.9: made members-only, the room removes those not members (322)
    await join(b, room, "bob")
    r = await configure(a, rjid, membersonly="1")
    assert r["type"] == "result"
    p = await b.next_presence(match=lambda p: p["type"] == "unavailable")
    assert codes(p) == [322, 110], str(p)
    r = await b.iq("<query xmlns='urn:xmpp:mam:2'/>", to=rjid, type_="set")
    assert error_of(r) == "forbidden", str(r)


async def test_history_without_archive(make_server, clients):
    """With archive off the history is the room's in-memory ring of
    historylength messages; maxstanzas picks the newest; a retracted
    message leaves it."""
    srv = make_server(host_options={DOMAIN: {"muc": "yes"}}, archive="no")
    a, b = await login(srv, clients), await login(srv, clients)
    room = uniq("ring")
    rjid = await create(a, room, "alice", conf={"historylength": "3"})
    sids = {}
    for i in range(5):
        groupchat(a, rjid, "n%d" % i)
        m = await next_body(a, "n%d" % i)
        sids[i] = m.xml.find("{%s}stanza-id" % NS_SID).get("id")
    r = await a.iq("<moderate xmlns='urn:xmpp:message-moderate:1' id='%s'>"
                   "<retract xmlns='urn:xmpp:message-retract:1'/>"
                   "</moderate>" % sids[3], to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    _, me = await join(b, room, "bob", "<history maxstanzas='5'/>")
    assert codes(me, logged=True) == [110], str(me)  # not archived: no 170
    got = []
    while True:
        m = await b.next_message()
        if m.xml.find("{jabber:client}subject") is not None:
            break
        got.append(m["body"])
    assert got == ["n2", "n4"], got


async def test_limits(make_server, clients):
    """muc-max-occupants: a full room refuses a join with
    service-unavailable; muc-max-rooms-per-user: one more room is
    resource-constraint; muc-config-max-size: a longer room name is
    not-acceptable; a nick that fails resourceprep is jid-malformed."""
    srv = make_server(host_options={DOMAIN: {"muc": "yes"}},
                      muc_max_occupants="2", muc_max_rooms_per_user="1",
                      muc_config_max_size="64")
    a, b, c = (await login(srv, clients), await login(srv, clients),
               await login(srv, clients))
    room = uniq("full")
    rjid = await create(a, room, "alice")
    await join(b, room, "bob")
    join_raw(c, room, "carol")
    _, p = await self_presence(c, room, "carol")
    assert error_of(p) == "service-unavailable", str(p)
    join_raw(a, uniq("second"), "alice")
    p = await a.next_presence(match=lambda p: p["type"] == "error")
    assert error_of(p) == "resource-constraint", str(p)
    r = await configure(a, rjid, roomname="x" * 65)
    assert error_of(r) == "not-acceptable", str(r)
    r = await configure(a, rjid, roomname="x" * 64)
    assert r["type"] == "result", str(r)
    c.send_raw("<presence to='%s/bad\ue000nick'><x xmlns='%s'/></presence>"
               % (rjid, NS_MUC))
    p = await c.next_presence(match=lambda p: p["type"] == "error")
    assert error_of(p) == "jid-malformed", str(p)


async def test_non_anonymous(msrv, clients):
    """whois anyone (non-anonymous, 7.2.4): the joining occupant's
    self-presence has 100 (and 170: the room is archived) before 110,
    and a participant sees the others' real JIDs; muc_nonanonymous; a
    configuration change is announced with 104 and 172/173."""
    a, b, c = (await login(msrv, clients), await login(msrv, clients),
               await login(msrv, clients))
    room = uniq("open")
    rjid = await create(a, room, "alice", conf={"whois": "anyone"})
    others, me = await join(b, room, "bob")
    assert codes(me, logged=True) == [100, 170, 110], str(me)
    # 10.2.1: a change is announced: 104, and 173 when JIDs are hidden
    await subject_msg(b)
    r = await configure(a, rjid, whois="moderators")
    assert r["type"] == "result", str(r)
    m = await b.next_message(match=lambda m: m.xml.find(
        "{%s}x" % NS_USER) is not None)
    assert m["from"] == rjid and codes(m) == [104, 173], str(m)
    r = await configure(a, rjid, whois="anyone")
    m = await b.next_message(match=lambda m: m.xml.find(
        "{%s}x" % NS_USER) is not None)
    assert codes(m) == [104, 172], str(m)
    assert item(others[0]).get("jid") == a.boundjid.full, str(others[0])
    await join(c, room, "carol")
    p = await b.next_presence(match=lambda p: p["from"].resource == "carol")
    assert item(p).get("jid") == c.boundjid.full, str(p)
    info = await b["xep_0030"].get_info(jid=rjid)
    assert "muc_nonanonymous" in info["disco_info"]["features"]


@pytest.mark.kills("c2s")
async def test_c2s_crash_leaves_rooms(make_server, clients):
    """The occupants whose c2s process is SIGKILLed leave their room:
    the occupants on the other c2s get their unavailable presence, and
    the room goes on."""
    import os
    import signal
    from test_process import spread_sessions
    srv = make_server(host_options={DOMAIN: {"muc": "yes"}}, workers=2)
    by_pid = await spread_sessions(srv, clients, n=8)
    assert len(by_pid) == 2, "sessions on only one c2s: %s" % list(by_pid)
    victim, survivor = list(by_pid)
    watcher, lost = by_pid[survivor][0], by_pid[victim][:2]
    room = uniq("crash")
    rjid = await create(watcher, room, "watcher")
    nicks = []
    for i, c in enumerate(lost):
        nicks.append("lost%d" % i)
        await join(c, room, nicks[-1])
        await watcher.next_presence(match=lambda p, n=nicks[-1]:
                                    p["from"].resource == n)
    os.kill(victim, signal.SIGKILL)
    gone = set()
    while gone != set(nicks):
        p = await watcher.next_presence(match=lambda p: p["type"] ==
                                        "unavailable", timeout=15)
        gone.add(p["from"].resource)
    groupchat(watcher, rjid, "still here")
    await next_body(watcher, "still here")


async def test_password_flag(msrv, clients):
    """XEP-0045 10.2: the owner's form shows the password-protected
    flag from the room's password and the secret as text-private; the
    flag submitted false clears the password (anyone joins without it),
    a value that is no boolean is not-acceptable."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    room = uniq("pwf")
    rjid = await create(a, room, "alice", conf={
        "passwordprotectedroom": "1", "roomsecret": "sesame"})
    r = await a.iq("<query xmlns='%s'/>" % NS_OWNER, to=rjid)
    fields = {f.get("var"): f for f in r.xml.iter("{%s}field" % NS_XDATA)}
    flag = fields["muc#roomconfig_passwordprotectedroom"]
    assert flag.get("type") == "boolean", str(r)
    assert flag.find("{%s}value" % NS_XDATA).text == "1", str(r)
    assert fields["muc#roomconfig_roomsecret"].get("type") == \
        "text-private", str(r)
    r = await configure(a, rjid, passwordprotectedroom="maybe")
    assert error_of(r) == "not-acceptable", str(r)
    join_raw(b, room, "bob")
    _, p = await self_presence(b, room, "bob")
    assert error_of(p) == "not-authorized", str(p)
    r = await configure(a, rjid, passwordprotectedroom="0")
    assert r["type"] == "result", str(r)
    await a.next_message(match=lambda m: 104 in codes(m))
    r = await a.iq("<query xmlns='%s'/>" % NS_OWNER, to=rjid)
    flag = [f for f in r.xml.iter("{%s}field" % NS_XDATA)
            if f.get("var") == "muc#roomconfig_passwordprotectedroom"][0]
    assert flag.find("{%s}value" % NS_XDATA).text == "0", str(r)
    await join(b, room, "bob")


async def test_admin_bad_input(msrv, clients):
    """Bad requests to a room's IQs: a muc#admin set with no item, or an
    item naming neither a role with a nick nor an affiliation with a
    JID: bad-request; an affiliation for a JID that is none: jid-
    malformed; more items than one request may change (64): policy-
    violation, and a bad item after a good one: bad-request, both with
    nothing changed (the items are checked before any applies); a
    moderation without an id or without
    its retract: bad-request; a registration without the form, or with
    an empty nick: bad-request, jid-malformed."""
    a = await login(msrv, clients)
    room = uniq("bad")
    rjid = await create(a, room, "alice")
    for body in ("", "<item/>", "<item nick='x'/>",
                 "<item affiliation='member'/>", "<item role='none'/>"):
        r = await a.iq("<query xmlns='%s'>%s</query>" % (NS_ADMIN, body),
                       to=rjid, type_="set")
        assert error_of(r) == "bad-request", (body, str(r))
    r = await a.iq("<query xmlns='%s'><item affiliation='member' jid="
                   "'a@b@c'/></query>" % NS_ADMIN, to=rjid, type_="set")
    assert error_of(r) == "jid-malformed", str(r)
    many = "".join("<item affiliation='member' jid='u%d@%s'/>" % (i, DOMAIN)
                   for i in range(65))
    r = await a.iq("<query xmlns='%s'>%s</query>" % (NS_ADMIN, many),
                   to=rjid, type_="set")
    assert error_of(r) == "policy-violation", str(r)
    r = await a.iq("<query xmlns='%s'><item affiliation='member' jid="
                   "'v@%s'/><item nick='x'/></query>" % (NS_ADMIN, DOMAIN),
                   to=rjid, type_="set")
    assert error_of(r) == "bad-request", str(r)
    r = await a.iq("<query xmlns='%s'><item affiliation='member'/></query>"
                   % NS_ADMIN, to=rjid)
    assert r["type"] == "result", str(r)
    assert "u0@" not in str(r) and "v@" not in str(r), str(r)
    for body in ("<moderate xmlns='urn:xmpp:message-moderate:1'><retract "
                 "xmlns='urn:xmpp:message-retract:1'/></moderate>",
                 "<moderate xmlns='urn:xmpp:message-moderate:1' id='x'/>"):
        r = await a.iq(body, to=rjid, type_="set")
        assert error_of(r) == "bad-request", (body, str(r))
    r = await a.iq("<query xmlns='jabber:iq:register'/>", to=rjid,
                   type_="set")
    assert error_of(r) == "bad-request", str(r)
    r = await a.iq("<query xmlns='jabber:iq:register'><x xmlns='%s' "
                   "type='submit'><field var='muc#register_roomnick'>"
                   "<value></value></field></x></query>" % NS_XDATA,
                   to=rjid, type_="set")
    assert error_of(r) == "jid-malformed", str(r)
