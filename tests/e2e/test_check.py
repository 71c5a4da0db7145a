"""
parleyctl check (issue 18): config warns about risky settings; certs
finds an expired certificate, one for another host and one whose key does
not match; dns reads the SRV records from a dnsmasq the test runs on
loopback and says which point at our listeners; s2s makes a live
federation attempt against a running server and says where it fails.
"""
import os
import shutil
import subprocess
import time

import pytest

from conftest import BIN, DOMAIN, ROOT, free_port

TEST_DOMAIN = "example.test"


def mkcert(d, domain, name):
    crt, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), domain, crt,
                    key], check=True, capture_output=True, timeout=60)
    return crt, key


def expired_cert(d):
    """A certificate for TEST_DOMAIN that expired in 2002."""
    key, crt = os.path.join(d, "old.key"), os.path.join(d, "old.crt")
    tmpl = os.path.join(d, "old.tmpl")
    with open(tmpl, "w") as f:
        f.write('cn = "%s"\ndns_name = "%s"\nactivation_date = '
                '"2001-01-01 00:00:00"\nexpiration_date = '
                '"2002-01-01 00:00:00"\ntls_www_server\nsigning_key\n'
                % (TEST_DOMAIN, TEST_DOMAIN))
    subprocess.run(["certtool", "--generate-privkey", "--key-type=ecdsa",
                    "--outfile", key], check=True, capture_output=True)
    subprocess.run(["certtool", "--generate-self-signed", "--load-privkey",
                    key, "--template", tmpl, "--outfile", crt],
                   check=True, capture_output=True)
    return crt, key


def write_conf(d, crt, key, extra="", host_extra="", ca=None):
    path = os.path.join(d, "parley.conf")
    with open(path, "w") as f:
        f.write("datadir %s/data\nrundir %s/run\n" % (d, d))
        f.write("s2s-ca-file %s\n" % (ca or crt))
        f.write(extra)
        f.write("host %s {\n\tcertificate %s\n\tkey %s\n%s}\n"
                % (TEST_DOMAIN, crt, key, host_extra))
    return path


def check(conf, *args):
    return subprocess.run([os.path.join(BIN, "parleyctl"), "-c", conf,
                           "check"] + list(args), capture_output=True,
                          text=True, timeout=60)


def test_check_config_warnings(tmp_path):
    d = str(tmp_path)
    crt, key = mkcert(d, TEST_DOMAIN, "a")
    conf = write_conf(d, crt, key, "c2s-require-tls no\n"
                      "s2s-require-tls no\nauth-fail-max 0\n"
                      "component-listen *:%d\n" % free_port(),
                      host_extra="\tregister yes\n")
    cp = check(conf, "config")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    out = cp.stdout
    assert "warning: c2s-require-tls no" in out, out
    assert "warning: s2s-dialback yes with s2s-require-tls no" in out, out
    assert "registration is open with auth-fail-max 0" in out, out
    assert "component streams are not encrypted" in out, out
    good = write_conf(d, crt, key)
    cp = check(good, "config")
    assert cp.returncode == 0 and "warning: " not in cp.stdout, cp.stdout


def test_check_certs(tmp_path):
    d = str(tmp_path)
    crt, key = mkcert(d, TEST_DOMAIN, "a")
    cp = check(write_conf(d, crt, key), "certs")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert "covers %s" % TEST_DOMAIN in cp.stdout
    assert "matches its key" in cp.stdout
    assert "chain is complete and trusted" in cp.stdout

    old = expired_cert(d)
    cp = check(write_conf(d, old[0], old[1]), "certs")
    assert cp.returncode == 1, cp.stdout
    assert "problem: %s expired" % old[0] in cp.stdout, cp.stdout

    other = mkcert(d, "other.test", "o")
    cp = check(write_conf(d, other[0], other[1]), "certs")
    assert cp.returncode == 1, cp.stdout
    assert "problem: %s does not cover %s" % (other[0], TEST_DOMAIN) \
        in cp.stdout, cp.stdout

    cp = check(write_conf(d, crt, other[1], ca=crt), "certs")
    assert cp.returncode == 1, cp.stdout
    assert "problem: %s does not match the key %s" % (crt, other[1]) \
        in cp.stdout, cp.stdout

    # a service subdomain the certificate does not name
    cp = check(write_conf(d, crt, key, host_extra="\tpubsub yes\n"),
               "certs")
    assert "does not cover pubsub.%s" % TEST_DOMAIN in cp.stdout, cp.stdout
    cp = check(write_conf(d, crt, key, host_extra="\tmuc yes\n"), "certs")
    assert cp.returncode == 1, cp.stdout
    assert "does not cover conference.%s" % TEST_DOMAIN in cp.stdout, \
        cp.stdout


