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
PLUGINS = ("xep_0199", "xep_0030", "xep_0004", "xep_0045", "xep_0249")


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


def codes(p):
    x = p.xml.find("{%s}x" % NS_USER)
    return [int(s.get("code")) for s in x.findall("{%s}status" % NS_USER)] \
        if x is not None else []


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


async def create(c, room, nick="owner", conf=None):
    """A room made and configured (instant, or with conf fields)."""
    join_raw(c, room, nick)
    _, me = await self_presence(c, room, nick)
    assert codes(me) == [201, 110], str(me)
    await subject_msg(c)
    fields = "".join("<field var='muc#roomconfig_%s'><value>%s</value>"
                     "</field>" % kv for kv in (conf or {}).items())
    r = await c.iq("<query xmlns='%s'><x xmlns='%s' type='submit'>%s</x>"
                   "</query>" % (NS_OWNER, NS_XDATA, fields),
                   to="%s@%s" % (room, SVC), type_="set")
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
