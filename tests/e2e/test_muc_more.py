"""
Group chat, the rest of XEP-0045: the configuration fields lang,
getmemberlist, presencebroadcast and canchangenick (15.5.3) with their
effects, kept with a persistent room; a unique room name (10.1.4); an
occupant's presence flood coalesced; IQs between occupants with their
ids rewritten (7.5); XEP-0191 block lists on what a room sends.
"""
import asyncio
import re

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from conftest import DOMAIN, uniq
from test_muc import (NS_ADMIN, NS_OWNER, NS_XDATA, SVC, codes, configure,
                      create, error_of, groupchat, item, join, login,
                      subject_msg)
# the module's server: test_muc's fixture, one more instance here
from test_muc import msrv  # noqa: F401

NS_UNIQUE = "http://jabber.org/protocol/muc#unique"


def field(form, var):
    for f in form.iter("{%s}field" % NS_XDATA):
        if f.get("var") == var:
            return f
    raise AssertionError("no field %s in the form" % var)


def values(f):
    return [v.text for v in f.findall("{%s}value" % NS_XDATA)]


def options(f):
    return [o.findtext("{%s}value" % NS_XDATA)
            for o in f.findall("{%s}option" % NS_XDATA)]


async def get_form(c, rjid):
    r = await c.iq("<query xmlns='%s'/>" % NS_OWNER, to=rjid)
    assert r["type"] == "result", str(r)
    return r.xml


async def submit_multi(c, rjid, var, vals):
    """A list-multi field alone in a submission."""
    v = "".join("<value>%s</value>" % x for x in vals)
    return await c.iq("<query xmlns='%s'><x xmlns='%s' type='submit'><field "
                      "var='muc#roomconfig_%s' type='list-multi'>%s</field>"
                      "</x></query>" % (NS_OWNER, NS_XDATA, var, v),
                      to=rjid, type_="set")


async def test_form_offers_the_fields(msrv, clients):
    """The form has the four fields with their types, options and
    defaults; bad values are not-acceptable; lang shows in disco#info's
    muc#roominfo_lang."""
    a = await login(msrv, clients)
    rjid = await create(a, uniq("cf"), "alice")
    form = await get_form(a, rjid)
    f = field(form, "muc#roomconfig_lang")
    assert f.get("type") == "text-single", f
    f = field(form, "muc#roomconfig_getmemberlist")
    assert f.get("type") == "list-multi" and values(f) == ["moderator"]
    assert sorted(options(f)) == ["moderator", "participant", "visitor"]
    f = field(form, "muc#roomconfig_presencebroadcast")
    assert f.get("type") == "list-multi"
    assert sorted(values(f)) == ["moderator", "participant", "visitor"]
    assert sorted(options(f)) == ["moderator", "participant", "visitor"]
    f = field(form, "muc#roomconfig_canchangenick")
    assert f.get("type") == "boolean" and values(f) == ["1"]
    for var, bad in (("lang", "not a tag"), ("lang", "e"),
                     ("lang", "en-" + "x" * 9), ("canchangenick", "maybe")):
        r = await configure(a, rjid, **{var: bad})
        assert r["type"] == "error", (var, bad, str(r))
        assert error_of(r) == "not-acceptable", str(r)
    r = await submit_multi(a, rjid, "getmemberlist", ["owner"])
    assert error_of(r) == "not-acceptable", str(r)
    r = await submit_multi(a, rjid, "presencebroadcast", ["none"])
    assert error_of(r) == "not-acceptable", str(r)
    # a rejected form changed nothing
    f = field(await get_form(a, rjid), "muc#roomconfig_getmemberlist")
    assert values(f) == ["moderator"], values(f)
    r = await configure(a, rjid, lang="pt-BR")
    assert r["type"] == "result", str(r)
    info = await a["xep_0030"].get_info(jid=rjid)
    assert re.search(r"muc#roominfo_lang.*<value>pt-BR</value>", str(info)), \
        str(info)
    f = field(await get_form(a, rjid), "muc#roomconfig_lang")
    assert values(f) == ["pt-BR"]


