"""
Offline messages (XEP-0160, RFC 6121 8.5.2.2) with delayed-delivery stamps
(XEP-0203): storage while the account has no available resource, delivery
on the next available presence with non-negative priority, oldest first
and once, the per-account limit, and durability across a restart and a
router crash.
"""
import asyncio
import os
import signal
import time

import pytest

from conftest import (DOMAIN, LOGIN_TIMEOUT, NS_DISCO_INFO, NS_PING, SLOW,
                      LoginFailed, session_ended, stanza_error, wait_for)
from imhelp import (NS_DELAY, drain, fence, online, parse_stamp,
                    send_message, settle)


def delay_of(m):
    d = m.xml.find("{%s}delay" % NS_DELAY)
    assert d is not None, "no XEP-0203 delay in %s" % m
    return d


def check_delay(m, t0, t1):
    """XEP-0203: from is the server that stored it, stamp the time it was
    stored, in UTC (XEP-0082)."""
    d = delay_of(m)
    assert d.get("from") == DOMAIN, "delay from %r: %s" % (d.get("from"), m)
    t = parse_stamp(d.get("stamp"))
    assert t0 - 2 <= t <= t1 + 2, (
        "stamp %s is not the storage time (%.0f..%.0f): %s"
        % (d.get("stamp"), t0, t1, m))


async def sender(server, clients):
    return await online(server, clients, server.new_user("os"),
                        resource="s")


async def test_stored_and_delivered_on_initial_presence(server, clients):
    """RFC 6121 8.5.2.2.1 / XEP-0160: chat and normal messages to an
    account with no session are stored, no error to the sender; they are
    delivered after the next initial presence (not before), oldest first,
    each with a delay, the original from, type and payload kept."""
    u = server.new_user("or")
    s = await sender(server, clients)
    t0 = time.time()
    bodies = ["first", "second", "third"]
    send_message(s, u.jid, bodies[0], type_="chat")
    send_message(s, u.jid, bodies[1], type_=None)
    send_message(s, u.jid, bodies[2], type_="normal",
                 extra="<x xmlns='urn:example:keep' a='1'/>")
    got = (await settle(s))[0]
    t1 = time.time()
    assert not got.messages, "sender got " + got.summary()
    r = await online(server, clients, u, resource="r", presence=None)
    got = (await settle(r))[0]
    assert not got.messages, ("delivered before initial presence: "
                              + got.summary())
    r.send_raw("<presence/>")
    got = (await settle(r))[0]
    msgs = got.messages
    assert [m["body"] for m in msgs] == bodies, got.summary()
    for m in msgs:
        assert m["from"].full == s.boundjid.full, str(m)
        check_delay(m, t0, t1)
    assert [m.xml.get("type") or "normal" for m in msgs] == [
        "chat", "normal", "normal"], got.summary()
    x = msgs[2].xml.find("{urn:example:keep}x")
    assert x is not None and x.get("a") == "1", str(msgs[2])


async def test_full_jid_of_offline_account(server, clients):
    """RFC 6121 8.5.3.2.1, as the issue asks and ejabberd does: chat and
    normal to a full JID of an account with no resource are handled as if
    sent to the bare JID -- stored; a headline is dropped, never stored
    nor bounced (docs/operator.md, delivery rules)."""
    u = server.new_user("or")
    s = await sender(server, clients)
    send_message(s, u.jid + "/gone", "chat-full", type_="chat")
    send_message(s, u.jid + "/gone", "normal-full", type_="normal")
    send_message(s, u.jid + "/gone", "headline-full", type_="headline")
    got = (await settle(s))[0]
    assert not got.messages, got.summary()
    r = await online(server, clients, u, resource="r")
    bodies = [m["body"] for m in r.at_login.messages]
    assert bodies == ["chat-full", "normal-full"], r.at_login.summary()


async def test_delivered_once(server, clients):
    """Delivered messages are removed: the next login gets nothing."""
    u = server.new_user("or")
    s = await sender(server, clients)
    send_message(s, u.jid, "once")
    await settle(s)
    r = await online(server, clients, u, resource="r")
    assert [m["body"] for m in r.at_login.messages] == ["once"], \
        r.at_login.summary()
    # a second resource of the same account, and a later login: nothing
    r2 = await online(server, clients, u, resource="r2")
    assert not r2.at_login.messages, r2.at_login.summary()
    r.disconnect(wait=2)
    r2.disconnect(wait=2)
    await r.wait_closed()
    await r2.wait_closed()
    r3 = await online(server, clients, u, resource="r3")
    assert not r3.at_login.messages, r3.at_login.summary()


