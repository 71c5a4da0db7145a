"""
HTTP file upload (XEP-0363): upload.DOMAIN in disco with its maximum
size, slot requests and their errors (file too large, the quotas, bad
names), the PUT checked against its signed slot (forged, expired, other
type, other size), the GET's headers, paths that try to leave the
directory, an upload in progress never served, and expiry.

slixmpp's xep_0363 plugin needs aiohttp, which the test machine lacks:
the slot requests are raw IQs and the HTTP side is http.client; the
slot's <header/> elements are read with the plugin's own stanzas and
sent as its upload_file sends them.
"""
import asyncio
import http.client
import os
import re
import signal
import time
import urllib.parse

import pytest

from conftest import (DOMAIN, SLOW, User, disco_service, free_port,
                      stanza_error, uniq)

NS_UP = "urn:xmpp:http:upload:0"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_X = "jabber:x:data"
UPLOAD = "upload." + DOMAIN


def upload_server(make_server, tmp, host_opts=None, hosts=(), **kw):
    port = free_port()
    opts = dict(http_listen="127.0.0.1:%d" % port,
                upload_dir=str(tmp / "upload"),
                upload_url="http://127.0.0.1:%d/upload" % port,
                upload_max_file_size="64K")
    opts.update(kw)
    srv = make_server(host_options={DOMAIN: dict({"upload": "yes"},
                                                 **(host_opts or {}))},
                      hosts=hosts, **opts)
    srv.http_port = port
    srv.upload_dir = str(tmp / "upload")
    return srv


async def slot(c, name, size, ctype=None):
    extra = " content-type='%s'" % ctype if ctype else ""
    return await c.iq("<request xmlns='%s' filename='%s' size='%s'%s/>"
                      % (NS_UP, name, size, extra), to=UPLOAD)


def bearer(r):
    """The token of a slot's Authorization header."""
    h = r.xml.find("{%s}slot/{%s}put/{%s}header" % (NS_UP, NS_UP, NS_UP))
    assert h is not None and h.get("name") == "Authorization", str(r)
    scheme, tok = h.text.split(" ")
    assert scheme == "Bearer", str(r)
    return tok


async def good_slot(c, name, size, ctype=None):
    """The PUT URL in the form slots had before their Authorization
    header, the token as the query (still accepted, and the form most
    tests here use), and the GET URL."""
    r = await slot(c, name, size, ctype)
    assert r["type"] == "result", str(r)
    put = r.xml.find("{%s}slot/{%s}put" % (NS_UP, NS_UP)).get("url")
    get = r.xml.find("{%s}slot/{%s}get" % (NS_UP, NS_UP)).get("url")
    return put + "?" + bearer(r), get


def stored(srv):
    """upload-dir without the workers' lock files (".lock.TAG")."""
    return [n for n in os.listdir(srv.upload_dir)
            if not n.startswith(".lock.")]


def request(srv, method, url, body=None, headers=None):
    """One request on its own connection; (status, headers, body)."""
    u = urllib.parse.urlsplit(url)
    target = u.path + ("?" + u.query if u.query else "")
    conn = http.client.HTTPConnection("127.0.0.1", srv.http_port,
                                      timeout=10)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


async def ahttp(srv, *a, **kw):
    return await asyncio.get_running_loop().run_in_executor(
        None, lambda: request(srv, *a, **kw))


def cond(r, name):
    assert r["type"] == "error", str(r)
    return r.xml.find("{jabber:client}error/{%s}%s" % (NS_UP, name))


# ---------------------------------------------------------------------------

async def test_disco(make_server, clients, tmp_path):
    srv = upload_server(make_server, tmp_path)
    c = await clients.login(srv, srv.new_user(), resource="d")
    r, ids, feats = await disco_service(c, UPLOAD)
    assert ids == [("store", "file")], str(r)
    assert NS_UP in feats, str(r)
    fields = {f.get("var"): f.findtext("{%s}value" % NS_X)
              for f in r.xml.iter("{%s}field" % NS_X)}
    assert fields.get("FORM_TYPE") == NS_UP, str(r)
    assert fields.get("max-file-size") == str(64 * 1024), str(r)


async def test_no_upload_without_option(make_server, clients):
    srv = make_server()
    c = await clients.login(srv, srv.new_user(), resource="d")
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_ITEMS, to=DOMAIN)
    jids = [i.get("jid") for i in r.xml.iter("{%s}item" % NS_DISCO_ITEMS)]
    assert UPLOAD not in jids, str(r)


