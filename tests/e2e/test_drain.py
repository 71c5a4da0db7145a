"""parleyctl drain WORKER (c2s/drain.c): the worker takes no new clients,
drops its resumable XEP-0198 sessions so that they resume on another
worker with nothing lost, ends the others with system-shutdown after the
grace period and stops; parleyd starts it again. A rolling drain of both
workers under load loses no message for the resumable session."""
import asyncio
import re

import pytest

from conftest import (DOMAIN, READY_TIMEOUT, STANZA_TIMEOUT,
                      expect_stream_error, proc_cmdline, wait_for)
from test_rfc6120 import authed, bind, ping
from test_sm import authed_on, enabled, attr, resume

MSG_RE = re.compile(rb"<message\b.*?</message>", re.S)
BODY_RE = re.compile(rb"<body>(\d+)</body>")


def instance_of(pid):
    argv = proc_cmdline(pid)
    return argv[argv.index("-i") + 1]


def numbers(data):
    """Bodies of the complete messages in data, and how many there are."""
    msgs = MSG_RE.findall(data)
    return [int(BODY_RE.search(m).group(1)) for m in msgs], len(msgs)


class Sender:
    """Sends chat messages numbered from first to full over tx, one every
    10 ms, until stop(); then next is the number after the last sent."""

    def __init__(self, tx, full, first=0):
        self.tx, self.full, self.next = tx, full, first
        self._stop = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    async def _run(self):
        while not self._stop.is_set():
            await self.tx.send("<message to='%s' type='chat'><body>%d"
                               "</body></message>" % (self.full, self.next))
            self.next += 1
            await asyncio.sleep(0.01)

    async def stop(self):
        self._stop.set()
        await self._task


async def both_workers(srv):
    await wait_for(lambda: len(srv.c2s_pids()) == 2 and
                   all(srv.listening(p) for p in srv.c2s_pids()),
                   READY_TIMEOUT, "both workers listen")
    await asyncio.sleep(0.5)    # and their router links are up


@pytest.mark.kills("c2s")
async def test_rolling_drain_loses_nothing(make_server):
    srv = make_server(workers=2)
    user, peer = srv.new_user("sm"), srv.new_user("tx")
    raw, pid = await authed_on(srv, user)
    await bind(raw, "phone")
    previd = attr(await enabled(raw), "id")
    raw.mark()
    full = user.jid + "/phone"
    got, h = [], 0
    sent = 0

    for step in range(2):
        # the sender on the other worker, sending all through the drain
        tx, _ = await authed_on(srv, peer, avoid=pid)
        await bind(tx, "tx%d" % step)
        sender = Sender(tx, full, sent)
        await asyncio.sleep(0.3)
        srv.ctl("drain", instance_of(pid), "1")
        # the resumable session's connection is dropped, no stream close
        await raw.read_until_close(STANZA_TIMEOUT)
        assert b"</stream:stream>" not in raw.buf
        nums, n = numbers(raw.buf)
        got += nums
        h += n
        raw.close()
        # it resumes on the other worker: the drained one takes nobody
        new, newpid = await authed_on(srv, user)
        assert newpid != pid
        new.mark()
        el = await resume(new, previd, h)
        assert el.startswith(b"<resumed"), el
        await asyncio.sleep(0.3)
        await sender.stop()
        sent = sender.next
        await ping(tx)          # all it sent has been routed
        tx.close()
        await ping(new)
        nums, n = numbers(new.buf)
        got += nums
        h += n + 1              # and the ping's result
        new.mark()
        raw, pid = new, newpid
        # the drained worker stops; parleyd starts it again
        await both_workers(srv)

    assert sent > 50
    assert got == list(range(sent)), "lost or repeated: %s" % (
        sorted(set(range(sent)) ^ set(got))[:20])
    raw.close()


@pytest.mark.kills("c2s")
async def test_drain_ends_others_with_system_shutdown(make_server):
    srv = make_server(workers=2)
    user = srv.new_user("ns")
    raw, pid = await authed_on(srv, user)
    await bind(raw, "plain")
    await ping(raw)
    srv.ctl("drain", instance_of(pid), "1")
    await expect_stream_error(raw, "system-shutdown", STANZA_TIMEOUT)
    await wait_for(lambda: "drained: stopping" in srv.log_text(),
                   STANZA_TIMEOUT, "the worker stops")
    await both_workers(srv)


async def test_drain_unknown_worker(server):
    cp = server.ctl("drain", "77", check=False)
    assert cp.returncode == 1
    assert "no such c2s" in cp.stderr
    cp = server.ctl("drain", "1", "99999", check=False)
    assert cp.returncode == 1 and "grace" in cp.stderr
