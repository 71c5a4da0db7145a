"""
Limits before authentication (docs/hardening.md): the accept loops back
off when descriptors run out instead of spinning; stanzas before
authentication are small; an element that cannot come before
authentication is refused at its start tag.
"""
import asyncio
import os
import resource
import socket
import time

from conftest import (HEADER, SLOW, Raw, exchange, expect_stream_error,
                      free_port)

S2S_HEADER = ("<stream:stream xmlns='jabber:server' "
              "xmlns:stream='http://etherx.jabber.org/streams' "
              "xmlns:db='jabber:server:dialback' to='localhost' "
              "version='1.0'>").encode()


def s2s_pid(srv):
    for p in srv.children():
        with open("/proc/%d/cmdline" % p, "rb") as f:
            if b"parley-s2s" in f.read().split(b"\0")[0]:
                return p
    raise AssertionError("no s2s process among %s" % srv.children())


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def test_s2s_accept_backs_off_on_emfile(make_server):
    """With its descriptors used up, the s2s process pauses accepting
    (it used to spin at 100 % CPU on EMFILE) and serves again once
    descriptors are free."""
    port = free_port()
    srv = make_server(s2s_listen="127.0.0.1:%d" % port)
    pid = s2s_pid(srv)
    old = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    # room for two connections, then EMFILE
    lim = open_fds(pid) + 2
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (lim, old[1]))
    socks = []
    try:
        for _ in range(8):
            socks.append(socket.create_connection(("127.0.0.1", port), 2))
        time.sleep(0.3 * SLOW)
        c0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(2)
        busy = (cpu_seconds(pid) - c0) / (time.monotonic() - t0)
        assert busy < 0.3, "s2s used %.0f%% CPU while out of descriptors" \
            % (100 * busy)
        assert "pausing" in srv.log_text(), srv.log_tail()
    finally:
        for s in socks:
            s.close()
        resource.prlimit(pid, resource.RLIMIT_NOFILE, old)
    # descriptors are free again: a new peer is served
    deadline = time.monotonic() + 10 * SLOW
    while True:
        with socket.create_connection(("127.0.0.1", port), 2) as s:
            s.settimeout(2)
            s.sendall(S2S_HEADER)
            try:
                data = s.recv(4096)
            except socket.timeout:
                data = b""
        if b"<stream:stream" in data:
            break
        assert time.monotonic() < deadline, \
            "the s2s listener did not recover:\n" + srv.log_tail()
        time.sleep(0.2)


async def test_big_stanza_before_auth(server, clients):
    """max-stanza-size is 256K in the tests; before authentication
    c2s-max-stanza-size-preauth (10,000 bytes) applies, after it the
    large cap again."""
    raw = await Raw.open(server.port)
    try:
        await raw.send(HEADER + b"<iq type='set' id='r'><query xmlns="
                       b"'jabber:iq:register'><username>"
                       + b"u" * (20 * 1024))
        await expect_stream_error(raw, "policy-violation")
    finally:
        raw.close()
    a = await clients.login(server, server.new_user())
    b = await clients.login(server, server.new_user())
    await exchange(a, b, body="x" * (20 * 1024))


async def test_unknown_element_refused_at_start_tag(server):
    """The start tag alone is answered: the server does not wait for
    (or buffer) the element's content."""
    raw = await Raw.open(server.port)
    try:
        await raw.send(HEADER + b"<foo xmlns='urn:example:x'><bar>")
        await expect_stream_error(raw, "not-authorized")
    finally:
        raw.close()
    assert "<foo/> in urn:example:x before authentication" in \
        server.log_text()


async def test_tree_budget_before_auth(server):
    """Thousands of tiny elements stay under 10,000 bytes of input but
    would build a tree many times that size."""
    raw = await Raw.open(server.port)
    try:
        await raw.send(HEADER + b"<iq type='get' id='x'>" + b"<a/>" * 2400)
        await expect_stream_error(raw, "policy-violation")
    finally:
        raw.close()
    assert "held before authentication" in server.log_text()


async def test_preauth_memory_total(make_server, clients):
    """Past preauth-memory-max, input of unauthenticated streams is
    refused with resource-constraint; what they held is given back when
    they go, and logins work again."""
    srv = make_server(workers=1, preauth_memory_max="64K")
    raws = []
    try:
        errs = 0
        for _ in range(12):
            r = await Raw.open(srv.port)
            raws.append(r)
            await r.send(HEADER + b"<iq type='get' id='x'><q>"
                         + b"t" * 9000)
        await asyncio.sleep(0.5 * SLOW)
        for r in raws:
            await r._read_some(0.2)
            if b"resource-constraint" in r.buf:
                errs += 1
        assert errs > 0, "no stream refused past preauth-memory-max"
        assert errs < len(raws), "every stream refused"
    finally:
        for r in raws:
            r.close()
    await asyncio.sleep(0.5 * SLOW)
    a = await clients.login(srv, srv.new_user())
    b = await clients.login(srv, srv.new_user())
    await exchange(a, b)


S2S_PEER_HEADER = (b"<stream:stream xmlns='jabber:server' "
                   b"xmlns:stream='http://etherx.jabber.org/streams' "
                   b"xmlns:db='jabber:server:dialback' from='evil.test' "
                   b"to='localhost' version='1.0'>")


async def test_s2s_stanza_before_auth_refused_at_start_tag(make_server):
    port = free_port()
    srv = make_server(s2s_listen="127.0.0.1:%d" % port,
                      s2s_require_tls="no")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(S2S_PEER_HEADER + b"<message to='a@localhost'><body>")
        await writer.drain()
        data = b""
        deadline = time.monotonic() + 5 * SLOW
        while b"</stream:stream>" not in data and \
                time.monotonic() < deadline:
            chunk = await asyncio.wait_for(reader.read(4096), 5 * SLOW)
            if not chunk:
                break
            data += chunk
        assert b"<not-authorized" in data, data
    finally:
        writer.close()
    assert "before authentication" in srv.log_text()


async def read_s2s(reader, until, timeout=5 * SLOW):
    """What the server sent until the pattern or EOF (b'' then)."""
    data = b""
    deadline = time.monotonic() + timeout
    while until not in data:
        left = deadline - time.monotonic()
        assert left > 0, "waited for %r, got %r" % (until, data)
        chunk = await asyncio.wait_for(reader.read(4096), left)
        if not chunk:
            return data, True
        data += chunk
    return data, False


async def test_s2s_connections_per_address(make_server):
    """s2s-max-per-address: the connection past the limit is closed;
    one slot freed is one new connection served."""
    port = free_port()
    srv = make_server(s2s_listen="127.0.0.1:%d" % port,
                      s2s_require_tls="no", s2s_max_per_address="3")
    held = []
    try:
        for _ in range(3):
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(S2S_PEER_HEADER)
            held.append((r, w))
            _, eof = await read_s2s(r, b"<stream:stream")
            assert not eof
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(S2S_PEER_HEADER)
        data, eof = await read_s2s(r, b"<never>")
        assert eof and b"<stream:stream" not in data, data
        w.close()
        assert "s2s-max-per-address (3) reached" in srv.log_text()
        held.pop()[1].close()
        await asyncio.sleep(0.3 * SLOW)
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(S2S_PEER_HEADER)
        held.append((r, w))
        _, eof = await read_s2s(r, b"<stream:stream")
        assert not eof
    finally:
        for _, w in held:
            w.close()
