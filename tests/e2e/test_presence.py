"""
Presence (RFC 6121 4) and delivery to bare JIDs by priority (RFC 6121 8.5):
initial presence and probes, updates, unavailable on logout and when a
session dies, the user's own resources, directed presence, negative
priority, the choice of resources for messages to the bare JID, and
entity capabilities (XEP-0115) carried through.
"""
import os
import signal

import pytest

from conftest import DOMAIN, SLOW, session_ended, stanza_error, uniq
from imhelp import (NS_CAPS, drain, grant, online, pkey, ptype,
                    send_message, settle, wait_presence)


async def watchers(server, clients, n_from=1, n_to=1, n_none=1):
    """A and contacts: F watch A (A's item: from), T are watched by A
    (A's item: to), N unrelated. All online and available."""
    ua = server.new_user("pa")
    a = await online(server, clients, ua, resource="a")
    out = {"F": [], "T": [], "N": []}
    for kind, n in (("F", n_from), ("T", n_to), ("N", n_none)):
        for _ in range(n):
            u = server.new_user("p" + kind.lower())
            c = await online(server, clients, u, resource=kind)
            if kind == "F":
                await grant(c, u, a, ua)
            elif kind == "T":
                await grant(a, ua, c, u)
            out[kind].append((u, c))
    everyone = [a] + [c for v in out.values() for _, c in v]
    await settle(*everyone)
    for c in everyone:
        drain(c)
    return ua, a, out


async def test_initial_presence_broadcast(server, clients):
    """RFC 6121 4.2.2: initial presence goes to the contacts with a
    subscription to the user (from/both), not to others; the full stanza
    (show, status, priority) from the new full JID."""
    ua, a, w = await watchers(server, clients, n_from=2)
    a2 = await online(server, clients, ua, resource="a2",
                      presence="<presence><show>chat</show><status>hi"
                      "</status><priority>2</priority></presence>")
    cs = [c for v in w.values() for _, c in v]
    gots = await settle(a2, *cs)
    for (u, c), got in zip(w["F"], gots[1:]):
        ps = got.pres(frm=a2.boundjid.full)
        assert len(ps) == 1, "watcher %s: %s" % (u, got.summary())
        assert ptype(ps[0]) == "available"
        assert ps[0]["show"] == "chat" and ps[0]["status"] == "hi", ps[0]
        assert ps[0]["priority"] == 2, ps[0]
    for _, c in w["T"] + w["N"]:
        got = gots[1 + cs.index(c)]
        assert not got.pres(frm=a2.boundjid.full), (
            "not subscribed to A, yet: " + got.summary())


async def test_probe_on_initial_presence(server, clients):
    """RFC 6121 4.2.2 / 4.3: on initial presence the user receives the
    current presence of every available resource of each contact the user
    is subscribed to (to/both); connected but unavailable resources and
    contacts without 'to' send nothing."""
    ua = server.new_user("pr")
    ub, uc = server.new_user("pr"), server.new_user("pr")
    a = await online(server, clients, ua, resource="a")
    b1 = await online(server, clients, ub, resource="b1")
    c = await online(server, clients, uc, resource="c")
    await grant(a, ua, b1, ub)          # A sees B
    await grant(c, uc, a, ua)           # C sees A (A: from only)
    b2 = await online(server, clients, ub, resource="b2",
                      presence="<presence><show>away</show><status>b2 "
                      "away</status><priority>5</priority></presence>")
    # b3 connected, never available
    await online(server, clients, ub, resource="b3", presence=None)
    b1.send_raw("<presence><status>b1 now</status></presence>")
    await settle(b1, b2, a)
    n = await online(server, clients, ua, resource="n")
    got = n.at_login
    fromb = {p["from"].full: p for p in got.presences
             if p["from"].bare == ub.jid}
    assert set(fromb) == {b1.boundjid.full, b2.boundjid.full}, (
        "probe answers from %s; %s" % (sorted(fromb), got.summary()))
    assert fromb[b1.boundjid.full]["status"] == "b1 now"
    assert fromb[b2.boundjid.full]["show"] == "away"
    assert fromb[b2.boundjid.full]["priority"] == 5
    assert all(ptype(p) == "available" for p in fromb.values())
    assert not [p for p in got.presences if p["from"].bare == uc.jid and
                ptype(p) != "unavailable"], got.summary()


