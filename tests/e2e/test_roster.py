"""
Roster management (RFC 6121 2) and roster versioning (RFC 6121 2.6,
XEP-0237): get, set, update, remove, the pushes to interested resources,
the error cases of RFC 6121 2.3.3 and 2.5.3, the item limit, and
persistence across a restart.
"""
from conftest import (DOMAIN, NS_BIND, NS_SASL, Raw, parse_features,
                      sasl_plain, stanza_error, uniq)
from imhelp import (NS_PREAPPROVAL, NS_ROSTER, NS_ROSTERVER, drain,
                    items_of, next_push, online, ptype, query_of, roster_get,
                    roster_remove, roster_set, settle, track)

# the server's limit on a name or a group name (bytes), docs/ and
# router/roster.c; RFC 6121 2.3.3 leaves the value to the server
TEXT_MAX = 1023


def contact():
    return "%s@%s" % (uniq("c"), DOMAIN)


def assert_error(r, condition, what):
    assert r["type"] == "error", "%s: expected <%s/>, got %s" % (
        what, condition, r)
    conds = condition if isinstance(condition, tuple) else (condition,)
    assert stanza_error(r)[1] in conds, "%s: expected <%s/>, got %s" % (
        what, condition, r)


async def test_get_empty_then_items(server, clients):
    """RFC 6121 2.1.3: a roster get is answered with the items; an empty
    roster is an empty query."""
    c = await clients.login(server, server.new_user(), resource="r")
    items, _, r = await roster_get(c)
    assert query_of(r) is not None, "roster result without <query/>: %s" % r
    assert items == {}, items
    j1, j2 = contact(), contact()
    assert (await roster_set(c, j1, name="One", groups=["G"]))["type"] == \
        "result"
    assert (await roster_set(c, j2))["type"] == "result"
    items, _, _ = await roster_get(c)
    assert set(items) == {j1, j2}, items
    assert items[j1].name == "One" and items[j1].groups == ["G"], items[j1]
    # RFC 6121 2.1.2.5: a new item has subscription none, no ask
    assert items[j1].visible == ("none", False), items[j1]
    assert items[j2].name is None and items[j2].groups == [], items[j2]


async def test_set_result_and_push_to_interested_resources(server, clients):
    """RFC 6121 2.3.2: the result goes to the requesting resource and a
    push with the item to every interested resource (2.2: a resource that
    requested the roster), the requester included; a resource that never
    requested the roster gets no push."""
    u = server.new_user()
    a = await clients.login(server, u, resource="a")
    b = await clients.login(server, u, resource="b")
    n = track(await clients.login(server, u, resource="n"))
    await roster_get(a)
    await roster_get(b)
    j = contact()
    r = await roster_set(a, j, name="Nurse", groups=["Servants", "Staff"])
    assert r["type"] == "result", str(r)
    assert query_of(r) is None or len(query_of(r)) == 0, (
        "a roster set result carries no items: %s" % r)
    for c in (a, b):
        p = await next_push(c, what="the push of the new item")
        items = items_of(p)
        assert list(items) == [j], str(p)
        it = items[j]
        assert it.name == "Nurse", it
        assert sorted(it.groups) == ["Servants", "Staff"], it
        assert it.visible == ("none", False), it
        # RFC 6121 2.1.6: a push comes from the user's bare JID or has no
        # from at all
        assert p["from"].full in ("", u.jid), str(p)
        assert p["to"].full == c.boundjid.full, str(p)
    got = (await settle(a, b, n))[2]
    assert not got.pushes, "not interested, yet pushed: " + got.summary()


async def test_update_item(server, clients):
    """RFC 6121 2.4: a set of an existing item replaces its name and
    groups (no group elements: in no group)."""
    c = await clients.login(server, server.new_user(), resource="r")
    await roster_get(c)
    j = contact()
    assert (await roster_set(c, j, name="Old", groups=["A", "B"]))["type"] \
        == "result"
    await next_push(c)
    r = await roster_set(c, j, name="New", groups=["C"])
    assert r["type"] == "result", str(r)
    p = await next_push(c, what="the push of the update")
    it = items_of(p)[j]
    assert (it.name, it.groups) == ("New", ["C"]), it
    # no name, no groups: both gone
    assert (await roster_set(c, j))["type"] == "result"
    it = items_of(await next_push(c))[j]
    assert (it.name, it.groups) == (None, []), it
    items, _, _ = await roster_get(c)
    assert list(items) == [j], items
    assert (items[j].name, items[j].groups) == (None, []), items[j]


