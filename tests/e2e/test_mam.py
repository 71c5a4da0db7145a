"""
The message archive (XEP-0313 urn:xmpp:mam:2) with XEP-0359 stanza-ids,
XEP-0059 paging and XEP-0441 preferences: archiving in both directions
and for offline recipients (once), the stanza-id on delivery and the same
id in the archive, paging forward and backward with counts, the with,
start, end, after-id, before-id and ids filters, flip-page, preferences,
XEP-0334 hints, spoofed stanza-ids, bad forms and RSM values, the page
cap, retention, persistence and deletion with the account.
"""
import asyncio
import math
import os
import signal
import time

import pytest

from conftest import DOMAIN, NS_DISCO_INFO, SLOW, stanza_error, uniq, \
    wait_for
from imhelp import (drain, online, roster_remove, roster_set,
                    send_message, settle)

NS_MAM = "urn:xmpp:mam:2"
NS_SID = "urn:xmpp:sid:0"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_FWD = "urn:xmpp:forward:0"
NS_DELAY = "urn:xmpp:delay"
NS_CLIENT = "jabber:client"


def form(**fields):
    """A submitted urn:xmpp:mam:2 form; a list value is a multi field."""
    fs = ""
    for k, v in fields.items():
        vals = v if isinstance(v, list) else [v]
        fs += "<field var='%s'>%s</field>" % (
            k.replace("_", "-"),
            "".join("<value>%s</value>" % x for x in vals))
    return ("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' "
            "type='hidden'><value>%s</value></field>%s</x>" % (NS_MAM, fs))


def rsm(max_=None, after=None, before=None, extra=""):
    s = "<set xmlns='%s'>" % NS_RSM
    if max_ is not None:
        s += "<max>%s</max>" % max_
    if after is not None:
        s += "<after>%s</after>" % after
    if before is not None:
        s += "<before>%s</before>" % before if before else "<before/>"
    return s + extra + "</set>"


class Page:
    def __init__(self, iq, results):
        self.iq = iq
        self.results = results
        fin = iq.xml.find("{%s}fin" % NS_MAM)
        self.fin = fin
        self.complete = fin is not None and fin.get("complete") == "true"
        s = fin.find("{%s}set" % NS_RSM) if fin is not None else None
        self.count = int(s.findtext("{%s}count" % NS_RSM)) if s is not None \
            else None
        first = s.find("{%s}first" % NS_RSM) if s is not None else None
        self.first = first.text if first is not None else None
        self.index = first.get("index") if first is not None else None
        self.last = s.findtext("{%s}last" % NS_RSM) if s is not None \
            else None

    @property
    def ids(self):
        return [r["id"] for r in self.results]

    @property
    def bodies(self):
        return [r["body"] for r in self.results]


async def query(c, fields="", set_="", qid=None, flip=False, to=None):
    """One archive query; returns the Page (results in arrival order)."""
    qid = qid or uniq("q")
    drain(c)
    r = await c.iq("<query xmlns='%s' queryid='%s'>%s%s%s</query>"
                   % (NS_MAM, qid, fields, set_,
                      "<flip-page/>" if flip else ""),
                   type_="set", to=to)
    if r["type"] != "result":
        return r
    results = []
    while not c.messages.empty():
        m = c.messages.get_nowait()
        res = m.xml.find("{%s}result" % NS_MAM)
        if res is None or res.get("queryid") != qid:
            continue
        fwd = res.find("{%s}forwarded" % NS_FWD)
        assert fwd is not None, str(m)
        msg = fwd.find("{%s}message" % NS_CLIENT)
        delay = fwd.find("{%s}delay" % NS_DELAY)
        assert msg is not None and delay is not None, str(m)
        assert m["from"].bare == c.boundjid.bare, str(m)
        results.append({"id": res.get("id"), "body":
                        msg.findtext("{%s}body" % NS_CLIENT),
                        "from": msg.get("from"), "to": msg.get("to"),
                        "stamp": delay.get("stamp"), "msg": msg})
    return Page(r, results)


def error_of(r):
    assert r["type"] == "error", str(r)
    return stanza_error(r)[1]


def stanza_id_of(m, by):
    for el in m.xml.findall("{%s}stanza-id" % NS_SID):
        if el.get("by") == by:
            return el.get("id")
    return None