async def test_presence_update_broadcast(server, clients):
    """RFC 6121 4.4.2: a presence update goes to the contacts with from/
    both and to all the user's available resources; not to others."""
    ua, a, w = await watchers(server, clients)
    a2 = await online(server, clients, ua, resource="a2")
    (uf, f), = w["F"]
    await settle(a, a2, f)
    drain(a)
    drain(f)
    a.send_raw("<presence><show>dnd</show><status>busy</status>"
               "<priority>1</priority></presence>")
    gots = await settle(a, a2, f, w["T"][0][1], w["N"][0][1])
    for got, who in zip(gots[:3], ("A itself", "A's other resource",
                                   "the watcher")):
        ps = got.pres(frm=a.boundjid.full)
        assert len(ps) == 1, "%s: %s" % (who, got.summary())
        assert ps[0]["show"] == "dnd" and ps[0]["status"] == "busy", ps[0]
    for got in gots[3:]:
        assert not got.pres(frm=a.boundjid.full), got.summary()


async def test_unavailable_on_logout(server, clients):
    """RFC 6121 4.5.2: unavailable presence goes to the watchers and the
    user's other resources, once (not again when the stream then
    closes)."""
    ua, a, w = await watchers(server, clients)
    a2 = await online(server, clients, ua, resource="a2")
    (uf, f), = w["F"]
    await settle(a, a2, f)
    drain(a2)
    drain(f)
    a.send_raw("<presence type='unavailable'><status>bye</status>"
               "</presence>")
    for c in (f, a2):
        p = await wait_presence(c, frm=a.boundjid.full, type_="unavailable")
        assert p["status"] == "bye", p
    a_full = a.boundjid.full
    a.disconnect(wait=2)
    await a.wait_closed()
    await session_ended(server, a_full)
    gf, ga2 = await settle(f, a2)
    assert not gf.pres(frm=a.boundjid.full), (
        "second unavailable after the stream closed: " + gf.summary())
    assert not ga2.pres(frm=a.boundjid.full), ga2.summary()


async def test_unavailable_on_stream_close(server, clients):
    """The stream ends without unavailable presence: the server sends it
    on the user's behalf (RFC 6121 4.5.3)."""
    ua, a, w = await watchers(server, clients)
    (uf, f), = w["F"]
    a.disconnect(wait=2)
    p = await wait_presence(f, frm=a.boundjid.full, type_="unavailable")
    assert ptype(p) == "unavailable"


async def test_unavailable_on_tcp_drop(server, clients):
    """RFC 6121 4.5.3: the TCP connection goes away without
    </stream:stream>: the watchers get unavailable presence."""
    ua, a, w = await watchers(server, clients)
    (uf, f), = w["F"]
    a.abort()
    await wait_presence(f, frm=a.boundjid.full, type_="unavailable",
                        timeout=10 * SLOW)


