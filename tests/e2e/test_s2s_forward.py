"""
The router's hand-off to the s2s process says the truth (issue 11,
6.2): a stanza for a remote domain that the s2s link cannot take now --
the s2s process is stopped and its queue is over the high-water mark --
is bounced to the sender with resource-constraint at once, instead of
being queued past the link's cap (which closed the s2s link and lost
every stanza on it with no word to anybody).
"""
import os
import signal

from conftest import free_port, proc_cmdline, stanza_error
from imhelp import online, send_message

BIG = 150 * 1024


def s2s_pid(srv):
    for pid in srv.children():
        argv = proc_cmdline(pid)
        if argv and argv[0].endswith("parley-s2s"):
            return pid
    raise AssertionError("no parley-s2s process")


async def test_congested_s2s_link_bounces(make_server, clients):
    srv = make_server(link_queue_max="1M",
                      s2s_route="far.test=127.0.0.1:%d" % free_port())
    c = await online(srv, clients, srv.new_user("fw"), resource="f")
    pid = s2s_pid(srv)
    os.kill(pid, signal.SIGSTOP)
    try:
        ids = [send_message(c, "x@far.test", "y" * BIG) for _ in range(20)]
        cond = None
        while cond is None:
            m = await c.next_message(what="a bounce")
            if m["type"] == "error":
                assert m["id"] in ids, str(m)
                cond = stanza_error(m)[1]
        assert cond == "resource-constraint", cond
    finally:
        os.kill(pid, signal.SIGCONT)
    log = srv.log_text()
    assert "s2s link closed" not in log, log[-3000:]
    assert "over its cap" not in log, log[-3000:]
