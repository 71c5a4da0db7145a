"""
RFC 6120 rules on incoming server streams, driven with raw XML as a
peer would (test_s2s.py has the real federation): a stream or stanza
from a domain the peer did not prove gets <invalid-from/> (4.9.3.9), one
for a domain we do not serve gets <host-unknown/> (4.9.3.6), and a stanza
between two remote domains is never relayed: the third server is never
contacted, nothing reaches local users.
"""
import asyncio

import pytest

from conftest import free_port, uniq
from test_s2s import (S2S_HEADER, mkcert, open_as_b, pair, read_for,
                      user)

NS_STREAMS = b"urn:ietf:params:xml:ns:xmpp-streams"


async def stream_error(reader, timeout=10):
    """Everything the server sent up to its closing tag."""
    return await read_for(reader, b"</stream:stream>", timeout=timeout)


def has_error(data, cond):
    return (b"<" + cond.encode()) in data and NS_STREAMS in data


async def authenticated_as_b(a):
    """A raw stream to A, authenticated as b.test by dialback."""
    r, w, _ = await open_as_b(a, a.opts["s2s-dialback-secret"])
    data = await read_for(r, b"type='valid'")
    assert b"type='valid'" in data, data
    return r, w


async def refused_message(a, frm, client, condition):
    """On a stream authenticated as b.test, a message from frm to the
    client's full JID: the stream error, and nothing delivered."""
    r, w = await authenticated_as_b(a)
    try:
        w.write(("<message from='%s' to='%s' type='chat'><body>%s</body>"
                 "</message>" % (frm, client.boundjid.full, uniq("refused")))
                .encode())
        data = await stream_error(r)
        assert has_error(data, condition), data
    finally:
        w.close()
    await asyncio.sleep(0.5)
    assert client.messages.empty(), "a refused stanza was delivered"


@pytest.mark.parametrize("frm,to,condition", [
    ("b.test", "nowhere.test", "host-unknown"),
    ("not a domain@@", "a.test", "invalid-from"),
], ids=["unserved-to", "bad-from"])
async def test_stream_header_refused(make_server, tmp_path_factory, frm, to,
                                     condition):
    a, _ = pair(make_server, tmp_path_factory, s2s_require_tls="no")
    port = int(a.opts["s2s-listen"].split(":")[1])
    r, w = await asyncio.open_connection("127.0.0.1", port)
    try:
        w.write((S2S_HEADER % (frm, to)).encode())
        data = await stream_error(r)
        assert has_error(data, condition), data
    finally:
        w.close()


async def test_stanza_from_unproven_domain_invalid_from(make_server,
                                                        tmp_path_factory,
                                                        clients):
    """Authenticated as b.test, the peer sends from c.test: invalid-from,
    and the stanza is not delivered."""
    a, _ = pair(make_server, tmp_path_factory, s2s_require_tls="no")
    ua = user(a, "a.test")
    ca = await clients.login(a, ua, resource="ra")
    await refused_message(a, "x@c.test", ca, "invalid-from")


def servers(make_server, tmp_path_factory, a_hosts=("a.test",),
            a_routes=()):
    """Like test_s2s.pair (B serves b.test, the same dialback secret on
    both), with more domains served by A and more routes from A."""
    certs = {d: mkcert(tmp_path_factory, d) for d in a_hosts + ("b.test",)}
    pa, pb = free_port(), free_port()
    common = {"s2s_connect_timeout": "5", "s2s_dialback_secret": uniq("s"),
              "s2s_require_tls": "no"}
    # s2s-route repeats: the conftest writes one line per option, so the
    # further routes ride on the first one's line
    routes = ["b.test=127.0.0.1:%d" % pb] + list(a_routes)
    a = make_server(hosts=[(d,) + certs[d] for d in a_hosts],
                    s2s_listen="127.0.0.1:%d" % pa,
                    s2s_route="\ns2s-route ".join(routes), **common)
    b = make_server(hosts=[("b.test",) + certs["b.test"]],
                    s2s_listen="127.0.0.1:%d" % pb,
                    s2s_route="%s=127.0.0.1:%d" % (a_hosts[0], pa), **common)
    return a, b


async def test_unauthenticated_pair_invalid_from(make_server,
                                                 tmp_path_factory, clients):
    """A serves a.test and a2.test; b.test proved itself for a.test only:
    a stanza from b.test to a2.test gets invalid-from (that pair was not
    authenticated on this stream) and is not delivered."""
    a, _ = servers(make_server, tmp_path_factory,
                   a_hosts=("a.test", "a2.test"))
    u2 = user(a, "a2.test")
    c2 = await clients.login(a, u2, resource="r2")
    await refused_message(a, "x@b.test", c2, "invalid-from")


async def test_no_relay_between_remote_domains(make_server, tmp_path_factory,
                                               clients):
    """An authenticated b.test sends stanzas to c.test, which A can reach
    (a route to a listener here): host-unknown, and A never connects to
    c.test for them. A local user's stanza to c.test does make A connect,
    so the listener would see a relay."""
    seen = []

    async def c_server(reader, writer):
        seen.append(True)
        writer.close()

    c_srv = await asyncio.start_server(c_server, "127.0.0.1", 0)
    cport = c_srv.sockets[0].getsockname()[1]
    try:
        a, _ = servers(make_server, tmp_path_factory,
                       a_routes=["c.test=127.0.0.1:%d" % cport])
        ua = user(a, "a.test")
        ca = await clients.login(a, ua, resource="ra")
        for stanza in (b"<message from='x@b.test' to='y@c.test' type='chat'>"
                       b"<body>relay me</body></message>",
                       b"<presence from='x@b.test' to='y@c.test' "
                       b"type='subscribe'/>",
                       b"<iq from='x@b.test/r' to='c.test' type='get' "
                       b"id='q1'><ping xmlns='urn:xmpp:ping'/></iq>"):
            r, w = await authenticated_as_b(a)
            try:
                w.write(stanza)
                data = await stream_error(r)
                assert has_error(data, "host-unknown"), (stanza, data)
            finally:
                w.close()
        await asyncio.sleep(1)
        assert not seen, "A connected to c.test for b.test's stanza"
        assert ca.messages.empty()
        # the control: the route works for A's own users
        ca.send_raw("<message to='y@c.test' type='chat'><body>mine</body>"
                    "</message>")
        for _ in range(50):
            if seen:
                break
            await asyncio.sleep(0.1)
        assert seen, "A never connected to c.test: the check proves nothing"
    finally:
        c_srv.close()
