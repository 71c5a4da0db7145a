"""
SASL upgrade tasks (XEP-0480) for an account imported with SCRAM-SHA-1
credentials only (parleyctl import of a hand-written XEP-0227 file): a
SASL2 login with SCRAM-SHA-1, PLAIN or FAST asking UPGR-SCRAM-SHA-256
gets <continue/>, the salt and count, returns the SaltedPassword, and
the account logs in with SCRAM-SHA-256 after; bad task data is refused
with the credentials unchanged; an account with both hashes gets no task.
"""
import base64
import hashlib
import hmac
import re
import types
import uuid

import pytest

from conftest import Raw
from test_migrate import scram_sha1, write
from test_sasl2 import (NS_SASL2, b64, condition, plain_login, sasl2_open,
                        sasl2_stream, scram_login, ua)

NS_UPGRADE = "urn:xmpp:sasl:upgrade:0"
NS_SCRAM_UP = "urn:xmpp:scram-upgrade:0"
ASK = "<upgrade xmlns='%s'>UPGR-SCRAM-SHA-256</upgrade>" % NS_UPGRADE
STEP_RE = re.compile(rb"<(continue|task-data|success|failure)\b[^>]*>.*?"
                     rb"</\1>", re.S)
PASSWORD = "sha1 secret"

FILE = """<?xml version='1.0' encoding='UTF-8'?>
<server-data xmlns='urn:xmpp:pie:0'>
  <host jid='localhost'>
{users}
  </host>
</server-data>
"""


def sha1_only(n):
    return "<user name='%s'>%s</user>" % (n, scram_sha1(PASSWORD))


def import_sha1(make_server, tmp_path, count, **conf):
    """A server with accounts up1..upN holding SCRAM-SHA-1 credentials
    only, imported before the start; srv.up maps names to users."""
    srv = make_server(start=False, **conf)
    names = ["up%d" % i for i in range(1, count + 1)]
    path = write(tmp_path, "sha1.xml", FILE.format(
        users="\n".join(sha1_only(m) for m in names)))
    cp = srv.ctl("import", path)
    assert "imported %d account" % count in cp.stdout, \
        cp.stdout + cp.stderr
    srv.start()
    srv.up = {m: types.SimpleNamespace(jid="%s@localhost" % m,
                                       password=PASSWORD) for m in names}
    return srv


@pytest.fixture
def imported(make_server, tmp_path):
    return import_sha1(make_server, tmp_path, 6)


async def step(raw):
    m = await raw.read_until(STEP_RE)
    raw.buf = raw.buf[m.end():]
    return m.group(1).decode(), m.group(0)


async def to_task(raw):
    """<continue/> came: asks for the task; returns (salt, iterations)."""
    await raw.send("<next xmlns='%s' task='UPGR-SCRAM-SHA-256'/>"
                   % NS_SASL2)
    name, el = await step(raw)
    assert name == "task-data", el
    m = re.search(rb"<salt xmlns='urn:xmpp:scram-upgrade:0' "
                  rb"iterations='(\d+)'>([^<]+)</salt>", el)
    assert m, el
    return base64.b64decode(m.group(2)), int(m.group(1))


async def send_hash(raw, text):
    await raw.send("<task-data xmlns='%s'><hash xmlns='%s'>%s</hash>"
                   "</task-data>" % (NS_SASL2, NS_SCRAM_UP, text))
    return await step(raw)


async def sha1_continue(raw, user):
    """SCRAM-SHA-1 asking for the upgrade; returns the <continue/>."""
    name, el, c = await scram_login(raw, user, "SCRAM-SHA-1", "n,,",
                                    extra=ASK)
    assert name == "continue", el
    # the mechanism's additional data rides in <continue/>
    got = re.search(rb"<additional-data>([^<]+)</additional-data>", el)
    assert got and base64.b64decode(got.group(1)) == c.verifier, el
    assert b"<tasks><task>UPGR-SCRAM-SHA-256</task></tasks>" in el, el
    return el


async def sha256_login(srv, user):
    async with sasl2_open(srv) as (raw, _):
        name, el, _ = await scram_login(raw, user, "SCRAM-SHA-256", "n,,")
    return name, el


async def test_features_offer_the_task(imported):
    async with sasl2_open(imported) as (raw, feats):
        auth = re.search(rb"<authentication xmlns='urn:xmpp:sasl:2'>.*?"
                         rb"</authentication>", feats, re.S).group(0)
        assert b"<upgrade xmlns='urn:xmpp:sasl:upgrade:0'>" \
            b"UPGR-SCRAM-SHA-256</upgrade>" in auth, auth


async def test_scram_sha1_upgrade_then_sha256(imported):
    """The whole task: the salt is fresh, the count is the configured
    one, the client's SaltedPassword becomes SHA-256 credentials; the
    SHA-1 ones stay, and the next login has no task."""
    u = imported.up["up1"]
    name, el = await sha256_login(imported, u)
    assert name == "failure", el        # no SHA-256 credentials yet
    async with sasl2_open(imported) as (raw, _):
        await sha1_continue(raw, u)
        salt, it = await to_task(raw)
        assert len(salt) == 16 and it == 4096
        salted = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, it)
        name, el = await send_hash(raw, b64(salted))
        assert name == "success", el
        assert b"<authorization-identifier>up1@localhost" in el, el
        # authenticated: the stream binds as usual
        await raw.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:"
                       "params:xml:ns:xmpp-bind'/></iq>")
        await raw.read_until(rb"<iq [^>]*id='b1'[^>]*type='result'|"
                             rb"<iq [^>]*type='result'[^>]*id='b1'")
    name, el = await sha256_login(imported, u)
    assert name == "success", el
    async with sasl2_open(imported) as (raw, _):
        name, el, _ = await scram_login(raw, u, "SCRAM-SHA-1", "n,,",
                                        extra=ASK)
        assert name == "success", el    # kept, and nothing to upgrade