async def pair(server, clients):
    ua, ub = server.new_user("ma"), server.new_user("mb")
    a = await online(server, clients, ua, resource="a")
    b = await online(server, clients, ub, resource="b")
    return ua, a, ub, b


async def talk(a, b, n, prefix="m"):
    """a sends n chats to b's full JID; b receives them all."""
    bodies = ["%s%d" % (prefix, i) for i in range(n)]
    for body in bodies:
        send_message(a, b.boundjid.full, body)
    got = []
    for _ in bodies:
        got.append(await b.next_message(
            match=lambda m: m["body"].startswith(prefix)))
    return bodies, got


# ---------------------------------------------------------------------------

async def test_both_directions_and_stanza_id(server, clients):
    """XEP-0313 5.1.1: the sender's and the recipient's archives both keep
    the message; XEP-0359 3: the recipient's copy carries the stanza-id of
    the recipient's archive (by its bare JID), which the archive gives as
    the result id."""
    ua, a, ub, b = await pair(server, clients)
    _, got = await talk(a, b, 1, "hello")
    sid = stanza_id_of(got[0], ub.jid)
    assert sid, "no stanza-id by %s: %s" % (ub.jid, got[0])
    pb = await query(b)
    assert pb.bodies == ["hello0"] and pb.ids == [sid], pb.results
    assert pb.results[0]["from"] == a.boundjid.full
    pa = await query(a)
    assert pa.bodies == ["hello0"], pa.results
    assert pa.results[0]["to"] == b.boundjid.full
    assert pa.complete and pa.count == 1


async def test_disco_features(server, clients):
    u = server.new_user()
    c = await online(server, clients, u)
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=u.jid)
    feats = [f.get("var") for f in
             r.xml.iter("{%s}feature" % NS_DISCO_INFO)]
    for f in (NS_MAM, NS_MAM + "#extended", NS_SID):
        assert feats.count(f) == 1, feats


async def test_paging(server, clients):
    """XEP-0059 with XEP-0313 6: max, after, before (empty: the last
    page), first/last/count and index, complete, flip-page."""
    ua, a, ub, b = await pair(server, clients)
    bodies, _ = await talk(a, b, 7)
    p1 = await query(b, set_=rsm(3))
    assert p1.bodies == bodies[:3] and not p1.complete
    assert p1.count == 7 and p1.index == "0"
    assert p1.first == p1.ids[0] and p1.last == p1.ids[2]
    p2 = await query(b, set_=rsm(3, after=p1.last))
    assert p2.bodies == bodies[3:6] and not p2.complete
    p3 = await query(b, set_=rsm(3, after=p2.last))
    assert p3.bodies == bodies[6:] and p3.complete
    last = await query(b, set_=rsm(3, before=""))
    assert last.bodies == bodies[4:] and not last.complete
    assert last.index == "4" and last.count == 7
    prev = await query(b, set_=rsm(3, before=last.first))
    assert prev.bodies == bodies[1:4] and not prev.complete
    first = await query(b, set_=rsm(3, before=prev.first))
    assert first.bodies == bodies[:1] and first.complete
    flipped = await query(b, set_=rsm(3, before=""), flip=True)
    assert flipped.bodies == list(reversed(bodies[4:]))
    none = await query(b, set_=rsm(0))
    assert none.results == [] and none.count == 7


async def test_filters(server, clients):
    """with (bare, by the index), start/end, after-id/before-id and the
    extended ids field."""
    ua, a, ub, b = await pair(server, clients)
    uc = server.new_user("mc")
    c = await online(server, clients, uc, resource="c")
    await talk(a, b, 2, "fromA")
    # a whole second between the two groups, none of them in it
    t_mid = math.ceil(time.time())
    await asyncio.sleep(t_mid - time.time() + 0.3)
    await talk(c, b, 2, "fromC")
    await talk(a, b, 1, "late")
    p = await query(b, form(**{"with": ua.jid}))
    assert p.bodies == ["fromA0", "fromA1", "late0"] and p.count == 3
    # XEP-0313 4.1.1: a full JID matches that resource only
    p = await query(b, form(**{"with": uc.jid + "/whatever"}))
    assert p.bodies == [] and p.count == 0, p.bodies
    p = await query(b, form(**{"with": c.boundjid.full}))
    assert p.bodies == ["fromC0", "fromC1"] and p.count == 2, p.bodies
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t_mid))
    p = await query(b, form(start=stamp + "Z"))
    assert p.bodies == ["fromC0", "fromC1", "late0"], p.bodies
    p = await query(b, form(end=stamp + ".000+00:00"))
    assert p.bodies == ["fromA0", "fromA1"], p.bodies
    allp = await query(b)
    ids = allp.ids
    p = await query(b, form(after_id=ids[1], before_id=ids[4]))
    assert p.bodies == ["fromC0", "fromC1"]
    p = await query(b, form(ids=[ids[3], ids[0]]))
    assert p.bodies == ["fromA0", "fromC1"]
    r = await query(b, form(ids=[ids[0], "0" * 32]))
    assert error_of(r) == "item-not-found"


