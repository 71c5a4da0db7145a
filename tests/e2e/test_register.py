"""
In-band registration (XEP-0077): off unless the host allows it, offered
after TLS when TLS is required, rate-limited per client address; and for
logged-in users, what is on file, password change and account removal.
"""
import asyncio
import re
import xml.etree.ElementTree as ET

from conftest import (DOMAIN, HEADER, NS_CLIENT, NS_TLS, Raw, User,
                      element_error, exchange, parse_features, uniq)
from imhelp import drain, grant, online, ptype, roster_get, settle

NS_REGISTER = "jabber:iq:register"
NS_FEATURE = "http://jabber.org/features/iq-register"
REG_ON = {DOMAIN: {"register": "yes"}}


def reg_server(make_server, **kw):
    kw.setdefault("host_options", REG_ON)
    return make_server(**kw)


def parse_iq(data):
    root = ET.fromstring("<root xmlns='%s'>%s</root>"
                         % (NS_CLIENT, data.decode()))
    return root.find("{%s}iq" % NS_CLIENT)


def iq_error(iq):
    """(type, condition) of an <iq type='error'/>, else (None, None)."""
    return element_error(iq)


async def raw_iq(raw, payload, type_="get", to=None):
    """Sends an IQ on a raw stream; returns the answer (an Element)."""
    iq_id = uniq("r")
    raw.mark()
    await raw.send("<iq type='%s' id='%s'%s>%s</iq>" % (
        type_, iq_id, " to='%s'" % to if to else "", payload))
    m = await raw.read_until(
        (r"<iq\b[^>]*?\bid=['\"]%s['\"][^>]*?(?:/>|>.*?</iq>)"
         % re.escape(iq_id)).encode())
    iq = parse_iq(m.group(0))
    assert iq.get("id") == iq_id
    return iq


def reg_set(user, password):
    fields = ""
    if user is not None:
        fields += "<username>%s</username>" % user
    if password is not None:
        fields += "<password>%s</password>" % password
    return "<query xmlns='%s'>%s</query>" % (NS_REGISTER, fields)


async def tls_stream(srv):
    raw = await Raw.open(srv.port)
    feats = parse_features(await raw.starttls())
    return raw, feats


async def register(srv, local, password):
    """Registers on a fresh stream; returns the answer IQ."""
    raw, feats = await tls_stream(srv)
    try:
        assert feats.find("{%s}register" % NS_FEATURE) is not None
        return await raw_iq(raw, reg_set(local, password), "set")
    finally:
        raw.close()


async def test_off_by_default(server):
    """No feature, and XEP-0077 3.1: service-unavailable; the stream
    survives the refusal."""
    raw, feats = await tls_stream(server)
    try:
        assert feats.find("{%s}register" % NS_FEATURE) is None
        iq = await raw_iq(raw, "<query xmlns='%s'/>" % NS_REGISTER)
        assert iq.get("type") == "error"
        assert iq_error(iq) == ("cancel", "service-unavailable")
        iq = await raw_iq(raw, reg_set(uniq("x"), "secret"), "set")
        assert iq_error(iq)[1] == "service-unavailable"
        assert not raw.eof
    finally:
        raw.close()


async def test_register_then_login(make_server, clients):
    """The feature after TLS only, the form, creation, then a login with
    the new account and a message exchange."""
    srv = reg_server(make_server)
    raw = await Raw.open(srv.port)
    try:
        # RFC 6120 5.3.1: with TLS required, nothing else is offered first
        await raw.send(HEADER)
        m = await raw.read_until(rb"<stream:features>.*?</stream:features>")
        before = parse_features(m.group(0))
        assert before.find("{%s}starttls" % NS_TLS) is not None
        assert before.find("{%s}register" % NS_FEATURE) is None
        raw.close()
        raw = await Raw.open(srv.port)
        feats = parse_features(await raw.starttls())
        assert feats.find("{%s}register" % NS_FEATURE) is not None
        iq = await raw_iq(raw, "<query xmlns='%s'/>" % NS_REGISTER,
                          to=DOMAIN)
        assert iq.get("type") == "result"
        q = iq.find("{%s}query" % NS_REGISTER)
        assert q is not None
        assert q.find("{%s}username" % NS_REGISTER) is not None
        assert q.find("{%s}password" % NS_REGISTER) is not None
        assert q.find("{%s}registered" % NS_REGISTER) is None
        local = uniq("Reg")
        iq = await raw_iq(raw, reg_set(local, "s3cret-pw"), "set")
        assert iq.get("type") == "result", ET.tostring(iq)
        assert list(iq) == []
    finally:
        raw.close()
    # the username was nodeprepped: the account is lower case
    u = User("%s@%s" % (local.lower(), DOMAIN), "s3cret-pw")
    c = await clients.login(srv, u, resource="new")
    other = srv.new_user()
    c2 = await clients.login(srv, other, resource="o")
    await exchange(c, c2)
    await exchange(c2, c)


