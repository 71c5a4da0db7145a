"""
Group chat after a router crash (docs/internals.md, "Group chat after a
crash"): the c2s processes join each session again to the rooms it was
in (its last join presence, asking for no history), so occupants keep
getting each other's messages without rejoining; XEP-0410 self-ping
answers for them as before, and not-acceptable for someone not joined.
A temporary room the crash ended tells its occupant so (item-not-found).
"""
import os
import signal

import pytest

from conftest import DOMAIN, SLOW
from test_muc import (create, error_of, groupchat, join, login,
                      next_body)
from test_router_restart import restarted

PING = "<ping xmlns='urn:xmpp:ping'/>"


async def crash(srv):
    old = srv.router_pid()
    os.kill(old, signal.SIGKILL)
    await restarted(srv, old, 10 * SLOW)


async def drained(*cs):
    for c in cs:
        await c.fence()
        await c.fence()
        c.pending()


@pytest.mark.kills("router")
async def test_occupants_rebuilt_after_crash(make_server, clients):
    srv = make_server(workers=2, host_options={DOMAIN: {"muc": "yes"}})
    a = await login(srv, clients)
    b = await login(srv, clients)
    c = await login(srv, clients)
    rjid = await create(a, "kept", "alice", conf={"persistentroom": "1"})
    await join(b, "kept", "bob", "<history maxstanzas='5'/>")
    # a temporary room: the crash ends it
    tjid = await create(a, "gone", "alice")
    groupchat(a, rjid, "before")
    await next_body(b, "before")
    await drained(a, b, c)
    await crash(srv)
    # XEP-0410: a rebuilt occupant is joined (its c2s joined it again
    # before this ping, on the same link); someone never joined is not
    r = await b.iq(PING, to=rjid + "/bob")
    assert r["type"] == "result", str(r)
    r = await a.iq(PING, to=rjid + "/alice")
    assert r["type"] == "result", str(r)
    r = await c.iq(PING, to=rjid + "/bob")
    assert error_of(r) == "not-acceptable", str(r)
    # each receives the other's messages, without joining again
    groupchat(a, rjid, "after from alice")
    m = await next_body(b, "after from alice")
    assert m["from"] == rjid + "/alice", str(m)
    groupchat(b, rjid, "after from bob")
    m = await next_body(a, "after from bob")
    assert m["from"] == rjid + "/bob", str(m)
    # the join asked for no history: the message before is not sent again
    await b.fence()
    got = b.pending()
    assert not [s for s in got if ">before<" in s], got
    # the temporary room is gone, and its occupant was told
    assert [s for s in a.pending() if tjid + "/alice" in s and
            "item-not-found" in s], "no word of the gone room"
    r = await a.iq(PING, to=tjid + "/alice")
    assert r["type"] == "error", str(r)
    # a leave after the rebuild is broadcast as usual
    b.send_raw("<presence to='%s/bob' type='unavailable'/>" % rjid)
    p = await a.next_presence(match=lambda p: p["type"] == "unavailable")
    assert p["from"] == rjid + "/bob", str(p)


@pytest.mark.kills("router")
async def test_left_rooms_not_rejoined(make_server, clients):
    """A room left before the crash (unavailable to it), and every room
    after the session's broadcast unavailable, is not joined again."""
    srv = make_server(workers=1, host_options={DOMAIN: {"muc": "yes"}})
    a = await login(srv, clients)
    b = await login(srv, clients)
    d = await login(srv, clients)
    rjid = await create(a, "left", "alice", conf={"persistentroom": "1"})
    await join(b, "left", "bob")
    await join(d, "left", "dave")
    b.send_raw("<presence to='%s/bob' type='unavailable'/>" % rjid)
    await a.next_presence(match=lambda p: p["type"] == "unavailable")
    d.send_raw("<presence type='unavailable'/>")
    await a.next_presence(match=lambda p: p["type"] == "unavailable" and
                          p["from"].resource == "dave")
    d.send_raw("<presence/>")
    await drained(a, b, d)
    await crash(srv)
    r = await a.iq(PING, to=rjid + "/alice")
    assert r["type"] == "result", str(r)
    for x, nick in ((b, "bob"), (d, "dave")):
        r = await x.iq(PING, to="%s/%s" % (rjid, nick))
        assert error_of(r) == "not-acceptable", str(r)


@pytest.mark.kills("router")
async def test_nick_change_kept(make_server, clients):
    """A nick change (7.6) the room took is the nick joined again; one it
    refused (409) leaves the old nick."""
    srv = make_server(workers=1, host_options={DOMAIN: {"muc": "yes"}})
    a = await login(srv, clients)
    b = await login(srv, clients)
    rjid = await create(a, "nicks", "alice", conf={"persistentroom": "1"})
    await join(b, "nicks", "bob")
    b.send_raw("<presence to='%s/robert'/>" % rjid)
    await a.next_presence(match=lambda p: p["from"].resource == "robert")
    b.send_raw("<presence to='%s/alice'/>" % rjid)
    p = await b.next_presence(match=lambda p: p["type"] == "error")
    assert error_of(p) == "conflict", str(p)
    await drained(a, b)
    await crash(srv)
    r = await b.iq(PING, to=rjid + "/robert")
    assert r["type"] == "result", str(r)
    groupchat(a, rjid, "to robert")
    m = await next_body(b, "to robert")
    assert m["from"] == rjid + "/alice", str(m)
