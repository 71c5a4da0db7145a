"""
The server's IQ services (RFC 6121 8.5.2.1.3: answered for the server or
on an account's behalf): vcard-temp (XEP-0054), private XML storage
(XEP-0049), software version (XEP-0092), entity time (XEP-0202), last
activity (XEP-0012) and service discovery of an account (XEP-0030).
"""
import asyncio
import datetime
import os
import re

from conftest import (DOMAIN, NS_DISCO_INFO, NS_PING, ROOT,
                      STANZA_TIMEOUT, stanza_error, uniq)

NS_VCARD = "vcard-temp"
NS_PRIVATE = "jabber:iq:private"
NS_VERSION = "jabber:iq:version"
NS_TIME = "urn:xmpp:time"
NS_LAST = "jabber:iq:last"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"

VCARD = ("<vCard xmlns='vcard-temp'><FN>Juliet &amp; Co \u00e9</FN>"
         "<N><FAMILY>Capulet</FAMILY><GIVEN>Juliet</GIVEN><MIDDLE/></N>"
         "<X-EXT xmlns='urn:example:ext' a='1'>kept</X-EXT>"
         "<NOTE xmlns=''>no namespace</NOTE></vCard>")


def release():
    """PARLEY_VERSION from common/version.h."""
    with open(os.path.join(ROOT, "common", "version.h")) as f:
        return re.search(r'#define\s+PARLEY_VERSION\s+"([^"]+)"',
                         f.read()).group(1)


def child(stanza, ns, name):
    el = stanza.xml.find("{%s}%s" % (ns, name))
    assert el is not None, "no <%s xmlns='%s'> in %s" % (name, ns, stanza)
    return el


def assert_error(r, condition, etype=None):
    assert r["type"] == "error", str(r)
    got = stanza_error(r)
    assert got[1] == condition, "expected %s, got %s: %s" % (
        condition, got, r)
    if etype is not None:
        assert got[0] == etype, str(r)


def assert_juliet(card):
    """The vCard of VCARD, as stored and returned."""
    v = "{%s}" % NS_VCARD
    assert card.find(v + "FN").text == "Juliet & Co \u00e9"
    assert card.find(v + "N/" + v + "GIVEN").text == "Juliet"
    assert card.find(v + "N/" + v + "MIDDLE") is not None
    ext = card.find("{urn:example:ext}X-EXT")
    assert ext is not None and ext.get("a") == "1" and ext.text == "kept"
    # an unqualified child stays unqualified, not vcard-temp
    assert card.find("NOTE") is not None and \
        card.find("NOTE").text == "no namespace", list(card)
    assert card.find(v + "NOTE") is None


# ---------------------------------------------------------------------------
# vcard-temp (XEP-0054)

async def test_vcard_none_is_empty(server, clients):
    """XEP-0054 3.1: no vCard yet: an empty <vCard/> (the option we
    chose), for oneself and for another account."""
    c = await clients.login(server, server.new_user(), resource="v")
    r = await c.iq("<vCard xmlns='vcard-temp'/>")
    assert r["type"] == "result", str(r)
    assert len(list(child(r, NS_VCARD, "vCard"))) == 0, str(r)
    other = server.new_user()
    r = await c.iq("<vCard xmlns='vcard-temp'/>", to=other.jid)
    assert r["type"] == "result", str(r)
    assert len(list(child(r, NS_VCARD, "vCard"))) == 0, str(r)
    assert r["from"].full == other.jid, str(r)


async def test_vcard_set_get_own_and_public(server, clients):
    u = server.new_user()
    c = await clients.login(server, u, resource="v")
    r = await c.iq(VCARD, type_="set")
    assert r["type"] == "result", str(r)
    assert len(list(r.xml)) == 0, "a set result carries nothing: %s" % r
    # own, with no 'to' and with the bare JID
    r = await c.iq("<vCard xmlns='vcard-temp'/>")
    assert r["type"] == "result", str(r)
    assert_juliet(child(r, NS_VCARD, "vCard"))
    r = await c.iq("<vCard xmlns='vcard-temp'/>", to=u.jid)
    assert_juliet(child(r, NS_VCARD, "vCard"))
    # XEP-0054 3.3: anyone reads it at the bare JID, answered by the
    # server (the owner's resource never sees the request)
    o = await clients.login(server, server.new_user(), resource="o")
    r = await o.iq("<vCard xmlns='vcard-temp'/>", to=u.jid)
    assert r["type"] == "result", str(r)
    assert r["from"].full == u.jid, str(r)
    assert_juliet(child(r, NS_VCARD, "vCard"))


