"""
Interop harness: servers of the lab (tests/interop/lab.py) shared by the
tests of a session, slixmpp clients that log in to them over c2s, and raw
sockets for the s2s checks. Every wait has a deadline.

This suite runs inside the lab's network namespace:
    tests/interop/run.sh [pytest args]         (lab up, pytest, lab down)
or, with the lab already up:
    ip netns exec parleylab /usr/bin/python3 -m pytest -q tests/interop
"""
import asyncio
import inspect
import itertools
import os
import ssl
import sys
import time

import pytest
import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402

LOGIN_TIMEOUT = 15
STANZA_TIMEOUT = 10       # covers a first s2s connection + dialback
TEST_TIMEOUT = 90

NS_CLIENT = "jabber:client"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_PING = "urn:xmpp:ping"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"

_ids = itertools.count(1)


def uniq(prefix="u"):
    return "%s%d%d" % (prefix, os.getpid() % 1000, next(_ids))


class User:
    def __init__(self, server, local, password):
        self.server = server
        self.local = local
        self.password = password
        self.jid = "%s@%s" % (local, server.domain)

    def __repr__(self):
        return "User(%s)" % self.jid


# ---------------------------------------------------------------------------
# the lab and its servers

def pytest_configure(config):
    config.addinivalue_line("markers", "peer(kind): the peer server kind")
    config.addinivalue_line("markers", "mode(name): trusted or dialback")


class Pool:
    """At most one running server per lab domain; asking for another mode
    restarts it. Tests are sorted by mode (pytest_collection_modifyitems) so
    each server starts once per mode."""

    def __init__(self):
        self.running = {}       # domain -> lab.Server
        self.problems = []
        self.failed = {}        # (kind, domain, mode) -> error text

    def get(self, kind, mode, domain=None, **kw):
        srv = lab.make(kind, mode, domain, **kw)
        key = (kind, srv.domain, mode)
        if key in self.failed:
            pytest.fail("%s %s (%s) failed to start earlier:\n%s"
                        % (kind, srv.domain, mode, self.failed[key]),
                        pytrace=False)
        cur = self.running.get(srv.domain)
        if cur is not None and cur.mode == mode and cur.kind == kind \
                and cur.running():
            return cur
        if cur is not None:
            self.stop(cur)
        err = None
        try:
            srv.start()
        except lab.LabError as e:
            err = str(e)
        if err is not None:
            self.failed[key] = err
            if srv.process:
                srv.stop()
            pytest.fail(err, pytrace=False)
        self.running[srv.domain] = srv
        return srv

    def stop(self, srv):
        p = srv.stop()
        if p:
            self.problems.append(p)
        if self.running.get(srv.domain) is srv:
            del self.running[srv.domain]

    def close(self):
        for srv in list(self.running.values()):
            self.stop(srv)


POOL = Pool()


@pytest.fixture(scope="session")
def pool():
    if not lab.in_netns():
        pytest.exit("the interop suite runs inside the lab namespace: use "
                    "tests/interop/run.sh, or scripts/lab up and then "
                    "ip netns exec %s /usr/bin/python3 -m pytest "
                    "tests/interop" % lab.NS, returncode=2)
    yield POOL
    POOL.close()


def new_user(server, prefix="u", password=None):
    u = User(server, uniq(prefix), password or uniq("pw-"))
    server.adduser(u.local, u.password)
    return u


MODE_ORDER = {m: i for i, m in enumerate(lab.MODES)}


def _mode_of(item):
    m = item.get_closest_marker("mode")
    if m:
        return m.args[0]
    cs = getattr(item, "callspec", None)
    if cs:
        for v in cs.params.values():
            if v in MODE_ORDER:
                return v
    return None


def pytest_collection_modifyitems(items):
    for item in items:
        fn = getattr(item, "obj", None)
        if inspect.iscoroutinefunction(fn) and \
                "event_loop" not in item.fixturenames:
            item.fixturenames.insert(0, "event_loop")
    # group by mode so every server starts once per mode; stable otherwise
    order = {id(it): i for i, it in enumerate(items)}
    items.sort(key=lambda it: (MODE_ORDER.get(_mode_of(it), -1),
                               order[id(it)]))


# server logs on failure
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    item._lab_since = {d: s.log_size() for d, s in POOL.running.items()}
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    since = getattr(item, "_lab_since", {})
    for d, srv in POOL.running.items():
        rep.sections.append(("%s log (%s)" % (srv, srv.log_path),
                             srv.log_tail(since.get(d, 0))))


# ---------------------------------------------------------------------------
# asyncio: each async test in a fresh loop, under a deadline

@pytest.fixture
def event_loop():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=5))
    loop.run_until_complete(loop.shutdown_asyncgens())
    asyncio.set_event_loop(None)
    loop.close()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    fn = pyfuncitem.obj
    if not inspect.iscoroutinefunction(fn):
        return None
    loop = pyfuncitem.funcargs["event_loop"]
    args = {a: pyfuncitem.funcargs[a]
            for a in pyfuncitem._fixtureinfo.argnames}
    try:
        loop.run_until_complete(asyncio.wait_for(fn(**args), TEST_TIMEOUT))
    except asyncio.TimeoutError:
        raise AssertionError("test did not finish within %ss" % TEST_TIMEOUT)
    return True


# ---------------------------------------------------------------------------
# clients

