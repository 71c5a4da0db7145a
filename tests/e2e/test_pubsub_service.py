"""
The publish-subscribe service of a host (XEP-0060) at pubsub.DOMAIN, on
the engine PEP uses: service discovery (the host lists it, its identity
and features, its nodes, a node and its items), node creation (instant
and named, with a configuration) under the host's pubsub-create policy,
configuration, deletion, subscriptions with subids, publish and retract
with notifications to subscribers only, items, affiliations (owner,
publisher, member, outcast, none) and the owner's view of subscriptions,
the open and whitelist access models, limits, stanzas the service does
not serve, bad input, and a subscriber on another server (s2s).
"""
import pytest
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET

from conftest import (DOMAIN, NS_DISCO_INFO, STANZA_TIMEOUT, ServerFactory,
                      User, free_port, stanza_error, uniq)
from test_pep import (NS_DISCO_ITEMS, NS_EVENT, NS_OWNER, NS_PUBSUB,
                      assert_error)
from test_s2s import mkcert

SVC = "pubsub." + DOMAIN
NS_XDATA = "jabber:x:data"
PLUGINS = ("xep_0199", "xep_0030", "xep_0004", "xep_0060")


@pytest.fixture(scope="module")
def psrv(tmp_path_factory, cert):
    """A server whose host localhost has its pubsub service on."""
    f = ServerFactory(tmp_path_factory, cert)
    srv = f(host_options={DOMAIN: {"pubsub": "yes"}})
    yield srv
    f.close()


def form(form_type, **fields):
    fs = "".join("<field var='pubsub#%s'><value>%s</value></field>"
                 % (k, v) for k, v in fields.items())
    return ("<x xmlns='%s' type='submit'><field var='FORM_TYPE' "
            "type='hidden'><value>%s</value></field>%s</x>"
            % (NS_XDATA, form_type, fs))


def config_form(**fields):
    return form(NS_PUBSUB + "#node_config", **fields)


async def create(c, node, conf=""):
    """A raw create (node None: instant), with an optional <configure/>."""
    attr = " node='%s'" % node if node else ""
    if conf:
        conf = "<configure>%s</configure>" % conf
    return await c.iq("<pubsub xmlns='%s'><create%s/>%s</pubsub>"
                      % (NS_PUBSUB, attr, conf), to=SVC, type_="set")


async def configure(c, node, x):
    return await c.iq("<pubsub xmlns='%s'><configure node='%s'>%s"
                      "</configure></pubsub>" % (NS_OWNER, node, x),
                      to=SVC, type_="set")


async def publish(c, node, text, item_id=None):
    idattr = " id='%s'" % item_id if item_id else ""
    return await c.iq("<pubsub xmlns='%s'><publish node='%s'><item%s>"
                      "<entry xmlns='urn:example:news'>%s</entry></item>"
                      "</publish></pubsub>" % (NS_PUBSUB, node, idattr, text),
                      to=SVC, type_="set")


async def subscribe(c, node, jid=None):
    return await c.iq("<pubsub xmlns='%s'><subscribe node='%s' jid='%s'/>"
                      "</pubsub>" % (NS_PUBSUB, node,
                                     jid or c.boundjid.bare),
                      to=SVC, type_="set")


async def items(c, node):
    return await c.iq("<pubsub xmlns='%s'><items node='%s'/></pubsub>"
                      % (NS_PUBSUB, node), to=SVC)


async def affiliate(c, node, jid, aff):
    return await c.iq("<pubsub xmlns='%s'><affiliations node='%s'>"
                      "<affiliation jid='%s' affiliation='%s'/>"
                      "</affiliations></pubsub>" % (NS_OWNER, node, jid, aff),
                      to=SVC, type_="set")


def item_ids(r, node):
    el = r.xml.find("{%s}pubsub/{%s}items" % (NS_PUBSUB, NS_PUBSUB))
    assert el is not None and el.get("node") == node, str(r)
    return [i.get("id") for i in el.findall("{%s}item" % NS_PUBSUB)]