async def test_put_get(make_server, clients, tmp_path):
    srv = upload_server(make_server, tmp_path)
    c = await clients.login(srv, srv.new_user(), resource="u")
    data = os.urandom(40000)
    put, get = await good_slot(c, "a picture é.png", len(data),
                               "image/png")
    assert "%C3%A9" in get and " " not in get, get
    assert put.startswith(get + "?"), (put, get)
    # not there before the PUT
    assert (await ahttp(srv, "GET", get))[0] == 404
    st, h, _ = await ahttp(srv, "PUT", put, data,
                           {"Content-Type": "image/png"})
    assert st == 201, (st, h)
    st, h, body = await ahttp(srv, "GET", get)
    assert st == 200 and body == data, (st, h, len(body))
    assert h["Content-Type"] == "image/png", h
    assert h["Content-Length"] == str(len(data)), h
    assert h["Access-Control-Allow-Origin"] == "*", h
    assert re.match(r"public, max-age=\d+, immutable$",
                    h["Cache-Control"]), h
    assert h["X-Content-Type-Options"] == "nosniff", h
    st, h, body = await ahttp(srv, "HEAD", get)
    assert st == 200 and body == b"" and \
        h["Content-Length"] == str(len(data)), (st, h)
    st, h, _ = await ahttp(srv, "OPTIONS", put)
    assert st == 204 and "PUT" in h["Access-Control-Allow-Methods"], h
    # a slot is used once
    st, _, _ = await ahttp(srv, "PUT", put, data,
                           {"Content-Type": "image/png"})
    assert st == 409, st
    # the GET URL names the file as the slot did
    u = urllib.parse.urlsplit(get)
    other = get.rsplit("/", 1)[0] + "/other.png"
    assert (await ahttp(srv, "GET", other))[0] == 404
    assert u.path.count("/") == 3
    # stored in upload-dir under the slot's id, nothing else left there
    names = stored(srv)
    assert names == [u.path.split("/")[2]], names


def slixmpp_put_headers(r, size, ctype):
    """The headers slixmpp's xep_0363 upload_file sends with a slot's PUT
    (its plugin module imports aiohttp; its stanzas do not)."""
    import importlib.util
    import slixmpp
    from slixmpp.xmlstream import register_stanza_plugin
    spec = importlib.util.spec_from_file_location(
        "xep_0363_stanza", os.path.join(os.path.dirname(slixmpp.__file__),
                                        "plugins", "xep_0363", "stanza.py"))
    st = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(st)
    iq = slixmpp.Iq(xml=r.xml)
    register_stanza_plugin(slixmpp.Iq, st.Slot)
    register_stanza_plugin(st.Slot, st.Put)
    register_stanza_plugin(st.Put, st.Header, iterable=True)
    s = slixmpp.Iq(xml=iq.xml)["http_upload_slot"]
    return s["put"]["url"], {
        "Content-Length": str(size), "Content-Type": ctype,
        **{h["name"]: h["value"] for h in s["put"]["headers"]}}


async def test_put_header_token(make_server, clients, tmp_path):
    """The slot's secret is an Authorization header (XEP-0363 5), not in
    the PUT URL, which is the GET URL: slixmpp's headers upload; no
    token at all is 401 with WWW-Authenticate, a bad one 403 (the header
    wins over a query); the scheme's case and spaces do not matter."""
    srv = upload_server(make_server, tmp_path)
    c = await clients.login(srv, srv.new_user(), resource="u")
    data = os.urandom(3000)
    r = await slot(c, "h.txt", len(data), "text/plain")
    assert r["type"] == "result", str(r)
    get = r.xml.find("{%s}slot/{%s}get" % (NS_UP, NS_UP)).get("url")
    tok = bearer(r)
    url, headers = slixmpp_put_headers(r, len(data), "text/plain")
    assert url == get and "?" not in url and tok not in url, (url, get)
    assert headers["Authorization"] == "Bearer " + tok, headers
    ct = {"Content-Type": "text/plain"}
    st, h, _ = await ahttp(srv, "PUT", url, data, ct)
    assert st == 401 and h.get("WWW-Authenticate") == "Bearer", (st, h)
    bad = tok[:-1] + ("0" if tok[-1] != "0" else "1")
    for auth in ("Bearer " + bad, "Basic " + tok, "Bearer"):
        st, _, _ = await ahttp(srv, "PUT", url, data,
                               dict(ct, Authorization=auth))
        assert st == 403, (auth, st)
    st, _, _ = await ahttp(srv, "PUT", url + "?" + tok, data,
                           dict(ct, Authorization="Bearer " + bad))
    assert st == 403, st
    assert stored(srv) == []
    st, _, _ = await ahttp(srv, "PUT", url, data, headers)
    assert st == 201, st
    st, h, body = await ahttp(srv, "GET", get)
    assert st == 200 and body == data and h["Content-Type"] == "text/plain"
    r = await slot(c, "i.txt", 10)
    st, _, _ = await ahttp(srv, "PUT", r.xml.find(
        "{%s}slot/{%s}put" % (NS_UP, NS_UP)).get("url"), b"0123456789",
        {"Authorization": "  bEaReR \t " + bearer(r)})
    assert st == 201, st


