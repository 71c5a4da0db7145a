"""
External components across federation (XEP-0114, issue 18): the
component gw.a.test is attached to server A (a.test); a user of server B
(b.test, which routes gw.a.test to A as DNS would) reaches it and hears
from it, messages and IQs both ways, the component writing first or
answering. A server that claims the component's domain is refused; while
the component is away the remote sender gets service-unavailable.
"""
import asyncio
import subprocess

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from conftest import (NS_PING, NS_STANZAS, SLOW, STANZA_TIMEOUT, free_port,
                      stanza_error)
from imhelp import online, wait_presence
from test_component import Component
from test_s2s import (S2S_HEADER, mkcert, open_as_b, pair, read_for, user)

COMP = "gw.a.test"
SECRET = "f3d-s3cret"
T = 3 * STANZA_TIMEOUT


def cert_for(tmp_path_factory, *names):
    """A self-signed certificate naming every one of names (SANs)."""
    d = tmp_path_factory.mktemp("cert-multi")
    crt, key = str(d / "multi.crt"), str(d / "multi.key")
    with open(d / "template", "w") as f:
        f.write('cn = "%s"\n' % names[0])
        for n in names:
            f.write('dns_name = "%s"\n' % n)
        f.write("expiration_days = 30\ntls_www_server\nsigning_key\n")
    subprocess.run(["certtool", "--generate-privkey", "--key-type=ecdsa",
                    "--curve=secp256r1", "--outfile", key], check=True,
                   capture_output=True, timeout=60)
    subprocess.run(["certtool", "--generate-self-signed", "--load-privkey",
                    key, "--template", str(d / "template"), "--outfile",
                    crt], check=True, capture_output=True, timeout=60)
    return crt, key


def comp_pair(make_server, tmp_path_factory, comp=COMP, a_options=None,
              **kw):
    port = free_port()
    opts = {"component_listen": "127.0.0.1:%d" % port,
            "component": "%s=%s" % (comp, SECRET)}
    opts.update(a_options or {})
    a, b = pair(make_server, tmp_path_factory, b_routes=(comp,),
                a_options=opts, **kw)
    return a, b, port


async def comp_and_remote_user(make_server, tmp_path_factory, clients,
                              comp=COMP, **kw):
    """The pair, the component attached to A, a user of B logged in."""
    a, b, port = comp_pair(make_server, tmp_path_factory, comp=comp, **kw)
    c = Component(port, secret=SECRET, jid=comp)
    assert await c.attach() == "session"
    cb = await clients.login(b, user(b, "b.test"), resource="rb")
    return a, b, c, cb


async def comp_writes(comp, cb, mid, domain=COMP):
    """The component's message from its domain reaches B's user."""
    comp.send_raw("<message from='%s' to='%s' id='%s'><body>news</body>"
                  "</message>" % (domain, cb.boundjid.full, mid))
    m = await cb.next_message(match=lambda s: s["id"] == mid, timeout=T)
    assert m["body"] == "news" and m["from"].full == domain, str(m)


async def test_remote_user_reaches_the_component(make_server,
                                                 tmp_path_factory, clients):
    a, b, comp, cb = await comp_and_remote_user(make_server,
                                                tmp_path_factory, clients)
    try:
        me = cb.boundjid.full
        # B's user -> the component: a message, then the answer
        cb.send_raw("<message to='bot@%s' type='chat' id='r1'><body>to the "
                    "gateway</body></message>" % COMP)
        m = await comp.next(comp.messages, "the remote user's message")
        assert m["id"] == "r1" and m["body"] == "to the gateway", str(m)
        assert m["from"] == me, str(m)
        comp.send_raw("<message from='bot@%s/x' to='%s' type='chat' "
                      "id='r2'><body>answer</body></message>" % (COMP, me))
        m = await cb.next_message(match=lambda s: s["id"] == "r2",
                                  timeout=T)
        assert m["body"] == "answer", str(m)
        assert m["from"].full == "bot@%s/x" % COMP, str(m)
        # an IQ each way
        r = await cb.iq("<ping xmlns='%s'/>" % NS_PING, to=COMP, timeout=T)
        assert r["type"] == "result", str(r)
        assert r["from"].full == COMP, str(r)
        r = await comp.plugin["xep_0199"].send_ping(me, timeout=T,
                                                    ifrom=COMP)
        assert r["type"] == "result", str(r)
        log = a.log_text() + b.log_text()
        assert "b.test authenticated for %s" % COMP in log, log[-3000:]
        assert "%s authenticated for b.test" % COMP in log, log[-3000:]
    finally:
        comp.disconnect()


