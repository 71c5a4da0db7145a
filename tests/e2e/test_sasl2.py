"""
Extensible SASL (XEP-0388) on raw streams: the features with channel
binding types (XEP-0440), SCRAM-*-PLUS over tls-server-end-point (RFC
5929) with the downgrade hash of XEP-0474 checked by the client, the bad
input (unknown mechanism, binding data that does not match, the "y"
downgrade, malformed user-agent ids, unknown Bind2 features), Bind2
(XEP-0386) with its stable resource, and stream management enabled and
resumed inline (XEP-0198 with SASL2).
"""
import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import re
import uuid

from conftest import DOMAIN, Raw, sasl_plain

NS_SASL2 = "urn:xmpp:sasl:2"
NS_BIND2 = "urn:xmpp:bind:0"
NS_SM = "urn:xmpp:sm:3"
OUTCOME_RE = re.compile(rb"<(success|failure|challenge|continue)\b[^>]*>"
                        rb".*?</\1>")


def b64(data):
    return base64.b64encode(data).decode()


def ua(uid=None):
    return ("<user-agent id='%s'><software>parley-tests</software>"
            "<device>pytest</device></user-agent>"
            % (str(uuid.uuid4()) if uid is None else uid))


async def sasl2_stream(server):
    """A TLS stream at its features; returns (raw, features bytes)."""
    raw = await Raw.open(server.port)
    feats = await raw.starttls()
    raw.mark()
    return raw, feats


@contextlib.asynccontextmanager
async def sasl2_open(server):
    """sasl2_stream as a context: the stream is closed after."""
    raw, feats = await sasl2_stream(server)
    try:
        yield raw, feats
    finally:
        raw.close()


async def outcome(raw):
    """The next <success/>, <failure/>, <challenge/> or XEP-0480's
    <continue/>: (name, bytes)."""
    m = await raw.read_until(OUTCOME_RE)
    el = m.group(0)
    raw.buf = raw.buf[m.end():]
    return m.group(1).decode(), el


def text_of(el, name):
    m = re.search(rb"<%s\b[^>]*>([^<]*)</%s>" % (name.encode(),
                                                   name.encode()), el)
    return m.group(1).decode() if m else None


def condition(el):
    m = re.search(rb"<([a-z-]+) xmlns='urn:ietf:params:xml:ns:xmpp-sasl'",
                  el)
    return m.group(1).decode() if m else None


def endpoint_cb(raw):
    """RFC 5929 4.1: the hash of the server's certificate (SHA-256 for
    SHA-1, MD5 and SHA-256 signatures alike)."""
    sslobj = raw.w.get_extra_info("ssl_object")
    der = sslobj.getpeercert(binary_form=True)
    return hashlib.sha256(der).digest()


def ssdp(feats):
    """XEP-0474 4.1's S from the advertised lists."""
    # the <mechanism/> children, not those of FAST in <inline/>
    auth = re.search(rb"<authentication\b.*?<inline>", feats,
                     re.S).group(0)
    mechs = sorted(re.findall(rb"<mechanism>([^<]+)</mechanism>", auth))
    cbs = sorted(re.findall(rb"<channel-binding type='([^']+)'/>", feats))
    return b"\x1e".join(mechs) + b"\x1f" + b"\x1e".join(cbs)


class Scram:
    """An RFC 5802 client, with channel binding."""

    def __init__(self, mech, user, password, gs2, cbdata=b""):
        self.h = hashlib.sha1 if mech.startswith("SCRAM-SHA-1") \
            else hashlib.sha256
        self.user, self.password = user, password
        self.gs2 = gs2.encode()
        self.cbdata = cbdata
        self.cnonce = b64(os.urandom(18))
        self.bare = "n=%s,r=%s" % (user, self.cnonce)

    def first(self):
        return self.gs2 + self.bare.encode()

    def final(self, sfirst, cbdata=None):
        attrs = dict(kv.split("=", 1) for kv in sfirst.decode().split(","))
        self.attrs = attrs
        salted = hashlib.pbkdf2_hmac(self.h().name, self.password.encode(),
                                     base64.b64decode(attrs["s"]),
                                     int(attrs["i"]))
        ck = hmac.new(salted, b"Client Key", self.h).digest()
        sk = hmac.new(salted, b"Server Key", self.h).digest()
        cb = self.cbdata if cbdata is None else cbdata
        without = "c=%s,r=%s" % (b64(self.gs2 + cb), attrs["r"])
        am = ("%s,%s,%s" % (self.bare, sfirst.decode(), without)).encode()
        sig = hmac.new(self.h(ck).digest(), am, self.h).digest()
        proof = bytes(a ^ b for a, b in zip(ck, sig))
        self.verifier = b"v=" + base64.b64encode(
            hmac.new(sk, am, self.h).digest())
        return ("%s,p=%s" % (without, b64(proof))).encode()


