"""Remote links with certificates (docs/operator.md, "Remote c2s and s2s
hosts"): a c2s host (a second parleyd with router-address on loopback)
links to the router with a certificate from the links' CA, checked both
ways; clients of both hosts exchange messages. A certificate of another CA, an expired one,
one whose name is not in link-peers, a TLS client without a certificate and
a PSK host against a certificate-only router are each refused in the
handshake, never reaching a frame, and the router's log says why. The
certificates are made here with certtool."""
import asyncio
import os
import shutil
import signal
import ssl
import subprocess
import time

import pytest

from conftest import (BIN, READY_TIMEOUT, RUNNING, STANZA_TIMEOUT, Server,
                      exchange, free_port, wait_for)
from test_remote_links import RemoteHost, link_hello, psk_file

ROUTER = "router.links.test"


def certtool(*args):
    subprocess.run(["certtool"] + list(args), check=True,
                   capture_output=True, timeout=60)


def make_ca(d, name):
    key, crt, tmpl = (os.path.join(d, name + e) for e in (".key", ".crt",
                                                           ".tmpl"))
    with open(tmpl, "w") as f:
        f.write('cn = "%s"\nca\ncert_signing_key\nexpiration_days = 30\n'
                % name)
    certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", key)
    certtool("--generate-self-signed", "--load-privkey", key, "--template",
             tmpl, "--outfile", crt)
    return crt, key


def make_cert(d, name, ca, dns, dates=None):
    """A link certificate for dns signed by ca; dates: (from, to) for one
    outside today."""
    key, crt, tmpl = (os.path.join(d, name + e) for e in (".key", ".crt",
                                                           ".tmpl"))
    with open(tmpl, "w") as f:
        f.write('cn = "%s"\ndns_name = "%s"\ntls_www_server\n'
                "tls_www_client\nsigning_key\n" % (dns, dns))
        if dates:
            f.write('activation_date = "%s"\nexpiration_date = "%s"\n'
                    % dates)
        else:
            f.write("expiration_days = 30\n")
    certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", key)
    certtool("--generate-certificate", "--load-privkey", key,
             "--load-ca-certificate", ca[0], "--load-ca-privkey", ca[1],
             "--template", tmpl, "--outfile", crt)
    os.chmod(key, 0o600)
    return crt, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("pki"))
    ca, other = make_ca(d, "links-ca"), make_ca(d, "other-ca")
    return {
        "ca": ca,
        "other": other,
        "router": make_cert(d, "router", ca, ROUTER),
        "hostb": make_cert(d, "hostb", ca, "hostb.links.test"),
        "hostc": make_cert(d, "hostc", ca, "hostc.links.test"),
        "foreign": make_cert(d, "foreign", other, "hostb.links.test"),
        "expired": make_cert(d, "expired", ca, "hostb.links.test",
                             ("2020-01-01 00:00:00", "2020-02-01 00:00:00")),
        "unlisted": make_cert(d, "unlisted", ca, "hostz.links.test"),
        "dir": d,
    }


class CertHost(RemoteHost):
    """A c2s host that links with a certificate instead of a key."""

    def __init__(self, base, cert, router, mine, ca, base_inst,
                 router_name=ROUTER):
        self.router = router
        self.base_inst = base_inst
        Server.__init__(self, base, cert, {
            "workers": "1",
            "router-address": "127.0.0.1:%d" % router.link_port,
            "link-cert": mine[0],
            "link-key": mine[1],
            "link-ca": ca,
            "link-router-name": router_name,
            "instance-base": str(base_inst),
        }, name="certhost-%d" % base_inst)


def launch(h):
    """Starts a remote host without waiting: for hosts that must not link."""
    h._log = open(h.log_path, "ab")
    h.proc = subprocess.Popen([os.path.join(BIN, "parleyd"), "-c", h.conf],
                              stdin=subprocess.DEVNULL, stdout=h._log,
                              stderr=subprocess.STDOUT)
    RUNNING.append(h)


def router(make_server, pki, **extra):
    port = free_port()
    srv = make_server(workers=1, link_listen="127.0.0.1:%d" % port,
                      link_cert=pki["router"][0], link_key=pki["router"][1],
                      link_ca=pki["ca"][0],
                      link_peers="hostb.links.test,hostc.links.test",
                      **extra)
    srv.link_port = port
    return srv


def start_host(make_server, tmp_path_factory, cert, srv, mine, ca, inst,
               **kw):
    h = CertHost(tmp_path_factory.mktemp("host%d" % inst), cert, srv, mine,
                 ca, inst, **kw)
    make_server.servers.append(h)
    return h


