"""
The state handover of a planned router restart (docs/internals.md,
"Planned router restart"): what only the old router's memory held comes
back in the new one. Group chat occupants stay in their rooms, told of
nothing (same occupants, nicks, roles, XEP-0421 ids); directed presence
still gets its unavailable (RFC 6121 4.6.3); roster pushes still go to
the resources that asked for the roster, and only to them (RFC 6121
2.1.6). A corrupt handover file is logged and ignored.
"""
import os
import signal

import pytest

from conftest import DOMAIN, SLOW
from imhelp import fence, next_push, online, roster_set, track, wait_presence
from test_muc import (NS_MUC, NS_OCC, NS_USER, SVC, codes, create, item,
                      join, login, next_body, groupchat)
from test_router_restart import restarted, router_deaths


async def planned_restart(srv):
    """parleyctl restart router, until the held stanzas are released."""
    old = srv.router_pid()
    n = srv.log_text().count("restart: every process is back")
    srv.ctl("restart", "router")
    await restarted(srv, old, 10 * SLOW)
    await srv_wait(srv, lambda: srv.log_text().count(
        "restart: every process is back") > n, "the release")


async def srv_wait(srv, pred, what):
    from conftest import wait_for
    await wait_for(pred, 10 * SLOW, what)


def occ_id(st):
    o = st.xml.find("{%s}occupant-id" % NS_OCC)
    return o.get("id") if o is not None else None


def room_presences(c, rjid):
    return [p for p in c.pending() if "from='%s" % rjid in p and
            "<presence" in p]


@pytest.mark.kills("router")
async def test_occupants_stay_in_their_rooms(make_server, clients):
    srv = make_server(workers=2, host_options={DOMAIN: {"muc": "yes"}})
    cs = [await login(srv, clients) for _ in range(4)]
    owners = {srv.owner_of(c.local_port) for c in cs}
    assert len(owners) == 2, "clients on one worker only: %s" % owners
    a, b, c, d = cs
    rjid = await create(a, "hand", "alice")
    await join(b, "hand", "bob")
    await join(c, "hand", "carol")
    # a moderator and two participants, and the ids each is known by
    r = await a.iq("<query xmlns='%s#admin'><item nick='bob' role="
                   "'moderator'/></query>" % NS_MUC, to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    ids = {}
    for x, nick in ((a, "alice"), (b, "bob"), (c, "carol")):
        groupchat(x, rjid, "before " + nick)
        m = await next_body(a, "before " + nick)
        ids[nick] = occ_id(m)
    assert len(set(ids.values())) == 3, ids
    for x in (a, b, c):
        await fence(x)
        await fence(x)
        x.pending()
    await planned_restart(srv)
    # a message to the room reaches every occupant, from the same id
    groupchat(b, rjid, "after")
    for x in (a, b, c):
        m = await next_body(x, "after")
        assert m["from"] == rjid + "/bob", str(m)
    # nobody saw a leave or a join
    for x in (a, b, c):
        await fence(x)
        await fence(x)
        left = room_presences(x, rjid)
        assert not left, "%s saw %s" % (x.boundjid, left)
    # the occupant list, roles and occupant ids as before
    others, me = await join(d, "hand", "dave")
    seen = {p["from"].resource: (item(p).get("role"), occ_id(p))
            for p in others}
    assert seen == {"alice": ("moderator", ids["alice"]),
                    "bob": ("moderator", ids["bob"]),
                    "carol": ("participant", ids["carol"])}, seen
    groupchat(c, rjid, "from carol")
    m = await next_body(a, "from carol")
    assert occ_id(m) == ids["carol"], str(m)
    # a leave after the restart is broadcast as usual
    c.send_raw("<presence to='%s/carol' type='unavailable'/>" % rjid)
    p = await a.next_presence(match=lambda p: p["type"] == "unavailable")
    assert p["from"] == rjid + "/carol", str(p)
    assert "handover of" in srv.log_text()
    assert not router_deaths(srv), router_deaths(srv)
    assert not any(x.closed.done() for x in cs)