async def scram_login(raw, user, mech, gs2, cbdata=b"", extra="",
                      final_cb=None):
    """Runs a SCRAM exchange; returns (outcome name, element, client)."""
    node = user.jid.split("@")[0]
    c = Scram(mech, node, user.password, gs2, cbdata)
    await raw.send("<authenticate xmlns='%s' mechanism='%s'>"
                   "<initial-response>%s</initial-response>%s%s"
                   "</authenticate>" % (NS_SASL2, mech, b64(c.first()),
                                        ua(), extra))
    name, el = await outcome(raw)
    if name != "challenge":
        return name, el, c
    c.sfirst = base64.b64decode(re.search(rb">([^<]*)<", el).group(1))
    await raw.send("<response xmlns='%s'>%s</response>"
                   % (NS_SASL2, b64(c.final(c.sfirst, final_cb))))
    name, el = await outcome(raw)
    return name, el, c


async def plain_login(server, user, extra="", uid=None):
    raw, feats = await sasl2_stream(server)
    await raw.send("<authenticate xmlns='%s' mechanism='PLAIN'>"
                   "<initial-response>%s</initial-response>%s%s"
                   "</authenticate>"
                   % (NS_SASL2, sasl_plain(user.jid.split("@")[0],
                                           user.password), ua(uid), extra))
    name, el = await outcome(raw)
    return raw, name, el


# ---------------------------------------------------------------------------

async def test_features(server):
    async with sasl2_open(server) as (raw, feats):
        auth = re.search(rb"<authentication xmlns='urn:xmpp:sasl:2'>.*?"
                         rb"</authentication>", feats, re.S)
        assert auth, feats
        mechs = re.findall(rb"<mechanism>([^<]+)</mechanism>",
                           auth.group(0))
        assert mechs[:2] == [b"SCRAM-SHA-256-PLUS", b"SCRAM-SHA-1-PLUS"]
        assert b"<bind xmlns='urn:xmpp:bind:0'><inline>" in auth.group(0)
        for var in (b"urn:xmpp:carbons:2", b"urn:xmpp:csi:0",
                    b"urn:xmpp:sm:3"):
            assert b"<feature var='%s'/>" % var in auth.group(0)
        cb = re.search(rb"<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>"
                       rb"(.*?)</sasl-channel-binding>", feats, re.S)
        assert cb, feats
        types = re.findall(rb"type='([^']+)'", cb.group(1))
        assert b"tls-server-end-point" in types
        sslobj = raw.w.get_extra_info("ssl_object")
        if sslobj.version() == "TLSv1.3":
            assert b"tls-exporter" in types and b"tls-unique" not in types
        # RFC 6120 SASL keeps its list, without -PLUS
        old = re.search(rb"<mechanisms\b.*?</mechanisms>", feats,
                        re.S).group(0)
        assert b"PLUS" not in old and b"SCRAM-SHA-256" in old


async def test_plain_no_bind_then_rfc6120_bind(server):
    u = server.new_user("s2")
    raw, name, el = await plain_login(server, u)
    try:
        assert name == "success", el
        assert text_of(el, "authorization-identifier") == u.jid
        # 2.6.1: the features follow at once, no stream restart
        feats = (await raw.read_until(rb"<stream:features>.*?"
                                      rb"</stream:features>")).group(0)
        assert b"urn:ietf:params:xml:ns:xmpp-bind" in feats
        await raw.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:"
                       "params:xml:ns:xmpp-bind'><resource>r</resource>"
                       "</bind></iq>")
        await raw.read_until(rb"<jid>%s/r</jid>" % u.jid.encode())
    finally:
        raw.close()