async def test_component_writes_first(make_server, tmp_path_factory,
                                      clients):
    """The component opens the federation itself: A dials B as gw.a.test
    (dialback, A being the authoritative server for it)."""
    a, b, comp, cb = await comp_and_remote_user(make_server,
                                                tmp_path_factory, clients)
    try:
        await comp_writes(comp, cb, "w1")
        # a message to a user B does not have comes back as an error
        comp.send_raw("<message from='%s' to='nobody@b.test' id='w2'>"
                      "<body>x</body></message>" % COMP)
        e = await comp.next(comp.messages, "the bounce",
                            match=lambda s: s["id"] == "w2")
        assert e["type"] == "error", str(e)
        # in jabber:component:accept, which stanza_error does not read
        assert e.xml.find(".//{%s}service-unavailable" % NS_STANZAS) \
            is not None, str(e)
    finally:
        comp.disconnect()


async def test_component_away_unavailable(make_server, tmp_path_factory,
                                          clients):
    a, b, port = comp_pair(make_server, tmp_path_factory)
    ub = user(b, "b.test")
    cb = await clients.login(b, ub, resource="rb")
    cb.send_raw("<message to='bot@%s' type='chat' id='away1'><body>anyone?"
                "</body></message>" % COMP)
    m = await cb.next_message(match=lambda s: s["id"] == "away1",
                              timeout=T)
    assert m["type"] == "error", str(m)
    assert stanza_error(m)[1] == "service-unavailable", str(m)
    r = await cb.iq("<ping xmlns='%s'/>" % NS_PING, to=COMP, timeout=T)
    assert r["type"] == "error", str(r)
    assert stanza_error(r)[1] == "service-unavailable", str(r)


async def raw_s2s(a):
    port = int(a.opts["s2s-listen"].split(":")[1])
    return await asyncio.open_connection("127.0.0.1", port)


async def test_server_claiming_the_component_refused(make_server,
                                                     tmp_path_factory,
                                                     clients):
    """No peer speaks for the component's domain: not in its stream
    header, not in a db:result, not in a stanza's from on a stream
    authenticated as b.test; nothing reaches A's user."""
    a, b, port = comp_pair(make_server, tmp_path_factory,
                           s2s_require_tls="no")
    ua = user(a, "a.test")
    ca = await clients.login(a, ua, resource="ra")
    r, w = await raw_s2s(a)
    w.write((S2S_HEADER % (COMP, "a.test")).encode())
    await w.drain()
    data = await read_for(r, b"</stream:stream>", timeout=5 * SLOW)
    assert b"invalid-from" in data, data
    w.close()
    r, w = await raw_s2s(a)
    w.write((S2S_HEADER.replace(" from='%s'", "") % "a.test").encode())
    w.write(("<db:result from='%s' to='a.test'>%s</db:result>"
             % (COMP, "0" * 64)).encode())
    await w.drain()
    data = await read_for(r, b"</stream:stream>", timeout=5 * SLOW)
    assert b"invalid-from" in data, data
    w.close()
    r, w, _ = await open_as_b(a, a.opts["s2s-dialback-secret"])
    assert b"type='valid'" in await read_for(r, b"type='valid'")
    w.write(("<message from='bot@%s' to='%s' type='chat'><body>spoof"
             "</body></message>" % (COMP, ca.boundjid.full)).encode())
    await w.drain()
    data = await read_for(r, b"</stream:stream>", timeout=5 * SLOW)
    assert b"invalid-from" in data, data
    w.close()
    await ca.fence()
    await ca.fence()
    assert ca.messages.empty(), "a spoofed message was delivered"


