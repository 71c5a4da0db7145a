"""
Personal eventing (XEP-0163) on the publish-subscribe engine (XEP-0060):
publish with and without item ids, publish-options as creation options
and as preconditions, items retrieval, retract, delete, purge, node
configuration, access models, notifications to the owner's resources
and to contacts that announce NODE+notify, the last item at login, an
OMEMO device list and bundle as a client publishes and fetches them,
service discovery, limits and persistence.
"""
import asyncio

from conftest import DOMAIN, NS_DISCO_INFO, stanza_error, uniq
from imhelp import grant, settle, drain

NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_OWNER = NS_PUBSUB + "#owner"
NS_EVENT = NS_PUBSUB + "#event"
NS_ERRORS = NS_PUBSUB + "#errors"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_AXOLOTL = "eu.siacs.conversations.axolotl"
DEVICELIST = NS_AXOLOTL + ".devicelist"
MOOD = "http://jabber.org/protocol/mood"
PLUGINS = ("xep_0199", "xep_0030", "xep_0115", "xep_0163")


def publish_options(**fields):
    fs = "".join("<field var='pubsub#%s'><value>%s</value></field>"
                 % (k, v) for k, v in fields.items())
    return ("<publish-options><x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE' type='hidden'><value>%s#publish-options"
            "</value></field>%s</x></publish-options>" % (NS_PUBSUB, fs))


def publish(node, payload, item_id=None, options=""):
    idattr = " id='%s'" % item_id if item_id else ""
    return ("<pubsub xmlns='%s'><publish node='%s'><item%s>%s</item>"
            "</publish>%s</pubsub>" % (NS_PUBSUB, node, idattr, payload,
                                       options))


def mood(text):
    return ("<mood xmlns='%s'><happy/><text>%s</text></mood>"
            % (MOOD, text))


def assert_error(r, cond, app=None):
    assert r["type"] == "error", str(r)
    assert stanza_error(r)[1] == cond, str(r)
    if app is not None:
        assert r.xml.find(".//{%s}%s" % (NS_ERRORS, app)) is not None, \
            "no <%s/> application condition: %s" % (app, r)


def items_of(r, node):
    items = r.xml.find("{%s}pubsub/{%s}items" % (NS_PUBSUB, NS_PUBSUB))
    assert items is not None and items.get("node") == node, str(r)
    return items.findall("{%s}item" % NS_PUBSUB)


async def get_items(c, owner, node, extra=""):
    return await c.iq("<pubsub xmlns='%s'><items node='%s'%s/></pubsub>"
                      % (NS_PUBSUB, node, extra), to=owner)


async def interested(clients, server, user, *nodes, resource=None):
    """A client that announces NODE+notify for nodes in its entity
    capabilities (slixmpp's xep_0115 and xep_0163) and sends available
    presence."""
    c = await clients.login(server, user, resource=resource or uniq("r"),
                            plugins=PLUGINS)
    for n in nodes:
        c["xep_0030"].add_feature(n + "+notify")
    await c["xep_0115"].update_caps()
    c.send_presence()
    await c.fence()
    return c


def event_of(m, node):
    ev = m.xml.find("{%s}event/{%s}items" % (NS_EVENT, NS_EVENT))
    return ev is not None and ev.get("node") == node


async def next_event(c, node, what="a PEP event"):
    return await c.next_message(match=lambda m: event_of(m, node),
                                what=what)


async def befriend(a, ua, b, ub):
    """Mutual presence subscription ('both')."""
    await grant(a, ua, b, ub)
    await grant(b, ub, a, ua)
    await settle(a, b)
    drain(a)
    drain(b)


# ---------------------------------------------------------------------------

async def test_publish_and_retrieve(server, clients):
    """7.1: publish auto-creates the node (XEP-0163 3), the result carries
    the item id; a generated id when none is given; the default
    max_items of a PEP node is 1 (only the newest is kept)."""
    u = server.new_user()
    c = await clients.login(server, u)
    r = await c.iq(publish(MOOD, mood("one"), "first"), type_="set")
    assert r["type"] == "result", str(r)
    pub = r.xml.find("{%s}pubsub/{%s}publish" % (NS_PUBSUB, NS_PUBSUB))
    assert pub.get("node") == MOOD
    assert pub.find("{%s}item" % NS_PUBSUB).get("id") == "first"
    r = await c.iq(publish(MOOD, mood("two")), type_="set")
    assert r["type"] == "result", str(r)
    gen = r.xml.find(".//{%s}item" % NS_PUBSUB).get("id")
    assert gen and gen != "first"
    r = await get_items(c, u.jid, MOOD)
    items = items_of(r, MOOD)
    assert [i.get("id") for i in items] == [gen], str(r)
    text = items[0].find("{%s}mood/{%s}text" % (MOOD, MOOD)).text
    assert text == "two"


