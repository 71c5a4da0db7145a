"""
TLS on client streams: STARTTLS is mandatory before authentication (RFC
6120 5.3.1), the features offered before and after it, and direct TLS on
the XEP-0368 port.
"""
import os
import re
import ssl
import subprocess

from conftest import (HEADER, NS_BIND, NS_SASL, NS_STREAM, NS_TLS, ROOT,
                      SLOW, Raw, exchange, parse_features, sasl_plain)


def mechanisms(feats):
    m = feats.find("{%s}mechanisms" % NS_SASL)
    if m is None:
        return None
    return [e.text for e in m.findall("{%s}mechanism" % NS_SASL)]


async def test_features_before_tls_only_starttls_required(server):
    raw = await Raw.open(server.port)
    try:
        m = await raw.stream_header()
        hdr = re.search(rb"<stream:stream\b[^>]*>", raw.buf)
        assert hdr, raw.buf
        h = hdr.group(0)
        # RFC 6120 4.7: from is our domain, id is fresh, version 1.0
        assert re.search(rb"from=['\"]localhost['\"]", h), h
        assert re.search(rb"version=['\"]1\.0['\"]", h), h
        assert re.search(rb"\bid=['\"][^'\"]{8,}['\"]", h), h
        assert re.search(rb"xmlns=['\"]jabber:client['\"]", h), h
        assert re.search(("xmlns:stream=['\"]%s['\"]" % NS_STREAM).encode(),
                         h), h
        feats = parse_features(re.search(
            rb"<stream:features\b.*?</stream:features>", m.string,
            re.S).group(0))
        children = [c.tag for c in feats]
        assert children == ["{%s}starttls" % NS_TLS], children
        st = feats.find("{%s}starttls" % NS_TLS)
        assert st.find("{%s}required" % NS_TLS) is not None
        assert mechanisms(feats) is None
    finally:
        raw.close()


async def test_stream_ids_differ(server):
    ids = set()
    for _ in range(3):
        raw = await Raw.open(server.port)
        try:
            await raw.stream_header()
            ids.add(re.search(rb"<stream:stream\b[^>]*\bid=['\"]([^'\"]+)",
                              raw.buf).group(1))
        finally:
            raw.close()
    assert len(ids) == 3, ids


async def test_features_after_starttls(server):
    raw = await Raw.open(server.port)
    try:
        feats = parse_features(await raw.starttls())
        mechs = mechanisms(feats)
        assert mechs is not None, "no SASL mechanisms after STARTTLS"
        for m in ("SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"):
            assert m in mechs, mechs
        assert feats.find("{%s}starttls" % NS_TLS) is None, \
            "STARTTLS offered again on a TLS stream"
        assert feats.find("{%s}bind" % NS_BIND) is None, \
            "bind offered before authentication"
        # the TLS session is real: TLS 1.2 or newer
        sslobj = raw.w.get_extra_info("ssl_object")
        assert sslobj.version() in ("TLSv1.2", "TLSv1.3"), sslobj.version()
    finally:
        raw.close()


async def test_auth_before_tls_refused(server):
    """With c2s-require-tls, SASL before STARTTLS must not succeed."""
    u = server.new_user()
    raw = await Raw.open(server.port)
    try:
        await raw.stream_header()
        raw.mark()
        await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, sasl_plain(u.local, u.password)))
        m = await raw.read_until(rb"<failure\b|<stream:error\b")
        assert b"<success" not in raw.buf, raw.buf
        if m.group(0).startswith(b"<failure"):
            await raw.read_until(rb"</failure>|<failure\b[^>]*/>")
            assert b"encryption-required" in raw.buf or \
                b"not-authorized" in raw.buf, raw.buf
    finally:
        raw.close()


async def test_starttls_twice_refused(server):
    """A second <starttls/> on a TLS stream is not a feature on offer."""
    raw = await Raw.open(server.port)
    try:
        await raw.starttls()
        raw.mark()
        await raw.send("<starttls xmlns='%s'/>" % NS_TLS)
        m = await raw.read_until(rb"<failure\b|<stream:error\b")
        assert b"<proceed" not in raw.buf, raw.buf
        assert m
    finally:
        raw.close()


async def test_starttls_with_slixmpp(server, clients):
    a = await clients.login(server, server.new_user(), resource="a")
    b = await clients.login(server, server.new_user(), resource="b")
    assert "starttls" in a.features
    await exchange(a, b)


