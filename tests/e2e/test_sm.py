"""
Stream management (XEP-0198): enabling with and without resumption, acks
both ways, the errors (enable before binding or twice, an h above what
was sent), resumption on the same and on another c2s process, after the
c2s holding the session was killed with SIGKILL, refused resumptions,
and what becomes of unacked messages when the session times out or
passes the queue cap. Raw streams where the counters matter, slixmpp's
xep_0198 plugin for the client library's view.
"""
import asyncio
import os
import re
import signal
import time

import pytest

from conftest import (DOMAIN, SLOW, STANZA_TIMEOUT, Raw, expect_stream_error,
                      uniq, wait_for)
from imhelp import (fence, grant, online, parse_stamp, send_message,
                    wait_presence)
from test_rfc6120 import authed, bind, bound, ping, restart_after_plain

NS_SM = "urn:xmpp:sm:3"
ENABLE = "<enable xmlns='%s'/>" % NS_SM
ENABLE_RESUME = "<enable xmlns='%s' resume='true'/>" % NS_SM
R = "<r xmlns='%s'/>" % NS_SM
ENABLED_RE = re.compile(rb"<enabled\b[^>]*/>")
A_RE = re.compile(rb"<a\b[^>]*\bh=['\"](\d+)['\"][^>]*/>")


def ack(h):
    return "<a xmlns='%s' h='%d'/>" % (NS_SM, h)


def attr(el, name):
    m = re.search(rb"\b%s=['\"]([^'\"]*)['\"]" % name.encode(), el)
    return m.group(1).decode() if m else None


async def enabled(raw, resume=True):
    """Sends <enable/>; returns the <enabled/> element (bytes)."""
    await raw.send(ENABLE_RESUME if resume else ENABLE)
    return (await raw.read_until(ENABLED_RE)).group(0)


async def server_h(raw):
    """Asks for an ack; returns the server's h."""
    raw.mark()
    await raw.send(R)
    return int((await raw.read_until(A_RE)).group(1))


async def sm_session(server, user, resource):
    """A raw bound session with resumable SM and initial presence.
    Returns (raw, sm id)."""
    raw = await bound(server, user, resource=resource)
    el = await enabled(raw)
    await raw.send("<presence/>")
    await ping(raw)
    return raw, attr(el, "id")


def sockname_port(raw):
    return raw.w.get_extra_info("sockname")[1]


async def authed_on(server, user, want=None, avoid=None):
    """An authenticated raw stream held by c2s pid want (or by any c2s
    but avoid); reconnects until SO_REUSEPORT places it so."""
    for i in range(40):
        try:
            raw = await authed(server, user, i)
        except ConnectionRefusedError:
            continue    # PARLEY_E2E_HOSTS: a host whose worker is down
        pid = server.owner_of(sockname_port(raw))
        if (want is None or pid == want) and (avoid is None or
                                              pid != avoid):
            return raw, pid
        raw.close()
    pytest.skip("SO_REUSEPORT never placed a connection as wanted")


async def resume(raw, previd, h):
    await raw.send("<resume xmlns='%s' previd='%s' h='%d'/>"
                   % (NS_SM, previd, h))
    return (await raw.read_until(
        rb"<(resumed|failed)\b[^>]*(/>|>.*?</failed>)")).group(0)


def bodies(data):
    return re.findall(rb"<body>([^<]*)</body>", data)


# ---------------------------------------------------------------------------
# negotiation

async def test_feature_after_auth_only(server):
    raw = await Raw.open(server.port)
    try:
        feats = await raw.starttls()
        # XEP-0388 lists what may come inline; the feature itself waits
        feats = re.sub(rb"<authentication\b.*?</authentication>", b"",
                       feats, flags=re.S)
        assert b"urn:xmpp:sm:3" not in feats
        user = server.new_user("sm")
        raw.mark()
        await restart_after_plain(raw, user)
        assert re.search(rb"<sm xmlns=['\"]urn:xmpp:sm:3['\"]/>", raw.buf)
    finally:
        raw.close()


async def test_enable_before_bind_fails(server):
    raw = await authed(server, server.new_user("sm"))
    try:
        await raw.send(ENABLE)
        m = await raw.read_until(rb"<failed\b.*?</failed>")
        assert b"<unexpected-request" in m.group(0)
        # recoverable: binding and enabling work afterwards
        await bind(raw, "r")
        await enabled(raw, resume=False)
    finally:
        raw.close()