def event_items(m, node):
    ev = m.xml.find("{%s}event/{%s}items" % (NS_EVENT, NS_EVENT))
    return ev is not None and ev.get("node") == node


async def next_event(c, node, what="a pubsub event"):
    m = await c.next_message(match=lambda m: m.xml.find(
        "{%s}event" % NS_EVENT) is not None and any(
        e.get("node") == node for e in m.xml.find(
            "{%s}event" % NS_EVENT)), what=what)
    assert m["from"] == SVC, str(m)
    return m


async def login(srv, clients, user=None):
    """An available client (notifications to a bare JID go to available
    resources, RFC 6121 8.5.2.1.1), its own presence drained."""
    c = await clients.login(srv, user or srv.new_user(), plugins=PLUGINS)
    c.send_presence()
    await c.fence()
    await c.fence()
    c.pending()
    return c


async def owner_with_node(psrv, clients, **conf):
    o = await login(psrv, clients)
    node = uniq("news")
    r = await create(o, node, config_form(**conf) if conf else "")
    assert r["type"] == "result", str(r)
    return o, node


# ---------------------------------------------------------------------------

async def test_disco(psrv, clients):
    """XEP-0030: the host lists its service; the service is pubsub/service
    with the features it implements (instant nodes; no PEP-only ones);
    its items are its nodes; a node is a leaf whose items are its item
    ids; an unknown node is item-not-found."""
    o, node = await owner_with_node(psrv, clients,
                                    title="Daily news")
    r = await o.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to=DOMAIN)
    jids = [i.get("jid") for i in r.xml.findall(
        "{%s}query/{%s}item" % (NS_DISCO_ITEMS, NS_DISCO_ITEMS))]
    assert SVC in jids, str(r)
    info = await o["xep_0030"].get_info(jid=SVC)
    ids = info["disco_info"]["identities"]
    assert any(i[0] == "pubsub" and i[1] == "service" for i in ids), ids
    feats = info["disco_info"]["features"]
    for f in ("create-nodes", "instant-nodes", "publish", "subscribe",
              "access-whitelist", "outcast-affiliation"):
        assert NS_PUBSUB + "#" + f in feats, (f, feats)
    for f in ("access-presence", "access-roster", "auto-create",
              "presence-notifications"):
        assert NS_PUBSUB + "#" + f not in feats, (f, feats)
    assert NS_PUBSUB in feats and NS_OWNER in feats, feats
    r = await o.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to=SVC)
    found = [(i.get("jid"), i.get("node"), i.get("name")) for i in
             r.xml.findall("{%s}query/{%s}item" % (NS_DISCO_ITEMS,
                                                   NS_DISCO_ITEMS))]
    assert (SVC, node, "Daily news") in found, found
    r = await o.iq("<query xmlns='%s' node='%s'/>" % (NS_DISCO_INFO, node),
                   to=SVC)
    idn = r.xml.find("{%s}query/{%s}identity" % (NS_DISCO_INFO,
                                                 NS_DISCO_INFO))
    assert idn is not None and idn.get("type") == "leaf", str(r)
    assert (await publish(o, node, "one", "i1"))["type"] == "result"
    r = await o.iq("<query xmlns='%s' node='%s'/>" % (NS_DISCO_ITEMS, node),
                   to=SVC)
    names = [i.get("name") for i in r.xml.findall(
        "{%s}query/{%s}item" % (NS_DISCO_ITEMS, NS_DISCO_ITEMS))]
    assert names == ["i1"], str(r)
    for ns in (NS_DISCO_INFO, NS_DISCO_ITEMS):
        r = await o.iq("<query xmlns='%s' node='no-such'/>" % ns, to=SVC)
        assert_error(r, "item-not-found")


