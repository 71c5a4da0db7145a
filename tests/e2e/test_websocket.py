"""
XMPP over WebSocket (RFC 7395) on the c2s HTTP listener: the upgrade,
login (SASL PLAIN, bind) and messages to and from a TCP client, and the
bad input of issue 16 (bad masks, reserved opcodes, oversized frames, a
stream that never sends <open/>). Frames are made by hand.
"""
import asyncio
import base64
import hashlib
import os
import re
import struct

import pytest

from conftest import DOMAIN, STANZA_TIMEOUT, uniq
from webhelp import auth_plain, bind_iq, bound_jid, web_server

NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
OPEN = "<open xmlns='%s' to='%s' version='1.0'/>" % (NS_FRAMING, DOMAIN)


class WS:
    """A WebSocket client whose frames are made by hand (RFC 6455 5)."""

    def __init__(self, r, w):
        self.r, self.w = r, w
        self.closed = None     # the close code, once a close came

    @classmethod
    async def connect(cls, port, protocol="xmpp", origin=None,
                      expect=101):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET /xmpp-websocket HTTP/1.1\r\nHost: localhost:%d\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               % (port, key))
        if protocol:
            req += "Sec-WebSocket-Protocol: %s\r\n" % protocol
        if origin:
            req += "Origin: %s\r\n" % origin
        w.write((req + "\r\n").encode())
        head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"),
                                      STANZA_TIMEOUT)
        status = int(head.split(b" ")[1])
        assert status == expect, head
        ws = cls(r, w)
        if expect == 101:
            want = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                .digest())
            assert b"Sec-WebSocket-Accept: " + want in head, head
            assert b"Sec-WebSocket-Protocol: xmpp" in head, head
        return ws, head

    def frame(self, payload, opcode=1, mask=True, fin=True, rsv=0,
              length=None):
        if isinstance(payload, str):
            payload = payload.encode()
        n = len(payload) if length is None else length
        b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
        if n < 126:
            hdr = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
        if mask:
            k = os.urandom(4)
            payload = bytes(c ^ k[i % 4] for i, c in enumerate(payload))
            hdr += k
        return hdr + payload

    async def send(self, text, **kw):
        self.w.write(self.frame(text, **kw))
        await self.w.drain()

    async def recv(self, timeout=STANZA_TIMEOUT):
        """(opcode, payload) of the next frame; answers pings."""
        while True:
            h = await asyncio.wait_for(self.r.readexactly(2), timeout)
            op, n = h[0] & 0x0f, h[1] & 0x7f
            assert not h[1] & 0x80, "a server frame is masked"
            if n == 126:
                n = struct.unpack("!H", await self.r.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", await self.r.readexactly(8))[0]
            data = await self.r.readexactly(n)
            if op == 9:
                await self.send(data, opcode=10)
                continue
            if op == 8:
                self.closed = struct.unpack("!H", data[:2])[0] \
                    if len(data) >= 2 else 0
            return op, data

    async def text(self, timeout=STANZA_TIMEOUT):
        op, data = await self.recv(timeout)
        assert op == 1, "expected a text message, got opcode %d %r" % (
            op, data)
        return data.decode()

    async def until(self, pattern, timeout=STANZA_TIMEOUT):
        while True:
            t = await self.text(timeout)
            if re.search(pattern, t):
                return t

    async def close_code(self, timeout=STANZA_TIMEOUT):
        """Reads until the server's close frame; its code."""
        while True:
            op, data = await self.recv(timeout)
            if op == 8:
                return self.closed

    async def eof(self, timeout=STANZA_TIMEOUT):
        data = await asyncio.wait_for(self.r.read(), timeout)
        return data


async def ws_login(port, user, resource="web"):
    ws, _ = await WS.connect(port)
    await ws.send(OPEN)
    t = await ws.text()
    assert t.startswith("<open ") and NS_FRAMING in t, t
    feats = await ws.text()
    assert "<stream:features xmlns:stream=" in feats, feats
    assert "PLAIN" in feats and "starttls" not in feats, feats
    await ws.send(auth_plain(user))
    assert "<success" in await ws.text()
    await ws.send(OPEN)
    assert (await ws.text()).startswith("<open ")
    feats = await ws.text()
    assert "urn:ietf:params:xml:ns:xmpp-bind" in feats, feats
    await ws.send(bind_iq(resource))
    t = await ws.until(r"id='b1'")
    assert "type='result'" in t and "xmlns='jabber:client'" in t, t
    return ws, bound_jid(t)


async def test_login_and_messages_with_a_tcp_client(make_server, clients):
    srv = web_server(make_server)
    a, b = srv.new_user("wa"), srv.new_user("wb")
    ws, jid = await ws_login(srv.http_port, a)
    assert jid == a.jid + "/web"
    tcp = await clients.login(srv, b)
    body = uniq("hello")
    await ws.send("<message to='%s' type='chat' id='m1'><body>%s</body>"
                  "</message>" % (tcp.boundjid, body))
    m = await tcp.next_message()
    assert m["body"] == body and str(m["from"]) == jid
    reply = uniq("back")
    tcp.chat(jid, reply)
    t = await ws.until(reply)
    # RFC 7395 3.3.3: each message stands alone, namespace included
    assert t.startswith("<message") and "xmlns='jabber:client'" in t, t
    # <close/> ends the stream: <close/> back, then the WebSocket close
    await ws.send("<close xmlns='%s'/>" % NS_FRAMING)
    assert (await ws.until(r"<close ")).startswith("<close")
    assert await ws.close_code() == 1000


async def test_stream_management_over_websocket(make_server):
    srv = web_server(make_server)
    a = srv.new_user("wsm")
    ws, _ = await ws_login(srv.http_port, a)
    await ws.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
    assert "<enabled" in await ws.until(r"<enabled")
    await ws.send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/>"
                  "</iq>")
    await ws.until(r"id='p1'")
    await ws.send("<r xmlns='urn:xmpp:sm:3'/>")
    t = await ws.until(r"<a ")
    assert "h='1'" in t, t