@pytest.fixture
def dnsmasq(tmp_path):
    exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.access(exe, os.X_OK):
        pytest.skip("dnsmasq is not installed")
    port = free_port()
    c2s, s2s = free_port(), free_port()
    t = TEST_DOMAIN
    p = subprocess.Popen(
        [exe, "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
         "--port=%d" % port, "--listen-address=127.0.0.1",
         "--bind-interfaces", "--pid-file=", "--user=root",
         "--local=/%s/" % t,
         "--srv-host=_xmpp-client._tcp.%s,xmpp.%s,%d,0,5" % (t, t, c2s),
         "--srv-host=_xmpp-server._tcp.%s,xmpp.%s,%d,0,5" % (t, t, s2s),
         "--srv-host=_xmpps-client._tcp.%s,nowhere.%s,5223,0,5" % (t, t),
         "--host-record=xmpp.%s,127.0.0.1" % t],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    if p.poll() is not None:
        pytest.skip("dnsmasq did not start: %s" % p.stderr.read())
    yield port, c2s, s2s
    p.terminate()
    p.wait(10)


def test_check_dns(tmp_path, dnsmasq):
    port, c2s, s2s = dnsmasq
    d = str(tmp_path)
    crt, key = mkcert(d, TEST_DOMAIN, "a")
    conf = write_conf(d, crt, key, "dns-server 127.0.0.1:%d\n"
                      "c2s-listen 127.0.0.1:%d\n" % (port, c2s))
    cp = check(conf, "dns", TEST_DOMAIN)
    out = cp.stdout
    assert cp.returncode == 1, out + cp.stderr
    assert ("ok: _xmpp-client._tcp.%s -> xmpp.%s [127.0.0.1]:%d, served by "
            "c2s-listen" % (TEST_DOMAIN, TEST_DOMAIN, c2s)) in out, out
    assert ("problem: _xmpp-server._tcp.%s -> xmpp.%s [127.0.0.1]:%d: no "
            "s2s-listen listens there" % (TEST_DOMAIN, TEST_DOMAIN, s2s)) \
        in out, out
    assert ("problem: _xmpps-client._tcp.%s -> nowhere.%s:5223: the target "
            "has no A or AAAA record" % (TEST_DOMAIN, TEST_DOMAIN)) in out, out
    # with the s2s listener configured, that record is fine
    conf = write_conf(d, crt, key, "dns-server 127.0.0.1:%d\n"
                      "c2s-listen 127.0.0.1:%d\ns2s-listen *:%d\n"
                      % (port, c2s, s2s))
    out = check(conf, "dns", TEST_DOMAIN).stdout
    assert "served by s2s-listen" in out, out
    # a listener with no record: the record to add, with our port
    tls = free_port()
    conf = write_conf(d, crt, key, "dns-server 127.0.0.1:%d\n"
                      "s2s-tls-listen *:%d\n" % (port, tls))
    out = check(conf, "dns", TEST_DOMAIN).stdout
    want = "warning: _xmpps-server._tcp.%s: no SRV record" % TEST_DOMAIN
    assert want in out, out
    assert "(fix: _xmpps-server._tcp.%s 0 5 %d " % (TEST_DOMAIN, tls) \
        in out, out


def test_check_dns_server_down(tmp_path):
    d = str(tmp_path)
    crt, key = mkcert(d, TEST_DOMAIN, "a")
    conf = write_conf(d, crt, key, "dns-server 127.0.0.1:%d\n" % free_port())
    cp = check(conf, "dns", TEST_DOMAIN)
    assert cp.returncode == 1, cp.stdout
    assert "the lookup failed" in cp.stdout, cp.stdout


def test_check_s2s(make_server, cert, tmp_path):
    s2s_port = free_port()
    make_server(s2s_listen="127.0.0.1:%d" % s2s_port)
    d = str(tmp_path)
    crt, key = mkcert(d, TEST_DOMAIN, "a")
    conf = write_conf(d, crt, key, "s2s-route %s=127.0.0.1:%d\n"
                      % (DOMAIN, s2s_port), ca=cert[0])
    cp = check(conf, "s2s", DOMAIN)
    out = cp.stdout
    assert cp.returncode == 0, out + cp.stderr
    assert "ok: connected to 127.0.0.1 port %d" % s2s_port in out, out
    assert "ok: TLS" in out, out
    assert "ok: the certificate is valid for %s" % DOMAIN in out, out
    assert "ok: dialback offered" in out, out
    # the peer's certificate, not trusted: dialback only, said so
    conf = write_conf(d, crt, key, "s2s-route %s=127.0.0.1:%d\n"
                      % (DOMAIN, s2s_port), ca=crt)
    out = check(conf, "s2s", DOMAIN).stdout
    assert "warning: the certificate of %s does not verify" % DOMAIN \
        in out, out
    # nobody there
    dead = free_port()
    conf = write_conf(d, crt, key, "s2s-route %s=127.0.0.1:%d\n"
                      % (DOMAIN, dead))
    cp = check(conf, "s2s", DOMAIN)
    assert cp.returncode == 1, cp.stdout
    assert "problem: connect to 127.0.0.1 port %d (s2s-route): Connection " \
        "refused" % dead in cp.stdout, cp.stdout