async def test_vcard_replace_and_clear(server, clients):
    u = server.new_user()
    c = await clients.login(server, u, resource="v")
    r = await c.iq(VCARD, type_="set", to=u.jid)
    assert r["type"] == "result", str(r)
    r = await c.iq("<vCard xmlns='vcard-temp'><NICKNAME>jj</NICKNAME>"
                   "</vCard>", type_="set")
    assert r["type"] == "result", str(r)
    card = child(await c.iq("<vCard xmlns='vcard-temp'/>"), NS_VCARD,
                 "vCard")
    # a set replaces the whole vCard (XEP-0054 3.2: no partial updates)
    assert [e.tag for e in card] == ["{vcard-temp}NICKNAME"], list(card)
    r = await c.iq("<vCard xmlns='vcard-temp'/>", type_="set")
    assert r["type"] == "result", str(r)
    card = child(await c.iq("<vCard xmlns='vcard-temp'/>"), NS_VCARD,
                 "vCard")
    assert len(list(card)) == 0, list(card)


async def test_vcard_set_other_forbidden(server, clients):
    """XEP-0054 3.2: setting another user's vCard is refused; theirs is
    unchanged."""
    victim = server.new_user()
    v = await clients.login(server, victim, resource="v")
    assert (await v.iq(VCARD, type_="set"))["type"] == "result"
    m = await clients.login(server, server.new_user(), resource="m")
    r = await m.iq("<vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard>",
                   type_="set", to=victim.jid)
    assert_error(r, "forbidden", "auth")
    r = await v.iq("<vCard xmlns='vcard-temp'/>")
    assert_juliet(child(r, NS_VCARD, "vCard"))


async def test_vcard_not_for_server(server, clients):
    """vcard-temp is an account's: the server's JID does not answer it."""
    c = await clients.login(server, server.new_user(), resource="v")
    r = await c.iq("<vCard xmlns='vcard-temp'/>", to=DOMAIN)
    assert_error(r, "service-unavailable")


async def test_vcard_size_cap(make_server, clients):
    srv = make_server(vcard_max_size="1K")
    u = srv.new_user()
    c = await clients.login(srv, u, resource="v")
    small = "<vCard xmlns='vcard-temp'><FN>small</FN></vCard>"
    assert (await c.iq(small, type_="set"))["type"] == "result"
    big = "<vCard xmlns='vcard-temp'><DESC>%s</DESC></vCard>" % ("x" * 1100)
    r = await c.iq(big, type_="set")
    assert_error(r, "not-acceptable", "modify")
    card = child(await c.iq("<vCard xmlns='vcard-temp'/>"), NS_VCARD,
                 "vCard")
    assert card.find("{vcard-temp}FN").text == "small", list(card)
    # just under the cap is stored
    fits = "<vCard xmlns='vcard-temp'><DESC>%s</DESC></vCard>" % ("y" * 900)
    assert (await c.iq(fits, type_="set"))["type"] == "result"


async def test_vcard_survives_restart(make_server, clients):
    """The result comes after the vCard is committed to storage."""
    srv = make_server()
    u = srv.new_user()
    c = await clients.login(srv, u, resource="v")
    assert (await c.iq(VCARD, type_="set"))["type"] == "result"
    await clients.close()
    srv.stop()
    srv.start()
    c = await clients.login(srv, u, resource="v2")
    r = await c.iq("<vCard xmlns='vcard-temp'/>")
    assert_juliet(child(r, NS_VCARD, "vCard"))


# ---------------------------------------------------------------------------
# private XML storage (XEP-0049)

PREFS = ("<exodus xmlns='exodus:prefs'><defaultnick>Hamlet &amp; "
         "\u00e9</defaultnick><x xmlns='urn:example:x' k='v'/></exodus>")


