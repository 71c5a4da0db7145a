"""
A bad-input sweep over the newer protocol areas, for the cases the files
of those areas do not already hold: SASL2 (XEP-0388) with broken base64,
no mechanism or data over the limit; BOSH (XEP-0124) pause beyond
maxpause and a body over the limit; HTTP upload (XEP-0363) slot requests
with a size past any limit or a bad content type; MUC (XEP-0045) nicks
of spaces only and invitations naming a bad JID; IQs whose 'to' breaks
RFC 7622; PEP publish-options (XEP-0060 7.1.5) whose form is malformed
apart from those that are well-formed but not met; BOSH requests whose
root is no httpbind <body/>; IQs with more than one payload (RFC 6120
8.2.3) where the c2s's check does not stand in front: before binding, and
from a component. Each case checks the condition the spec names and
that the stream (or the server) still works afterwards.
"""
import asyncio
import base64
import re
import struct

import pytest

from conftest import (DOMAIN, NS_BIND, NS_PING, Raw, free_port, sasl_plain,
                      stanza_error, uniq)
from test_sasl2 import (NS_SASL2, condition, outcome, sasl2_open,
                        scram_login, ua)
from test_bosh import NS as NS_BOSH, Bosh, apost, web_server
from test_component import COMP, SECRET, Component
# msrv: test_muc's module fixture, a server with MUC on
from test_muc import (NS_USER, SVC, create, error_of, join, login,
                      msrv, self_presence)  # noqa: F401
from test_pep import (NS_PUBSUB, assert_error, get_items, items_of,
                      publish, publish_options)
from test_rfc6120 import authed, condition_of, iq_re
from test_upload import cond, slot, upload_server
from test_websocket import OPEN, WS

NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"


# ---- SASL2 --------------------------------------------------------------

def authenticate(mech, data, extra=""):
    attr = " mechanism='%s'" % mech if mech is not None else ""
    ir = "<initial-response>%s</initial-response>" % data \
        if data is not None else ""
    return ("<authenticate xmlns='%s'%s>%s%s%s</authenticate>"
            % (NS_SASL2, attr, ir, ua(), extra))


async def test_sasl2_bad_base64_then_login(server):
    """RFC 6120 6.5.2 (XEP-0388 2.4 keeps the conditions): data that is
    not RFC 4648 base64 is incorrect-encoding, answered in XEP-0388's
    namespace; the stream stays usable, and a good request then
    succeeds."""
    u = server.new_user("sw")
    node = u.jid.split("@")[0]
    good = sasl_plain(node, u.password)
    for bad in ("abc", "a===", good[:-4] + " " + good[-4:-1],
                "!" + good[1:], "Zm9=", "Zh=="):
        async with sasl2_open(server) as (raw, feats):
            await raw.send(authenticate("PLAIN", bad))
            name, el = await outcome(raw)
            assert name == "failure", (bad, el)
            assert el.startswith(b"<failure xmlns='%s'>"
                                 % NS_SASL2.encode()), el
            assert condition(el) == "incorrect-encoding", (bad, el)
            await raw.send(authenticate("PLAIN", good))
            name, el = await outcome(raw)
            assert name == "success", (bad, el)


async def test_sasl2_no_mechanism(server):
    """XEP-0388 2.3: the mechanism attribute is required; without it no
    mechanism is chosen: invalid-mechanism (RFC 6120 6.5.5)."""
    async with sasl2_open(server) as (raw, feats):
        await raw.send(authenticate(None, "="))
        name, el = await outcome(raw)
        assert name == "failure" and \
            condition(el) == "invalid-mechanism", el