async def test_max_items_and_by_id(server, clients):
    """max_items from publish-options; items newest first; max_items on
    retrieval; a particular item by id; an unknown id is left out."""
    u = server.new_user()
    c = await clients.login(server, u)
    node = "urn:example:list"
    for i in range(5):
        r = await c.iq(publish(node, "<x xmlns='urn:example'>%d</x>" % i,
                               "i%d" % i, publish_options(max_items=3)),
                       type_="set")
        assert r["type"] == "result", str(r)
    r = await get_items(c, u.jid, node)
    assert [i.get("id") for i in items_of(r, node)] == ["i4", "i3", "i2"]
    r = await get_items(c, u.jid, node, " max_items='1'")
    assert [i.get("id") for i in items_of(r, node)] == ["i4"]
    r = await c.iq("<pubsub xmlns='%s'><items node='%s'><item id='i3'/>"
                   "<item id='i0'/></items></pubsub>" % (NS_PUBSUB, node),
                   to=u.jid)
    assert [i.get("id") for i in items_of(r, node)] == ["i3"]
    # a republished id replaces the old item and becomes the newest
    r = await c.iq(publish(node, "<x xmlns='urn:example'>again</x>", "i2"),
                   type_="set")
    r = await get_items(c, u.jid, node)
    assert [i.get("id") for i in items_of(r, node)] == ["i2", "i4", "i3"]


async def test_precondition_not_met(server, clients):
    """7.1.5: publish-options of an existing node are preconditions: a
    mismatch is <conflict/> with <precondition-not-met/>, and nothing is
    published; a matching one publishes."""
    u = server.new_user()
    c = await clients.login(server, u)
    node = "urn:example:pre"
    r = await c.iq(publish(node, "<x xmlns='urn:example'>1</x>", "a",
                           publish_options(access_model="open")),
                   type_="set")
    assert r["type"] == "result", str(r)
    r = await c.iq(publish(node, "<x xmlns='urn:example'>2</x>", "b",
                           publish_options(access_model="whitelist")),
                   type_="set")
    assert_error(r, "conflict", "precondition-not-met")
    r = await c.iq(publish(node, "<x xmlns='urn:example'>3</x>", "c",
                           publish_options(access_model="open")),
                   type_="set")
    assert r["type"] == "result", str(r)
    r = await get_items(c, u.jid, node)
    assert [i.get("id") for i in items_of(r, node)] == ["c"]
    # an unknown field cannot be met either
    r = await c.iq(publish(node, "<x xmlns='urn:example'>4</x>", "d",
                           publish_options(no_such_field="1")),
                   type_="set")
    assert_error(r, "conflict", "precondition-not-met")


async def test_access_models(server, clients):
    """6.5.9: presence access needs a presence subscription
    (not-authorized + presence-subscription-required); open needs
    nothing; whitelist refuses (not-allowed + closed-node); a stranger
    cannot publish to someone else's PEP (forbidden)."""
    owner, stranger = server.new_user(), server.new_user()
    o = await clients.login(server, owner)
    s = await clients.login(server, stranger)
    for node, model in (("urn:x:pres", "presence"), ("urn:x:open", "open"),
                        ("urn:x:white", "whitelist")):
        r = await o.iq(publish(node, "<x xmlns='urn:x'/>", "1",
                               publish_options(access_model=model)),
                       type_="set")
        assert r["type"] == "result", str(r)
    assert_error(await get_items(s, owner.jid, "urn:x:pres"),
                 "not-authorized", "presence-subscription-required")
    r = await get_items(s, owner.jid, "urn:x:open")
    assert [i.get("id") for i in items_of(r, "urn:x:open")] == ["1"]
    assert_error(await get_items(s, owner.jid, "urn:x:white"),
                 "not-allowed", "closed-node")
    r = await s.iq(publish("urn:x:open", "<x xmlns='urn:x'/>"),
                   to=owner.jid, type_="set")
    assert_error(r, "forbidden")
    # a node that does not exist
    assert_error(await get_items(s, owner.jid, "urn:x:none"),
                 "item-not-found")
    # a subscription request from a stranger to a presence node
    r = await s.iq("<pubsub xmlns='%s'><subscribe node='urn:x:pres' "
                   "jid='%s'/></pubsub>" % (NS_PUBSUB, s.boundjid.full),
                   to=owner.jid, type_="set")
    assert_error(r, "not-authorized", "presence-subscription-required")
    # with a whitelist membership the stranger gets in
    r = await o.iq("<pubsub xmlns='%s'><affiliations node='urn:x:white'>"
                   "<affiliation jid='%s' affiliation='member'/>"
                   "</affiliations></pubsub>" % (NS_OWNER, stranger.jid),
                   type_="set")
    assert r["type"] == "result", str(r)
    r = await get_items(s, owner.jid, "urn:x:white")
    assert [i.get("id") for i in items_of(r, "urn:x:white")] == ["1"]