async def test_stream_to_the_component_domain(make_server, tmp_path_factory,
                                              clients):
    """A's s2s listener takes a stream to gw.a.test (was host-unknown)
    and answers from it."""
    a, b, port = comp_pair(make_server, tmp_path_factory,
                           s2s_require_tls="no")
    r, w = await raw_s2s(a)
    w.write((S2S_HEADER % ("b.test", COMP)).encode())
    await w.drain()
    data = await read_for(r, b"</stream:features>")
    assert b"from='%s'" % COMP.encode() in data, data
    assert b"host-unknown" not in data, data
    w.close()


class PresenceComponent(Component):
    """Records presence too."""

    def __init__(self, port):
        super().__init__(port, secret=SECRET, jid=COMP)
        self.presences = asyncio.Queue()
        self.register_handler(Callback(
            "t-pres", MatchXPath("{jabber:component:accept}presence"),
            lambda s: self.presences.put_nowait(s)))


async def test_presence_both_ways(make_server, tmp_path_factory, clients):
    """A component's subscription request reaches the remote user; the
    remote user's directed presence reaches the component."""
    a, b, port = comp_pair(make_server, tmp_path_factory)
    comp = PresenceComponent(port)
    try:
        assert await comp.attach() == "session"
        ub = user(b, "b.test")
        cb = await online(b, clients, ub, resource="rb")
        comp.send_raw("<presence from='bot@%s' to='%s' type='subscribe'/>"
                      % (COMP, ub.jid))
        p = await wait_presence(cb, frm="bot@" + COMP, type_="subscribe",
                                timeout=T)
        assert p["to"].bare == ub.jid, str(p)
        cb.send_raw("<presence to='bot@%s'><status>here</status>"
                    "</presence>" % COMP)
        p = await comp.next(comp.presences, "the directed presence",
                            match=lambda s: s["from"] == cb.boundjid.full)
        assert p["status"] == "here", str(p)
    finally:
        comp.disconnect()


async def test_host_certificate_naming_the_component(make_server,
                                                     tmp_path_factory,
                                                     clients):
    """a.test's certificate names gw.a.test too and B trusts it: A
    presents it for the component both ways and neither side needs
    dialback (SASL EXTERNAL as gw.a.test)."""
    a_cert = cert_for(tmp_path_factory, "a.test", COMP)
    a, b, comp, cb = await comp_and_remote_user(
        make_server, tmp_path_factory, clients, trusted=True, a_cert=a_cert)
    try:
        await comp_writes(comp, cb, "x1")
        r = await cb.iq("<ping xmlns='%s'/>" % NS_PING, to=COMP, timeout=T)
        assert r["type"] == "result", str(r)
        no_dialback(a, b, COMP)
    finally:
        comp.disconnect()


def no_dialback(a, b, comp):
    """Both ways between comp (on A) and b.test went SASL EXTERNAL."""
    la, lb = a.log_text(), b.log_text()
    assert "%s authenticated for b.test" % comp in lb, lb[-3000:]
    assert "b.test authenticated for %s" % comp in la, la[-3000:]
    assert "verifying %s with its authoritative" % comp not in lb, lb
    assert "verifying b.test with its authoritative" not in la, la
    assert "b.test -> %s: TLS TLS1.3, certificate ok" % comp in lb, \
        lb[-3000:]


async def test_component_certificate(make_server, tmp_path_factory,
                                     clients):
    """bridge.test is below no host: with component-certificate it
    presents its own certificate, dialling out and (by SNI) dialled in,
    and federates with SASL EXTERNAL both ways."""
    bridge = "bridge.test"
    ca, cb = (mkcert(tmp_path_factory, "a.test"),
              mkcert(tmp_path_factory, "b.test"))
    cc = cert_for(tmp_path_factory, bridge)
    bundle = tmp_path_factory.mktemp("trust") / "bundle.pem"
    with open(bundle, "w") as out:
        for crt, _ in (ca, cb, cc):
            with open(crt) as f:
                out.write(f.read())
    a, b, comp, c = await comp_and_remote_user(
        make_server, tmp_path_factory, clients, comp=bridge, a_cert=ca,
        b_cert=cb, s2s_ca_file=str(bundle),
        a_options={"component_certificate": "%s=%s,%s" % ((bridge,) + cc)})
    try:
        await comp_writes(comp, c, "y1", domain=bridge)
        r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=bridge, timeout=T)
        assert r["type"] == "result", str(r)
        no_dialback(a, b, bridge)
    finally:
        comp.disconnect()
