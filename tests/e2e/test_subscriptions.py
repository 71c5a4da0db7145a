"""
Presence subscriptions (RFC 6121 3 and Appendix A): the state machine
driven table-wise from every starting state with each outbound
subscription stanza, pre-approval (3.4), requests kept for an offline
contact, requests to unknown accounts, removal of a subscribed contact
(2.5.2), and subscriptions between sessions on different c2s processes.

A state is the user A's view of the contact B: (to, from, pending out,
pending in). B's view of A is its mirror image (B.from = A.to, B.pi =
A.po, ...). Pending-in is not visible in the roster (RFC 6121 2.1.2.5):
it is checked by logging in a fresh resource, which must get the stored
subscribe again (RFC 6121 3.1.3: the request is delivered whenever the
contact creates an available resource, until approved or denied).
"""
import collections

import pytest

from conftest import DOMAIN, uniq
from imhelp import (drain, items_of, online, ptype, roster_get,
                    roster_remove, settle)

State = collections.namedtuple("State", "to frm po pi")

STATES = {
    "None": State(False, False, False, False),
    "None+PendingOut": State(False, False, True, False),
    "None+PendingIn": State(False, False, False, True),
    "None+PendingOut+In": State(False, False, True, True),
    "To": State(True, False, False, False),
    "To+PendingIn": State(True, False, False, True),
    "From": State(False, True, False, False),
    "From+PendingOut": State(False, True, True, False),
    "Both": State(True, True, False, False),
}

# how A and B get to each state with real stanzas: (sender, type) in turn
SETUP = {
    "None": [],
    "None+PendingOut": [("A", "subscribe")],
    "None+PendingIn": [("B", "subscribe")],
    "None+PendingOut+In": [("A", "subscribe"), ("B", "subscribe")],
    "To": [("A", "subscribe"), ("B", "subscribed")],
    "To+PendingIn": [("A", "subscribe"), ("B", "subscribed"),
                     ("B", "subscribe")],
    "From": [("B", "subscribe"), ("A", "subscribed")],
    "From+PendingOut": [("B", "subscribe"), ("A", "subscribed"),
                        ("A", "subscribe")],
    "Both": [("A", "subscribe"), ("B", "subscribed"), ("B", "subscribe"),
             ("A", "subscribed")],
}


def mirror(s):
    return State(to=s.frm, frm=s.to, po=s.pi, pi=s.po)


def visible(s):
    """(subscription, ask) as a roster shows the state."""
    sub = {(False, False): "none", (True, False): "to",
           (False, True): "from", (True, True): "both"}[(s.to, s.frm)]
    return (sub, s.po)


def expect(a, kind):
    """What A sending kind to B does, per RFC 6121 Appendix A (A.2 for A's
    outbound stanza, A.3 for B's inbound one). Returns (A', B', B gets the
    stanza, B gets A's available presence, A gets B's unavailable,
    B gets A's unavailable)."""
    b = mirror(a)
    deliver = avail_to_b = unavail_to_a = unavail_to_b = False
    if kind == "subscribe":
        # A.2.1: pending out unless already subscribed. A.3.1: delivered
        # unless B already approved it (B then answers subscribed on B's
        # behalf, which A.3.2 does not deliver to A, already 'to') or B
        # already has it pending.
        a2 = a._replace(po=a.po or not a.to)
        deliver = not b.frm and not b.pi
        b2 = b._replace(pi=True) if deliver else b
    elif kind == "subscribed":
        # A.2.2: approves a pending request; else no state change (a
        # pre-approval, 3.4, not visible here). A.3.2: delivered to B when
        # B had asked; 3.1.5: then A's presence goes to B.
        if a.pi:
            a2 = a._replace(frm=True, pi=False)
            deliver = avail_to_b = True
        else:
            a2 = a
        b2 = b._replace(to=True, po=False) if deliver else b
    elif kind == "unsubscribe":
        # A.2.3 / A.3.3; 3.3.3: B's presence is withdrawn from A
        a2 = a._replace(to=False, po=False)
        deliver = b.frm or b.pi
        b2 = b._replace(frm=False, pi=False)
        unavail_to_a = b.frm
    elif kind == "unsubscribed":
        # A.2.4 / A.3.4; 3.2.2: A's presence is withdrawn from B
        a2 = a._replace(frm=False, pi=False)
        deliver = b.to or b.po
        b2 = b._replace(to=False, po=False)
        unavail_to_b = a.frm
    else:
        raise ValueError(kind)
    assert mirror(a2) == b2, (a, kind, a2, b2)
    return a2, b2, deliver, avail_to_b, unavail_to_a, unavail_to_b


