"""
The client harness shared by the e2e suite (tests/e2e) and the interop
suite (tests/interop): the time scale, unique names, slixmpp clients that
record what they receive, the strict message exchange, the asyncio test
runner, and the reading of parleyd's log for children that died.

Each suite's conftest.py imports from here and re-exports the names its
tests use, so tests keep importing them from conftest.
"""
import asyncio
import inspect
import itertools
import os
import re
import signal
import ssl
import subprocess
import time

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath


def time_scale():
    """The factor every deadline is multiplied by. `make asan` sets
    PARLEY_TIME_SCALE (the sanitizer build is several times slower);
    without it a PARLEY_BIN that names the asan build gets 3."""
    v = os.environ.get("PARLEY_TIME_SCALE")
    if v:
        return float(v)
    return 3 if "asan" in os.environ.get("PARLEY_BIN", "") else 1


SLOW = time_scale()

NS_CLIENT = "jabber:client"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_PING = "urn:xmpp:ping"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"

_ids = itertools.count(1)


def stop_process(p, grace=10):
    """Ends a process the test started: SIGTERM, then SIGKILL after grace
    seconds. Returns True if it ended on SIGTERM (or had already ended)."""
    if p is None or p.poll() is not None:
        return True
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(grace)
        return True
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)
        return False


def uniq(prefix="u"):
    """A name no other test in this run uses."""
    return "%s%d%d" % (prefix, os.getpid() % 1000, next(_ids))


def stanza_error(stanza):
    """(type, condition) of a stanza's <error/>, or (None, None)."""
    return element_error(stanza.xml)


def element_error(el):
    """(type, condition) of the <error/> in an ElementTree stanza, or
    (None, None)."""
    err = el.find("{%s}error" % NS_CLIENT)
    if err is None:
        return None, None
    for child in err:
        if child.tag.startswith("{%s}" % NS_STANZAS) and \
                not child.tag.endswith("}text"):
            return err.get("type"), child.tag.split("}")[1]
    return err.get("type"), None


# ---------------------------------------------------------------------------
# asyncio: every async test runs in a fresh loop, under a deadline

def new_event_loop():
    """Generator body of the event_loop fixture of both suites."""
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


def add_event_loop(items):
    """Every coroutine test gets the event_loop fixture first."""
    for item in items:
        fn = getattr(item, "obj", None)
        if inspect.iscoroutinefunction(fn) and \
                "event_loop" not in item.fixturenames:
            item.fixturenames.insert(0, "event_loop")


def run_async_test(pyfuncitem, timeout):
    """pytest_pyfunc_call for coroutine tests: None for the others."""
    fn = pyfuncitem.obj
    if not inspect.iscoroutinefunction(fn):
        return None
    loop = pyfuncitem.funcargs["event_loop"]
    args = {a: pyfuncitem.funcargs[a]
            for a in pyfuncitem._fixtureinfo.argnames}
    try:
        loop.run_until_complete(asyncio.wait_for(fn(**args), timeout))
    except asyncio.TimeoutError:
        raise AssertionError("test did not finish within %ss" % timeout)
    return True