async def test_plain_login_and_upgrade(imported):
    """PLAIN is checked against the SHA-1 keys of such an account, and
    may carry the task too."""
    u = imported.up["up2"]
    raw, name, el = await plain_login(imported, u)
    assert name == "success", el
    raw.close()
    raw, name, el = await plain_login(imported, u, extra=ASK)
    try:
        assert name == "continue", el
        salt, it = await to_task(raw)
        salted = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, it)
        name, el = await send_hash(raw, b64(salted))
        assert name == "success", el
    finally:
        raw.close()
    name, el = await sha256_login(imported, u)
    assert name == "success", el


@pytest.mark.parametrize("bad,cond", [
    ("!!not base64!!", "incorrect-encoding"),
    (b64(b"\x01" * 20), "malformed-request"),      # a SHA-1 length
    (b64(b"\x01" * 300), "malformed-request"),
    ("", "incorrect-encoding"),
])
async def test_bad_hash_refused(imported, bad, cond):
    u = imported.up["up3"]
    async with sasl2_open(imported) as (raw, _):
        await sha1_continue(raw, u)
        await to_task(raw)
        name, el = await send_hash(raw, bad)
        assert name == "failure", el
        assert condition(el) == cond, el
        # not authenticated: a stanza ends the stream
        await raw.send("<message to='up1@localhost'><body>x</body>"
                       "</message>")
        await raw.read_until(rb"not-authorized")
    name, el = await sha256_login(imported, u)
    assert name == "failure", el


async def test_abort_unknown_task_and_stray_elements(imported):
    u = imported.up["up4"]
    async with sasl2_open(imported) as (raw, _):
        await sha1_continue(raw, u)
        await raw.send("<abort xmlns='%s'/>" % NS_SASL2)
        name, el = await step(raw)
        assert name == "failure" and condition(el) == "aborted", el
    async with sasl2_open(imported) as (raw, _):
        await sha1_continue(raw, u)
        await raw.send("<next xmlns='%s' task='UPGR-SCRAM-SHA-512'/>"
                       % NS_SASL2)
        name, el = await step(raw)
        assert name == "failure", el
        assert condition(el) == "malformed-request", el
    async with sasl2_open(imported) as (raw, _):
        await sha1_continue(raw, u)
        # <task-data/> before <next/>
        name, el = await send_hash(raw, b64(b"\0" * 32))
        assert name == "failure", el
        assert condition(el) == "malformed-request", el
    async with sasl2_open(imported) as (raw, _):
        await sha1_continue(raw, u)
        await to_task(raw)
        await raw.send("<task-data xmlns='%s'/>" % NS_SASL2)
        name, el = await step(raw)
        assert name == "failure", el
        assert condition(el) == "malformed-request", el
    name, el = await sha256_login(imported, u)
    assert name == "failure", el


async def test_task_not_asked_no_continue(imported):
    """Without <upgrade/> in <authenticate/>, no task, whatever the
    account lacks."""
    u = imported.up["up5"]
    async with sasl2_open(imported) as (raw, _):
        name, el, _ = await scram_login(raw, u, "SCRAM-SHA-1", "n,,")
        assert name == "success", el


async def test_fast_login_upgrades_and_tokens_survive(imported):
    """FAST (XEP-0484) on such an account: a token issued before the
    upgrade logs in with the task asked, a token issued in that very
    login (under the SHA-1 credentials) still logs in after it, and the
    account then has SHA-256 credentials."""
    from test_fast import TOKEN_RE, password_login, token_login
    u = imported.up["up6"]
    dev = str(uuid.uuid4())
    token = await password_login(imported, u, dev)
    raw, _ = await sasl2_stream(imported)
    try:
        mac = hmac.new(token.encode(), b"Initiator",
                       hashlib.sha256).digest()
        await raw.send("<authenticate xmlns='%s' mechanism='HT-SHA-256-NONE'>"
                       "<initial-response>%s</initial-response>%s"
                       "<fast xmlns='urn:xmpp:fast:0'/><request-token "
                       "xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>"
                       "%s</authenticate>"
                       % (NS_SASL2, b64(b"up6\0" + mac), ua(dev), ASK))
        name, el = await step(raw)
        assert name == "continue", el
        salt, it = await to_task(raw)
        salted = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, it)
        name, el = await send_hash(raw, b64(salted))
        assert name == "success", el
        new = TOKEN_RE.search(el).group(2).decode()
    finally:
        raw.close()
    name, el = await sha256_login(imported, u)
    assert name == "success", el
    name, el = await token_login(imported, u, dev, new)
    assert name == "success", el


async def test_no_task_without_tls(make_server, tmp_path):
    """The SaltedPassword logs in with SCRAM-SHA-256 as the password
    does: like PLAIN, the task is offered and run over TLS only. Without
    TLS (c2s-require-tls no) the features lack it and asking for it gets
    <success/> with the account left as it was."""
    srv = import_sha1(make_server, tmp_path, 1, c2s_require_tls="no")
    u = srv.up["up1"]
    raw = await Raw.open(srv.port)
    try:
        feats = (await raw.stream_header()).string
        assert b"<authentication xmlns='urn:xmpp:sasl:2'>" in feats, feats
        assert NS_UPGRADE.encode() not in feats, feats
        raw.mark()
        name, el, _ = await scram_login(raw, u, "SCRAM-SHA-1", "n,,",
                                        extra=ASK)
        assert name == "success", el
    finally:
        raw.close()
    name, el = await sha256_login(srv, u)
    assert name == "failure", el