async def test_create_instant_and_named(psrv, clients):
    """8.1.2: an instant node gets a generated name in the result; 8.1.1
    a named node; 8.1.3 a name taken is conflict; create-and-configure
    (8.1.3) applies the form; the creator is the node's owner and the
    defaults of a service node are open access."""
    u = psrv.new_user()
    c = await login(psrv, clients, u)
    r = await c["xep_0060"].create_node(SVC, None)
    name = r["pubsub"]["create"]["node"]
    assert name, str(r)
    named = uniq("named")
    await c["xep_0060"].create_node(SVC, named)
    with pytest.raises(IqError) as e:
        await c["xep_0060"].create_node(SVC, named)
    assert e.value.condition == "conflict"
    conf = uniq("conf")
    r = await create(c, conf, config_form(title="Configured", max_items=5,
                                          publish_model="open"))
    assert r["type"] == "result", str(r)
    r = await c["xep_0060"].get_node_config(SVC, conf)
    f = r["pubsub_owner"]["configure"]["form"]
    assert f["values"]["pubsub#title"] == "Configured", str(r)
    assert f["values"]["pubsub#max_items"] == "5", str(r)
    assert f["values"]["pubsub#access_model"] == "open", str(r)
    assert f["values"]["pubsub#publish_model"] == "open", str(r)
    for n in (name, named):
        r = await c["xep_0060"].get_node_affiliations(SVC, n)
        affs = [(a["jid"].bare, a["affiliation"]) for a in
                r["pubsub_owner"]["affiliations"]]
        assert affs == [(u.jid, "owner")], affs
    # the default configuration of the service (8.3)
    r = await c.iq("<pubsub xmlns='%s'><default/></pubsub>" % NS_OWNER,
                   to=SVC)
    assert "<value>open</value>" in str(r), str(r)


async def test_publish_subscribe_notify(psrv, clients):
    """6.1 subscribe (with a subid), 7.1 publish: the event goes from the
    service to subscribers only; 6.5 items; 7.2 retract notifies; 6.2
    unsubscribe with the subid, a wrong subid (invalid-subid), twice
    (not-subscribed); the subscriber's own subscriptions (5.6)."""
    o, node = await owner_with_node(psrv, clients)
    su, st = psrv.new_user(), psrv.new_user()
    s = await login(psrv, clients, su)
    stranger = await login(psrv, clients, st)
    r = await s["xep_0060"].subscribe(SVC, node)
    sub = r["pubsub"]["subscription"]
    assert sub["subscription"] == "subscribed", str(r)
    subid = sub["subid"]
    assert subid, str(r)
    r = await s["xep_0060"].get_subscriptions(SVC)
    assert (node, subid) in [(x["node"], x["subid"]) for x in
                             r["pubsub"]["subscriptions"]], str(r)
    payload = ET.fromstring("<entry xmlns='urn:example:news'>hello</entry>")
    r = await o["xep_0060"].publish(SVC, node, id="a1", payload=payload)
    assert r["pubsub"]["publish"]["item"]["id"] == "a1", str(r)
    m = await next_event(s, node)
    it = m.xml.find(".//{%s}item" % NS_EVENT)
    assert it.get("id") == "a1", str(m)
    assert it.find("{urn:example:news}entry").text == "hello", str(m)
    r = await stranger["xep_0060"].get_items(SVC, node)
    assert [i["id"] for i in r["pubsub"]["items"]] == ["a1"], str(r)
    await o["xep_0060"].retract(SVC, node, "a1", notify=True)
    m = await next_event(s, node, "a retraction")
    assert m.xml.find(".//{%s}retract" % NS_EVENT).get("id") == "a1"
    # the publisher is no subscriber; the stranger neither
    await o.quiet(0.5)
    await stranger.quiet(0.1)
    # unsubscribe: a wrong subid, the right one, then again
    r = await s.iq("<pubsub xmlns='%s'><unsubscribe node='%s' jid='%s' "
                   "subid='nope'/></pubsub>" % (NS_PUBSUB, node,
                                                s.boundjid.bare),
                   to=SVC, type_="set")
    assert_error(r, "not-acceptable", "invalid-subid")
    await s["xep_0060"].unsubscribe(SVC, node, subid=subid)
    with pytest.raises(IqError) as e:
        await s["xep_0060"].unsubscribe(SVC, node)
    assert e.value.condition == "unexpected-request"
    assert (await publish(o, node, "after"))["type"] == "result"
    await s.quiet(0.5)
    # someone else's JID cannot be subscribed (6.1.3.1)
    r = await subscribe(stranger, node, jid=su.jid)
    assert_error(r, "bad-request", "invalid-jid")


