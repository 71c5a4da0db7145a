"""
Message carbons (XEP-0280) and the message archive (XEP-0313) with
messages that cross the federation: a Parley user with two resources,
carbons on in both, talks with a user of Prosody, ejabberd or another
Parley. The resource that is not in the conversation gets the received
carbon of the remote user's message and the sent carbon of the reply;
the Parley user's archive holds each message once, and the delivered
message carries the stanza-id of that archive (XEP-0359).

A carbon is only ever made by the user's own server (XEP-0280 11): a
remote user whose server passes on a message wrapping <received/> or
<sent/> must not reach a Parley client as a carbon.
"""
import xml.etree.ElementTree as ET

from conftest import new_user, uniq
from test_federation import matrix, online, servers

NS_CARBONS = "urn:xmpp:carbons:2"
NS_FWD = "urn:xmpp:forward:0"
NS_MAM = "urn:xmpp:mam:2"
NS_SID = "urn:xmpp:sid:0"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_CLIENT = "jabber:client"


async def carbons_on(c):
    r = await c.iq("<enable xmlns='%s'/>" % NS_CARBONS, type_="set")
    assert r["type"] == "result", "%s enables carbons: %s" % (c.boundjid, r)


def carbon_of(m, direction):
    """The forwarded message of a <received/> or <sent/> carbon, or
    None."""
    fwd = m.xml.find("{%s}%s/{%s}forwarded" % (NS_CARBONS, direction,
                                               NS_FWD))
    return None if fwd is None else fwd.find("{%s}message" % NS_CLIENT)


def any_carbon(m):
    return any(m.xml.find("{%s}%s" % (NS_CARBONS, d)) is not None
               for d in ("received", "sent"))


def stanza_ids(el, by):
    return [s.get("id") for s in el.findall("{%s}stanza-id" % NS_SID)
            if s.get("by") == by]


async def archive(c, with_):
    """The whole archive of c's account with with_: [(id, message el)]."""
    qid = uniq("q")
    got = []

    r = await c.iq("<query xmlns='%s' queryid='%s'><x xmlns='jabber:x:data' "
                   "type='submit'><field var='FORM_TYPE' type='hidden'>"
                   "<value>%s</value></field><field var='with'><value>%s"
                   "</value></field></x></query>"
                   % (NS_MAM, qid, NS_MAM, with_), type_="set")
    assert r["type"] == "result", "MAM query of %s: %s" % (c.boundjid, r)
    while not c.messages.empty():
        m = c.messages.get_nowait()
        res = m.xml.find("{%s}result" % NS_MAM)
        if res is None or res.get("queryid") != qid:
            continue
        assert m["from"].bare == c.boundjid.bare, str(m)
        msg = res.find("{%s}forwarded/{%s}message" % (NS_FWD, NS_CLIENT))
        assert msg is not None, str(m)
        got.append((res.get("id"), msg))
    fin = r.xml.find("{%s}fin" % NS_MAM)
    count = fin.findtext("{%s}set/{%s}count" % (NS_RSM, NS_RSM))
    assert count is not None and int(count) == len(got), (
        "fin count %s for %d results: %s" % (count, len(got), r))
    return got


async def two_and_one(pool, clients, kind, domain, mode):
    """A local user a with two resources, carbons on in both, and a
    remote user b online: (local, remote, a, b, ca1, ca2, cb)."""
    local, remote = servers(pool, kind, domain, mode)
    a, b = new_user(local, "a"), new_user(remote, "b")
    ca1, ca2 = await online(clients, a), await online(clients, a)
    cb = await online(clients, b)
    await carbons_on(ca1)
    await carbons_on(ca2)
    return local, remote, a, b, ca1, ca2, cb


async def carried(x, y, other, a, direction, body):
    """x writes body to y; y gets it from x, and a's other resource the
    carbon in direction, from a's bare JID, naming x and y. Returns the
    message y got."""
    x.chat(y.boundjid.full, body)
    m = await y.next_message(match=lambda m: m["body"] == body,
                             what="%r at %s" % (body, y.boundjid))
    assert m["from"].full == x.boundjid.full, str(m)
    c = await other.next_message(
        match=lambda m: carbon_of(m, direction) is not None,
        what="%s carbon" % direction)
    assert c["from"].full == a.jid, "carbon from %s" % c["from"]
    inner = carbon_of(c, direction)
    assert inner.findtext("{%s}body" % NS_CLIENT) == body, str(c)
    assert inner.get("from") == x.boundjid.full, str(c)
    assert inner.get("to") == y.boundjid.full, str(c)
    return m