async def test_contact_sees_items_and_events(server, clients):
    """A contact with a presence subscription retrieves items of a
    presence-access node; the contact's resource that announces
    NODE+notify gets the event with the payload, and so do the owner's
    own interested resources; a resource without +notify gets nothing."""
    ua, ub = server.new_user(), server.new_user()
    a = await interested(clients, server, ua, MOOD)
    b = await interested(clients, server, ub, MOOD)
    await befriend(a, ua, b, ub)
    deaf = await clients.login(server, ub, resource="deaf",
                               plugins=PLUGINS)
    await deaf["xep_0115"].update_caps()
    deaf.send_presence()
    await deaf.fence()
    await settle(a, b, deaf)
    drain(a)
    drain(b)
    drain(deaf)
    r = await a.iq(publish(MOOD, mood("hi"), "m1"), type_="set")
    assert r["type"] == "result", str(r)
    m = await next_event(b, MOOD)
    assert m["from"].bare == ua.jid
    item = m.xml.find(".//{%s}item" % NS_EVENT)
    assert item.get("id") == "m1"
    assert item.find("{%s}mood/{%s}text" % (MOOD, MOOD)).text == "hi"
    own = await next_event(a, MOOD, "the event at the owner's resource")
    assert own["from"].bare == ua.jid
    r = await get_items(b, ua.jid, MOOD)
    assert [i.get("id") for i in items_of(r, MOOD)] == ["m1"]
    await deaf.fence()
    assert not [m for m in deaf.pending()
                if "pubsub#event" in m], "no +notify, yet an event came"


async def test_retract_delete_purge(server, clients):
    """7.2 retract with notify; 8.5 purge; 8.4 delete: each notified to
    an interested contact; afterwards the node or the items are gone."""
    ua, ub = server.new_user(), server.new_user()
    node = "urn:example:rdp"
    a = await interested(clients, server, ua, node)
    b = await interested(clients, server, ub, node)
    await befriend(a, ua, b, ub)
    r = await a.iq(publish(node, "<x xmlns='urn:e'/>", "k",
                           publish_options(max_items=10)), type_="set")
    assert r["type"] == "result", str(r)
    await next_event(b, node)
    r = await a.iq("<pubsub xmlns='%s'><retract node='%s' notify='true'>"
                   "<item id='k'/></retract></pubsub>" % (NS_PUBSUB, node),
                   type_="set")
    assert r["type"] == "result", str(r)
    m = await next_event(b, node, "the retraction")
    assert m.xml.find(".//{%s}retract" % NS_EVENT).get("id") == "k"
    r = await a.iq("<pubsub xmlns='%s'><retract node='%s'><item id='k'/>"
                   "</retract></pubsub>" % (NS_PUBSUB, node), type_="set")
    assert_error(r, "item-not-found")
    await a.iq(publish(node, "<x xmlns='urn:e'/>", "k2"), type_="set")
    await next_event(b, node)
    r = await a.iq("<pubsub xmlns='%s'><purge node='%s'/></pubsub>"
                   % (NS_OWNER, node), type_="set")
    assert r["type"] == "result", str(r)
    m = await b.next_message(match=lambda m: m.xml.find(
        ".//{%s}purge" % NS_EVENT) is not None, what="the purge event")
    assert items_of(await get_items(a, ua.jid, node), node) == []
    r = await a.iq("<pubsub xmlns='%s'><delete node='%s'/></pubsub>"
                   % (NS_OWNER, node), type_="set")
    assert r["type"] == "result", str(r)
    await b.next_message(match=lambda m: m.xml.find(
        ".//{%s}delete" % NS_EVENT) is not None, what="the delete event")
    assert_error(await get_items(a, ua.jid, node), "item-not-found")
    # only the owner deletes
    r = await b.iq("<pubsub xmlns='%s'><delete node='%s'/></pubsub>"
                   % (NS_OWNER, MOOD), to=ua.jid, type_="set")
    assert_error(r, "item-not-found")


