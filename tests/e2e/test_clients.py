"""
What third-party clients send, replayed: the stanza sequences of
Conversations, Monal, Dino, Gajim and converse.js at login and in their
common actions, as their sources build them, and the features the XMPP
compliance suites (XEP-0479) look for in service discovery.
"""
import asyncio
import re
import uuid

import pytest

from conftest import DOMAIN, HEADER, NS_DISCO_INFO, NS_TLS, Raw, \
    client_tls_context, sasl_plain, stanza_error, uniq
from test_muc import msrv  # noqa: F401 (a host with group chat)
from test_sasl2 import NS_BIND2, NS_SASL2, outcome, sasl2_stream, text_of

NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_MUC = "http://jabber.org/protocol/muc"
PLUGINS = ("xep_0199",)


def features(r):
    return {f.get("var") for f in r.xml.iter("{%s}feature" % NS_DISCO_INFO)}


def form(form_type, fields, hidden=True):
    """A submitted data form; fields: [(var, value or [values])]."""
    out = ["<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'"
           "%s><value>%s</value></field>"
           % (" type='hidden'" if hidden else "", form_type)]
    for var, val in fields:
        vals = val if isinstance(val, list) else [val]
        out.append("<field var='%s'>%s</field>" % (
            var, "".join("<value>%s</value>" % v for v in vals)))
    out.append("</x>")
    return "".join(out)


def publish_options(fields):
    return "<publish-options>%s</publish-options>" % form(
        NS_PUBSUB + "#publish-options", fields)


async def ok(c, payload, to=None, type_="set"):
    r = await c.iq(payload, to=to, type_=type_)
    assert r["type"] == "result", "%s\n-> %s" % (payload, r)
    return r


async def login(msrv, clients, user=None):
    c = await clients.login(msrv, user or msrv.new_user("c"),
                            plugins=PLUGINS)
    c.send_presence()
    await c.fence()
    c.pending()
    return c


# ---------------------------------------------------------------------------

async def conversations_login(msrv, user, dev=None):
    """SASL2 as Conversations builds it: PLAIN here, user agent, Bind2
    with its tag, carbons and stream management inline, a FAST token
    asked for. Returns (raw, success element)."""
    raw, feats = await sasl2_stream(msrv)
    await raw.send(
        "<authenticate xmlns='%s' mechanism='PLAIN'><initial-response>%s"
        "</initial-response><user-agent id='%s'><software>Conversations"
        "</software><device>Pixel</device></user-agent>"
        "<bind xmlns='%s'><tag>Conversations</tag>"
        "<enable xmlns='urn:xmpp:carbons:2'/>"
        "<enable xmlns='urn:xmpp:sm:3' resume='true'/></bind>"
        "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-ENDP'/>"
        "</authenticate>"
        % (NS_SASL2, sasl_plain(user.jid.split("@")[0], user.password),
           dev or str(uuid.uuid4()), NS_BIND2))
    name, el = await outcome(raw)
    assert name == "success", el
    return raw, el


async def raw_iq(raw, iid, payload, to=None, type_="get", frm=None):
    await raw.send("<iq type='%s' id='%s'%s%s>%s</iq>" % (
        type_, iid, " to='%s'" % to if to else "",
        " from='%s'" % frm if frm else "", payload))
    m = await raw.read_until(rb"<iq\b[^>]*\bid='%s'[^>]*(?:/>|>.*?</iq>)"
                             % iid.encode())
    return m.group(0)


async def test_bind2_features_offer_roster_versioning(msrv):
    """Conversations and Monal log in with XEP-0388 and bind inline
    (XEP-0386), then read the stream features that follow <success/>
    for <ver/> (XEP-0237) before their roster get: without it they fetch
    the whole roster at every login. The roster get with the version
    of the last result is then answered empty."""
    u = msrv.new_user("cv")
    raw, el = await conversations_login(msrv, u)
    try:
        assert b"<bound xmlns='urn:xmpp:bind:0'" in el, el
        feats = (await raw.read_until(rb"<stream:features>.*?"
                                      rb"</stream:features>")).group(0)
        assert b"<ver xmlns='urn:xmpp:features:rosterver'/>" in feats, \
            feats
        assert b"<sub xmlns='urn:xmpp:features:pre-approval'/>" in feats, \
            feats
        assert b"xmpp-bind" not in feats, feats
        r = await raw_iq(raw, "r1", "<query xmlns='jabber:iq:roster' "
                         "ver=''/>")
        ver = re.search(rb"ver='([^']*)'", r)
        assert ver and b"type='result'" in r, r
        r = await raw_iq(raw, "r2", "<query xmlns='jabber:iq:roster' "
                         "ver='%s'/>" % ver.group(1).decode())
        assert b"type='result'" in r and b"<query" not in r, r
    finally:
        raw.close()


