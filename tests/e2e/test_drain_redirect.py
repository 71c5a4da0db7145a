"""XEP-0198 location and draining a host (c2s/sm.c, c2s/drain.c): with
sm-location a host names itself in <enabled location/>, without it no
location is sent (any c2s of any host resumes: the router holds the
state); with drain-redirect a drained host ends its TCP streams with
<see-other-host> naming the other host (RFC 6120 4.9.3.19), its resumable
sessions hibernating, so that a client resumes there and loses nothing."""
import asyncio
import re

import pytest

from conftest import (READY_TIMEOUT, STANZA_TIMEOUT, expect_stream_error,
                      free_port, wait_for)
from test_drain import Sender, numbers
from test_remote_links import RemoteHost, psk_file
from test_rfc6120 import authed, bind, ping
from test_sm import attr, enabled, resume

SEE_OTHER_RE = re.compile(
    rb"<see-other-host xmlns=['\"]urn:ietf:params:xml:ns:xmpp-streams"
    rb"['\"]>([^<]*)</see-other-host>")


@pytest.fixture
def hosts(make_server, tmp_path_factory, cert):
    """The router's host and two remote c2s hosts b and c; b names itself
    for resumption and sends drained clients to c."""
    keyfile = str(tmp_path_factory.mktemp("keys") / "links.psk")
    psk_file(keyfile, ["hostb", "hostc"])
    link_port = free_port()
    srv = make_server(workers=1, link_listen="127.0.0.1:%d" % link_port,
                      link_psk_file=keyfile)
    srv.link_port = link_port
    hc = RemoteHost(tmp_path_factory.mktemp("hostc"), cert, srv, "hostc",
                    keyfile, 20)
    bport = free_port()
    hb = RemoteHost(tmp_path_factory.mktemp("hostb"), cert, srv, "hostb",
                    keyfile, 10, extra={
                        "c2s-listen": "127.0.0.1:%d" % bport,
                        "sm-location": "127.0.0.1:%d" % bport,
                        "drain-redirect": "127.0.0.1:%d" % hc.port})
    hb.port = bport
    for h in (hc, hb):
        make_server.servers.append(h)
        h.start()
    return srv, hb, hc


async def test_location_per_configuration(hosts):
    srv, hb, hc = hosts
    user = srv.new_user("loc")
    # host b names itself, for a resumable session only
    raw = await authed(hb, user)
    await bind(raw, "r")
    assert attr(await enabled(raw), "location") == "127.0.0.1:%d" % hb.port
    raw.close()
    raw = await authed(hb, user)
    await bind(raw, "n")
    el = await enabled(raw, resume=False)
    assert attr(el, "location") is None, el
    raw.close()
    # host c and the router's own worker: no location
    for h in (hc, srv):
        raw = await authed(h, user)
        await bind(raw, "x")
        el = await enabled(raw)
        assert attr(el, "id") and attr(el, "location") is None, el
        raw.close()


async def host_back(h):
    """The drained worker stopped, its parleyd started it again and it
    linked to the router a second time."""
    line = "c2s[%d] connected" % h.base_inst
    await wait_for(lambda: len(h.c2s_pids()) == 1 and
                   all(h.listening(p) for p in h.c2s_pids()) and
                   h.router.log_text().count(line) >= 2,
                   READY_TIMEOUT, "the drained worker is back")


@pytest.mark.kills("c2s")
async def test_drain_sends_resumable_clients_to_other_host(hosts):
    srv, hb, hc = hosts
    user, peer = srv.new_user("sm"), srv.new_user("tx")
    raw = await authed(hb, user)
    await bind(raw, "phone")
    previd = attr(await enabled(raw), "id")
    raw.mark()
    full = user.jid + "/phone"
    # the sender on the router's host, sending all through the drain
    tx = await authed(srv, peer)
    await bind(tx, "tx")
    sender = Sender(tx, full)
    await asyncio.sleep(0.3)
    srv.ctl("drain", "10", "1")
    data = await raw.read_until_close(STANZA_TIMEOUT)
    m = SEE_OTHER_RE.search(data)
    assert m, data[-400:]
    host, port = m.group(1).decode().rsplit(":", 1)
    assert (host, int(port)) == ("127.0.0.1", hc.port)
    got, h = numbers(raw.buf)
    raw.close()
    # the named host resumes the session: the router kept what was not
    # acked while the session hibernated
    new = await authed(hc, user)
    new.mark()
    el = await resume(new, previd, h)
    assert el.startswith(b"<resumed"), el
    await asyncio.sleep(0.3)
    await sender.stop()
    sent = sender.next
    await ping(tx)          # all it sent has been routed
    await ping(new)
    more, _ = numbers(new.buf)
    got += more
    assert sent > 20
    assert got == list(range(sent)), "lost or repeated: %s" % (
        sorted(set(range(sent)) ^ set(got))[:20])
    tx.close()
    new.close()
    await host_back(hb)


async def drain_plain(srv, h, condition):
    """A stream without stream management on host h, which is drained
    with a grace of 1 s; returns what the client received."""
    raw = await authed(h, srv.new_user("ns"))
    await bind(raw, "plain")
    await ping(raw)
    srv.ctl("drain", str(h.base_inst), "1")
    await expect_stream_error(raw, condition, STANZA_TIMEOUT)
    await host_back(h)
    return raw.buf


@pytest.mark.kills("c2s")
async def test_drain_redirects_others_after_grace(hosts):
    srv, hb, hc = hosts
    data = await drain_plain(srv, hb, "see-other-host")
    m = SEE_OTHER_RE.search(data)
    assert m and m.group(1) == b"127.0.0.1:%d" % hc.port, data[-300:]


@pytest.mark.kills("c2s")
async def test_drain_without_redirect_keeps_system_shutdown(hosts):
    srv, hb, hc = hosts
    data = await drain_plain(srv, hc, "system-shutdown")
    assert b"see-other-host" not in data