async def test_enable_without_resume_and_acks(server):
    raw = await bound(server, server.new_user("sm"), resource="r")
    try:
        el = await enabled(raw, resume=False)
        assert attr(el, "id") is None and attr(el, "resume") is None
        # each stanza the client sends counts, the answers to it too
        await ping(raw)
        await ping(raw)
        assert await server_h(raw) == 2
        await raw.send(ack(2))
        await ping(raw)
        assert await server_h(raw) == 3
    finally:
        raw.close()


async def test_enable_twice(server):
    raw = await bound(server, server.new_user("sm"), resource="r")
    try:
        await enabled(raw)
        await ping(raw)
        await raw.send(ENABLE)
        m = await raw.read_until(rb"<failed\b.*?</failed>")
        assert b"<unexpected-request" in m.group(0)
        assert attr(m.group(0), "h") == "1", m.group(0)
    finally:
        raw.close()


async def test_h_too_high(server):
    raw = await bound(server, server.new_user("sm"), resource="r")
    try:
        await enabled(raw)
        await ping(raw)     # one stanza written: h may be 1, not 2
        await raw.send(ack(1))
        await raw.send(ack(2))
        data = await expect_stream_error(raw, "undefined-condition")
        m = re.search(rb"<handled-count-too-high\b[^>]*/>", data)
        assert m, data
        assert attr(m.group(0), "h") == "2"
        assert attr(m.group(0), "send-count") == "1"
    finally:
        raw.close()


async def test_server_asks_for_acks(make_server):
    srv = make_server(sm_request_stanzas=3)
    raw = await bound(srv, srv.new_user("sm"), resource="r")
    try:
        await enabled(raw)
        raw.mark()
        for _ in range(3):
            await ping(raw)
        await raw.read_until(rb"<r xmlns=['\"]urn:xmpp:sm:3['\"]/>")
        await raw.send(ack(3))
        assert await server_h(raw) == 3
    finally:
        raw.close()


async def test_slixmpp_plugin(server, clients):
    user, other = server.new_user("sm"), server.new_user("o")
    c = await clients.login(server, user, resource="lib",
                            plugins=("xep_0199", "xep_0198"))
    o = await clients.login(server, other, resource="o")
    sm = c.plugin["xep_0198"]
    await wait_for(lambda: sm.enabled_in and sm.enabled_out,
                   STANZA_TIMEOUT, "slixmpp enabled stream management")
    assert sm.sm_id, "no resumption id for a client that asked for one"
    for i in range(4):
        o.chat(c.boundjid.full, "m%d" % i)
    for i in range(4):
        m = await asyncio.wait_for(c.messages.get(), STANZA_TIMEOUT)
        assert m["body"] == "m%d" % i
    assert sm.handled >= 4
    # the client's stanzas are acked by the server (it asks; we answer)
    for _ in range(6):
        await fence(c)
    sm.request_ack()
    await wait_for(lambda: sm.last_ack >= 6, STANZA_TIMEOUT,
                   "the server acked the client's stanzas (last_ack %s)"
                   % sm.last_ack)


# ---------------------------------------------------------------------------
# resumption

async def resume_case(server, clients, other_process):
    user = server.new_user("sm")
    raw, _ = await authed_on(server, user)
    first = server.owner_of(sockname_port(raw))
    await bind(raw, "phone")
    el = await enabled(raw)
    previd = attr(el, "id")
    assert previd and len(previd) >= 32, el
    await raw.send("<presence/>")
    await ping(raw)
    c = await clients.login(server, server.new_user("c"), resource="c")
    full = user.jid + "/phone"
    send_message(c, full, "one")
    await raw.read_until(rb"<body>one</body>")
    raw.close()         # no </stream:stream>: a lost connection
    await wait_for(lambda: "hibernated" in server.log_text(),
                   STANZA_TIMEOUT, "the session hibernates")
    send_message(c, full, "two")
    await fence(c)
    if other_process:
        new, pid = await authed_on(server, user, avoid=first)
    else:
        new, pid = await authed_on(server, user, want=first)
    try:
        new.mark()
        # the client saw no stanza after <enabled/> but the ping's answer
        el = await resume(new, previd, 1)
        assert el.startswith(b"<resumed"), el
        assert attr(el, "previd") == previd
        assert attr(el, "h") == "2"     # presence and ping
        await new.read_until(rb"<body>two</body>")
        assert bodies(new.buf) == [b"one", b"two"], new.buf
        # the full JID is kept and the session works
        send_message(c, full, "three")
        await new.read_until(rb"<body>three</body>")
        await ping(new)
    finally:
        new.close()


async def test_resume_same_process(server, clients):
    await resume_case(server, clients, False)


