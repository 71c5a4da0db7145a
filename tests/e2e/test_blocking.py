"""
Simple communications blocking (XEP-0191): the block list (get, block,
unblock, unblock all), pushes to the account's resources, and what
routing does with stanzas to and from a blocked JID.
"""
import asyncio

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from conftest import DOMAIN, NS_CLIENT, exchange, stanza_error, uniq
from imhelp import grant, online, wait_presence

NS_BLOCKING = "urn:xmpp:blocking"
NS_BLOCKING_ERR = "urn:xmpp:blocking:errors"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"


def items(xml):
    return "".join("<item jid='%s'/>" % j for j in xml)


async def blocklist(c):
    r = await c.iq("<blocklist xmlns='%s'/>" % NS_BLOCKING)
    assert r["type"] == "result", str(r)
    bl = r.xml.find("{%s}blocklist" % NS_BLOCKING)
    assert bl is not None, str(r)
    return sorted(i.get("jid") for i in bl.findall("{%s}item" % NS_BLOCKING))


async def block(c, *jids, op="block"):
    r = await c.iq("<%s xmlns='%s'>%s</%s>" % (op, NS_BLOCKING, items(jids),
                                                 op), type_="set")
    return r


def watch_pushes(c):
    """Collects block/unblock pushes (IQ sets) the client receives."""
    q = asyncio.Queue()
    for op in ("block", "unblock"):
        c.register_handler(Callback(
            "push-" + op, MatchXPath("{%s}iq/{%s}%s" % (NS_CLIENT,
                                                         NS_BLOCKING, op)),
            lambda s: q.put_nowait(s) if s["type"] == "set" else None))
    return q


async def next_push(q, c):
    try:
        return await asyncio.wait_for(q.get(), 5)
    except asyncio.TimeoutError:
        raise AssertionError("%s got no block push" % c.boundjid)


def push_items(p):
    el = list(p.xml)[0]
    return el.tag.split("}")[1], sorted(
        i.get("jid") for i in el.findall("{%s}item" % NS_BLOCKING))


async def test_feature_advertised(server, clients):
    c = await clients.login(server, server.new_user())
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=DOMAIN)
    feats = [f.get("var") for f in r.xml.iter("{%s}feature" % NS_DISCO_INFO)]
    assert NS_BLOCKING in feats


async def test_block_unblock_list(server, clients):
    """JIDs are stored normalised; unblocking one leaves the others;
    an empty unblock clears the list; unblocking what is not blocked is
    no error."""
    c = await clients.login(server, server.new_user())
    assert await blocklist(c) == []
    a, b = uniq("x"), uniq("y")
    r = await block(c, "%s@Example.ORG" % a.upper(), "%s@example.org/Res" % b,
                    "spam.example")
    assert r["type"] == "result", str(r)
    want = sorted(["%s@example.org" % a.lower(), "%s@example.org/Res" % b,
                   "spam.example"])
    assert await blocklist(c) == want
    # blocking again is harmless
    assert (await block(c, "spam.example"))["type"] == "result"
    assert await blocklist(c) == want
    r = await block(c, "spam.example", "never@blocked.example", op="unblock")
    assert r["type"] == "result", str(r)
    assert await blocklist(c) == [j for j in want if j != "spam.example"]
    r = await c.iq("<unblock xmlns='%s'/>" % NS_BLOCKING, type_="set")
    assert r["type"] == "result", str(r)
    assert await blocklist(c) == []


async def test_list_survives_sessions(server, clients):
    u = server.new_user()
    c = await clients.login(server, u, resource="one")
    assert (await block(c, "troll@example.net"))["type"] == "result"
    c.disconnect()
    await c.wait_closed()
    c2 = await clients.login(server, u, resource="two")
    assert await blocklist(c2) == ["troll@example.net"]


async def test_bad_requests(server, clients):
    c = await clients.login(server, server.new_user())
    # XEP-0191 3.3: a block needs an item
    r = await c.iq("<block xmlns='%s'/>" % NS_BLOCKING, type_="set")
    assert stanza_error(r) == ("modify", "bad-request")
    r = await block(c, "user@")
    assert stanza_error(r)[1] == "jid-malformed"
    r = await c.iq("<block xmlns='%s'><item/></block>" % NS_BLOCKING,
                   type_="set")
    assert stanza_error(r)[1] == "bad-request"
    r = await c.iq("<blocklist xmlns='%s'/>" % NS_BLOCKING, type_="set")
    assert stanza_error(r)[1] == "bad-request"
    # nothing was stored by the refused requests
    assert await blocklist(c) == []


async def test_other_accounts_list_is_forbidden(server, clients):
    u, v = server.new_user(), server.new_user()
    cv = await clients.login(server, v)
    assert (await block(cv, "secret@example.net"))["type"] == "result"
    cu = await clients.login(server, u)
    r = await cu.iq("<blocklist xmlns='%s'/>" % NS_BLOCKING, to=v.jid)
    assert stanza_error(r)[1] == "forbidden"
    assert "secret@example.net" not in str(r)
    r = await cu.iq("<block xmlns='%s'><item jid='x@example.net'/></block>"
                    % NS_BLOCKING, to=v.jid, type_="set")
    assert stanza_error(r)[1] == "forbidden"
    assert await blocklist(cv) == ["secret@example.net"]