async def test_publisher_model_and_affiliations(psrv, clients):
    """The publisher model: a stranger may not publish (forbidden) until
    made a publisher (8.9.2), who may then publish and retract; an owner
    lists affiliations and subscriptions (8.8.1, 8.9.1); 'none' removes
    an affiliation; the last owner cannot be removed; a stranger may not
    read or change them (forbidden)."""
    o, node = await owner_with_node(psrv, clients)
    pu = psrv.new_user()
    p = await login(psrv, clients, pu)
    assert_error(await publish(p, node, "no"), "forbidden")
    r = await affiliate(o, node, pu.jid, "publisher")
    assert r["type"] == "result", str(r)
    assert (await publish(p, node, "yes", "p1"))["type"] == "result"
    r = await p.iq("<pubsub xmlns='%s'><retract node='%s'><item id='p1'/>"
                   "</retract></pubsub>" % (NS_PUBSUB, node), to=SVC,
                   type_="set")
    assert r["type"] == "result", str(r)
    r = await o["xep_0060"].get_node_affiliations(SVC, node)
    affs = sorted((a["jid"].bare, a["affiliation"]) for a in
                  r["pubsub_owner"]["affiliations"])
    assert affs == sorted([(o.boundjid.bare, "owner"),
                           (pu.jid, "publisher")]), affs
    r = await p["xep_0060"].get_affiliations(SVC)
    assert (node, "publisher") in [(a["node"], a["affiliation"]) for a in
                                   r["pubsub"]["affiliations"]], str(r)
    # the publisher is no owner: no configuration, no affiliations
    assert_error(await affiliate(p, node, pu.jid, "owner"), "forbidden")
    r = await p.iq("<pubsub xmlns='%s'><affiliations node='%s'/></pubsub>"
                   % (NS_OWNER, node), to=SVC)
    assert_error(r, "forbidden")
    assert (await affiliate(o, node, pu.jid, "none"))["type"] == "result"
    assert_error(await publish(p, node, "again"), "forbidden")
    # the node keeps an owner
    assert_error(await affiliate(o, node, o.boundjid.bare, "none"),
                 "not-acceptable")
    # the owner's view of subscriptions, and setting one (8.8.2)
    assert (await subscribe(p, node))["type"] == "result"
    r = await o["xep_0060"].get_node_subscriptions(SVC, node)
    assert [x["jid"].bare for x in r["pubsub_owner"]["subscriptions"]] \
        == [pu.jid], str(r)
    r = await o.iq("<pubsub xmlns='%s'><subscriptions node='%s'>"
                   "<subscription jid='%s' subscription='none'/>"
                   "</subscriptions></pubsub>" % (NS_OWNER, node, pu.jid),
                   to=SVC, type_="set")
    assert r["type"] == "result", str(r)
    assert (await publish(o, node, "unheard"))["type"] == "result"
    await p.quiet(0.5)


async def test_publish_model_open(psrv, clients):
    """publish_model open: anyone not an outcast publishes."""
    o, node = await owner_with_node(psrv, clients, publish_model="open")
    a = await login(psrv, clients)
    assert (await publish(a, node, "open to all"))["type"] == "result"