async def test_bad_put(make_server, clients, tmp_path):
    srv = upload_server(make_server, tmp_path, upload_slot_lifetime="1")
    c = await clients.login(srv, srv.new_user(), resource="u")
    data = b"x" * 1000
    put, get = await good_slot(c, "f.txt", len(data), "text/plain")
    ct = {"Content-Type": "text/plain"}
    # forged: one digit of the MAC changed, or the size raised
    i = len(put) - 1
    forged = put[:i] + ("0" if put[i] != "0" else "1")
    assert (await ahttp(srv, "PUT", forged, data, ct))[0] == 403
    exp, size, mac = urllib.parse.urlsplit(put).query.split("-")
    bigger = put.split("?")[0] + "?%s-%d-%s" % (exp, 2000, mac)
    assert (await ahttp(srv, "PUT", bigger, b"x" * 2000, ct))[0] == 403
    # no token, another type
    # no token at all (RFC 9110 15.5.2)
    assert (await ahttp(srv, "PUT", get, data, ct))[0] == 401
    assert (await ahttp(srv, "PUT", put, data,
                        {"Content-Type": "text/html"}))[0] == 403
    # another size: larger than the slot, smaller
    assert (await ahttp(srv, "PUT", put, data + b"y", ct))[0] == 413
    assert (await ahttp(srv, "PUT", put, data[:-1], ct))[0] == 400
    # paths out of the directory
    for p in ("/upload/../data/upload-secret", "/upload/%2e%2e/x",
              "/upload/x%2f..%2fy", "/upload/a%5cb"):
        st = (await ahttp(srv, "PUT", "http://h" + p + "?1-1-x", b"x",
                          ct))[0]
        assert st in (400, 404), (p, st)
        st = (await ahttp(srv, "GET", "http://h" + p))[0]
        assert st in (400, 404), (p, st)
    # nothing got written by any of that
    assert (await ahttp(srv, "GET", get))[0] == 404
    assert stored(srv) == []
    # expired
    await asyncio.sleep(2.2)
    assert (await ahttp(srv, "PUT", put, data, ct))[0] == 403
    assert "expired token" in srv.log_text()


async def test_slot_errors(make_server, clients, tmp_path):
    srv = upload_server(make_server, tmp_path, upload_quota_daily="100K",
                        upload_max_file_size="60K")
    c = await clients.login(srv, srv.new_user(), resource="u")
    r = await slot(c, "big.bin", 60 * 1024 + 1)
    el = cond(r, "file-too-large")
    assert stanza_error(r)[1] == "not-acceptable", str(r)
    assert el is not None and \
        el.findtext("{%s}max-file-size" % NS_UP) == str(60 * 1024), str(r)
    for name, size in (("a/b", 1), ("..", 1), ("ok", "-1"), ("ok", "x"),
                       ("", 1)):
        r = await slot(c, name, size)
        assert stanza_error(r)[1] == "bad-request", (name, size, str(r))
    r = await c.iq("<request xmlns='%s' filename='x'/>" % NS_UP, to=UPLOAD)
    assert stanza_error(r)[1] == "bad-request", str(r)
    # the daily quota: 100K in two slots of 50K, the third refused
    await good_slot(c, "1", 50 * 1024)
    await good_slot(c, "2", 50 * 1024)
    r = await slot(c, "3", 1)
    assert stanza_error(r)[1] == "resource-constraint", str(r)
    retry = cond(r, "retry")
    assert retry is not None and \
        re.match(r"\d{4}-\d\d-\d\dT00:00:00Z$", retry.get("stamp")), str(r)
    # another account has its own quota
    d = await clients.login(srv, srv.new_user(), resource="v")
    await good_slot(d, "1", 50 * 1024)