async def test_configure(server, clients):
    """8.2: the configuration form reflects the node; a submitted form
    changes it; a bad value or an unknown field is not-acceptable and
    changes nothing; the default configuration form (8.3)."""
    u = server.new_user()
    c = await clients.login(server, u)
    node = "urn:example:conf"
    await c.iq(publish(node, "<x xmlns='urn:e'/>", "1"), type_="set")
    r = await c.iq("<pubsub xmlns='%s'><configure node='%s'/></pubsub>"
                   % (NS_OWNER, node))
    assert r["type"] == "result", str(r)
    form = r["pubsub_owner"]["configure"]["form"] \
        if False else r.xml.find(".//{jabber:x:data}x")
    vals = {f.get("var"): [v.text for v in f.findall(
        "{jabber:x:data}value")] for f in form.findall(
        "{jabber:x:data}field")}
    assert vals["pubsub#access_model"] == ["presence"]
    assert vals["pubsub#max_items"] == ["1"]

    def submit(**fields):
        fs = "".join("<field var='pubsub#%s'><value>%s</value></field>"
                     % (k, v) for k, v in fields.items())
        return ("<pubsub xmlns='%s'><configure node='%s'><x xmlns="
                "'jabber:x:data' type='submit'><field var='FORM_TYPE'>"
                "<value>%s#node_config</value></field>%s</x></configure>"
                "</pubsub>" % (NS_OWNER, node, NS_PUBSUB, fs))
    r = await c.iq(submit(access_model="open", max_items="max"),
                   type_="set")
    assert r["type"] == "result", str(r)
    for bad in ({"access_model": "authorize-me"}, {"max_items": "-3"},
                {"persist_items": "maybe"}, {"unknown": "1"}):
        r = await c.iq(submit(**bad), type_="set")
        assert_error(r, "not-acceptable")
    r = await c.iq("<pubsub xmlns='%s'><configure node='%s'/></pubsub>"
                   % (NS_OWNER, node))
    form = r.xml.find(".//{jabber:x:data}x")
    vals = {f.get("var"): [v.text for v in f.findall(
        "{jabber:x:data}value")] for f in form.findall(
        "{jabber:x:data}field")}
    assert vals["pubsub#access_model"] == ["open"]
    assert vals["pubsub#max_items"] == ["max"]
    r = await c.iq("<pubsub xmlns='%s'><default/></pubsub>" % NS_OWNER)
    assert r["type"] == "result", str(r)
    assert r.xml.find(".//{jabber:x:data}x") is not None


async def test_omemo_devicelist_and_bundle(server, clients):
    """An OMEMO (0.3, Conversations' namespace) device list and bundle,
    published as Conversations does (access_model=open through
    publish-options), fetched by a user who has no subscription at all;
    a device-list update reaches an interested contact."""
    ua, ub, uc = server.new_user(), server.new_user(), server.new_user()
    a = await interested(clients, server, ua, DEVICELIST)
    b = await interested(clients, server, ub, DEVICELIST)
    await befriend(a, ua, b, ub)
    c = await clients.login(server, uc)
    opts = publish_options(access_model="open")
    devs = ("<list xmlns='%s'><device id='1234'/></list>" % NS_AXOLOTL)
    r = await a.iq(publish(DEVICELIST, devs, "current", opts), type_="set")
    assert r["type"] == "result", str(r)
    m = await next_event(b, DEVICELIST, "the device list")
    assert m.xml.find(".//{%s}device" % NS_AXOLOTL).get("id") == "1234"
    bundle = ("<bundle xmlns='%s'><signedPreKeyPublic signedPreKeyId='1'>"
              "QUJD</signedPreKeyPublic><signedPreKeySignature>REVG"
              "</signedPreKeySignature><identityKey>R0hJ</identityKey>"
              "<prekeys><preKeyPublic preKeyId='1'>SktM</preKeyPublic>"
              "</prekeys></bundle>" % NS_AXOLOTL)
    bnode = NS_AXOLOTL + ".bundles:1234"
    r = await a.iq(publish(bnode, bundle, "current", opts), type_="set")
    assert r["type"] == "result", str(r)
    # the stranger fetches both, as a client starting a session does
    r = await get_items(c, ua.jid, DEVICELIST)
    it = items_of(r, DEVICELIST)
    assert it and it[0].find(".//{%s}device" % NS_AXOLOTL) is not None
    r = await get_items(c, ua.jid, bnode, " max_items='1'")
    it = items_of(r, bnode)
    assert it[0].find("{%s}bundle/{%s}identityKey" % (
        NS_AXOLOTL, NS_AXOLOTL)).text == "R0hJ"


