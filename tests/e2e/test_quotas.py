"""
Quotas on what one account stores (docs/hardening.md): private XML
(documents and bytes), the block list, offline messages (count and bytes),
and the database map: grown up to lmdb-mapsize-max, a warning before it
is full, writes refused once it is while reads, logins and routing go on.
One stanza is one storage transaction: a private XML set or a block of
many JIDs is stored whole or not at all.
"""
import re

from conftest import exchange, stanza_error, uniq
from imhelp import online, send_message, settle

NS_PRIVATE = "jabber:iq:private"
NS_BLOCKING = "urn:xmpp:blocking"
Q_PRIVATE = "<query xmlns='jabber:iq:private'>%s</query>"


def refused(r, etype, condition):
    """r is an error of this type and condition."""
    assert stanza_error(r) == (etype, condition), str(r)[:2000]


def doc(ns, name, size=0):
    return "<%s xmlns='%s'>%s</%s>" % (name, ns, "x" * size, name)


async def private_has(c, ns, name):
    """Whether the account stores <name xmlns=ns/> with content."""
    r = await c.iq(Q_PRIVATE % doc(ns, name))
    assert r["type"] == "result", str(r)
    el = r.xml.find("{%s}query/{%s}%s" % (NS_PRIVATE, ns, name))
    assert el is not None, str(r)
    return bool(el.text)


async def blocklist(c):
    r = await c.iq("<blocklist xmlns='%s'/>" % NS_BLOCKING)
    assert r["type"] == "result", str(r)
    bl = r.xml.find("{%s}blocklist" % NS_BLOCKING)
    return sorted(i.get("jid") for i in bl.findall("{%s}item" % NS_BLOCKING))


def block_xml(jids, op="block"):
    return "<%s xmlns='%s'>%s</%s>" % (
        op, NS_BLOCKING,
        "".join("<item jid='%s'/>" % j for j in jids), op)


# ---------------------------------------------------------------------------
# one stanza, one transaction

async def test_private_many_children_one_stanza(make_server, clients):
    """A set of 2,000 elements is answered and every element is stored
    (one transaction: before, 2,000 synced commits)."""
    srv = make_server(private_max_docs=5000, max_stanza_size="1M")
    c = await clients.login(srv, srv.new_user(), resource="p")
    ns = "urn:example:many"
    body = "".join(doc(ns, "e%d" % i, 3) for i in range(2000))
    r = await c.iq(Q_PRIVATE % body, type_="set", timeout=60)
    assert r["type"] == "result", str(r)
    for i in (0, 999, 1999):
        assert await private_has(c, ns, "e%d" % i)


async def fill(c, ns, size, prefix):
    """Stores documents of size bytes until the database refuses one;
    returns how many were stored."""
    for i in range(100):
        r = await c.iq(Q_PRIVATE % doc(ns, "%s%d" % (prefix, i), size),
                       type_="set", timeout=30)
        if r["type"] == "error":
            refused(r, "wait", "resource-constraint")
            return i
    raise AssertionError("the map never filled")


async def half_fill(c, ns):
    """About half of a 1 MB map: five documents of 100 KB."""
    for i in range(5):
        r = await c.iq(Q_PRIVATE % doc(ns, "f%d" % i, 100000), type_="set")
        assert r["type"] == "result", "f%d: %s" % (i, stanza_error(r))


TEN = "".join(doc("urn:example:fill", "e%d" % i, 60000) for i in range(10))


async def test_private_set_is_atomic_when_the_map_fills(make_server,
                                                         clients):
    """A set of elements that do not all fit in the database (the map
    may not grow), of which the first would, is refused with
    resource-constraint and stores none of them; logins, reads and
    routing keep working, and the log says why."""
    srv = make_server(lmdb_mapsize="1M", lmdb_mapsize_max="1M",
                      private_max_bytes="1G", private_max_size="256K",
                      max_stanza_size="1M")
    u, v = srv.new_user(), srv.new_user()
    c = await clients.login(srv, u, resource="p")
    ns = "urn:example:fill"
    await half_fill(c, ns)
    since = srv.log_size()
    r = await c.iq(Q_PRIVATE % TEN, type_="set", timeout=30)
    refused(r, "wait", "resource-constraint")
    log = srv.log_text(since)
    assert "refused" in log and "lmdb-mapsize-max" in log, log[-2000:]
    for i in range(10):
        assert not await private_has(c, ns, "e%d" % i), i
    # reads, a new login and routing still work
    assert await private_has(c, ns, "f0")
    d = await clients.login(srv, v, resource="q")
    await exchange(c, d)
    await exchange(d, c)
    # the first element alone fits: the set was refused as a whole
    r = await c.iq(Q_PRIVATE % doc(ns, "e0", 60000), type_="set")
    assert r["type"] == "result", stanza_error(r)
    assert await private_has(c, ns, "e0")


async def test_batch_runs_again_once_the_map_grew(make_server, clients):
    """The same set with room to grow: the transaction that met the full
    map is run again in the grown map and succeeds."""
    srv = make_server(lmdb_mapsize="1M", lmdb_mapsize_max="64M",
                      private_max_bytes="1G", private_max_size="256K",
                      max_stanza_size="1M")
    c = await clients.login(srv, srv.new_user(), resource="p")
    await half_fill(c, "urn:example:fill")
    since = srv.log_size()
    r = await c.iq(Q_PRIVATE % TEN, type_="set", timeout=30)
    assert r["type"] == "result", stanza_error(r)
    assert "map grown from 1048576 to 2097152" in srv.log_text(since)
    for i in (0, 9):
        assert await private_has(c, "urn:example:fill", "e%d" % i), i