async def test_total_quota(make_server, clients, tmp_path):
    srv = upload_server(make_server, tmp_path, upload_quota_daily="0",
                        upload_quota_total="10K")
    c = await clients.login(srv, srv.new_user(), resource="u")
    await good_slot(c, "1", 10 * 1024)
    r = await slot(c, "2", 1)
    assert stanza_error(r)[1] == "resource-constraint", str(r)
    assert cond(r, "retry") is None, str(r)


async def test_in_progress_never_served(make_server, clients, tmp_path):
    srv = upload_server(make_server, tmp_path)
    c = await clients.login(srv, srv.new_user(), resource="u")
    data = os.urandom(30000)
    put, get = await good_slot(c, "p.bin", len(data))
    u = urllib.parse.urlsplit(put)
    r, w = await asyncio.open_connection("127.0.0.1", srv.http_port)
    w.write(("PUT %s?%s HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n"
             "Content-Type: application/octet-stream\r\n\r\n"
             % (u.path, u.query, len(data))).encode() + data[:20000])
    await w.drain()
    await asyncio.sleep(0.3)
    assert (await ahttp(srv, "GET", get))[0] == 404
    w.write(data[20000:])
    await w.drain()
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 201 "), head
    w.close()
    st, _, body = await ahttp(srv, "GET", get)
    assert st == 200 and body == data


def parts(srv):
    return [n for n in stored(srv) if n.endswith(".part")]


async def abandon(srv, put, size, first, then):
    """A PUT of size bytes that sends first bytes, waits until the server
    made its temporary file (so the test never passes before the server
    saw the request), sends then more and closes at once."""
    u = urllib.parse.urlsplit(put)
    r, w = await asyncio.open_connection("127.0.0.1", srv.http_port)
    w.write(("PUT %s?%s HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n"
             "\r\n" % (u.path, u.query, size)).encode() + b"x" * first)
    await w.drain()
    deadline = time.time() + 10
    while not parts(srv) and time.time() < deadline:
        await asyncio.sleep(0.01)
    assert parts(srv), "the PUT made no temporary file"
    w.write(b"y" * then)
    w.close()


async def no_parts_left(srv):
    deadline = time.time() + 10
    while parts(srv) and time.time() < deadline:
        await asyncio.sleep(0.05)
    assert parts(srv) == [], "left behind"
    # and none comes back from a job that was still running
    await asyncio.sleep(0.3)
    assert parts(srv) == []


async def test_abandoned_put_leaves_nothing(make_server, clients, tmp_path):
    """A client that goes half way leaves no temporary file: early (1,000
    of 30,000 bytes), with writes of several pieces in flight on the
    work pool when it goes, and with the whole body sent (the last job,
    fsync and rename, in flight: the file is then whole or absent)."""
    srv = upload_server(make_server, tmp_path, upload_max_file_size="4M")
    c = await clients.login(srv, srv.new_user(), resource="u")
    put, get = await good_slot(c, "p.bin", 30000)
    await abandon(srv, put, 30000, 1000, 0)
    await no_parts_left(srv)
    assert stored(srv) == []
    assert (await ahttp(srv, "GET", get))[0] == 404
    for _ in range(3):
        put, get = await good_slot(c, "q.bin", 3 << 20)
        await abandon(srv, put, 3 << 20, 1000, 2 << 20)
        await no_parts_left(srv)
        assert (await ahttp(srv, "GET", get))[0] == 404
    assert stored(srv) == []
    for _ in range(3):
        put, get = await good_slot(c, "r.bin", 1 << 20)
        await abandon(srv, put, 1 << 20, 1000, (1 << 20) - 1000)
        await no_parts_left(srv)
        st, _, body = await ahttp(srv, "GET", get)
        assert st == 404 or (st == 200 and len(body) == 1 << 20), st


def loop_io(srv):
    """Bytes the c2s processes' loop threads (the main thread's id is the
    process's) moved with read(2) and write(2) and their kin, files and
    sockets alike: rchar and wchar of /proc/PID/task/PID/io."""
    rc = wc = 0
    for pid in srv.c2s_pids():
        with open("/proc/%d/task/%d/io" % (pid, pid)) as f:
            d = dict(ln.split(": ") for ln in f.read().splitlines())
        rc += int(d["rchar"])
        wc += int(d["wchar"])
    return rc, wc


