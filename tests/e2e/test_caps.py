"""
Entity capabilities (XEP-0115): the router asks a client that announces an
unknown hash for its disco#info (once per hash, whoever else announces
it), checks the answer against the hash (section 5.4) and asks another
holder when it does not verify or does not come; a flood of distinct
hashes causes a bounded number of queries; the server's own caps in the
stream features after authentication verify against its disco#info, by
our own check and by slixmpp's xep_0115 plugin.
"""
import asyncio
import base64
import hashlib
import re

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from conftest import (DOMAIN, LOGIN_TIMEOUT, NS_SASL, Client, Raw,
                      parse_features, sasl_plain, uniq)
from imhelp import NS_CAPS, fence

NS_CLIENT = "jabber:client"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NODE = "https://client.example/caps"
IDENTITY = ("client", "pc", "", "caps-test")


def ver_of(identities, features, algo="sha1"):
    """XEP-0115 5.1 for identities (category, type, lang, name) and
    features, no forms."""
    s = "".join("%s/%s/%s/%s<" % i for i in sorted(identities))
    s += "".join("%s<" % f for f in sorted(features))
    return base64.b64encode(hashlib.new(algo, s.encode()).digest()).decode()


def info_xml(identities, features):
    out = ""
    for cat, typ, lang, name in identities:
        out += "<identity category='%s' type='%s'%s name='%s'/>" % (
            cat, typ, " xml:lang='%s'" % lang if lang else "", name)
    return out + "".join("<feature var='%s'/>" % f for f in features)


def new_features():
    """A feature set no other test uses: a hash the server never saw."""
    return [NS_DISCO_INFO, NS_CAPS, "urn:test:%s" % uniq("f"),
            "urn:xmpp:test+notify"]


