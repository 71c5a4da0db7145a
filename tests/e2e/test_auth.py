"""
Authentication and binding (RFC 6120 6 and 7), with slixmpp as the client
and raw streams where counting failures matters; account management with
parleyctl while the server runs.
"""

import pytest

from conftest import (DOMAIN, NS_BIND, NS_SASL, NS_SESSION, Raw,
                      exchange, sasl_plain, uniq)

MECHS = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]


@pytest.mark.parametrize("mech", MECHS)
async def test_login_each_mechanism(server, clients, mech):
    u = server.new_user()
    c = await clients.login(server, u, mechs=[mech], resource="r-" + mech)
    assert c.mech_used == mech
    assert c.boundjid.full == "%s/r-%s" % (u.jid, mech)
    # the session works: the server answers a ping
    r = await c.iq("<ping xmlns='urn:xmpp:ping'/>", to=DOMAIN)
    assert r["type"] == "result", str(r)


async def test_login_preloaded_accounts(server, clients):
    """Accounts created with parleyctl while the server was stopped."""
    a, b = server.preloaded
    ca = await clients.login(server, a, resource="pre")
    cb = await clients.login(server, b, resource="pre")
    await exchange(ca, cb)


@pytest.mark.parametrize("mech", MECHS)
async def test_wrong_password(server, clients, mech):
    u = server.new_user()
    c = await clients.connect(server, u.jid, u.password + "x", mechs=[mech],
                              expect="auth-failed")
    assert c.auth_failures == ["not-authorized"]
    assert not c.sessionstarted


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "PLAIN"])
async def test_unknown_user(server, clients, mech):
    c = await clients.connect(server, "%s@%s" % (uniq("nobody"), DOMAIN),
                              "whatever", mechs=[mech],
                              expect="auth-failed")
    assert c.auth_failures == ["not-authorized"]


async def test_auth_retries_then_policy_violation(server):
    """auth-retries (3) failures, each answered with <not-authorized/>; the
    last is followed by a <policy-violation/> stream error."""
    u = server.new_user()
    retries = int(server.opts["auth-retries"])
    raw = await Raw.open(server.port)
    try:
        feats = await raw.starttls()
        assert b"PLAIN" in feats, feats
        for i in range(retries):
            raw.mark()
            await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                           % (NS_SASL, sasl_plain(u.local, "bad%d" % i)))
            await raw.read_until(rb"<failure\b[^>]*>\s*<not-authorized\s*/>")
            assert b"<success" not in raw.buf
            if i < retries - 1:
                # not yet closed (a close after this failure makes the next
                # round trip fail too)
                assert not raw.eof, (
                    "stream closed after %d failures (auth-retries %d): %r"
                    % (i + 1, retries, raw.buf))
        data = await raw.read_until_close()
        assert b"policy-violation" in data, data
        assert b"<success" not in data
    finally:
        raw.close()


async def test_auth_retries_with_correct_password_after_failure(server,
                                                                clients):
    """One failure does not lock the account: the right password after a
    wrong one on the same stream succeeds."""
    u = server.new_user()
    raw = await Raw.open(server.port)
    try:
        await raw.starttls()
        await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, sasl_plain(u.local, "wrong")))
        await raw.read_until(rb"<failure\b.*?</failure>")
        raw.mark()
        await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, sasl_plain(u.local, u.password)))
        await raw.read_until(rb"<success\b")
    finally:
        raw.close()


async def test_bind_chosen_resource(server, clients):
    u = server.new_user()
    c = await clients.login(server, u, resource="laptop")
    assert c.boundjid.full == u.jid + "/laptop"


async def test_bind_server_generated_resource(server, clients):
    u = server.new_user()
    c1 = await clients.login(server, u)
    c2 = await clients.login(server, u)
    assert c1.boundjid.bare == u.jid and c1.boundjid.resource
    assert c2.boundjid.bare == u.jid and c2.boundjid.resource
    assert c1.boundjid.resource != c2.boundjid.resource
    # both sessions are distinct and reachable
    other = await clients.login(server, server.new_user(), resource="o")
    await exchange(other, c1)
    await exchange(other, c2)


