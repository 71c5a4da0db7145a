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
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import lab  # noqa: E402
# the shared client harness; tests import these names from here
from xmpptest import (NS_CLIENT, NS_DISCO_INFO, NS_PING,  # noqa: E402,F401
                      NS_STANZAS, SLOW, ClientsBase, add_event_loop,
                      exchange, new_event_loop, run_async_test,
                      stanza_error, uniq)
import xmpptest  # noqa: E402

LOGIN_TIMEOUT = 15 * SLOW
STANZA_TIMEOUT = 10 * SLOW  # covers a first s2s connection + dialback
TEST_TIMEOUT = 90 * SLOW


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
    if POOL.problems:
        pytest.fail("problems when the lab's servers stopped:\n"
                    + "\n".join(POOL.problems), pytrace=False)


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
    add_event_loop(items)
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
# a Parley child that dies fails the test (the lab kills none on purpose)

@pytest.fixture(autouse=True)
def no_crashes():
    """Fails the test (at setup or teardown) when a Parley child of the
    lab died, or a server of the pool had problems when stopped."""
    _report_deaths("before the test (after the previous one)")
    yield
    _report_deaths("during the test")


def _report_deaths(when):
    problems = POOL.problems
    POOL.problems = []
    for srv in list(POOL.running.values()):
        if srv.kind == "parley":
            problems += srv.deaths()
    if problems:
        pytest.fail("Parley processes died %s:\n%s"
                    % (when, "\n".join(problems)), pytrace=False)


# ---------------------------------------------------------------------------
# asyncio: each async test in a fresh loop, under a deadline

@pytest.fixture
def event_loop():
    yield from new_event_loop()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    return run_async_test(pyfuncitem, TEST_TIMEOUT)


# ---------------------------------------------------------------------------
# clients (tests/lib/xmpptest.py)

class Client(xmpptest.Client):
    """A client on a lab server's c2s port. Lab certificates are not what a
    client should trust; c2s TLS is not under test here."""
    login_timeout = LOGIN_TIMEOUT
    stanza_timeout = STANZA_TIMEOUT

    def __init__(self, jid, password, addr, plugins=()):
        super().__init__(jid, password, addr,
                         plugins=("xep_0199", "xep_0030") + tuple(plugins))


class Clients(ClientsBase):
    async def login(self, user, resource=None, timeout=LOGIN_TIMEOUT,
                    plugins=()):
        srv = user.server
        jid = user.jid + "/" + (resource or uniq("r"))
        c = Client(jid, user.password, (srv.addr, srv.c2s_port),
                   plugins=plugins)
        self.all.append(c)
        c.start()
        state = await c.wait_state(timeout)
        if state != "session":
            raise AssertionError("login of %s on %s: %s (stream errors %s)"
                                 % (jid, srv, state, c.stream_errors))
        return c


@pytest.fixture
def clients(event_loop):
    cl = Clients()
    yield cl
    event_loop.run_until_complete(asyncio.wait_for(cl.close(), 15))
