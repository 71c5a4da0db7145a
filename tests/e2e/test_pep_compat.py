"""
The PEP conversions (router/pep_compat.c): avatars both ways between the
XEP-0084 nodes and the vCard PHOTO (XEP-0398, XEP-0054) with the XEP-0153
hash the server puts in presence; bookmarks kept the same in XEP-0402
('urn:xmpp:bookmarks:1'), XEP-0048 in private XML (XEP-0049) and XEP-0048
in PEP (XEP-0411); private PEP storage (XEP-0223) on the engine. Clients
use slixmpp's xep_0084, xep_0054, xep_0153, xep_0048, xep_0049 and
xep_0223 plugins (Debian's python3-slixmpp has no xep_0402: raw XML).
"""
import base64
import hashlib

from conftest import NS_DISCO_INFO, uniq
from imhelp import drain, settle
from test_pep import (NS_EVENT, NS_PUBSUB, NS_OWNER, PLUGINS, assert_error,
                      befriend, get_items, items_of, next_event,
                      publish, publish_options)

NS_VCARD = "vcard-temp"
NS_UPDATE = "vcard-temp:x:update"
NS_DATA = "urn:xmpp:avatar:data"
NS_META = "urn:xmpp:avatar:metadata"
NS_BM = "urn:xmpp:bookmarks:1"
NS_OLD = "storage:bookmarks"
NS_PRIVATE = "jabber:iq:private"
COMPAT = PLUGINS + ("xep_0060", "xep_0084", "xep_0054", "xep_0049",
                    "xep_0048", "xep_0223")


def image(n=64):
    """Some bytes standing for a PNG; its XEP-0084 id."""
    data = b"\x89PNG\r\n\x1a\n" + hashlib.sha256(
        uniq("img").encode()).digest() * (n // 32 + 1)
    return data, hashlib.sha1(data).hexdigest()


async def vcard_of(c, jid):
    r = await c.iq("<vCard xmlns='%s'/>" % NS_VCARD, to=jid)
    assert r["type"] == "result", str(r)
    return r.xml.find("{%s}vCard" % NS_VCARD)


def photo_of(card):
    """(TYPE, decoded BINVAL) of a vCard, or None."""
    ph = card.find("{%s}PHOTO" % NS_VCARD)
    if ph is None:
        return None
    return (ph.findtext("{%s}TYPE" % NS_VCARD),
            base64.b64decode("".join(ph.findtext(
                "{%s}BINVAL" % NS_VCARD).split())))


def update_of(p):
    """The XEP-0153 <photo/> of a presence: None (no x or no photo), ''
    (empty) or the hash."""
    ph = p.xml.find("{%s}x/{%s}photo" % (NS_UPDATE, NS_UPDATE))
    return None if ph is None else (ph.text or "")


async def presence_from(c, full):
    return await c.next_presence(match=lambda p: p["from"].full == full and
                                 p["type"] != "unavailable",
                                 what="presence of %s" % full)


async def publish_avatar(c, data, type_="image/png"):
    """As a XEP-0084 client: the data, then the metadata."""
    await c["xep_0084"].publish_avatar(data)
    await c["xep_0084"].publish_avatar_metadata(
        {"id": hashlib.sha1(data).hexdigest(), "type": type_,
         "bytes": len(data)})


async def compat_client(clients, server, user, *nodes, resource=None,
                        extra=()):
    """As test_pep.interested, with the plugins of this file (slixmpp's
    xep_0084 and xep_0048 announce their own +notify)."""
    c = await clients.login(server, user, resource=resource or uniq("r"),
                            plugins=COMPAT + tuple(extra))
    answered = []

    def out(stanza):
        if stanza.name == "iq" and stanza["type"] == "result" and \
                stanza.xml.find("{%s}query" % NS_DISCO_INFO) is not None:
            answered.append(stanza["disco_info"]["node"])
        return stanza
    c.add_filter("out", out)
    for n in nodes:
        c["xep_0030"].add_feature(n + "+notify")
    await c["xep_0115"].update_caps()
    c.send_presence()
    # the router asks for the features of a new hash (XEP-0115): once
    # the answer is sent (then the fence), notifications follow them; a
    # hash the router knows is not asked for, hence the bound
    ver = await c["xep_0115"].get_verstring(c.boundjid)
    for _ in range(20):
        await c.fence()
        if any(a and a.endswith("#" + ver) for a in answered):
            break
    await c.fence()
    return c


async def pair(server, clients, *nodes, extra=()):
    ua, ub = server.new_user(), server.new_user()
    a = await compat_client(clients, server, ua, *nodes)
    b = await compat_client(clients, server, ub, *nodes, extra=extra)
    await befriend(a, ua, b, ub)
    return ua, a, ub, b


# ---- discovery -------------------------------------------------------------

async def test_disco_features(server, clients):
    """XEP-0398 2 and XEP-0402: the conversions are announced on the
    account."""
    u = server.new_user()
    c = await clients.login(server, u)
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=u.jid)
    feats = {f.get("var") for f in r.xml.findall(
        ".//{%s}feature" % NS_DISCO_INFO)}
    for f in ("urn:xmpp:pep-vcard-conversion:0", NS_BM + "#compat",
              NS_BM + "#compat-pep"):
        assert f in feats, (f, feats)


