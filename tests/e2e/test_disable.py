"""
Disabled accounts (issue 17, accounts): `parleyctl disable` ends the
account's sessions and refuses its logins with <account-disabled/> (RFC
6120 6.5.1) on both SASL profiles, FAST tokens included; its data stays,
and `parleyctl enable` lets it in again.
"""
import uuid

from conftest import DOMAIN, STANZA_TIMEOUT, wait_for
from test_fast import password_login, token_login
from test_sasl2 import condition, plain_login


async def test_disable_then_enable(server, clients):
    u = server.new_user("d")
    dev = str(uuid.uuid4())
    token = await password_login(server, u, dev)
    c = await clients.login(server, u, resource="r")
    out = server.ctl("disable", u.jid)
    assert "disabled %s" % u.jid in out.stdout, out
    # the session ends
    await wait_for(lambda: c.stream_errors, STANZA_TIMEOUT,
                   "the disabled account's session to end")
    assert c.stream_errors[0] == "not-authorized", c.stream_errors
    # RFC 6120 SASL
    c2 = await clients.connect(server, u.jid, u.password,
                               mechs=["SCRAM-SHA-256"],
                               expect="auth-failed")
    assert c2.auth_failures == ["account-disabled"], c2.auth_failures
    # XEP-0388, with its text, and FAST
    raw, name, el = await plain_login(server, u)
    raw.close()
    assert name == "failure" and condition(el) == "account-disabled", el
    assert b"this account is disabled" in el
    name, el = await token_login(server, u, dev, token)
    assert name == "failure" and condition(el) == "account-disabled", el
    # enabled again: the password and the token still work
    out = server.ctl("enable", u.jid)
    assert "enabled %s" % u.jid in out.stdout, out
    await clients.login(server, u, resource="again")
    name, el = await token_login(server, u, dev, token)
    assert name == "success", el


def test_disable_unknown_account(server):
    out = server.ctl("disable", "nobody-%s@%s" % (uuid.uuid4().hex[:8],
                                                   DOMAIN), check=False)
    assert out.returncode != 0, out
