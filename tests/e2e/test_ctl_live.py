"""
parleyctl's live commands (issue 18), answered by the running router over
its control socket: sessions [JID], kick JID, stats, about; and what they
say when the server is not running.
"""
import re

import pytest

from conftest import DOMAIN
from imhelp import online, send_message


async def test_sessions_and_kick(make_server, clients):
    srv = make_server()
    ua, ub = srv.new_user("sa"), srv.new_user("sb")
    a1 = await online(srv, clients, ua, resource="one")
    a2 = await online(srv, clients, ua, resource="two")
    b = await online(srv, clients, ub, resource="b")
    out = srv.ctl("sessions").stdout
    for c in (a1, a2, b):
        assert re.search(r"^%s c2s\[\d\] id=[0-9a-f]{16} available "
                         r"priority=0" % re.escape(str(c.boundjid)), out,
                         re.M), out
    out = srv.ctl("sessions", ua.jid).stdout
    assert str(a1.boundjid) in out and str(a2.boundjid) in out, out
    assert str(b.boundjid) not in out, out
    out = srv.ctl("sessions", str(a2.boundjid)).stdout
    assert out.count("\n") == 1 and str(a2.boundjid) in out, out

    # one resource, then the whole account
    cp = srv.ctl("kick", str(a2.boundjid))
    assert cp.stdout == "kicked 1 session\n", cp.stdout + cp.stderr
    await a2.wait_closed()
    assert a2.stream_errors == ["policy-violation"], a2.stream_errors
    await a1.fence()
    cp = srv.ctl("kick", ua.jid)
    assert cp.stdout == "kicked 1 session\n", cp.stdout + cp.stderr
    await a1.wait_closed()
    await b.fence()
    out = srv.ctl("sessions").stdout
    assert ua.jid not in out and str(b.boundjid) in out, out

    cp = srv.ctl("kick", ua.jid, check=False)
    assert cp.returncode == 1, cp.stdout
    assert "%s: no such session" % ua.jid in cp.stderr, cp.stderr
    cp = srv.ctl("sessions", "nobody@" + DOMAIN, check=False)
    assert cp.returncode == 1 and "no such session" in cp.stderr
    cp = srv.ctl("kick", DOMAIN, check=False)
    assert cp.returncode == 1 and "not an account's JID" in cp.stderr


@pytest.mark.one_host("counts and pids of local workers (SO_PEERCRED);"
                      " a remote worker's link has none")
async def test_stats_and_about(make_server, clients):
    srv = make_server()
    ua, ub = srv.new_user("st"), srv.new_user("su")
    a = await online(srv, clients, ua, resource="r")
    b = await online(srv, clients, ub, resource="r")
    before = srv.ctl("stats").stdout
    m0 = int(re.search(r"^stanzas message=(\d+)", before, re.M).group(1))
    for i in range(5):
        send_message(a, str(b.boundjid), "n%d" % i)
    for i in range(5):
        await b.next_message()
    out = srv.ctl("stats").stdout
    assert re.search(r"^sessions 2$", out, re.M), out
    m1 = int(re.search(r"^stanzas message=(\d+)", out, re.M).group(1))
    assert m1 >= m0 + 5, (before, out)
    assert len(re.findall(r"^c2s\[\d\] sessions=\d+ queue=\d+", out,
                          re.M)) == srv.workers, out
    assert re.search(r"^s2s queue=\d+", out, re.M), out
    assert re.search(r"^storage-bytes [1-9]\d*$", out, re.M), out
    assert re.search(r"^stanzas-per-second \d+\.\d\d$", out, re.M), out

    out = srv.ctl("about").stdout
    assert re.search(r"^Parley \S+$", out, re.M), out
    for lib in ("gnutls", "expat", "c-ares", "LMDB", "libev", "libidn"):
        assert lib in out, out
    assert re.search(r"^router pid=%d uptime=\d+$" % srv.router_pid(), out,
                     re.M), out
    for pid in srv.c2s_pids():
        assert re.search(r"^c2s\[\d\] pid=%d connected=\d+$" % pid, out,
                         re.M), out
    assert re.search(r"^s2s pid=\d+ connected=\d+$", out, re.M), out


def test_live_commands_need_the_server(make_server):
    srv = make_server(start=False)
    for args in (("stats",), ("about",), ("sessions",),
                 ("kick", "x@" + DOMAIN)):
        cp = srv.ctl(*args, check=False)
        assert cp.returncode == 1, cp
        assert "the server is not running" in cp.stderr, cp.stderr