async def test_direct_tls_raw(server):
    raw = await Raw.open(server.tls_port, tls=True)
    try:
        sslobj = raw.w.get_extra_info("ssl_object")
        assert sslobj.version() in ("TLSv1.2", "TLSv1.3"), sslobj.version()
        await raw.send(HEADER)
        m = await raw.read_until(rb"<stream:features\b.*?</stream:features>")
        feats = parse_features(m.group(0))
        assert feats.find("{%s}starttls" % NS_TLS) is None, \
            "STARTTLS offered on a direct TLS stream"
        mechs = mechanisms(feats)
        assert mechs and "SCRAM-SHA-256" in mechs and "PLAIN" in mechs, mechs
    finally:
        raw.close()


async def test_direct_tls_certificate(server):
    """The certificate served is the one configured for the host."""
    raw = await Raw.open(server.tls_port, tls=True)
    try:
        der = raw.w.get_extra_info("ssl_object").getpeercert(True)
        with open(server.cert[0]) as f:
            want = ssl.PEM_cert_to_DER_cert(f.read())
        assert der == want
    finally:
        raw.close()


async def test_direct_tls_with_slixmpp(server, clients):
    """XEP-0368: login, message and cross-port delivery on direct TLS."""
    a = await clients.login(server, server.new_user(), resource="tls",
                            direct_tls=True)
    b = await clients.login(server, server.new_user(), resource="tls",
                            direct_tls=True)
    c = await clients.login(server, server.new_user(), resource="starttls")
    await exchange(a, b)
    await exchange(b, c)
    await exchange(c, a)


async def test_plain_text_on_tls_port(server, clients):
    """A plain-text client on the direct TLS port is rejected without
    hurting the listener."""
    raw = await Raw.open(server.tls_port)
    try:
        await raw.send(HEADER)
        await raw.read_until_close(timeout=10 * SLOW)
        assert b"<stream:features" not in raw.buf, raw.buf
    finally:
        raw.close()
    a = await clients.login(server, server.new_user(), resource="x",
                            direct_tls=True)
    b = await clients.login(server, server.new_user(), resource="y")
    await exchange(a, b)


async def test_tls_garbage_handshake(server, clients):
    """Garbage where a TLS ClientHello should be closes that connection
    only."""
    raw = await Raw.open(server.port)
    try:
        await raw.stream_header()
        await raw.send("<starttls xmlns='%s'/>" % NS_TLS)
        await raw.read_until(rb"<proceed\b")
        await raw.send(b"\x16\x03\x01\x00\x05hello-not-tls" * 10)
        await raw.read_until_close(timeout=10 * SLOW)
    finally:
        raw.close()
    a = await clients.login(server, server.new_user(), resource="x")
    b = await clients.login(server, server.new_user(), resource="y")
    await exchange(a, b)


def der_of(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


async def test_sni_picks_the_host_certificate(make_server, cert,
                                              tmp_path):
    """Two virtual hosts, two certificates: SNI chooses, on direct TLS
    and after STARTTLS, and each host's stream is served."""
    other = "chat.example.test"
    crt, key = str(tmp_path / "other.crt"), str(tmp_path / "other.key")
    subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), other, crt,
                    key], check=True, capture_output=True, timeout=60)
    srv = make_server(hosts=[(other, crt, key)])
    for sni, want in (("localhost", cert[0]), (other, crt)):
        raw = await Raw.open(srv.tls_port, tls=True, sni=sni)
        try:
            got = raw.w.get_extra_info("ssl_object").getpeercert(True)
            assert got == der_of(want), "wrong certificate for SNI " + sni
            await raw.send(HEADER.replace(b"to='localhost'",
                                          ("to='%s'" % sni).encode()))
            m = await raw.read_until(rb"<stream:stream[^>]*>")
            assert ("from='%s'" % sni).encode() in m.group(0)
        finally:
            raw.close()
    # STARTTLS: the stream names the host, the handshake's SNI the cert
    raw = await Raw.open(srv.port)
    try:
        await raw.send(HEADER.replace(b"to='localhost'",
                                      ("to='%s'" % other).encode()))
        await raw.read_until(rb"</stream:features>")
        await raw.send("<starttls xmlns='%s'/>" % NS_TLS)
        await raw.read_until(rb"<proceed")
        ctx = ssl.create_default_context(cafile=crt)
        await raw.w.start_tls(ctx, server_hostname=other)
        got = raw.w.get_extra_info("ssl_object").getpeercert(True)
        assert got == der_of(crt)
    finally:
        raw.close()