# ---- avatars -----------------------------------------------------------------

async def test_avatar_to_vcard_and_presence(server, clients):
    """XEP-0398 3.1: a XEP-0084 avatar (slixmpp's xep_0084) becomes the
    vCard PHOTO, the vCard's other fields kept; XEP-0398 4: the hash goes
    into the next available presence, and into a directed one; an empty
    <photo/> of the client is left alone, an <x/> without one completed;
    disabling the avatar (empty metadata) removes the PHOTO and the
    presence says <photo/>."""
    ua, a, ub, b = await pair(server, clients)
    r = await a.iq("<vCard xmlns='%s'><FN>Alice</FN></vCard>" % NS_VCARD,
                   type_="set")
    assert r["type"] == "result", str(r)
    data, sha = image()
    await publish_avatar(a, data)
    card = await vcard_of(b, ua.jid)
    assert photo_of(card) == ("image/png", data)
    assert card.findtext("{%s}FN" % NS_VCARD) == "Alice"
    # no loop: the vCard written is not converted back into a publish
    _, got = await settle(a, b)
    metas = [m for m in got.messages if m.xml.find(
        ".//{%s}items[@node='%s']" % (NS_EVENT, NS_META)) is not None]
    assert len(metas) == 1, [str(m) for m in got.messages]
    a.send_raw("<presence/>")
    p = await presence_from(b, a.boundjid.full)
    assert update_of(p) == sha, str(p)
    a.send_raw("<presence><x xmlns='%s'><photo/></x></presence>" % NS_UPDATE)
    p = await presence_from(b, a.boundjid.full)
    assert update_of(p) == "", str(p)
    a.send_raw("<presence><show>away</show><x xmlns='%s'/></presence>"
               % NS_UPDATE)
    p = await presence_from(b, a.boundjid.full)
    assert update_of(p) == sha and p["show"] == "away", str(p)
    # a directed presence (as a MUC join) to someone without subscription
    uc = server.new_user()
    c = await clients.login(server, uc)
    a.send_raw("<presence to='%s'/>" % c.boundjid.full)
    p = await presence_from(c, a.boundjid.full)
    assert update_of(p) == sha, str(p)
    # XEP-0084 4.5: the avatar disabled
    await a["xep_0084"].stop()
    card = await vcard_of(b, ua.jid)
    assert photo_of(card) is None and \
        card.findtext("{%s}FN" % NS_VCARD) == "Alice", str(card)
    drain(b)
    a.send_raw("<presence/>")
    p = await presence_from(b, a.boundjid.full)
    assert update_of(p) == "", str(p)