class Client(slixmpp.ClientXMPP):
    """A slixmpp client on a lab server's c2s port, recording what arrives."""

    def __init__(self, jid, password, addr):
        super().__init__(jid, password)
        self._addr = addr
        # lab certificates are not what a client should trust; c2s TLS is
        # not under test here
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.register_plugin("xep_0199")
        self.register_plugin("xep_0030")
        self.auto_authorize = None
        self.auto_subscribe = False
        loop = asyncio.get_running_loop()
        self.messages = asyncio.Queue()
        self.presences = asyncio.Queue()
        self.stream_errors = []
        self.closed = loop.create_future()
        self._state = loop.create_future()
        self._iq_waiters = {}
        self.register_handler(Callback(
            "t-msg", MatchXPath("{%s}message" % NS_CLIENT),
            lambda s: self.messages.put_nowait(s)))
        self.register_handler(Callback(
            "t-pres", MatchXPath("{%s}presence" % NS_CLIENT),
            lambda s: self.presences.put_nowait(s)))
        self.register_handler(Callback(
            "t-iq", MatchXPath("{%s}iq" % NS_CLIENT), self._on_iq))
        self.add_event_handler("session_start",
                               lambda _: self._settle("session"))
        self.add_event_handler("failed_all_auth",
                               lambda _: self._settle("auth-failed"))
        self.add_event_handler("stream_error", self._on_stream_error)
        self.add_event_handler("disconnected", self._on_disconnected)

    async def get_dns_records(self, domain, port=None):
        return [(domain, self._addr[0], self._addr[1])]

    def _settle(self, v):
        if not self._state.done():
            self._state.set_result(v)

    def _on_stream_error(self, err):
        self.stream_errors.append(err["condition"])
        self._settle("stream-error")

    def _on_disconnected(self, _):
        self._settle("disconnected")
        if not self.closed.done():
            self.closed.set_result(True)

    def _on_iq(self, iq):
        if iq["type"] in ("result", "error"):
            fut = self._iq_waiters.pop(iq["id"], None)
            if fut is not None and not fut.done():
                fut.set_result(iq)

    async def iq(self, payload, to=None, type_="get", timeout=STANZA_TIMEOUT):
        iq_id = uniq("iq")
        fut = asyncio.get_running_loop().create_future()
        self._iq_waiters[iq_id] = fut
        to_attr = " to='%s'" % to if to else ""
        self.send_raw("<iq type='%s' id='%s'%s>%s</iq>"
                      % (type_, iq_id, to_attr, payload))
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise AssertionError("%s: no answer within %ss to iq %s to %s: %s"
                                 % (self.boundjid, timeout, type_, to,
                                    payload))

    async def next_message(self, timeout=STANZA_TIMEOUT, what="a message",
                           match=None):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                m = await asyncio.wait_for(self.messages.get(),
                                           max(left, 0.01))
            except asyncio.TimeoutError:
                raise AssertionError("%s got no message within %ss "
                                     "(waiting for %s)"
                                     % (self.boundjid, timeout, what))
            if match is None or match(m):
                return m

    async def next_presence(self, match, timeout=STANZA_TIMEOUT,
                            what="a presence"):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                p = await asyncio.wait_for(self.presences.get(),
                                           max(left, 0.01))
            except asyncio.TimeoutError:
                raise AssertionError("%s got no presence within %ss "
                                     "(waiting for %s)"
                                     % (self.boundjid, timeout, what))
            if match(p):
                return p

    def chat(self, to, body):
        self.send_raw("<message to='%s' type='chat' id='%s'><body>%s</body>"
                      "</message>" % (to, uniq("m"), body))


class Clients:
    def __init__(self):
        self.all = []

    async def login(self, user, resource=None, timeout=LOGIN_TIMEOUT):
        srv = user.server
        jid = user.jid + "/" + (resource or uniq("r"))
        c = Client(jid, user.password, (srv.addr, srv.c2s_port))
        self.all.append(c)
        c.connect(address=(srv.addr, srv.c2s_port), force_starttls=True)
        try:
            state = await asyncio.wait_for(asyncio.shield(c._state), timeout)
        except asyncio.TimeoutError:
            state = "timeout"
        if state != "session":
            raise AssertionError("login of %s on %s: %s (stream errors %s)"
                                 % (jid, srv, state, c.stream_errors))
        return c

    async def close(self):
        for c in self.all:
            c.cancel_connection_attempt()
        live = [c for c in self.all if c.transport is not None]
        for c in live:
            try:
                c.disconnect(wait=1)
            except Exception:
                pass
        if live:
            await asyncio.wait([asyncio.ensure_future(asyncio.shield(c.closed))
                                for c in live], timeout=3)
        for c in live:
            c.abort()
        await asyncio.sleep(0)


@pytest.fixture
def clients(event_loop):
    cl = Clients()
    yield cl
    event_loop.run_until_complete(asyncio.wait_for(cl.close(), 15))


def stanza_error(stanza):
    """(type, condition) of an error stanza, or None."""
    if stanza["type"] != "error":
        return None
    err = stanza.xml.find("{%s}error" % NS_CLIENT)
    if err is None:
        return ("?", "?")
    cond = None
    for child in err:
        if child.tag.startswith("{%s}" % NS_STANZAS) and \
                not child.tag.endswith("}text"):
            cond = child.tag.split("}", 1)[1]
    return err.get("type"), cond


async def exchange(a, b, body=None, timeout=STANZA_TIMEOUT):
    """a sends b (full JID) a chat message; b must get it from a's full
    JID with the body intact."""
    body = body or uniq("hello-")
    a.chat(b.boundjid.full, body)
    msg = await b.next_message(
        timeout=timeout, what="%r from %s" % (body, a.boundjid),
        match=lambda m: m["body"] == body or m["type"] == "error")
    assert msg["type"] != "error", "message came back as an error: %s" % msg
    assert msg["from"].full == a.boundjid.full, (
        "message from %s arrived with from=%s" % (a.boundjid, msg["from"]))
    return msg
