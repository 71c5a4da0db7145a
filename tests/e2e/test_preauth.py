"""
Limits before authentication (docs/hardening.md): the accept loops back
off when descriptors run out instead of spinning; stanzas before
authentication are small; an element that cannot come before
authentication is refused at its start tag.
"""
import os
import resource
import socket
import time

from conftest import SLOW, free_port

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