async def test_sasl2_data_over_the_limit(make_server):
    """Well-formed base64 of more than a mechanism message may hold (8K)
    is a malformed request (RFC 6120 6.5.6), not an encoding error: the
    encoding is right. In both protocols, initial data and responses.
    (With the default c2s-max-stanza-size-preauth such an element is a
    policy-violation stream error before SASL sees it.)"""
    server = make_server(c2s_max_stanza_size_preauth="64K")
    u = server.new_user("sw")
    big = base64.b64encode(b"n,,n=x,r=" + b"a" * 12000).decode()
    async with sasl2_open(server) as (raw, feats):
        await raw.send(authenticate("SCRAM-SHA-256", big))
        name, el = await outcome(raw)
        assert name == "failure", el
        assert condition(el) == "malformed-request", el
        # a response over the limit in an exchange under way
        first = base64.b64encode(b"n,,n=%s,r=abcdefgh"
                                 % u.jid.split("@")[0].encode()).decode()
        await raw.send(authenticate("SCRAM-SHA-256", first))
        name, el = await outcome(raw)
        assert name == "challenge", el
        await raw.send("<response xmlns='%s'>%s</response>"
                       % (NS_SASL2, big))
        name, el = await outcome(raw)
        assert name == "failure", el
        assert condition(el) == "malformed-request", el
    # RFC 6120 SASL on its own stream
    raw = await Raw.open(server.port)
    try:
        await raw.starttls()
        raw.mark()
        await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, big))
        m = await raw.read_until(rb"<failure\b.*?</failure>")
        assert b"<malformed-request/>" in m.group(0), m.group(0)
        await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, sasl_plain(u.jid.split("@")[0],
                                              u.password)))
        await raw.read_until(rb"<success\b")
    finally:
        raw.close()


async def test_sasl2_bad_base64_in_response(server):
    """incorrect-encoding for a <response/> too; the exchange ends, and
    a new one on the stream works."""
    u = server.new_user("sw")
    node = u.jid.split("@")[0]
    async with sasl2_open(server) as (raw, feats):
        first = base64.b64encode(b"n,,n=%s,r=abcdefgh"
                                 % node.encode()).decode()
        await raw.send(authenticate("SCRAM-SHA-256", first))
        name, el = await outcome(raw)
        assert name == "challenge", el
        await raw.send("<response xmlns='%s'>not base64!</response>"
                       % NS_SASL2)
        name, el = await outcome(raw)
        assert name == "failure" and \
            condition(el) == "incorrect-encoding", el
        name, el, _ = await scram_login(raw, u, "SCRAM-SHA-256", "n,,")
        assert name == "success", el


async def test_bind2_odd_tags_still_bind(server):
    """XEP-0386 3: the tag only names the resource, so no tag fails the
    login (test_clients.py has the long and empty ones): one holding a
    '/', or a character NFKC (resourceprep) makes a '/', binds all the
    same, to a resource of this account."""
    u = server.new_user("sw")
    node = u.jid.split("@")[0]
    bind = "<bind xmlns='urn:xmpp:bind:0'>%s</bind>"
    plain = sasl_plain(node, u.password)
    for tag in ("<tag>a/b</tag>", "<tag>a\uff0fb</tag>"):
        async with sasl2_open(server) as (raw, feats):
            await raw.send(authenticate("PLAIN", plain, bind % tag))
            name, el = await outcome(raw)
            assert name == "success", (tag, el)
            assert re.search(rb"<authorization-identifier>%s/[^<]+<"
                             % u.jid.encode(), el), (tag, el)


# ---- BOSH ---------------------------------------------------------------

async def test_bosh_pause_beyond_maxpause(make_server):
    """XEP-0124 10: a pause longer than maxpause gets a policy-violation
    terminal binding error; one that is no number of seconds bad-request
    (17.2). Either ends the session."""
    srv = web_server(make_server)
    for pause, condition in (("100000", "policy-violation"),
                             ("0", "bad-request"), ("soon", "bad-request"),
                             ("-5", "bad-request"), ("5x", "bad-request")):
        b = Bosh(srv.http_port, wait=1)
        t = await b.create()
        assert int(re.search(r"maxpause='(\d+)'", t).group(1)) < 100000
        t = await b.send(attrs=" pause='%s'" % pause)
        assert "type='terminate'" in t and \
            "condition='%s'" % condition in t, (pause, t)
        t = await b.send()
        assert "item-not-found" in t, t


