"""
XEP-0478 (stream limits advertisement): every features list, of a client
stream and of an incoming server stream, says the largest element the
stream accepts and, once authenticated, how long it may stay silent; the
figures are the configured ones and change with authentication. The
advertised pre-authentication limit is the one enforced. Beside a
required STARTTLS nothing is advertised (RFC 6120 5.3.1).
"""
import asyncio
import re

from conftest import Raw
from test_rfc6120 import restart_after_plain
from test_s2s import S2S_HEADER, pair, read_for

LIMITS = re.compile(rb"<limits xmlns=['\"]urn:xmpp:stream-limits:0['\"]>"
                    rb"(.*?)</limits>", re.S)


def limits_in(features):
    m = LIMITS.search(features)
    assert m, features
    got = dict(re.findall(rb"<(max-bytes|idle-seconds)>(\d+)</\1>",
                          m.group(1)))
    return {k.decode(): int(v) for k, v in got.items()}


async def test_client_stream_limits(make_server):
    srv = make_server(c2s_max_stanza_size_preauth="6000",
                      max_stanza_size="64K", idle_timeout="700")
    raw = await Raw.open(srv.port)
    await raw.stream_header()
    # a required STARTTLS is offered alone (RFC 6120 5.3.1)
    assert b"stream-limits" not in raw.buf, raw.buf
    raw.close()
    raw = await Raw.open(srv.port)
    first = await raw.starttls()
    # before authentication: that limit alone, no idle figure
    assert limits_in(first) == {"max-bytes": 6000}
    # and it is the one enforced: an element past it is refused
    await raw.send("<iq type='get' id='big'><query xmlns='x'>%s</query>"
                   "</iq>" % ("q" * 6000))
    await raw.read_until(rb"policy-violation")
    # the features after SASL carry the authenticated stream's limits
    raw = await Raw.open(srv.port)
    await raw.starttls()
    m = await restart_after_plain(raw, srv.new_user("lim"))
    assert limits_in(m.group(0)) == {"max-bytes": 65536,
                                     "idle-seconds": 700}


async def test_server_stream_limits(make_server, tmp_path_factory):
    a, _ = pair(make_server, tmp_path_factory, s2s_require_tls="no",
                s2s_max_stanza_size_preauth="8000",
                s2s_idle_timeout="900")
    port = int(a.opts["s2s-listen"].split(":")[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write((S2S_HEADER % ("b.test", "a.test")).encode())
    data = await read_for(reader, b"</stream:features>")
    writer.close()
    assert limits_in(data) == {"max-bytes": 8000, "idle-seconds": 900}