async def test_conflict_and_bad_forms(make_server, clients):
    """An existing name is a conflict; missing fields are not-acceptable;
    a username that is no JID localpart is jid-malformed. None of them
    counts against the rate limit."""
    srv = reg_server(make_server, register_interval="60")
    taken = srv.new_user()
    raw, _ = await tls_stream(srv)
    try:
        iq = await raw_iq(raw, reg_set(taken.local, "other-pw"), "set")
        assert iq_error(iq) == ("cancel", "conflict")
        # XEP-0077 3.3 spirit: the password is not echoed back
        assert b"other-pw" not in raw.buf
        iq = await raw_iq(raw, reg_set(uniq("n"), None), "set")
        assert iq_error(iq)[1] == "not-acceptable"
        iq = await raw_iq(raw, reg_set(uniq("n"), ""), "set")
        assert iq_error(iq)[1] == "not-acceptable"
        iq = await raw_iq(raw, reg_set(None, "pw"), "set")
        assert iq_error(iq)[1] == "not-acceptable"
        iq = await raw_iq(raw, reg_set("bad@name", "pw"), "set")
        assert iq_error(iq)[1] == "jid-malformed"
        iq = await raw_iq(raw, "<query xmlns='%s'><remove/></query>"
                          % NS_REGISTER, "set")
        assert iq_error(iq)[1] == "unexpected-request"
        # the first real registration from this address still succeeds
        local = uniq("ok")
        iq = await raw_iq(raw, reg_set(local, "fine-pw"), "set")
        assert iq.get("type") == "result", ET.tostring(iq)
    finally:
        raw.close()
    # the taken account kept its password
    await clients.login(srv, taken, resource="still")
    await clients.connect(srv, taken.jid, "other-pw", expect="auth-failed")


async def test_rate_limit_per_address(make_server, clients):
    """register-interval: one account per address per interval; the
    refused one is not created; after the interval it works."""
    srv = reg_server(make_server, register_interval="3")
    first, second = uniq("a"), uniq("b")
    iq = await register(srv, first, "pw-one")
    assert iq.get("type") == "result", ET.tostring(iq)
    iq = await register(srv, second, "pw-two")
    assert iq.get("type") == "error"
    assert iq_error(iq) == ("wait", "resource-constraint")
    await clients.connect(srv, "%s@%s" % (second, DOMAIN), "pw-two",
                          expect="auth-failed", resource="x")
    await asyncio.sleep(3.2)
    iq = await register(srv, second, "pw-two")
    assert iq.get("type") == "result", ET.tostring(iq)
    await clients.login(srv, User("%s@%s" % (second, DOMAIN), "pw-two"))
    log = srv.log_text()
    assert "result=resource-constraint" in log
    assert "pw-two" not in log and "pw-one" not in log


async def test_per_host_and_without_tls(make_server, cert):
    """Allowed on one host, not on the other; with TLS optional the
    feature is offered on the plain stream."""
    other = "other.test"
    srv = reg_server(make_server, c2s_require_tls="no",
                     hosts=[(other, cert[0], cert[1])])
    for host, on in ((DOMAIN, True), (other, False)):
        raw = await Raw.open(srv.port)
        try:
            await raw.send(("<stream:stream xmlns='jabber:client' "
                            "xmlns:stream='http://etherx.jabber.org/"
                            "streams' to='%s' version='1.0'>" % host))
            feats = parse_features(
                (await raw.read_until(rb"<stream:features>.*?"
                                      rb"</stream:features>")).group(0))
            assert (feats.find("{%s}register" % NS_FEATURE) is not None) \
                == on, host
            iq = await raw_iq(raw, "<query xmlns='%s'/>" % NS_REGISTER)
            if on:
                assert iq.get("type") == "result"
            else:
                assert iq_error(iq)[1] == "service-unavailable"
        finally:
            raw.close()


async def test_registered_user_sees_registration(server, clients):
    u = server.new_user()
    c = await clients.login(server, u)
    r = await c.iq("<query xmlns='%s'/>" % NS_REGISTER)
    assert r["type"] == "result", str(r)
    q = r.xml.find("{%s}query" % NS_REGISTER)
    assert q.find("{%s}registered" % NS_REGISTER) is not None
    assert q.findtext("{%s}username" % NS_REGISTER) == u.local
    # XEP-0077 8: the server lists the feature
    r = await c.iq("<query xmlns='http://jabber.org/protocol/disco#info'/>",
                   to=DOMAIN)
    feats = [f.get("var") for f in r.xml.iter(
        "{http://jabber.org/protocol/disco#info}feature")]
    assert NS_REGISTER in feats