@pytest.mark.kills("c2s")
async def test_unavailable_when_c2s_killed(make_server, clients):
    """The c2s process carrying the user's session is killed (SIGKILL):
    the router ends its sessions (DESIGN: as if each sent unavailable), so
    a watcher on another c2s process gets unavailable presence, and so does
    a directed-presence recipient."""
    srv = make_server(workers=2)
    ua, uf, ud = srv.new_user("k"), srv.new_user("k"), srv.new_user("k")
    a = await online(srv, clients, ua, resource="a")
    victim = srv.owner_of(a.local_port)
    f = d = None
    for i in range(16):
        cf = await online(srv, clients, uf, resource="f%d" % i)
        if srv.owner_of(cf.local_port) != victim:
            f = cf
            break
        cf.disconnect(wait=1)
        await cf.wait_closed()
    for i in range(16):
        cd = await online(srv, clients, ud, resource="d%d" % i)
        if srv.owner_of(cd.local_port) != victim:
            d = cd
            break
        cd.disconnect(wait=1)
        await cd.wait_closed()
    assert f and d, "could not place sessions on the other c2s"
    await grant(f, uf, a, ua)
    a.send_raw("<presence to='%s'><status>direct</status></presence>"
               % d.boundjid.full)
    await wait_presence(d, frm=a.boundjid.full, type_="available")
    await settle(a, f, d)
    os.kill(victim, signal.SIGKILL)
    await wait_presence(f, frm=a.boundjid.full, type_="unavailable",
                        timeout=10 * SLOW)
    await wait_presence(d, frm=a.boundjid.full, type_="unavailable",
                        timeout=10 * SLOW)


async def test_own_resources(server, clients):
    """RFC 6121 4.2.2: a new resource's initial presence goes to all the
    user's available resources, itself included, and the new resource
    gets the presence of the others; its unavailable goes to the
    others."""
    u = server.new_user("self")
    a1 = await online(server, clients, u, resource="one",
                      presence="<presence><status>first</status>"
                      "</presence>")
    assert [pkey(p) for p in a1.at_login.presences] == [
        (a1.boundjid.full, "available")], (
        "own initial presence not echoed: " + a1.at_login.summary())
    a2 = await online(server, clients, u, resource="two")
    got2 = a2.at_login
    keys = sorted(pkey(p) for p in got2.presences)
    assert keys == sorted([(a1.boundjid.full, "available"),
                           (a2.boundjid.full, "available")]), got2.summary()
    assert got2.pres(frm=a1.boundjid.full)[0]["status"] == "first"
    got1 = (await settle(a1))[0]
    assert [pkey(p) for p in got1.presences] == [
        (a2.boundjid.full, "available")], got1.summary()
    # a connected resource that is not available gets none of this
    quiet = await online(server, clients, u, resource="quiet",
                         presence=None)
    a2.send_raw("<presence type='unavailable'/>")
    p = await wait_presence(a1, frm=a2.boundjid.full, type_="unavailable")
    assert p is not None
    got = (await settle(a2, a1, quiet))[2]
    assert not got.presences, got.summary()


async def test_directed_presence(server, clients):
    """RFC 6121 4.6: directed presence reaches a non-contact; when the
    user then goes unavailable the server sends unavailable to the
    recipient too (4.6.3) -- for explicit unavailable and for a session
    that dies."""
    ua, ud, ue = (server.new_user("d") for _ in range(3))
    a = await online(server, clients, ua, resource="a")
    d = await online(server, clients, ud, resource="d")
    e = await online(server, clients, ue, resource="e")
    a.send_raw("<presence to='%s'><status>psst</status></presence>"
               % d.boundjid.full)
    p = await wait_presence(d, frm=a.boundjid.full)
    assert ptype(p) == "available" and p["status"] == "psst", p
    a.send_raw("<presence type='unavailable'/>")
    await wait_presence(d, frm=a.boundjid.full, type_="unavailable")
    # a second session directs presence, then drops its TCP connection
    a2 = await online(server, clients, ua, resource="a2")
    a2.send_raw("<presence to='%s'/>" % e.boundjid.full)
    await wait_presence(e, frm=a2.boundjid.full, type_="available")
    a2.abort()
    await wait_presence(e, frm=a2.boundjid.full, type_="unavailable",
                        timeout=10 * SLOW)
    # directed presence is no subscription: later broadcasts do not
    # reach the recipient
    a3 = await online(server, clients, ua, resource="a3")
    a3.send_raw("<presence to='%s'/>" % d.boundjid.full)
    await wait_presence(d, frm=a3.boundjid.full)
    a3.send_raw("<presence><status>broadcast</status></presence>")
    got = (await settle(a3, d))[1]
    assert not got.pres(frm=a3.boundjid.full), got.summary()