async def test_resume_other_process(server, clients):
    await resume_case(server, clients, True)


async def test_resume_replaces_attached_stream(server, clients):
    user = server.new_user("sm")
    raw, previd = await sm_session(server, user, "phone")
    new = await authed(server, user)
    try:
        el = await resume(new, previd, 0)
        assert el.startswith(b"<resumed"), el
        await expect_stream_error(raw, "conflict")
        await ping(new)
    finally:
        raw.close()
        new.close()


@pytest.mark.kills("c2s")
async def test_resume_after_sigkill(make_server, clients):
    srv = make_server(workers=2)
    user = srv.new_user("sm")
    raw, victim = await authed_on(srv, user)
    await bind(raw, "phone")
    previd = attr(await enabled(raw), "id")
    await raw.send("<presence/>")
    await ping(raw)
    c = await clients.login(srv, srv.new_user("c"), resource="c")
    # the contact lands on the other process, or its stream dies too
    if srv.owner_of(c.local_port) == victim:
        c.disconnect()
        for _ in range(40):
            c = await clients.login(srv, srv.new_user("c"), resource="c")
            if srv.owner_of(c.local_port) != victim:
                break
        else:
            pytest.skip("every contact landed on the victim")
    full = user.jid + "/phone"
    send_message(c, full, "before")
    await raw.read_until(rb"<body>before</body>")
    os.kill(victim, signal.SIGKILL)
    await wait_for(lambda: "hibernated" in srv.log_text(),
                   5 * STANZA_TIMEOUT, "the session hibernates")
    send_message(c, full, "while-dead")
    await fence(c)
    new, _ = await authed_on(srv, user, avoid=victim)
    try:
        new.mark()
        el = await resume(new, previd, 1)
        assert el.startswith(b"<resumed"), el
        await new.read_until(rb"<body>while-dead</body>")
        assert bodies(new.buf) == [b"before", b"while-dead"], new.buf
    finally:
        new.close()
        raw.close()


async def test_unknown_previd(server):
    raw = await authed(server, server.new_user("sm"))
    try:
        el = await resume(raw, "0" * 32, 0)
        assert el.startswith(b"<failed") and b"<item-not-found" in el, el
        # recoverable: a new session binds
        await bind(raw, "r")
        await ping(raw)
    finally:
        raw.close()


async def test_other_accounts_previd_refused(server):
    owner, thief = server.new_user("sm"), server.new_user("t")
    raw, previd = await sm_session(server, owner, "phone")
    other = await authed(server, thief)
    try:
        el = await resume(other, previd, 0)
        assert el.startswith(b"<failed") and b"<item-not-found" in el, el
        # the owner's session is untouched
        await ping(raw)
    finally:
        raw.close()
        other.close()


# ---------------------------------------------------------------------------
# what is never acked

async def test_timeout_sends_unacked_offline(make_server, clients):
    srv = make_server(sm_resume_timeout=2)
    user, cuser = srv.new_user("sm"), srv.new_user("c")
    ph = await online(srv, clients, user, resource="setup")
    c = await online(srv, clients, cuser, resource="c")
    await grant(c, cuser, ph, user)
    ph.disconnect()
    await ph.wait_closed()
    raw, _ = await sm_session(srv, user, "phone")
    full = user.jid + "/phone"
    await wait_presence(c, frm=full)
    send_message(c, full, "unacked")
    await raw.read_until(rb"<body>unacked</body>")
    raw.close()
    await wait_for(lambda: "hibernated" in srv.log_text(), STANZA_TIMEOUT,
                   "the session hibernates")
    # hibernating: the contact sees no unavailable yet
    await asyncio.sleep(0.5)
    assert c.presences.empty(), c.pending()
    # then it times out: unavailable, and the message is stored
    p = await wait_presence(c, frm=full, type_="unavailable",
                            timeout=5 * SLOW + STANZA_TIMEOUT)
    assert p is not None
    back = await online(srv, clients, user, resource="back")
    msgs = [m for m in back.at_login.messages if m["body"] == "unacked"]
    assert len(msgs) == 1, back.at_login.messages
    stamp = msgs[0].xml.find("{urn:xmpp:delay}delay")
    assert stamp is not None
    parse_stamp(stamp.get("stamp"))