async def test_conversations_session(msrv):
    """Conversations' login and first minute as its sources send them:
    XEP-0388 with a user agent, Bind2 with carbons and resumable stream
    management inline, a FAST token asked for with HT-SHA-256-ENDP; then
    disco#info of server and account, the block list, the roster with an
    empty version, the MAM catch-up (start, an empty <before/>, max),
    external services, push enabled with its publish-options form
    (FORM_TYPE not marked hidden), the OMEMO device list published open;
    every IQ with from= its full JID, as Conversations sends them; every
    answer is a result and the <a/> counts them all."""
    u = msrv.new_user("cv")
    raw, el = await conversations_login(msrv, u)
    try:
        assert re.search(rb"<token xmlns='urn:xmpp:fast:0' expiry='[^']+' "
                         rb"token='[^']+'/>", el), el
        assert re.search(rb"<bound xmlns='urn:xmpp:bind:0'><enabled xmlns="
                         rb"'urn:xmpp:sm:3' id='[^']+' resume='true'", el), el
        # Conversations reads carbons as on from <bound/> only
        assert b"<enabled xmlns='urn:xmpp:carbons:2'/></bound>" in el, el
        jid = text_of(el, "authorization-identifier")
        assert jid.startswith(u.jid + "/Conversations."), jid
        await raw.read_until(rb"</stream:features>")
        steps = [
            ("<query xmlns='%s'/>" % NS_DISCO_INFO, DOMAIN, "get",
             b"urn:xmpp:carbons:2"),
            ("<query xmlns='%s'/>" % NS_DISCO_INFO, u.jid, "get",
             b"urn:xmpp:push:0"),
            ("<blocklist xmlns='urn:xmpp:blocking'/>", None, "get",
             b"<blocklist"),
            ("<query xmlns='jabber:iq:roster' ver=''/>", None, "get",
             b"ver='"),
            ("<query xmlns='%s' queryid='q1'>%s<set xmlns='%s'><before/>"
             "<max>30</max></set></query>" % (
                 NS_MAM, form(NS_MAM, [("start",
                                        "2020-01-01T00:00:00.000Z")]),
                 NS_RSM), None, "set", b"<fin xmlns='urn:xmpp:mam:2' "
             b"complete='true'"),
            ("<services xmlns='urn:xmpp:extdisco:2'/>", DOMAIN, "get",
             b"<services"),
            ("<enable xmlns='urn:xmpp:push:0' jid='p2.siacs.eu' node='n1'>"
             "%s</enable>" % form(NS_PUBSUB + "#publish-options",
                                  [("secret", "s")], hidden=False),
             None, "set", b""),
            ("<pubsub xmlns='%s'><publish node='eu.siacs.conversations."
             "axolotl.devicelist'><item id='current'><list xmlns='eu.siacs."
             "conversations.axolotl'><device id='1234'/></list></item>"
             "</publish>%s</pubsub>" % (NS_PUBSUB, publish_options(
                 [("pubsub#access_model", "open")])), None, "set",
             b"<item id='current'/>"),
        ]
        for i, (payload, to, type_, want) in enumerate(steps):
            # Conversations stamps its full JID on what it sends
            r = await raw_iq(raw, "c%d" % i, payload, to, type_, jid)
            assert b"type='result'" in r and want in r, (payload, r)
        await raw.send("<r xmlns='urn:xmpp:sm:3'/>")
        await raw.read_until(rb"<a xmlns='urn:xmpp:sm:3' h='%d'/>"
                             % len(steps))
    finally:
        raw.close()