async def test_private_set_get(server, clients):
    u = server.new_user()
    c = await clients.login(server, u, resource="p")
    q = "<query xmlns='jabber:iq:private'>%s</query>"
    # nothing stored: the element asked for, empty
    r = await c.iq(q % "<exodus xmlns='exodus:prefs'/>")
    assert r["type"] == "result", str(r)
    ex = child(r, NS_PRIVATE, "query").find("{exodus:prefs}exodus")
    assert ex is not None and len(list(ex)) == 0, str(r)
    r = await c.iq(q % PREFS, type_="set")
    assert r["type"] == "result", str(r)
    for to in (None, u.jid):
        r = await c.iq(q % "<exodus xmlns='exodus:prefs'/>", to=to)
        assert r["type"] == "result", str(r)
        ex = child(r, NS_PRIVATE, "query").find("{exodus:prefs}exodus")
        assert ex is not None, str(r)
        assert ex.find("{exodus:prefs}defaultnick").text == \
            "Hamlet & \u00e9", str(r)
        assert ex.find("{urn:example:x}x").get("k") == "v", str(r)
    # another element of the same namespace is another record
    r = await c.iq(q % "<other xmlns='exodus:prefs'/>")
    other = child(r, NS_PRIVATE, "query").find("{exodus:prefs}other")
    assert other is not None and len(list(other)) == 0, str(r)


async def test_private_several_elements(server, clients):
    """XEP-0049 2.3: a set (and a result) may hold several elements of
    one namespace; a get names them all at once."""
    c = await clients.login(server, server.new_user(), resource="p")
    r = await c.iq("<query xmlns='jabber:iq:private'>"
                   "<a xmlns='urn:example:s'>1</a>"
                   "<b xmlns='urn:example:s'>2</b></query>", type_="set")
    assert r["type"] == "result", str(r)
    r = await c.iq("<query xmlns='jabber:iq:private'>"
                   "<b xmlns='urn:example:s'/><a xmlns='urn:example:s'/>"
                   "</query>")
    assert r["type"] == "result", str(r)
    q = child(r, NS_PRIVATE, "query")
    assert [(e.tag, e.text) for e in q] == [
        ("{urn:example:s}b", "2"), ("{urn:example:s}a", "1")], str(r)


async def test_private_is_per_account(server, clients):
    """Another account's data is forbidden (XEP-0049: get or set), and
    the same key of another account is its own."""
    owner = server.new_user()
    a = await clients.login(server, owner, resource="a")
    q = "<query xmlns='jabber:iq:private'>%s</query>"
    assert (await a.iq(q % PREFS, type_="set"))["type"] == "result"
    b = await clients.login(server, server.new_user(), resource="b")
    r = await b.iq(q % "<exodus xmlns='exodus:prefs'/>", to=owner.jid)
    assert_error(r, "forbidden")
    r = await b.iq(q % "<exodus xmlns='exodus:prefs'><defaultnick>x"
                   "</defaultnick></exodus>", to=owner.jid, type_="set")
    assert_error(r, "forbidden")
    r = await b.iq(q % "<exodus xmlns='exodus:prefs'/>")
    ex = child(r, NS_PRIVATE, "query").find("{exodus:prefs}exodus")
    assert ex is not None and len(list(ex)) == 0, str(r)
    r = await a.iq(q % "<exodus xmlns='exodus:prefs'/>")
    ex = child(r, NS_PRIVATE, "query").find("{exodus:prefs}exodus")
    assert ex.find("{exodus:prefs}defaultnick").text == "Hamlet & \u00e9"


async def test_private_bad_requests(server, clients):
    c = await clients.login(server, server.new_user(), resource="p")
    # XEP-0049 2.3: a get with no element: bad format (bad-request)
    r = await c.iq("<query xmlns='jabber:iq:private'/>")
    assert_error(r, "bad-request", "modify")
    # a set with none: not-acceptable
    r = await c.iq("<query xmlns='jabber:iq:private'/>", type_="set")
    assert_error(r, "not-acceptable", "modify")
    # a get for more than one namespace
    r = await c.iq("<query xmlns='jabber:iq:private'><a xmlns='urn:x:1'/>"
                   "<b xmlns='urn:x:2'/></query>")
    assert_error(r, "bad-request")
    # reserved namespaces, and none at all
    for el in ("<vCard xmlns='vcard-temp'><FN>H</FN></vCard>",
               "<query xmlns='jabber:iq:roster'/>",
               "<x xmlns='http://jabber.org/protocol/muc'/>",
               "<inherits/>",
               "<plain xmlns=''/>"):
        for t in ("get", "set"):
            r = await c.iq("<query xmlns='jabber:iq:private'>%s</query>"
                           % el, type_=t)
            assert_error(r, "not-acceptable")
    # private storage belongs to accounts, not the server
    r = await c.iq("<query xmlns='jabber:iq:private'><a xmlns='urn:x:1'/>"
                   "</query>", to=DOMAIN)
    assert_error(r, "service-unavailable")


