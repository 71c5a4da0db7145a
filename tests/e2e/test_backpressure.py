"""
A burst never fails a link (issue 12, item 1). With link-queue-max at its
minimum (1 MiB), a session is owed several times that at login -- large
offline messages, large subscription requests from many senders, large
presences of many contacts -- on the same c2s as a bystander. Before,
the router queued it all at once and closed the c2s link past its cap
("output queue over its cap"), ending every session of that c2s; or
stopped offline delivery until the next login. Now each burst waits for
the link to drain: everything is delivered, in order, and the bystander
stays connected.
"""
import asyncio
import os
import signal
import time

from conftest import DOMAIN, exchange
from test_caps import raw_session
from imhelp import fence, online, send_message, settle

BIG = 200 * 1024
OPTS = {"workers": "1", "link_queue_max": "1M", "lmdb_mapsize": "512M",
        "max_stanza_size": "256K", "subscription_status_max": "64K"}


def filler(n, tag):
    """n bytes of XML-safe text, recognisable by tag."""
    return (tag + ":" + "x" * n)[:n]


def assert_link_intact(srv):
    log = srv.log_text()
    assert "over its cap" not in log, "a link was failed:\n" + \
        "\n".join(line for line in log.splitlines() if "cap" in line)
    assert "link closed" not in log.replace("ctl[0] link closed", ""), \
        "a process link closed"


async def collect_presences(c, want, pred, timeout=60):
    """The bare JIDs of presences matching pred, until all of want came;
    fails after timeout."""
    deadline = time.monotonic() + timeout
    seen = set()
    while not want <= seen:
        assert time.monotonic() < deadline, "missing %s" % (want - seen)
        if c.presences.empty():
            await fence(c)
            continue
        p = c.presences.get_nowait()
        if pred(p):
            seen.add(p["from"].bare)
    return seen


async def bystander(srv, clients):
    w, x = srv.new_user("by"), srv.new_user("bx")
    cw = await online(srv, clients, w, resource="w")
    cx = await online(srv, clients, x, resource="x")
    return cw, cx


async def test_large_offline_mailbox(make_server, clients):
    """40 offline messages of 200 KiB (8x the link cap) all arrive at the
    first login, in order."""
    srv = make_server(**OPTS)
    cw, cx = await bystander(srv, clients)
    u = srv.new_user("big")
    s = await online(srv, clients, srv.new_user("snd"), resource="s")
    n = 40
    for i in range(n):
        send_message(s, u.jid, filler(BIG, "m%d" % i))
        if i % 8 == 7:
            await fence(s)
    await settle(s)
    r = await online(srv, clients, u, resource="r", presence=None)
    r.send_raw("<presence/>")
    got = []
    while len(got) < n:
        m = await r.next_message(timeout=30, what="offline message %d"
                                 % len(got))
        got.append(m["body"].split(":")[0])
    assert got == ["m%d" % i for i in range(n)], got
    await exchange(cw, cx)
    assert_link_intact(srv)


async def test_many_large_subscription_requests(make_server, clients):
    """40 senders each leave a subscription request with a 64 KiB
    status (subscription-status-max at its largest) while the account is
    away (~2.5x the link cap): all are delivered at its login."""
    srv = make_server(**OPTS)
    cw, cx = await bystander(srv, clients)
    u = srv.new_user("sub")
    senders = []
    for i in range(40):
        v = srv.new_user("s%d" % i)
        c = await online(srv, clients, v, resource="s", roster=False)
        c.send_raw("<presence to='%s' type='subscribe'><status>%s</status>"
                   "</presence>" % (u.jid, filler(64 * 1024, v.jid)))
        await fence(c)
        senders.append(v.jid)
        c.disconnect()
    r = await online(srv, clients, u, resource="r", presence=None)
    r.send_raw("<presence/>")
    seen = await collect_presences(
        r, set(senders), lambda p: p.xml.get("type") == "subscribe")
    assert seen == set(senders)
    await exchange(cw, cx)
    assert_link_intact(srv)


