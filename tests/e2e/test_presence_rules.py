"""
Presence rules that hide a user: a probe from an entity without a 'from'
subscription reveals nothing (RFC 6121 4.3.2: the server answers for the
user and sends no presence), and nothing a blocked contact sends in
presence reaches the user (XEP-0191 3.5): broadcasts, directed presence,
subscription requests, and the answers to the probes of a new resource.
Each has a control that shows the same path delivers when allowed.
"""
import asyncio

from conftest import uniq
from imhelp import fence, online, settle, wait_presence
from test_blocking import block
from test_s2s import open_as_b, pair, read_for, user


async def test_probe_from_non_subscriber_reveals_nothing(make_server,
                                                         tmp_path_factory,
                                                         clients):
    """A server stream authenticated as b.test probes ua@a.test from y
    (no subscription) and then from x (approved): x gets ua's presence,
    y nothing."""
    a, b = pair(make_server, tmp_path_factory, s2s_require_tls="no")
    ua = user(a, "a.test")
    ux, uy = user(b, "b.test", "x"), user(b, "b.test", "y")
    ca = await online(a, clients, ua, resource="ra",
                      presence="<presence><status>secret</status>"
                               "</presence>")
    cx = await online(b, clients, ux, resource="rx")
    cy = await online(b, clients, uy, resource="ry")
    # x subscribes, ua has pre-approved it: x sees ua's presence
    ca.send_raw("<presence to='%s' type='subscribed'/>" % ux.jid)
    await fence(ca)
    cx.send_raw("<presence to='%s' type='subscribe'/>" % ua.jid)
    p = await wait_presence(cx, frm=ca.boundjid.full, type_="available",
                            timeout=15)
    assert p["status"] == "secret", str(p)
    await settle(cx, cy)

    r, w, _ = await open_as_b(a, a.opts["s2s-dialback-secret"])
    try:
        assert b"type='valid'" in await read_for(r, b"type='valid'")
        w.write(("<presence type='probe' from='%s/ry' to='%s'/>"
                 "<presence type='probe' from='%s/rx' to='%s'/>"
                 % (uy.jid, ua.jid, ux.jid, ua.jid)).encode())
        await w.drain()
        # the control: the subscriber's probe is answered with presence
        p = await wait_presence(cx, frm=ca.boundjid.full,
                                type_="available", timeout=15)
        assert p["status"] == "secret", str(p)
        # y's probe went first on the same path: whatever it caused has
        # reached B's router before x's answer did
        await asyncio.sleep(0.5)
        got = settle_nowait(cy)
        leaked = [str(x) for x in got if x["from"].bare == ua.jid and
                  (x.xml.get("type") in (None, "available") or
                   "secret" in str(x))]
        assert not leaked, "a probe from a non-subscriber got %s" % leaked
    finally:
        w.close()


def settle_nowait(c):
    out = []
    while not c.presences.empty():
        out.append(c.presences.get_nowait())
    return out


async def test_presence_from_blocked_contact_not_delivered(server, clients):
    """u sees v's presence (subscription 'to'); once u blocks v, nothing
    of v's presence reaches u: updates, directed presence, a subscribe,
    nor the answer to a new resource's probes. After unblocking, v's next
    update arrives again."""
    u, v = server.new_user("pu"), server.new_user("pv")
    cu = await online(server, clients, u, resource="u")
    cv = await online(server, clients, v, resource="v")
    # u subscribes to v, v approves: u's item is 'to'
    cu.send_raw("<presence to='%s' type='subscribe'/>" % v.jid)
    await settle(cu, cv)
    cv.send_raw("<presence to='%s' type='subscribed'/>" % u.jid)
    await settle(cu, cv)
    cv.send_raw("<presence><status>before</status></presence>")
    p = await wait_presence(cu, frm=cv.boundjid.full, type_="available")
    assert p["status"] == "before", str(p)
    assert (await block(cu, v.jid))["type"] == "result"
    await settle(cu, cv)

    cv.send_raw("<presence><status>blocked-broadcast</status></presence>")
    cv.send_raw("<presence to='%s'><status>blocked-directed</status>"
                "</presence>" % cu.boundjid.full)
    cv.send_raw("<presence to='%s' type='subscribe'/>" % u.jid)
    # a new resource of u probes its contacts: v must not answer
    cu2 = await online(server, clients, u, resource="u2")
    got_u, got_u2, _ = await settle(cu, cu2, cv)
    from_v = [str(p) for p in got_u.presences + got_u2.presences +
              cu2.at_login.presences if p["from"].bare == v.jid]
    assert not from_v, "presence from a blocked contact: %s" % from_v

    # the control: unblocked, v's update reaches u again
    r = await block(cu, v.jid, op="unblock")
    assert r["type"] == "result", str(r)
    await settle(cu, cv)
    cv.send_raw("<presence><status>%s</status></presence>" % uniq("after"))
    p = await wait_presence(cu, frm=cv.boundjid.full, type_="available")
    assert p["status"].startswith("after"), str(p)