async def test_last_item_at_login(server, clients):
    """XEP-0163 4.3.2 (send_last_published_item on_sub_and_presence): a
    contact's resource that comes online announcing NODE+notify gets the
    last item; so does the owner's own new resource."""
    ua, ub = server.new_user(), server.new_user()
    a = await interested(clients, server, ua, MOOD)
    b = await interested(clients, server, ub, MOOD)
    await befriend(a, ua, b, ub)
    r = await a.iq(publish(MOOD, mood("stored"), "last"), type_="set")
    assert r["type"] == "result", str(r)
    await next_event(b, MOOD)
    b2 = await interested(clients, server, ub, MOOD, resource="second")
    m = await next_event(b2, MOOD, "the last item at login")
    assert m.xml.find(".//{%s}item" % NS_EVENT).get("id") == "last"
    a2 = await interested(clients, server, ua, MOOD, resource="again")
    m = await next_event(a2, MOOD, "the owner's last item at login")
    assert m.xml.find(".//{%s}item" % NS_EVENT).get("id") == "last"


async def test_disco(server, clients):
    """XEP-0163 1 / XEP-0060 5: the account's disco#info has the
    pubsub/pep identity and publish-options; its disco#items lists the
    nodes the asker may see; a node's disco#info is a leaf."""
    u, other = server.new_user(), server.new_user()
    c = await clients.login(server, u)
    o = await clients.login(server, other)
    await c.iq(publish("urn:x:vis", "<x xmlns='urn:x'/>", "1",
                       publish_options(access_model="open")), type_="set")
    await c.iq(publish("urn:x:hid", "<x xmlns='urn:x'/>", "1"), type_="set")
    r = await o.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=u.jid)
    ids = [(i.get("category"), i.get("type")) for i in r.xml.findall(
        ".//{%s}identity" % NS_DISCO_INFO)]
    assert ("pubsub", "pep") in ids, str(r)
    feats = {f.get("var") for f in r.xml.findall(
        ".//{%s}feature" % NS_DISCO_INFO)}
    assert NS_PUBSUB + "#publish-options" in feats
    assert NS_PUBSUB + "#publish" in feats
    r = await o.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to=u.jid)
    nodes = {i.get("node") for i in r.xml.findall(
        ".//{%s}item" % NS_DISCO_ITEMS)}
    assert nodes == {"urn:x:vis"}, str(r)
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to=u.jid)
    nodes = {i.get("node") for i in r.xml.findall(
        ".//{%s}item" % NS_DISCO_ITEMS)}
    assert nodes == {"urn:x:vis", "urn:x:hid"}, str(r)
    r = await o.iq("<query xmlns='%s' node='urn:x:vis'/>" % NS_DISCO_INFO,
                   to=u.jid)
    assert r.xml.find(".//{%s}identity" % NS_DISCO_INFO).get(
        "type") == "leaf", str(r)
    r = await o.iq("<query xmlns='%s' node='urn:x:hid'/>" % NS_DISCO_INFO,
                   to=u.jid)
    assert_error(r, "item-not-found")


