"""
PBKDF2 never runs on an event loop (issue 11, 6.1): with
scram-iterations at its maximum one derivation costs about a second, and
while a registration or a password change is being derived other
requests are answered first. The tests look at the order of replies, not
at the clock.
"""
import asyncio
import re

from conftest import (DOMAIN, LOGIN_TIMEOUT, NS_PING, NS_SASL, STANZA_TIMEOUT,
                      Raw, User, parse_features, sasl_plain, uniq)
from test_register import NS_FEATURE, REG_ON, raw_iq, reg_set

SLOW_KDF = {"scram_iterations": "1000000", "workers": "1"}
# the client derives its SCRAM keys too (a second or more each, far more
# on a loaded machine): its logins get longer than usual
SLOW_LOGIN = LOGIN_TIMEOUT * 3
PING = "<ping xmlns='%s'/>" % NS_PING


async def wait_log(srv, text, timeout=STANZA_TIMEOUT * 4):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while text not in srv.log_text():
        assert loop.time() < deadline, "no %r in the log" % text
        await asyncio.sleep(0.02)


async def test_registration_does_not_stall_c2s(make_server, clients):
    """A registration is being derived on the only c2s; a logged-in
    client's ping through that c2s is answered before the registration."""
    srv = make_server(host_options=REG_ON, **SLOW_KDF)
    u = srv.new_user()
    c = await clients.login(srv, u, resource="pinger", timeout=SLOW_LOGIN)
    raw = await Raw.open(srv.port)
    try:
        feats = parse_features(await raw.starttls())
        assert feats.find("{%s}register" % NS_FEATURE) is not None
        local = uniq("slow")
        reg = asyncio.ensure_future(
            raw_iq(raw, reg_set(local, "a-long-pw"), "set"))
        # the router let it through: the derivation starts now
        await wait_log(srv, "register check user=%s@%s" % (local, DOMAIN))
        pong = await c.iq(PING, to=DOMAIN)
        assert pong["type"] == "result", str(pong)
        assert not reg.done(), "the registration was answered first"
        iq = await asyncio.wait_for(reg, STANZA_TIMEOUT * 4)
        assert iq.get("type") == "result"
    finally:
        raw.close()
    await clients.login(srv, User("%s@%s" % (local, DOMAIN), "a-long-pw"),
                        resource="new", timeout=SLOW_LOGIN)


async def test_refused_registration_costs_no_derivation(make_server):
    """A taken name is refused by the router's check, before any
    credentials are derived."""
    srv = make_server(host_options=REG_ON, **SLOW_KDF)
    u = srv.new_user()
    raw = await Raw.open(srv.port)
    try:
        await raw.starttls()
        iq = await raw_iq(raw, reg_set(u.local, "whatever"), "set")
        err = iq.find("{jabber:client}error")
        assert err is not None and err.find(
            "{urn:ietf:params:xml:ns:xmpp-stanzas}conflict") is not None
    finally:
        raw.close()
    log = srv.log_text()
    assert re.search(r"register check user=%s addr=\S+ result=conflict"
                     % re.escape(u.jid), log), log
    assert "register: deriving credentials" not in log, \
        "credentials were derived for a taken name"


async def test_password_change_does_not_stall_router(make_server, clients):
    """A password change is being derived in the router; a ping sent
    after it on the same session is answered first, and the change then
    completes."""
    srv = make_server(**SLOW_KDF)
    u = srv.new_user()
    c = await clients.login(srv, u, resource="pw", timeout=SLOW_LOGIN)
    change = asyncio.ensure_future(
        c.iq(reg_set(u.local, "next-pw"), to=DOMAIN, type_="set",
             timeout=STANZA_TIMEOUT * 4))
    await asyncio.sleep(0)      # the change is written first
    pong = await c.iq(PING, to=DOMAIN)
    assert pong["type"] == "result", str(pong)
    assert not change.done(), "the password change was answered first"
    r = await change
    assert r["type"] == "result", str(r)
    await clients.login(srv, User(u.jid, "next-pw"), resource="new",
                        timeout=SLOW_LOGIN)


async def plain_started(srv, v):
    """A raw stream whose PLAIN login of v is being derived."""
    raw = await Raw.open(srv.port)
    await raw.starttls()
    raw.mark()
    await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                   % (NS_SASL, sasl_plain(v.local, v.password)))
    await wait_log(srv, "auth: deriving the PLAIN password")
    return raw


async def test_plain_login_does_not_stall_c2s(make_server, clients):
    """PLAIN is checked by deriving the password with the stored
    iterations: a PLAIN login in progress on the only c2s does not hold
    up a ping of a logged-in client, and then succeeds."""
    srv = make_server(**SLOW_KDF)
    u, v = srv.new_user(), srv.new_user()
    c = await clients.login(srv, u, resource="pinger", timeout=SLOW_LOGIN)
    raw = await plain_started(srv, v)
    try:
        done = asyncio.ensure_future(raw.read_until(rb"<success\b",
                                                    STANZA_TIMEOUT * 4))
        pong = await c.iq(PING, to=DOMAIN)
        assert pong["type"] == "result", str(pong)
        assert not done.done(), "the login was answered first"
        await done
    finally:
        raw.close()


async def test_plain_abort_during_derivation(make_server):
    """<abort/> while the PLAIN password is being derived: aborted, and
    the stream may log in again."""
    srv = make_server(**SLOW_KDF)
    v = srv.new_user()
    raw = await plain_started(srv, v)
    try:
        await raw.send("<abort xmlns='%s'/>" % NS_SASL)
        await raw.read_until(rb"<aborted/></failure>")
        raw.mark()
        await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, sasl_plain(v.local, v.password)))
        await raw.read_until(rb"<success\b", STANZA_TIMEOUT * 4)
        assert b"<failure" not in raw.buf, raw.buf
    finally:
        raw.close()