async def test_bosh_body_over_the_limit(make_server):
    """A body over http-max-body-size is 413, and no session is made;
    the listener then serves the next request."""
    srv = web_server(make_server, http_max_body_size="16K")
    body = ("<body xmlns='http://jabber.org/protocol/httpbind' rid='1' "
            "to='localhost' wait='1' hold='1'>%s</body>"
            % ("<x/>" * 5000))
    st, _ = await apost(srv.http_port, body)
    assert st == 413, st
    b = Bosh(srv.http_port, wait=1)
    await b.create()


# ---- WebSocket framing --------------------------------------------------

def ws_raw(payload, b0, b1, ext=b""):
    """A masked frame with its first two bytes and extended length given
    (the mask bit is added), for headers WS.frame will not write."""
    k = b"\x01\x02\x03\x04"
    return (struct.pack("!BB", b0, 0x80 | b1) + ext + k +
            bytes(c ^ k[i % 4] for i, c in enumerate(payload)))


# (id, frames after the <open/> exchange, RFC 6455 close code)
WS_CASES = [
    # 5.2: the most significant bit of a 64-bit length MUST be 0
    ("length-msb", lambda ws: ws_raw(b"", 0x81, 127,
                                     struct.pack("!Q", 1 << 63)), 1002),
    # 5.5: control frames are not fragmented and carry at most 125 bytes
    ("fragmented-ping", lambda ws: ws.frame(b"x", opcode=9, fin=False),
     1002),
    ("long-ping", lambda ws: ws.frame(b"p" * 126, opcode=9), 1002),
    # 5.4: a continuation with no message begun; a new message inside one
    ("stray-continuation", lambda ws: ws.frame(b"<r/>", opcode=0), 1002),
    ("text-inside-fragments",
     lambda ws: ws.frame(b"<presence", fin=False) +
     ws.frame(b"/>", opcode=1), 1002),
    # 8.1: a text message must be UTF-8
    ("bad-utf8", lambda ws: ws.frame(b"<presence>\xff</presence>"), 1007),
    # 5.5.1: a close body is empty or two bytes and more
    ("one-byte-close", lambda ws: ws.frame(b"\x03", opcode=8), 1002),
]


@pytest.mark.parametrize("frames,code", [c[1:] for c in WS_CASES],
                         ids=[c[0] for c in WS_CASES])
async def test_websocket_bad_framing(make_server, frames, code):
    """Each breach of RFC 6455 framing closes with its code, after the
    XMPP <open/> exchange; the listener then takes a new WebSocket."""
    srv = web_server(make_server)
    ws, _ = await WS.connect(srv.http_port)
    await ws.send(OPEN)
    assert (await ws.text()).startswith("<open ")
    ws.w.write(frames(ws))
    await ws.w.drain()
    assert await ws.close_code() == code
    ws2, _ = await WS.connect(srv.http_port)
    await ws2.send(OPEN)
    assert (await ws2.text()).startswith("<open ")


# ---- HTTP upload slots --------------------------------------------------

