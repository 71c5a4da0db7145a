"""
The c2s HTTP listener (c2s/http.c): status codes for malformed and
oversized requests, chunked abuse, slow senders, keep-alive limits,
paths with dot segments or encoded separators, and HTTPS with SNI.
"""
import asyncio
import re
import ssl
import time

import pytest

from webhelp import web_server

TIMEOUT = 10


async def exchange(port, data, tls=False):
    """Sends data; returns everything until the server closes (or 10 s)."""
    ctx = None
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                         server_hostname="localhost"
                                         if tls else None)
    w.write(data)
    await w.drain()
    try:
        out = await asyncio.wait_for(r.read(), TIMEOUT)
    finally:
        w.close()
    return out


def statuses(data):
    return [int(s) for s in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]


HM = b"GET /.well-known/host-meta HTTP/1.1\r\nHost: localhost\r\n"


BAD = [
    (b"GARBAGE\r\n\r\n", 501),
    (b"GET /\r\n\r\n", 505),                             # HTTP/0.9
    (b"GET / HTTP/2.0\r\nHost: localhost\r\n\r\n", 505),
    (b"GET / HTTP/1.1\r\n\r\n", 400),                    # no Host
    (b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    (b"GET /nothing HTTP/1.1\r\nHost: localhost\r\n"
     b"Connection: close\r\n\r\n", 404),
    (b"GET /a/../.well-known/host-meta HTTP/1.1\r\nHost: localhost\r\n\r\n",
     400),
    (b"GET /.well-known%2fhost-meta HTTP/1.1\r\nHost: localhost\r\n\r\n",
     400),
    (b"GET /.well-known%5Chost-meta HTTP/1.1\r\nHost: localhost\r\n\r\n",
     400),
    (b"GET /%2e%2e/x HTTP/1.1\r\nHost: localhost\r\n\r\n", 400),
    (b"GET /x%00 HTTP/1.1\r\nHost: localhost\r\n\r\n", 400),
    (b"GET /x%zz HTTP/1.1\r\nHost: localhost\r\n\r\n", 400),
    (b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nX: " + b"a" * 10000 +
     b"\r\n\r\n", 431),
    (b"POST /http-bind HTTP/1.1\r\nHost: localhost\r\n\r\n", 411),
    (b"POST /http-bind HTTP/1.1\r\nHost: localhost\r\n"
     b"Content-Length: 99999999\r\n\r\n", 413),
    (b"POST /http-bind HTTP/1.1\r\nHost: localhost\r\n"
     b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400),
    (b"POST /http-bind HTTP/1.1\r\nHost: localhost\r\n"
     b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
     400),
    (b"POST /http-bind HTTP/1.1\r\nHost: localhost\r\n"
     b"Transfer-Encoding: gzip\r\n\r\n", 501),
    (b"POST /http-bind HTTP/1.1\r\nHost: localhost\r\n"
     b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"POST /http-bind HTTP/1.1\r\nHost: localhost\r\n"
     b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n", 400),
    (b"POST /http-bind HTTP/1.1\r\nHost: localhost\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n" +
     b"".join(b"4000\r\n" + b"a" * 0x4000 + b"\r\n" for _ in range(20)),
     413),
    (b"DELETE /.well-known/host-meta HTTP/1.1\r\nHost: localhost\r\n"
     b"Connection: close\r\n\r\n", 405),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nBad\x01Header: x\r\n\r\n",
     400),
    # XEP-0156: a host we do not serve has no connection methods
    (b"GET /.well-known/host-meta HTTP/1.1\r\nHost: other.example\r\n"
     b"Connection: close\r\n\r\n", 404),
    # the Host goes into host-meta's URLs: a name, an address, a port
    (b"GET /.well-known/host-meta HTTP/1.1\r\nHost: local'host\r\n\r\n",
     400),
]


@pytest.mark.parametrize("req,status", BAD,
                         ids=["bad%d" % i for i in range(len(BAD))])
async def test_bad_requests(make_server, req, status):
    srv = web_server(make_server, https=True, http_max_body_size="64K")
    got = await exchange(srv.http_port, req)
    assert statuses(got)[:1] == [status], got[:300]


async def test_keepalive_and_pipelining(make_server):
    srv = web_server(make_server, https=True, http_keepalive_requests="3")
    got = await exchange(srv.http_port, (HM + b"\r\n") * 5)
    # three answered, the third says close, the rest is not read
    assert statuses(got) == [200, 200, 200], got
    assert got.count(b"Connection: keep-alive") == 2
    assert got.count(b"Connection: close") == 1


async def test_http10_closes(make_server):
    srv = web_server(make_server, https=True)
    got = await exchange(srv.http_port, b"GET /.well-known/host-meta "
                         b"HTTP/1.0\r\nHost: localhost\r\n\r\n")
    assert statuses(got) == [200] and b"Connection: close" in got


async def test_redirect_and_not_modified_have_their_reason(make_server,
                                                          tmp_path):
    # RFC 9112 4: the status line's reason phrase is the status's own
    (tmp_path / "index.html").write_text("<p>hi</p>")
    srv = web_server(make_server, http_static_dir=str(tmp_path))
    end = b"Host: localhost\r\nConnection: close\r\n\r\n"
    got = await exchange(srv.http_port, b"GET /chat HTTP/1.1\r\n" + end)
    assert got.startswith(b"HTTP/1.1 301 Moved Permanently\r\n"), got
    got = await exchange(srv.http_port, b"GET /chat/ HTTP/1.1\r\n" + end)
    etag = re.search(rb"ETag: (\S+)\r\n", got).group(1)
    got = await exchange(srv.http_port, b"GET /chat/ HTTP/1.1\r\n"
                         b"If-None-Match: " + etag + b"\r\n" + end)
    assert got.startswith(b"HTTP/1.1 304 Not Modified\r\n"), got


async def test_slow_sender_gets_408(make_server):
    srv = web_server(make_server, https=True, http_request_timeout="2")
    r, w = await asyncio.open_connection("127.0.0.1", srv.http_port)
    t0 = time.monotonic()
    w.write(b"GET /.well-known/host-meta HTTP/1.1\r\n")
    await w.drain()
    # a header byte every half second: the whole request has a deadline
    got = b""
    for c in b"Host: localhost\r\n":
        try:
            got += await asyncio.wait_for(r.read(1000), 0.5)
        except asyncio.TimeoutError:
            pass
        if got:
            break
        w.write(bytes([c]))
        await w.drain()
    assert statuses(got) == [408], got
    assert time.monotonic() - t0 < 6
    w.close()


async def test_idle_keepalive_closes_silently(make_server):
    srv = web_server(make_server, https=True, http_keepalive_timeout="1")
    r, w = await asyncio.open_connection("127.0.0.1", srv.http_port)
    w.write(HM + b"\r\n")
    got = await asyncio.wait_for(r.read(), TIMEOUT)
    assert statuses(got) == [200], got
    w.close()


async def test_https_with_sni(make_server):
    srv = web_server(make_server, https=True)
    got = await exchange(srv.https_port, HM + b"Connection: close\r\n\r\n",
                         tls=True)
    assert statuses(got) == [200], got
    assert b"wss://localhost/xmpp-websocket" in got
    assert b"https://localhost/http-bind" in got


async def test_trusted_proxy(make_server):
    srv = web_server(make_server, https=True, http_trusted_proxies="127.0.0.1")
    got = await exchange(srv.http_port, HM + b"X-Forwarded-For: 192.0.2.7"
                         b"\r\nConnection: close\r\n\r\n")
    # the proxy terminates TLS: the URLs it advertises are secure
    assert b"wss://localhost/xmpp-websocket" in got, got


async def test_cors_preflight(make_server):
    srv = web_server(make_server, https=True)
    got = await exchange(srv.http_port, b"OPTIONS /.well-known/host-meta "
                         b"HTTP/1.1\r\nHost: localhost\r\nOrigin: "
                         b"https://x.example\r\nConnection: close\r\n\r\n")
    assert statuses(got) == [204], got
    assert b"Access-Control-Allow-Origin: *" in got


@pytest.mark.one_host("a per-c2s-process count (docs/hardening.md):"
                      " its connections must reach one process")
async def test_connections_per_address(make_server):
    # the limit is per c2s process, and every one serves HTTP
    srv = web_server(make_server, https=True, workers=1,
                     c2s_max_per_address="2")
    held = []
    for _ in range(2):
        held.append(await asyncio.open_connection("127.0.0.1",
                                                  srv.http_port))
    got = await exchange(srv.http_port, HM + b"\r\n")
    assert statuses(got) == [503], got
    for r, w in held:
        w.close()
    await asyncio.sleep(0.5)
    got = await exchange(srv.http_port, HM + b"Connection: close\r\n\r\n")
    assert statuses(got) == [200], got


async def test_trusted_proxy_is_not_limited(make_server):
    srv = web_server(make_server, https=True, workers=1,
                     c2s_max_per_address="1",
                     http_trusted_proxies="127.0.0.1")
    r1, w1 = await asyncio.open_connection("127.0.0.1", srv.http_port)
    got = await exchange(srv.http_port, HM + b"Connection: close\r\n\r\n")
    assert statuses(got) == [200], got
    w1.close()
