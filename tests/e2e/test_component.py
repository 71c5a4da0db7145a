"""
External components (XEP-0114, issue 18): a slixmpp ComponentXMPP attaches
to component-listen with its shared secret; messages and IQs flow both
ways through the router; the server's disco#items lists it; a wrong
secret gets not-authorized, a spoofed 'from' invalid-from; while it is
away stanzas to it get service-unavailable, and it can come back.
"""
import asyncio
import socket

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

import pytest

from conftest import DOMAIN, NS_PING, SLOW, free_port, stanza_error
from imhelp import online, send_message

COMP = "gw." + DOMAIN
SECRET = "c0mp-s3cret"
NS_COMP = "jabber:component:accept"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"


class Component(slixmpp.ComponentXMPP):
    """A component that records what it receives and answers pings."""

    def __init__(self, port, secret=SECRET, jid=COMP):
        super().__init__(jid, secret, "127.0.0.1", port)
        self.register_plugin("xep_0199")
        loop = asyncio.get_running_loop()
        self.messages = asyncio.Queue()
        self.iqs = asyncio.Queue()
        self.stream_errors = []
        self.state = loop.create_future()
        self.closed = loop.create_future()
        self.register_handler(Callback(
            "t-msg", MatchXPath("{%s}message" % NS_COMP),
            lambda s: self.messages.put_nowait(s)))
        self.register_handler(Callback(
            "t-iq", MatchXPath("{%s}iq" % NS_COMP),
            lambda s: self.iqs.put_nowait(s)))
        self.add_event_handler("session_start",
                               lambda _: self._settle("session"))
        self.add_event_handler("stream_error", self._on_error)
        self.add_event_handler("disconnected", self._on_disconnected)

    def _settle(self, v):
        if not self.state.done():
            self.state.set_result(v)

    def _on_error(self, err):
        self.stream_errors.append(err["condition"])
        self._settle("stream-error")

    def _on_disconnected(self, _):
        self._settle("disconnected")
        if not self.closed.done():
            self.closed.set_result(True)

    async def attach(self):
        self.connect()
        return await asyncio.wait_for(asyncio.shield(self.state), 10 * SLOW)

    async def next(self, queue, what, match=None):
        while True:
            s = await asyncio.wait_for(queue.get(), 5 * SLOW)
            if match is None or match(s):
                return s

    async def gone(self):
        await asyncio.wait_for(asyncio.shield(self.closed), 5 * SLOW)


def comp_server(make_server, port, secret=SECRET):
    return make_server(component_listen="127.0.0.1:%d" % port,
                       component="%s=%s" % (COMP, secret))


async def test_messages_and_iqs_both_ways(make_server, clients):
    port = free_port()
    srv = comp_server(make_server, port)
    comp = Component(port)
    try:
        assert await comp.attach() == "session"
        c = await online(srv, clients, srv.new_user("cu"), resource="r")
        me = str(c.boundjid)
        # user -> component: a message and an IQ the component answers
        mid = send_message(c, "bot@" + COMP, "hello gateway")
        m = await comp.next(comp.messages, "the user's message")
        assert m["id"] == mid and m["body"] == "hello gateway", str(m)
        assert m["from"] == me, str(m)
        r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=COMP)
        assert r["type"] == "result", str(r)
        # component -> user, from a JID in its domain
        comp.send_raw("<message from='bot@%s/x' to='%s' id='m2'>"
                      "<body>hi human</body></message>" % (COMP, me))
        m = await c.next_message(match=lambda s: s["id"] == "m2")
        assert m["body"] == "hi human" and m["from"] == "bot@%s/x" % COMP
        r = await comp.plugin["xep_0199"].send_ping(me, timeout=5 * SLOW,
                                                    ifrom=COMP)
        assert r["type"] == "result", str(r)
        # the server lists the component
        r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to=DOMAIN)
        jids = [i.get("jid") for i in r.xml.iter("{%s}item" %
                                                  NS_DISCO_ITEMS)]
        assert COMP in jids, str(r)
    finally:
        comp.disconnect()


async def test_wrong_secret_not_authorized(make_server, clients):
    port = free_port()
    comp_server(make_server, port)
    comp = Component(port, secret="not-the-secret")
    assert await comp.attach() == "stream-error"
    assert comp.stream_errors == ["not-authorized"], comp.stream_errors
    await comp.gone()


