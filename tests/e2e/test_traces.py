"""
Traces never log secrets (docs/hardening.md): with `-T xml` every byte a
client sends is traced, but the SASL payloads (PLAIN carries the
password itself) and the password of an in-band registration are cut.
"""
import base64

from conftest import DOMAIN, NS_SASL, Raw, sasl_plain, uniq
from test_register import NS_REGISTER, raw_iq, reg_set, tls_stream


async def test_xml_trace_redacts_passwords(make_server, clients,
                                           monkeypatch):
    monkeypatch.setenv("PARLEY_TRACE", "xml")
    srv = make_server(host_options={DOMAIN: {"register": "yes"}})
    # a registration, then a PLAIN login with the new account
    local, password = uniq("t"), "reg-" + uniq("secret")
    raw, _ = await tls_stream(srv)
    try:
        iq = await raw_iq(raw, reg_set(local, password), "set")
        assert iq.get("type") == "result"
    finally:
        raw.close()
    raw = await Raw.open(srv.port)
    try:
        await raw.starttls()
        await raw.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                       % (NS_SASL, sasl_plain(local, password)))
        await raw.read_until(rb"<success\b")
    finally:
        raw.close()
    # SCRAM with another account (slixmpp)
    u = srv.new_user()
    await clients.login(srv, u)
    log = srv.log_text()
    assert " recv " in log and "<auth " in log, \
        "no XML trace in the log:\n" + srv.log_tail()
    assert "[redacted]" in log
    for secret in (password, u.password, sasl_plain(local, password),
                   base64.b64encode(password.encode()).decode()):
        assert secret not in log, "%r in the trace" % secret
    assert "<password>[redacted]</password>" in log