async def test_presence_hash_from_stored_vcard(server, clients):
    """The hash of a vCard photo stored earlier (XEP-0153 through vCard),
    read at the first presence of a new session; slixmpp's xep_0153 on
    the contact's side reads it."""
    ua, a, ub, b = await pair(server, clients, extra=("xep_0153",))
    data, sha = image()
    r = await a.iq("<vCard xmlns='%s'><PHOTO><TYPE>image/jpeg</TYPE>"
                   "<BINVAL>%s</BINVAL></PHOTO></vCard>"
                   % (NS_VCARD, base64.encodebytes(data).decode()),
                   type_="set")
    assert r["type"] == "result", str(r)
    a2 = await clients.login(server, ua, resource="late")
    drain(b)
    a2.send_raw("<presence/>")
    p = await presence_from(b, a2.boundjid.full)
    assert p["vcard_temp_update"]["photo"] == sha, str(p)


async def test_vcard_to_avatar(server, clients):
    """XEP-0398 3.2: a vCard PHOTO (slixmpp's xep_0054) publishes the data
    node (item id the SHA-1), then the metadata node with one info, and
    notifies; the nodes are open (a stranger fetches them); the vCard is
    stored as sent (no conversion back); the same photo again publishes
    nothing; a vCard without photo disables the avatar."""
    ua, a, ub, b = await pair(server, clients, NS_META)
    data, sha = image()
    vc = a["xep_0054"].make_vcard()
    vc["FN"] = "Alice"
    vc["PHOTO"]["TYPE"] = "image/gif"
    vc["PHOTO"]["BINVAL"] = data
    await a["xep_0054"].publish_vcard(vc)
    m = await next_event(b, NS_META, "the avatar metadata")
    info = m.xml.find(".//{%s}info" % NS_META)
    assert info.get("id") == sha and info.get("type") == "image/gif" and \
        info.get("bytes") == str(len(data)), str(m)
    uc = server.new_user()
    c = await clients.login(server, uc)
    r = await get_items(c, ua.jid, NS_DATA)
    it = items_of(r, NS_DATA)
    assert [i.get("id") for i in it] == [sha]
    assert base64.b64decode(it[0].findtext("{%s}data" % NS_DATA)) == data
    r = await get_items(c, ua.jid, NS_META)
    assert [i.get("id") for i in items_of(r, NS_META)] == [sha]
    card = await vcard_of(c, ua.jid)
    assert card.findtext("{%s}FN" % NS_VCARD) == "Alice"
    assert photo_of(card) == ("image/gif", data)
    # the same photo again: no new publish
    await a["xep_0054"].publish_vcard(vc)
    _, got = await settle(a, b)
    assert not [x for x in got.messages if NS_EVENT in str(x)]
    # no photo: the avatar is disabled (XEP-0084 4.5)
    r = await a.iq("<vCard xmlns='%s'><FN>Alice</FN></vCard>" % NS_VCARD,
                   type_="set")
    assert r["type"] == "result", str(r)
    m = await next_event(b, NS_META, "the avatar disabled")
    meta = m.xml.find(".//{%s}metadata" % NS_META)
    assert meta is not None and len(meta) == 0, str(m)


async def test_avatar_bad_or_too_large(make_server, clients):
    """Conversions that cannot be done are skipped whole and logged: an
    image larger than vcard-max-size, metadata naming data that is not
    there, data whose SHA-1 is not its id; the publishes stand and the
    vCard is untouched."""
    srv = make_server(vcard_max_size="2K")
    u = srv.new_user()
    c = await clients.login(srv, u, plugins=COMPAT)
    r = await c.iq("<vCard xmlns='%s'><FN>Keep</FN></vCard>" % NS_VCARD,
                   type_="set")
    assert r["type"] == "result", str(r)
    mark = srv.log_size()
    # a bad image: base64 of other bytes than its id says
    big, sha0 = image(3000)
    r = await c.iq(publish(NS_DATA, "<data xmlns='%s'>%s</data>" % (
        NS_DATA, base64.b64encode(big[:600]).decode()), sha0), type_="set")
    assert r["type"] == "result", str(r)
    for meta_id in (sha0, "0" * 40):
        r = await c.iq(publish(NS_META, "<metadata xmlns='%s'><info id='%s' "
                               "type='image/png' bytes='1'/></metadata>"
                               % (NS_META, meta_id), meta_id), type_="set")
        assert r["type"] == "result", str(r)
        card = await vcard_of(c, u.jid)
        assert photo_of(card) is None and \
            card.findtext("{%s}FN" % NS_VCARD) == "Keep", str(card)
    assert "avatar to vCard skipped" in srv.log_text(mark)
    # an image larger than a vCard may be
    data, sha = image(2000)
    await publish_avatar(c, data)
    card = await vcard_of(c, u.jid)
    assert photo_of(card) is None, str(card)
    assert "avatar to vCard skipped: past a size limit" in \
        srv.log_text(mark)


