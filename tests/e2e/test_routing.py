"""
Stanza routing (RFC 6120 8, RFC 6121 8.5): delivery between sessions with
the sender's address stamped by the server, the server's own IQ handlers
(ping, disco#info), and the errors for addresses nobody answers for.
"""
import asyncio

from conftest import (DOMAIN, NS_DISCO_INFO, NS_PING, SLOW, exchange,
                      stanza_error, uniq)


async def test_message_delivered_with_full_from(server, clients):
    a = await clients.login(server, server.new_user(), resource="a")
    b = await clients.login(server, server.new_user(), resource="b")
    await exchange(a, b)
    await exchange(b, a)


async def test_spoofed_from_is_replaced(server, clients):
    """RFC 6120 8.1.2.1: the server stamps from with the sender's full JID,
    whatever the client wrote."""
    a = await clients.login(server, server.new_user(), resource="a")
    b = await clients.login(server, server.new_user(), resource="b")
    body = uniq("spoof")
    a.send_raw("<message from='mallory@%s/evil' to='%s' type='chat'>"
               "<body>%s</body></message>" % (DOMAIN, b.boundjid.full, body))
    msg = await b.next_message()
    assert msg["body"] == body
    assert msg["from"].full == a.boundjid.full, str(msg)
    # also a from with only our bare JID gets the full JID
    body = uniq("bare")
    a.send_raw("<message from='%s' to='%s' type='chat'><body>%s</body>"
               "</message>" % (a.boundjid.bare, b.boundjid.full, body))
    msg = await b.next_message()
    assert msg["body"] == body
    assert msg["from"].full == a.boundjid.full, str(msg)


async def test_message_payload_kept(server, clients):
    """Delivery keeps the stanza's content: attributes, extension
    elements, escaped text and non-ASCII characters."""
    a = await clients.login(server, server.new_user(), resource="a")
    b = await clients.login(server, server.new_user(), resource="b")
    body = "x &lt; y &amp; \u00e9\u4e2d\U0001F600"
    a.send_raw("<message to='%s' type='chat' id='keep1' xml:lang='fr'>"
               "<body>%s</body><thread>t-1</thread>"
               "<x xmlns='urn:example:ext' a='1'><y>z</y></x></message>"
               % (b.boundjid.full, body))
    msg = await b.next_message()
    assert msg["body"] == "x < y & \u00e9\u4e2d\U0001F600"
    assert msg["id"] == "keep1"
    assert msg["thread"] == "t-1"
    ext = msg.xml.find("{urn:example:ext}x")
    assert ext is not None and ext.get("a") == "1", str(msg)
    assert ext.find("{urn:example:ext}y").text == "z"


async def test_ping_server(server, clients):
    c = await clients.login(server, server.new_user(), resource="p")
    r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN)
    assert r["type"] == "result", str(r)
    assert r["from"].full == DOMAIN, str(r)
    # an IQ without to is for the account (RFC 6120 10.3.3); a ping to the
    # bare account is answered by the server on its behalf
    r = await c.iq("<ping xmlns='%s'/>" % NS_PING)
    assert r["type"] == "result", str(r)
    assert r["from"].full in ("", c.boundjid.bare), str(r)


async def test_disco_info_server(server, clients):
    c = await clients.login(server, server.new_user(), resource="d")
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=DOMAIN)
    assert r["type"] == "result", str(r)
    q = r.xml.find("{%s}query" % NS_DISCO_INFO)
    assert q is not None, str(r)
    ids = [(i.get("category"), i.get("type"))
           for i in q.findall("{%s}identity" % NS_DISCO_INFO)]
    assert ("server", "im") in ids, str(r)
    feats = {f.get("var") for f in q.findall("{%s}feature" % NS_DISCO_INFO)}
    # XEP-0030 3.1: MUST include disco#info; XEP-0199: ping is answered
    assert NS_DISCO_INFO in feats, feats
    assert NS_PING in feats, feats


async def test_unknown_namespace_to_server(server, clients):
    c = await clients.login(server, server.new_user(), resource="u")
    r = await c.iq("<query xmlns='urn:example:nothing-here'/>", to=DOMAIN)
    assert r["type"] == "error", str(r)
    assert stanza_error(r) == ("cancel", "service-unavailable"), str(r)
    assert r["from"].full == DOMAIN, str(r)


async def test_iq_set_unknown_namespace_to_server(server, clients):
    c = await clients.login(server, server.new_user(), resource="u")
    r = await c.iq("<query xmlns='urn:example:nothing-here'/>", to=DOMAIN,
                   type_="set")
    assert r["type"] == "error", str(r)
    assert stanza_error(r)[1] == "service-unavailable", str(r)