async def test_private_size_cap(make_server, clients):
    srv = make_server(private_max_size="1K")
    c = await clients.login(srv, srv.new_user(), resource="p")
    q = "<query xmlns='jabber:iq:private'>%s</query>"
    ok = "<a xmlns='urn:example:s'>%s</a>" % ("o" * 100)
    big = "<b xmlns='urn:example:s'>%s</b>" % ("x" * 1100)
    r = await c.iq(q % (ok + big), type_="set")
    assert_error(r, "not-acceptable", "modify")
    # refused as a whole: the small one was not stored either
    r = await c.iq(q % "<a xmlns='urn:example:s'/>")
    a = child(r, NS_PRIVATE, "query").find("{urn:example:s}a")
    assert a is not None and not a.text, str(r)
    assert (await c.iq(q % ok, type_="set"))["type"] == "result"


# ---------------------------------------------------------------------------
# software version (XEP-0092) and entity time (XEP-0202)

async def test_version(server, clients):
    c = await clients.login(server, server.new_user(), resource="s")
    r = await c.iq("<query xmlns='jabber:iq:version'/>", to=DOMAIN)
    assert r["type"] == "result", str(r)
    assert r["from"].full == DOMAIN, str(r)
    q = child(r, NS_VERSION, "query")
    assert q.find("{%s}name" % NS_VERSION).text == "Parley", str(r)
    assert q.find("{%s}version" % NS_VERSION).text == release(), str(r)
    assert q.find("{%s}os" % NS_VERSION) is None, str(r)
    # the server answers it for itself, not for an account
    r = await c.iq("<query xmlns='jabber:iq:version'/>",
                   to=server.new_user().jid)
    assert_error(r, "service-unavailable")


async def test_version_hidden(make_server, clients):
    srv = make_server(version_hide="yes")
    c = await clients.login(srv, srv.new_user(), resource="s")
    r = await c.iq("<query xmlns='jabber:iq:version'/>", to=DOMAIN)
    assert r["type"] == "result", str(r)
    q = child(r, NS_VERSION, "query")
    assert q.find("{%s}name" % NS_VERSION).text == "Parley", str(r)
    assert q.find("{%s}version" % NS_VERSION) is None, str(r)
    assert q.find("{%s}os" % NS_VERSION) is None, str(r)


UTC_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)"
                    r"(\.\d+)?Z$")


async def test_time(server, clients):
    c = await clients.login(server, server.new_user(), resource="t")
    r = await c.iq("<time xmlns='urn:xmpp:time'/>", to=DOMAIN)
    assert r["type"] == "result", str(r)
    t = child(r, NS_TIME, "time")
    assert t.find("{%s}tzo" % NS_TIME).text == "+00:00", str(r)
    utc = t.find("{%s}utc" % NS_TIME).text
    m = UTC_RE.match(utc or "")
    assert m, "utc %r is not an XEP-0082 DateTime" % utc
    when = datetime.datetime(*map(int, m.groups()[:6]),
                             tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - when).total_seconds()) < 5, (utc, now)
    r = await c.iq("<time xmlns='urn:xmpp:time'/>",
                   to=server.new_user().jid)
    assert_error(r, "service-unavailable")


# ---------------------------------------------------------------------------
# last activity (XEP-0012)

def seconds_of(r):
    q = child(r, NS_LAST, "query")
    s = q.get("seconds")
    assert s is not None and s.isdigit(), str(r)
    return int(s), (q.text or "")


async def test_last_server_uptime(server, clients):
    c = await clients.login(server, server.new_user(), resource="l")
    r = await c.iq("<query xmlns='jabber:iq:last'/>", to=DOMAIN)
    assert r["type"] == "result", str(r)
    secs, text = seconds_of(r)
    # the module's server started moments ago, not in 1970
    assert secs < 3600, str(r)
    assert text == "", str(r)


async def test_last_stranger_forbidden(server, clients):
    """XEP-0012 3: only those who may see the account's presence."""
    target = server.new_user()
    await clients.login(server, target, resource="t")
    c = await clients.login(server, server.new_user(), resource="s")
    r = await c.iq("<query xmlns='jabber:iq:last'/>", to=target.jid)
    assert_error(r, "forbidden", "auth")