async def test_upload_slot_sizes_and_types(make_server, clients, tmp_path):
    """XEP-0363 4: a size beyond max-file-size is file-too-large, however
    many digits it has (16 and more were bad-request); a size that is not
    a number is bad-request, as is a content type RFC 9110 8.3.1 does not
    allow (a type and a subtype, both tokens); backslashes are no way out
    of the upload directory."""
    srv = upload_server(make_server, tmp_path, upload_max_file_size="60K")
    c = await clients.login(srv, srv.new_user(), resource="u")
    # xs:long values all (the last its maximum), and leading zeros
    for size in ("1" + "0" * 16, "0" * 20 + "70000",
                 "9223372036854775807"):
        r = await slot(c, "a.bin", size)
        assert stanza_error(r)[1] == "not-acceptable", (size, str(r))
        assert cond(r, "file-too-large") is not None, (size, str(r))
    for size in ("+5", "5.0", "0x10", " 5", "1e3"):
        r = await slot(c, "a.bin", size)
        assert stanza_error(r)[1] == "bad-request", (size, str(r))
    for ctype in ("text", "text/plain\u00e9", "a/b&lt;c", "/", "text/",
                  "/plain", "a/b/c", "a b/c", "x/" + "y" * 300):
        r = await slot(c, "a.bin", 5, ctype)
        assert stanza_error(r)[1] == "bad-request", (ctype, str(r))
    for name in ("..\\..\\etc\\passwd", "a\\b"):
        r = await slot(c, name, 5)
        assert stanza_error(r)[1] == "bad-request", (name, str(r))
    r = await slot(c, "fine.bin", 5, "text/plain; charset=utf-8")
    assert r["type"] == "result", str(r)


# ---- MUC ----------------------------------------------------------------

async def test_muc_nick_of_spaces(msrv, clients):
    """XEP-0045 7.2 with RFC 7700 3.2: a nickname loses its leading and
    trailing spaces; one that is nothing else is empty, and a join with
    it is jid-malformed (as a join without a nick is)."""
    a = await login(msrv, clients)
    room = uniq("sp")
    await create(a, room, "owner")
    b = await login(msrv, clients)
    for nick in ("%20", "%20%20%20"):
        b.send_raw("<presence to='%s@%s/%s'><x xmlns='%s'/></presence>"
                   % (room, SVC, nick.replace("%20", " "),
                      "http://jabber.org/protocol/muc"))
        _, me = await self_presence(b, room, nick)
        assert me["type"] == "error", str(me)
        assert error_of(me) == "jid-malformed", str(me)
    await join(b, room, "bob")


async def test_muc_invites_with_a_bad_jid(msrv, clients):
    """XEP-0045 7.8.2: one message may carry several invitations; if one
    names no JID the message is refused (jid-malformed) and nobody is
    invited; an invitation to the room itself goes nowhere."""
    a, c = await login(msrv, clients), await login(msrv, clients)
    room = uniq("iv")
    rjid = await create(a, room, "owner")
    a.send_raw("<message to='%s'><x xmlns='%s'><invite to='%s'/>"
               "<invite to='a@b@c'/></x></message>"
               % (rjid, NS_USER, c.boundjid.bare))
    m = await a.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "jid-malformed", str(m)
    await c.fence()
    await a.fence()
    got = [m for m in c.pending() if "invite" in m]
    assert not got, got
    # to the room: refused, no message goes round
    a.send_raw("<message to='%s'><x xmlns='%s'><invite to='%s'/></x>"
               "</message>" % (rjid, NS_USER, rjid))
    m = await a.next_message(match=lambda m: m["type"] == "error")
    assert error_of(m) == "not-acceptable", str(m)
    await a.fence()
    await asyncio.sleep(0.5)
    a.pending()
    # the room still works
    a.send_raw("<message to='%s'><x xmlns='%s'><invite to='%s'/></x>"
               "</message>" % (rjid, NS_USER, c.boundjid.bare))
    m = await c.next_message(match=lambda m: "invite" in str(m))
    assert m["from"] == rjid, str(m)


# ---- addresses ----------------------------------------------------------

