"""
An external component (XEP-0114) attached to Parley, reached over s2s
from Prosody and ejabberd users, in both modes. The component gw.p1.test
(a slixmpp ComponentXMPP on p1's component-listen) is a domain below
p1.test: DNS has its A and SRV records (to p1's s2s port) and p1's
certificates name it (scripts/lab), so the remote server authenticates a
stream to or from gw.p1.test as it would one of p1.test (SASL EXTERNAL in
trusted mode, dialback in the other).

Each cell: the component writes first to a user it never heard from
(Parley opens the stream as gw.p1.test) and the reply comes back; a
remote user's message reaches the component with the user's full JID,
and the component's reply reaches the user; an IQ from the user to the component is answered by it, and
one from the component to the user's server is answered by that server.
"""
import asyncio
import os

import pytest
import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

import lab
from conftest import NS_PING, STANZA_TIMEOUT, new_user, uniq

NS_COMP = "jabber:component:accept"
# Parley's component under test: nothing to run in the Prosody self-check
pytestmark = pytest.mark.skipif(
    os.environ.get("PARLEY_INTEROP_LOCAL", "parley") != "parley",
    reason="the component is attached to Parley")
REMOTES = [("prosody", "prosody.test"), ("ejabberd", "ejabberd.test")]
MATRIX = [pytest.param(k, d, m, id="%s-%s" % (k, m),
                       marks=[pytest.mark.peer(k), pytest.mark.mode(m)])
          for m in lab.MODES for k, d in REMOTES]
matrix = pytest.mark.parametrize("kind,domain,mode", MATRIX)


class Component(slixmpp.ComponentXMPP):
    """gw.p1.test on p1's component listener: it records what reaches it
    and answers pings (slixmpp's xep_0199)."""

    def __init__(self, srv):
        host, port = srv.component_addr
        super().__init__(srv.component, srv.component_secret, host, port)
        self.register_plugin("xep_0199")
        loop = asyncio.get_running_loop()
        self.messages = asyncio.Queue()
        self.state = loop.create_future()
        self.closed = loop.create_future()
        self.register_handler(Callback(
            "t-msg", MatchXPath("{%s}message" % NS_COMP),
            lambda s: self.messages.put_nowait(s)))
        self.add_event_handler("session_start",
                               lambda _: self._settle("session"))
        self.add_event_handler("stream_error",
                               lambda e: self._settle("stream-error"))
        self.add_event_handler("disconnected", self._on_disconnected)

    def _on_disconnected(self, _):
        self._settle("disconnected")
        if not self.closed.done():
            self.closed.set_result(True)

    async def detach(self):
        """Gone, so that the next test's component is not a conflict."""
        self.disconnect()
        await asyncio.wait_for(asyncio.shield(self.closed), STANZA_TIMEOUT)

    def _settle(self, v):
        if not self.state.done():
            self.state.set_result(v)

    async def attach(self):
        self.connect()
        return await asyncio.wait_for(asyncio.shield(self.state),
                                      STANZA_TIMEOUT)

    async def next_message(self, body):
        while True:
            m = await asyncio.wait_for(self.messages.get(),
                                       3 * STANZA_TIMEOUT)
            if m["body"] == body:
                return m


async def with_component(pool, clients, kind, domain, mode, body):
    """body(pool, clients, srv, comp, kind, domain, mode) with p1 (trusted
    or dialback, as the cell says) and gw.p1.test attached to it."""
    srv = pool.get("parley", mode, "p1.test")
    comp = Component(srv)
    assert await comp.attach() == "session", \
        "gw.p1.test did not attach to %s" % srv
    try:
        await body(pool, clients, srv, comp, kind, domain, mode)
    finally:
        await comp.detach()


async def online(clients, user):
    c = await clients.login(user)
    await c.iq("<query xmlns='jabber:iq:roster'/>")
    c.send_raw("<presence/>")
    return c


@matrix
async def test_component_writes_first(pool, clients, kind, domain, mode):
    """A user the component never heard from (these run first in each
    mode): Parley opens the stream as gw.p1.test to the remote server."""
    await with_component(pool, clients, kind, domain, mode, _writes_first)


async def _writes_first(pool, clients, srv, comp, kind, domain, mode):
    remote = pool.get(kind, mode, domain)
    u = new_user(remote, "cw")
    c = await online(clients, u)
    await c.fence()
    body = uniq("first-")
    comp.send_message(mto=c.boundjid.full, mfrom="bot@" + srv.component,
                      mbody=body, mtype="chat")
    r = await c.next_message(what="the component's first message")
    assert r["body"] == body and \
        r["from"].bare == "bot@" + srv.component, str(r)
    # and the user's reply goes back the same way
    body = uniq("back-")
    c.chat("bot@" + srv.component, body)
    m = await comp.next_message(body)
    assert m["from"].full == c.boundjid.full, str(m)


@matrix
async def test_remote_user_and_component(pool, clients, kind, domain,
                                         mode):
    await with_component(pool, clients, kind, domain, mode, _both_ways)


async def _both_ways(pool, clients, srv, comp, kind, domain, mode):
    remote = pool.get(kind, mode, domain)
    u = new_user(remote, "cu")
    c = await online(clients, u)
    bot = "bot@" + srv.component

    # the user writes first: the remote server opens the stream to
    # gw.p1.test, p1's s2s takes it for the component
    body = uniq("to-comp-")
    c.chat(bot, body)
    m = await comp.next_message(body)
    assert m["from"].full == c.boundjid.full, str(m)
    assert m["to"].bare == bot, str(m)
    # the component answers from a JID of its domain
    body = uniq("from-comp-")
    comp.send_message(mto=c.boundjid.full, mfrom=bot, mbody=body,
                      mtype="chat")
    r = await c.next_message(what="the component's reply")
    assert r["body"] == body and r["from"].bare == bot, str(r)

    # an IQ to the component, answered by it (XEP-0199)
    r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=srv.component)
    assert r["type"] == "result", str(r)
    assert r["from"].full == srv.component, str(r)

    # an IQ from the component to the user's server, answered there
    r = await asyncio.wait_for(comp["xep_0199"].send_ping(
        remote.domain, ifrom=srv.component, timeout=STANZA_TIMEOUT),
        3 * STANZA_TIMEOUT)
    assert r["type"] == "result", str(r)