async def test_bind_conflict_newest_wins(server, clients):
    """RFC 6120 7.7.2.2: the server may terminate the existing session with
    a <conflict/> stream error and bind the new one."""
    u = server.new_user()
    old = await clients.login(server, u, resource="same")
    new = await clients.login(server, u, resource="same")
    assert new.boundjid.full == u.jid + "/same"
    await old.wait_closed()
    assert old.stream_errors == ["conflict"], old.stream_errors
    # stanzas to the full JID now reach the new session
    peer = await clients.login(server, server.new_user(), resource="p")
    await exchange(peer, new)
    await exchange(new, peer)


async def test_session_iq_answered(server, clients):
    u = server.new_user()
    c = await clients.login(server, u, resource="s")
    r = await c.iq("<session xmlns='%s'/>" % NS_SESSION, type_="set")
    assert r["type"] == "result", str(r)


async def test_bind_raw_exchange(server):
    """The bind round trip byte by byte: features after SASL offer bind,
    and the result carries the full JID."""
    u = server.new_user()
    raw = await Raw.open(server.port)
    try:
        feats = await raw.starttls()
        assert b"<starttls" not in feats, feats
        await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, sasl_plain(u.local, u.password)))
        await raw.read_until(rb"<success\b")
        raw.mark()
        await raw.send(
            "<stream:stream xmlns='jabber:client' xmlns:stream="
            "'http://etherx.jabber.org/streams' to='%s' version='1.0'>"
            % DOMAIN)
        feats = await raw.read_until(rb"</stream:features>")
        assert NS_BIND.encode() in feats.string, raw.buf
        assert b"mechanisms" not in raw.buf, raw.buf
        raw.mark()
        await raw.send("<iq type='set' id='b1'><bind xmlns='%s'><resource>"
                       "raw</resource></bind></iq>" % NS_BIND)
        m = await raw.read_until(rb"<iq\b.*?</iq>")
        assert b"result" in m.group(0), m.group(0)
        assert ("<jid>%s/raw</jid>" % u.jid).encode() in m.group(0), \
            m.group(0)
    finally:
        raw.close()


async def test_parleyctl_passwd_deluser_list(server, clients):
    u = server.new_user()
    listed = server.ctl("list").stdout.split()
    assert u.jid in listed, listed
    # a new password replaces the old one while the server runs
    server.ctl("passwd", u.jid, stdin="new-secret\n")
    await clients.connect(server, u.jid, u.password, mechs=["PLAIN"],
                          expect="auth-failed")
    c = await clients.connect(server, u.jid, "new-secret",
                              mechs=["SCRAM-SHA-256"], resource="n")
    assert c.boundjid.bare == u.jid
    # a deleted account cannot log in again and is no longer listed
    server.ctl("deluser", u.jid)
    assert u.jid not in server.ctl("list").stdout.split()
    c2 = await clients.connect(server, u.jid, "new-secret",
                               mechs=["SCRAM-SHA-1"], expect="auth-failed")
    assert c2.auth_failures == ["not-authorized"]


async def test_parleyctl_adduser_twice_fails(server):
    u = server.new_user()
    cp = server.ctl("adduser", u.jid, stdin="other\n", check=False)
    assert cp.returncode != 0, cp


async def test_login_case_insensitive_username(server):
    """SASL usernames are nodeprepped (RFC 7622): ALICE is alice."""
    u = server.new_user()
    raw = await Raw.open(server.port)
    try:
        await raw.starttls()
        await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, sasl_plain(u.local.upper(), u.password)))
        await raw.read_until(rb"<success\b|<failure\b")
        assert b"<success" in raw.buf, raw.buf
    finally:
        raw.close()


async def test_stream_close_answered(server):
    """RFC 6120 4.4: the server answers </stream:stream> with its own and
    closes the TCP connection."""
    u = server.new_user()
    raw = await Raw.open(server.port)
    try:
        await raw.starttls()
        await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, sasl_plain(u.local, u.password)))
        await raw.read_until(rb"<success\b")
        raw.mark()
        await raw.send(
            "<stream:stream xmlns='jabber:client' xmlns:stream="
            "'http://etherx.jabber.org/streams' to='%s' version='1.0'>"
            % DOMAIN)
        await raw.read_until(rb"</stream:features>")
        await raw.send("<iq type='set' id='b1'><bind xmlns='%s'/></iq>"
                       % NS_BIND)
        await raw.read_until(rb"</iq>")
        raw.mark()
        await raw.send("</stream:stream>")
        data = await raw.read_until_close()
        assert b"</stream:stream>" in data, data
        assert b"<stream:error" not in data, data
    finally:
        raw.close()