async def test_map_grows_then_warns_then_refuses(make_server, clients):
    """The map doubles from lmdb-mapsize as data arrives, the log warns
    from 80 % of lmdb-mapsize-max, and at the max writes are refused
    (resource-constraint) while reads go on."""
    srv = make_server(lmdb_mapsize="1M", lmdb_mapsize_max="4M",
                      max_stanza_size="1M", private_max_bytes="1G",
                      private_max_docs=1000, private_max_size="256K")
    u, v = srv.new_user(), srv.new_user()
    c = await clients.login(srv, u, resource="p")
    ns = "urn:example:grow"
    since = srv.log_size()
    stored = await fill(c, ns, 200000, "e")
    # more than the first map held: it grew
    assert stored > 5, stored
    log = srv.log_text(since)
    assert re.search(r"map grown from 1048576 to 2097152", log), log[-3000:]
    assert re.search(r"map grown from 2097152 to 4194304", log), log[-3000:]
    assert re.search(r"database is \d+% full .*lmdb-mapsize-max", log), \
        log[-3000:]
    assert await private_has(c, ns, "e0")
    assert await private_has(c, ns, "e%d" % (stored - 1))
    d = await clients.login(srv, v, resource="q")
    await exchange(c, d)


async def test_block_many_one_stanza_and_atomic(make_server, clients):
    """A block of many JIDs is stored whole; one that would pass
    block-max-items is refused and stores none of its JIDs."""
    srv = make_server(block_max_items=600)
    c = await clients.login(srv, srv.new_user(), resource="b")
    many = ["%s@spam.example" % uniq("j") for _ in range(500)]
    r = await c.iq(block_xml(many), type_="set", timeout=60)
    assert r["type"] == "result", str(r)
    assert await blocklist(c) == sorted(many)
    more = ["%s@more.example" % uniq("k") for _ in range(101)]
    r = await c.iq(block_xml(more), type_="set")
    refused(r, "modify", "policy-violation")
    assert await blocklist(c) == sorted(many)
    # exactly up to the limit is fine; re-blocking costs nothing
    r = await c.iq(block_xml(more[:100] + many[:5]), type_="set")
    assert r["type"] == "result", str(r)
    assert len(await blocklist(c)) == 600
    # unblock all, in one transaction too
    r = await c.iq("<unblock xmlns='%s'/>" % NS_BLOCKING, type_="set")
    assert r["type"] == "result", str(r)
    assert await blocklist(c) == []


# ---------------------------------------------------------------------------
# per-account quotas

async def test_private_document_quota(make_server, clients):
    """private-max-docs: a set that would pass it is refused whole with
    resource-constraint; replacing a stored document is not a new one."""
    srv = make_server(private_max_docs=3)
    c = await clients.login(srv, srv.new_user(), resource="p")
    ns = "urn:example:q"
    four = "".join(doc(ns, n, 1) for n in ("a", "b", "c", "d"))
    r = await c.iq(Q_PRIVATE % four, type_="set")
    refused(r, "wait", "resource-constraint")
    assert not await private_has(c, ns, "a")
    three = "".join(doc(ns, n, 1) for n in ("a", "b", "c"))
    assert (await c.iq(Q_PRIVATE % three, type_="set"))["type"] == "result"
    r = await c.iq(Q_PRIVATE % doc(ns, "a", 5), type_="set")
    assert r["type"] == "result", str(r)
    r = await c.iq(Q_PRIVATE % doc(ns, "d", 1), type_="set")
    refused(r, "wait", "resource-constraint")
    assert not await private_has(c, ns, "d")


async def test_private_byte_quota(make_server, clients):
    """private-max-bytes counts every document of the account."""
    srv = make_server(private_max_bytes="4K", private_max_size="3K")
    c = await clients.login(srv, srv.new_user(), resource="p")
    ns = "urn:example:b"
    r = await c.iq(Q_PRIVATE % doc(ns, "a", 2500), type_="set")
    assert r["type"] == "result", str(r)
    r = await c.iq(Q_PRIVATE % doc(ns, "b", 2500), type_="set")
    refused(r, "wait", "resource-constraint")
    assert not await private_has(c, ns, "b")
    # shrinking a document makes room
    r = await c.iq(Q_PRIVATE % doc(ns, "a", 10), type_="set")
    assert r["type"] == "result", str(r)
    r = await c.iq(Q_PRIVATE % doc(ns, "b", 2500), type_="set")
    assert r["type"] == "result", str(r)


async def test_offline_byte_quota(make_server, clients):
    """offline-max-bytes: a message that would bring the stored bytes past
    it bounces with service-unavailable (XEP-0160, RFC 6121 8.5.2.2),
    whoever sends it; the stored ones are delivered."""
    srv = make_server(offline_max=100, offline_max_bytes="4K")
    u = srv.new_user("ob")
    s1 = await online(srv, clients, srv.new_user("s1"), resource="s")
    s2 = await online(srv, clients, srv.new_user("s2"), resource="s")
    send_message(s1, u.jid, "a" * 1500)
    got = await settle(s1)
    assert not got[0].messages, got[0].summary()
    send_message(s2, u.jid, "b" * 1500)
    mid = send_message(s2, u.jid, "c" * 1500)
    got = await settle(s1, s2)
    assert not got[0].messages, got[0].summary()
    assert len(got[1].messages) == 1, got[1].summary()
    e = got[1].messages[0]
    assert e["type"] == "error" and e["id"] == mid, str(e)
    assert stanza_error(e)[1] == "service-unavailable", str(e)
    # a small one still fits
    send_message(s1, u.jid, "small")
    got = await settle(s1)
    assert not got[0].messages, got[0].summary()
    r = await online(srv, clients, u, resource="r")
    assert [m["body"][0] for m in r.at_login.messages] == ["a", "b", "s"], \
        r.at_login.summary()