async def test_form_fields(server, clients):
    u = server.new_user()
    c = await online(server, clients, u)
    r = await c.iq("<query xmlns='%s'/>" % NS_MAM)
    assert r["type"] == "result", str(r)
    vars_ = [f.get("var") for f in r.xml.iter("{jabber:x:data}field")]
    for v in ("FORM_TYPE", "with", "start", "end", "before-id",
              "after-id", "ids"):
        assert v in vars_, vars_


async def test_prefs(server, clients):
    """XEP-0441: never keeps nothing, roster keeps contacts only, always
    and never lists win over the default; the preferences read back."""
    ua, a, ub, b = await pair(server, clients)
    uc = server.new_user("mc")
    c = await online(server, clients, uc, resource="c")
    r = await b.iq("<prefs xmlns='%s' default='never'><always><jid>%s</jid>"
                   "</always><never/></prefs>" % (NS_MAM, uc.jid),
                   type_="set")
    assert r["type"] == "result", str(r)
    r = await b.iq("<prefs xmlns='%s'/>" % NS_MAM)
    p = r.xml.find("{%s}prefs" % NS_MAM)
    assert p.get("default") == "never"
    assert [j.text for j in p.iter("{%s}jid" % NS_MAM)] == [uc.jid]
    await talk(a, b, 1, "nokeep")
    await talk(c, b, 1, "keep")
    assert (await query(b)).bodies == ["keep0"]
    # a's archive is a's: its default (always) keeps it
    assert (await query(a)).bodies == ["nokeep0"]
    r = await b.iq("<prefs xmlns='%s' default='roster'/>" % NS_MAM,
                   type_="set")
    assert r["type"] == "result", str(r)
    await talk(a, b, 1, "stranger")
    assert (await query(b)).bodies == ["keep0"]
    # once a is in b's roster (no subscription needed), it is kept
    r = await roster_set(b, ua.jid, name="A")
    assert r["type"] == "result", str(r)
    await talk(a, b, 1, "contact")
    assert (await query(b)).bodies == ["keep0", "contact0"]
    r = await roster_remove(b, ua.jid)
    r = await b.iq("<prefs xmlns='%s' default='always'><never><jid>%s</jid>"
                   "</never></prefs>" % (NS_MAM, ua.jid), type_="set")
    await talk(a, b, 1, "blocked")
    await talk(c, b, 1, "again")
    assert (await query(b)).bodies == ["keep0", "contact0", "again0"]
    r = await b.iq("<prefs xmlns='%s' default='sometimes'/>" % NS_MAM,
                   type_="set")
    assert error_of(r) == "bad-request"


async def test_hints_and_bodyless(server, clients):
    """XEP-0334: no-store and no-permanent-store are not archived; a
    message without a body is not, unless a store hint says so; headline,
    groupchat and error are never archived."""
    ua, a, ub, b = await pair(server, clients)
    to = b.boundjid.full
    hints = "urn:xmpp:hints"
    send_message(a, to, "x1", extra="<no-store xmlns='%s'/>" % hints)
    send_message(a, to, "x2", extra="<no-permanent-store xmlns='%s'/>"
                 % hints)
    a.send_raw("<message to='%s' type='chat'><active xmlns='http://jabber"
               ".org/protocol/chatstates'/></message>" % to)
    a.send_raw("<message to='%s' type='chat'><store xmlns='%s'/><x xmlns="
               "'urn:example'/></message>" % (to, hints))
    send_message(a, to, "head", type_="headline")
    send_message(a, to, "kept")
    await b.next_message(match=lambda m: m["body"] == "kept")
    p = await query(b)
    assert len(p.results) == 2 and p.bodies[1] == "kept", p.results
    assert p.results[0]["msg"].find("{%s}store" % hints) is not None