async def test_iq_to_bad_jids(server, clients):
    """RFC 6120 8.3.3.8 with RFC 7622 3: parts over 1023 bytes, empty
    parts and a domain that is no DNS name or IP literal are
    jid-malformed; the stream stays up."""
    c = await clients.login(server, server.new_user(), resource="j")
    for bad in ("x@%s/%s" % (DOMAIN, "r" * 1100),
                "%s@%s" % ("n" * 1100, DOMAIN),
                "%s/" % DOMAIN, "x@%s/" % DOMAIN, "x@",
                "[::1", "[1.2.3.4]", "a..b", ".%s" % DOMAIN):
        r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=bad)
        assert r["type"] == "error", (bad, str(r))
        assert stanza_error(r) == ("modify", "jid-malformed"), (bad, str(r))
    r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN)
    assert r["type"] == "result", str(r)



# ---- PEP publish-options ------------------------------------------------

def xform(fields, type_="submit", ftype=NS_PUBSUB + "#publish-options",
          ns="jabber:x:data"):
    """A data form: fields as XML, type_ None for no type, ftype None
    for no FORM_TYPE."""
    t = " type='%s'" % type_ if type_ is not None else ""
    ft = ("<field var='FORM_TYPE' type='hidden'><value>%s</value></field>"
          % ftype) if ftype is not None else ""
    return "<x xmlns='%s'%s>%s%s</x>" % (ns, t, ft, fields)


def field(var, *values):
    return "<field var='%s'>%s</field>" % (
        var, "".join("<value>%s</value>" % v for v in values))


AM_OPEN = field("pubsub#access_model", "open")

# publish-options the service cannot read as XEP-0060 7.1.5 and XEP-0004
# 3 have them: bad-request with invalid-options, not a precondition
MALFORMED_OPTIONS = [
    ("type-form", xform(AM_OPEN, type_="form")),
    ("type-result", xform(AM_OPEN, type_="result")),
    ("no-type", xform(AM_OPEN, type_=None)),
    ("no-form-type", xform(AM_OPEN, ftype=None)),
    ("node-config-form-type",
     xform(AM_OPEN, ftype=NS_PUBSUB + "#node_config")),
    ("form-type-twice",
     xform(AM_OPEN + field("FORM_TYPE", NS_PUBSUB + "#publish-options"))),
    ("field-without-var", xform("<field><value>open</value></field>")),
    ("boolean-yes", xform(field("pubsub#persist_items", "yes"))),
    ("boolean-empty", xform(field("pubsub#persist_items"))),
    ("not-an-option", xform(field("pubsub#access_model", "everyone"))),
    ("max-items-word", xform(field("pubsub#max_items", "ten"))),
    ("max-items-empty", xform(field("pubsub#max_items", ""))),
    ("two-values", xform(field("pubsub#access_model", "open", "roster"))),
    ("field-twice", xform(AM_OPEN + AM_OPEN)),
    ("not-a-form", "<options xmlns='urn:example'/>"),
    ("form-wrong-ns", xform(AM_OPEN, ns="jabber:x:data:not")),
    ("two-forms", xform(AM_OPEN) + xform(AM_OPEN)),
]


def with_options(inner):
    return "<publish-options>%s</publish-options>" % inner


async def open_node(server, clients, node):
    """A new account's client and its node, made open by publish-options
    with item 'a'."""
    u = server.new_user("po")
    c = await clients.login(server, u)
    r = await c.iq(publish(node, "<x xmlns='urn:example'/>", "a",
                           publish_options(access_model="open")),
                   type_="set")
    assert r["type"] == "result", str(r)
    return u, c


@pytest.mark.parametrize("options", [c[1] for c in MALFORMED_OPTIONS],
                         ids=[c[0] for c in MALFORMED_OPTIONS])