async def pair(server, clients, prefix="s"):
    """Two fresh accounts online: roster requested, initial presence."""
    ua, ub = server.new_user(prefix + "a"), server.new_user(prefix + "b")
    a = await online(server, clients, ua, resource="a")
    b = await online(server, clients, ub, resource="b")
    await settle(a, b)
    return ua, ub, a, b


def item_state(items, jid):
    it = items.get(jid)
    return it.visible if it is not None else ("none", False)


def check_pushes(got, who, contact, before, after, steps=1):
    """RFC 6121 3: every visible change of the item is pushed to the
    interested resources with the new state; nothing else is pushed for
    other contacts, and no push shows a state other than the new one
    (after several steps, the last push shows the final state)."""
    mine = []
    for p in got.pushes:
        items = items_of(p)
        assert list(items) == [contact], (
            "%s: push about other items: %s" % (who, p))
        mine.append(items[contact])
    for it in (mine if steps == 1 else mine[-1:]):
        assert it.visible == after, (
            "%s: push shows %s, the state is %s: %s" % (
                who, it.visible, after, got.summary()))
    if after != before:
        assert mine, "%s: no roster push for the change %s -> %s" % (
            who, before, after)


async def drive(a, b, ua, ub, steps):
    for who, kind in steps:
        c, to = (a, ub.jid) if who == "A" else (b, ua.jid)
        c.send_raw("<presence to='%s' type='%s'/>" % (to, kind))
        await settle(a, b)


@pytest.mark.parametrize("kind", ["subscribe", "subscribed", "unsubscribe",
                                  "unsubscribed"])
@pytest.mark.parametrize("start", list(STATES))
async def test_state_machine(server, clients, start, kind):
    ua, ub, a, b = await pair(server, clients)
    await drive(a, b, ua, ub, SETUP[start])
    sa = STATES[start]
    sb = mirror(sa)
    # the setup reached the state: rosters of both sides
    ia, _, _ = await roster_get(a)
    ib, _, _ = await roster_get(b)
    assert item_state(ia, ub.jid) == visible(sa), (
        "setup %s: A's item for B is %s" % (SETUP[start], ia.get(ub.jid)))
    assert item_state(ib, ua.jid) == visible(sb), (
        "setup %s: B's item for A is %s" % (SETUP[start], ib.get(ua.jid)))
    await settle(a, b)

    a2, b2, deliver, avail_to_b, unavail_to_a, unavail_to_b = \
        expect(sa, kind)
    a.send_raw("<presence to='%s' type='%s'/>" % (ub.jid, kind))
    ga, gb = await settle(a, b)
    ctx = "start %s, A sends %s: " % (start, kind)

    # what B receives (RFC 6121 Appendix A.3 'deliver?'), from A's bare
    # JID for the subscription stanza (3.1.2), A's full JID otherwise
    want_b = []
    if deliver:
        want_b.append((ua.jid, kind))
    if avail_to_b:
        want_b.append((a.boundjid.full, "available"))
    if unavail_to_b:
        want_b.append((a.boundjid.full, "unavailable"))
    got_b = [(p["from"].full, ptype(p)) for p in gb.presences]
    # denying a request (A.2.4 from pending in only): B was not receiving
    # A's presence, so an unavailable is neither required nor harmful
    if kind == "unsubscribed" and sa.pi and not sa.frm:
        got_b = [x for x in got_b if x != (a.boundjid.full, "unavailable")]
    assert sorted(got_b) == sorted(want_b), (
        ctx + "B received %s, RFC 6121 A.3 expects %s" % (got_b, want_b))
    if deliver and avail_to_b:
        assert got_b.index((ua.jid, kind)) < got_b.index(
            (a.boundjid.full, "available")), (
            ctx + "presence before the approval: %s" % got_b)

    # what A receives: B's unavailable when A's subscription ends (3.3.3);
    # nothing else (B's auto-reply to a subscribe A already has is not
    # delivered, A.3.2)
    want_a = [(b.boundjid.full, "unavailable")] if unavail_to_a else []
    got_a = [(p["from"].full, ptype(p)) for p in ga.presences]
    if kind == "unsubscribe" and sa.po and not sa.to:
        got_a = [x for x in got_a if x != (b.boundjid.full, "unavailable")]
    assert sorted(got_a) == sorted(want_a), (
        ctx + "A received %s, expected %s" % (got_a, want_a))
    assert not ga.messages and not gb.messages, ga.summary() + gb.summary()

    # roster pushes and the rosters
    check_pushes(ga, ctx + "A", ub.jid, visible(sa), visible(a2))
    check_pushes(gb, ctx + "B", ua.jid, visible(sb), visible(b2))
    ia, _, _ = await roster_get(a)
    ib, _, _ = await roster_get(b)
    assert item_state(ia, ub.jid) == visible(a2), (
        ctx + "A's item for B %s, expected %s" % (ia.get(ub.jid),
                                                  visible(a2)))
    assert item_state(ib, ua.jid) == visible(b2), (
        ctx + "B's item for A %s, expected %s" % (ib.get(ua.jid),
                                                  visible(b2)))

    # pending in, by a fresh resource of each (RFC 6121 3.1.3)
    for user, other, want, name in ((ua, ub, a2.pi, "A"),
                                    (ub, ua, b2.pi, "B")):
        n = await online(server, clients, user, roster=False,
                         resource=uniq("n"))
        got = n.at_login
        subs = [p["from"].full for p in got.presences
                if ptype(p) == "subscribe"]
        assert subs == ([other.jid] if want else []), (
            ctx + "a new resource of %s received subscribe from %s; "
            "pending in is %s" % (name, subs, want))


