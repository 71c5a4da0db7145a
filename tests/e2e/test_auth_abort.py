"""
<abort/> while the c2s waits for the router's credentials (RFC 6120
6.4.5): the client gets <failure><aborted/></failure> and may start
again on the same stream; the late answer to the aborted lookup is
dropped, never applied to the next exchange. The elements go in one
write, so the abort is read before the router can have answered.
"""
import base64

from conftest import NS_SASL, Raw, sasl_plain, stream_errors_in


def plain(user, password):
    return ("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
            % (NS_SASL, sasl_plain(user, password)))


def scram_first(user):
    gs2 = base64.b64encode(("n,,n=%s,r=abcdefghijklmnop" % user)
                           .encode()).decode()
    return ("<auth xmlns='%s' mechanism='SCRAM-SHA-256'>%s</auth>"
            % (NS_SASL, gs2))


async def test_abort_during_lookup(server):
    u = server.new_user()
    raw = await Raw.open(server.port)
    try:
        await raw.starttls()
        raw.mark()
        await raw.send(scram_first(u.local) + "<abort xmlns='%s'/>"
                       % NS_SASL)
        await raw.read_until(rb"<failure xmlns=['\"]%s['\"]>"
                             rb"<aborted/></failure>"
                             % NS_SASL.encode())
        assert not stream_errors_in(raw.buf), raw.buf
        # the stream goes on: a new exchange succeeds
        raw.mark()
        await raw.send(plain(u.local, u.password))
        await raw.read_until(rb"<success\b")
        assert b"<failure" not in raw.buf, raw.buf
    finally:
        raw.close()


async def test_late_answer_not_applied_to_next_exchange(server):
    """auth as u, abort, auth as v in one write: u's credentials arrive
    first and must not be checked against v's password."""
    u, v = server.new_user(), server.new_user()
    raw = await Raw.open(server.port)
    try:
        await raw.starttls()
        raw.mark()
        await raw.send(plain(u.local, "not-u-password") +
                       "<abort xmlns='%s'/>" % NS_SASL +
                       plain(v.local, v.password))
        await raw.read_until(rb"<aborted/></failure>")
        await raw.read_until(rb"<success\b")
        assert b"not-authorized" not in raw.buf, raw.buf
    finally:
        raw.close()