async def test_iq_to_nonexistent_user(server, clients):
    c = await clients.login(server, server.new_user(), resource="i")
    to = "%s@%s" % (uniq("ghost"), DOMAIN)
    r = await c.iq("<query xmlns='jabber:iq:version'/>", to=to)
    assert r["type"] == "error", str(r)
    assert stanza_error(r)[1] == "service-unavailable", str(r)


async def test_iq_to_offline_full_jid(server, clients):
    """RFC 6121 8.5.3.2.2: an IQ to a full JID with no session gets
    service-unavailable."""
    u = server.new_user()
    c = await clients.login(server, server.new_user(), resource="i")
    r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=u.jid + "/gone")
    assert r["type"] == "error", str(r)
    assert stanza_error(r)[1] == "service-unavailable", str(r)


async def test_iq_between_clients(server, clients):
    """An IQ to an online full JID is delivered and its answer routed
    back (slixmpp's xep_0199 answers the ping)."""
    a = await clients.login(server, server.new_user(), resource="a")
    b = await clients.login(server, server.new_user(), resource="b")
    r = await a.iq("<ping xmlns='%s'/>" % NS_PING, to=b.boundjid.full)
    assert r["type"] == "result", str(r)
    assert r["from"].full == b.boundjid.full, str(r)


async def _expect_message_error(c, to, condition="service-unavailable"):
    mid = uniq("m")
    c.send_raw("<message to='%s' type='chat' id='%s'><body>hi</body>"
               "</message>" % (to, mid))
    msg = await c.next_message(what="an error for the message to " + to)
    assert msg["type"] == "error", str(msg)
    assert msg["id"] == mid, str(msg)
    assert stanza_error(msg)[1] == condition, str(msg)
    assert msg["from"].full == to, str(msg)


async def test_message_to_offline_full_jid(server, clients):
    """RFC 6121 8.5.3.2.1: a chat message to a resource that is not
    online is handled as if sent to the bare JID: with no session at all,
    it is stored offline (no error) and delivered at the next login."""
    u = server.new_user()
    c = await clients.login(server, server.new_user(), resource="m")
    body = uniq("off")
    c.send_raw("<message to='%s/nowhere' type='chat'><body>%s</body>"
               "</message>" % (u.jid, body))
    r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN)
    assert r["type"] == "result"
    assert c.messages.empty(), "an error came back for a stored message"
    d = await clients.login(server, u, resource="later")
    d.send_presence()
    msg = await d.next_message()
    assert msg["body"] == body
    assert msg["from"].full == c.boundjid.full


async def test_message_to_former_session(server, clients):
    """After a session ends, a chat message to its full JID goes to the
    bare JID (RFC 6121 8.5.3.2.1): stored, then delivered once."""
    u = server.new_user()
    gone = await clients.login(server, u, resource="bye")
    gone.disconnect(wait=2)
    await gone.wait_closed()
    c = await clients.login(server, server.new_user(), resource="m")
    body = uniq("m")
    c.send_raw("<message to='%s/bye' type='chat'><body>%s</body>"
               "</message>" % (u.jid, body))
    r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN)
    assert r["type"] == "result"
    back = await clients.login(server, u, resource="again")
    back.send_presence()
    msg = await back.next_message()
    assert msg["body"] == body
    assert c.messages.empty(), "the sender got an error"


async def test_message_to_nonexistent_user(server, clients):
    c = await clients.login(server, server.new_user(), resource="m")
    await _expect_message_error(c, "%s@%s/x" % (uniq("ghost"), DOMAIN))


async def test_presence_to_unknown_user_dropped(server, clients):
    """RFC 6121 4.6.2 / 8.5.2: presence to an account that does not exist
    is silently dropped; the stream stays usable."""
    c = await clients.login(server, server.new_user(), resource="p")
    ghost = "%s@%s" % (uniq("ghost"), DOMAIN)
    c.send_raw("<presence to='%s'/>" % ghost)
    c.send_raw("<presence to='%s/r'/>" % ghost)
    c.send_raw("<presence to='%s' type='probe'/>" % ghost)
    await c.quiet(1.0)
    r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN)
    assert r["type"] == "result", str(r)


async def test_error_message_not_bounced(server, clients):
    """RFC 6120 8.3.1: an error stanza is never answered with an error,
    even when it cannot be delivered."""
    c = await clients.login(server, server.new_user(), resource="e")
    c.send_raw("<message to='%s@%s/x' type='error'><error type='cancel'>"
               "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
               "</error></message>" % (uniq("ghost"), DOMAIN))
    await c.quiet(1.0)


async def test_whitespace_keepalive(server, clients):
    a = await clients.login(server, server.new_user(), resource="a")
    b = await clients.login(server, server.new_user(), resource="b")
    for _ in range(3):
        a.send_raw(" ")
        b.send_raw("\n")
        await exchange(a, b)
        a.send_raw(" \t\r\n ")
        await exchange(b, a)
    r = await a.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN)
    assert r["type"] == "result", str(r)