async def test_remove_item(server, clients):
    """RFC 6121 2.5.2: subscription='remove' deletes the item, answers
    with a result and pushes the item with subscription='remove' to every
    interested resource."""
    u = server.new_user()
    a = await clients.login(server, u, resource="a")
    b = await clients.login(server, u, resource="b")
    await roster_get(a)
    await roster_get(b)
    j, keep = contact(), contact()
    for x in (j, keep):
        assert (await roster_set(a, x, name="N"))["type"] == "result"
    await settle(a, b)
    r = await roster_remove(b, j)
    assert r["type"] == "result", str(r)
    for c in (a, b):
        p = await next_push(c, what="the push of the removal")
        items = items_of(p)
        assert list(items) == [j], str(p)
        assert items[j].sub == "remove", str(p)
    items, _, _ = await roster_get(a)
    assert list(items) == [keep], items


async def test_remove_unknown_item(server, clients):
    """RFC 6121 2.5.3: removing an item that is not in the roster gets
    <item-not-found/>."""
    c = await clients.login(server, server.new_user(), resource="r")
    await roster_get(c)
    r = await roster_remove(c, contact())
    assert_error(r, "item-not-found", "remove of an unknown item")
    got = (await settle(c))[0]
    assert not got.pushes, got.summary()


async def test_set_two_items_bad_request(server, clients):
    """RFC 6121 2.3.3: a roster set with more than one item gets
    <bad-request/> and changes nothing."""
    c = await clients.login(server, server.new_user(), resource="r")
    await roster_get(c)
    j1, j2 = contact(), contact()
    r = await roster_set(c, None, raw="<query xmlns='%s'><item jid='%s'/>"
                         "<item jid='%s'/></query>" % (NS_ROSTER, j1, j2))
    assert_error(r, "bad-request", "roster set with two items")
    # none at all is not one item either
    r = await roster_set(c, None, raw="<query xmlns='%s'/>" % NS_ROSTER)
    assert_error(r, "bad-request", "roster set with no item")
    items, _, _ = await roster_get(c)
    assert items == {}, items
    got = (await settle(c))[0]
    assert not got.pushes, got.summary()


async def test_set_duplicate_groups_bad_request(server, clients):
    """RFC 6121 2.3.3: the same group twice in an item: <bad-request/>."""
    c = await clients.login(server, server.new_user(), resource="r")
    r = await roster_set(c, contact(), groups=["Dup", "Dup"])
    assert_error(r, "bad-request", "duplicate groups")
    # different groups are fine, even when they differ only in case
    r = await roster_set(c, contact(), groups=["Dup", "dup"])
    assert r["type"] == "result", str(r)


async def test_set_empty_group_not_acceptable(server, clients):
    """RFC 6121 2.3.3: a <group/> of zero length: <not-acceptable/>."""
    c = await clients.login(server, server.new_user(), resource="r")
    j = contact()
    for raw in ("<group/>", "<group></group>"):
        r = await roster_set(c, None, raw="<query xmlns='%s'><item jid='%s'>"
                             "%s</item></query>" % (NS_ROSTER, j, raw))
        assert_error(r, "not-acceptable", "empty group %s" % raw)
    items, _, _ = await roster_get(c)
    assert j not in items, items


async def test_set_name_and_group_length_limit(server, clients):
    """RFC 6121 2.3.3: a name or a group longer than the server's limit:
    <not-acceptable/>. The limit itself is accepted."""
    c = await clients.login(server, server.new_user(), resource="r")
    j = contact()
    r = await roster_set(c, j, name="n" * (TEXT_MAX + 1))
    assert_error(r, "not-acceptable", "name of %d bytes" % (TEXT_MAX + 1))
    r = await roster_set(c, j, groups=["g" * (TEXT_MAX + 1)])
    assert_error(r, "not-acceptable", "group of %d bytes" % (TEXT_MAX + 1))
    items, _, _ = await roster_get(c)
    assert j not in items, items
    # bytes, not characters: 342 three-byte characters are 1026 bytes
    r = await roster_set(c, j, name="\u20ac" * 342)
    assert_error(r, "not-acceptable", "name of 1026 UTF-8 bytes")
    r = await roster_set(c, j, name="n" * TEXT_MAX, groups=["g" * TEXT_MAX])
    assert r["type"] == "result", str(r)
    items, _, _ = await roster_get(c)
    assert items[j].name == "n" * TEXT_MAX, items[j]
    assert items[j].groups == ["g" * TEXT_MAX], items[j]