async def test_host_meta_advertises_websocket_and_bosh(make_server):
    srv = web_server(make_server)
    r, w = await asyncio.open_connection("127.0.0.1", srv.http_port)
    w.write(b"GET /.well-known/host-meta HTTP/1.1\r\nHost: localhost:%d"
            b"\r\n\r\n" % srv.http_port)
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 5)
    n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    body = (await r.readexactly(n)).decode()
    assert b" 200 " in head and b"Access-Control-Allow-Origin: *" in head
    assert ("ws://localhost:%d/xmpp-websocket" % srv.http_port) in body
    assert ("http://localhost:%d/http-bind" % srv.http_port) in body
    w.write(b"GET /.well-known/host-meta.json HTTP/1.1\r\nHost: localhost"
            b"\r\n\r\n")
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 5)
    n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    body = (await r.readexactly(n)).decode()
    assert "urn:xmpp:alt-connections:websocket" in body, body
    # per host: another name has none
    w.write(b"GET /.well-known/host-meta HTTP/1.1\r\nHost: example.net"
            b"\r\n\r\n")
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 5)
    assert b" 404 " in head, head
    w.close()


async def test_upgrade_without_xmpp_protocol_is_refused(make_server):
    srv = web_server(make_server)
    await WS.connect(srv.http_port, protocol="chat", expect=400)
    await WS.connect(srv.http_port, protocol=None, expect=400)


async def test_origin_not_allowed(make_server):
    srv = web_server(make_server, http_origins="https://good.example")
    await WS.connect(srv.http_port, origin="https://evil.example",
                     expect=403)
    ws, _ = await WS.connect(srv.http_port, origin="https://good.example")
    await ws.send(OPEN)
    assert (await ws.text()).startswith("<open ")


async def test_origins_list_takes_commas_and_any_case(make_server):
    # one list syntax for the option lists and header lists (http.c)
    srv = web_server(make_server,
                     http_origins="https://a.example,https://good.example")
    await WS.connect(srv.http_port, origin="https://evil.example",
                     expect=403)
    ws, _ = await WS.connect(srv.http_port, origin="https://GOOD.example")
    await ws.send(OPEN)
    assert (await ws.text()).startswith("<open ")


@pytest.mark.parametrize("how", ["unmasked", "reserved-opcode", "rsv-bits"])
async def test_bad_frames_close_with_protocol_error(make_server, how):
    srv = web_server(make_server)
    ws, _ = await WS.connect(srv.http_port)
    if how == "unmasked":
        await ws.send(OPEN, mask=False)
    elif how == "reserved-opcode":
        await ws.send(OPEN, opcode=3)
    else:
        await ws.send(OPEN, rsv=4)
    # RFC 6455 7.4.1: 1002 protocol error
    assert await ws.close_code() == 1002
    await ws.eof()