# ---------------------------------------------------------------------------
# messages to the bare JID (RFC 6121 8.5.2.1.1) and priority

async def _bodies(cs, sender):
    """Fences; returns {client: [bodies]} received by each."""
    got = await settle(sender, *cs)
    return {c: [m["body"] for m in g.messages] for c, g in zip(cs, got[1:])}


async def test_negative_priority_excluded(server, clients):
    """RFC 6121 4.7.2.3 / 8.5.2.1.1: a resource with negative priority
    never gets messages addressed to the bare JID (chat, normal or
    headline); it still gets those to its full JID."""
    u = server.new_user("np")
    neg = await online(server, clients, u, resource="neg",
                       presence="<presence><priority>-1</priority>"
                       "</presence>")
    pos = await online(server, clients, u, resource="pos",
                       presence="<presence><priority>0</priority>"
                       "</presence>")
    s = await online(server, clients, server.new_user("np"), resource="s")
    for t in ("chat", "normal", None, "headline"):
        send_message(s, u.jid, "bare-%s" % t, type_=t)
    send_message(s, neg.boundjid.full, "direct")
    got = await _bodies([neg, pos], s)
    assert got[neg] == ["direct"], got[neg]
    assert got[pos] == ["bare-chat", "bare-normal", "bare-None",
                        "bare-headline"], got[pos]


async def test_bare_jid_highest_priority(server, clients):
    """RFC 6121 8.5.2.1.1: chat and normal messages to the bare JID go to
    the resource(s) of highest priority -- every resource sharing the
    highest priority gets one (the server's documented choice); headline
    goes to every resource with non-negative priority."""
    u = server.new_user("hp")
    hi1 = await online(server, clients, u, resource="hi1",
                       presence="<presence><priority>5</priority>"
                       "</presence>")
    hi2 = await online(server, clients, u, resource="hi2",
                       presence="<presence><priority>5</priority>"
                       "</presence>")
    lo = await online(server, clients, u, resource="lo",
                      presence="<presence><priority>1</priority>"
                      "</presence>")
    zero = await online(server, clients, u, resource="zero")
    conn = await online(server, clients, u, resource="conn", presence=None)
    s = await online(server, clients, server.new_user("hp"), resource="s")
    send_message(s, u.jid, "c", type_="chat")
    send_message(s, u.jid, "n", type_="normal")
    send_message(s, u.jid, "h", type_="headline")
    got = await _bodies([hi1, hi2, lo, zero, conn], s)
    assert got[hi1] == ["c", "n", "h"], got[hi1]
    assert got[hi2] == ["c", "n", "h"], got[hi2]
    assert got[lo] == ["h"], got[lo]
    assert got[zero] == ["h"], got[zero]
    # RFC 6121 8.5.2.1.1: only available resources count
    assert got[conn] == [], got[conn]
    # priorities change with presence updates
    lo.send_raw("<presence><priority>9</priority></presence>")
    await settle(lo)
    send_message(s, u.jid, "c2", type_="chat")
    got = await _bodies([hi1, hi2, lo], s)
    assert (got[hi1], got[hi2], got[lo]) == ([], [], ["c2"]), got


async def test_bare_jid_message_keeps_addresses(server, clients):
    """A message to the bare JID arrives with the sender's full JID in
    from and the bare JID in to (RFC 6120 8.1.1: to is not rewritten)."""
    u = server.new_user("ad")
    r = await online(server, clients, u, resource="r")
    s = await online(server, clients, server.new_user("ad"), resource="s")
    send_message(s, u.jid, "x")
    m = await r.next_message()
    assert m["from"].full == s.boundjid.full, str(m)
    assert m["to"].full in (u.jid, r.boundjid.full), str(m)