async def test_getmemberlist(msrv, clients):
    """9.5: a participant asking for the member list is forbidden unless
    participant is in getmemberlist; a visitor likewise."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    room = uniq("gm")
    rjid = await create(a, room, "alice")
    r = await a.iq("<query xmlns='%s'><item jid='m@%s' affiliation="
                   "'member'/></query>" % (NS_ADMIN, DOMAIN), to=rjid,
                   type_="set")
    assert r["type"] == "result", str(r)
    await join(b, room, "bob")
    ask = "<query xmlns='%s'><item affiliation='member'/></query>" % NS_ADMIN
    r = await b.iq(ask, to=rjid)
    assert error_of(r) == "forbidden", str(r)
    r = await submit_multi(a, rjid, "getmemberlist",
                           ["moderator", "participant"])
    assert r["type"] == "result", str(r)
    r = await b.iq(ask, to=rjid)
    assert r["type"] == "result", str(r)
    assert "m@" + DOMAIN in str(r), str(r)
    # the outcast list stays the admins'
    r = await b.iq("<query xmlns='%s'><item affiliation='outcast'/>"
                   "</query>" % NS_ADMIN, to=rjid)
    assert error_of(r) == "forbidden", str(r)
    # a visitor is not a participant
    r = await a.iq("<query xmlns='%s'><item nick='bob' role='visitor'/>"
                   "</query>" % NS_ADMIN, to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    r = await b.iq(ask, to=rjid)
    assert error_of(r) == "forbidden", str(r)


async def test_canchangenick(msrv, clients):
    """7.6: with canchangenick off, a nick change is not-acceptable and
    the occupant keeps its nick; on, it changes."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    room = uniq("nk")
    rjid = await create(a, room, "alice", conf={"canchangenick": "0"})
    await join(b, room, "bob")
    await subject_msg(b)
    await a.fence()
    a.pending()
    b.send_raw("<presence to='%s/robert'/>" % rjid)
    p = await b.next_presence(match=lambda p: p["type"] == "error")
    assert error_of(p) == "not-acceptable", str(p)
    await a.quiet(0.5)
    r = await configure(a, rjid, canchangenick="1")
    assert r["type"] == "result", str(r)
    b.send_raw("<presence to='%s/robert'/>" % rjid)
    p = await a.next_presence(match=lambda p: p["type"] == "unavailable")
    assert codes(p) == [303] and item(p).get("nick") == "robert", str(p)