async def test_queue_cap(make_server, clients):
    srv = make_server(sm_queue_max=3)
    user = srv.new_user("sm")
    raw, _ = await sm_session(srv, user, "phone")
    c = await clients.login(srv, srv.new_user("c"), resource="c")
    full = user.jid + "/phone"
    for i in range(5):
        send_message(c, full, "q%d" % i)
    await fence(c)
    # never acked: past the cap the session ends, nothing is lost
    await expect_stream_error(raw, "policy-violation")
    raw.close()
    back = await online(srv, clients, user, resource="back")
    got = sorted(m["body"] for m in back.at_login.messages)
    assert got == ["q%d" % i for i in range(5)], got


async def test_restored_offline_message_keeps_its_stamp(make_server,
                                                        clients):
    """An offline message handed to a stream-managed session that never
    acks it goes back to offline storage with its first delay stamp,
    not a second one."""
    srv = make_server(sm_resume_timeout=1)
    user = srv.new_user("sm")
    c = await clients.login(srv, srv.new_user("c"), resource="c")
    send_message(c, user.jid, "stored")
    await fence(c)
    raw = await bound(srv, user, resource="phone")
    await enabled(raw)
    await raw.send("<presence/>")
    await raw.read_until(rb"<body>stored</body>")
    raw.close()
    await wait_for(lambda: "not resumed in" in srv.log_text(),
                   5 * SLOW + STANZA_TIMEOUT, "the session times out")
    back = await online(srv, clients, user, resource="back")
    msgs = [m for m in back.at_login.messages if m["body"] == "stored"]
    assert len(msgs) == 1, back.at_login.messages
    delays = msgs[0].xml.findall("{urn:xmpp:delay}delay")
    assert len(delays) == 1, str(msgs[0])


@pytest.mark.kills("router")
async def test_router_restart_reannounces(make_server, clients):
    """A router restart loses hibernating sessions, but the c2s announces
    its attached ones again with their stream management: the same id
    still resumes once the new router has hibernated the session."""
    from test_process import login_retrying
    srv = make_server()
    user = srv.new_user("sm")
    raw, previd = await sm_session(srv, user, "phone")
    full = user.jid + "/phone"
    old = srv.router_pid()
    os.kill(old, signal.SIGKILL)
    await wait_for(lambda: srv.router_pid() not in (None, old), 10 * SLOW,
                   "a new router process")
    c = await login_retrying(srv, clients, srv.new_user("c"),
                             time.monotonic() + 10 * SLOW)
    line = "session %s: sm enabled, resumable" % full
    await wait_for(lambda: srv.log_text().count(line) >= 2,
                   STANZA_TIMEOUT, "the c2s re-announced the session's SM")
    send_message(c, full, "after")
    await raw.read_until(rb"<body>after</body>")
    raw.close()
    await wait_for(lambda: "hibernated" in srv.log_text(), STANZA_TIMEOUT,
                   "the session hibernates in the new router")
    send_message(c, full, "later")
    await fence(c)
    new = await authed(srv, user)
    try:
        new.mark()
        el = await resume(new, previd, 0)
        assert el.startswith(b"<resumed"), el
        await new.read_until(rb"<body>later</body>")
        assert b"<body>after</body>" in new.buf, new.buf
    finally:
        new.close()


async def test_resume_replays_carbons_with_their_to(server, clients):
    """A carbon (XEP-0280) reaches the c2s without 'to' (the c2s writes
    each session's full JID in); one still unacked when the connection
    drops is replayed on resumption with its 'to' written in again."""
    user = server.new_user("smc")
    raw, _ = await authed_on(server, user)
    await bind(raw, "phone")
    previd = attr(await enabled(raw), "id")
    await raw.send("<presence/>")
    await raw.send("<iq type='set' id='cb'><enable xmlns="
                   "'urn:xmpp:carbons:2'/></iq>")
    await raw.read_until(rb"id='cb'")
    desk = await clients.login(server, user, resource="desk")
    c = await clients.login(server, server.new_user("c"), resource="c")
    desk.send_raw("<message to='%s' type='chat'><body>carbon-me</body>"
                  "</message>" % c.boundjid.full)
    full = (user.jid + "/phone").encode()
    sent_re = (rb"<message to='" + re.escape(full) +
               rb"'[^>]*><sent xmlns='urn:xmpp:carbons:2'>.*?carbon-me")
    await raw.read_until(sent_re)
    raw.close()         # no </stream:stream>, nothing acked
    await wait_for(lambda: "hibernated" in server.log_text(),
                   STANZA_TIMEOUT, "the session hibernates")
    new, _ = await authed_on(server, user)
    try:
        new.mark()
        el = await resume(new, previd, 0)
        assert el.startswith(b"<resumed"), el
        await new.read_until(sent_re)
    finally:
        new.close()
