"""
Dead connections (issue 14, XEP-0199): a client silent for
c2s-ping-interval is pinged; one that sends nothing within
c2s-ping-timeout is taken for dead and its contacts see it go offline,
while one that answers stays. The pong is the c2s's own: never routed.
Under stream management the probe is an <r/>, and a silent resumable
session hibernates instead of ending.
"""
import asyncio
import re

from conftest import DOMAIN, STANZA_TIMEOUT
from imhelp import drain, grant, online, settle, wait_presence
from test_rfc6120 import authed, bound
from test_sm import attr, enabled, resume

INTERVAL, TIMEOUT = 2, 2
PING_RE = re.compile(rb"<iq\b[^>]*\bid=['\"](ping-[0-9a-f]+)['\"][^>]*>"
                     rb"<ping xmlns=['\"]urn:xmpp:ping['\"]/></iq>")


async def contact_pair(srv, clients):
    """watcher is subscribed to user's presence (user keeps a slixmpp
    session of its own). Returns (watcher client, its user, user)."""
    wuser, user = srv.new_user("w"), srv.new_user("d")
    w = await online(srv, clients, wuser)
    t = await online(srv, clients, user)
    await grant(w, wuser, t, user)
    drain(w)
    return w, wuser, user


async def raw_online(srv, user, w):
    raw = await bound(srv, user, resource="raw")
    await raw.send("<presence/>")
    await wait_presence(w, frm=user.jid + "/raw")
    raw.mark()
    return raw


async def test_silent_client_goes_offline(make_server, clients):
    srv = make_server(c2s_ping_interval=INTERVAL, c2s_ping_timeout=TIMEOUT)
    w, _, user = await contact_pair(srv, clients)
    raw = await raw_online(srv, user, w)
    try:
        # the server pings from its domain to the full JID
        m = await raw.read_until(PING_RE, INTERVAL + STANZA_TIMEOUT)
        el = m.group(0)
        assert b"from='%s'" % DOMAIN.encode() in el, el
        assert b"to='%s/raw'" % user.jid.encode() in el, el
        # no answer: the contact sees it go, well before idle-timeout
        await wait_presence(w, frm=user.jid + "/raw", type_="unavailable",
                            timeout=TIMEOUT + STANZA_TIMEOUT)
        await raw.read_until(rb"<connection-timeout ", STANZA_TIMEOUT)
    finally:
        raw.close()


async def test_answering_client_stays(make_server, clients):
    srv = make_server(c2s_ping_interval=INTERVAL, c2s_ping_timeout=TIMEOUT)
    w, _, user = await contact_pair(srv, clients)
    raw = await raw_online(srv, user, w)
    try:
        for _ in range(3):
            m = await raw.read_until(PING_RE, INTERVAL + STANZA_TIMEOUT)
            pid = m.group(1).decode()
            raw.mark()
            await raw.send("<iq type='result' id='%s' to='%s'/>"
                           % (pid, DOMAIN))
        # past several timeouts: still there, and the pongs were not
        # routed (the server would have answered or bounced them)
        await asyncio.sleep(TIMEOUT + 0.5)
        [got] = await settle(w)
        assert not got.pres(type_="unavailable"), got.summary()
        assert not raw.eof
        assert not re.search(rb"type=['\"]error['\"]", raw.buf), raw.buf
        # a message still reaches it
        w.chat(user.jid + "/raw", "still here")
        await raw.read_until(rb"<body>still here</body>")
    finally:
        raw.close()


async def test_silent_resumable_session_hibernates(make_server, clients):
    """Under stream management the probe is an <r/>; a silent resumable
    session is not ended but hibernates (its contact sees nothing) and
    can be resumed."""
    srv = make_server(c2s_ping_interval=INTERVAL, c2s_ping_timeout=TIMEOUT,
                      sm_resume_timeout=60)
    w, _, user = await contact_pair(srv, clients)
    raw = await raw_online(srv, user, w)
    new = None
    try:
        previd = attr(await enabled(raw), "id")
        raw.mark()
        await raw.read_until(rb"<r xmlns=['\"]urn:xmpp:sm:3['\"]/>",
                             INTERVAL + STANZA_TIMEOUT)
        assert not PING_RE.search(raw.buf), raw.buf
        await raw.read_until(rb"<connection-timeout ",
                             TIMEOUT + STANZA_TIMEOUT)
        # hibernated: still available to the contact
        await asyncio.sleep(1)
        [got] = await settle(w)
        assert not got.pres(type_="unavailable"), got.summary()
        new = await authed(srv, user)
        el = await resume(new, previd, 0)
        assert el.startswith(b"<resumed"), el
    finally:
        raw.close()
        if new is not None:
            new.close()