async def test_outcast(psrv, clients):
    """An outcast (4.1) loses its subscription and may not subscribe,
    retrieve items or publish (forbidden)."""
    o, node = await owner_with_node(psrv, clients, publish_model="open")
    xu = psrv.new_user()
    x = await login(psrv, clients, xu)
    assert (await subscribe(x, node))["type"] == "result"
    assert (await affiliate(o, node, xu.jid, "outcast"))["type"] == "result"
    r = await o["xep_0060"].get_node_subscriptions(SVC, node)
    assert r.xml.find(".//{%s}subscription" % NS_OWNER) is None, str(r)
    assert (await publish(o, node, "not for outcasts"))["type"] == "result"
    await x.quiet(0.5)
    assert_error(await subscribe(x, node), "forbidden")
    assert_error(await items(x, node), "forbidden")
    assert_error(await publish(x, node, "spam"), "forbidden")


async def test_whitelist(psrv, clients):
    """access_model whitelist: a stranger is refused (not-allowed +
    closed-node) on subscribe and items; a member may both."""
    o, node = await owner_with_node(psrv, clients, access_model="whitelist")
    assert (await publish(o, node, "secret", "s1"))["type"] == "result"
    mu, su = psrv.new_user(), psrv.new_user()
    m = await login(psrv, clients, mu)
    s = await login(psrv, clients, su)
    assert_error(await subscribe(s, node), "not-allowed", "closed-node")
    assert_error(await items(s, node), "not-allowed", "closed-node")
    r = await s.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to=SVC)
    assert node not in str(r), "a closed node listed to a stranger"
    assert (await affiliate(o, node, mu.jid, "member"))["type"] == "result"
    assert item_ids(await items(m, node), node) == ["s1"]
    assert (await subscribe(m, node))["type"] == "result"
    assert (await publish(o, node, "for members"))["type"] == "result"
    await next_event(m, node)


async def test_configure(psrv, clients):
    """8.2: the owner gets and submits the configuration form; a
    cancelled form changes nothing; presence and roster access make no
    sense without an owning account (not-acceptable, on configure and on
    create); bad forms (wrong FORM_TYPE, unknown field, bad value, not
    submitted) are not-acceptable; a stranger is forbidden; an unknown
    node item-not-found; configuration notifications (notify_config)."""
    o, node = await owner_with_node(psrv, clients)
    s = await login(psrv, clients)
    r = await configure(o, node, config_form(title="Renamed",
                                             notify_config=1))
    assert r["type"] == "result", str(r)
    r = await o["xep_0060"].get_node_config(SVC, node)
    assert r["pubsub_owner"]["configure"]["form"]["values"][
        "pubsub#title"] == "Renamed"
    r = await configure(o, node, "<x xmlns='%s' type='cancel'/>" % NS_XDATA)
    assert r["type"] == "result", str(r)
    for model in ("presence", "roster"):
        assert_error(await configure(o, node, config_form(
            access_model=model)), "not-acceptable")
        assert_error(await create(o, uniq("n"), config_form(
            access_model=model)), "not-acceptable")
    assert_error(await configure(o, node, config_form(
        send_last_published_item="on_sub_and_presence")), "not-acceptable")
    for bad in (form("urn:wrong", title="x"), config_form(no_such="1"),
                config_form(max_items="lots"),
                config_form(access_model="nobody"),
                config_form(title="t").replace("submit", "form")):
        assert_error(await configure(o, node, bad), "not-acceptable")
    assert_error(await configure(o, node, ""), "bad-request")
    assert_error(await configure(s, node, config_form(title="mine")),
                 "forbidden")
    r = await s.iq("<pubsub xmlns='%s'><configure node='%s'/></pubsub>"
                   % (NS_OWNER, node), to=SVC)
    assert_error(r, "forbidden")
    assert_error(await configure(o, "no-such-node", config_form(title="x")),
                 "item-not-found")
    # the title is unchanged by all of that
    r = await o["xep_0060"].get_node_config(SVC, node)
    assert r["pubsub_owner"]["configure"]["form"]["values"][
        "pubsub#title"] == "Renamed"
    # a subscriber hears of a configuration change
    assert (await subscribe(s, node))["type"] == "result"
    assert (await configure(o, node, config_form(title="Again")))[
        "type"] == "result"
    m = await next_event(s, node, "a configuration event")
    assert m.xml.find(".//{%s}configuration" % NS_EVENT) is not None


