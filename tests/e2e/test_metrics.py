"""
/metrics on the HTTP listener (issue 18): the router's numbers in the
OpenMetrics text format (or Prometheus's 0.0.4 when not asked for
OpenMetrics), checked with Prometheus's own parsers; counters that move
with logins, failures and stanzas; and who may read it (metrics-allow).
"""
import asyncio
import functools
import re
import shutil
import subprocess

import pytest
from prometheus_client.openmetrics import parser as om_parser
from prometheus_client import parser as text_parser

from imhelp import online, send_message
from webhelp import raw_request, web_server

OM = "application/openmetrics-text; version=1.0.0"


def with_http(make_server):
    """make_server, each server with an HTTP listener of its own."""
    return functools.partial(web_server, make_server)


def metrics_server(make_server, **kw):
    return with_http(make_server)(**kw)


async def get(srv, path="/metrics", headers=(), method="GET"):
    """(status, headers dict, body) of one request."""
    req = "%s %s HTTP/1.1\r\n" % (method, path)
    for h in headers:
        req += h + "\r\n"
    status, hdrs, body = await raw_request(srv.http_port, req)
    return status, hdrs, body.decode()


def om_samples(text):
    """{(name, labels tuple): value}, parsed by prometheus_client's
    OpenMetrics parser (strict: it refuses what the format refuses)."""
    out = {}
    for fam in om_parser.text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.mark.one_host("per-process figures from /proc of the router's"
                      " host; a remote worker's are not there")
async def test_format_and_counters(make_server, clients):
    srv = metrics_server(make_server)
    ua, ub = srv.new_user("ma"), srv.new_user("mb")

    st, h, text = await get(srv, headers=["Accept: " + OM])
    assert st == 200, text
    assert h["content-type"].startswith(OM), h
    assert text.endswith("# EOF\n"), text[-200:]
    before = om_samples(text)
    assert value(before, "parley_sessions") == 0
    for kind in ("message", "presence", "iq"):
        value(before, "parley_stanzas_routed_total", kind=kind)
    for proc in ("router", "c2s[1]", "c2s[2]", "s2s"):
        assert value(before, "parley_process_cpu_seconds_total",
                     process=proc) >= 0
        assert value(before, "parley_process_resident_memory_bytes",
                     process=proc) > 0
    assert value(before, "parley_storage_bytes") > 0
    assert value(before, "parley_s2s_link_up") == 1

    a = await online(srv, clients, ua, resource="a")
    b = await online(srv, clients, ub, resource="b")
    send_message(a, str(b.boundjid), "counted")
    await b.next_message()
    await clients.connect(srv, ua.jid, "wrong", expect="auth-failed")

    st, h, text = await get(srv, headers=["Accept: " + OM])
    after = om_samples(text)
    assert value(after, "parley_sessions") == 2
    assert value(after, "parley_accounts_online") == 2
    assert (value(after, "parley_logins_total") -
            value(before, "parley_logins_total")) == 2
    assert (value(after, "parley_auth_failures_total") -
            value(before, "parley_auth_failures_total")) >= 1
    assert (value(after, "parley_stanzas_routed_total", kind="message") >
            value(before, "parley_stanzas_routed_total", kind="message"))
    per = sum(value(after, "parley_c2s_sessions", process=p)
              for p in ("c2s[1]", "c2s[2]"))
    assert per == 2


async def test_text_format_and_promtool(make_server, tmp_path):
    """Without Accept: OpenMetrics the 0.0.4 text format, which
    prometheus_client's parser and (where installed) promtool accept."""
    srv = metrics_server(make_server)
    st, h, text = await get(srv)
    assert st == 200, text
    assert h["content-type"].startswith("text/plain; version=0.0.4"), h
    assert "# EOF" not in text
    assert re.search(r"^# TYPE parley_logins_total counter$", text, re.M)
    names = {f.name for f in text_parser.text_string_to_metric_families(
        text)}
    assert "parley_sessions" in names, names
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian's prometheus) is not installed")
    # promtool reads the 0.0.4 format only (OpenMetrics' counter
    # families, named without _total, look empty to it): the OpenMetrics
    # text is checked by prometheus_client's OpenMetrics parser above
    cp = subprocess.run([promtool, "check", "metrics"], input=text,
                        capture_output=True, text=True, timeout=30)
    assert cp.returncode == 0, cp.stdout + cp.stderr


async def test_access(make_server):
    # loopback only by default: a client a trusted proxy vouches for is not
    srv = metrics_server(make_server, http_trusted_proxies="127.0.0.1")
    st, _, _ = await get(srv)
    assert st == 200
    st, _, _ = await get(srv, headers=["X-Forwarded-For: 203.0.113.5"])
    assert st == 403
    st, _, _ = await get(srv, method="POST",
                         headers=["Content-Length: 0"])
    assert st == 405
    st, h, body = await get(srv, method="HEAD")
    assert st == 200 and body == "" and int(h["content-length"]) > 0
    st, _, _ = await get(srv, path="/metrics/x")
    assert st == 404

    # an explicit list replaces loopback
    srv2 = metrics_server(make_server,
                          metrics_allow='"192.0.2.1 203.0.113.5"',
                          http_trusted_proxies="127.0.0.1")
    st, _, _ = await get(srv2)
    assert st == 403
    st, _, _ = await get(srv2, headers=["X-Forwarded-For: 203.0.113.5"])
    assert st == 200
    srv3 = metrics_server(make_server, metrics_allow="any")
    st, _, _ = await get(srv3)
    assert st == 200


async def test_many_requests_at_once(make_server):
    """More requests than may wait for the router: each one is answered
    (200 or 503), none hangs, and the server keeps serving."""
    srv = metrics_server(make_server)
    res = await asyncio.gather(*[get(srv) for _ in range(40)])
    assert all(st in (200, 503) for st, _, _ in res), [r[0] for r in res]
    assert any(st == 200 for st, _, _ in res)
    st, _, _ = await get(srv)
    assert st == 200


async def test_s2s_connections_by_state(make_server, tmp_path_factory,
                                        clients):
    """The s2s process reports its connections (every 5 s): after a
    message from a.test to b.test, A has an open outgoing connection and
    B an incoming one."""
    from test_s2s import pair, user
    a, b = pair(with_http(make_server), tmp_path_factory)
    ua, ub = user(a, "a.test"), user(b, "b.test")
    ca = await online(a, clients, ua, resource="a")
    cb = await online(b, clients, ub, resource="b")
    send_message(ca, str(cb.boundjid), "over s2s")
    await cb.next_message(timeout=20)

    async def count(srv, direction, state=None):
        _, _, text = await get(srv, headers=["Accept: " + OM])
        return sum(v for (n, lab), v in om_samples(text).items()
                   if n == "parley_s2s_connections" and
                   dict(lab)["direction"] == direction and
                   state in (None, dict(lab)["state"]))

    async def reported(srv, direction, state=None):
        for _ in range(80):
            if await count(srv, direction, state) >= 1:
                return True
            await asyncio.sleep(0.1)
        return False

    # an incoming stream keeps the state it had when its features went
    # (the s2s process authorizes domains on it, not the connection)
    assert await reported(a, "out", "open")
    assert await reported(b, "in")