async def test_file_io_off_the_loop(make_server, clients, tmp_path):
    """No disk I/O on an event loop: a 4 MiB PUT's bytes are written and
    a GET's read by the work pool's threads, so the loop threads write
    the PUT's answer, not its body, and read the GET's request, not the
    file (their socket I/O is the rest)."""
    srv = upload_server(make_server, tmp_path, upload_max_file_size="8M")
    c = await clients.login(srv, srv.new_user(), resource="u")
    data = os.urandom(4 << 20)
    put, get = await good_slot(c, "io.bin", len(data))
    _, w0 = loop_io(srv)
    st, _, _ = await ahttp(srv, "PUT", put, data)
    assert st == 201
    _, w1 = loop_io(srv)
    assert w1 - w0 < 256 << 10, "the loops wrote %d bytes" % (w1 - w0)
    r0, _ = loop_io(srv)
    st, _, body = await ahttp(srv, "GET", get)
    assert st == 200 and body == data
    r1, _ = loop_io(srv)
    assert r1 - r0 < 256 << 10, "the loops read %d bytes" % (r1 - r0)


async def test_expiry(make_server, clients, tmp_path):
    srv = upload_server(make_server, tmp_path, upload_expire="2")
    c = await clients.login(srv, srv.new_user(), resource="u")
    put, get = await good_slot(c, "e.txt", 5, "text/plain")
    st, _, _ = await ahttp(srv, "PUT", put, b"hello",
                           {"Content-Type": "text/plain"})
    assert st == 201
    assert (await ahttp(srv, "GET", get))[0] == 200
    deadline = time.time() + 10
    while stored(srv) and time.time() < deadline:
        await asyncio.sleep(0.2)
    assert stored(srv) == [], "the sweep deleted nothing"
    assert (await ahttp(srv, "GET", get))[0] == 404


async def test_disk_full(make_server, clients, tmp_path):
    """upload-dir on a 64K tmpfs: a 200K PUT answers 507, leaves nothing
    behind and is never served; a small one still fits after it."""
    import subprocess
    mnt = tmp_path / "upload"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                       str(mnt)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        srv = upload_server(make_server, tmp_path,
                            upload_max_file_size="1M")
        c = await clients.login(srv, srv.new_user(), resource="u")
        data = os.urandom(200 * 1024)
        put, get = await good_slot(c, "big.bin", len(data))
        st, _, body = await ahttp(srv, "PUT", put, data)
        assert st == 507, (st, body)
        assert (await ahttp(srv, "GET", get))[0] == 404
        assert stored(srv) == []
        put, get = await good_slot(c, "small.bin", 1000)
        assert (await ahttp(srv, "PUT", put, b"s" * 1000))[0] == 201
        st, _, body = await ahttp(srv, "GET", get)
        assert st == 200 and body == b"s" * 1000
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


async def test_large_file_streams(make_server, clients, tmp_path):
    """6 MiB, more than a connection may queue (4 MiB) or a request body
    be (http-max-body-size): both ways in pieces, the bytes intact, with
    Connection: close too (the transport flushes what TP_LOW_WATER
    queued before it closes); a request pipelined behind the GET is
    answered after it."""
    srv = upload_server(make_server, tmp_path, upload_max_file_size="8M")
    c = await clients.login(srv, srv.new_user(), resource="u")
    data = os.urandom(6 << 20)
    put, get = await good_slot(c, "big.bin", len(data))
    st, _, _ = await ahttp(srv, "PUT", put, data)
    assert st == 201
    st, h, body = await ahttp(srv, "GET", get)
    assert st == 200 and h["Content-Length"] == str(len(data))
    assert body == data
    path = urllib.parse.urlsplit(get).path
    r, w = await asyncio.open_connection("127.0.0.1", srv.http_port)
    w.write(("GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
             % (path,)).encode())
    await w.drain()
    out = await asyncio.wait_for(r.read(), 30)
    w.close()
    head = out.index(b"\r\n\r\n") + 4
    assert out[:head].startswith(b"HTTP/1.1 200 ")
    assert b"Connection: close" in out[:head]
    assert len(out) - head == len(data) and out[head:] == data, \
        "%d of %d bytes before the close" % (len(out) - head, len(data))
    # two pipelined: the second waits for the first's last byte
    r, w = await asyncio.open_connection("127.0.0.1", srv.http_port)
    w.write(("GET %s HTTP/1.1\r\nHost: h\r\n\r\n"
             "GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
             % (path, path)).encode())
    await w.drain()
    out = await asyncio.wait_for(r.read(), 30)
    w.close()
    for _ in range(2):
        head = out.index(b"\r\n\r\n") + 4
        assert out.startswith(b"HTTP/1.1 200 "), out[:100]
        assert out[head:head + len(data)] == data
        out = out[head + len(data):]
    assert out == b""