async def test_presencebroadcast(msrv, clients):
    """presencebroadcast without visitor: a visitor joins and gets its
    own presence (110) and the others', but nobody sees its join, its
    status changes or its leaving; given voice it appears; the field
    changed back shows the others' hidden ones."""
    a, b, c = [await login(msrv, clients) for _ in range(3)]
    room = uniq("pb")
    rjid = await create(a, room, "alice", conf={"moderatedroom": "1"})
    r = await submit_multi(a, rjid, "presencebroadcast",
                           ["moderator", "participant"])
    assert r["type"] == "result", str(r)
    others, me = await join(b, room, "bob")
    assert item(me).get("role") == "visitor" and 110 in codes(me)
    assert [p["from"].resource for p in others] == ["alice"], others
    await subject_msg(b)
    b.send_raw("<presence to='%s/bob'><status>away</status></presence>"
               % rjid)
    await b.next_presence(match=lambda p: 110 in codes(p))
    # a newcomer does not get the hidden visitor's presence either
    others, _ = await join(c, room, "carol")
    assert [p["from"].resource for p in others] == ["alice"], others
    await a.fence()
    got = [p for p in a.pending() if "/bob" in p]
    assert not got, got
    # voice: bob is a participant, his presence is broadcast
    r = await a.iq("<query xmlns='%s'><item nick='bob' role="
                   "'participant'/></query>" % NS_ADMIN, to=rjid,
                   type_="set")
    assert r["type"] == "result", str(r)
    p = await c.next_presence(match=lambda p: p["from"].resource == "bob")
    assert item(p).get("role") == "participant", str(p)
    # voice taken away: the others see bob leave their view
    r = await a.iq("<query xmlns='%s'><item nick='bob' role='visitor'/>"
                   "</query>" % NS_ADMIN, to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    p = await c.next_presence(match=lambda p: p["from"].resource == "bob")
    assert p["type"] == "unavailable", str(p)
    p = await b.next_presence(match=lambda p: 110 in codes(p) and
                              item(p).get("role") == "visitor")
    assert p["type"] != "unavailable", str(p)
    # all roles broadcast again: bob reappears to the others
    r = await submit_multi(a, rjid, "presencebroadcast",
                           ["moderator", "participant", "visitor"])
    assert r["type"] == "result", str(r)
    p = await c.next_presence(match=lambda p: p["from"].resource == "bob")
    assert p["type"] != "unavailable", str(p)


async def test_unique_room_name(msrv, clients):
    """10.1.4: the service gives a room name nobody has; it advertises
    muc#unique; each answer is another name."""
    a = await login(msrv, clients)
    info = await a["xep_0030"].get_info(jid=SVC)
    assert NS_UNIQUE in info["disco_info"]["features"]
    names = set()
    for _ in range(2):
        r = await a.iq("<unique xmlns='%s'/>" % NS_UNIQUE, to=SVC)
        assert r["type"] == "result", str(r)
        u = r.xml.find("{%s}unique" % NS_UNIQUE)
        assert u is not None and re.fullmatch("[0-9a-f]{32}", u.text), str(r)
        names.add(u.text)
    assert len(names) == 2
    await create(a, names.pop(), "alice")


async def test_new_fields_survive_restart(make_server, clients):
    """The fields are kept with a persistent room."""
    srv = make_server(host_options={DOMAIN: {"muc": "yes"}})
    ua = srv.new_user()
    a = await login(srv, clients, ua)
    rjid = await create(a, uniq("pk"), "alice", conf={
        "persistentroom": "1", "lang": "de", "canchangenick": "0"})
    r = await submit_multi(a, rjid, "getmemberlist", [])
    assert r["type"] == "result", str(r)
    r = await submit_multi(a, rjid, "presencebroadcast", ["moderator"])
    assert r["type"] == "result", str(r)
    srv.restart()
    a = await login(srv, clients, ua)
    form = await get_form(a, rjid)
    assert values(field(form, "muc#roomconfig_lang")) == ["de"]
    assert values(field(form, "muc#roomconfig_canchangenick")) == ["0"]
    assert values(field(form, "muc#roomconfig_getmemberlist")) == []
    assert values(field(form, "muc#roomconfig_presencebroadcast")) == [
        "moderator"]


async def test_presence_flood_coalesced(msrv, clients):
    """A flood of status changes from one occupant: the others get a
    burst (5) at once, then the latest when the bucket refills (one a
    second), never all of them and never without the last; a nick change
    past the bucket is resource-constraint."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    room = uniq("fl")
    rjid = await create(a, room, "alice")
    await join(b, room, "bob")
    await subject_msg(b)
    await a.fence()
    a.pending()
    for i in range(40):
        b.send_raw("<presence to='%s/bob'><status>s%d</status></presence>"
                   % (rjid, i))
    await b.fence()
    got = []
    while True:
        p = await a.next_presence(match=lambda p: p["from"].resource ==
                                  "bob", timeout=5)
        got.append(p["status"])
        if p["status"] == "s39":
            break
    assert got[:5] == ["s0", "s1", "s2", "s3", "s4"], got
    assert len(got) <= 7, got
    await a.quiet(1.5)
    # the bucket is empty again after a burst: a nick change is refused
    for i in range(6):
        b.send_raw("<presence to='%s/bob'><status>t%d</status></presence>"
                   % (rjid, i))
    b.send_raw("<presence to='%s/robert'/>" % rjid)
    p = await b.next_presence(match=lambda p: p["type"] == "error")
    assert error_of(p) == "resource-constraint", str(p)
    p = await a.next_presence(match=lambda p: p["status"] == "t5",
                              timeout=5)
    assert p["from"].resource == "bob", str(p)


async def iq_with_id(c, to, payload, iq_id):
    """An IQ get with the id given; returns its answer."""
    fut = asyncio.get_running_loop().create_future()
    c._iq_waiters[iq_id] = fut
    c.send_raw("<iq type='get' id='%s' to='%s'>%s</iq>" % (iq_id, to,
                                                            payload))
    return await asyncio.wait_for(fut, c.stanza_timeout)


async def test_iq_relay_ids(msrv, clients):
    """7.5: IQs to an occupant carry an id of the room's, and the answer
    gets the asker's id back: two sessions of one occupant and another
    occupant all asking with the same id each get their own answer, from
    the target's occupant JID."""
    u = msrv.new_user()
    t = await login(msrv, clients)
    b1, b2 = await login(msrv, clients, u), await login(msrv, clients, u)
    c = await login(msrv, clients)
    seen = []
    t.register_handler(Callback(
        "seen", MatchXPath("{jabber:client}iq/{jabber:iq:version}query"),
        lambda s: seen.append((s["id"], str(s["from"])))))
    room = uniq("iq")
    rjid = await create(t, room, "target")
    await join(b1, room, "bob")
    await join(b2, room, "bob")
    await join(c, room, "carol")
    ask = "<query xmlns='jabber:iq:version'/>"
    got = await asyncio.gather(*(iq_with_id(x, rjid + "/target", ask, "same")
                                 for x in (b1, b2, c)))
    for x, r in zip((b1, b2, c), got):
        assert r["type"] == "result" and r["id"] == "same", str(r)
        assert r["from"] == rjid + "/target", str(r)
        assert r["to"] == x.boundjid.full, str(r)
    ids = [i for i, _ in seen]
    assert len(ids) == 3 and len(set(ids)) == 3 and "same" not in ids, seen
    # an answer with no request behind it goes nowhere
    await b1.fence()
    b1.pending()
    c.send_raw("<iq type='result' id='%s' to='%s/bob'/>" % (ids[0], rjid))
    await b1.quiet(0.5)


async def block(c, jid, op="block"):
    r = await c.iq("<%s xmlns='urn:xmpp:blocking'><item jid='%s'/></%s>"
                   % (op, jid, op), type_="set")
    assert r["type"] == "result", str(r)


async def test_block_lists_apply_to_rooms(msrv, clients):
    """XEP-0191 for what a room sends to a local occupant: blocking an
    occupant JID stops that occupant's messages and presence (the
    others' still arrive), an IQ from it is service-unavailable;
    blocking the room's JID or the service's domain stops everything
    from the room; unblocking lets it through again at once."""
    a, b, c = [await login(msrv, clients) for _ in range(3)]
    room = uniq("bl")
    rjid = await create(a, room, "alice")
    await join(b, room, "bob")
    await subject_msg(b)
    await join(c, room, "carol")
    await block(b, rjid + "/carol")
    await b.fence()
    b.pending()
    groupchat(c, rjid, "from carol")
    await c.fence()
    groupchat(a, rjid, "from alice")
    m = await b.next_message(match=lambda m: m["body"].startswith("from"))
    assert m["body"] == "from alice", str(m)
    c.send_raw("<presence to='%s/carol'><status>hi</status></presence>"
               % rjid)
    c.send_raw("<message to='%s/bob' type='chat'><body>pm</body></message>"
               % rjid)
    await c.fence()
    await b.quiet(0.5)
    r = await c.iq("<query xmlns='jabber:iq:version'/>", to=rjid + "/bob")
    assert error_of(r) == "service-unavailable", str(r)
    # the room's own JID, then the service's domain
    await block(b, rjid + "/carol", "unblock")
    for jid in (rjid, SVC):
        await block(b, jid)
        groupchat(a, rjid, "blocked " + jid)
        await a.fence()
        await b.quiet(0.5)
        await block(b, jid, "unblock")
        groupchat(a, rjid, "open " + jid)
        m = await b.next_message(match=lambda m: m["body"].startswith(
            ("open", "blocked")))
        assert m["body"] == "open " + jid, str(m)
    groupchat(c, rjid, "carol again")
    m = await b.next_message(match=lambda m: m["body"] == "carol again")
    assert m["from"] == rjid + "/carol", str(m)


async def test_sender_muc_user_x_dropped(msrv, clients):
    """7.5, 8: a sender's own muc#user <x/> (a status 110, an item with a
    real JID and an affiliation) is the room's to say: groupchat goes out
    without it, a private message with the room's empty one alone."""
    a, b = await login(msrv, clients), await login(msrv, clients)
    room = uniq("x")
    rjid = await create(a, room, "alice")
    await join(b, room, "bob")
    forged = ("<x xmlns='http://jabber.org/protocol/muc#user'>"
              "<status code='110'/><item jid='boss@%s/x' affiliation='owner'"
              " role='moderator'/></x>" % DOMAIN)
    body = uniq("g")
    a.send_raw("<message to='%s' type='groupchat'><body>%s</body>%s"
               "</message>" % (rjid, body, forged))
    m = await b.next_message(match=lambda m: m["body"] == body)
    assert "muc#user" not in str(m) and "boss@" not in str(m), str(m)
    body = uniq("p")
    a.send_raw("<message to='%s/bob' type='chat'><body>%s</body>%s"
               "</message>" % (rjid, body, forged))
    m = await b.next_message(match=lambda m: m["body"] == body)
    xs = m.xml.findall("{http://jabber.org/protocol/muc#user}x")
    assert len(xs) == 1 and len(list(xs[0])) == 0, str(m)
