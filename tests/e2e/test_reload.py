"""
Reload (issue 18): SIGHUP to parleyd, or `parleyctl reload`, re-reads the
configuration and every certificate without dropping anybody. New TLS
connections get the new certificate while a session from before stays
and can still send; a changed option applies, one that needs a restart
is named in the log; a broken file is refused with its line and the
server goes on serving with what it had.
"""
import asyncio
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest

from conftest import DOMAIN, ROOT, SLOW
from imhelp import online, send_message

pytestmark = pytest.mark.one_host(
    "edits the router host's configuration and signals its parleyd;"
    " each c2s host has its own file and is reloaded on its own")


NS_VERSION = "jabber:iq:version"


def make_cert(d, name):
    crt, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), DOMAIN, crt,
                    key], check=True, capture_output=True, timeout=60)
    return crt, key


def der_of(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def served_cert(port):
    """The certificate a new direct-TLS connection is shown."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname=DOMAIN) as t:
            return t.getpeercert(binary_form=True)


def install(src, dst):
    """Replaces dst at once, as certbot's renewal does."""
    tmp = dst + ".new"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


async def logged(srv, since, text, n=1):
    """Waits for text to be logged n times since the log offset since."""
    deadline = time.monotonic() + 10 * SLOW
    while time.monotonic() < deadline:
        if srv.log_text(since).count(text) >= n:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no %r in:\n%s" % (text,
                                            srv.log_text(since)[-3000:]))


async def reloaded(srv, since, n):
    """Waits for n processes to log that they reloaded."""
    await logged(srv, since, "configuration reloaded", n)


def edit_conf(srv, old, new):
    with open(srv.conf) as f:
        text = f.read()
    assert old in text, text
    with open(srv.conf, "w") as f:
        f.write(text.replace(old, new))


async def test_reload_certificates_keeps_sessions(make_server, clients,
                                                  tmp_path):
    d = str(tmp_path)
    a = make_cert(d, "a")
    b = make_cert(d, "b")
    live = (os.path.join(d, "live.crt"), os.path.join(d, "live.key"))
    install(a[1], live[1])
    install(a[0], live[0])
    make_server.cert = live
    srv = make_server()
    nproc = srv.workers + 2
    assert served_cert(srv.tls_port) == der_of(a[0])
    old = await online(srv, clients, srv.new_user("old"), resource="r")
    peer = await online(srv, clients, srv.new_user("peer"), resource="r")

    install(b[1], live[1])
    install(b[0], live[0])
    since = srv.log_size()
    os.kill(srv.proc.pid, signal.SIGHUP)
    await reloaded(srv, since, nproc)
    assert served_cert(srv.tls_port) == der_of(b[0])
    # the session from before the reload is still there and still sends
    mid = send_message(old, str(peer.boundjid), "after the reload")
    m = await peer.next_message(match=lambda s: s["id"] == mid)
    assert m["body"] == "after the reload"
    await old.fence()
    late = await online(srv, clients, srv.new_user("late"), resource="r")
    await late.fence()


async def test_reload_options_and_broken_file(make_server, clients):
    srv = make_server()
    nproc = srv.workers + 2
    c = await online(srv, clients, srv.new_user("opt"), resource="r")
    r = await c.iq("<query xmlns='%s'/>" % NS_VERSION, to=DOMAIN)
    assert r.xml.find(".//{%s}version" % NS_VERSION) is not None, str(r)

    # an option that applies at once, one that needs a restart
    edit_conf(srv, "workers 2\n", "workers 3\nversion-hide yes\n")
    since = srv.log_size()
    cp = srv.ctl("reload")
    assert "reloads it" in cp.stdout, cp.stdout + cp.stderr
    await reloaded(srv, since, nproc)
    log = srv.log_text(since)
    assert "reload: workers changed; it takes effect at the next restart" \
        in log, log[-3000:]
    r = await c.iq("<query xmlns='%s'/>" % NS_VERSION, to=DOMAIN)
    assert r["type"] == "result", str(r)
    assert r.xml.find(".//{%s}version" % NS_VERSION) is None, str(r)
    assert len([p for p in srv.children()]) == nproc

    # a broken file: parleyctl says where, and so does parleyd on SIGHUP
    with open(srv.conf, "a") as f:
        f.write("presence-directed-max lots\n")
    with open(srv.conf) as f:
        bad_line = len(f.read().splitlines())
    cp = srv.ctl("reload", check=False)
    assert cp.returncode == 1, cp.stdout + cp.stderr
    assert "parley.conf:%d: presence-directed-max" % bad_line in cp.stderr, \
        cp.stderr
    since = srv.log_size()
    os.kill(srv.proc.pid, signal.SIGHUP)
    await logged(srv, since, "reload refused")
    log = srv.log_text(since)
    assert "parley.conf:%d: presence-directed-max" % bad_line in log, log[-3000:]
    assert "configuration reloaded" not in log, log[-3000:]
    # still serving, the old session and new ones, with what it had
    await c.fence()
    edit_conf(srv, "presence-directed-max lots\n", "")  # for parleyctl
    again = await online(srv, clients, srv.new_user("again"), resource="r")
    r = await again.iq("<query xmlns='%s'/>" % NS_VERSION, to=DOMAIN)
    assert r.xml.find(".//{%s}version" % NS_VERSION) is None, str(r)


async def test_reload_refuses_unloadable_key(make_server, clients, tmp_path):
    d = str(tmp_path)
    a = make_cert(d, "a")
    live = (os.path.join(d, "live.crt"), os.path.join(d, "live.key"))
    install(a[1], live[1])
    install(a[0], live[0])
    make_server.cert = live
    srv = make_server()
    c = await online(srv, clients, srv.new_user("key"), resource="r")
    with open(live[1], "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nbroken\n"
                "-----END PRIVATE KEY-----\n")
    cp = srv.ctl("reload", check=False)
    assert cp.returncode == 1, cp.stdout + cp.stderr
    assert "host %s: certificate %s / key %s" % (DOMAIN, live[0], live[1]) \
        in cp.stderr, cp.stderr
    since = srv.log_size()
    os.kill(srv.proc.pid, signal.SIGHUP)
    await logged(srv, since, "reload refused")
    assert "configuration reloaded" not in srv.log_text(since)
    assert served_cert(srv.tls_port) == der_of(a[0])
    await c.fence()
