"""
User enumeration (docs/hardening.md): an unknown account gets a fake SCRAM
salt that behaves like a real one (the same on every c2s process, across
restarts, and for every spelling of one account), and abandoning a SASL
exchange with a new <auth/> counts as a failed attempt.
"""
import base64
import re

from conftest import (DOMAIN, NS_SASL, Raw, expect_stream_error, uniq)

SCRAM = "SCRAM-SHA-256"


async def scram_salt(srv, name, turn=0):
    """(c2s pid, salt) of the server-first-message for name (the turn-th
    connection: with PARLEY_E2E_HOSTS, the hosts in turn)."""
    raw = await Raw.open(srv.client_port(False, turn))
    try:
        await raw.starttls()
        port = raw.w.get_extra_info("sockname")[1]
        first = "n,,n=%s,r=%s" % (name, uniq("nonce"))
        raw.mark()
        await raw.send("<auth xmlns='%s' mechanism='%s'>%s</auth>" % (
            NS_SASL, SCRAM, base64.b64encode(first.encode()).decode()))
        m = await raw.read_until(rb"<challenge[^>]*>([^<]*)</challenge>")
        sfirst = base64.b64decode(m.group(1)).decode()
        salt = re.search(r"(?:^|,)s=([^,]*)", sfirst).group(1)
        return srv.owner_of(port), salt
    finally:
        raw.close()


async def salts_by_process(srv, name, want=2, tries=40):
    """{c2s pid: set of salts} until want processes answered."""
    seen = {}
    for i in range(tries):
        pid, salt = await scram_salt(srv, name, i)
        seen.setdefault(pid, set()).add(salt)
        if len(seen) >= want:
            break
    return seen


async def test_fake_salt_shared_and_stable(make_server):
    srv = make_server()
    real = srv.new_user()
    ghost = uniq("ghost")
    seen = await salts_by_process(srv, ghost)
    assert len(seen) == 2, "all attempts landed on one c2s: %s" % seen
    salts = set().union(*seen.values())
    assert len(salts) == 1, "fake salts differ between c2s processes: %s" \
        % seen
    fake = salts.pop()
    # one account, however spelt (nodeprep folds case)
    _, other = await scram_salt(srv, ghost.upper())
    assert other == fake
    # another unknown account has another salt, like real accounts do
    _, other = await scram_salt(srv, uniq("ghost"))
    assert other != fake
    _, real_salt = await scram_salt(srv, real.jid.split("@")[0])
    # across a restart the fake salt stays, as a real one does
    srv.restart()
    assert (await scram_salt(srv, ghost))[1] == fake
    assert (await scram_salt(srv, real.jid.split("@")[0]))[1] == real_salt


async def test_restarted_exchange_counts_as_failure(make_server):
    """auth-retries is 3 in the tests: a fourth <auth/>, the third to
    abandon the exchange before it, closes the stream."""
    srv = make_server()
    raw = await Raw.open(srv.port)
    try:
        await raw.starttls()
        for i in range(4):
            first = "n,,n=%s,r=%s" % (uniq("ghost"), uniq("nonce"))
            await raw.send("<auth xmlns='%s' mechanism='%s'>%s</auth>" % (
                NS_SASL, SCRAM, base64.b64encode(first.encode()).decode()))
            if i < 3:
                await raw.read_until(rb"(?:<challenge.*?){%d}" % (i + 1))
        await expect_stream_error(raw, "policy-violation")
    finally:
        raw.close()
    assert "result=restarted" in srv.log_text()