class Watch:
    """The disco#info queries a client gets from its server; answers each
    with answer (identities, features) if set."""

    def __init__(self, c, answer=None, own=True):
        self.c = c
        if own:
            # the test answers (or not), not slixmpp's xep_0030, which
            # would refuse the caps node with item-not-found at once
            c.remove_handler("Disco Info")
        self.answer = answer
        self.queries = asyncio.Queue()
        self.seen = []
        c.register_handler(Callback(
            "caps-query-%s" % uniq("h"),
            MatchXPath("{%s}iq/{%s}query" % (NS_CLIENT, NS_DISCO_INFO)),
            self._on_iq))

    def _on_iq(self, iq):
        if iq["type"] != "get":
            return
        self.seen.append(iq)
        self.queries.put_nowait(iq)
        if self.answer is not None:
            node = iq.xml.find("{%s}query" % NS_DISCO_INFO).get("node")
            self.c.send_raw(
                "<iq type='result' id='%s' to='%s'><query xmlns='%s' "
                "node='%s'>%s</query></iq>" % (
                    iq["id"], iq["from"], NS_DISCO_INFO, node,
                    info_xml(*self.answer)))

    async def next(self, timeout=5):
        try:
            return await asyncio.wait_for(self.queries.get(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError("%s: no disco#info query from the server "
                                 "within %ss" % (self.c.boundjid, timeout))

    async def none(self, seconds=1.0):
        await asyncio.sleep(seconds)
        await fence(self.c)
        assert self.queries.empty(), "%s: unexpected queries: %s" % (
            self.c.boundjid, [str(q) for q in self.seen])


def announce(c, ver, node=NODE, hash_="sha-1"):
    c.send_raw("<presence><c xmlns='%s' hash='%s' node='%s' ver='%s'/>"
               "</presence>" % (NS_CAPS, hash_, node, ver))


async def login(server, clients, answer=None):
    c = await clients.login(server, server.new_user("caps"),
                            resource=uniq("r"))
    return c, Watch(c, answer)


def reply(c, iq, ver, info):
    """c answers the query iq with info (identities, features)."""
    c.send_raw("<iq type='result' id='%s' to='%s'><query xmlns='%s' "
               "node='%s#%s'>%s</query></iq>" % (
                   iq["id"], DOMAIN, NS_DISCO_INFO, NODE, ver,
                   info_xml(*info)))


def reply_error(c, iq):
    c.send_raw("<iq type='error' id='%s' to='%s'><error type='cancel'>"
               "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'"
               "/></error></iq>" % (iq["id"], DOMAIN))


async def two_holders(server, clients, feats):
    """a announces feats' ver and is asked; then b, who answers rightly
    if asked, announces it too. Returns ver, a, the query to a, b and
    b's watch."""
    ver = ver_of([IDENTITY], feats)
    a, wa = await login(server, clients)
    b, wb = await login(server, clients, answer=([IDENTITY], feats))
    announce(a, ver)
    iq = await wa.next()
    announce(b, ver)
    await fence(b)
    return ver, a, iq, b, wb


def check_query(iq, c, ver, node=NODE):
    q = iq.xml.find("{%s}query" % NS_DISCO_INFO)
    assert iq["from"].full == DOMAIN, str(iq)
    assert iq["to"].full == c.boundjid.full, str(iq)
    # XEP-0115 6.2: node is NODE#VER
    assert q.get("node") == "%s#%s" % (node, ver), str(iq)


async def test_asked_once_per_hash(server, clients):
    """Two clients announce the same unknown hash: only the first is asked;
    once it answered rightly, a third announcing it is not asked either
    (the cache is shared by all JIDs)."""
    feats = new_features()
    ver = ver_of([IDENTITY], feats)
    a, wa = await login(server, clients)
    b, wb = await login(server, clients, answer=([IDENTITY], feats))
    c, wc = await login(server, clients, answer=([IDENTITY], feats))
    announce(a, ver)
    iq = await wa.next()
    check_query(iq, a, ver)
    announce(b, ver)
    await wb.none(0.5)
    reply(a, iq, ver, ([IDENTITY], feats))     # rightly
    await fence(a)
    announce(c, ver)
    await wc.none()
    # the same presence again, or a status change, asks nothing
    announce(a, ver)
    await wa.none(0.5)


async def test_wrong_answer_asks_another_holder(server, clients):
    """XEP-0115 5.4 3.8: an answer that does not hash to the ver is never
    cached; the server asks another holder (another account), whose right
    answer is then cached."""
    feats = new_features()
    ver, a, iq, b, wb = await two_holders(server, clients, feats)
    reply(a, iq, ver, ([IDENTITY], feats[:-1]))
    check_query(await wb.next(), b, ver)
    await fence(b)
    c, wc = await login(server, clients)
    announce(c, ver)
    await wc.none()


async def test_ill_formed_answer_not_trusted(server, clients):
    """A duplicate feature makes the answer ill-formed (5.4 3.4), even if
    the hash of the deduplicated set matches: another holder is asked."""
    feats = new_features()
    ver, a, iq, b, wb = await two_holders(server, clients, feats)
    reply(a, iq, ver, ([IDENTITY], feats + feats[:1]))
    check_query(await wb.next(), b, ver)


async def test_only_wrong_holder_is_not_asked_again(server, clients):
    """A hash no holder answered rightly is remembered as bad: announcing
    it again (from the same or another JID) asks nothing for a while."""
    feats = new_features()
    ver = ver_of([IDENTITY], feats)
    a, wa = await login(server, clients, answer=([IDENTITY], feats[1:]))
    announce(a, ver)
    await wa.next()
    await fence(a)
    b, wb = await login(server, clients, answer=([IDENTITY], feats))
    announce(b, ver)
    await wb.none()


async def test_timeout_asks_another_holder(make_server, clients):
    """The first holder does not answer within caps-query-timeout: the
    next one (another account) is asked."""
    srv = make_server(caps_query_timeout=1)
    feats = new_features()
    ver = ver_of([IDENTITY], feats)
    a, wa = await login(srv, clients)
    b, wb = await login(srv, clients, answer=([IDENTITY], feats))
    announce(a, ver)
    await wa.next()
    announce(b, ver)
    await wb.none(0.3)
    check_query(await wb.next(timeout=4), b, ver)


async def test_error_answer_asks_another_holder(server, clients):
    """An error answer counts as no answer: the next holder is asked."""
    ver, a, iq, b, wb = await two_holders(server, clients, new_features())
    reply_error(a, iq)
    check_query(await wb.next(), b, ver)


async def test_answer_from_another_jid_ignored(server, clients):
    """Only the JID asked can answer: the same id from another session
    does not count (b is not asked because of it)."""
    feats = new_features()
    m, _ = await login(server, clients)
    ver, a, iq, b, wb = await two_holders(server, clients, feats)
    m.send_raw("<iq type='result' id='%s' to='%s'><query xmlns='%s'>%s"
               "</query></iq>" % (iq["id"], DOMAIN, NS_DISCO_INFO,
                                  info_xml([IDENTITY], feats[1:])))
    await fence(m)
    await wb.none(0.5)
    # a's own error answer does count: now b is asked
    reply_error(a, iq)
    check_query(await wb.next(), b, ver)


async def test_legacy_and_unknown_hash_not_asked(server, clients):
    """No hash attribute (the legacy format), an algorithm we do not trust
    (md5), or a ver of the wrong length: nothing is asked."""
    a, wa = await login(server, clients)
    a.send_raw("<presence><c xmlns='%s' node='%s' ver='1.0'/></presence>"
               % (NS_CAPS, NODE))
    announce(a, base64.b64encode(hashlib.md5(b"x").digest()).decode(),
             hash_="md5")
    announce(a, "c2hvcnQ=")
    await wa.none()
    # while sha-256 is one we verify
    ver = ver_of([IDENTITY], new_features(), algo="sha256")
    announce(a, ver, hash_="sha-256")
    check_query(await wa.next(), a, ver)


async def test_flood_of_hashes_is_bounded(make_server, clients):
    """One session announcing many distinct hashes and answering nothing
    causes one query in flight, then a few more at most (its budget),
    never one per hash; the server stays responsive."""
    srv = make_server(caps_query_timeout=1)
    a, wa = await login(srv, clients)
    for i in range(60):
        announce(a, ver_of([IDENTITY], ["urn:flood:%d:%s" % (i, uniq())]))
    await fence(a)
    await asyncio.sleep(0.5)
    assert len(wa.seen) == 1, [str(q) for q in wa.seen]
    await asyncio.sleep(4)
    await fence(a)
    # the budget: a burst of three, then one per 20 s
    assert len(wa.seen) <= 4, [str(q) for q in wa.seen]


async def test_queries_in_flight_capped(make_server, clients):
    """caps-queries-max bounds the queries in flight over all sessions."""
    srv = make_server(caps_queries_max=2)
    ws = []
    for _ in range(5):
        c, w = await login(srv, clients)
        ws.append(w)
    for w in ws:
        announce(w.c, ver_of([IDENTITY], new_features()))
    for w in ws:
        await fence(w.c)
    await asyncio.sleep(0.5)
    assert sum(len(w.seen) for w in ws) == 2, [
        str(q) for w in ws for q in w.seen]


async def slix_client(server, clients, watch=None):
    """A logged-in client with slixmpp's xep_0030 and xep_0115 plugins;
    watch(Watch) gets its queries' watcher, set up before the login."""
    u = server.new_user("slix")
    c = Client("%s/%s" % (u.jid, uniq("r")), u.password,
               ("127.0.0.1", server.port))
    c.register_plugin("xep_0030")
    c.register_plugin("xep_0115")
    clients.all.append(c)
    if watch is not None:
        watch(Watch(c, own=False))
    c.start()
    assert await c.wait_state(LOGIN_TIMEOUT) == "session"
    return c


async def test_slixmpp_caps_plugin(server, clients):
    """A client using slixmpp's xep_0115 plugin: the server asks it once
    (the plugin answers NODE#VER itself); a second such client, same
    software and features, is not asked."""
    watches = []
    # the same software and features on both, so the same ver
    feat = "urn:test:slix:%s" % uniq("f")
    for _ in range(2):
        c = await slix_client(server, clients, watches.append)
        c["xep_0030"].add_feature(feat)
    a, b = (w.c for w in watches)
    for c in (a, b):
        await c["xep_0115"].update_caps()
        c.send_presence()
        await fence(c)
    await asyncio.sleep(1)
    for c in (a, b):
        await fence(c)
    # both announce one ver; whoever did first is asked, once
    vers = [await c["xep_0115"].get_verstring(c.boundjid) for c in (a, b)]
    assert vers[0] == vers[1], vers
    seen = [q for w in watches for q in w.seen]
    assert len(seen) == 1, [str(q) for q in seen]
    assert seen[0].xml.find("{%s}query" % NS_DISCO_INFO).get("node") == \
        "%s#%s" % (a["xep_0115"].caps_node, vers[0]), str(seen[0])


async def raw_session(server, user):
    """A raw client, authenticated with PLAIN over TLS: returns it and the
    features of the stream after authentication."""
    raw = await Raw.open(server.port)
    await raw.starttls()
    raw.mark()
    await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (
        NS_SASL, sasl_plain(user.local, user.password)))
    await raw.read_until(rb"<success\b")
    raw.mark()
    await raw.send("<?xml version='1.0'?><stream:stream xmlns='%s' "
                   "xmlns:stream='http://etherx.jabber.org/streams' "
                   "to='%s' version='1.0'>" % (NS_CLIENT, DOMAIN))
    m = await raw.read_until(rb"<(?:stream:)?features\b.*?"
                             rb"</(?:stream:)?features>")
    return raw, m.group(0)


async def raw_iq(raw, xml):
    raw.mark()
    await raw.send(xml)
    return await raw.read_until(rb"<iq\b[^>]*/>|<iq\b[^>]*[^/]>.*?</iq>")


def disco_ver(text):
    """The sha-1 ver of a disco#info result (identities and features)."""
    import xml.etree.ElementTree as ET
    root = ET.fromstring("<r xmlns='%s'>%s</r>" % (NS_CLIENT, text))
    q = root.find(".//{%s}query" % NS_DISCO_INFO)
    assert q is not None, text
    ids = [(i.get("category"), i.get("type") or "",
            i.get("{http://www.w3.org/XML/1998/namespace}lang") or "",
            i.get("name") or "")
           for i in q.findall("{%s}identity" % NS_DISCO_INFO)]
    feats = [f.get("var") for f in q.findall("{%s}feature" % NS_DISCO_INFO)]
    return ver_of(ids, feats), q, feats


async def test_server_caps_in_stream_features(server):
    """XEP-0115 6.3: after authentication the stream features carry the
    server's caps; the ver is the hash of the server's disco#info, and
    disco#info to NODE#VER answers the same with the node echoed (6.2).
    Before authentication there is none."""
    user = server.new_user("sc")
    raw = await Raw.open(server.port)
    pre = await raw.starttls()
    assert parse_features(pre).find("{%s}c" % NS_CAPS) is None, pre
    raw.close()
    raw, text = await raw_session(server, user)
    c = parse_features(text).find("{%s}c" % NS_CAPS)
    assert c is not None, text
    assert c.get("hash") == "sha-1", text
    node, ver = c.get("node"), c.get("ver")
    assert node and ver, text
    await raw.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:"
                   "xml:ns:xmpp-bind'><resource>r</resource></bind></iq>")
    await raw.read_until(rb"</iq>")
    m = await raw_iq(raw, "<iq type='get' id='d1' to='%s'><query xmlns='%s'"
                     "/></iq>" % (DOMAIN, NS_DISCO_INFO))
    got, _, feats = disco_ver(m.group(0).decode())
    assert got == ver, (m.group(0), ver)
    # XEP-0115 7: the server says it does caps
    assert NS_CAPS in feats, feats
    m = await raw_iq(raw, "<iq type='get' id='d2' to='%s'><query xmlns='%s'"
                     " node='%s#%s'/></iq>" % (DOMAIN, NS_DISCO_INFO, node,
                                              ver))
    got, q, _ = disco_ver(m.group(0).decode())
    assert got == ver and q.get("node") == "%s#%s" % (node, ver), m.group(0)
    # another node is not ours
    m = await raw_iq(raw, "<iq type='get' id='d3' to='%s'><query xmlns='%s'"
                     " node='%s#AAAA'/></iq>" % (DOMAIN, NS_DISCO_INFO,
                                                node))
    assert re.search(rb"type=['\"]error['\"]", m.group(0)) and \
        b"item-not-found" in m.group(0), m.group(0)
    raw.close()


