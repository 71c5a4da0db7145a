"""
Running under systemd (docs/operator.md, "Installing as a service";
docs/internals.md, "Readiness"): with NOTIFY_SOCKET set, parleyd sends
READY=1 once every child is up (the router listening, the s2s and each
c2s linked to it), so that logins work the moment it says so; around a
SIGHUP reload RELOADING=1 then READY=1; STOPPING=1 at SIGTERM. The
children never speak to the service manager. Started as the unit starts
it (a user with an ambient CAP_NET_BIND_SERVICE), the children give the
capability up once their ports are bound.
"""
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

import conftest
from conftest import BIN, ROOT, SLOW, Server, uniq


pytestmark = pytest.mark.one_host(
    "the systemd protocol and unit of one parleyd: its READY, its"
    " children, its capabilities")


def notify_listener():
    """A datagram socket at an abstract name, as systemd's notify
    socket; returns (socket, NOTIFY_SOCKET value)."""
    name = "parley-notify-%d-%s" % (os.getpid(), uniq("n"))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + name)
    return s, "@" + name


def next_datagram(s, timeout):
    s.settimeout(timeout)
    try:
        data, _ = s.recvfrom(4096)
    except socket.timeout:
        raise AssertionError("no notification within %ss" % timeout)
    return data.decode()


def assignments(msg):
    return dict(line.split("=", 1) for line in msg.split("\n") if line)


def nothing_more(s):
    s.settimeout(0.3)
    try:
        data, _ = s.recvfrom(4096)
    except (socket.timeout, BlockingIOError):
        return
    raise AssertionError("unexpected notification %r" % data)


async def test_ready_reload_stopping(make_server, clients, monkeypatch):
    s, name = notify_listener()
    srv = make_server(start=False)
    user = srv.new_user()
    # the harness waits for the processes itself: here READY=1 alone
    srv.wait_ready = lambda *a, **kw: None
    monkeypatch.setenv("NOTIFY_SOCKET", name)
    srv.start()
    monkeypatch.delenv("NOTIFY_SOCKET")
    try:
        msg = assignments(next_datagram(s, 20 * SLOW))
        # the moment it is sent, every worker listens and is linked
        assert msg.get("READY") == "1", msg
        assert len(srv.c2s_pids()) == srv.workers
        assert all(srv.listening(p) for p in srv.c2s_pids())
        assert srv.router_links() >= srv.workers + 1
        await clients.login(srv, user)
        assert "ready: every process is up" in srv.log_text()
        Server.wait_ready(srv)

        srv.proc.send_signal(signal.SIGHUP)
        msg = assignments(next_datagram(s, 10 * SLOW))
        assert msg.get("RELOADING") == "1", msg
        # microseconds of CLOCK_MONOTONIC, as systemd 253 wants
        assert abs(int(msg["MONOTONIC_USEC"]) / 1e6 -
                   time.clock_gettime(time.CLOCK_MONOTONIC)) < 30
        assert assignments(next_datagram(s, 10 * SLOW)) == {"READY": "1"}

        # a reload refused (a broken file) ends in READY=1 all the same
        with open(srv.conf) as f:
            good = f.read()
        with open(srv.conf, "a") as f:
            f.write("no-such-option 1\n")
        srv.proc.send_signal(signal.SIGHUP)
        assert "RELOADING" in assignments(next_datagram(s, 10 * SLOW))
        assert assignments(next_datagram(s, 10 * SLOW)) == {"READY": "1"}
        with open(srv.conf, "w") as f:
            f.write(good)
        await clients.login(srv, user, resource="again")
        nothing_more(s)
    finally:
        srv.stop()
    assert assignments(next_datagram(s, 5 * SLOW)) == {"STOPPING": "1"}
    nothing_more(s)
    s.close()


async def test_children_do_not_inherit_notify_socket(make_server,
                                                     monkeypatch):
    s, name = notify_listener()
    srv = make_server(start=False)
    monkeypatch.setenv("NOTIFY_SOCKET", name)
    srv.start()
    monkeypatch.delenv("NOTIFY_SOCKET")
    try:
        assert assignments(next_datagram(s, 20 * SLOW)).get("READY") == "1"
        for pid in srv.children():
            with open("/proc/%d/environ" % pid, "rb") as f:
                env = f.read().split(b"\0")
            assert not any(e.startswith(b"NOTIFY_SOCKET=") for e in env)
            # the readiness pipe was written and closed: no pipe left
            # but none (stdin is /dev/null, stderr the log file)
            fds = os.listdir("/proc/%d/fd" % pid)
            assert not any(os.readlink("/proc/%d/fd/%s" % (pid, fd))
                           .startswith("pipe:") for fd in fds), pid
    finally:
        srv.stop()
    s.close()