# ---------------------------------------------------------------------------

async def test_full_cycle_with_presence(server, clients):
    """The common case end to end (RFC 6121 3.1): request, approval, the
    contact's presence flows, mutual subscription, cancellation."""
    ua, ub, a, b = await pair(server, clients)
    a.send_raw("<presence to='%s' type='subscribe'/>" % ub.jid)
    ga, gb = await settle(a, b)
    assert [(p["from"].full, ptype(p)) for p in gb.presences] == \
        [(ua.jid, "subscribe")], gb.summary()
    # A.2.1 / 3.1.2: A's item: none + ask, pushed
    assert [items_of(p)[ub.jid].visible for p in ga.pushes] == \
        [("none", True)], ga.summary()
    b.send_raw("<presence to='%s' type='subscribed'/>" % ua.jid)
    ga, gb = await settle(a, b)
    # 3.1.6: A gets subscribed then B's presence (3.1.5)
    assert [(p["from"].full, ptype(p)) for p in ga.presences] == [
        (ub.jid, "subscribed"), (b.boundjid.full, "available")], \
        ga.summary()
    # now B's presence changes reach A, A's do not reach B (RFC 6121 4.4)
    b.send_raw("<presence><show>away</show><status>out</status></presence>")
    a.send_raw("<presence><show>dnd</show></presence>")
    ga, gb = await settle(a, b)
    pa = ga.pres(frm=b.boundjid.full)
    assert len(pa) == 1 and pa[0]["status"] == "out" and \
        pa[0]["show"] == "away", ga.summary()
    assert not gb.pres(frm=a.boundjid.full), gb.summary()