async def test_offline_archived_once(server, clients):
    """A message to an account with no session is archived once; the
    offline copy delivered later carries the same stanza-id."""
    ua, ub = server.new_user("ma"), server.new_user("mb")
    a = await online(server, clients, ua, resource="a")
    send_message(a, ub.jid, "while-away")
    await a.fence()
    b = await online(server, clients, ub, resource="b", presence=None)
    b.send_raw("<presence/>")
    m = await b.next_message(match=lambda m: m["body"] == "while-away")
    sid = stanza_id_of(m, ub.jid)
    p = await query(b)
    assert p.bodies == ["while-away"] and p.ids == [sid], p.results


async def test_spoofed_stanza_id_stripped(server, clients):
    """XEP-0359 7: a stanza-id by one of our JIDs sent by a client is
    removed; another entity's is left alone."""
    ua, a, ub, b = await pair(server, clients)
    a.send_raw("<message to='%s' type='chat'><body>spoof</body>"
               "<stanza-id xmlns='%s' by='%s' id='forged'/>"
               "<stanza-id xmlns='%s' by='%s' id='forged2'/>"
               "<stanza-id xmlns='%s' by='other.example' id='theirs'/>"
               "</message>" % (b.boundjid.full, NS_SID, ub.jid, NS_SID,
                               DOMAIN, NS_SID))
    m = await b.next_message(match=lambda m: m["body"] == "spoof")
    ids = [(e.get("by"), e.get("id"))
           for e in m.xml.findall("{%s}stanza-id" % NS_SID)]
    assert ("other.example", "theirs") in ids, ids
    assert all(i not in ("forged", "forged2") for _, i in ids), ids
    ours = [i for by, i in ids if by == ub.jid]
    assert len(ours) == 1
    p = await query(b)
    assert p.ids == ours
    stored = [e.get("id") for e in
              p.results[0]["msg"].findall("{%s}stanza-id" % NS_SID)]
    assert stored == ["theirs"], stored


async def test_bad_queries(server, clients):
    """Malformed forms and RSM values get bad-request, unknown ids
    item-not-found, someone else's archive forbidden; a max of 10^9 is
    capped (below)."""
    ua, a, ub, b = await pair(server, clients)
    await talk(a, b, 1)
    bad_form = ("<x xmlns='jabber:x:data' type='submit'><field var="
                "'FORM_TYPE' type='hidden'><value>urn:other</value></field>"
                "</x>")
    cases = [
        (bad_form, "", "bad-request"),
        (form(start="yesterday"), "", "bad-request"),
        (form(end="2020-13-01T00:00:00Z"), "", "bad-request"),
        (form(colour="blue"), "", "bad-request"),
        (form(**{"with": "@@"}), "", "bad-request"),
        ("", rsm("many"), "bad-request"),
        ("", rsm("-1"), "bad-request"),
        ("", rsm(5, after="0" * 32), "item-not-found"),
        ("", rsm(5, before="nothex"), "item-not-found"),
        (form(after_id="f" * 32), "", "item-not-found"),
        ("", rsm(5, extra="<index>x</index>"), "bad-request"),
        ("<x xmlns='jabber:x:data'/>", "", "bad-request"),
        (form(**{"with": [ua.jid, ub.jid]}), "", "bad-request"),
        (form(start="2020-01-01T00:00:00"), "", "bad-request"),
        (form(**{"with": "a@" + "x" * 1100}), "", "bad-request"),
        (form() + form(), "", "bad-request"),
        (form().replace("type='submit'", "type='form'"), "",
         "bad-request"),
        (form(), rsm(5) + rsm(5), "bad-request"),
        ("", rsm(""), "bad-request"),
        ("", rsm("1e3"), "bad-request"),
        ("", rsm(" 5"), "bad-request"),
        ("", rsm(5, extra="<max>5</max>"), "bad-request"),
        ("", rsm(5, after="0" * 32, before=""), "bad-request"),
        ("", rsm(5, extra="<after>%s</after><after>%s</after>"
                 % ("0" * 32, "0" * 32)), "bad-request"),
        ("", rsm(5, extra="<before/><before/>"), "bad-request"),
        ("", rsm(5, extra="<index>-1</index>"), "bad-request"),
        ("", rsm(5, extra="<index>1</index><index>1</index>"),
         "bad-request"),
        ("", rsm(5, before="", extra="<index>1</index>"), "bad-request"),
        ("", rsm(5, after="0" * 32, extra="<index>1</index>"),
         "bad-request"),
        (form(ids=["zz"]), "", "item-not-found"),
    ]
    for f, s, cond in cases:
        r = await query(b, f, s)
        assert not isinstance(r, Page), "accepted: %s %s" % (f, s)
        assert error_of(r) == cond, "%s %s: %s" % (f, s, r)
    r = await query(a, to=ub.jid)
    assert error_of(r) == "forbidden"
    # the server is fine afterwards
    assert (await query(b)).bodies == ["m0"]


