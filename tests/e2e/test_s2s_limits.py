"""
Federation limits seen end to end (issue 12 items 7-9; the s2s side is
covered by the scenarios of tests/unit/test_s2s_scenario.c): a user
addressing an IP-literal domain on loopback or a private network is told
at once (s2s-allow-private), a session's directed presence is capped
(presence-directed-max), and with s2s-require-valid-cert a server whose
certificate does not verify is not reached by dialback: the stanza comes
back remote-server-not-found.
"""
import asyncio
import time

import pytest

from conftest import STANZA_TIMEOUT, stanza_error
from imhelp import online, wait_presence
from test_s2s import S2S_HEADER, pair, read_for, user
from test_s2s_rules import has_error, stream_error


@pytest.mark.parametrize("domain", ["127.0.0.1", "10.0.0.1", "[::1]",
                                    "[::ffff:192.168.1.1]"])
async def test_ip_literal_domain_refused(make_server, clients, domain):
    srv = make_server()
    c = await clients.login(srv, srv.new_user("ip"), resource="r")
    t0 = time.monotonic()
    c.send_raw("<message to='x@%s' type='chat' id='ip1'><body>x</body>"
               "</message>" % domain)
    e = await c.next_message(what="the bounce", timeout=STANZA_TIMEOUT)
    assert e["type"] == "error" and e["id"] == "ip1", str(e)
    assert stanza_error(e)[1] == "remote-server-not-found", str(e)
    # refused by the router, not after s2s-connect-timeout
    assert time.monotonic() - t0 < 3


async def test_directed_presence_cap(make_server, clients):
    """Past presence-directed-max the presence is refused with
    resource-constraint (an untracked one would never be followed by
    unavailable, RFC 6121 4.6.3); those tracked still get unavailable."""
    srv = make_server(presence_directed_max="2")
    a = await online(srv, clients, srv.new_user("dp"), resource="a")
    rs = [await online(srv, clients, srv.new_user("dr"), resource="r")
          for _ in range(3)]
    for r in rs[:2]:
        a.send_raw("<presence to='%s'/>" % r.boundjid.full)
        await wait_presence(r, frm=a.boundjid.full, type_="available")
    a.send_raw("<presence to='%s' id='over'/>" % rs[2].boundjid.full)
    p = await wait_presence(a, frm=rs[2].boundjid.full, type_="error")
    assert stanza_error(p)[1] == "resource-constraint", str(p)
    # a recipient already tracked is not a new entry
    a.send_raw("<presence to='%s'><status>again</status></presence>"
               % rs[0].boundjid.full)
    p = await wait_presence(rs[0], frm=a.boundjid.full)
    assert p["status"] == "again", str(p)
    a.send_raw("<presence type='unavailable'/>")
    for r in rs[:2]:
        await wait_presence(r, frm=a.boundjid.full, type_="unavailable")
    assert rs[2].presences.empty(), "a refused presence was delivered"


async def test_require_valid_cert_no_dialback(make_server, tmp_path_factory,
                                              clients):
    """Self-signed certificates, s2s-require-valid-cert yes: no dialback
    fallback, the message bounces remote-server-not-found."""
    a, b = pair(make_server, tmp_path_factory,
                s2s_require_valid_cert="yes")
    ca = await clients.login(a, user(a, "a.test"), resource="ra")
    ub = user(b, "b.test")
    ca.send_raw("<message to='%s' type='chat' id='rv1'><body>x</body>"
                "</message>" % ub.jid)
    e = await ca.next_message(what="the bounce", timeout=3 * STANZA_TIMEOUT)
    assert e["type"] == "error" and e["id"] == "rv1", str(e)
    assert stanza_error(e)[1] == "remote-server-not-found", str(e)


async def test_allow_dialback_for_exempts(make_server, tmp_path_factory,
                                          clients):
    """The same pair with each other's domain in s2s-allow-dialback-for:
    dialback is used and the message arrives."""
    a, b = pair(make_server, tmp_path_factory,
                s2s_require_valid_cert="yes",
                s2s_allow_dialback_for="a.test,b.test")
    ca = await clients.login(a, user(a, "a.test"), resource="ra")
    cb = await clients.login(b, user(b, "b.test"), resource="rb")
    ca.send_raw("<message to='%s' type='chat' id='rv2'><body>over</body>"
                "</message>" % cb.boundjid.full)
    m = await cb.next_message(what="the message", timeout=3 * STANZA_TIMEOUT)
    assert m["body"] == "over", str(m)


async def test_peer_claiming_our_domain(make_server, tmp_path_factory):
    """A stream header from a.test to a.test: invalid-from, before any
    feature is offered; a db:result from a.test on a stream from b.test
    too, and no verification is started."""
    a, _ = pair(make_server, tmp_path_factory, s2s_require_tls="no")
    port = int(a.opts["s2s-listen"].split(":")[1])
    r, w = await asyncio.open_connection("127.0.0.1", port)
    try:
        w.write((S2S_HEADER % ("a.test", "a.test")).encode())
        data = await stream_error(r)
        assert has_error(data, "invalid-from"), data
        assert b"<stream:features" not in data, data
    finally:
        w.close()
    r, w = await asyncio.open_connection("127.0.0.1", port)
    try:
        w.write((S2S_HEADER % ("b.test", "a.test")).encode())
        await read_for(r, b"</stream:features>")
        w.write(b"<db:result from='a.test' to='a.test'>00</db:result>")
        data = await stream_error(r)
        assert has_error(data, "invalid-from"), data
    finally:
        w.close()
