"""
Helpers shared by the instant-messaging e2e tests (roster, subscriptions,
presence, offline messages): roster get/set, roster push capture, presence
sending, and fences that replace sleeps.

A fence is an IQ ping to the server answered by the router. The router
handles one session's stanzas in order and writes to one session in order,
so once a client has its ping answered, everything the router sent it
before handling the ping has been received (and queued by the Client
handlers, which run in stream order). settle() fences every client twice:
the first pass makes sure every stanza sent so far was processed, the
second that every consequence of them reached its recipient.
"""
import asyncio
import datetime
import re
import time

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from conftest import DOMAIN, NS_CLIENT, NS_PING, STANZA_TIMEOUT, uniq

NS_ROSTER = "jabber:iq:roster"
NS_DELAY = "urn:xmpp:delay"
NS_CAPS = "http://jabber.org/protocol/caps"
NS_ROSTERVER = "urn:xmpp:features:rosterver"
NS_PREAPPROVAL = "urn:xmpp:features:pre-approval"


def track(c):
    """Records the roster pushes (iq type='set' with a roster query) c
    receives in c.pushes. slixmpp answers them itself."""
    if hasattr(c, "pushes"):
        return c
    c.pushes = asyncio.Queue()

    def on_roster_iq(iq):
        if iq["type"] == "set":
            c.pushes.put_nowait(iq)
    c.register_handler(Callback(
        "t-roster-push",
        MatchXPath("{%s}iq/{%s}query" % (NS_CLIENT, NS_ROSTER)),
        on_roster_iq))
    return c


# ---------------------------------------------------------------------------
# roster

class Item:
    """One roster item as the server sent it."""

    def __init__(self, el):
        self.jid = el.get("jid")
        self.name = el.get("name")
        self.sub = el.get("subscription")
        self.ask = el.get("ask")
        self.approved = el.get("approved")
        self.groups = [g.text or "" for g in el.findall("{%s}group"
                                                          % NS_ROSTER)]

    @property
    def visible(self):
        """(subscription, pending out) as a client sees it."""
        return (self.sub or "none", self.ask == "subscribe")

    def __repr__(self):
        return "Item(%s sub=%s ask=%s approved=%s name=%r groups=%s)" % (
            self.jid, self.sub, self.ask, self.approved, self.name,
            self.groups)


def query_of(iq):
    return iq.xml.find("{%s}query" % NS_ROSTER)


def items_of(iq):
    """{jid: Item} of a roster result or push."""
    q = query_of(iq)
    if q is None:
        return {}
    return {i.get("jid"): Item(i) for i in q.findall("{%s}item" % NS_ROSTER)}


async def roster_get(c, ver=None):
    """Roster get (c becomes an interested resource). Returns
    (items {jid: Item}, ver or None, the result iq)."""
    track(c)
    attr = "" if ver is None else " ver='%s'" % ver
    r = await c.iq("<query xmlns='%s'%s/>" % (NS_ROSTER, attr))
    assert r["type"] == "result", "roster get failed: %s" % r
    q = query_of(r)
    return items_of(r), (q.get("ver") if q is not None else None), r


async def roster_set(c, jid, name=None, groups=(), extra="", raw=None):
    """Roster set of one item; returns the answer (result or error)."""
    track(c)
    if raw is None:
        attrs = " jid='%s'" % jid
        if name is not None:
            attrs += " name='%s'" % name
        raw = "<query xmlns='%s'><item%s%s>%s</item></query>" % (
            NS_ROSTER, attrs, extra,
            "".join("<group>%s</group>" % g for g in groups))
    return await c.iq(raw, type_="set")


async def roster_remove(c, jid):
    track(c)
    return await c.iq("<query xmlns='%s'><item jid='%s' "
                      "subscription='remove'/></query>" % (NS_ROSTER, jid),
                      type_="set")