async def test_with_full_jid(server, clients):
    """XEP-0313 4.1.1: with as a full JID matches that resource only,
    in both directions, in the count and with the ids filter; the bare
    JID matches every resource."""
    ua, a, ub, b = await pair(server, clients)
    a2 = await online(server, clients, ua, resource="a2")
    await talk(a, b, 2, "one")
    await talk(a2, b, 1, "two")
    send_message(b, a2.boundjid.full, "back")
    await a2.next_message(match=lambda m: m["body"] == "back")
    await settle(b)
    p = await query(b, form(**{"with": ua.jid}))
    assert p.bodies == ["one0", "one1", "two0", "back"], p.bodies
    p = await query(b, form(**{"with": a.boundjid.full}))
    assert p.bodies == ["one0", "one1"] and p.count == 2, p.bodies
    p = await query(b, form(**{"with": a2.boundjid.full}))
    assert p.bodies == ["two0", "back"] and p.count == 2, p.bodies
    # paged, the count stays that of the filter
    p = await query(b, form(**{"with": a2.boundjid.full}), rsm(1))
    assert p.bodies == ["two0"] and p.count == 2 and not p.complete
    last = await query(b, form(**{"with": a2.boundjid.full}),
                       rsm(1, before=""))
    assert last.bodies == ["back"] and last.index == "1", last.bodies
    ids = (await query(b)).ids
    p = await query(b, form(**{"with": a.boundjid.full}, ids=ids))
    assert p.bodies == ["one0", "one1"], p.bodies
    # the other side's archive: the same rule
    p = await query(a, form(**{"with": b.boundjid.full}))
    assert p.bodies == ["one0", "one1", "two0", "back"], p.bodies
    p = await query(a, form(**{"with": ub.jid + "/other"}))
    assert p.bodies == [], p.bodies
    # a resource that XML escapes
    a3 = await online(server, clients, ua, resource="r&'<q")
    await talk(a3, b, 1, "three")
    p = await query(b, form(**{"with": ua.jid + "/r&amp;'&lt;q"}))
    assert p.bodies == ["three0"], p.bodies


async def test_rsm_index(server, clients):
    """XEP-0059 2.4: a page from an offset of the filtered range."""
    ua, a, ub, b = await pair(server, clients)
    bodies, _ = await talk(a, b, 7)
    p = await query(b, set_=rsm(3, extra="<index>2</index>"))
    assert p.bodies == bodies[2:5] and not p.complete, p.bodies
    assert p.index == "2" and p.count == 7
    p = await query(b, set_=rsm(3, extra="<index>5</index>"))
    assert p.bodies == bodies[5:] and p.complete
    p = await query(b, set_=rsm(3, extra="<index>0</index>"), flip=True)
    assert p.bodies == list(reversed(bodies[:3]))
    for far in (7, 10 ** 9, 10 ** 30):
        p = await query(b, set_=rsm(3, extra="<index>%d</index>" % far))
        assert p.results == [] and p.complete and p.count == 7
    p = await query(b, form(**{"with": ua.jid}),
                    rsm(2, extra="<index>6</index>"))
    assert p.bodies == bodies[6:] and p.complete


async def test_max_capped(make_server, clients):
    srv = make_server(archive_page_max=2)
    ua, a, ub, b = await pair(srv, clients)
    await talk(a, b, 3)
    p = await query(b, set_=rsm(10 ** 9))
    assert len(p.results) == 2 and not p.complete and p.count == 3
    p = await query(b, set_=rsm(10 ** 30))
    assert len(p.results) == 2
    p = await query(b)
    assert len(p.results) == 2


async def test_retention_by_count(make_server, clients):
    srv = make_server(archive_max_messages=3)
    ua, a, ub, b = await pair(srv, clients)
    bodies, _ = await talk(a, b, 5)
    p = await query(b)
    assert p.bodies == bodies[2:] and p.count == 3
    p = await query(b, form(**{"with": ua.jid}))
    assert p.bodies == bodies[2:] and p.count == 3