async def test_oversized_message_closes_with_1009(make_server):
    srv = web_server(make_server, max_stanza_size="16K")
    ws, _ = await WS.connect(srv.http_port)
    await ws.send(OPEN)
    await ws.text()
    await ws.text()
    # only the header of a huge frame: refused before its payload comes
    ws.w.write(ws.frame(b"", length=1 << 30) + b"x" * 20000)
    await ws.w.drain()
    assert await ws.close_code() == 1009


async def test_binary_message_is_refused(make_server):
    srv = web_server(make_server)
    ws, _ = await WS.connect(srv.http_port)
    await ws.send(OPEN, opcode=2)
    assert await ws.close_code() == 1003


async def test_no_open_gets_a_stream_error(make_server):
    srv = web_server(make_server)
    ws, _ = await WS.connect(srv.http_port)
    await ws.send("<iq type='get' id='x'><ping xmlns='urn:xmpp:ping'/></iq>")
    t = await ws.until(r"stream:error")
    assert "stream:error" in t
    assert (await ws.until(r"<close ")).startswith("<close")


async def test_silent_websocket_times_out(make_server):
    srv = web_server(make_server, negotiation_timeout="2")
    ws, _ = await WS.connect(srv.http_port)
    t = await ws.until(r"stream:error", timeout=10)
    assert "connection-timeout" in t, t


async def test_malformed_open(make_server):
    srv = web_server(make_server)
    ws, _ = await WS.connect(srv.http_port)
    await ws.send("<open xmlns='%s' to='localhost'" % NS_FRAMING)
    t = await ws.until(r"stream:error")
    assert "not-well-formed" in t, t


@pytest.mark.parametrize("message", [
    # the rest of the stanza would come in the next message
    "<message to='x@localhost' type='chat'><body>hi",
    "<message to='x@localhost' type='chat'><body>hi</body></message>"
    "<presence/>",
])
async def test_one_whole_element_per_message(make_server, message):
    """RFC 7395 3.3.3: each message is one complete element; a part of
    one, or two, is a stream error. Whitespace alone is let through."""
    srv = web_server(make_server)
    ws, _ = await ws_login(srv.http_port, srv.new_user("w"))
    await ws.send(" \n")
    await ws.send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/>"
                  "</iq>")
    assert "type='result'" in await ws.until(r"id='p1'")
    await ws.send(message)
    t = await ws.until(r"stream:error")
    assert "not-well-formed" in t and "RFC 7395" in t, t
    assert (await ws.until(r"<close ")).startswith("<close")


async def test_ping_is_answered(make_server):
    srv = web_server(make_server)
    ws, _ = await WS.connect(srv.http_port)
    await ws.send(b"abc", opcode=9)
    op, data = await ws.recv()
    assert op == 10 and data == b"abc"


async def test_silent_client_is_pinged_then_dropped(make_server):
    srv = web_server(make_server, websocket_ping_interval="1")
    ws, _ = await WS.connect(srv.http_port)
    # read frames by hand: a ping, unanswered, then the end
    h = await asyncio.wait_for(ws.r.readexactly(2), 5)
    assert h[0] & 0x0f == 9, h
    await ws.r.readexactly(h[1] & 0x7f)
    data = await asyncio.wait_for(ws.r.read(), 5)
    assert ws.r.at_eof(), data


async def test_answered_pings_keep_it_open(make_server):
    srv = web_server(make_server, websocket_ping_interval="1")
    ws, _ = await WS.connect(srv.http_port)
    await ws.send(OPEN)
    await ws.text()
    await ws.text()
    # recv() answers each ping; the stream is still there after 3 s
    loop = asyncio.get_running_loop()
    end = loop.time() + 3
    while loop.time() < end:
        try:
            await ws.recv(timeout=0.5)
        except asyncio.TimeoutError:
            pass
    await ws.send("<iq type='get' id='q'><ping xmlns='urn:xmpp:ping'/></iq>")
    # answered (or refused before authentication): the stream is alive
    await ws.until(r"stream:error|id='q'")


@pytest.mark.one_host("a per-c2s-process count (docs/hardening.md):"
                      " its connections must reach one process")
async def test_one_websocket_counts_once_per_address(make_server):
    # the limit is per c2s process, and every one serves HTTP
    srv = web_server(make_server, workers=1, c2s_max_per_address="1")
    ws, _ = await WS.connect(srv.http_port)
    await ws.send(OPEN)
    assert (await ws.text()).startswith("<open ")
    assert "<stream:features" in await ws.text()
    # the address's one connection is taken by that stream
    await WS.connect(srv.http_port, expect=503)