async def test_set_bad_jid(server, clients):
    """An item whose jid is not a JID (RFC 7622) is refused and nothing is
    stored. RFC 6121 2.3.3 names no condition for it; RFC 6120 8.3.3.8
    (jid-malformed) and 8.3.3.1 (bad-request) both describe it."""
    c = await clients.login(server, server.new_user(), resource="r")
    await roster_get(c)
    for bad in ("a@b@" + DOMAIN, "@" + DOMAIN, "x@local host",
                "x@" + "d" * 1100):
        r = await roster_set(c, bad)
        assert_error(r, ("jid-malformed", "bad-request"),
                     "roster set of %r" % bad[:40])
    r = await roster_set(c, None, raw="<query xmlns='%s'><item name='x'/>"
                         "</query>" % NS_ROSTER)
    assert_error(r, ("jid-malformed", "bad-request"), "item without jid")
    items, _, _ = await roster_get(c)
    assert items == {}, items
    got = (await settle(c))[0]
    assert not got.pushes, got.summary()


async def test_set_jid_normalised(server, clients):
    """The item's jid is stored prepared (RFC 7622): case variants of the
    same bare JID are one item; a resource is not kept (RFC 6121 2.1.1
    uses bare JIDs)."""
    c = await clients.login(server, server.new_user(), resource="r")
    local = uniq("c")
    r = await roster_set(c, "%s@%s" % (local.upper(), DOMAIN.upper()))
    assert r["type"] == "result", str(r)
    r = await roster_set(c, "%s@%s" % (local, DOMAIN), name="same")
    assert r["type"] == "result", str(r)
    items, _, _ = await roster_get(c)
    assert list(items) == ["%s@%s" % (local, DOMAIN)], items
    assert items["%s@%s" % (local, DOMAIN)].name == "same"


async def test_set_ignores_subscription_and_ask(server, clients):
    """RFC 6121 2.1.2.5: in a roster set the server ignores any
    subscription value other than 'remove'; the subscription state and
    ask (2.1.2.2) are the server's to set, driven by presence."""
    c = await clients.login(server, server.new_user(), resource="r")
    await roster_get(c)
    j = contact()
    r = await roster_set(c, j, name="N",
                         extra=" subscription='both' ask='subscribe'")
    assert r["type"] == "result", str(r)
    it = items_of(await next_push(c))[j]
    assert it.visible == ("none", False), it
    items, _, _ = await roster_get(c)
    assert items[j].visible == ("none", False), items[j]
    for sub in ("to", "from", "none", "bogus"):
        r = await roster_set(c, j, name="N2", extra=" subscription='%s'"
                             % sub)
        assert r["type"] == "result", (sub, str(r))
    items, _, _ = await roster_get(c)
    assert items[j].visible == ("none", False), items[j]
    assert items[j].name == "N2"


async def test_set_other_users_roster_forbidden(server, clients):
    """RFC 6121 2.3.3: a roster set by someone not authorised to change the
    roster (another account) gets <forbidden/>."""
    owner = server.new_user()
    c = await clients.login(server, server.new_user(), resource="r")
    r = await c.iq("<query xmlns='%s'><item jid='%s'/></query>"
                   % (NS_ROSTER, contact()), to=owner.jid, type_="set")
    assert_error(r, "forbidden", "roster set to another account")
    o = await clients.login(server, owner, resource="o")
    items, _, _ = await roster_get(o)
    assert items == {}, items


async def test_own_bare_jid_allowed(server, clients):
    """RFC 6121 sets no rule against the user's own bare JID in the
    roster; the server stores it like any contact."""
    u = server.new_user()
    c = await clients.login(server, u, resource="r")
    await roster_get(c)
    r = await roster_set(c, u.jid, name="me")
    assert r["type"] == "result", str(r)
    it = items_of(await next_push(c))[u.jid]
    assert it.name == "me", it
    items, _, _ = await roster_get(c)
    assert items[u.jid].name == "me"