async def test_preapproval(server, clients):
    """RFC 6121 3.4: subscribed without a pending request is a
    pre-approval: not routed to the contact; the contact's later subscribe
    is approved by the server without the user seeing it, and the contact
    gets subscribed and the user's presence (3.1.5)."""
    ua, ub, a, b = await pair(server, clients, "p")
    a.send_raw("<presence to='%s' type='subscribed'/>" % ub.jid)
    ga, gb = await settle(a, b)
    assert not gb.presences, "pre-approval routed: " + gb.summary()
    b.send_raw("<presence to='%s' type='subscribe'/>" % ua.jid)
    ga, gb = await settle(a, b)
    assert not ga.pres(type_="subscribe"), (
        "a pre-approved request reached the user: " + ga.summary())
    got_b = [(p["from"].full, ptype(p)) for p in gb.presences]
    assert (ua.jid, "subscribed") in got_b, gb.summary()
    assert (a.boundjid.full, "available") in got_b, gb.summary()
    check_pushes(ga, "A", ub.jid, ("none", False), ("from", False))
    ia, _, _ = await roster_get(a)
    ib, _, _ = await roster_get(b)
    assert ia[ub.jid].visible == ("from", False), ia
    assert ib[ua.jid].visible == ("to", False), ib
    # the approval is used up: after unsubscribed, a new request reaches A
    a.send_raw("<presence to='%s' type='unsubscribed'/>" % ub.jid)
    await settle(a, b)
    b.send_raw("<presence to='%s' type='subscribe'/>" % ua.jid)
    ga, gb = await settle(a, b)
    assert [(p["from"].full, ptype(p)) for p in ga.presences] == \
        [(ub.jid, "subscribe")], ga.summary()


async def test_preapproval_shown_in_roster(server, clients):
    """RFC 6121 3.4 / 2.1.2.1: the pre-approved item is pushed to the
    user's interested resources and shown with approved='true' (a server
    SHOULD include the attribute), in pushes and roster results, also when
    the contact was not in the roster before."""
    ua, ub, a, b = await pair(server, clients, "p")
    a.send_raw("<presence to='%s' type='subscribed'/>" % ub.jid)
    ga, gb = await settle(a, b)
    assert ga.pushes, "no push of the pre-approval: " + ga.summary()
    it = items_of(ga.pushes[-1])[ub.jid]
    assert it.visible == ("none", False) and it.approved == "true", it
    items, _, _ = await roster_get(a)
    assert ub.jid in items and items[ub.jid].approved == "true", items


async def test_preapproval_cancelled_by_unsubscribed(server, clients):
    """RFC 6121 3.4: unsubscribed cancels a pre-approval; the contact's
    request then reaches the user."""
    ua, ub, a, b = await pair(server, clients, "p")
    a.send_raw("<presence to='%s' type='subscribed'/>" % ub.jid)
    await settle(a, b)
    a.send_raw("<presence to='%s' type='unsubscribed'/>" % ub.jid)
    await settle(a, b)
    items, _, _ = await roster_get(a)
    if ub.jid in items:
        assert items[ub.jid].approved in (None, "false"), items
    b.send_raw("<presence to='%s' type='subscribe'/>" % ua.jid)
    ga, gb = await settle(a, b)
    assert [(p["from"].full, ptype(p)) for p in ga.presences] == \
        [(ub.jid, "subscribe")], ga.summary()
    assert not gb.pres(type_="subscribed"), gb.summary()


async def test_request_to_offline_contact_delivered_at_login(server,
                                                             clients):
    """RFC 6121 3.1.3: a request for a contact with no available resource
    is kept and delivered when the contact next becomes available, after
    its initial presence, not before."""
    ua, ub = server.new_user("o"), server.new_user("o")
    a = await online(server, clients, ua, resource="a")
    a.send_raw("<presence to='%s' type='subscribe'/>" % ub.jid)
    await settle(a)
    b = await online(server, clients, ub, resource="b", presence=None)
    got = (await settle(b))[0]
    assert not got.presences, ("request delivered before initial "
                               "presence: " + got.summary())
    b.send_raw("<presence/>")
    got = (await settle(b))[0]
    assert [(p["from"].full, ptype(p)) for p in got.pres(type_="subscribe")
            ] == [(ua.jid, "subscribe")], got.summary()
    # and after approval it is not delivered again
    b.send_raw("<presence to='%s' type='subscribed'/>" % ua.jid)
    await settle(a, b)
    n = await online(server, clients, ub, roster=False, resource="n")
    assert not [p for p in n.at_login.presences
                if ptype(p) == "subscribe"], n.at_login.summary()