async def test_scram_plus_endpoint_and_ssdp(server):
    u = server.new_user("s2")
    for mech in ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"):
        async with sasl2_open(server) as (raw, feats):
            cb = endpoint_cb(raw)
            name, el, c = await scram_login(
                raw, u, mech, "p=tls-server-end-point,,", cb)
            assert name == "success", el
            # XEP-0474: h= is the hash of what we saw advertised
            want = base64.b64encode(c.h(ssdp(feats)).digest()).decode()
            assert c.attrs.get("h") == want, (c.attrs, ssdp(feats))
            data = base64.b64decode(text_of(el, "additional-data"))
            assert data == c.verifier
            assert text_of(el, "authorization-identifier") == u.jid


async def test_scram_plus_mismatched_binding(server):
    u = server.new_user("s2")
    async with sasl2_open(server) as (raw, feats):
        cb = endpoint_cb(raw)
        bad = bytes([cb[0] ^ 1]) + cb[1:]
        name, el, _ = await scram_login(
            raw, u, "SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,", cb,
            final_cb=bad)
        assert name == "failure" and condition(el) == "not-authorized", el
        assert b"channel-binding data does not match" in el
        # 2.6.2: the stream is as it was; a correct try still works
        name, el, _ = await scram_login(
            raw, u, "SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,", cb)
        assert name == "success", el


async def test_scram_plus_bad_types(server):
    u = server.new_user("s2")
    async with sasl2_open(server) as (raw, feats):
        for gs2 in ("p=tls-foo,,", "n,,", "p=,,"):
            name, el, _ = await scram_login(raw, u, "SCRAM-SHA-256-PLUS",
                                            gs2)
            assert name == "failure", (gs2, el)
            assert condition(el) == "malformed-request", (gs2, el)


async def test_y_flag_downgrade_refused(server):
    """RFC 5802 6: -PLUS was offered, the client says "y"."""
    u = server.new_user("s2")
    async with sasl2_open(server) as (raw, feats):
        name, el, _ = await scram_login(raw, u, "SCRAM-SHA-256", "y,,")
        assert name == "failure" and condition(el) == "not-authorized", el
        assert b"downgrade" in el
        name, el, _ = await scram_login(raw, u, "SCRAM-SHA-256", "n,,")
        assert name == "success", el


async def test_unknown_mechanism(server):
    async with sasl2_open(server) as (raw, feats):
        for mech in ("SCRAM-SHA-512", "DIGEST-MD5", ""):
            await raw.send("<authenticate xmlns='%s' mechanism='%s'>"
                           "<initial-response>=</initial-response>"
                           "</authenticate>" % (NS_SASL2, mech))
            name, el = await outcome(raw)
            assert name == "failure", el
            assert condition(el) == "invalid-mechanism", el


async def test_malformed_user_agent_id(server):
    u = server.new_user("s2")
    for uid in ("not-a-uuid", "x" * 36, "", "1234567-1234-1234-1234-"
                "1234567890123"):
        raw, name, el = await plain_login(server, u, uid=uid)
        try:
            assert name == "failure", (uid, el)
            assert condition(el) == "malformed-request", el
            assert b"UUID" in el
        finally:
            raw.close()


async def test_bind2_unknown_inline_feature(server):
    u = server.new_user("s2")
    raw, name, el = await plain_login(
        server, u, "<bind xmlns='%s'><tag>t</tag><enable xmlns='urn:"
        "example:nope'/></bind>" % NS_BIND2)
    try:
        assert name == "failure" and condition(el) == "malformed-request"
        assert b"unknown Bind2 inline feature" in el
    finally:
        raw.close()


async def test_bind2_stable_resource_per_device(server):
    u = server.new_user("s2")
    dev, other = str(uuid.uuid4()), str(uuid.uuid4())
    jids = []
    for uid in (dev, dev, other):
        raw, name, el = await plain_login(
            server, u, "<bind xmlns='%s'><tag>Phone</tag></bind>"
            % NS_BIND2, uid=uid)
        try:
            assert name == "success", el
            assert b"<bound xmlns='urn:xmpp:bind:0'" in el, el
            jid = text_of(el, "authorization-identifier")
            assert jid.startswith(u.jid + "/Phone."), jid
            jids.append(jid)
            feats = (await raw.read_until(rb"<stream:features>.*?"
                                          rb"</stream:features>")).group(0)
            assert b"xmpp-bind" not in feats
            # the session works
            await raw.send("<iq type='get' id='p1' to='%s'><ping xmlns="
                           "'urn:xmpp:ping'/></iq>" % DOMAIN)
            await raw.read_until(rb"<iq\b[^>]*id='p1'")
        finally:
            raw.close()
    assert jids[0] == jids[1] and jids[0] != jids[2], jids