async def next_push(c, timeout=STANZA_TIMEOUT, what="a roster push"):
    try:
        return await asyncio.wait_for(c.pushes.get(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError("%s got no roster push within %ss (waiting "
                             "for %s)" % (c.boundjid, timeout, what))


# ---------------------------------------------------------------------------
# fences and queues

async def fence(c, timeout=STANZA_TIMEOUT):
    r = await c.iq("<ping xmlns='%s'/>" % NS_PING, to=DOMAIN, timeout=timeout)
    assert r["type"] == "result", "fence ping failed: %s" % r


class Got:
    """What a client received since the last drain."""

    def __init__(self, presences, messages, pushes):
        self.presences = presences
        self.messages = messages
        self.pushes = pushes

    def pres(self, type_=None, frm=None):
        """Presences filtered by type ('available' for none) and from."""
        return [p for p in self.presences
                if (type_ is None or ptype(p) == type_) and
                (frm is None or p["from"].full == frm)]

    def summary(self):
        return "presences %s; messages %s; pushes %s" % (
            [str(p) for p in self.presences],
            [str(m) for m in self.messages], [str(i) for i in self.pushes])


def _take(q):
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


def drain(c):
    track(c)
    return Got(_take(c.presences), _take(c.messages), _take(c.pushes))


async def settle(*cs):
    """Fences every client twice (see the module comment); returns
    [Got] in the order given."""
    for _ in range(2):
        for c in cs:
            await fence(c)
    return [drain(c) for c in cs]


def ptype(p):
    """A presence's type attribute, 'available' when absent."""
    return p.xml.get("type") or "available"


def pkey(p):
    """(from, type) of a presence, for comparisons."""
    return (p["from"].full, ptype(p))


async def wait_presence(c, frm=None, type_=None, timeout=STANZA_TIMEOUT,
                        kept=None):
    """Waits for a presence from frm (full or bare JID string) of type_
    ('available' for none); others go to kept (a list) if given."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            p = await asyncio.wait_for(c.presences.get(), max(left, 0.01))
        except asyncio.TimeoutError:
            raise AssertionError(
                "%s: no presence from %s of type %s within %ss (other "
                "presences: %s)" % (c.boundjid, frm, type_, timeout,
                                    [str(x) for x in (kept or [])]))
        if (frm is None or p["from"].full == frm) and \
                (type_ is None or ptype(p) == type_):
            return p
        if kept is not None:
            kept.append(p)


# ---------------------------------------------------------------------------
# sessions

async def online(server, clients, user, resource=None, roster=True,
                 presence="<presence/>", **kw):
    """Logs user in; with roster, requests the roster (interested
    resource); with presence, sends it (initial presence). Returns the
    client after a fence, with its queues drained (what arrived is in
    c.at_login)."""
    c = await clients.login(server, user, resource=resource or uniq("r"),
                            **kw)
    track(c)
    if roster:
        await roster_get(c)
    if presence:
        c.send_raw(presence)
    await fence(c)
    c.at_login = drain(c)
    return c


def send_presence(c, to=None, type_=None, body=""):
    attrs = ""
    if to:
        attrs += " to='%s'" % to
    if type_:
        attrs += " type='%s'" % type_
    c.send_raw("<presence%s>%s</presence>" % (attrs, body) if body
               else "<presence%s/>" % attrs)


def send_message(c, to, body, type_="chat", extra=""):
    mid = uniq("m")
    t = " type='%s'" % type_ if type_ else ""
    c.send_raw("<message to='%s'%s id='%s'><body>%s</body>%s</message>"
               % (to, t, mid, body, extra))
    return mid


# ---------------------------------------------------------------------------
# XEP-0082 / XEP-0203

STAMP_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)"
                      r"(\.\d+)?Z$")


def parse_stamp(s):
    """A XEP-0082 DateTime in UTC ('Z') as a POSIX time; fails the test
    on any other form."""
    m = STAMP_RE.match(s or "")
    assert m, "delay stamp %r is not a XEP-0082 UTC DateTime" % s
    y, mo, d, h, mi, sec = (int(x) for x in m.groups()[:6])
    frac = float(m.group(7)) if m.group(7) else 0.0
    dt = datetime.datetime(y, mo, d, h, mi, sec,
                           tzinfo=datetime.timezone.utc)
    return dt.timestamp() + frac


async def grant(watcher, wuser, target, tuser):
    """watcher (wuser) subscribes to the presence of target (tuser), who
    approves: watcher's item becomes 'to' (or 'both'). Both online."""
    watcher.send_raw("<presence to='%s' type='subscribe'/>" % tuser.jid)
    await settle(watcher, target)
    target.send_raw("<presence to='%s' type='subscribed'/>" % wuser.jid)
    await settle(watcher, target)
    drain(watcher)
    drain(target)


# ---------------------------------------------------------------------------
# migration (test_migrate_prosody.py, test_migrate_ejabberd.py)

async def check_imported(srv, clients, jid, password, fn):
    """An account imported from another server: its old password logs in
    (PLAIN, and the client's own choice of mechanism, which falls back
    from SCRAM-SHA-256 when only SCRAM-SHA-1 came), the contact the test
    made there ("friend@example.org", "Old Friend", group "Pals") and the
    vCard whose FN is fn are here."""
    await clients.connect(srv, jid, password, mechs=["PLAIN"])
    c = await clients.connect(srv, jid, password)
    items, _, _ = await roster_get(c)
    assert "friend@example.org" in items, items
    assert items["friend@example.org"].name == "Old Friend"
    assert items["friend@example.org"].groups == ["Pals"]
    r = await c.iq("<vCard xmlns='vcard-temp'/>")
    assert fn in str(r), r
