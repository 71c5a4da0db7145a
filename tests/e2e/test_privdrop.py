"""
Least privilege (docs/operator.md, "Running as root"): started as root
with `user nobody`, every child process runs as nobody, with no
supplementary groups and no way to gain privileges; the service works
(storage written by the router, clients served, a crashed c2s restarted
as nobody); the binaries are built hardened.
"""
import ctypes
import grp
import os
import pwd
import signal
import subprocess
import time

import pytest

from conftest import BIN, SLOW, exchange
from imhelp import online, settle


pytestmark = pytest.mark.one_host(
    "one parleyd started as root that drops to nobody, its"
    " directories made for it")


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


def landlock_abi():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    # landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    return libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))


def traversable(path):
    """Lets nobody reach path: pytest's base directories are 0700."""
    d = os.path.dirname(os.path.abspath(path))
    while d != "/":
        mode = os.stat(d).st_mode
        if mode & 0o001 == 0:
            os.chmod(d, mode | 0o011)
        d = os.path.dirname(d)


@pytest.mark.kills("c2s")
async def test_children_run_as_nobody(make_server, clients):
    # a suite that cannot run here fails loudly (make test runs as root)
    assert os.geteuid() == 0, "dropping privileges needs root"
    nobody = pwd.getpwnam("nobody")
    nogroup = grp.getgrnam("nogroup").gr_gid
    srv = make_server(start=False, user="nobody", group="nogroup")
    traversable(srv.opts["datadir"])
    a, b = srv.new_user(), srv.new_user()   # storage made as root
    srv.start()
    kids = srv.children()
    assert len(kids) == srv.workers + 2, kids
    for pid in kids:
        st = status(pid)
        assert st["Uid"] == [str(nobody.pw_uid)] * 4, (pid, st["Uid"])
        assert st["Gid"] == [str(nogroup)] * 4, (pid, st["Gid"])
        assert st["Groups"] in ([], [str(nogroup)]), (pid, st["Groups"])
        assert st["NoNewPrivs"] == ["1"], pid
        assert st["CapEff"] == ["0000000000000000"], pid
    # the supervisor stays root to restart children (docs/operator.md)
    assert status(srv.proc.pid)["Uid"][0] == "0"
    ca = await clients.login(srv, a)
    cb = await clients.login(srv, b)
    await exchange(ca, cb)
    # the router writes storage as nobody: an offline message is stored
    c = srv.new_user()
    ca.send_raw("<message to='%s' type='chat'><body>kept</body></message>"
                % c.jid)
    await settle(ca)
    cc = await online(srv, clients, c)
    got = cc.at_login.messages + (await settle(cc))[0].messages
    assert [m["body"] for m in got] == ["kept"], [str(m) for m in got]
    if landlock_abi() >= 1:
        log = srv.log_text()
        assert log.count("landlock: file writes refused") >= \
            srv.workers + 1, "c2s and s2s are not read-only"
    # a c2s restarted by the supervisor drops root again and listens
    victim = srv.c2s_pids()[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 15 * SLOW
    while True:
        new = [p for p in srv.c2s_pids() if p != victim]
        if len(new) == srv.workers and all(srv.listening(p) for p in new):
            break
        assert time.monotonic() < deadline, srv.log_tail()
        time.sleep(0.1)
    for pid in new:
        assert status(pid)["Uid"][0] == str(nobody.pw_uid)
    await clients.login(srv, srv.new_user())


def test_binaries_hardened():
    """PIE, full RELRO (BIND_NOW), stack protector, FORTIFY_SOURCE."""
    for name in ("parleyd", "parley-router", "parley-c2s", "parley-s2s",
                 "parleyctl"):
        path = os.path.join(BIN, name)
        hdr = subprocess.run(["readelf", "-hdlW", path], check=True,
                             capture_output=True, text=True).stdout
        assert "DYN (Position-Independent Executable" in hdr, name
        assert "GNU_RELRO" in hdr, name
        assert "BIND_NOW" in hdr or "FLAGS_1" in hdr and "NOW" in hdr, name
        syms = subprocess.run(["nm", "-D", path], check=True,
                              capture_output=True, text=True).stdout
        assert "__stack_chk_fail" in syms, name
        if "asan" not in BIN:
            assert "_chk@" in syms, name + " is not built with FORTIFY"