async def test_conversations_quick_start(msrv):
    """Conversations' quick start: right after the TLS handshake (direct
    TLS, or STARTTLS) the stream header with from= and the
    <authenticate/> in one write, before any features arrive."""
    u = msrv.new_user("qs")
    for direct in (False, True):
        if direct:
            raw = await Raw.open(msrv.tls_port, tls=True)
        else:
            raw = await Raw.open(msrv.port)
            await raw.stream_header()
            await raw.send("<starttls xmlns='%s'/>" % NS_TLS)
            await raw.read_until(rb"<proceed\b[^>]*/>")
            await asyncio.wait_for(raw.w.start_tls(
                client_tls_context(), server_hostname=DOMAIN), 10)
            raw.buf = b""
        try:
            await raw.send(HEADER.decode().replace(
                "<stream:stream ", "<stream:stream from='%s' " % u.jid) +
                "<authenticate xmlns='%s' mechanism='PLAIN'>"
                "<initial-response>%s</initial-response><user-agent id='%s'>"
                "<software>Conversations</software></user-agent><bind "
                "xmlns='%s'><tag>Conversations</tag><enable xmlns='urn:xmpp:"
                "carbons:2'/><enable xmlns='urn:xmpp:sm:3' resume='true'/>"
                "</bind></authenticate>"
                % (NS_SASL2, sasl_plain(u.jid.split("@")[0], u.password),
                   uuid.uuid4(), NS_BIND2))
            name, el = await outcome(raw)
            assert name == "success" and b"<bound" in el, (direct, el)
        finally:
            raw.close()


async def test_room_claims_self_ping_optimization_and_stable_id(msrv,
                                                               clients):
    """A room's disco#info says what Conversations and Gajim look for:
    XEP-0410's self-ping-optimization (the room answers an occupant's
    ping to itself) and XEP-0045's muc#stable_id, by which Conversations
    recognises its own message in the reflection by its id; both hold."""
    from test_muc import SVC, create, join, next_body
    a = await login(msrv, clients)
    b = await login(msrv, clients)
    room = uniq("cl")
    rjid = await create(a, room, "alice")
    await join(b, room, "bob")
    r = await ok(a, "<query xmlns='%s'/>" % NS_DISCO_INFO, to=rjid,
                 type_="get")
    feats = features(r)
    assert NS_MUC + "#self-ping-optimization" in feats, feats
    assert NS_MUC + "#stable_id" in feats, feats
    await ok(b, "<ping xmlns='urn:xmpp:ping'/>", to=rjid + "/bob",
             type_="get")
    a.pending()
    a.send_raw("<message to='%s' type='groupchat' id='cv-1'><body>hello"
               "</body><origin-id xmlns='urn:xmpp:sid:0' id='cv-1'/>"
               "</message>" % rjid)
    for c in (a, b):
        m = await next_body(c, "hello")
        assert m["id"] == "cv-1", str(m)
        assert m["from"] == rjid + "/alice", str(m)
    r = await ok(a, "<query xmlns='%s'/>" % NS_DISCO_INFO, to=SVC,
                 type_="get")
    assert NS_MUC + "#self-ping-optimization" in features(r), features(r)


async def test_bookmarks2_as_conversations_and_gajim_publish(msrv, clients):
    """XEP-0402 3.2 as Conversations and Gajim publish: the options
    persist_items "true", whitelist, send_last_published_item never and
    max_items "max", which the account advertises with
    pubsub#config-node-max; the next publish with the same options
    meets them (a boolean "1" is "true"), the node keeps every item."""
    c = await login(msrv, clients)
    r = await ok(c, "<query xmlns='%s'/>" % NS_DISCO_INFO,
                 to=c.boundjid.bare, type_="get")
    assert NS_PUBSUB + "#config-node-max" in features(r), features(r)
    assert NS_PUBSUB + "#publish-options" in features(r), features(r)
    for i, persist in enumerate(("true", "1", "true")):
        await ok(c, "<pubsub xmlns='%s'><publish node='urn:xmpp:bookmarks:1'>"
                 "<item id='r%d@conference.localhost'><conference xmlns="
                 "'urn:xmpp:bookmarks:1' autojoin='true' name='R'><nick>n"
                 "</nick></conference></item></publish>%s</pubsub>"
                 % (NS_PUBSUB, i, publish_options([
                     ("pubsub#persist_items", persist),
                     ("pubsub#access_model", "whitelist"),
                     ("pubsub#send_last_published_item", "never"),
                     ("pubsub#max_items", "max")])))
    r = await ok(c, "<pubsub xmlns='%s'><items node='urn:xmpp:bookmarks:1'"
                 "/></pubsub>" % NS_PUBSUB, type_="get")
    assert len(list(r.xml.iter("{%s}item" % NS_PUBSUB))) == 3, str(r)