async def wait_for(pred, timeout, what, every=0.1):
    """Polls pred (for state only /proc or a log shows) until it returns
    something true; returns it or fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("%s: not within %ss" % (what, timeout))
        await asyncio.sleep(every)


# ---------------------------------------------------------------------------
# slixmpp clients

class Client(slixmpp.ClientXMPP):
    """A slixmpp client that records what it receives for the tests.
    server_name: the name slixmpp verifies and sends as SNI (None: the
    JID's domain). The certificates are never verified: c2s TLS is tested
    on its own."""

    login_timeout = 10 * SLOW
    stanza_timeout = 5 * SLOW

    def __init__(self, jid, password, addr, mechs=None, server_name=None,
                 plugins=("xep_0199",)):
        super().__init__(jid, password)
        self._addr = addr
        self._server_name = server_name
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        for p in plugins:
            self.register_plugin(p)
        # the tests drive presence subscriptions themselves: slixmpp must
        # not approve requests (or ask back) on its own
        self.auto_authorize = None
        self.auto_subscribe = False
        if mechs:
            self["feature_mechanisms"].use_mechs = set(mechs)
        loop = asyncio.get_running_loop()
        self.messages = asyncio.Queue()
        self.presences = asyncio.Queue()
        self.stream_errors = []
        self.auth_failures = []
        self.closed = loop.create_future()
        self._iq_waiters = {}
        self._state = loop.create_future()
        self.mech_used = None
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
        self.add_event_handler("failed_auth", self._on_failed_auth)
        self.add_event_handler("failed_all_auth",
                               lambda _: self._settle("auth-failed"))
        self.add_event_handler("stream_error", self._on_stream_error)
        self.add_event_handler("disconnected", self._on_disconnected)
        self.add_event_handler("auth_success", self._on_auth_success)

    # slixmpp resolves the JID's domain when it has one; we always want
    # the address we were given
    async def get_dns_records(self, domain, port=None):
        return [(self._server_name or domain, self._addr[0], self._addr[1])]

    def _settle(self, value):
        if not self._state.done():
            self._state.set_result(value)

    def _on_auth_success(self, _):
        mech = self["feature_mechanisms"].mech
        self.mech_used = mech.name if mech else None

    def _on_failed_auth(self, stanza):
        self.auth_failures.append(stanza["condition"])

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

    # -- for tests ---------------------------------------------------------

    @property
    def local_port(self):
        return self.transport.get_extra_info("sockname")[1]

    def start(self, direct_tls=False):
        self.connect(address=self._addr, use_ssl=direct_tls,
                     force_starttls=not direct_tls,
                     disable_starttls=direct_tls)

    async def wait_state(self, timeout=None):
        """'session', 'auth-failed', 'stream-error', 'disconnected' or
        'timeout'."""
        try:
            return await asyncio.wait_for(asyncio.shield(self._state),
                                          timeout or self.login_timeout)
        except asyncio.TimeoutError:
            return "timeout"

    async def iq(self, payload, to=None, type_="get", timeout=None):
        """Sends <iq> with the raw XML payload; returns the result or error
        stanza (slixmpp Iq). Fails the test on timeout."""
        timeout = timeout or self.stanza_timeout
        iq_id = uniq("iq")
        fut = asyncio.get_running_loop().create_future()
        self._iq_waiters[iq_id] = fut
        to_attr = " to='%s'" % to if to else ""
        self.send_raw("<iq type='%s' id='%s'%s>%s</iq>"
                      % (type_, iq_id, to_attr, payload))
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise AssertionError("%s: no answer within %ss to iq %s to %s: "
                                 "%s" % (self.boundjid, timeout, type_, to,
                                         payload))

    async def fence(self):
        """A ping to our own server, answered: everything the server sent
        us before it has been received and queued (a server handles one
        session's stanzas in order and writes to it in order)."""
        r = await self.iq("<ping xmlns='%s'/>" % NS_PING,
                          to=self.boundjid.domain)
        assert r["type"] == "result", "%s: ping to the server: %s" % (
            self.boundjid, r)

    async def _next(self, queue, kind, timeout, what, match):
        timeout = timeout or self.stanza_timeout
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                s = await asyncio.wait_for(queue.get(), max(left, 0.01))
            except asyncio.TimeoutError:
                raise AssertionError("%s got no %s within %ss (waiting for "
                                     "%s)" % (self.boundjid, kind, timeout,
                                              what))
            if match is None or match(s):
                return s

    async def next_message(self, timeout=None, what="a message",
                           match=None):
        """The next message (that match accepts: the others are
        dropped)."""
        return await self._next(self.messages, "message", timeout, what,
                                match)

    async def next_presence(self, match=None, timeout=None,
                            what="a presence"):
        return await self._next(self.presences, "presence", timeout, what,
                                match)

    def pending(self):
        """Empties the queues; returns what they held, as text."""
        got = []
        for q in (self.messages, self.presences):
            while not q.empty():
                got.append(str(q.get_nowait()))
        return got

    async def quiet(self, seconds=1.0):
        """Asserts that nothing arrives for a while; returns nothing."""
        await asyncio.sleep(seconds)
        got = self.pending()
        assert not got, "%s received unexpected stanzas: %s" % (
            self.boundjid, got)

    async def wait_closed(self, timeout=None):
        timeout = timeout or self.stanza_timeout
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), timeout)
        except asyncio.TimeoutError:
            raise AssertionError("%s: the server did not close the stream "
                                 "within %ss" % (self.boundjid, timeout))

    def chat(self, to, body, mid=None):
        """Sends a chat message; returns its id."""
        mid = mid or uniq("m")
        self.send_raw("<message to='%s' type='chat' id='%s'><body>%s</body>"
                      "</message>" % (to, mid, body))
        return mid