async def test_publish_options_malformed(server, clients, options):
    """XEP-0060 7.1.5 names conflict with precondition-not-met for a
    precondition the node does not meet; a form that is not one (not
    submitted, no or another FORM_TYPE, a field without var or twice, a
    value not of its field's type, not a data form at all) is a
    malformed request: bad-request with invalid-options (RFC 6120
    8.3.3.1), on a node that exists and on one that does not; nothing is
    published and no node created."""
    node = "urn:example:po"
    u, c = await open_node(server, clients, node)
    r = await c.iq(publish(node, "<x xmlns='urn:example'>2</x>", "b",
                           with_options(options)), type_="set")
    assert_error(r, "bad-request", "invalid-options")
    r = await c.iq(publish("urn:example:po-new", "<x xmlns='urn:example'/>",
                           "n", with_options(options)), type_="set")
    assert_error(r, "bad-request", "invalid-options")
    r = await get_items(c, u.jid, node)
    assert [i.get("id") for i in items_of(r, node)] == ["a"], str(r)
    assert_error(await get_items(c, u.jid, "urn:example:po-new"),
                 "item-not-found")
    # two <publish-options/> elements
    r = await c.iq("<pubsub xmlns='%s'><publish node='%s'><item id='c'>"
                   "<x xmlns='urn:example'/></item></publish>%s%s</pubsub>"
                   % (NS_PUBSUB, node, with_options(xform(AM_OPEN)),
                      with_options(options)), type_="set")
    assert_error(r, "bad-request", "invalid-options")


async def test_publish_options_well_formed_but_unmet(server, clients):
    """A well-formed form whose conditions the node cannot meet is the
    XEP's conflict with precondition-not-met: a field no node has, a
    max_items past the service's limit, a mismatching value; the client
    may then configure the node and publish again."""
    node = "urn:example:unmet"
    u, c = await open_node(server, clients, node)
    for opts in (publish_options(frobnicate="1"),
                 publish_options(max_items="99999999"),
                 publish_options(access_model="whitelist")):
        for n in (node, "urn:example:unmet-new"):
            r = await c.iq(publish(n, "<x xmlns='urn:example'/>", "b",
                                   opts), type_="set")
            if n != node and "whitelist" in opts:
                # a new node takes it: not a precondition there
                assert r["type"] == "result", str(r)
                continue
            assert_error(r, "conflict", "precondition-not-met")
    r = await get_items(c, u.jid, node)
    assert [i.get("id") for i in items_of(r, node)] == ["a"], str(r)


async def test_publish_options_of_real_clients(server, clients):
    """What Conversations, Dino and Gajim send keeps working: XEP-0402
    bookmarks (persist_items, max_items 'max', send_last_published_item
    never, access_model whitelist), first creating the node, then as
    preconditions it meets; an OMEMO device list with access_model open;
    booleans as '1' or 'true'; a FORM_TYPE without type='hidden'; and an
    empty <publish-options/>, which asks for nothing."""
    u = server.new_user("po")
    c = await clients.login(server, u)
    bm = "urn:xmpp:bookmarks:1"
    for persist in ("true", "1", "true"):
        r = await c.iq(publish(bm, "<conference xmlns='%s' name='x'/>" % bm,
                               "room@muc.example",
                               publish_options(
                                   persist_items=persist, max_items="max",
                                   send_last_published_item="never",
                                   access_model="whitelist")),
                       type_="set")
        assert r["type"] == "result", str(r)
    dl = "eu.siacs.conversations.axolotl.devicelist"
    for _ in range(2):
        r = await c.iq(publish(dl, "<list xmlns='eu.siacs.conversations."
                               "axolotl'><device id='1'/></list>",
                               "current",
                               publish_options(access_model="open")),
                       type_="set")
        assert r["type"] == "result", str(r)
    r = await c.iq(publish(dl, "<list xmlns='eu.siacs.conversations."
                           "axolotl'/>", "current", with_options(
                               "<x xmlns='jabber:x:data' type='submit'>"
                               "<field var='FORM_TYPE'><value>%s#publish-"
                               "options</value></field>%s</x>"
                               % (NS_PUBSUB, AM_OPEN))), type_="set")
    assert r["type"] == "result", str(r)
    r = await c.iq(publish(dl, "<list xmlns='eu.siacs.conversations."
                           "axolotl'/>", "current", "<publish-options/>"),
                   type_="set")
    assert r["type"] == "result", str(r)


