"""
Helpers shared by the e2e tests of the c2s HTTP listener (test_http,
test_websocket, test_bosh, test_webclient, test_metrics): a server with
listeners of its own, one raw request and its parsed answer, and the
login steps that a web transport carries (SASL PLAIN, binding).
"""
import asyncio
import re

from conftest import free_port, sasl_plain

TIMEOUT = 10


def web_server(make_server, https=False, **kw):
    """make_server with an http-listen (srv.http_port) and, if https, an
    https-listen (srv.https_port) of its own."""
    port = free_port()
    if https:
        tls_port = free_port()
        kw["https_listen"] = "127.0.0.1:%d" % tls_port
    srv = make_server(http_listen="127.0.0.1:%d" % port, **kw)
    srv.http_port = port
    if https:
        srv.https_port = tls_port
    return srv


def parse_response(data):
    """(status, reason, headers with lowercase names, body bytes)."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    _, status, reason = (lines[0].split(" ", 2) + [""])[:3]
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return int(status), reason, hdrs, body


async def raw_request(port, head):
    """head (a request line and headers, each ending in CRLF) with Host
    and Connection: close, on a connection of its own: (status, headers,
    body bytes) of the answer."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(head.encode() + b"Host: localhost\r\nConnection: close\r\n\r\n")
    await w.drain()
    try:
        data = await asyncio.wait_for(r.read(), TIMEOUT)
    finally:
        w.close()
    status, _, hdrs, body = parse_response(data)
    return status, hdrs, body


def auth_plain(user):
    """The SASL PLAIN <auth/> of user."""
    return ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
            "mechanism='PLAIN'>%s</auth>"
            % sasl_plain(user.jid.split("@")[0], user.password))


def bind_iq(resource, xmlns=""):
    """The binding request (id b1) for resource; xmlns the attribute
    (with its leading space) when the transport needs it said."""
    return ("<iq%s type='set' id='b1'><bind xmlns='urn:ietf:params:xml:"
            "ns:xmpp-bind'><resource>%s</resource></bind></iq>"
            % (xmlns, resource))


def bound_jid(text):
    """The full JID in a binding result."""
    return re.search(r"<jid>([^<]+)</jid>", text).group(1)