async def test_many_messages_in_order(server, clients):
    a = await clients.login(server, server.new_user(), resource="a")
    b = await clients.login(server, server.new_user(), resource="b")
    n = 200
    for i in range(n):
        a.send_raw("<message to='%s' type='chat'><body>%d</body></message>"
                   % (b.boundjid.full, i))
    got = []
    for _ in range(n):
        got.append(int((await b.next_message())["body"]))
    assert got == list(range(n))


async def test_iq_result_and_error_never_answered(server, clients):
    """RFC 6120 8.2.3: an entity never answers an IQ result or error, even
    one that matches nothing or cannot be delivered."""
    c = await clients.login(server, server.new_user(), resource="q")
    ghost = "%s@%s/x" % (uniq("ghost"), DOMAIN)
    c.send_raw("<iq type='result' id='stray1' to='%s'/>" % DOMAIN)
    c.send_raw("<iq type='result' id='stray2' to='%s'/>" % ghost)
    c.send_raw("<iq type='error' id='stray3' to='%s'><error type='cancel'>"
               "<service-unavailable xmlns='urn:ietf:params:xml:ns:"
               "xmpp-stanzas'/></error></iq>" % ghost)
    answered = []
    for i in (1, 2, 3):
        fut = asyncio.get_running_loop().create_future()
        c._iq_waiters["stray%d" % i] = fut
        answered.append(fut)
    # the router handles c's stanzas in order: an answer to a stray
    # would arrive before the answer to this ping
    r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN)
    assert r["type"] == "result", str(r)
    assert not any(f.done() for f in answered), [
        str(f.result()) for f in answered if f.done()]


async def test_jid_normalised(server, clients):
    """RFC 7622: the localpart and domain are case-insensitive (nodeprep,
    nameprep); the resource is not."""
    a = await clients.login(server, server.new_user(), resource="a")
    b = await clients.login(server, server.new_user(), resource="Res")
    body = uniq("case")
    to = "%s@LocalHost/Res" % b.boundjid.user.upper()
    a.send_raw("<message to='%s' type='chat'><body>%s</body></message>"
               % (to, body))
    msg = await b.next_message()
    assert msg["body"] == body
    assert msg["from"].full == a.boundjid.full
    # a different resource case is a different resource: "/res" is not
    # online, so the message is handled as to the bare JID (RFC 6121
    # 8.5.3.2.1) and reaches the available resource with its 'to' intact
    b.send_presence()
    await asyncio.wait_for(b.presences.get(), 5)
    a.send_raw("<message to='%s/res' type='chat'><body>%s</body></message>"
               % (b.boundjid.bare, body + "2"))
    msg = await b.next_message()
    assert msg["body"] == body + "2"
    assert msg["to"].resource == "res"


async def test_jid_malformed(server, clients):
    """RFC 6120 8.3.3.8: an address that is not a JID gets jid-malformed
    and the stream stays up."""
    c = await clients.login(server, server.new_user(), resource="j")
    for bad in ("a@b@localhost", "@localhost", "x@" + "d" * 1100,
                "x@local host"):
        r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=bad)
        assert r["type"] == "error", (bad, str(r))
        assert stanza_error(r)[1] == "jid-malformed", (bad, str(r))
    r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN)
    assert r["type"] == "result", str(r)


async def test_idle_timeout_and_keepalive(make_server, clients):
    """A silent session is closed after idle-timeout; whitespace
    keepalives (RFC 6120 4.6.1) keep another one open."""
    srv = make_server(idle_timeout="2")
    silent = await clients.login(srv, srv.new_user(), resource="silent")
    alive = await clients.login(srv, srv.new_user(), resource="alive")
    for _ in range(8):
        alive.send_raw(" ")
        await asyncio.sleep(0.5)
    await silent.wait_closed(timeout=1 * SLOW)
    if silent.stream_errors:
        assert silent.stream_errors == ["connection-timeout"], \
            silent.stream_errors
    assert not alive.closed.done(), "keepalives did not keep the session"
    r = await alive.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN)
    assert r["type"] == "result", str(r)


async def test_fifty_clients_all_pairs_reachable(server, clients):
    n = 50
    users = [server.new_user("m") for _ in range(n)]
    cs = await asyncio.gather(*[clients.login(server, u, resource="m")
                                for u in users])
    bodies = {}
    for i, c in enumerate(cs):
        peer = cs[(i + 7) % n]
        body = uniq("ring")
        bodies[peer.boundjid.full] = (body, c.boundjid.full)
        c.send_raw("<message to='%s' type='chat'><body>%s</body></message>"
                   % (peer.boundjid.full, body))
    for c in cs:
        msg = await c.next_message()
        body, sender = bodies[c.boundjid.full]
        assert (msg["body"], msg["from"].full) == (body, sender)