async def test_slixmpp_verifies_server_caps(server, clients):
    """slixmpp's xep_0115 plugin reads the caps in our stream features,
    asks NODE#VER and checks the hash itself: it caches them only when
    they verify."""
    c = await slix_client(server, clients)
    info = None
    for _ in range(50):
        ver = await c["xep_0115"].get_verstring(DOMAIN)
        if ver:
            info = await c["xep_0115"].get_caps(verstring=ver)
            if info is not None:
                break
        await asyncio.sleep(0.1)
    assert info is not None, "slixmpp did not verify the server's caps"
    assert NS_CAPS in info["features"], info


async def test_remote_contact_asked_through_s2s(make_server,
                                                tmp_path_factory, clients):
    """A contact on another server announces caps in the presence our
    user receives: our server asks the contact through s2s (from our
    domain) and caches the answer, so a second contact there with the
    same hash is not asked by us."""
    from test_s2s import pair, user
    from imhelp import grant, online
    a, b = pair(make_server, tmp_path_factory)
    ua = user(a, "a.test")
    ca = await online(a, clients, ua, resource="ra")
    feats = new_features()
    ver = ver_of([IDENTITY], feats)
    ws = []
    for _ in range(2):
        ub = user(b, "b.test")
        cb = await online(b, clients, ub, resource="rb")
        ws.append(Watch(cb, answer=([IDENTITY], feats)))
        await grant(ca, ua, cb, ub)
    announce(ws[0].c, ver)

    async def from_a(w, timeout):
        while True:
            iq = await w.next(timeout)
            if iq["from"].full == "a.test":
                return iq
    iq = await from_a(ws[0], 15)
    assert iq["to"].full == ws[0].c.boundjid.full, str(iq)
    assert iq.xml.find("{%s}query" % NS_DISCO_INFO).get("node") == \
        "%s#%s" % (NODE, ver), str(iq)
    await asyncio.sleep(1)
    await fence(ca)
    announce(ws[1].c, ver)
    await asyncio.sleep(2)
    await fence(ws[1].c)
    assert not [q for q in ws[1].seen if q["from"].full == "a.test"], [
        str(q) for q in ws[1].seen]