async def test_roster_max_items(make_server, clients):
    """roster-max-items: the item past the limit is refused and not
    stored; the existing items can still be updated and removed, after
    which a new one fits. RFC 6121 2.3.3 names no condition for a roster
    size limit; the refusal must be an error that says the request is not
    allowed (not-allowed, RFC 6120 8.3.3.10) or exceeds a limit
    (resource-constraint 8.3.3.18, policy-violation 8.3.3.12)."""
    srv = make_server(roster_max_items=3)
    c = await clients.login(srv, srv.new_user(), resource="r")
    await roster_get(c)
    js = [contact() for _ in range(4)]
    for j in js[:3]:
        assert (await roster_set(c, j))["type"] == "result"
    r = await roster_set(c, js[3], name="four")
    assert_error(r, ("not-allowed", "resource-constraint",
                     "policy-violation"), "the 4th item with a limit of 3")
    await settle(c)
    drain(c)
    items, _, _ = await roster_get(c)
    assert set(items) == set(js[:3]), items
    # updating an existing item is not a new item
    r = await roster_set(c, js[0], name="renamed")
    assert r["type"] == "result", str(r)
    assert (await roster_remove(c, js[1]))["type"] == "result"
    r = await roster_set(c, js[3], name="four")
    assert r["type"] == "result", str(r)
    items, _, _ = await roster_get(c)
    assert set(items) == {js[0], js[2], js[3]}, items


async def test_roster_max_items_holds_for_subscriptions(make_server,
                                                       clients):
    """The limit also bounds the items the server makes itself: a
    subscription request from a stranger to a full roster is denied
    (unsubscribed, so the requester does not wait forever) and leaves no
    item; the user's own subscribe to a new contact is refused with an
    error and not sent."""
    srv = make_server(roster_max_items=2)
    u = srv.new_user("full")
    c = await online(srv, clients, u, resource="r")
    for _ in range(2):
        assert (await roster_set(c, contact()))["type"] == "result"
    v = srv.new_user("asker")
    cv = await online(srv, clients, v, resource="v")
    cv.send_raw("<presence to='%s' type='subscribe'/>" % u.jid)
    gc, gv = await settle(c, cv)
    assert not [p for p in gc.presences if ptype(p) == "subscribe"], \
        gc.summary()
    assert (u.jid, "unsubscribed") in {(p["from"].bare, ptype(p))
                                       for p in gv.presences}, gv.summary()
    items, _, _ = await roster_get(cv)
    assert items[u.jid].visible == ("none", False), items
    items, _, _ = await roster_get(c)
    assert v.jid not in items and len(items) == 2, items
    # outbound: a subscribe that would need a third item
    c.send_raw("<presence to='%s' type='subscribe' id='full1'/>" % v.jid)
    gc, gv = await settle(c, cv)
    errs = [p for p in gc.presences if ptype(p) == "error"]
    assert errs and errs[0]["id"] == "full1", gc.summary()
    assert stanza_error(errs[0])[1] == "not-allowed", str(errs[0])
    assert not [p for p in gv.presences if ptype(p) == "subscribe"], \
        gv.summary()


# ---------------------------------------------------------------------------
# versioning

async def test_versioning(server, clients):
    """RFC 6121 2.6 / XEP-0237: results and pushes carry ver; every change
    gives a new ver; a get with the current ver is answered with an empty
    result; with an older, unknown or empty ver, the full roster."""
    c = await clients.login(server, server.new_user(), resource="r")
    items, v0, r = await roster_get(c, ver="")
    assert items == {}
    assert v0 is not None and v0 != "", "no ver in the result: %s" % r
    # up to date: an empty IQ result
    r = await c.iq("<query xmlns='%s' ver='%s'/>" % (NS_ROSTER, v0))
    assert r["type"] == "result", str(r)
    assert query_of(r) is None, "up-to-date get not empty: %s" % r
    seen = [v0]
    j1, j2 = contact(), contact()
    steps = [lambda: roster_set(c, j1, name="a"),
             lambda: roster_set(c, j2),
             lambda: roster_set(c, j1, name="b", groups=["g"]),
             lambda: roster_remove(c, j2)]
    for step in steps:
        r = await step()
        assert r["type"] == "result", str(r)
        p = await next_push(c)
        pv = query_of(p).get("ver")
        assert pv, "push without ver: %s" % p
        assert pv not in seen, "ver %s reused after a change (%s)" % (
            pv, seen)
        _, gv, _ = await roster_get(c, ver=seen[-1])
        assert gv == pv, ("get after a push: ver %s, the push said %s"
                          % (gv, pv))
        seen.append(pv)
    # the current ver: empty; the first, an unknown and an empty one: the
    # whole roster with the current ver
    r = await c.iq("<query xmlns='%s' ver='%s'/>" % (NS_ROSTER, seen[-1]))
    assert r["type"] == "result" and query_of(r) is None, str(r)
    for old in (seen[0], seen[2], "no-such-version", ""):
        items, v, r = await roster_get(c, ver=old)
        assert v == seen[-1], "ver %s for a get with %r" % (v, old)
        assert set(items) == {j1}, (old, items)
        assert items[j1].name == "b" and items[j1].groups == ["g"]


