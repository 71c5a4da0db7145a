"""
TLS defaults (docs/operator.md, TLS): forward secrecy and AEAD only, so a
client offering static-RSA key exchange or CBC suites with SHA-1 fails
the handshake; a client that sends no SNI, or names a host we do not
serve, gets the certificate of the first host in the configuration.
"""
import os
import socket
import ssl
import subprocess

import pytest

from conftest import ROOT


def handshake(port, ciphers=None, sni=None):
    """The server's certificate (DER) after a TLS 1.2 handshake offering
    only ciphers; raises ssl.SSLError when the server refuses."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if ciphers is not None:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(ciphers)
    with socket.create_connection(("127.0.0.1", port), 5) as s:
        with ctx.wrap_socket(s, server_hostname=sni) as t:
            return t.getpeercert(True), t.cipher()[0]


def der_of(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def rsa_cert(tmp_path, name):
    crt, key = str(tmp_path / "rsa.crt"), str(tmp_path / "rsa.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                    "-subj", "/CN=" + name, "-addext",
                    "subjectAltName=DNS:" + name],
                   check=True, capture_output=True, timeout=60)
    return crt, key


def test_only_forward_secret_aead_suites(make_server, tmp_path):
    """On TLS 1.2, with an RSA and an ECDSA certificate."""
    rsa = "rsa.example.test"
    crt, key = rsa_cert(tmp_path, rsa)
    srv = make_server(hosts=[(rsa, crt, key)])
    refused = [
        (rsa, "AES128-SHA"),                # static RSA, CBC, SHA-1
        (rsa, "AES256-GCM-SHA384"),         # static RSA
        (rsa, "ECDHE-RSA-AES128-SHA"),      # CBC with SHA-1
        (rsa, "ECDHE-RSA-AES256-SHA384"),   # CBC
        ("localhost", "ECDHE-ECDSA-AES128-SHA"),
        ("localhost", "ECDHE-ECDSA-AES256-SHA384"),
    ]
    for sni, suite in refused:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            handshake(srv.tls_port, suite, sni)
            pytest.fail("%s accepted for %s" % (suite, sni))
    for sni, suite in ((rsa, "ECDHE-RSA-AES128-GCM-SHA256"),
                       (rsa, "ECDHE-RSA-CHACHA20-POLY1305"),
                       ("localhost", "ECDHE-ECDSA-AES256-GCM-SHA384")):
        assert handshake(srv.tls_port, suite, sni)[1] == suite
    # TLS 1.3 when the client allows it
    assert handshake(srv.tls_port)[1].startswith("TLS_")


def test_no_sni_or_unknown_name_gets_first_host(make_server, cert,
                                                tmp_path):
    other = "chat.example.test"
    crt, key = str(tmp_path / "other.crt"), str(tmp_path / "other.key")
    subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), other, crt,
                    key], check=True, capture_output=True, timeout=60)
    srv = make_server(hosts=[(other, crt, key)])
    first = der_of(cert[0])     # "localhost" comes first in the file
    assert handshake(srv.tls_port)[0] == first
    assert handshake(srv.tls_port, sni="unknown.example.test")[0] == first
    assert handshake(srv.tls_port, sni=other)[0] == der_of(crt)