async def test_request_to_unknown_user_dropped(server, clients):
    """RFC 6121 8.5.1: subscription stanzas to an account that does not
    exist get no error: subscribed, unsubscribe and unsubscribed are
    silently ignored; a subscribe is ignored or answered with unsubscribed
    (the server's choice). The stream stays usable."""
    ua = server.new_user("g")
    a = await online(server, clients, ua, resource="a")
    ghost = "%s@%s" % (uniq("ghost"), DOMAIN)
    for kind in ("subscribed", "unsubscribe", "unsubscribed"):
        a.send_raw("<presence to='%s' type='%s'/>" % (ghost, kind))
    got = (await settle(a))[0]
    assert not got.presences and not got.messages, got.summary()
    a.send_raw("<presence to='%s' type='subscribe'/>" % ghost)
    got = (await settle(a))[0]
    assert [(p["from"].full, ptype(p)) for p in got.presences] in (
        [], [(ghost, "unsubscribed")]), got.summary()
    assert not got.messages, got.summary()
    # RFC 6121 3.1.2: the user's own side still records the request
    items, _, _ = await roster_get(a)
    if ghost in items:
        assert items[ghost].sub in ("none", None), items


async def test_remove_subscribed_contact(server, clients):
    """RFC 6121 2.5.2: removing an item with a subscription both ways
    sends unsubscribe and unsubscribed to the contact (and A's presence is
    withdrawn, 3.2.2); the contact's item becomes none."""
    ua, ub, a, b = await pair(server, clients, "r")
    await drive(a, b, ua, ub, SETUP["Both"])
    r = await roster_remove(a, ub.jid)
    assert r["type"] == "result", str(r)
    ga, gb = await settle(a, b)
    got_b = [(p["from"].full, ptype(p)) for p in gb.presences]
    assert (ua.jid, "unsubscribe") in got_b, gb.summary()
    assert (ua.jid, "unsubscribed") in got_b, gb.summary()
    assert (a.boundjid.full, "unavailable") in got_b, gb.summary()
    assert [items_of(p)[ub.jid].sub for p in ga.pushes] == ["remove"], \
        ga.summary()
    check_pushes(gb, "B", ua.jid, ("both", False), ("none", False), steps=2)
    ia, _, _ = await roster_get(a)
    ib, _, _ = await roster_get(b)
    assert ub.jid not in ia, ia
    assert item_state(ib, ua.jid) == ("none", False), ib
    # presence no longer flows either way
    a.send_raw("<presence><status>x</status></presence>")
    b.send_raw("<presence><status>y</status></presence>")
    ga, gb = await settle(a, b)
    assert not ga.pres(frm=b.boundjid.full), ga.summary()
    assert not gb.pres(frm=a.boundjid.full), gb.summary()


async def test_subscription_across_c2s_processes(server, clients):
    """The state machine does not depend on where sessions live: A and B
    on different c2s processes."""
    ua, ub = server.new_user("x"), server.new_user("x")
    a = await online(server, clients, ua, resource="a")
    pa = server.owner_of(a.local_port)
    b = None
    for i in range(12):
        cand = await online(server, clients, ub, resource="b%d" % i)
        if server.owner_of(cand.local_port) != pa:
            b = cand
            break
        cand.disconnect(wait=1)
        await cand.wait_closed()
    assert b is not None, "no session landed on another c2s process"
    await settle(a, b)
    drain(a)
    await drive(a, b, ua, ub, SETUP["Both"])
    ia, _, _ = await roster_get(a)
    ib, _, _ = await roster_get(b)
    assert ia[ub.jid].visible == ("both", False), ia
    assert ib[ua.jid].visible == ("both", False), ib
    b.send_raw("<presence><status>across</status></presence>")
    await settle(b, a)
    a2 = await online(server, clients, ua, resource="a2")
    # the probe on a2's initial presence brings B's presence (RFC 6121
    # 4.3.2) across processes
    got = a2.at_login.pres(frm=b.boundjid.full)
    assert got and got[-1]["status"] == "across", a2.at_login.summary()
    b.send_raw("<presence to='%s' type='unsubscribed'/>" % ua.jid)
    ga, gb = await settle(a, b)
    got_a = [(p["from"].full, ptype(p)) for p in ga.presences]
    assert (ub.jid, "unsubscribed") in got_a, ga.summary()
    assert (b.boundjid.full, "unavailable") in got_a, ga.summary()
    ia, _, _ = await roster_get(a)
    assert ia[ub.jid].visible == ("from", False), ia