async def test_bad_requests(server, clients):
    """Bad input gets the XEP-0060 error: no node, two items, two
    payloads, no payload, an item id too long, an empty pubsub, an
    unknown verb, a malformed publish-options form (bad-request with
    invalid-options: no precondition the node could fail to meet)."""
    u = server.new_user()
    c = await clients.login(server, u)
    r = await c.iq("<pubsub xmlns='%s'><publish><item/></publish></pubsub>"
                   % NS_PUBSUB, type_="set")
    assert_error(r, "bad-request", "nodeid-required")
    r = await c.iq("<pubsub xmlns='%s'><publish node='n'><item id='1'>"
                   "<x xmlns='e'/></item><item id='2'><x xmlns='e'/></item>"
                   "</publish></pubsub>" % NS_PUBSUB, type_="set")
    assert_error(r, "bad-request", "invalid-payload")
    r = await c.iq(publish("n", "<x xmlns='e'/><y xmlns='e'/>"),
                   type_="set")
    assert_error(r, "bad-request", "invalid-payload")
    r = await c.iq(publish("n", ""), type_="set")
    assert_error(r, "bad-request", "payload-required")
    r = await c.iq(publish("n", "<x xmlns='e'/>", "i" * 300), type_="set")
    assert_error(r, "bad-request")
    r = await c.iq("<pubsub xmlns='%s'/>" % NS_PUBSUB, type_="set")
    assert_error(r, "bad-request")
    r = await c.iq("<pubsub xmlns='%s'><frobnicate node='n'/></pubsub>"
                   % NS_PUBSUB, type_="set")
    assert_error(r, "feature-not-implemented", "unsupported")
    r = await c.iq(publish("n", "<x xmlns='e'/>", "1",
                           "<publish-options><x xmlns='jabber:x:data'>"
                           "</x></publish-options>"), type_="set")
    assert_error(r, "bad-request", "invalid-options")
    # the node was not created by any of these
    assert_error(await get_items(c, u.jid, "n"), "item-not-found")


async def test_limits(make_server, clients):
    """An item over pubsub-item-max-size is not-acceptable with
    payload-too-big; past pubsub-max-nodes a new node is refused
    (resource-constraint); nothing is stored for either."""
    srv = make_server(pubsub_item_max_size="1K", pubsub_max_nodes="2")
    u = srv.new_user()
    c = await clients.login(srv, u)
    r = await c.iq(publish("big", "<x xmlns='e'>%s</x>" % ("a" * 2000)),
                   type_="set")
    assert_error(r, "not-acceptable", "payload-too-big")
    for n in ("n1", "n2"):
        r = await c.iq(publish(n, "<x xmlns='e'/>"), type_="set")
        assert r["type"] == "result", str(r)
    r = await c.iq(publish("n3", "<x xmlns='e'/>"), type_="set")
    assert_error(r, "resource-constraint")
    assert_error(await get_items(c, u.jid, "n3"), "item-not-found")
    assert_error(await get_items(c, u.jid, "big"), "item-not-found")


async def test_persistence_and_account_removal(make_server, clients):
    """Persistent items survive a restart; deleting the account deletes
    its nodes (a new account of the same name has none)."""
    srv = make_server()
    u = srv.new_user()
    c = await clients.login(srv, u)
    r = await c.iq(publish(MOOD, mood("kept"), "p"), type_="set")
    assert r["type"] == "result", str(r)
    await clients.close()
    srv.restart()
    c = await clients.login(srv, u)
    r = await get_items(c, u.jid, MOOD)
    assert [i.get("id") for i in items_of(r, MOOD)] == ["p"]
    await clients.close()
    srv.ctl("deluser", u.jid)
    srv.adduser(u.jid, u.password)
    c = await clients.login(srv, u)
    assert_error(await get_items(c, u.jid, MOOD), "item-not-found")


async def test_blocking_stops_events(server, clients):
    """XEP-0191 3.5: a contact the owner blocks gets no event and no last
    item; nor does an account that blocks the owner."""
    ua, ub, uc = server.new_user(), server.new_user(), server.new_user()
    a = await interested(clients, server, ua, MOOD)
    b = await interested(clients, server, ub, MOOD)
    c = await interested(clients, server, uc, MOOD)
    await befriend(a, ua, b, ub)
    await befriend(a, ua, c, uc)
    r = await a.iq("<block xmlns='urn:xmpp:blocking'><item jid='%s'/>"
                   "</block>" % ub.jid, type_="set")
    assert r["type"] == "result", str(r)
    r = await c.iq("<block xmlns='urn:xmpp:blocking'><item jid='%s'/>"
                   "</block>" % ua.jid, type_="set")
    assert r["type"] == "result", str(r)
    await settle(a, b, c)
    drain(b)
    drain(c)
    r = await a.iq(publish(MOOD, mood("secret"), "s1"), type_="set")
    assert r["type"] == "result", str(r)
    await next_event(a, MOOD, "the owner's own event")
    for x in (b, c):
        await x.fence()
        got = [m for m in x.pending() if "pubsub#event" in m]
        assert not got, "%s got an event across a block: %s" % (
            x.boundjid, got)
    # a new resource of the blocked contact gets no last item either
    b2 = await interested(clients, server, ub, MOOD, resource="late")
    await a.fence()
    await b2.fence()
    got = [m for m in b2.pending() if "pubsub#event" in m]
    assert not got, "the blocked contact got the last item: %s" % got