async def test_cert_link_carries_clients(make_server, tmp_path_factory, cert,
                                         pki, clients):
    srv = router(make_server, pki)
    hb = start_host(make_server, tmp_path_factory, cert, srv, pki["hostb"],
                    pki["ca"][0], 10)
    hb.start()
    assert ('authenticated as "hostb.links.test" (certificate)'
            in srv.log_text())
    ua, ub = srv.new_user("x"), srv.new_user("x")
    a = await clients.login(srv, ua, resource="a")
    b = await clients.login(hb, ub, resource="b")
    await exchange(a, b)
    await exchange(b, a)


async def refused(srv, h, why):
    """h's link is refused by the router for why; h never links."""
    since = srv.log_size()
    launch(h)
    try:
        await wait_for(lambda: "refused: tls handshake: " + why in
                       srv.log_text(since), READY_TIMEOUT, "the refusal")
        await asyncio.sleep(0.5)
        assert "c2s[%d] connected" % h.base_inst not in srv.log_text(since)
        assert "authenticated as" not in srv.log_text(since)
    finally:
        h.stop()


@pytest.mark.parametrize("which,why", [
    ("foreign", "its issuer is not link-ca"),
    ("expired", "expired"),
    ("unlisted", "no name of link-peers"),
])
async def test_bad_certificate_refused(make_server, tmp_path_factory, cert,
                                       pki, which, why):
    srv = router(make_server, pki)
    # each presents the links' CA, so only its own certificate is wrong
    h = start_host(make_server, tmp_path_factory, cert, srv, pki[which],
                   pki["ca"][0], 30)
    await refused(srv, h, why)


async def test_no_client_certificate_refused(make_server, pki):
    """A TLS client that trusts the router but has no certificate: the
    handshake fails on the router, its LINK_HELLO is never read."""
    srv = router(make_server, pki)
    since = srv.log_size()
    ctx = ssl.create_default_context(cafile=pki["ca"][0])
    r, w = await asyncio.open_connection("127.0.0.1", srv.link_port,
                                         ssl=ctx, server_hostname=ROUTER)
    try:    # TLS 1.3: the client is done first, the router then refuses
        w.write(link_hello())
        await w.drain()
        assert await asyncio.wait_for(r.read(4096), STANZA_TIMEOUT) == b""
    except (ssl.SSLError, ConnectionResetError):
        pass
    w.close()
    await wait_for(lambda: "refused: tls handshake: Certificate is required"
                   in srv.log_text(since), STANZA_TIMEOUT, "the refusal")
    assert "c2s[99] connected" not in srv.log_text(since)


async def test_psk_host_against_cert_router(make_server, tmp_path_factory,
                                            cert, pki):
    srv = router(make_server, pki)
    keyfile = os.path.join(pki["dir"], "links.psk")
    psk_file(keyfile, ["hostb"])
    since = srv.log_size()
    h = RemoteHost(tmp_path_factory.mktemp("pskhost"), cert, srv, "hostb",
                   keyfile, 40)
    await refused(srv, h, "a key offered, and link-psk-file is not set")
    assert "(psk)" not in srv.log_text(since)
    assert ("a certificate asked for, and link-cert is not set"
            in h.log_text())


async def test_cert_host_against_psk_router(make_server, tmp_path_factory,
                                            cert, pki):
    keyfile = os.path.join(pki["dir"], "only.psk")
    psk_file(keyfile, ["hostb"])
    port = free_port()
    srv = make_server(workers=1, link_listen="127.0.0.1:%d" % port,
                      link_psk_file=keyfile)
    srv.link_port = port
    h = start_host(make_server, tmp_path_factory, cert, srv, pki["hostb"],
                   pki["ca"][0], 60)
    await refused(srv, h, "no key offered, and link-cert is not set")


async def test_wrong_router_name_refused_by_host(make_server,
                                                 tmp_path_factory, cert,
                                                 pki):
    """The host checks the router's certificate against link-router-name:
    a router of the same CA with another name is not linked to."""
    srv = router(make_server, pki)
    h = start_host(make_server, tmp_path_factory, cert, srv, pki["hostb"],
                   pki["ca"][0], 50, router_name="other.links.test")
    launch(h)
    try:
        await wait_for(lambda: "not link-router-name's" in h.log_text(),
                       READY_TIMEOUT, "the host's refusal")
        assert "c2s[50] connected" not in srv.log_text()
    finally:
        h.stop()


