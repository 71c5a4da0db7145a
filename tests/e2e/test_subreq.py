"""
Subscription requests waiting for an answer (issue 12, item 3, that
part): kept compactly -- who, when, and the status cut to
subscription-status-max -- and redelivered at login rebuilt as a
stanza with a XEP-0203 delay; at most subscription-pending-max per
account and subscription-pending-per-domain from one remote domain; a
request past a quota is refused with 'unsubscribed' (RFC 6121 3.1.3: the
server answers for the user).
"""
from conftest import DOMAIN, STANZA_TIMEOUT
from imhelp import NS_DELAY, fence, online, settle, wait_presence
from test_s2s import pair, user


async def asker(srv, clients, u, status=""):
    """A new account that asks u for a subscription; returns it and its
    client."""
    v = srv.new_user("ask")
    c = await online(srv, clients, v, resource="a")
    body = "<status>%s</status>" % status if status else ""
    c.send_raw("<presence to='%s' type='subscribe'>%s</presence>"
               % (u.jid, body))
    await settle(c)
    return v, c


async def requests_at_login(srv, clients, u):
    r = await online(srv, clients, u, resource="r", presence=None)
    r.send_raw("<presence/>")
    got, = await settle(r)
    return got.pres("subscribe")


async def test_status_capped_and_stamped(make_server, clients):
    srv = make_server(subscription_status_max="100")
    u = srv.new_user("away")
    long_status = "\u00e9" * 400      # two bytes each: cut on a boundary
    v, _ = await asker(srv, clients, u, long_status)
    got = await requests_at_login(srv, clients, u)
    assert len(got) == 1, got
    p = got[0]
    assert p["from"].bare == v.jid and p["to"].bare == u.jid, str(p)
    assert p["status"] == "\u00e9" * 50, repr(p["status"])
    d = p.xml.find("{%s}delay" % NS_DELAY)
    assert d is not None and d.get("from") == DOMAIN, str(p)


async def test_quota_per_account(make_server, clients):
    srv = make_server(subscription_pending_max="3")
    u = srv.new_user("full")
    askers = [await asker(srv, clients, u) for _ in range(3)]
    v = srv.new_user("ask")
    c = await online(srv, clients, v, resource="a")
    c.send_raw("<presence to='%s' type='subscribe'/>" % u.jid)
    # the fourth is refused for the user
    await wait_presence(c, frm=u.jid, type_="unsubscribed")
    got = await requests_at_login(srv, clients, u)
    assert sorted(p["from"].bare for p in got) == \
        sorted(a.jid for a, _ in askers)


async def test_quota_per_remote_domain(make_server, tmp_path_factory,
                                       clients):
    """b.test keeps 2 requests from a.test for one account; the third
    sender of a.test is refused, a local sender is not."""
    a, b = pair(make_server, tmp_path_factory,
                subscription_pending_per_domain="2")
    ub = user(b, "b.test", "far")
    far = []
    for i in range(3):
        ua = user(a, "a.test", "r%d" % i)
        ca = await online(a, clients, ua, resource="r")
        ca.send_raw("<presence to='%s' type='subscribe'/>" % ub.jid)
        if i < 2:
            await fence(ca)
            far.append(ua.jid)
        else:
            await wait_presence(ca, frm=ub.jid, type_="unsubscribed",
                                timeout=3 * STANZA_TIMEOUT)
    local = user(b, "b.test", "near")
    cl = await online(b, clients, local, resource="n")
    cl.send_raw("<presence to='%s' type='subscribe'/>" % ub.jid)
    await settle(cl)
    got = await requests_at_login(b, clients, ub)
    assert sorted(p["from"].bare for p in got) == sorted(far + [local.jid])