async def test_last_own_account(server, clients):
    u = server.new_user()
    c = await clients.login(server, u, resource="l")
    # never logged out: no record
    r = await c.iq("<query xmlns='jabber:iq:last'/>")
    assert_error(r, "item-not-found")
    # an available resource: 0 (XEP-0012 3)
    c.send_raw("<presence/>")
    # the router handles the presence before the query that follows it
    r = await c.iq("<query xmlns='jabber:iq:last'/>", to=u.jid)
    assert r["type"] == "result", str(r)
    assert seconds_of(r) == (0, ""), str(r)


async def _wait_presence(c, ptype, frm):
    deadline = asyncio.get_running_loop().time() + STANZA_TIMEOUT
    while True:
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, "%s: no presence %s from %s" % (c.boundjid, ptype,
                                                        frm)
        try:
            p = await asyncio.wait_for(c.presences.get(), left)
        except asyncio.TimeoutError:
            continue
        if p["type"] == ptype and p["from"].bare == frm:
            return p


async def test_last_contact_after_logout(server, clients):
    """A contact the account has approved (subscription 'from') gets 0
    while it is online, then the time since its logout and the status
    of its last unavailable presence."""
    owner, fan = server.new_user(), server.new_user()
    a = await clients.login(server, owner, resource="a")
    b = await clients.login(server, fan, resource="b")
    a.send_raw("<presence/>")
    b.send_raw("<presence/>")
    b.send_raw("<presence to='%s' type='subscribe'/>" % owner.jid)
    await _wait_presence(a, "subscribe", fan.jid)
    a.send_raw("<presence to='%s' type='subscribed'/>" % fan.jid)
    await _wait_presence(b, "subscribed", owner.jid)
    r = await b.iq("<query xmlns='jabber:iq:last'/>", to=owner.jid)
    assert r["type"] == "result", str(r)
    assert seconds_of(r) == (0, ""), str(r)
    a.send_raw("<presence type='unavailable'><status>Heading Home"
               "</status></presence>")
    await _wait_presence(b, "unavailable", owner.jid)
    r = await b.iq("<query xmlns='jabber:iq:last'/>", to=owner.jid)
    assert r["type"] == "result", str(r)
    secs, text = seconds_of(r)
    assert secs < 30 and text == "Heading Home", str(r)
    # a stranger still may not know
    s = await clients.login(server, server.new_user(), resource="s")
    r = await s.iq("<query xmlns='jabber:iq:last'/>", to=owner.jid)
    assert_error(r, "forbidden")


# ---------------------------------------------------------------------------
# service discovery of an account (XEP-0030)

def disco_of(r):
    q = child(r, NS_DISCO_INFO, "query")
    ids = [(i.get("category"), i.get("type"))
           for i in q.findall("{%s}identity" % NS_DISCO_INFO)]
    feats = {f.get("var") for f in q.findall("{%s}feature" % NS_DISCO_INFO)}
    return ids, feats


async def test_disco_account(server, clients):
    u = server.new_user()
    c = await clients.login(server, server.new_user(), resource="d")
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=u.jid)
    assert r["type"] == "result", str(r)
    assert r["from"].full == u.jid, str(r)
    ids, feats = disco_of(r)
    # XEP-0163 1: the account is also a PEP service
    assert ids == [("account", "registered"), ("pubsub", "pep")], str(r)
    for ns in (NS_DISCO_INFO, NS_PING, NS_VCARD, NS_PRIVATE, NS_LAST):
        assert ns in feats, (ns, feats)
    # the server's own services are not the account's
    for ns in (NS_VERSION, NS_TIME):
        assert ns not in feats, (ns, feats)
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to=u.jid)
    assert r["type"] == "result", str(r)
    assert len(list(child(r, NS_DISCO_ITEMS, "query"))) == 0, str(r)


async def test_disco_server_lists_services(server, clients):
    c = await clients.login(server, server.new_user(), resource="d")
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=DOMAIN)
    ids, feats = disco_of(r)
    assert ("server", "im") in ids, str(r)
    # vcard-temp: the accounts' vCards, where Gajim looks for it
    for ns in (NS_VERSION, NS_TIME, NS_LAST, NS_PING, NS_DISCO_INFO,
               NS_VCARD):
        assert ns in feats, (ns, feats)
    assert NS_PRIVATE not in feats, feats