async def test_vcard_photo_too_large_for_an_item(make_server, clients):
    """A vCard whose photo is larger than pubsub-item-max-size is stored,
    and publishes neither avatar node (logged)."""
    srv = make_server(pubsub_item_max_size="1K")
    u = srv.new_user()
    c = await clients.login(srv, u, plugins=COMPAT)
    mark = srv.log_size()
    data, sha = image(1000)
    r = await c.iq("<vCard xmlns='%s'><PHOTO><TYPE>image/png</TYPE><BINVAL>"
                   "%s</BINVAL></PHOTO></vCard>" % (
                       NS_VCARD, base64.b64encode(data).decode()),
                   type_="set")
    assert r["type"] == "result", str(r)
    assert photo_of(await vcard_of(c, u.jid))[1] == data
    for node in (NS_META, NS_DATA):
        assert_error(await get_items(c, u.jid, node), "item-not-found")
    assert "vCard to avatar skipped: past a size limit" in srv.log_text(mark)
    # a PHOTO that is not base64: the vCard is stored, nothing published
    r = await c.iq("<vCard xmlns='%s'><PHOTO><TYPE>image/png</TYPE><BINVAL>"
                   "#not*base64#</BINVAL></PHOTO></vCard>" % NS_VCARD,
                   type_="set")
    assert r["type"] == "result", str(r)
    assert_error(await get_items(c, u.jid, NS_META), "item-not-found")
    assert "vCard to avatar skipped: Invalid argument" in srv.log_text(mark)


# ---- bookmarks ---------------------------------------------------------------

def bm_publish(room, name="Room", nick="nick", autojoin="true", extra=""):
    """A XEP-0402 client's publish, with its publish-options."""
    return publish(NS_BM, "<conference xmlns='%s' name='%s' autojoin='%s'>"
                   "<nick>%s</nick>%s</conference>" % (NS_BM, name, autojoin,
                                                       nick, extra),
                   room, publish_options(persist_items="true",
                                         max_items="max",
                                         send_last_published_item="never",
                                         access_model="whitelist"))


async def legacy_private(c):
    r = await c["xep_0048"].get_bookmarks(method="xep_0049")
    return r["private"]["bookmarks"]


async def legacy_pep(c):
    r = await c["xep_0048"].get_bookmarks(method="xep_0223")
    items = r["pubsub"]["items"]["substanzas"]
    assert len(items) == 1, str(r)
    return items[0]["bookmarks"]


def confs(bm):
    return {str(x["jid"]): (x["name"], x["autojoin"], x["nick"],
                            x["password"]) for x in bm["conferences"]}


async def new_items(c, jid):
    r = await get_items(c, jid, NS_BM)
    return {i.get("id"): i.find("{%s}conference" % NS_BM)
            for i in items_of(r, NS_BM)}