async def test_unknown_component_domain(make_server, clients):
    port = free_port()
    comp_server(make_server, port)
    comp = Component(port, jid="other." + DOMAIN)
    assert await comp.attach() == "stream-error"
    assert comp.stream_errors == ["host-unknown"], comp.stream_errors


async def test_spoofed_from_invalid_from(make_server, clients):
    port = free_port()
    srv = comp_server(make_server, port)
    c = await online(srv, clients, srv.new_user("sp"), resource="r")
    comp = Component(port)
    assert await comp.attach() == "session"
    comp.send_raw("<message from='%s' to='%s' id='spoof'><body>x</body>"
                  "</message>" % (str(c.boundjid), str(c.boundjid)))
    await comp.gone()
    assert comp.stream_errors == ["invalid-from"], comp.stream_errors
    await c.quiet(0.5)


async def test_disconnect_and_come_back(make_server, clients):
    port = free_port()
    srv = comp_server(make_server, port)
    c = await online(srv, clients, srv.new_user("dc"), resource="r")
    comp = Component(port)
    assert await comp.attach() == "session"
    comp.disconnect()
    await comp.gone()
    # away: a message and an IQ bounce with service-unavailable
    mid = send_message(c, "bot@" + COMP, "anyone?")
    m = await c.next_message(match=lambda s: s["id"] == mid)
    assert m["type"] == "error", str(m)
    assert stanza_error(m)[1] == "service-unavailable", str(m)
    r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=COMP)
    assert r["type"] == "error", str(r)
    assert stanza_error(r)[1] == "service-unavailable", str(r)
    # back: stanzas reach it again
    comp2 = Component(port)
    try:
        assert await comp2.attach() == "session"
        mid = send_message(c, "bot@" + COMP, "welcome back")
        m = await comp2.next(comp2.messages, "the message")
        assert m["id"] == mid, str(m)
    finally:
        comp2.disconnect()


async def test_second_connection_conflict(make_server, clients):
    port = free_port()
    comp_server(make_server, port)
    first = Component(port)
    second = Component(port)
    try:
        assert await first.attach() == "session"
        assert await second.attach() == "stream-error"
        assert second.stream_errors == ["conflict"], second.stream_errors
    finally:
        first.disconnect()


def raw_component(port, header_to=COMP, ns=NS_COMP):
    """A raw component stream: the server's answer to a header."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW)
    s.sendall(("<stream:stream xmlns='%s' xmlns:stream='http://etherx."
               "jabber.org/streams' to='%s'>" % (ns, header_to)).encode())
    return s


def read_until_closed(s):
    got = b""
    while True:
        try:
            d = s.recv(4096)
        except socket.timeout:
            break
        if not d:
            break
        got += d
    return got.decode(errors="replace")


async def test_stanza_before_handshake_refused(make_server, clients):
    port = free_port()
    srv = comp_server(make_server, port)
    c = await online(srv, clients, srv.new_user("pre"), resource="r")
    s = raw_component(port)
    s.sendall(("<message from='bot@%s' to='%s'><body>x</body></message>"
               % (COMP, c.boundjid)).encode())
    got = read_until_closed(s)
    s.close()
    assert "<not-authorized" in got, got
    await c.quiet(0.5)


async def test_wrong_namespace_and_bad_handshake(make_server, clients):
    port = free_port()
    comp_server(make_server, port)
    s = raw_component(port, ns="jabber:client")
    got = read_until_closed(s)
    s.close()
    assert "<invalid-namespace" in got, got
    s = raw_component(port)
    s.sendall(b"<handshake>" + b"f" * 4000 + b"</handshake>")
    got = read_until_closed(s)
    s.close()
    assert "<not-authorized" in got, got


@pytest.mark.one_host("counts the processes one parleyd reloads")
async def test_reload_changes_the_secret(make_server, clients):
    port = free_port()
    srv = comp_server(make_server, port)
    with open(srv.conf) as f:
        text = f.read()
    with open(srv.conf, "w") as f:
        f.write(text.replace("%s=%s" % (COMP, SECRET), "%s=n3w" % COMP))
    cp = srv.ctl("reload")
    assert cp.returncode == 0, cp.stderr
    deadline = asyncio.get_running_loop().time() + 10 * SLOW
    while srv.log_text().count("configuration reloaded") < srv.workers + 2:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.1)
    old = Component(port)
    assert await old.attach() == "stream-error"
    assert old.stream_errors == ["not-authorized"], old.stream_errors
    new = Component(port, secret="n3w")
    try:
        assert await new.attach() == "session"
    finally:
        new.disconnect()