@pytest.mark.parametrize("tag,prefix", [
    ("Monal iOS", "Monal iOS."),
    ("Gajim 1.9.5 on Windows 11 (64-bit) x86_64",
     "Gajim 1.9.5 on Windows 11 (64-bi."),
    # 33 bytes: the cut falls inside the last two-byte character
    ("Cheogram " + "\u00e9" * 12, None),
    ("", None),
])
async def test_bind2_tag_never_fails_the_login(msrv, tag, prefix):
    """XEP-0386 3: the tag only names the resource; a long one is cut
    (on a character boundary), an empty one left out; the login goes on
    either way."""
    u = msrv.new_user("tg")
    raw, feats = await sasl2_stream(msrv)
    try:
        await raw.send(
            "<authenticate xmlns='%s' mechanism='PLAIN'><initial-response>"
            "%s</initial-response><user-agent id='%s'/><bind xmlns='%s'>"
            "<tag>%s</tag></bind></authenticate>"
            % (NS_SASL2, sasl_plain(u.jid.split("@")[0], u.password),
               uuid.uuid4(), NS_BIND2, tag))
        name, el = await outcome(raw)
        assert name == "success", el
        res = text_of(el, "authorization-identifier").split("/", 1)[1]
        if prefix is not None:
            assert res.startswith(prefix), res
        elif tag:
            # 32 bytes of the tag, no half character, then the device part
            head = res.rsplit(".", 1)[0]
            assert len(head.encode()) <= 32 and tag.startswith(head), res
        else:
            assert "." not in res and len(res) == 16, res
    finally:
        raw.close()


async def test_disco_where_gajim_looks(msrv, clients):
    """Gajim hands the server's disco#info to its vcard-temp, blocking,
    carbons, upload and register modules, and the account's to MAM,
    PEP, pubsub, bookmarks and avatars: each feature must be where it
    looks (vcard-temp on the server, or it keeps the profile closed)."""
    c = await login(msrv, clients)
    server = features(await ok(c, "<query xmlns='%s'/>" % NS_DISCO_INFO,
                               to=DOMAIN, type_="get"))
    acct = features(await ok(c, "<query xmlns='%s'/>" % NS_DISCO_INFO,
                             to=c.boundjid.bare, type_="get"))
    for f in ("vcard-temp", "urn:xmpp:blocking", "urn:xmpp:carbons:2",
              "jabber:iq:register"):
        assert f in server, (f, server)
    for f in (NS_MAM, NS_PUBSUB + "#publish-options",
              "urn:xmpp:bookmarks:1#compat",
              "urn:xmpp:pep-vcard-conversion:0"):
        assert f in acct, (f, acct)
    # the server's own vCard is still nobody's (test_services.py)
    r = await c.iq("<vCard xmlns='vcard-temp'/>", to=DOMAIN)
    assert stanza_error(r)[1] == "service-unavailable", str(r)


async def test_pep_as_monal_requires_it(msrv, clients):
    """Monal uses XEP-0402 bookmarks only with "modern" PEP: the account's
    disco#info must have the pep identity and these features, among
    them pubsub#multi-items (several items in one node, which bookmarks2
    needs) and pubsub#config-node-max (max_items "max")."""
    c = await login(msrv, clients)
    r = await ok(c, "<query xmlns='%s'/>" % NS_DISCO_INFO,
                 to=c.boundjid.bare, type_="get")
    ids = [(i.get("category"), i.get("type")) for i in
           r.xml.iter("{%s}identity" % NS_DISCO_INFO)]
    assert ("pubsub", "pep") in ids, ids
    for f in ("filtered-notifications", "publish-options", "publish",
              "subscribe", "create-nodes", "delete-items", "delete-nodes",
              "persistent-items", "retrieve-items", "auto-create",
              "item-ids", "multi-items", "config-node-max"):
        assert NS_PUBSUB + "#" + f in features(r), (f, features(r))
    assert "urn:xmpp:bookmarks:1#compat-pep" in features(r), features(r)