async def test_bind2_sm_inline_then_resume_inline(server):
    u = server.new_user("s2")
    raw, name, el = await plain_login(
        server, u, "<bind xmlns='%s'><tag>m</tag><enable xmlns='%s' "
        "resume='true'/><enable xmlns='urn:xmpp:carbons:2'/>"
        "<inactive xmlns='urn:xmpp:csi:0'/></bind>" % (NS_BIND2, NS_SM))
    assert name == "success", el
    m = re.search(rb"<bound xmlns='urn:xmpp:bind:0'><enabled xmlns='"
                  rb"urn:xmpp:sm:3' id='([^']+)' resume='true'", el)
    assert m, el
    previd = m.group(1).decode()
    jid = text_of(el, "authorization-identifier")
    # the inline carbons enable is the c2s's own IQ: its result is not
    # the client's, held while inactive (CSI inline) or not
    await raw.read_until(rb"</stream:features>")
    await raw.send("<iq type='get' id='p1' to='%s'><ping xmlns="
                   "'urn:xmpp:ping'/></iq>" % DOMAIN)
    await asyncio.sleep(0.5)
    await raw.send("<active xmlns='urn:xmpp:csi:0'/>")
    await raw.send("<iq type='get' id='p2' to='%s'><ping xmlns="
                   "'urn:xmpp:ping'/></iq>" % DOMAIN)
    await raw.read_until(rb"<iq\b[^>]*id='p2'")
    assert b"bind2-carbons" not in raw.buf, raw.buf
    raw.w.transport.abort()      # lost: the session hibernates
    raw2, name, el = await plain_login(
        server, u, "<resume xmlns='%s' previd='%s' h='0'/>"
        "<bind xmlns='%s'><tag>m</tag></bind>" % (NS_SM, previd, NS_BIND2))
    try:
        assert name == "success", el
        assert re.search(rb"<resumed xmlns='urn:xmpp:sm:3' previd='%s'"
                         % previd.encode(), el), el
        assert b"<bound" not in el
        assert text_of(el, "authorization-identifier") == jid
    finally:
        raw2.close()


async def test_bind2_carbons_on_without_a_stray_result(server, clients):
    """Carbons enabled inline are on (a message another resource sends
    comes as a <sent/> copy), and the result of the enable IQ the c2s
    sent for the session never reaches the client (Monal answers an
    unknown result with an error IQ)."""
    u = server.new_user("s2")
    raw, name, el = await plain_login(
        server, u, "<bind xmlns='%s'><tag>c</tag><enable xmlns='urn:xmpp:"
        "carbons:2'/></bind>" % NS_BIND2)
    try:
        assert name == "success", el
        assert b"<enabled xmlns='urn:xmpp:carbons:2'/>" in el, el
        await raw.read_until(rb"</stream:features>")
        friend = server.new_user("f")
        await clients.login(server, friend, resource="f")
        other = await clients.login(server, u, resource="other")
        body = "carbon-%d" % os.getpid()
        other.send_raw("<message to='%s' type='chat'><body>%s</body>"
                       "</message>" % (friend.jid, body))
        await raw.read_until(rb"<sent xmlns='urn:xmpp:carbons:2'>.*"
                             + body.encode())
        await raw.send("<iq type='get' id='p3' to='%s'><ping xmlns="
                       "'urn:xmpp:ping'/></iq>" % DOMAIN)
        await raw.read_until(rb"<iq\b[^>]*id='p3'")
        assert b"bind2-carbons" not in raw.buf, raw.buf
    finally:
        raw.close()


async def test_resume_inline_unknown_falls_back_to_bind2(server):
    u = server.new_user("s2")
    raw, name, el = await plain_login(
        server, u, "<resume xmlns='%s' previd='nope' h='0'/>"
        "<bind xmlns='%s'><tag>f</tag></bind>" % (NS_SM, NS_BIND2))
    try:
        assert name == "success", el
        assert b"<failed xmlns='urn:xmpp:sm:3'" in el, el
        assert b"<bound xmlns='urn:xmpp:bind:0'" in el, el
        assert text_of(el, "authorization-identifier").startswith(
            u.jid + "/f.")
    finally:
        raw.close()