async def test_delete(psrv, clients):
    """8.4: a stranger may not delete (forbidden); the owner deletes, the
    subscribers hear of it, the node is gone, its name free again."""
    o, node = await owner_with_node(psrv, clients)
    s = await login(psrv, clients)
    assert (await subscribe(s, node))["type"] == "result"
    r = await s.iq("<pubsub xmlns='%s'><delete node='%s'/></pubsub>"
                   % (NS_OWNER, node), to=SVC, type_="set")
    assert_error(r, "forbidden")
    await o["xep_0060"].delete_node(SVC, node)
    m = await next_event(s, node, "a delete event")
    assert m.xml.find(".//{%s}delete" % NS_EVENT) is not None, str(m)
    assert_error(await items(o, node), "item-not-found")
    assert (await create(o, node))["type"] == "result"


async def test_bad_requests(psrv, clients):
    """Unknown nodes (item-not-found) for items, publish, subscribe,
    delete; a verb without a node (nodeid-required); no verb
    (bad-request); a publish with two items (invalid-payload); a
    service node is never auto-created by a publish."""
    c = await login(psrv, clients)
    assert_error(await items(c, "nothing"), "item-not-found")
    assert_error(await publish(c, "nothing", "x"), "item-not-found")
    assert_error(await subscribe(c, "nothing"), "item-not-found")
    r = await c.iq("<pubsub xmlns='%s'><delete node='nothing'/></pubsub>"
                   % NS_OWNER, to=SVC, type_="set")
    assert_error(r, "item-not-found")
    r = await c.iq("<pubsub xmlns='%s'><items/></pubsub>" % NS_PUBSUB,
                   to=SVC)
    assert_error(r, "bad-request", "nodeid-required")
    r = await c.iq("<pubsub xmlns='%s'/>" % NS_PUBSUB, to=SVC, type_="set")
    assert_error(r, "bad-request")
    o, node = await owner_with_node(psrv, clients)
    r = await o.iq("<pubsub xmlns='%s'><publish node='%s'><item id='1'/>"
                   "<item id='2'/></publish></pubsub>" % (NS_PUBSUB, node),
                   to=SVC, type_="set")
    assert_error(r, "bad-request", "invalid-payload")
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to=SVC)
    assert "'nothing'" not in str(r) and '"nothing"' not in str(r)


async def test_other_stanzas(psrv, clients):
    """RFC 6120: the service serves pubsub and disco only: a ping or an
    unknown payload is service-unavailable, a message too, as is an IQ to
    another JID at its domain; presence to it is dropped; results to it
    end there."""
    c = await login(psrv, clients)
    r = await c.iq("<ping xmlns='urn:xmpp:ping'/>", to=SVC)
    assert_error(r, "service-unavailable")
    r = await c.iq("<query xmlns='jabber:iq:version'/>", to=SVC)
    assert_error(r, "service-unavailable")
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO,
                   to="someone@" + SVC)
    assert_error(r, "service-unavailable")
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=SVC + "/res")
    assert_error(r, "service-unavailable")
    c.send_raw("<message to='%s' type='chat' id='m1'><body>hi</body>"
               "</message>" % SVC)
    m = await c.next_message(what="a message error")
    assert m["type"] == "error" and m["from"] == SVC, str(m)
    assert stanza_error(m)[1] == "service-unavailable", str(m)
    c.send_raw("<presence to='%s'/>" % SVC)
    c.send_raw("<iq type='result' id='stray' to='%s'/>" % SVC)
    await c.fence()
    await c.quiet(0.5)
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=SVC)
    assert r["type"] == "result", str(r)