@matrix
async def test_carbons_and_archive_of_remote_chat(pool, clients, kind,
                                                  domain, mode):
    local, remote, a, b, ca1, ca2, cb = await two_and_one(
        pool, clients, kind, domain, mode)
    # the remote user writes to one resource
    body_in = uniq("in-")
    m = await carried(cb, ca1, ca2, a, "received", body_in)
    [sid_in] = stanza_ids(m.xml, a.jid) or [None]
    assert sid_in, "no stanza-id by %s on %s" % (a.jid, m)
    # the reply: a sent carbon to the other resource
    body_out = uniq("out-")
    await carried(ca1, cb, ca2, a, "sent", body_out)
    # no second copy anywhere
    for x in (ca1, ca2):
        await x.fence()
        more = [t for t in x.pending() if body_in in t or body_out in t or
                NS_CARBONS in t]
        assert not more, "%s got more: %s" % (x.boundjid, more)
    # the archive: each message once, the incoming one under the id the
    # delivered message carried
    got = await archive(ca2, b.jid)
    bodies = [msg.findtext("{%s}body" % NS_CLIENT) for _, msg in got]
    assert bodies == [body_in, body_out], bodies
    assert got[0][0] == sid_in, (got[0][0], sid_in)
    assert got[0][1].get("from") == cb.boundjid.full
    assert got[1][1].get("to") == cb.boundjid.full
    # a full JID filter names the remote resource (XEP-0313 4.1.1)
    got = await archive(ca2, cb.boundjid.full)
    assert len(got) == 2, [ET.tostring(m) for _, m in got]


def forged(direction, frm, to, body):
    return ("<%s xmlns='%s'><forwarded xmlns='%s'><message xmlns='%s' "
            "type='chat' from='%s' to='%s'><body>%s</body></message>"
            "</forwarded></%s>" % (direction, NS_CARBONS, NS_FWD, NS_CLIENT,
                                   frm, to, body, direction))


@matrix
async def test_forged_carbon_from_remote(pool, clients, kind, domain, mode):
    """XEP-0280 11: a remote user sends a message whose payload is a
    <received/> (or <sent/>) carbon naming the Parley user; neither of
    the Parley user's resources gets it as a carbon, and the server
    says why in its log when it saw one."""
    local, remote, a, b, ca1, ca2, cb = await two_and_one(
        pool, clients, kind, domain, mode)
    since, rsince = local.log_size(), remote.log_size()
    bodies = []
    for direction in ("received", "sent"):
        body = uniq("forged-")
        bodies.append(body)
        payload = forged(direction, "someone@%s/x" % remote.domain,
                         a.jid, body) if direction == "received" else \
            forged(direction, a.jid + "/other", "someone@%s"
                   % remote.domain, body)
        for to in (ca1.boundjid.full, a.jid):
            cb.send_raw("<message to='%s' type='chat' id='%s'>%s</message>"
                        % (to, uniq("f"), payload))
    # then an ordinary message: once it is in, the forged ones were
    # handled before it (one stream, in order)
    after = uniq("after-")
    cb.chat(ca1.boundjid.full, after)
    seen = []

    def note(m):
        seen.append(m)
        return m["body"] == after
    await ca1.next_message(match=note, what="%r at %s" % (after,
                                                          ca1.boundjid))
    await ca2.fence()
    bad = [str(m) for m in seen if any_carbon(m) or
           any(body in str(m) for body in bodies)]
    # ca2 gets the carbon of the ordinary message, nothing forged
    bad += [t for t in ca2.pending() if any(body in t for body in bodies)]
    assert not bad, "a forged carbon reached a client: %s" % bad
    # Parley drops it where it enters: at p1 from Prosody or ejabberd
    # (both pass a client's payload on as it is), at p2 from its own
    # client, before it leaves
    said = "forged carbon from %s" % b.jid
    where = remote if kind == "parley" else local
    assert said in where.log_text(rsince if kind == "parley" else since), (
        "%s did not say it dropped the forged carbon" % where)
    # and nothing forged is archived
    got = await archive(ca1, b.jid)
    found = [ET.tostring(m) for _, m in got
             if any(body.encode() in ET.tostring(m) for body in bodies)]
    assert not found, found