async def test_headline_and_groupchat_not_stored(server, clients):
    """RFC 6121 8.5.2.2.1: with no available resource, headline is
    silently ignored and groupchat answered with <service-unavailable/>;
    neither is stored (XEP-0160 3)."""
    u = server.new_user("or")
    s = await sender(server, clients)
    send_message(s, u.jid, "headline", type_="headline")
    mid = send_message(s, u.jid, "groupchat", type_="groupchat")
    send_message(s, u.jid, "kept", type_="chat")
    got = (await settle(s))[0]
    errs = got.messages
    assert len(errs) == 1, "sender got " + got.summary()
    assert errs[0]["type"] == "error" and errs[0]["id"] == mid, str(errs[0])
    assert stanza_error(errs[0])[1] == "service-unavailable", str(errs[0])
    r = await online(server, clients, u, resource="r")
    assert [m["body"] for m in r.at_login.messages] == ["kept"], \
        r.at_login.summary()


async def test_chat_state_only_not_stored(server, clients):
    """XEP-0160 3: a chat message with only chat state content (XEP-0085)
    is not stored; one with a body and a chat state is."""
    u = server.new_user("or")
    s = await sender(server, clients)
    s.send_raw("<message to='%s' type='chat'><composing xmlns='http://"
               "jabber.org/protocol/chatstates'/></message>" % u.jid)
    send_message(s, u.jid, "with-state", extra="<active xmlns='http://"
                 "jabber.org/protocol/chatstates'/>")
    got = (await settle(s))[0]
    assert not got.messages, got.summary()
    r = await online(server, clients, u, resource="r")
    msgs = r.at_login.messages
    assert [m["body"] for m in msgs] == ["with-state"], r.at_login.summary()


async def test_msgoffline_feature(server, clients):
    """XEP-0160 4: the server announces 'msgoffline' in disco#info."""
    c = await sender(server, clients)
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=DOMAIN)
    assert r["type"] == "result", str(r)
    feats = {f.get("var") for f in r.xml.iter("{%s}feature"
                                              % NS_DISCO_INFO)}
    assert "msgoffline" in feats, "no msgoffline feature: %s" % feats


async def test_error_message_not_stored(server, clients):
    """A message of type error to an offline account is dropped (RFC 6121
    8.5.2.2.1), never stored nor bounced."""
    u = server.new_user("or")
    s = await sender(server, clients)
    s.send_raw("<message to='%s' type='error'><body>err</body><error "
               "type='cancel'><item-not-found xmlns='urn:ietf:params:xml:"
               "ns:xmpp-stanzas'/></error></message>" % u.jid)
    got = (await settle(s))[0]
    assert not got.messages, got.summary()
    r = await online(server, clients, u, resource="r")
    assert not r.at_login.messages, r.at_login.summary()


async def test_negative_priority_gets_nothing(server, clients):
    """XEP-0160 / RFC 6121 8.5.2.1.1: an available resource with negative
    priority does not count: messages to the bare JID are stored (also
    while it is online) and not handed to it; a resource with priority >= 0
    gets them all, in order."""
    u = server.new_user("or")
    s = await sender(server, clients)
    send_message(s, u.jid, "before")
    await settle(s)
    neg = await online(server, clients, u, resource="neg",
                       presence="<presence><priority>-1</priority>"
                       "</presence>")
    assert not neg.at_login.messages, neg.at_login.summary()
    send_message(s, u.jid, "during")
    gs, gn = await settle(s, neg)
    assert not gs.messages, "sender got " + gs.summary()
    assert not gn.messages, gn.summary()
    pos = await online(server, clients, u, resource="pos",
                       presence="<presence><priority>0</priority>"
                       "</presence>")
    assert [m["body"] for m in pos.at_login.messages] == \
        ["before", "during"], pos.at_login.summary()
    got = (await settle(neg))[0]
    assert not got.messages, got.summary()


async def test_priority_raised_delivers(server, clients):
    """XEP-0160: stored messages go out when the account next sends
    available presence with non-negative priority -- also a presence
    update of a session that had a negative priority."""
    u = server.new_user("or")
    s = await sender(server, clients)
    send_message(s, u.jid, "waiting")
    await settle(s)
    r = await online(server, clients, u, resource="r",
                     presence="<presence><priority>-5</priority>"
                     "</presence>")
    assert not r.at_login.messages, r.at_login.summary()
    r.send_raw("<presence><priority>1</priority></presence>")
    got = (await settle(r))[0]
    assert [m["body"] for m in got.messages] == ["waiting"], got.summary()