# ---- BOSH roots ---------------------------------------------------------

async def test_bosh_not_a_body_without_a_session(make_server):
    """XEP-0124 4: the request is one <body/> qualified by the httpbind
    namespace; 17.1: anything else with no session to speak of is 400
    (a body in no namespace too, which made a session). The listener
    then serves a good one."""
    srv = web_server(make_server)
    for bad in ("<body rid='3' to='localhost' wait='1' hold='1'/>",
                "<body xmlns='urn:example' rid='3' to='localhost'/>",
                "<h:body xmlns:h='%s' xmlns='%s' rid='3' to='localhost'/>"
                % ("urn:example", NS_BOSH),
                "<bodyx xmlns='%s' rid='3' to='localhost'/>" % NS_BOSH,
                "body"):
        st, t = await apost(srv.http_port, bad)
        assert st == 400, (bad, st, t)
        assert "sid=" not in t, (bad, t)
    await Bosh(srv.http_port, wait=1).create()


async def test_bosh_not_a_body_in_a_session(make_server):
    """A request that names a session but is no body of it (another
    element, another namespace, no namespace, no or a bad rid) is the
    terminal binding condition bad-request (XEP-0124 17.2: a client that
    said ver, as these do, gets it rather than 400), and the session
    ends; also when the request reaches a worker that does not hold the
    session."""
    srv = web_server(make_server)
    pids = srv.c2s_pids()
    for i, bad in enumerate((
            "<other xmlns='%s' sid='%%s' rid='%%d'/>" % NS_BOSH,
            "<body xmlns='urn:example' sid='%s' rid='%d'/>",
            "<body sid='%s' rid='%d'/>",
            "<body xmlns='%s' sid='%%s' rid='x%%d'/>" % NS_BOSH,
            "<body xmlns='%s' sid='%%s' rid='-%%d'/>" % NS_BOSH)):
        b = Bosh(srv.http_port, wait=1, srv=srv)
        # created at one worker, the bad request at the other one
        # every second time
        b.via = [pids[0]] if i % 2 == 0 else [pids[0], pids[1]]
        await b.create()
        st, t = await b.post(bad % (b.sid, b.rid + 1))
        assert st == 200, (bad, st, t)
        assert "type='terminate'" in t and \
            "condition='bad-request'" in t, (bad, t)
        b.via = [pids[0]]
        t = await b.send()
        assert "item-not-found" in t, (bad, t)


# ---- IQs with two payloads ----------------------------------------------

async def test_bind_with_a_second_payload(server):
    """RFC 6120 8.2.3: a bind request that carries something besides
    <bind/> is bad-request, not a bind; a good one then binds."""
    raw = await authed(server, server.new_user("bp"))
    try:
        await raw.send("<iq type='set' id='b1'><bind xmlns='%s'><resource>"
                       "r</resource></bind><ping xmlns='%s'/></iq>"
                       % (NS_BIND, NS_PING))
        m = (await raw.read_until(iq_re("b1"))).group(0)
        assert b"error" in m and condition_of(m) == "bad-request", m
        await raw.send("<iq type='set' id='b2'><bind xmlns='%s'/></iq>"
                       % NS_BIND)
        m = (await raw.read_until(iq_re("b2"))).group(0)
        assert b"result" in m and b"<jid>" in m, m
    finally:
        raw.close()