async def test_groupchat_to_bare_jid_error(server, clients):
    """RFC 6121 8.5.2.1.1: a groupchat message to a bare JID is not
    delivered; the sender gets an error, <service-unavailable/>."""
    u = server.new_user("gc")
    r = await online(server, clients, u, resource="r")
    s = await online(server, clients, server.new_user("gc"), resource="s")
    mid = send_message(s, u.jid, "gc", type_="groupchat")
    err = await s.next_message(what="the groupchat error")
    assert err["type"] == "error" and err["id"] == mid, str(err)
    assert stanza_error(err)[1] == "service-unavailable", str(err)
    got = (await settle(r))[0]
    assert not got.messages, got.summary()


async def test_message_to_gone_full_jid(server, clients):
    """RFC 6121 8.5.3.2.1: to a full JID with no such resource while the
    account has an available one: chat and normal are handled as if sent
    to the bare JID (the server's documented choice, which the issue asks
    for); groupchat gets <service-unavailable/>; headline is dropped."""
    u = server.new_user("gf")
    r = await online(server, clients, u, resource="here")
    s = await online(server, clients, server.new_user("gf"), resource="s")
    gone = u.jid + "/" + uniq("gone")
    for t in ("chat", "normal"):
        send_message(s, gone, "%s-body" % t, type_=t)
        m = await r.next_message(what="%s to a gone resource" % t)
        assert m["body"] == "%s-body" % t, str(m)
        assert m["from"].full == s.boundjid.full
    for t in ("groupchat", "headline"):
        mid = send_message(s, gone, "body-%s" % t, type_=t)
        gs, gr = await settle(s, r)
        assert not gr.messages, "%s delivered: %s" % (t, gr.summary())
        for e in gs.messages:
            assert e["type"] == "error" and e["id"] == mid, str(e)
            assert stanza_error(e)[1] == "service-unavailable", str(e)
        if t == "groupchat":
            assert gs.messages, "no error for groupchat: " + gs.summary()


async def test_caps_passed_through(server, clients):
    """XEP-0115: the <c/> element of a presence reaches the contacts as the
    user sent it, in broadcasts and in probe answers."""
    ua, a, w = await watchers(server, clients)
    (uf, f), = w["F"]
    node, ver = "https://example.org/client", "QgayPKawpkPSDYmwT/WM94uAlu0="
    caps = ("<c xmlns='%s' hash='sha-1' node='%s' ver='%s'/>"
            % (NS_CAPS, node, ver))
    a.send_raw("<presence><status>caps</status>%s</presence>" % caps)
    p = await wait_presence(f, frm=a.boundjid.full)
    c = p.xml.find("{%s}c" % NS_CAPS)
    assert c is not None, str(p)
    assert (c.get("hash"), c.get("node"), c.get("ver")) == (
        "sha-1", node, ver), str(p)
    # the stored presence answers the probe of the watcher's new resource
    f2 = await online(server, clients, uf, resource="f2")
    ps = f2.at_login.pres(frm=a.boundjid.full)
    assert ps, f2.at_login.summary()
    c = ps[-1].xml.find("{%s}c" % NS_CAPS)
    assert c is not None and c.get("ver") == ver, str(ps[-1])


async def test_presence_from_is_full_jid(server, clients):
    """RFC 6120 8.1.2.1: broadcast presence carries the sender's full JID,
    whatever the client wrote in from."""
    ua, a, w = await watchers(server, clients)
    (uf, f), = w["F"]
    a.send_raw("<presence from='%s@%s/evil'><status>spoof</status>"
               "</presence>" % (uniq("mallory"), DOMAIN))
    p = await wait_presence(f, type_="available")
    assert p["from"].full == a.boundjid.full, str(p)