async def test_pushes_to_every_resource(server, clients):
    """XEP-0191 3.3, 3.4: the change is pushed (IQ set from the bare JID)
    to the account's resources, the requester included."""
    u = server.new_user()
    c1 = await clients.login(server, u, resource="one")
    c2 = await clients.login(server, u, resource="two")
    await blocklist(c1)
    await blocklist(c2)
    q1, q2 = watch_pushes(c1), watch_pushes(c2)
    assert (await block(c1, "a@example.net", "b@example.net"))["type"] == \
        "result"
    for q, c in ((q1, c1), (q2, c2)):
        p = await next_push(q, c)
        assert p["from"].full in ("", u.jid), p["from"]
        assert p["to"].full == c.boundjid.full
        assert push_items(p) == ("block",
                                 ["a@example.net", "b@example.net"])
    assert (await block(c2, "a@example.net", op="unblock"))["type"] == \
        "result"
    for q, c in ((q1, c1), (q2, c2)):
        assert push_items(await next_push(q, c)) == ("unblock",
                                                     ["a@example.net"])
    r = await c1.iq("<unblock xmlns='%s'/>" % NS_BLOCKING, type_="set")
    assert r["type"] == "result"
    for q, c in ((q1, c1), (q2, c2)):
        assert push_items(await next_push(q, c)) == ("unblock", [])


async def test_blocked_contact_cannot_reach_user(server, clients):
    """XEP-0191 3.5: nothing from a blocked JID is delivered; IQ get/set
    get service-unavailable. The user's own stanzas to it bounce with
    not-acceptable and <blocked/>. Unblocking restores both ways."""
    u, v = server.new_user(), server.new_user()
    cu = await clients.login(server, u, resource="u")
    cv = await clients.login(server, v, resource="v")
    await exchange(cu, cv)
    assert (await block(cu, v.jid))["type"] == "result"
    # inbound: to the full JID and to the bare JID, never delivered
    cv.send_raw("<message to='%s' type='chat' id='%s'><body>hi</body>"
                "</message>" % (cu.boundjid.full, uniq("m")))
    cv.send_raw("<message to='%s' type='chat' id='%s'><body>hi</body>"
                "</message>" % (u.jid, uniq("m")))
    r = await cv.iq("<ping xmlns='urn:xmpp:ping'/>", to=cu.boundjid.full)
    assert stanza_error(r)[1] == "service-unavailable"
    # outbound: refused with the blocking error
    mid = uniq("m")
    cu.send_raw("<message to='%s' type='chat' id='%s'><body>psst</body>"
                "</message>" % (cv.boundjid.full, mid))
    err = await cu.next_message(what="the blocked error")
    assert err["type"] == "error" and err["id"] == mid
    assert stanza_error(err)[1] == "not-acceptable"
    assert err.xml.find("{%s}error/{%s}blocked" % (NS_CLIENT,
                                                  NS_BLOCKING_ERR)) \
        is not None, str(err)
    for _ in range(2):      # every consequence of both has arrived
        await cu.fence()
        await cv.fence()
    while not cu.messages.empty():
        m = cu.messages.get_nowait()
        assert m["body"] != "hi", "a blocked contact's message arrived"
    while not cv.messages.empty():
        m = cv.messages.get_nowait()
        assert m["body"] != "psst", "a message to a blocked JID arrived"
    assert (await block(cu, v.jid, op="unblock"))["type"] == "result"
    await exchange(cv, cu)
    await exchange(cu, cv)


async def test_full_jid_block_spares_other_resources(server, clients):
    """XEP-0191 2: a full JID blocks that resource only."""
    u, v = server.new_user(), server.new_user()
    cu = await clients.login(server, u, resource="u")
    bad = await clients.login(server, v, resource="bad")
    good = await clients.login(server, v, resource="good")
    assert (await block(cu, bad.boundjid.full))["type"] == "result"
    r = await bad.iq("<ping xmlns='urn:xmpp:ping'/>", to=cu.boundjid.full)
    assert stanza_error(r)[1] == "service-unavailable"
    await exchange(good, cu)
    r = await good.iq("<ping xmlns='urn:xmpp:ping'/>", to=cu.boundjid.full)
    assert r["type"] == "result", str(r)


async def test_unblock_all_restores_presence(server, clients):
    """XEP-0191 3.3, 3.4: a subscribed contact that gets blocked sees the
    user go unavailable; after 'unblock all' (an empty <unblock/>) it sees
    the user's current presence again, as after a single unblock."""
    u, v = server.new_user("bu"), server.new_user("bv")
    cu = await online(server, clients, u, resource="u")
    cv = await online(server, clients, v, resource="v")
    await grant(cv, v, cu, u)       # v sees u's presence
    cu.send_raw("<presence><status>here</status></presence>")
    await wait_presence(cv, frm=cu.boundjid.full, type_="available")
    assert (await block(cu, v.jid))["type"] == "result"
    await wait_presence(cv, frm=cu.boundjid.full, type_="unavailable")
    r = await cu.iq("<unblock xmlns='%s'/>" % NS_BLOCKING, type_="set")
    assert r["type"] == "result", str(r)
    p = await wait_presence(cv, frm=cu.boundjid.full, type_="available")
    assert p["status"] == "here", str(p)
    assert await blocklist(cu) == []