async def test_bookmarks_new_to_legacy(server, clients):
    """XEP-0402 compat: a bookmarks:1 publish lands in the XEP-0048 list in
    private XML (slixmpp's xep_0048 over xep_0049) and in PEP (over
    xep_0223), with the item id as the jid; what else the old list held
    (<url/>) stays; a retraction removes the room from both."""
    u = server.new_user()
    c = await clients.login(server, u, plugins=COMPAT)
    r = await c.iq("<query xmlns='%s'><storage xmlns='%s'><url name='w' "
                   "url='https://example.org/'/></storage></query>"
                   % (NS_PRIVATE, NS_OLD), type_="set")
    assert r["type"] == "result", str(r)
    r = await c.iq(bm_publish("one@muc.example", "One", "n1"), type_="set")
    assert r["type"] == "result", str(r)
    r = await c.iq(bm_publish("two@muc.example", "Two", "n2", "false",
                              "<password>pw</password>"), type_="set")
    assert r["type"] == "result", str(r)
    want = {"one@muc.example": ("One", True, "n1", ""),
            "two@muc.example": ("Two", False, "n2", "pw")}
    priv = await legacy_private(c)
    assert confs(priv) == want
    assert [x["url"] for x in priv["urls"]] == ["https://example.org/"]
    assert confs(await legacy_pep(c)) == want
    r = await c.iq("<pubsub xmlns='%s'><retract node='%s' notify='true'>"
                   "<item id='one@muc.example'/></retract></pubsub>"
                   % (NS_PUBSUB, NS_BM), type_="set")
    assert r["type"] == "result", str(r)
    del want["one@muc.example"]
    assert confs(await legacy_private(c)) == want
    assert confs(await legacy_pep(c)) == want


async def test_bookmarks_legacy_private_to_new(server, clients):
    """XEP-0411 / XEP-0402 compat: a XEP-0048 list written to private XML
    becomes one bookmarks:1 item per room (notified to the owner's
    resource that asked), and the PEP storage:bookmarks copy; written
    again, only the changed room is notified, the removed one retracted,
    the unchanged one not notified; extensions of an item stay."""
    u = server.new_user()
    c = await compat_client(clients, server, u, NS_BM)
    r = await c.iq(bm_publish("keep@muc.example", "Keep", "k", "true",
                              "<extensions><x xmlns='urn:example'/>"
                              "</extensions>"), type_="set")
    assert r["type"] == "result", str(r)
    await next_event(c, NS_BM)
    bm = c["xep_0048"].stanza.Bookmarks()
    bm.add_conference("keep@muc.example", "k", name="Keep", autojoin=True)
    bm.add_conference("b@muc.example", "nb", name="B", autojoin=False,
                      password="secret")
    bm.add_conference("c@muc.example", "nc", name="C", autojoin=True)
    await c["xep_0048"].set_bookmarks(bm, method="xep_0049")
    got = set()
    for _ in range(2):
        m = await next_event(c, NS_BM, "a converted bookmark")
        got.add(m.xml.find(".//{%s}item" % NS_EVENT).get("id"))
    assert got == {"b@muc.example", "c@muc.example"}
    items = await new_items(c, u.jid)
    assert set(items) == {"keep@muc.example", "b@muc.example",
                          "c@muc.example"}
    b = items["b@muc.example"]
    assert b.get("name") == "B" and b.get("autojoin") in (None, "false") \
        and b.findtext("{%s}password" % NS_BM) == "secret" \
        and b.findtext("{%s}nick" % NS_BM) == "nb", str(items)
    assert items["keep@muc.example"].find(
        "{%s}extensions/{urn:example}x" % NS_BM) is not None
    assert set(confs(await legacy_pep(c))) == set(items)
    # again: keep unchanged, b changed, c removed
    await settle(c)
    drain(c)
    bm = c["xep_0048"].stanza.Bookmarks()
    bm.add_conference("keep@muc.example", "k", name="Keep", autojoin=True)
    bm.add_conference("b@muc.example", "nb2", name="B", autojoin=True)
    await c["xep_0048"].set_bookmarks(bm, method="xep_0049")
    got, = await settle(c)
    ids = sorted((e.tag.split("}")[1], e.get("id")) for m in got.messages
                 for e in m.xml.findall(".//{%s}items[@node='%s']/*"
                                        % (NS_EVENT, NS_BM)))
    assert ids == [("item", "b@muc.example"),
                   ("retract", "c@muc.example")], ids
    items = await new_items(c, u.jid)
    assert set(items) == {"keep@muc.example", "b@muc.example"}
    assert items["b@muc.example"].findtext("{%s}nick" % NS_BM) == "nb2"
    assert items["keep@muc.example"].find(
        "{%s}extensions" % NS_BM) is not None


