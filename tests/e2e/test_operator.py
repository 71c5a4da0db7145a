"""
What the operator's actions and the supervisor promise: parleyd restarts
a child that keeps dying after 1 s, then doubling up to its cap
(restart-backoff-max, 30 s by default: tests/unit/test_conf.c;
docs/hardening.md), both in its log and in fact; `parleyctl passwd`
while the server runs ends every session of that account (the old
password must not keep a session alive), and no one else's.
"""
import os
import re
import signal
import time

import pytest

from conftest import exchange, uniq
from test_process import wait_for

# parleyd/main.c BACKOFF_MIN doubling to restart-backoff-max, which the
# test sets to CAP: a cap that is not a power of two, so that the last
# delay shows the cap rather than the doubling
CAP = 6
BACKOFF = [1, 2, 4, CAP]


def s2s_pid(srv):
    for p in srv.children():
        try:
            with open("/proc/%d/cmdline" % p, "rb") as f:
                if b"parley-s2s" in f.read().split(b"\0")[0]:
                    return p
        except OSError:
            pass
    return None


@pytest.mark.kills("s2s")
async def test_restart_backoff_doubles_to_cap(make_server):
    """SIGKILL the s2s process each time it is back: parleyd says
    'restarting in 1s', 2s, 4s, then 6s (the cap, not 8s), and each
    restart really waits that long."""
    srv = make_server(workers=1, restart_backoff_max=CAP)
    pid = await wait_for(lambda: s2s_pid(srv), 10, "the s2s process")
    since = srv.log_size()
    waited = []
    for delay in BACKOFF:
        os.kill(pid, signal.SIGKILL)
        t0 = time.monotonic()
        if delay == BACKOFF[-1]:
            break       # the cap is read from the log; no need to wait
        pid = await wait_for(
            lambda: (lambda p: p if p not in (None, pid) else None)(
                s2s_pid(srv)), delay + 10, "the s2s back after %ds" % delay)
        waited.append(time.monotonic() - t0)
    await wait_for(lambda: len(re.findall(
        r"restarting in \d+s", srv.log_text(since))) == len(BACKOFF), 5,
        "the last death logged")
    said = [int(x) for x in re.findall(r"s2s pid=\d+ .*?restarting in "
                                       r"(\d+)s", srv.log_text(since))]
    assert said == BACKOFF, "parleyd announced %s" % said
    for want, got in zip(BACKOFF, waited):
        assert got >= want - 0.1, "restarted after %.2fs, not %ds" % (
            got, want)
        assert got < want + 5, "restarted after %.2fs, not %ds" % (got, want)


async def test_passwd_closes_the_accounts_sessions(make_server, clients):
    """Two sessions of u (one per worker, most likely) get a stream error
    and are closed when the operator changes u's password; v's session
    is untouched; the old password no longer works, the new one does."""
    srv = make_server(workers=2)
    u, v = srv.new_user("pw"), srv.new_user("pw")
    a1 = await clients.login(srv, u, resource="one")
    a2 = await clients.login(srv, u, resource="two")
    b = await clients.login(srv, v, resource="b")
    await exchange(a1, b)
    srv.ctl("passwd", u.jid, stdin="changed-%s\n" % uniq("p"))
    for c in (a1, a2):
        await c.wait_closed()
        assert c.stream_errors == ["not-authorized"], c.stream_errors
    assert not b.closed.done(), "another account's session was closed"
    c = await clients.login(srv, v, resource="b2")
    await exchange(c, b)
    await clients.connect(srv, u.jid, u.password, expect="auth-failed")
    assert "ctl: passwd user=%s result=ok" % u.jid in srv.log_text()