class ClientsBase:
    """Clients of one test; all disconnected at its end."""

    def __init__(self):
        self.all = []

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
        for c in self.all:
            c.cancel_connection_attempt()
        await asyncio.sleep(0)


async def exchange(a, b, body=None, timeout=None):
    """a sends b a chat message (to b's full JID); it must be the next
    message b receives, from a's full JID with the body intact, and b must
    receive it once: anything else b receives before it, a copy after it
    (up to a fence on both sides), or an error back to a fails the test."""
    body = body or uniq("hello-")
    mid = a.chat(b.boundjid.full, body)
    msg = await b.next_message(timeout=timeout,
                               what="%r from %s" % (body, a.boundjid))
    assert msg["type"] != "error", "message came back as an error: %s" % msg
    assert msg["body"] == body, (
        "%s expected %r from %s and received another message first: %s"
        % (b.boundjid, body, a.boundjid, msg))
    assert msg["from"].full == a.boundjid.full, (
        "message from %s arrived with from=%s" % (a.boundjid, msg["from"]))
    assert msg["type"] == "chat", str(msg)
    # the sender's server has handled the message (and anything it caused)
    # once a's ping is answered; then b's ping is answered after whatever
    # that sent b (across servers this only narrows the window)
    await a.fence()
    await b.fence()
    more = []
    while not b.messages.empty():
        more.append(b.messages.get_nowait())
    assert not more, "%s received more after %r from %s: %s" % (
        b.boundjid, body, a.boundjid, [str(m) for m in more])
    back = [m for m in _peek(a.messages)
            if m["type"] == "error" and m["id"] == mid]
    assert not back, "the message also came back as an error: %s" % back[0]
    return msg


def _peek(queue):
    """The items a queue holds, left in place."""
    return list(queue._queue)


# ---------------------------------------------------------------------------
# parleyd's log: children that died (parleyd/main.c child_exit_cb)

DEATH_RE = re.compile(
    r"parleyd: (?:\w+: )?(\S+) pid=(\d+) (exited with status \d+|"
    r"killed by signal [^\n]*?|changed state [^\n]*?)(, restarting in \d+s)?$",
    re.M)


def kind_of(label):
    """'c2s[2]' -> 'c2s'."""
    return label.split("[", 1)[0]


def child_deaths(text):
    """[(label, pid, how, restarted)] for each child death in a parleyd
    log text."""
    return [(m.group(1), int(m.group(2)), m.group(3), bool(m.group(4)))
            for m in DEATH_RE.finditer(text)]


def unexpected_deaths(text, allowed=()):
    """Deaths in text that a test did not declare: every restart of a
    process whose kind is not in allowed, and every stop of a child that
    did not exit with status 0 (a child SIGTERMed by parleyd exits 0)."""
    bad = []
    for label, pid, how, restarted in child_deaths(text):
        if kind_of(label) in allowed:
            continue
        if restarted:
            bad.append("%s pid=%d %s and was restarted" % (label, pid, how))
        elif how != "exited with status 0":
            bad.append("%s pid=%d %s when stopped" % (label, pid, how))
    return bad