async def test_other_host_forbidden(make_server, clients, tmp_path, cert):
    """An account of another host of the server gets no slot here."""
    other = "other.test"
    srv = upload_server(make_server, tmp_path,
                        hosts=[(other,) + tuple(cert)])
    ou = User("%s@%s" % (uniq("o"), other), uniq("pw"))
    srv.adduser(ou.jid, ou.password)
    c = await clients.login(srv, ou, resource="o")
    r = await slot(c, "f", 10)
    assert stanza_error(r)[1] == "forbidden", str(r)


def put_begin(srv, pid, put, size, first):
    """A PUT of size bytes on a connection worker pid holds: the headers
    and the first bytes; the socket, for the rest."""
    from test_bosh import conn_to
    u = urllib.parse.urlsplit(put)
    conn = conn_to(srv, pid, timeout=10)
    conn.sock.sendall(("PUT %s?%s HTTP/1.1\r\nHost: h\r\n"
                       "Content-Length: %d\r\n\r\n"
                       % (u.path, u.query, size)).encode() + b"x" * first)
    return conn.sock


async def until(pred, what, timeout=10):
    deadline = time.time() + timeout * SLOW
    while not pred() and time.time() < deadline:
        await asyncio.sleep(0.05)
    assert pred(), what


@pytest.mark.kills("c2s")
async def test_killed_worker_parts_go(make_server, clients, tmp_path):
    """A c2s killed during a slow PUT leaves its temporary file; the
    worker parleyd starts in its place deletes it within seconds, and
    the other worker's upload in progress keeps its own and completes.
    The interrupted slot is not used (its file never appeared): a new
    PUT of it is stored and served."""
    srv = upload_server(make_server, tmp_path)
    one, two = srv.c2s_pids()
    c = await clients.login(srv, srv.new_user(), resource="u")
    put1, get1 = await good_slot(c, "k.bin", 30000)
    put2, get2 = await good_slot(c, "l.bin", 30000)
    loop = asyncio.get_running_loop()
    s1 = await loop.run_in_executor(None, put_begin, srv, one, put1,
                                    30000, 1000)
    await until(lambda: len(parts(srv)) == 1, "no part of the first PUT")
    s2 = await loop.run_in_executor(None, put_begin, srv, two, put2,
                                    30000, 1000)
    await until(lambda: len(parts(srv)) == 2, "no part of the second PUT")
    # each part names its worker
    mine = [n for n in parts(srv) if "-%d-" % one in n]
    theirs = [n for n in parts(srv) if "-%d-" % two in n]
    assert len(mine) == 1 and len(theirs) == 1, parts(srv)
    os.kill(one, signal.SIGKILL)
    t0 = time.time()
    await until(lambda: mine[0] not in parts(srv),
                "the killed worker's part is still there", timeout=15)
    assert time.time() - t0 < 10 * SLOW
    s1.close()
    assert len(srv.c2s_pids()) == 2 and one not in srv.c2s_pids()
    assert theirs == parts(srv)
    # the live worker's upload goes on
    s2.sendall(b"y" * 29000)
    s2.settimeout(10 * SLOW)
    head = s2.recv(4096)
    assert head.startswith(b"HTTP/1.1 201 "), head
    s2.close()
    assert (await ahttp(srv, "GET", get2))[0] == 200
    # the killed upload's slot: never used, so it may be used again
    data = os.urandom(30000)
    assert (await ahttp(srv, "PUT", put1, data))[0] == 201
    st, _, body = await ahttp(srv, "GET", get1)
    assert st == 200 and body == data
    assert parts(srv) == []
    # the killed worker's lock went too; one per live worker
    locks = [n for n in os.listdir(srv.upload_dir)
             if n.startswith(".lock.")]
    assert len(locks) == srv.linked_workers(), locks
    assert not any("-%d-" % one in n for n in locks), locks