async def test_psk_and_cert_hosts_on_one_router(make_server,
                                                tmp_path_factory, cert, pki,
                                                clients):
    """A router with both link-psk-file and link-cert takes both kinds of
    host (a deployment moving from one to the other)."""
    keyfile = os.path.join(pki["dir"], "both.psk")
    psk_file(keyfile, ["hostp"])
    srv = router(make_server, pki, link_psk_file=keyfile)
    hb = start_host(make_server, tmp_path_factory, cert, srv, pki["hostb"],
                    pki["ca"][0], 10)
    hb.start()
    hp = RemoteHost(tmp_path_factory.mktemp("hostp"), cert, srv, "hostp",
                    keyfile, 20)
    make_server.servers.append(hp)
    hp.start()
    assert 'authenticated as "hostp" (psk)' in srv.log_text()
    ub, up = srv.new_user("b"), srv.new_user("p")
    b = await clients.login(hb, ub, resource="b")
    p = await clients.login(hp, up, resource="p")
    await exchange(b, p)


async def test_reload_takes_a_new_ca(make_server, tmp_path_factory, cert,
                                     pki, clients):
    """SIGHUP re-reads the link certificates: a host whose certificate is
    from a CA the router does not trust yet links once the router's
    link-ca holds it, without a restart, and the host linked before stays."""
    d = str(tmp_path_factory.mktemp("cas"))
    cafile = os.path.join(d, "ca.pem")
    shutil.copy(pki["ca"][0], cafile)
    srv = router(make_server, pki)
    with open(srv.conf) as f:
        text = f.read()
    with open(srv.conf, "w") as f:
        f.write(text.replace("link-ca %s" % pki["ca"][0],
                             "link-ca %s" % cafile))
    srv.restart()
    hb = start_host(make_server, tmp_path_factory, cert, srv, pki["hostb"],
                    pki["ca"][0], 10)
    hb.start()
    # hostc's certificate from the other CA; it trusts the router's CA
    hc_cert = make_cert(d, "hostc2", pki["other"], "hostc.links.test")
    hc = start_host(make_server, tmp_path_factory, cert, srv, hc_cert,
                    pki["ca"][0], 20)
    since = srv.log_size()
    launch(hc)
    await wait_for(lambda: "its issuer is not link-ca" in
                   srv.log_text(since), READY_TIMEOUT, "the refusal")
    with open(cafile, "a") as f:
        with open(pki["other"][0]) as o:
            f.write(o.read())
    srv.ctl("reload")
    await wait_for(lambda: "c2s[20] connected" in srv.log_text(since),
                   READY_TIMEOUT * 2, "hostc linked after the reload")
    assert "c2s[10] link closed" not in srv.log_text(since)
    hc.wait_ready()
    ub, uc = srv.new_user("b"), srv.new_user("c")
    b = await clients.login(hb, ub, resource="b")
    c = await clients.login(hc, uc, resource="c")
    await exchange(b, c)
    # a link-ca that does not load: the reload is refused, nothing changes
    with open(cafile, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot one\n"
                "-----END CERTIFICATE-----\n")
    cp = srv.ctl("reload", check=False)
    assert cp.returncode == 1
    assert "link certificate" in cp.stderr
    await exchange(c, b)


async def test_remote_host_renews_its_certificate(make_server,
                                                  tmp_path_factory, cert,
                                                  pki):
    """SIGHUP on a c2s host re-reads its link certificate: one the router
    refuses, replaced in place by a good one, links at the next attempt."""
    d = str(tmp_path_factory.mktemp("renew"))
    crt, key = os.path.join(d, "b.crt"), os.path.join(d, "b.key")
    shutil.copy(pki["foreign"][0], crt)
    shutil.copy(pki["foreign"][1], key)
    srv = router(make_server, pki)
    h = start_host(make_server, tmp_path_factory, cert, srv, (crt, key),
                   pki["ca"][0], 70)
    since = srv.log_size()
    launch(h)
    await wait_for(lambda: "its issuer is not link-ca" in
                   srv.log_text(since), READY_TIMEOUT, "the refusal")
    shutil.copy(pki["hostb"][0], crt)
    shutil.copy(pki["hostb"][1], key)
    os.kill(h.proc.pid, signal.SIGHUP)
    await wait_for(lambda: "c2s[70] connected" in srv.log_text(since),
                   READY_TIMEOUT * 2, "the host linked after its reload")
    assert ('authenticated as "hostb.links.test" (certificate)'
            in srv.log_text(since))