async def test_retention_by_age(make_server, clients):
    srv = make_server(archive_max_age=1)
    ua, a, ub, b = await pair(srv, clients)
    await talk(a, b, 2, "old")
    await asyncio.sleep(2.2)
    await talk(a, b, 1, "new")
    assert (await query(b)).bodies == ["new0"]


async def test_persists_and_goes_with_account(make_server, clients):
    """The archive survives a restart (deferred writes are flushed within
    a loop iteration) and is deleted with the account."""
    srv = make_server()
    ua, a, ub, b = await pair(srv, clients)
    await talk(a, b, 2)
    await settle(a, b)
    srv.restart()
    b = await online(srv, clients, ub, resource="b2")
    assert (await query(b)).bodies == ["m0", "m1"]
    srv.ctl("deluser", ub.jid)
    srv.adduser(ub.jid, ub.password)
    b = await online(srv, clients, ub, resource="b3")
    p = await query(b)
    assert p.results == [] and p.count == 0


async def test_metadata(server, clients):
    ua, a, ub, b = await pair(server, clients)
    r = await b.iq("<metadata xmlns='%s'/>" % NS_MAM)
    m = r.xml.find("{%s}metadata" % NS_MAM)
    assert m is not None and m.find("{%s}start" % NS_MAM) is None
    await talk(a, b, 3)
    ids = (await query(b)).ids
    r = await b.iq("<metadata xmlns='%s'/>" % NS_MAM)
    m = r.xml.find("{%s}metadata" % NS_MAM)
    assert m.find("{%s}start" % NS_MAM).get("id") == ids[0]
    assert m.find("{%s}end" % NS_MAM).get("id") == ids[-1]


async def test_slixmpp_plugins(server, clients):
    """slixmpp's own client side: xep_0313 paging through the archive with
    xep_0059 (pages of 3), with_jid, and xep_0359 reading the stanza-id
    of a delivered message."""
    plugins = ("xep_0030", "xep_0059", "xep_0313", "xep_0359")
    ua, ub = server.new_user("ma"), server.new_user("mb")
    a = await online(server, clients, ua, resource="a")
    b = await clients.login(server, ub, resource="b", plugins=plugins)
    b.send_presence()
    await b.fence()
    bodies, got = await talk(a, b, 7, "slix")
    sid = got[-1]["stanza_id"]
    assert sid["by"] == ub.jid and sid["id"], str(got[-1])
    seen = []
    async for m in b["xep_0313"].iterate(rsm={"max": 3}):
        seen.append(m["mam_result"]["forwarded"]["stanza"]["body"])
    assert seen == bodies, seen
    # forward only: slixmpp 1.8.3 ends a backward iteration after the
    # first page, whose RSM index (count - 3) it reads as the last one's
    seen = []
    async for m in b["xep_0313"].iterate(with_jid=ua.jid, rsm={"max": 3}):
        seen.append((m["mam_result"]["id"],
                     m["mam_result"]["forwarded"]["stanza"]["body"]))
    assert [b for _, b in seen] == bodies, seen
    assert seen[-1][0] == sid["id"]


@pytest.mark.kills("router")
async def test_router_crash_keeps_flushed(make_server, clients):
    """Archive writes are deferred to the end of the router's loop
    iteration (group commit), not lost with it: messages delivered a
    moment before a SIGKILL of the router are in the archive after its
    restart, with the stanza-ids their recipient saw."""
    srv = make_server()
    ua, a, ub, b = await pair(srv, clients)
    _, got = await talk(a, b, 3, "kept")
    sids = [stanza_id_of(m, ub.jid) for m in got]
    await asyncio.sleep(0.3)
    old = srv.router_pid()
    os.kill(old, signal.SIGKILL)
    await wait_for(lambda: srv.router_pid() not in (None, old), 15 * SLOW,
                   "a new router")
    deadline = time.monotonic() + 15 * SLOW
    while True:
        try:
            b2 = await online(srv, clients, ub, resource="again")
            break
        except Exception:
            assert time.monotonic() < deadline, "no login after restart"
            await asyncio.sleep(0.3)
    p = await query(b2)
    assert p.bodies == ["kept0", "kept1", "kept2"] and p.ids == sids
