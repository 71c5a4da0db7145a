"""
Hostile and broken input on raw client streams (RFC 6120 4.9.3 and 11):
each case must get the right stream error, the connection must close, and
every other session must keep working (no crash, no stall).
"""
import asyncio

import pytest

from conftest import (DOMAIN, HEADER, NS_PING, SLOW, Raw, assert_service_works,
                      exchange, expect_stream_error)

LAUGHS = (b"<?xml version='1.0'?>"
          b"<!DOCTYPE lolz [<!ENTITY lol 'lol'>"
          b"<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
          b"<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>"
          b"<!ENTITY lol4 '&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;'>]>"
          + HEADER + b"<message><body>&lol4;</body></message>")

# (id, bytes sent on a fresh plain TCP connection, stream error)
CASES = [
    ("not-well-formed", HEADER + b"<iq><body></iq>",
     "not-well-formed"),
    ("bad-utf8", HEADER + b"<iq><body>\xff\xfe</body></iq>",
     "unsupported-encoding"),
    ("bad-utf8-in-attribute", HEADER + b"<message to='\xc3\x28'/>",
     "unsupported-encoding"),
    ("billion-laughs", LAUGHS, "restricted-xml"),
    # a DOCTYPE inside the root element is not even well-formed XML
    ("doctype-after-header", HEADER + b"<!DOCTYPE x>",
     ("restricted-xml", "not-well-formed")),
    ("processing-instruction", HEADER + b"<?foo bar?>", "restricted-xml"),
    ("comment", HEADER + b"<!-- hello -->", "restricted-xml"),
    ("comment-inside-stanza",
     HEADER + b"<iq><!-- x --><body>x</body></iq>",
     "restricted-xml"),
    ("deep-nesting", HEADER + b"<iq>" + b"<a>" * 10000,
     "policy-violation"),
    ("wrong-stream-namespace",
     b"<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' "
     b"to='localhost' version='1.0'>", "invalid-namespace"),
    ("unknown-host",
     b"<stream:stream xmlns='jabber:client' xmlns:stream="
     b"'http://etherx.jabber.org/streams' to='nowhere.example' "
     b"version='1.0'>", "host-unknown"),
    ("stanza-before-auth",
     HEADER + b"<message to='x@localhost'><body>x</body></message>",
     "not-authorized"),
    ("iq-before-auth",
     HEADER + b"<iq type='get' id='1' to='localhost'>"
     b"<ping xmlns='urn:xmpp:ping'/></iq>", "not-authorized"),
]


