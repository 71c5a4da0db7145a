"""
External service discovery (XEP-0215): the STUN and TURN servers of a host
with temporary TURN credentials (the TURN REST API scheme), checked against
a real coturn: what Parley hands out is accepted, a wrong or expired
credential is refused.
"""
import datetime
import os
import shutil
import subprocess
import time

import pytest

from conftest import (DOMAIN, NS_DISCO_INFO, ServerFactory, User,
                      free_port, stanza_error, uniq)
from xmpptest import stop_process

NS = "urn:xmpp:extdisco:2"
SECRET = "turn-s3cret"
TTL = 3600


def service_lines(*uris):
    """Repeated extdisco-service lines in one host_options value."""
    return "\n\textdisco-service ".join(uris)


def assert_error(r, condition):
    assert r["type"] == "error", str(r)
    assert stanza_error(r)[1] == condition, str(r)


def services_of(r):
    assert r["type"] == "result", str(r)
    q = r.xml.find("{%s}services" % NS)
    assert q is not None, str(r)
    return q.findall("{%s}service" % NS)


@pytest.fixture(scope="module")
def turn(tmp_path_factory):
    """A coturn on a loopback port with the shared secret, no external
    address; stopped by its pid."""
    if shutil.which("turnserver") is None:
        pytest.fail("coturn is not installed (scripts/deps.sh)")
    d = tmp_path_factory.mktemp("coturn")
    port = free_port()
    log = open(os.path.join(str(d), "turn.log"), "wb")
    p = subprocess.Popen(
        ["turnserver", "-n", "--listening-ip=127.0.0.1",
         "--relay-ip=127.0.0.1", "--listening-port=%d" % port,
         "--use-auth-secret", "--static-auth-secret=" + SECRET,
         "--realm=" + DOMAIN, "--no-tls", "--no-dtls", "--no-cli",
         "--allow-loopback-peers", "--no-stun-backward-compatibility",
         "--min-port=%d" % 49200, "--max-port=%d" % 49999,
         "--pidfile=" + os.path.join(str(d), "pid"),
         "--log-file=stdout", "--simple-log"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    time.sleep(0.5)
    assert p.poll() is None, "turnserver exited"
    yield port
    stop_process(p)
    log.close()


@pytest.fixture(scope="module")
def srv(tmp_path_factory, cert, turn):
    f = ServerFactory(tmp_path_factory, cert)
    s = f(host_options={DOMAIN: {
        "extdisco-service": service_lines(
            "stun:127.0.0.1:%d" % turn,
            "turn:127.0.0.1:%d?transport=udp" % turn,
            "turns:turn.example.org"),
        "turn-secret": SECRET,
        "turn-credential-lifetime": str(TTL),
    }})
    yield s
    f.close()


def uclient(port, user, password):
    """turnutils_uclient allocates with the credential and relays a
    message between two allocations; its exit status says whether the
    allocation was accepted."""
    cp = subprocess.run(
        ["turnutils_uclient", "-y", "-n", "1", "-m", "1", "-p", str(port),
         "-u", user, "-w", password, "127.0.0.1"],
        capture_output=True, timeout=60)
    return cp.returncode, cp.stdout.decode(errors="replace")


async def test_disco_advertises_extdisco(srv, clients):
    c = await clients.login(srv, srv.new_user(), resource="x")
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=DOMAIN)
    vars_ = {f.get("var") for f in
             r.xml.iter("{%s}feature" % NS_DISCO_INFO)}
    assert NS in vars_, str(r)


async def test_services_listed_with_credentials(srv, clients):
    u = srv.new_user()
    c = await clients.login(srv, u, resource="x")
    before = time.time()
    got = services_of(await c.iq("<services xmlns='%s'/>" % NS, to=DOMAIN))
    assert [(s.get("type"), s.get("host")) for s in got] == [
        ("stun", "127.0.0.1"), ("turn", "127.0.0.1"),
        ("turns", "turn.example.org")], [s.attrib for s in got]
    stun, turn, turns = got
    assert stun.get("port") == str(srv_turn_port(srv))
    # STUN needs no credentials
    assert stun.get("restricted") is None and stun.get("username") is None
    assert turn.get("transport") == "udp"
    # RFC 7065 3.2: 5349 is the default port of turns
    assert turns.get("port") == "5349" and turns.get("transport") is None
    for s in (turn, turns):
        assert s.get("restricted") in ("1", "true"), s.attrib
        user, pw = s.get("username"), s.get("password")
        expiry, name = user.split(":", 1)
        assert name == u.jid
        assert before + TTL - 5 <= int(expiry) <= time.time() + TTL + 5
        exp = datetime.datetime.fromisoformat(
            s.get("expires").replace("Z", "+00:00"))
        assert int(exp.timestamp()) == int(expiry), s.attrib
        assert pw


def srv_turn_port(srv):
    with open(srv.conf) as f:
        for line in f:
            if "stun:127.0.0.1:" in line:
                return int(line.rsplit(":", 1)[1])
    raise AssertionError("no stun line in the config")


async def test_coturn_accepts_credentials(srv, clients, turn):
    """The credential Parley hands out allocates on coturn; the same one
    with a wrong password, or with its expiry moved into the past, is
    refused."""
    c = await clients.login(srv, srv.new_user(), resource="x")
    got = services_of(await c.iq("<services xmlns='%s' type='turn'/>" % NS,
                                 to=DOMAIN))
    assert len(got) == 1 and got[0].get("type") == "turn"
    user, pw = got[0].get("username"), got[0].get("password")
    rc, out = uclient(turn, user, pw)
    assert rc == 0, out
    rc, out = uclient(turn, user, "x" + pw)
    assert rc != 0, out
    name = user.split(":", 1)[1]
    rc, out = uclient(turn, "%d:%s" % (time.time() - 10, name), pw)
    assert rc != 0, out


async def test_credentials_request(srv, clients, turn):
    u = srv.new_user()
    c = await clients.login(srv, u, resource="x")
    r = await c.iq("<credentials xmlns='%s'><service host='127.0.0.1' "
                   "type='turn'/></credentials>" % NS, to=DOMAIN)
    assert r["type"] == "result", str(r)
    s = r.xml.find("{%s}credentials/{%s}service" % (NS, NS))
    assert s is not None and s.get("username").endswith(":" + u.jid)
    rc, out = uclient(turn, s.get("username"), s.get("password"))
    assert rc == 0, out
    # with the port too
    r = await c.iq("<credentials xmlns='%s'><service host='127.0.0.1' "
                   "type='turn' port='%d'/></credentials>" % (NS, turn),
                   to=DOMAIN)
    assert r["type"] == "result", str(r)


async def test_type_filter(srv, clients):
    c = await clients.login(srv, srv.new_user(), resource="x")
    got = services_of(await c.iq("<services xmlns='%s' type='stun'/>" % NS,
                                 to=DOMAIN))
    assert [s.get("type") for s in got] == ["stun"]
    # a registered type with no service: an empty list
    got = services_of(await c.iq("<services xmlns='%s' type='stuns'/>" % NS,
                                 to=DOMAIN))
    assert got == []


async def test_bad_requests(srv, clients, turn):
    c = await clients.login(srv, srv.new_user(), resource="x")
    assert_error(await c.iq("<services xmlns='%s' type='carrier-pigeon'/>"
                            % NS, to=DOMAIN), "bad-request")
    assert_error(await c.iq("<credentials xmlns='%s'/>" % NS, to=DOMAIN),
                 "bad-request")
    assert_error(await c.iq("<credentials xmlns='%s'><service "
                            "host='127.0.0.1'/></credentials>" % NS,
                            to=DOMAIN), "bad-request")
    assert_error(await c.iq("<credentials xmlns='%s'><service "
                            "host='127.0.0.1' type='pigeon'/></credentials>"
                            % NS, to=DOMAIN), "bad-request")
    # no such service, or not on that port
    assert_error(await c.iq("<credentials xmlns='%s'><service "
                            "host='turn.nowhere' type='turn'/></credentials>"
                            % NS, to=DOMAIN), "item-not-found")
    assert_error(await c.iq("<credentials xmlns='%s'><service "
                            "host='127.0.0.1' type='turn' port='%d'/>"
                            "</credentials>" % (NS, turn + 1), to=DOMAIN),
                 "item-not-found")
    # a set is no query of this protocol
    assert_error(await c.iq("<services xmlns='%s'/>" % NS, to=DOMAIN,
                            type_="set"), "service-unavailable")
    # answered by the server, not on an account's behalf
    assert_error(await c.iq("<services xmlns='%s'/>" % NS,
                            to=srv.new_user().jid), "service-unavailable")
    # the connection survived all that
    got = services_of(await c.iq("<services xmlns='%s'/>" % NS, to=DOMAIN))
    assert len(got) == 3


async def test_no_secret_unrestricted(make_server, clients):
    """Without turn-secret a TURN server is listed as open, with no
    credentials; without any service the list is empty."""
    s = make_server(host_options={DOMAIN: {
        "extdisco-service": "turn:turn.example.org:3479?transport=tcp"}})
    c = await clients.login(s, s.new_user(), resource="x")
    got = services_of(await c.iq("<services xmlns='%s'/>" % NS, to=DOMAIN))
    assert len(got) == 1 and got[0].get("port") == "3479"
    assert got[0].get("transport") == "tcp"
    assert got[0].get("restricted") is None
    assert got[0].get("username") is None
    s2 = make_server()
    c2 = await clients.login(s2, s2.new_user(), resource="x")
    assert services_of(await c2.iq("<services xmlns='%s'/>" % NS,
                                   to=DOMAIN)) == []


async def test_other_host_forbidden(make_server, clients, cert):
    """Only the host's own accounts learn its services and credentials."""
    other = "other.test"
    s = make_server(hosts=[(other,) + tuple(cert)], host_options={DOMAIN: {
        "extdisco-service": "turn:127.0.0.1:3478",
        "turn-secret": SECRET}})
    ou = User("%s@%s" % (uniq("o"), other), uniq("pw"))
    s.adduser(ou.jid, ou.password)
    c = await clients.login(s, ou, resource="o")
    assert_error(await c.iq("<services xmlns='%s'/>" % NS, to=DOMAIN),
                 "forbidden")
    assert_error(await c.iq("<credentials xmlns='%s'><service "
                            "host='127.0.0.1' type='turn'/></credentials>"
                            % NS, to=DOMAIN), "forbidden")
    # its own host has none
    assert services_of(await c.iq("<services xmlns='%s'/>" % NS,
                                  to=other)) == []