async def test_pep_has_no_instant_nodes(psrv, clients):
    """An instant node is a service's: a PEP create without a name is
    not-acceptable with nodeid-required (XEP-0163)."""
    c = await login(psrv, clients)
    r = await c.iq("<pubsub xmlns='%s'><create/></pubsub>" % NS_PUBSUB,
                   to=c.boundjid.bare, type_="set")
    assert_error(r, "not-acceptable", "nodeid-required")


# ---------------------------------------------------------------------------
# the host's policy and limits

async def test_policy_nobody(make_server, clients):
    """pubsub-create nobody: creation is feature-not-implemented with
    <unsupported feature='create-nodes'/>, and disco says so."""
    srv = make_server(host_options={DOMAIN: {"pubsub": "yes",
                                             "pubsub-create": "nobody"}})
    c = await login(srv, clients)
    for node in ("named", None):
        r = await create(c, node)
        assert_error(r, "feature-not-implemented", "unsupported")
        assert "create-nodes" in str(r), str(r)
    info = await c["xep_0030"].get_info(jid=SVC)
    feats = info["disco_info"]["features"]
    assert NS_PUBSUB + "#create-nodes" not in feats, feats
    assert NS_PUBSUB + "#instant-nodes" not in feats, feats
    assert NS_PUBSUB + "#subscribe" in feats, feats


@pytest.mark.parametrize("policy", ["local", "anyone"])
async def test_policy_local_and_anyone(make_server, clients, cert, policy):
    """pubsub-create local: only the host's own accounts create nodes; an
    account of another host of the server is forbidden. anyone: it may."""
    other = "other.test"
    srv = make_server(hosts=[(other,) + tuple(cert)],
                      host_options={DOMAIN: {"pubsub": "yes",
                                             "pubsub-create": policy}})
    ou = User("%s@%s" % (uniq("o"), other), uniq("pw"))
    srv.adduser(ou.jid, ou.password)
    c = await login(srv, clients, ou)
    r = await create(c, uniq("n"))
    if policy == "local":
        assert_error(r, "forbidden")
    else:
        assert r["type"] == "result", str(r)
    mine = await login(srv, clients)
    assert (await create(mine, uniq("n")))["type"] == "result"
    # the other host has no service of its own
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to=other)
    assert "pubsub." not in str(r), str(r)


async def test_limits(make_server, clients):
    """pubsub-max-nodes per service (resource-constraint past it) and
    pubsub-max-subscriptions per node (not-allowed past it; the owner's
    affiliation counts)."""
    srv = make_server(host_options={DOMAIN: {"pubsub": "yes"}},
                      pubsub_max_nodes=2, pubsub_max_subscriptions=2)
    a = await login(srv, clients)
    b = await login(srv, clients)
    assert (await create(a, "n1"))["type"] == "result"
    assert (await create(b, "n2"))["type"] == "result"
    assert_error(await create(b, "n3"), "resource-constraint")
    # the account's own PEP is another owner: its limit is its own
    r = await a.iq("<pubsub xmlns='%s'><create node='mine'/></pubsub>"
                   % NS_PUBSUB, to=a.boundjid.bare, type_="set")
    assert r["type"] == "result", str(r)
    assert (await subscribe(b, "n1"))["type"] == "result"
    c = await login(srv, clients)
    assert_error(await subscribe(c, "n1"), "not-allowed")


async def test_disabled(make_server, clients):
    """Without 'pubsub yes' there is no service: pubsub.DOMAIN is a
    remote domain like any other, and the host lists no items."""
    srv = make_server()
    c = await login(srv, clients)
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to=DOMAIN)
    assert SVC not in str(r), str(r)
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=SVC)
    assert r["type"] == "error", str(r)


# ---------------------------------------------------------------------------
# federation

@pytest.mark.parametrize("trusted", [False, True],
                         ids=["dialback", "sasl-external"])