async def test_wrong_password_sasl2_text(server):
    u = server.new_user("s2")
    async with sasl2_open(server) as (raw, feats):
        await raw.send("<authenticate xmlns='%s' mechanism='PLAIN'>"
                       "<initial-response>%s</initial-response>"
                       "</authenticate>"
                       % (NS_SASL2, sasl_plain(u.jid.split("@")[0], "x")))
        name, el = await outcome(raw)
        assert name == "failure" and condition(el) == "not-authorized", el


async def test_restart_after_last_failure_ends_the_stream(server):
    """auth-retries is 3: the fourth <authenticate/> abandons the third
    exchange under way and closes the stream; neither that request nor
    an <abort/> in the same packet is taken up afterwards, so nothing
    follows </stream:stream>."""
    async with sasl2_open(server) as (raw, feats):
        first = b64(("n,,n=%s,r=%s" % ("ghost", b64(os.urandom(9))))
                    .encode())
        req = ("<authenticate xmlns='%s' mechanism='SCRAM-SHA-256'>"
               "<initial-response>%s</initial-response>%s"
               "</authenticate>" % (NS_SASL2, first, ua()))
        for i in range(3):
            await raw.send(req)
            name, el = await outcome(raw)
            assert name == "challenge", el
        await raw.send(req + "<abort xmlns='%s'/>" % NS_SASL2)
        await raw.read_until_close()
        assert b"policy-violation" in raw.buf, raw.buf
        tail = raw.buf.split(b"</stream:stream>", 1)[1]
        assert tail.strip() == b"", raw.buf


async def test_resume_inline_malformed(server):
    """XEP-0198 5 read as sm.c reads it: previd present and at most 64
    bytes, h an xs:unsignedInt; otherwise the request is refused."""
    u = server.new_user("s2")
    for attrs in ("h='0'", "previd='p' h='-1'", "previd='p' h='4294967296'",
                  "previd='p'", "previd='%s' h='0'" % ("x" * 65)):
        raw, name, el = await plain_login(
            server, u, "<resume xmlns='%s' %s/>" % (NS_SM, attrs))
        try:
            assert name == "failure", (attrs, el)
            assert condition(el) == "malformed-request", (attrs, el)
            assert b"bad &lt;resume/&gt;" in el, (attrs, el)
        finally:
            raw.close()


async def test_abort_without_exchange_is_sasl2(server):
    """XEP-0388 2.6.2: an <abort/> with no exchange under way is answered
    in XEP-0388's namespace, as any failure of a SASL2 request is."""
    async with sasl2_open(server) as (raw, feats):
        await raw.send("<abort xmlns='%s'/>" % NS_SASL2)
        name, el = await outcome(raw)
        assert name == "failure", el
        assert el.startswith(b"<failure xmlns='urn:xmpp:sasl:2'>"), el
        assert condition(el) == "aborted", el


async def test_no_upgrade_task_account_has_both(server):
    """XEP-0480 (SASL upgrade tasks): the features offer
    UPGR-SCRAM-SHA-256 (imported accounts may lack SHA-256 credentials,
    tests/e2e/test_upgrade.py), but an account made here holds SCRAM-SHA-1
    and SCRAM-SHA-256 credentials: a client asking for the task while
    logging in with SCRAM-SHA-1 gets <success/> at once, no <continue/>;
    the same password then logs in with SCRAM-SHA-256."""
    ns_upgrade = "urn:xmpp:sasl:upgrade:0"
    u = server.new_user("s2")
    async with sasl2_open(server) as (raw, feats):
        assert (b"<upgrade xmlns='%s'>UPGR-SCRAM-SHA-256</upgrade>"
                % ns_upgrade.encode()) in feats, feats
        name, el, _ = await scram_login(
            raw, u, "SCRAM-SHA-1", "n,,",
            extra="<upgrade xmlns='%s'>UPGR-SCRAM-SHA-256</upgrade>"
            % ns_upgrade)
        assert name == "success", el
    async with sasl2_open(server) as (raw, feats):
        name, el, _ = await scram_login(raw, u, "SCRAM-SHA-256", "n,,")
        assert name == "success", el