def cap_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k.startswith("Cap") or k == "Uid":
                out[k] = v.split()
    return out


CAP_NET_BIND_SERVICE = 1 << 10


async def test_unit_user_with_ambient_capability(make_server, clients,
                                                 tmp_path, monkeypatch):
    """As the unit runs it: a user (here nobody) holding only an ambient
    CAP_NET_BIND_SERVICE. parleyd keeps it for the restarts; each child
    gives it up once its ports are bound."""
    assert os.geteuid() == 0, "setpriv needs root"
    if shutil.which("setpriv") is None:
        raise AssertionError("setpriv (util-linux) is missing")
    nobody = pwd.getpwnam("nobody")
    srv = make_server(start=False)
    user = srv.new_user()
    # its own certificate, readable by nobody; its tree owned by nobody
    crt, key = os.path.join(srv.dir, "n.crt"), os.path.join(srv.dir, "n.key")
    subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), "localhost",
                    crt, key], check=True, capture_output=True, timeout=60)
    with open(srv.conf) as f:
        text = f.read()
    with open(srv.conf, "w") as f:
        f.write(text.replace(srv.cert[0], crt).replace(srv.cert[1], key))
    for d, _, files in os.walk(srv.dir):
        for n in [d] + [os.path.join(d, x) for x in files]:
            os.chown(n, nobody.pw_uid, nobody.pw_gid)
    d = os.path.dirname(srv.dir)
    while d != "/":
        mode = os.stat(d).st_mode
        if mode & 0o001 == 0:
            os.chmod(d, mode | 0o011)
        d = os.path.dirname(d)
    wrap = tmp_path / "wrap"
    wrap.mkdir()
    (wrap / "parleyd").write_text(
        "#!/bin/sh\nexec setpriv --reuid=%d --regid=%d --clear-groups "
        "--inh-caps=+net_bind_service --ambient-caps=+net_bind_service "
        "%s/parleyd \"$@\"\n" % (nobody.pw_uid, nobody.pw_gid, BIN))
    os.chmod(wrap / "parleyd", 0o755)
    monkeypatch.setattr(conftest, "BIN", str(wrap))
    srv.start()
    top = cap_status(srv.proc.pid)
    assert top["Uid"][0] == str(nobody.pw_uid)
    assert int(top["CapAmb"][0], 16) == CAP_NET_BIND_SERVICE, top
    kids = srv.children()
    assert len(kids) == srv.workers + 2, kids
    for pid in kids:
        st = cap_status(pid)
        for k in ("CapAmb", "CapEff", "CapPrm", "CapInh"):
            assert int(st[k][0], 16) == 0, (pid, st)
    await clients.login(srv, user)


async def test_journal_lines(make_server, clients, monkeypatch):
    """stderr as the journal (JOURNAL_STREAM names the log file's inode,
    as systemd names its stream): every process's lines carry a syslog
    priority and no time stamp."""
    srv = make_server(start=False)
    user = srv.new_user()
    with open(srv.log_path, "ab"):
        pass
    st = os.stat(srv.log_path)
    monkeypatch.setenv("JOURNAL_STREAM", "%d:%d" % (st.st_dev, st.st_ino))
    srv.start()
    monkeypatch.delenv("JOURNAL_STREAM")
    await clients.login(srv, user)
    lines = srv.log_text().splitlines()
    procs = set()
    for line in lines:
        m = re.match(r"<([3467])>([a-z0-9-]+)(\[\d+\])?: ", line)
        assert m, line
        procs.add(m.group(2))
        if m.group(1) == "7":
            assert "debug: " in line or "trace: " in line, line
    assert {"parleyd", "router", "c2s", "s2s"} <= procs, procs
    assert any(line.startswith("<6>parleyd: ready: every process is up")
               for line in lines)