@pytest.mark.parametrize("data,condition", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
async def test_bad_input(server, clients, data, condition):
    # a session that exists before the attack and must survive it
    a = await clients.login(server, server.new_user(), resource="before")
    b = await clients.login(server, server.new_user(), resource="before")
    raw = await Raw.open(server.port)
    try:
        await raw.send(data)
        await expect_stream_error(raw, condition)
    finally:
        raw.close()
    await exchange(a, b)
    await exchange(b, a)
    await assert_service_works(server, clients)


async def test_bad_input_after_tls(server, clients):
    """The same parser guards TLS streams: not-well-formed after STARTTLS."""
    raw = await Raw.open(server.port)
    try:
        await raw.starttls()
        raw.mark()
        await raw.send(b"<iq><body></iq>")
        # the new stream's header came with the features; the error follows
        await raw.read_until(rb"not-well-formed")
        await raw.read_until_close()
    finally:
        raw.close()
    await assert_service_works(server, clients)


async def test_bad_input_from_bound_session(server, clients):
    """A logged-in client sending garbage loses its own stream only."""
    a = await clients.login(server, server.new_user(), resource="bad")
    b = await clients.login(server, server.new_user(), resource="good")
    c = await clients.login(server, server.new_user(), resource="good")
    a.send_raw("<message><body></message>")
    await a.wait_closed()
    assert a.stream_errors == ["not-well-formed"], a.stream_errors
    await exchange(b, c)
    await exchange(c, b)


async def test_stanza_split_into_single_bytes(server, clients):
    """Byte-at-a-time delivery (a slow or hostile client) still parses:
    a multi-byte UTF-8 character split across reads is not an error."""
    raw = await Raw.open(server.port)
    try:
        hdr = HEADER.replace(b"version", b"xml:lang='\xc3\xa9' version")
        for i in range(len(hdr)):
            await raw.send(hdr[i:i + 1])
        await raw.read_until(rb"<starttls\b")
        assert not raw.eof
    finally:
        raw.close()


@pytest.fixture(scope="module")
def small_server(tmp_path_factory, cert):
    from conftest import ServerFactory
    f = ServerFactory(tmp_path_factory, cert)
    yield f(max_stanza_size="16K")
    f.close()


async def test_oversized_element_before_auth(small_server, clients):
    """max-stanza-size applies to every top-level element, also before
    authentication: the element is never finished, so only its size can
    be the reason for the error."""
    raw = await Raw.open(small_server.port)
    try:
        await raw.send(HEADER + b"<iq to='x@localhost'><body>")
        await raw.send(b"a" * (20 * 1024))
        await expect_stream_error(raw, "policy-violation")
    finally:
        raw.close()
    await assert_service_works(small_server, clients)


async def test_oversized_attribute_before_auth(small_server):
    raw = await Raw.open(small_server.port)
    try:
        await raw.send(HEADER + b"<message to='" + b"b" * (20 * 1024))
        await expect_stream_error(raw, "policy-violation")
    finally:
        raw.close()


async def test_oversized_stanza_after_auth(small_server, clients):
    """A bound session sending a stanza over the limit gets
    policy-violation; the peer it was writing to is unaffected."""
    a = await clients.login(small_server, small_server.new_user(),
                            resource="big")
    b = await clients.login(small_server, small_server.new_user(),
                            resource="peer")
    a.send_raw("<message to='%s' type='chat'><body>%s</body></message>"
               % (b.boundjid.full, "x" * (20 * 1024)))
    await a.wait_closed()
    assert a.stream_errors == ["policy-violation"], a.stream_errors
    await b.quiet(0.5)
    c = await clients.login(small_server, small_server.new_user(),
                            resource="c")
    await exchange(c, b)


async def test_stanza_just_under_limit(small_server, clients):
    """A stanza comfortably below max-stanza-size is delivered."""
    a = await clients.login(small_server, small_server.new_user(),
                            resource="a")
    b = await clients.login(small_server, small_server.new_user(),
                            resource="b")
    body = "y" * (12 * 1024)
    a.send_raw("<message to='%s' type='chat'><body>%s</body></message>"
               % (b.boundjid.full, body))
    msg = await b.next_message()
    assert msg["body"] == body


async def test_negotiation_timeout(make_server, clients):
    srv = make_server(negotiation_timeout="2")
    raw = await Raw.open(srv.port)
    try:
        await raw.send(HEADER)
        await raw.read_until(rb"</stream:features>")
        t0 = asyncio.get_running_loop().time()
        await expect_stream_error(raw, "connection-timeout", timeout=10 * SLOW)
        waited = asyncio.get_running_loop().time() - t0
        assert waited >= 1.0, "closed after only %.1fs" % waited
    finally:
        raw.close()
    # a client that does negotiate in time is not affected, and a bound
    # session outlives the negotiation deadline
    a = await clients.login(srv, srv.new_user(), resource="a")
    b = await clients.login(srv, srv.new_user(), resource="b")
    await asyncio.sleep(3)
    await exchange(a, b)
    r = await a.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN)
    assert r["type"] == "result"


async def test_negotiation_timeout_silent_client(make_server):
    """A client that connects and sends nothing at all is also cut off."""
    srv = make_server(negotiation_timeout="2")
    raw = await Raw.open(srv.port)
    try:
        t0 = asyncio.get_running_loop().time()
        data = await raw.read_until_close(timeout=10 * SLOW)
        waited = asyncio.get_running_loop().time() - t0
        # closed by the deadline (2 s), not at once
        assert waited >= 1.0, "closed after only %.1fs: %r" % (waited, data)
        # a stream error is optional here (no stream was opened), but if
        # one is sent it must be connection-timeout
        if b"error" in data:
            assert b"connection-timeout" in data, data
    finally:
        raw.close()