async def test_bookmarks_legacy_pep_to_new(server, clients):
    """XEP-0048 3.3 through PEP (slixmpp's xep_0048 over xep_0223): the
    list reaches bookmarks:1 and private XML; the bookmarks:1 node is
    private (a contact gets not-allowed) and never sends its last item."""
    ua, a, ub, b = await pair(server, clients)
    bm = a["xep_0048"].stanza.Bookmarks()
    bm.add_conference("p@muc.example", "np", name="P", autojoin=True)
    # not a room's JID: left out of bookmarks:1 (its item id)
    bm.add_conference("muc.example/res", "nx", name="X")
    await a["xep_0048"].set_bookmarks(bm, method="xep_0223")
    items = await new_items(a, ua.jid)
    assert list(items) == ["p@muc.example"]
    assert set(confs(await legacy_private(a))) == {"p@muc.example",
                                                   "muc.example/res"}
    assert_error(await get_items(b, ua.jid, NS_BM), "not-allowed",
                 "closed-node")
    r = await a.iq("<pubsub xmlns='%s'><configure node='%s'/></pubsub>"
                   % (NS_OWNER, NS_BM))
    vals = {f.get("var"): f.findtext("{jabber:x:data}value")
            for f in r.xml.findall(".//{jabber:x:data}field")}
    assert vals["pubsub#access_model"] == "whitelist"
    assert vals["pubsub#max_items"] == "max"
    assert vals["pubsub#send_last_published_item"] == "never"


async def test_bookmarks_too_many(make_server, clients):
    """A XEP-0048 list with more rooms than a node keeps is not converted
    at all (logged); the private XML write itself stands."""
    srv = make_server(pubsub_max_items="2")
    u = srv.new_user()
    c = await clients.login(srv, u, plugins=COMPAT)
    mark = srv.log_size()
    bm = c["xep_0048"].stanza.Bookmarks()
    for i in range(3):
        bm.add_conference("r%d@muc.example" % i, "n")
    await c["xep_0048"].set_bookmarks(bm, method="xep_0049")
    assert len(confs(await legacy_private(c))) == 3
    assert_error(await get_items(c, u.jid, NS_BM), "item-not-found")
    assert "XEP-0048 bookmarks to XEP-0402 skipped: past a size limit" in \
        srv.log_text(mark)


# ---- XEP-0223 ------------------------------------------------------------------

async def test_private_pep_storage(server, clients):
    """XEP-0223 with slixmpp's xep_0223: stored with access_model
    whitelist and persist_items (its publish-options), read back by the
    owner; a contact gets not-allowed (closed-node); the owner publishing
    with other preconditions gets conflict (precondition-not-met), and
    nothing changes."""
    ua, a, ub, b = await pair(server, clients)
    node = "urn:example:settings"
    bm = a["xep_0048"].stanza.Bookmarks()
    bm.add_conference("s@muc.example", "n")
    await a["xep_0223"].store(bm, node=node, id="current")
    r = await a["xep_0223"].retrieve(node)
    items = r["pubsub"]["items"]["substanzas"]
    assert [i["id"] for i in items] == ["current"]
    assert_error(await get_items(b, ua.jid, node), "not-allowed",
                 "closed-node")
    r = await a.iq(publish(node, "<x xmlns='urn:example'/>", "current",
                           publish_options(access_model="presence",
                                           persist_items="true")),
                   type_="set")
    assert_error(r, "conflict", "precondition-not-met")
    r = await a.iq(publish(node, "<x xmlns='urn:example'/>", "current",
                           publish_options(access_model="whitelist",
                                           persist_items="false")),
                   type_="set")
    assert_error(r, "conflict", "precondition-not-met")
    r = await get_items(a, ua.jid, node)
    it = items_of(r, node)
    assert it[0].find("{%s}storage" % NS_OLD) is not None, str(r)