async def test_remote_subscriber(make_server, tmp_path_factory, clients,
                                 trusted):
    """A user of b.test (another server, over s2s) finds, subscribes to
    and reads a node of pubsub.a.test; a publish there reaches it as an
    event from pubsub.a.test; the s2s stream from the service's domain
    authenticates as the service's own: by dialback, also when the peers
    trust each other's certificates (a.test's, which the service
    presents, does not name it: b.test finds a name mismatch, and
    dialback follows)."""
    ca, cb = mkcert(tmp_path_factory, "a.test"), mkcert(tmp_path_factory,
                                                        "b.test")
    pa, pb = free_port(), free_port()
    common = {"s2s_connect_timeout": "5", "s2s_dialback_secret": uniq("s")}
    oa = dict(common, s2s_listen="127.0.0.1:%d" % pa,
              s2s_route="b.test=127.0.0.1:%d" % pb)
    ob = dict(common, s2s_listen="127.0.0.1:%d" % pb)
    if trusted:
        oa["s2s_ca_file"], ob["s2s_ca_file"] = cb[0], ca[0]
    a = make_server(hosts=[("a.test",) + ca],
                    host_options={"a.test": {"pubsub": "yes"}}, **oa)
    # b.test reaches a.test's service at a.test's server
    b = make_server(hosts=[("b.test",) + cb], start=False, **ob)
    with open(b.conf, "a") as f:
        f.write("s2s-route a.test=127.0.0.1:%d\n"
                "s2s-route pubsub.a.test=127.0.0.1:%d\n" % (pa, pa))
    b.start()
    svc = "pubsub.a.test"
    ua = User("%s@a.test" % uniq("pa"), uniq("pw"))
    ub = User("%s@b.test" % uniq("pb"), uniq("pw"))
    a.adduser(ua.jid, ua.password)
    b.adduser(ub.jid, ub.password)
    ca_ = await login(a, clients, ua)
    cb_ = await login(b, clients, ub)
    node = uniq("fed")
    r = await ca_.iq("<pubsub xmlns='%s'><create node='%s'/></pubsub>"
                     % (NS_PUBSUB, node), to=svc, type_="set")
    assert r["type"] == "result", str(r)
    slow = 3 * STANZA_TIMEOUT
    r = await cb_.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to=svc,
                     timeout=slow)
    assert node in str(r), str(r)
    r = await cb_.iq("<pubsub xmlns='%s'><subscribe node='%s' jid='%s'/>"
                     "</pubsub>" % (NS_PUBSUB, node, ub.jid), to=svc,
                     type_="set", timeout=slow)
    assert r["type"] == "result", str(r)
    assert r["from"] == svc, str(r)
    # remote JIDs create nothing under the default policy (local)
    r = await cb_.iq("<pubsub xmlns='%s'><create node='theirs'/></pubsub>"
                     % NS_PUBSUB, to=svc, type_="set", timeout=slow)
    assert_error(r, "forbidden")
    r = await ca_.iq("<pubsub xmlns='%s'><publish node='%s'><item id='f1'>"
                     "<entry xmlns='urn:example:news'>far</entry></item>"
                     "</publish></pubsub>" % (NS_PUBSUB, node), to=svc,
                     type_="set")
    assert r["type"] == "result", str(r)
    m = await cb_.next_message(match=lambda m: m.xml.find(
        "{%s}event" % NS_EVENT) is not None, timeout=slow,
        what="an event from the remote service")
    assert m["from"] == svc, str(m)
    assert m.xml.find(".//{urn:example:news}entry").text == "far", str(m)
    r = await cb_.iq("<pubsub xmlns='%s'><items node='%s'/></pubsub>"
                     % (NS_PUBSUB, node), to=svc, timeout=slow)
    assert item_ids(r, node) == ["f1"], str(r)
    log = a.log_text() + b.log_text()
    assert "pubsub.a.test authenticated for b.test" in log or \
        "b.test authenticated for pubsub.a.test" in log, log[-3000:]
