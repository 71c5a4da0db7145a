"""
An account's life around its password and its removal (issue 12, item
12): an in-band password change ends the account's other sessions, as
parleyctl passwd does; a removed account leaves nothing behind (no last
activity written by its closing sessions), and a new account of the same
name inherits no subscription or pending request.
"""
from conftest import DOMAIN, User
from imhelp import fence, online, ptype, roster_get, settle
from test_register import NS_REGISTER, reg_set

NS_LAST = "jabber:iq:last"


async def test_password_change_ends_other_sessions(server, clients):
    u = server.new_user()
    keep = await clients.login(server, u, resource="keep")
    other = await clients.login(server, u, resource="other")
    r = await keep.iq(reg_set(u.local, "fresh-pw"), to=DOMAIN, type_="set")
    assert r["type"] == "result", str(r)
    await other.wait_closed()
    assert "not-authorized" in other.stream_errors
    # the session that asked stays
    await fence(keep)


async def _remove(c):
    r = await c.iq("<query xmlns='%s'><remove/></query>" % NS_REGISTER,
                   type_="set")
    assert r["type"] == "result", str(r)
    await c.wait_closed()


async def test_removed_account_leaves_no_last_activity(server, clients):
    """The session closed by the removal was available: before the fix
    its unavailable presence wrote a last-activity record after the
    account's data was deleted, and the new account found it."""
    u = server.new_user()
    c = await online(server, clients, u, resource="old")
    await _remove(c)
    server.adduser(u.jid, u.password)
    c = await clients.login(server, u, resource="new")
    r = await c.iq("<query xmlns='%s'/>" % NS_LAST, to=u.jid)
    assert r["type"] == "error", "a last activity survived: %s" % r
    assert r["error"]["condition"] == "item-not-found", str(r)


async def test_reused_name_inherits_no_subscription(server, clients):
    """u asked v for a subscription while v was away, and shared
    presence with w; u's account goes and comes back: v gets no request
    from the new u, w's item for u is none, and the new u sees nobody."""
    u, v, w = server.new_user("ru"), server.new_user("rv"), \
        server.new_user("rw")
    cu = await online(server, clients, u, resource="u")
    cw = await online(server, clients, w, resource="w")
    cu.send_raw("<presence to='%s' type='subscribe'/>" % v.jid)
    cu.send_raw("<presence to='%s' type='subscribe'/>" % w.jid)
    await settle(cu, cw)
    cw.send_raw("<presence to='%s' type='subscribed'/>" % u.jid)
    cw.send_raw("<presence to='%s' type='subscribe'/>" % u.jid)
    await settle(cu, cw)
    cu.send_raw("<presence to='%s' type='subscribed'/>" % w.jid)
    await settle(cu, cw)
    items, _, _ = await roster_get(cw)
    assert items[u.jid].sub == "both", items
    await _remove(cu)
    await settle(cw)
    server.adduser(u.jid, "another-pw")
    nu = User(u.jid, "another-pw")
    cu = await online(server, clients, nu, resource="again")
    items, _, _ = await roster_get(cu)
    assert items == {}, items
    assert not [p for p in cu.at_login.presences
                if p["from"].bare != u.jid], cu.at_login.summary()
    cv = await online(server, clients, v, resource="v")
    reqs = [p for p in cv.at_login.presences
            if ptype(p) == "subscribe" and p["from"].bare == u.jid]
    assert not reqs, "a request of the removed account survived: %s" % (
        cv.at_login.summary())
    items, _, _ = await roster_get(cw)
    assert items[u.jid].visible == ("none", False), items
    got, = await settle(cw)
    assert not [p for p in got.presences if p["from"].bare == u.jid and
                ptype(p) == "available"], got.summary()