async def test_versioning_failed_set_keeps_ver(server, clients):
    """A refused roster set changes nothing, so the ver stays."""
    c = await clients.login(server, server.new_user(), resource="r")
    assert (await roster_set(c, contact()))["type"] == "result"
    _, v, _ = await roster_get(c, ver="")
    r = await roster_set(c, contact(), groups=[""])
    assert r["type"] == "error", str(r)
    r = await c.iq("<query xmlns='%s' ver='%s'/>" % (NS_ROSTER, v))
    assert r["type"] == "result" and query_of(r) is None, str(r)


async def _features_after_auth(server, user):
    raw = await Raw.open(server.port)
    try:
        await raw.starttls()
        await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, sasl_plain(user.local, user.password)))
        await raw.read_until(rb"<success\b")
        raw.mark()
        await raw.send(
            "<stream:stream xmlns='jabber:client' xmlns:stream="
            "'http://etherx.jabber.org/streams' to='%s' version='1.0'>"
            % DOMAIN)
        m = await raw.read_until(rb"<(?:stream:)?features\b.*?"
                                 rb"</(?:stream:)?features>")
        return m.group(0)
    finally:
        raw.close()


async def test_stream_features_rosterver_and_preapproval(server):
    """XEP-0237 2.1 / RFC 6121 2.6.1: <ver xmlns='urn:xmpp:features:
    rosterver'/>; RFC 6121 3.4.1: <sub xmlns='urn:xmpp:features:
    pre-approval'/>; both in the features after authentication, next to
    bind."""
    text = await _features_after_auth(server, server.new_user())
    feats = parse_features(text)
    assert feats.find("{%s}bind" % NS_BIND) is not None, text
    assert feats.find("{%s}ver" % NS_ROSTERVER) is not None, (
        "no roster versioning feature: %r" % text)
    assert feats.find("{%s}sub" % NS_PREAPPROVAL) is not None, (
        "no pre-approval feature: %r" % text)


# ---------------------------------------------------------------------------
# persistence

async def test_roster_survives_restart(make_server, clients):
    """Items (name, groups, subscription state) and the ver are stored:
    after a full restart the roster and its version are the same."""
    srv = make_server()
    u, v = srv.new_user(), srv.new_user()
    c = await clients.login(srv, u, resource="r")
    d = await clients.login(srv, v, resource="r")
    await roster_get(c)
    await roster_get(d)
    j = contact()
    assert (await roster_set(c, j, name="Kept", groups=["G1", "G2"]))[
        "type"] == "result"
    # a subscription in the state to / from
    c.send_raw("<presence/>")
    d.send_raw("<presence/>")
    c.send_raw("<presence to='%s' type='subscribe'/>" % v.jid)
    await settle(c, d)
    d.send_raw("<presence to='%s' type='subscribed'/>" % u.jid)
    await settle(c, d)
    before, ver, _ = await roster_get(c, ver="")
    assert before[v.jid].visible == ("to", False), before
    await clients.close()
    srv.restart()
    c = await clients.login(srv, u, resource="again")
    after, ver2, _ = await roster_get(c, ver="")
    assert ver2 == ver, "ver changed across a restart: %s -> %s" % (ver, ver2)
    assert set(after) == {j, v.jid}, after
    assert after[j].name == "Kept" and sorted(after[j].groups) == \
        ["G1", "G2"], after[j]
    assert after[v.jid].visible == ("to", False), after[v.jid]
    r = await c.iq("<query xmlns='%s' ver='%s'/>" % (NS_ROSTER, ver))
    assert r["type"] == "result" and query_of(r) is None, str(r)
    d = await clients.login(srv, v, resource="again")
    items, _, _ = await roster_get(d)
    assert items[u.jid].visible == ("from", False), items


async def test_push_for_interested_only_after_get(server, clients):
    """A resource becomes interested by its roster get (RFC 6121 2.2):
    before it, no pushes; after it, pushes."""
    u = server.new_user()
    a = await clients.login(server, u, resource="a")
    late = track(await clients.login(server, u, resource="late"))
    await roster_get(a)
    assert (await roster_set(a, contact()))["type"] == "result"
    got = (await settle(a, late))[1]
    assert not got.pushes, got.summary()
    await roster_get(late)
    j = contact()
    assert (await roster_set(a, j))["type"] == "result"
    p = await next_push(late, what="a push after the roster get")
    assert list(items_of(p)) == [j], str(p)