async def test_password_change(server, clients):
    """XEP-0077 3.3: to the server, own username; the old password stops
    working, the new one works, the session stays."""
    u = server.new_user()
    c = await clients.login(server, u, resource="pw")
    r = await c.iq(reg_set(u.local, "brand-new-pw"), to=DOMAIN, type_="set")
    assert r["type"] == "result", str(r)
    await clients.connect(server, u.jid, u.password, expect="auth-failed",
                          resource="old")
    c2 = await clients.login(server, User(u.jid, "brand-new-pw"),
                             resource="new")
    await exchange(c, c2)
    assert "brand-new-pw" not in server.log_text()


async def test_password_change_refused(server, clients):
    u, v = server.new_user(), server.new_user()
    c = await clients.login(server, u)
    # someone else's account: forbidden, and no password echoed back
    r = await c.iq(reg_set(v.local, "hijack-pw"), type_="set")
    assert r["type"] == "error"
    assert r["error"]["condition"] == "forbidden"
    assert "hijack-pw" not in str(r)
    # an empty password keeps the old one (XEP-0077 3.3: MUST NOT null)
    r = await c.iq(reg_set(u.local, ""), type_="set")
    assert r["error"]["condition"] == "bad-request"
    # another user's bare JID as the target
    r = await c.iq("<query xmlns='%s'/>" % NS_REGISTER, to=v.jid)
    assert r["error"]["condition"] == "forbidden"
    await clients.login(server, v, resource="intact")
    await clients.login(server, u, resource="intact")


async def test_account_removal(server, clients):
    """XEP-0077 3.2: the result, then every session closed with
    not-authorized; the account is gone."""
    u = server.new_user()
    c1 = await clients.login(server, u, resource="one")
    c2 = await clients.login(server, u, resource="two")
    r = await c1.iq("<query xmlns='%s'><remove/></query>" % NS_REGISTER,
                    type_="set")
    assert r["type"] == "result", str(r)
    await c1.wait_closed()
    await c2.wait_closed()
    assert "not-authorized" in c1.stream_errors
    assert "not-authorized" in c2.stream_errors
    await clients.connect(server, u.jid, u.password, expect="auth-failed",
                          resource="after")


async def test_removal_with_other_children_refused(server, clients):
    u = server.new_user()
    c = await clients.login(server, u)
    r = await c.iq("<query xmlns='%s'><remove/><username>%s</username>"
                   "</query>" % (NS_REGISTER, u.local), type_="set")
    assert r["error"]["condition"] == "bad-request"
    await clients.login(server, u, resource="still-there")


async def _mutual_contacts(server, clients):
    """u and v, both online with the roster requested, subscribed to each
    other (both). Returns (u, cu, v, cv)."""
    u, v = server.new_user("rm"), server.new_user("rc")
    cu = await online(server, clients, u, resource="u")
    cv = await online(server, clients, v, resource="v")
    await grant(cu, u, cv, v)
    await grant(cv, v, cu, u)
    items, _, _ = await roster_get(cv)
    assert items[u.jid].sub == "both", items
    drain(cv)
    return u, cu, v, cv


async def _assert_cancelled(u, cv):
    """v saw u's account go: both subscriptions cancelled (RFC 6121
    2.5.2: unsubscribe, unsubscribed, unavailable) and its item for u
    pushed and stored with subscription none."""
    got, = await settle(cv)
    kinds = {(p["from"].bare, ptype(p)) for p in got.presences}
    for t in ("unsubscribe", "unsubscribed", "unavailable"):
        assert (u.jid, t) in kinds, "no %s from the removed account: %s" % (
            t, got.summary())
    items, _, _ = await roster_get(cv)
    assert items[u.jid].visible == ("none", False), items


async def test_account_removal_cancels_subscriptions(server, clients):
    """XEP-0077 3.2: removing an account cancels its subscriptions; its
    contacts are told and keep no subscription to a JID that is gone."""
    u, cu, v, cv = await _mutual_contacts(server, clients)
    r = await cu.iq("<query xmlns='%s'><remove/></query>" % NS_REGISTER,
                    type_="set")
    assert r["type"] == "result", str(r)
    await cu.wait_closed()
    await _assert_cancelled(u, cv)


async def test_ctl_deluser_cancels_subscriptions(server, clients):
    """parleyctl deluser on a running server: the same as XEP-0077
    removal for the contacts, and the sessions are closed."""
    u, cu, v, cv = await _mutual_contacts(server, clients)
    server.ctl("deluser", u.jid)
    await cu.wait_closed()
    assert "not-authorized" in cu.stream_errors
    await _assert_cancelled(u, cv)