async def test_register_with_a_second_payload(make_server):
    """XEP-0077 before authentication with RFC 6120 8.2.3: a query with
    another payload beside it is bad-request; the stream then takes a
    good one."""
    srv = make_server(host_options={DOMAIN: {"register": "yes"}})
    raw = await Raw.open(srv.port)
    try:
        await raw.starttls()
        for i, two in enumerate((
                "<query xmlns='jabber:iq:register'/><ping xmlns='%s'/>"
                % NS_PING,
                "<ping xmlns='%s'/><query xmlns='jabber:iq:register'/>"
                % NS_PING)):
            await raw.send("<iq type='get' id='r%d'>%s</iq>" % (i, two))
            m = (await raw.read_until(iq_re("r%d" % i))).group(0)
            assert b"error" in m and condition_of(m) == "bad-request", m
        await raw.send("<iq type='get' id='r9'><query xmlns='jabber:iq:"
                       "register'/></iq>")
        m = (await raw.read_until(iq_re("r9"))).group(0)
        assert b"result" in m, m
    finally:
        raw.close()


def comp_error(s):
    """The stanza error condition of a component's stanza (in its
    namespace, where stanza_error looks in jabber:client's)."""
    el = s.xml.find("{jabber:component:accept}error")
    for c in (el if el is not None else ()):
        if c.tag.startswith("{urn:ietf:params:xml:ns:xmpp-stanzas}") and \
                not c.tag.endswith("}text"):
            return c.tag.split("}")[1]
    return None


async def test_iqs_with_two_payloads_from_a_component(make_server, clients):
    """RFC 6120 8.2.3 where no c2s checks first: a component's IQ get or
    set with two payloads is bad-request at the server, at an account,
    at the group chat service and its rooms and at the pubsub service;
    none of them serves the first payload as if it were the only one.
    One payload still gets its answer."""
    port = free_port()
    srv = make_server(component_listen="127.0.0.1:%d" % port,
                      component="%s=%s" % (COMP, SECRET),
                      host_options={DOMAIN: {"muc": "yes",
                                             "pubsub": "yes"}})
    u = srv.new_user("tw")
    comp = Component(port)
    try:
        assert await comp.attach() == "session"
        info = "<query xmlns='http://jabber.org/protocol/disco#info'/>"
        two = info + "<query xmlns='jabber:iq:version'/>"
        for to in (DOMAIN, u.jid, SVC, "room@" + SVC, "pubsub." + DOMAIN):
            for type_, payload in (("get", two), ("set", two),
                                   ("get", info)):
                iid = uniq("c")
                comp.send_raw("<iq type='%s' id='%s' from='%s' to='%s'>%s"
                              "</iq>" % (type_, iid, COMP, to, payload))
                r = await comp.next(comp.iqs, iid,
                                    match=lambda s: s["id"] == iid)
                if payload == two:
                    assert r["type"] == "error", (to, str(r))
                    assert comp_error(r) == "bad-request", (to, str(r))
                else:
                    # served, or refused for what it asks (no such room)
                    assert r["type"] == "result" or \
                        comp_error(r) != "bad-request", (to, str(r))
    finally:
        comp.disconnect()


async def test_pubsub_with_two_verbs(server, clients):
    """The same rule one level down (XEP-0060: one verb a request, with
    options, publish-options or configure beside some): two verbs are
    bad-request, not the first served and the second dropped, in the
    pubsub and the owner namespace; nothing changes."""
    node = "urn:example:verbs"
    u, c = await open_node(server, clients, node)
    ps = "<pubsub xmlns='%s'>%%s</pubsub>" % NS_PUBSUB
    owner = "<pubsub xmlns='%s#owner'>%%s</pubsub>" % NS_PUBSUB
    for type_, payload in (
            ("get", ps % ("<items node='%s'/><items node='%s'/>"
                          % (node, node))),
            ("set", ps % ("<retract node='%s'><item id='a'/></retract>"
                          "<publish node='%s'><item id='b'><x xmlns='urn:"
                          "example'/></item></publish>" % (node, node))),
            ("set", owner % ("<purge node='%s'/><delete node='%s'/>"
                             % (node, node)))):
        r = await c.iq(payload, type_=type_)
        assert_error(r, "bad-request")
    r = await get_items(c, u.jid, node)
    assert [i.get("id") for i in items_of(r, node)] == ["a"], str(r)