async def test_large_presences_of_many_contacts(make_server, clients):
    """12 contacts online with a 200 KiB presence each (~2.4x the link
    cap): the new session gets every one of them."""
    srv = make_server(**OPTS)
    cw, cx = await bystander(srv, clients)
    u = srv.new_user("pr")
    cu = await online(srv, clients, u, resource="u", presence=None)
    contacts = []
    for i in range(12):
        v = srv.new_user("c%d" % i)
        cv = await online(srv, clients, v, resource="c", presence=None)
        # mutual subscription, then a large available presence
        cu.send_raw("<presence to='%s' type='subscribe'/>" % v.jid)
        await settle(cu, cv)
        cv.send_raw("<presence to='%s' type='subscribed'/>" % u.jid)
        await settle(cu, cv)
        cv.send_raw("<presence><status>%s</status></presence>"
                    % filler(BIG, v.jid))
        await settle(cu, cv)
        contacts.append(v.jid)
    cu.disconnect()
    await cu.wait_closed()
    r = await online(srv, clients, u, resource="again", presence=None)
    r.send_raw("<presence/>")
    seen = await collect_presences(
        r, set(contacts), lambda p: p.xml.get("type") in (None, "available"))
    assert set(contacts) <= seen
    await exchange(cw, cx)
    assert_link_intact(srv)


async def test_stuck_c2s_is_cut_off(make_server, clients):
    """A c2s that stops reading (SIGSTOP) while its link is congested
    would hold every other c2s's input paused: after 10 s its link is
    failed, as the cap would have done, and the others are served."""
    srv = make_server(workers="2", link_queue_max="1M")
    users = [srv.new_user("st") for _ in range(8)]
    by_pid = {}
    for u in users:
        c = await online(srv, clients, u, resource="r")
        by_pid.setdefault(srv.owner_of(c.local_port), []).append((u, c))
        if len(by_pid) == 2 and all(len(v) >= 2 for v in by_pid.values()):
            break
    assert len(by_pid) == 2, "every client landed on one c2s"
    (stuck_pid, stuck), (_, live) = sorted(
        by_pid.items(), key=lambda kv: len(kv[1]))[:2]
    victim = stuck[0][0]
    flooder, bystander = live[0][1], live[1][1]
    os.kill(stuck_pid, signal.SIGSTOP)
    try:
        for i in range(16):
            send_message(flooder, victim.jid + "/r", filler(100 * 1024,
                                                           "f%d" % i))
        # the router holds every other c2s's input now
        deadline = time.monotonic() + 20
        while "1 c2s links congested" not in srv.log_text():
            assert time.monotonic() < deadline, "the link never congested"
            await asyncio.sleep(0.05)
        await fence(bystander, timeout=30)
    finally:
        os.kill(stuck_pid, signal.SIGCONT)
    assert "output not read for 10 s" in srv.log_text()


async def bound_raw(srv, user):
    """A raw stream of user, authenticated (PLAIN over TLS) and bound."""
    raw, _ = await raw_session(srv, user)
    raw.mark()
    await raw.send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:"
                   "xml:ns:xmpp-bind'/></iq>")
    await raw.read_until(rb"<jid>[^<]+</jid>")
    return raw


async def test_join_storm_keeps_the_link(make_server):
    """Each group chat join sends the newcomer every occupant's presence:
    output in proportion to the room. Joins read in one batch from the c2s
    link once made, all together, many times the cap; the router closed
    the link ("output queue over its cap") and every session of that c2s
    went with it. Now reading that link waits while its own queue is
    congested: everyone gets in and the link holds."""
    n = 160
    srv = make_server(host_options={DOMAIN: {"muc": "yes"}},
                      muc_rate="100000", **OPTS)
    room = "storm@conference." + DOMAIN
    raws = await asyncio.gather(*[bound_raw(srv, srv.new_user("j"))
                                  for _ in range(n)])
    try:
        owner = raws[0]
        await owner.send("<presence to='%s/owner'><x xmlns='http://jabber"
                         ".org/protocol/muc'/></presence>" % room)
        await owner.read_until(rb"code='201'")
        await owner.send("<iq type='set' id='cfg' to='%s'><query xmlns='"
                         "http://jabber.org/protocol/muc#owner'><x xmlns='"
                         "jabber:x:data' type='submit'/></query></iq>"
                         % room)
        await owner.read_until(rb"<iq\b[^>]*id='cfg'")
        for i, r in enumerate(raws[1:], 1):
            r.mark()
            r.w.write(("<presence to='%s/n%d'><x xmlns='http://jabber.org/"
                       "protocol/muc'/></presence>" % (room, i)).encode())
        await asyncio.gather(*[r.w.drain() for r in raws[1:]])
        # each newcomer's own presence (110) comes after the others'
        await asyncio.gather(*[
            r.read_until(rb"<presence [^>]*from='%s/n%d'>"
                         rb"(?:(?!</presence>).)*code='110'"
                         % (room.encode(), i), timeout=40)
            for i, r in enumerate(raws[1:], 1)])
    finally:
        for r in raws:
            r.close()
    assert_link_intact(srv)