async def test_offline_limit(make_server, clients):
    """offline-max 3: the 4th message is bounced with
    <service-unavailable/> (XEP-0160 / RFC 6121 8.5.2.2.1); the first three
    are kept and delivered; once delivered there is room again."""
    srv = make_server(offline_max=3)
    u = srv.new_user("ol")
    s = await sender(srv, clients)
    for i in range(3):
        send_message(s, u.jid, "m%d" % i)
    mid = send_message(s, u.jid, "m3")
    got = (await settle(s))[0]
    assert len(got.messages) == 1, got.summary()
    e = got.messages[0]
    assert e["type"] == "error" and e["id"] == mid, str(e)
    assert stanza_error(e)[1] == "service-unavailable", str(e)
    assert e["from"].bare == u.jid, str(e)
    r = await online(srv, clients, u, resource="r")
    assert [m["body"] for m in r.at_login.messages] == ["m0", "m1", "m2"], \
        r.at_login.summary()
    r_full = r.boundjid.full
    r.disconnect(wait=2)
    await r.wait_closed()
    await session_ended(srv, r_full)
    send_message(s, u.jid, "again")
    got = (await settle(s))[0]
    assert not got.messages, got.summary()
    r = await online(srv, clients, u, resource="r2")
    assert [m["body"] for m in r.at_login.messages] == ["again"], \
        r.at_login.summary()


async def test_survives_restart(make_server, clients):
    """Stored messages are on disk: a full restart keeps them, with their
    original stamps."""
    srv = make_server()
    u = srv.new_user("ol")
    s = await sender(srv, clients)
    t0 = time.time()
    send_message(s, u.jid, "kept-1")
    send_message(s, u.jid, "kept-2", type_="normal")
    await settle(s)
    t1 = time.time()
    await clients.close()
    srv.restart()
    r = await online(srv, clients, u, resource="r")
    msgs = r.at_login.messages
    assert [m["body"] for m in msgs] == ["kept-1", "kept-2"], \
        r.at_login.summary()
    for m in msgs:
        check_delay(m, t0, t1)


async def _login_retrying(srv, clients, user, deadline, **kw):
    last = None
    while time.monotonic() < deadline:
        try:
            return await online(srv, clients, user,
                                timeout=min(3 * SLOW, LOGIN_TIMEOUT), **kw)
        except (LoginFailed, AssertionError) as e:
            last = e
            await asyncio.sleep(0.3)
    raise AssertionError("no login within the deadline after the router "
                         "restart; last attempt: %s" % last)


@pytest.mark.kills("router")
async def test_router_crash_keeps_acknowledged(make_server, clients):
    """DESIGN (storage): what the server accepted is committed before it
    answers. A sender stores messages for an offline account, each
    followed by a ping; the router is killed (SIGKILL) while it sends.
    After the restart, every message whose following ping was answered is
    delivered, none twice, and nothing that was never sent."""
    srv = make_server(workers=2)
    u = srv.new_user("oc")
    s = await sender(srv, clients)
    sent, acked = [], []
    n_max, kill_after = 400, 40

    async def loop():
        for i in range(n_max):
            if s.closed.done():
                return
            body = "crash-%03d" % i
            send_message(s, u.jid, body)
            sent.append(body)
            try:
                r = await s.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN,
                               timeout=2 * SLOW)
            except AssertionError:
                return
            if r["type"] != "result":
                return
            acked.append(body)

    task = asyncio.ensure_future(loop())
    deadline = time.monotonic() + 20 * SLOW
    while len(acked) < kill_after and not task.done():
        assert time.monotonic() < deadline, "sender too slow: %d acked" % (
            len(acked))
        await asyncio.sleep(0.005)
    old = srv.router_pid()
    assert old is not None
    os.kill(old, signal.SIGKILL)
    await asyncio.wait_for(task, 30 * SLOW)
    assert len(acked) < n_max, "the sender never noticed the crash"
    deadline = time.monotonic() + 15 * SLOW
    await wait_for(lambda: srv.router_pid() not in (None, old), 15 * SLOW,
                   "a new router")
    r = await _login_retrying(srv, clients, u, deadline, resource="r")
    got = [m["body"] for m in r.at_login.messages]
    await fence(r)
    got += [m["body"] for m in drain(r).messages]
    dups = sorted({b for b in got if got.count(b) > 1})
    assert not dups, "delivered twice: %s" % dups
    missing = [b for b in acked if b not in got]
    assert not missing, ("%d acknowledged messages lost (of %d acked, %d "
                         "sent): %s" % (len(missing), len(acked), len(sent),
                                        missing[:10]))
    assert set(got) <= set(sent), set(got) - set(sent)
    assert got == sorted(got), "not oldest first: %s" % got
    assert all(m.xml.find("{%s}delay" % NS_DELAY) is not None
               for m in r.at_login.messages)
