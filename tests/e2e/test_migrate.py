"""
Migration with XEP-0227 (parleyctl export and import, storage/pie_*.c):
a round trip between two servers (the old password logs in, roster,
vCard, private XML, bookmarks, block list and offline messages are
there), hand-written files in both namespaces with plaintext passwords
and SCRAM-SHA-1 credentials as Prosody writes them, and malformed files:
each refused with its line and what is wrong, the store left as it was.
"""
import base64
import hashlib
import hmac
import os
import subprocess
import time

import pytest

from conftest import BIN, DOMAIN, session_ended
from imhelp import (online, parse_stamp, roster_get, roster_set,
                    send_message, settle)

NS_PIE = "urn:xmpp:pie:0"
NS_PIE_OLD = "http://www.xmpp.org/extensions/xep-0227.html#ns"
NS_BOOKMARKS = "urn:xmpp:bookmarks:1"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"


def accounts(srv):
    return sorted(srv.ctl("list").stdout.split())


def write(tmp_path, name, text):
    p = os.path.join(str(tmp_path), name)
    with open(p, "w") as f:
        f.write(text)
    return p


def scram_sha1(password, salt=b"0123456789abcdef", it=4096):
    """RFC 5802 SaltedPassword, StoredKey, ServerKey as base64."""
    salted = hashlib.pbkdf2_hmac("sha1", password.encode(), salt, it)
    ck = hmac.new(salted, b"Client Key", hashlib.sha1).digest()
    sk = hmac.new(salted, b"Server Key", hashlib.sha1).digest()
    b64 = lambda b: base64.b64encode(b).decode()
    return ("<scram-credentials xmlns='urn:xmpp:pie:0#scram' "
            "mechanism='SCRAM-SHA-1'><iter-count>%d</iter-count>"
            "<salt>%s</salt><server-key>%s</server-key>"
            "<stored-key>%s</stored-key></scram-credentials>"
            % (it, b64(salt), b64(sk), b64(hashlib.sha1(ck).digest())))


async def test_round_trip(make_server, clients, tmp_path):
    """Export from one server, import into a fresh one: the account logs
    in there with its old password (SCRAM credentials carried, no
    password in the file) and finds its roster, vCard, private XML,
    bookmarks (PEP), block list and the message that waited for it."""
    old = make_server()
    a = old.new_user("ma")
    b = old.new_user("mb")
    ca = await online(old, clients, a)
    r = await roster_set(ca, b.jid, name="Bee", groups=["Friends", "Work"])
    assert r["type"] == "result", r
    r = await ca.iq("<vCard xmlns='vcard-temp'><FN>Alice Migrant</FN>"
                    "</vCard>", type_="set")
    assert r["type"] == "result", r
    r = await ca.iq("<query xmlns='jabber:iq:private'><prefs "
                    "xmlns='urn:example:prefs'>dark &amp; quiet</prefs>"
                    "</query>", type_="set")
    assert r["type"] == "result", r
    r = await ca.iq("<pubsub xmlns='%s'><publish node='%s'><item "
                    "id='room@conference.example.org'><conference xmlns='%s' "
                    "name='The Room' autojoin='true'/></item></publish>"
                    "</pubsub>" % (NS_PUBSUB, NS_BOOKMARKS, NS_BOOKMARKS),
                    type_="set")
    assert r["type"] == "result", r
    r = await ca.iq("<block xmlns='urn:xmpp:blocking'><item "
                    "jid='spam@example.net'/></block>", type_="set")
    assert r["type"] == "result", r
    full = str(ca.boundjid)
    ca.disconnect()
    await session_ended(old, full)
    cb = await online(old, clients, b)
    send_message(cb, a.jid, "waited for you")
    await settle(cb)
    old.stop()
    # role and disabled travel in Parley's own element
    old.ctl("role", a.jid, "admin")
    d = old.new_user("md")
    old.ctl("disable", d.jid)

    path = os.path.join(str(tmp_path), "export.xml")
    cp = old.ctl("export", path)
    assert "exported 3 accounts" in cp.stderr, cp.stderr
    text = open(path).read()
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert a.password not in text and "password" not in text
    assert "mechanism='SCRAM-SHA-256'" in text
    # an export never replaces a file
    cp = old.ctl("export", path, check=False)
    assert cp.returncode == 1 and "never replaces" in cp.stderr, cp.stderr

    new = make_server(start=False)
    cp = new.ctl("import", path)
    assert "imported 3 accounts" in cp.stdout, cp.stdout + cp.stderr
    assert accounts(new) == sorted([a.jid, b.jid, d.jid])
    assert new.ctl("role", a.jid).stdout.split() == [a.jid, "admin"]
    assert new.ctl("role", b.jid).stdout.split() == [b.jid, "member"]
    new.start()
    c = await clients.connect(new, d, expect="auth-failed")
    assert set(c.auth_failures) == {"account-disabled"}, c.auth_failures
    c = await online(new, clients, a, presence=None)
    items, _, _ = await roster_get(c)
    assert b.jid in items, items
    assert items[b.jid].name == "Bee"
    assert sorted(items[b.jid].groups) == ["Friends", "Work"]
    r = await c.iq("<vCard xmlns='vcard-temp'/>")
    assert "Alice Migrant" in str(r), r
    r = await c.iq("<query xmlns='jabber:iq:private'><prefs "
                   "xmlns='urn:example:prefs'/></query>")
    assert "dark &amp; quiet" in str(r), r
    r = await c.iq("<pubsub xmlns='%s'><items node='%s'/></pubsub>"
                   % (NS_PUBSUB, NS_BOOKMARKS))
    assert r["type"] == "result" and "The Room" in str(r), r
    r = await c.iq("<blocklist xmlns='urn:xmpp:blocking'/>")
    assert "spam@example.net" in str(r), r
    c.send_raw("<presence/>")
    m = await c.next_message(what="the offline message")
    assert m["body"] == "waited for you", m
    # the SHA-1 credentials came too
    await clients.login(new, a, mechs=["SCRAM-SHA-1"])
    # exported again, the same accounts; a second import is refused
    new.stop()
    again = os.path.join(str(tmp_path), "again.xml")
    new.ctl("export", "--host", DOMAIN, again)
    cp = new.ctl("import", again, check=False)
    assert cp.returncode == 1, cp.stdout
    assert "exists already" in cp.stderr and "nothing imported" in \
        cp.stderr, cp.stderr


HANDWRITTEN = """<?xml version='1.0' encoding='UTF-8'?>
<server-data xmlns='{ns}'>
  <host jid='LOCALHOST'>
    <user name='Hand' password='plain secret'>
      <query xmlns='jabber:iq:roster'>
        <item jid='Friend@Example.org' name='Friend' subscription='both'>
          <group>Pals</group>
        </item>
        <item jid='asked@example.org' subscription='none' ask='subscribe'/>
      </query>
      <vCard xmlns='vcard-temp'><NICKNAME>handy</NICKNAME></vCard>
      <offline-messages>
        <message xmlns='jabber:client' from='friend@example.org/x'
                 to='hand@localhost' type='chat'><body>kept</body></message>
        <message from='friend@example.org/x' to='hand@localhost'
                 ><body>no xmlns</body></message>
      </offline-messages>
      <unknown xmlns='urn:example:other'/>
      <pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>
        <configure node='urn:example:public'><x xmlns='jabber:x:data'
            type='submit'><field var='pubsub#access_model'><value>open</value>
            </field><field var='pubsub#max_items'><value>5</value></field>
        </x></configure>
      </pubsub>
      <pubsub xmlns='http://jabber.org/protocol/pubsub'>
        <items node='urn:example:public'><item id='p1'><pub
            xmlns='urn:example:public'>hello</pub></item></items>
        <items node='urn:xmpp:bookmarks:1'><item id='room@muc.example.org'
            ><conference xmlns='urn:xmpp:bookmarks:1' name='R'/></item></items>
      </pubsub>
    </user>
    <user name='sha1only'>
      {scram}
    </user>
  </host>
</server-data>
"""


@pytest.mark.parametrize("ns", [NS_PIE, NS_PIE_OLD])
async def test_import_handwritten(make_server, clients, tmp_path, ns):
    """A file in either namespace: plaintext passwords become SCRAM
    credentials; SCRAM-SHA-1 credentials alone (what Prosody exports)
    log in with SCRAM-SHA-1 and PLAIN; JIDs are prepared as the server
    prepares them; an element Parley does not keep is skipped, said."""
    srv = make_server(start=False)
    path = write(tmp_path, "hand.xml", HANDWRITTEN.format(
        ns=ns, scram=scram_sha1("sha1 secret")))
    cp = srv.ctl("import", path)
    assert "imported 2 accounts" in cp.stdout, cp.stdout + cp.stderr
    assert "hand.xml:18: skipped: <unknown" in cp.stderr, cp.stderr
    assert accounts(srv) == ["hand@localhost", "sha1only@localhost"]
    srv.start()
    c = await clients.connect(srv, "hand@localhost", "plain secret")
    items, _, _ = await roster_get(c)
    assert items["friend@example.org"].sub == "both", items
    assert items["friend@example.org"].groups == ["Pals"]
    assert items["asked@example.org"].ask == "subscribe", items
    r = await c.iq("<vCard xmlns='vcard-temp'/>")
    assert "handy" in str(r), r
    c.send_raw("<presence/>")
    got = [await c.next_message(), await c.next_message()]
    assert sorted(m["body"] for m in got) == ["kept", "no xmlns"], got
    # XEP-0160: a stored message is delayed; one without a stamp gets
    # the import's, from the host
    for m in got:
        d = m.xml.find("{urn:xmpp:delay}delay")
        assert d is not None and d.get("from") == DOMAIN, m
        assert abs(parse_stamp(d.get("stamp")) - time.time()) < 120, m
    o = await clients.connect(srv, "sha1only@localhost", "sha1 secret",
                              mechs=["SCRAM-SHA-1"])
    # PEP from another server: the form's access model (open) is kept; a
    # node without one (bookmarks) is the owner's alone
    r = await o.iq("<pubsub xmlns='%s'><items node='urn:example:public'/>"
                   "</pubsub>" % NS_PUBSUB, to="hand@localhost")
    assert r["type"] == "result" and "hello" in str(r), r
    r = await o.iq("<pubsub xmlns='%s'><items node='%s'/></pubsub>"
                   % (NS_PUBSUB, NS_BOOKMARKS), to="hand@localhost")
    assert r["type"] == "error", r
    r = await c.iq("<pubsub xmlns='%s'><items node='%s'/></pubsub>"
                   % (NS_PUBSUB, NS_BOOKMARKS))
    assert r["type"] == "result" and "muc.example.org" in str(r), r
    await clients.connect(srv, "sha1only@localhost", "sha1 secret",
                          mechs=["PLAIN"])
    await clients.connect(srv, "sha1only@localhost", "wrong",
                          mechs=["SCRAM-SHA-1"], expect="auth-failed")


def ejabberd_scram(password, salt=b"ejabberd-salt-16", it=4096):
    """ejabberd's password attribute with auth_password_format scram."""
    salted = hashlib.pbkdf2_hmac("sha1", password.encode(), salt, it)
    ck = hmac.new(salted, b"Client Key", hashlib.sha1).digest()
    sk = hmac.new(salted, b"Server Key", hashlib.sha1).digest()
    b64 = lambda b: base64.b64encode(b).decode()
    return "scram:%s,%s,%s,%d" % (b64(hashlib.sha1(ck).digest()), b64(sk),
                                  b64(salt), it)


EJABBERD_MAIN = """<?xml version='1.0' encoding='UTF-8'?><server-data
 xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'><xi:include
 href='20261205-110000_localhost.xml'/></server-data>"""

EJABBERD_HOST = """<?xml version='1.0' encoding='UTF-8'?><host
 xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'
 jid='localhost'><user name='ej' password='{scram}'><query
 xmlns='jabber:iq:roster'><item jid='pal@example.org' subscription='to'
 ask='subscribe'><group>Old</group></item></query><presence
 xmlns='jabber:client' from='asker@example.org' to='ej@localhost'
 type='subscribe'><status>hi</status></presence></user><user name='plain'
 password='plain pw'/></host>"""


async def test_import_ejabberd_layout(make_server, clients, tmp_path):
    """What ejabberdctl export_piefxis writes: a main file whose hosts
    are XIncludes (skipped, said: each host file is imported itself), a
    host file whose root is <host/>, SCRAM-SHA-1 credentials in the
    password attribute ("scram:" StoredKey,ServerKey,salt,iterations),
    an unanswered subscription request."""
    srv = make_server(start=False)
    main = write(tmp_path, "main.xml", EJABBERD_MAIN)
    cp = srv.ctl("import", main)
    assert "XInclude of 20261205-110000_localhost.xml: import that " \
        "file itself" in cp.stderr, cp.stderr
    host = write(tmp_path, "20261205-110000_localhost.xml",
                 EJABBERD_HOST.format(scram=ejabberd_scram("ej secret")))
    cp = srv.ctl("import", host)
    assert "imported 2 accounts" in cp.stdout, cp.stdout + cp.stderr
    srv.start()
    c = await clients.connect(srv, "ej@localhost", "ej secret",
                              mechs=["SCRAM-SHA-1"])
    items, _, _ = await roster_get(c)
    assert items["pal@example.org"].visible == ("to", True), items
    # the waiting request is presented again at the next presence
    c.send_raw("<presence/>")
    p = await c.next_presence(
        match=lambda p: p["type"] == "subscribe", what="the request")
    assert p["from"].bare == "asker@example.org", p
    await clients.connect(srv, "plain@localhost", "plain pw")


GOOD_USER = "<user name='fine' password='x'/>"
KEY20 = base64.b64encode(bytes(range(20))).decode()

MALFORMED = [
    ("truncated",
     "<server-data xmlns='urn:xmpp:pie:0'>\n<host jid='localhost'>\n"
     + GOOD_USER + "\n", ":4: the file ends inside an element"),
    ("not well-formed",
     "<server-data xmlns='urn:xmpp:pie:0'>\n<host jid='localhost'>\n"
     + GOOD_USER + "\n<user name='a' password='x'></usr>\n",
     ":4: mismatched tag"),
    ("wrong root",
     "<server xmlns='urn:example'/>", ":1: not a XEP-0227 file"),
    ("entities",
     "<!DOCTYPE x [<!ENTITY a 'aaaa'>]>\n<server-data "
     "xmlns='urn:xmpp:pie:0'/>", ":1: a DOCTYPE"),
    ("bad roster jid",
     "<server-data xmlns='urn:xmpp:pie:0'><host jid='localhost'>\n"
     + GOOD_USER + "\n<user name='r' password='x'>\n"
     "<query xmlns='jabber:iq:roster'>\n<item jid='a@b@c'/>\n</query>"
     "</user></host></server-data>",
     ":5: roster item: \"a@b@c\" is not a bare JID"),
    ("bad subscription",
     "<server-data xmlns='urn:xmpp:pie:0'><host jid='localhost'>\n"
     + GOOD_USER + "\n<user name='r' password='x'>"
     "<query xmlns='jabber:iq:roster'>\n<item jid='x@y' "
     "subscription='remove'/></query></user></host></server-data>",
     ":4: roster item x@y: subscription \"remove\""),
    ("no credentials",
     "<server-data xmlns='urn:xmpp:pie:0'><host jid='localhost'>\n"
     + GOOD_USER + "\n<user name='nocred'/></host></server-data>",
     ":3: nocred@localhost: no password and no SCRAM"),
    ("unknown host",
     "<server-data xmlns='urn:xmpp:pie:0'><host jid='elsewhere.example'>\n"
     "<user name='u' password='x'/></host><host jid='localhost'>\n"
     + GOOD_USER + "</host></server-data>",
     ":2: u@elsewhere.example: elsewhere.example is not a host"),
    ("twice",
     "<server-data xmlns='urn:xmpp:pie:0'><host jid='localhost'>\n"
     + GOOD_USER + "\n" + GOOD_USER + "</host></server-data>",
     ":3: fine@localhost: a second time in the file"),
    ("bad user name",
     "<server-data xmlns='urn:xmpp:pie:0'><host jid='localhost'>\n"
     + GOOD_USER + "\n<user name='a b@' password='x'/></host>"
     "</server-data>", ":3: user \"a b@\": not a valid node"),
    ("bad scram",
     "<server-data xmlns='urn:xmpp:pie:0'><host jid='localhost'>\n"
     + GOOD_USER + "\n<user name='s'>\n<scram-credentials "
     "xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><iter-count>"
     "4096</iter-count><salt>!!</salt><server-key>%s</server-key>"
     "<stored-key>%s</stored-key></scram-credentials></user></host>"
     "</server-data>" % (KEY20, KEY20),
     ":4: SCRAM-SHA-1: salt is not base64"),
    ("scram without iter-count",
     "<server-data xmlns='urn:xmpp:pie:0'><host jid='localhost'>\n"
     + GOOD_USER + "\n<user name='s'>\n<scram-credentials "
     "xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><salt>AA==</salt>"
     "</scram-credentials></user></host></server-data>",
     ":4: SCRAM-SHA-1: iter-count is not a number"),
    ("nul byte",
     "<server-data xmlns='urn:xmpp:pie:0'>\x00</server-data>",
     ":1: a NUL byte"),
    ("existing account",
     "<server-data xmlns='urn:xmpp:pie:0'><host jid='localhost'>\n"
     + GOOD_USER + "\n<user name='there' password='x'/></host>"
     "</server-data>", ":3: there@localhost: the account exists already"),
]


@pytest.mark.parametrize("name,text,expect", MALFORMED,
                         ids=[m[0] for m in MALFORMED])
def test_malformed_refused(make_server, tmp_path, name, text, expect):
    """Each problem is named with its line; nothing is stored, not even
    the valid account before it."""
    srv = make_server(start=False)
    srv.adduser("there@" + DOMAIN, "pw")
    before = accounts(srv)
    path = write(tmp_path, "bad.xml", text)
    cp = srv.ctl("import", path, check=False)
    assert cp.returncode == 1, cp.stdout
    assert "bad.xml" + expect in cp.stderr, cp.stderr
    assert "nothing imported" in cp.stderr, cp.stderr
    assert accounts(srv) == before


def test_stdin_and_running_server(make_server):
    """'-' reads standard input; with the router running both verbs are
    refused (LMDB has one writer: the router; on PostgreSQL an export may
    run beside it: test_pg.py)."""
    srv = make_server(start=False, storage="lmdb")
    cp = srv.ctl("import", "-", stdin="<server-data xmlns='%s'><host "
                 "jid='localhost'><user name='piped' password='p'/></host>"
                 "</server-data>" % NS_PIE_OLD)
    assert "imported 1 account" in cp.stdout, cp.stdout
    cp = srv.ctl("export", "-")
    assert "<user name='piped'>" in cp.stdout, cp.stdout
    srv.start()
    for args in (["import", "-"], ["export", "-"]):
        cp = srv.ctl(*args, stdin="", check=False)
        assert cp.returncode == 1 and "stop it first" in cp.stderr, \
            cp.stderr


def test_large_file_map_grows(make_server, tmp_path):
    """A file that needs several times the initial map: the one
    transaction runs again after each growth (EAGAIN) and stores
    everything."""
    srv = make_server(start=False, storage="lmdb", lmdb_mapsize="1M")
    users, contacts = 2000, 10
    cred = scram_sha1("bulk secret", it=1000)
    path = os.path.join(str(tmp_path), "big.xml")
    with open(path, "w") as f:
        f.write("<server-data xmlns='urn:xmpp:pie:0'><host jid='localhost'>\n")
        for i in range(users):
            f.write("<user name='bulk%d'>%s<query xmlns='jabber:iq:roster'>"
                    % (i, cred))
            for k in range(contacts):
                f.write("<item jid='c%d@example.org' subscription='both' "
                        "name='Contact %d'><group>G%d</group></item>"
                        % (k, k, k % 3))
            f.write("</query><offline-messages><message xmlns='jabber:client'"
                    " from='c0@example.org/r' to='bulk%d@localhost'><body>%s"
                    "</body></message></offline-messages></user>\n"
                    % (i, "x" * 200))
        f.write("</host></server-data>\n")
    size = os.path.getsize(path)
    t0 = time.monotonic()
    p = subprocess.Popen([os.path.join(BIN, "parleyctl"), "-c", srv.conf,
                          "import", path], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=120)
    elapsed = time.monotonic() - t0
    assert p.returncode == 0, out + err
    assert "imported %d accounts (%d records" % (
        users, users * (contacts + 1)) in out, out
    assert len(accounts(srv)) == users
    # it did not fit the map it started with: the retry path ran
    data = os.path.getsize(os.path.join(srv.opts["datadir"], "data.mdb"))
    assert data > 2 << 20, data
    print("import of %d bytes: %.1f s, map %d bytes" % (size, elapsed,
                                                         data))


def test_oversized_element(make_server, tmp_path):
    """An element past 8 MiB stops the reading at its line: nothing is
    kept whole beyond that, nothing is stored."""
    srv = make_server(start=False)
    path = write(tmp_path, "huge.xml",
                 "<server-data xmlns='urn:xmpp:pie:0'><host jid='localhost'>"
                 "\n<user name='big' password='x'>\n<vCard xmlns='vcard-temp'"
                 "><DESC>" + "y" * (9 << 20) + "</DESC></vCard></user>"
                 "</host></server-data>")
    cp = srv.ctl("import", path, check=False)
    assert cp.returncode == 1, cp.stdout
    assert "huge.xml:3: an element larger than 8388608 bytes" in \
        cp.stderr, cp.stderr
    assert accounts(srv) == []


# the tables and columns scripts/jabberd2-to-xep0227 reads, as jabberd2's
# SQLite storage names them (the columns it does not read left out)
JABBERD2_TABLES = [
    'CREATE TABLE "authreg" ("username" TEXT, "realm" TEXT, '
    '"password" TEXT)',
    'CREATE TABLE "roster-items" ("collection-owner" TEXT, '
    '"object-sequence" INTEGER PRIMARY KEY, "jid" TEXT, "name" TEXT, '
    '"to" BOOLEAN, "from" BOOLEAN, "ask" INTEGER)',
    'CREATE TABLE "roster-groups" ("collection-owner" TEXT, '
    '"object-sequence" INTEGER PRIMARY KEY, "jid" TEXT, "group" TEXT)',
    'CREATE TABLE "vcard" ("collection-owner" TEXT, "object-sequence" '
    'INTEGER PRIMARY KEY, "fn" TEXT, "nickname" TEXT, "email" TEXT)',
    'CREATE TABLE "private" ("collection-owner" TEXT, "object-sequence" '
    'INTEGER PRIMARY KEY, "ns" TEXT, "xml" TEXT)',
    'CREATE TABLE "queue" ("collection-owner" TEXT, "object-sequence" '
    'INTEGER PRIMARY KEY, "xml" TEXT)',
]


async def test_from_jabberd2_sqlite(make_server, clients, tmp_path):
    """scripts/jabberd2-to-xep0227 turns jabberd2's SQLite store into a
    file parleyctl imports: plaintext passwords, roster with groups and a
    pending request, vCard columns, private XML and offline messages (its
    "NAD" prefix dropped)."""
    import sqlite3
    db = os.path.join(str(tmp_path), "sqlite.db")
    con = sqlite3.connect(db)
    for t in JABBERD2_TABLES:
        con.execute(t)
    owner = "jd@localhost"
    con.execute('INSERT INTO "authreg" VALUES (?, ?, ?)',
                ("jd", "localhost", "jabberd2 pw"))
    con.execute('INSERT INTO "roster-items" ("collection-owner", "jid", '
                '"name", "to", "from", "ask") VALUES (?, ?, ?, 1, 1, 0)',
                (owner, "mate@example.org", "Mate"))
    con.execute('INSERT INTO "roster-items" ("collection-owner", "jid", '
                '"name", "to", "from", "ask") VALUES (?, ?, NULL, 0, 0, 1)',
                (owner, "asked@example.org"))
    con.execute('INSERT INTO "roster-groups" ("collection-owner", "jid", '
                '"group") VALUES (?, ?, ?)', (owner, "mate@example.org",
                                              "Crew"))
    con.execute('INSERT INTO "vcard" ("collection-owner", "fn", '
                '"email") VALUES (?, ?, ?)', (owner, "J. D.",
                                              "jd@example.org"))
    con.execute('INSERT INTO "private" ("collection-owner", "ns", "xml") '
                'VALUES (?, ?, ?)', (owner, "urn:example:p",
                                     "NAD<p xmlns='urn:example:p'>v</p>"))
    con.execute('INSERT INTO "queue" ("collection-owner", "xml") VALUES '
                '(?, ?)', (owner, "NAD<message xmlns='jabber:client' "
                           "from='mate@example.org/x' to='jd@localhost'>"
                           "<body>queued</body></message>"))
    con.commit()
    con.close()
    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts",
                          "jabberd2-to-xep0227")
    out = os.path.join(str(tmp_path), "jd.xml")
    with open(out, "w") as f:
        subprocess.run([script, db], stdout=f, check=True, timeout=30)
    srv = make_server(start=False)
    cp = srv.ctl("import", out)
    assert "imported 1 account" in cp.stdout, cp.stdout + cp.stderr
    srv.start()
    c = await clients.connect(srv, owner, "jabberd2 pw")
    items, _, _ = await roster_get(c)
    assert items["mate@example.org"].visible == ("both", False), items
    assert items["mate@example.org"].groups == ["Crew"], items
    assert items["asked@example.org"].visible == ("none", True), items
    r = await c.iq("<vCard xmlns='vcard-temp'/>")
    assert "J. D." in str(r) and "jd@example.org" in str(r), r
    r = await c.iq("<query xmlns='jabber:iq:private'><p "
                   "xmlns='urn:example:p'/></query>")
    assert ">v</p>" in str(r), r
    c.send_raw("<presence/>")
    m = await c.next_message()
    assert m["body"] == "queued", m


async def test_merge_into_existing(make_server, clients, tmp_path):
    """--merge: an account that exists takes the file's roster items,
    vCard and messages and keeps its own password (the file's is not
    used) and the items it had; without --merge the same file is
    refused."""
    srv = make_server(start=False)
    srv.adduser("keep@localhost", "own password")
    path = write(tmp_path, "merge.xml",
                 "<server-data xmlns='urn:xmpp:pie:0'><host jid='localhost'>"
                 "<user name='keep' password='file password'><query "
                 "xmlns='jabber:iq:roster'><item jid='new@example.org' "
                 "subscription='to'/></query><vCard xmlns='vcard-temp'><FN>"
                 "Merged</FN></vCard></user><user name='fresh' "
                 "password='fresh pw'/></host></server-data>")
    cp = srv.ctl("import", path, check=False)
    assert cp.returncode == 1 and "--merge" in cp.stderr, cp.stderr
    srv.start()
    c = await clients.connect(srv, "keep@localhost", "own password")
    r = await roster_set(c, "had@example.org", name="Had")
    assert r["type"] == "result", r
    c.disconnect()
    srv.stop()
    cp = srv.ctl("import", "--merge", path)
    assert "imported 2 accounts" in cp.stdout, cp.stdout + cp.stderr
    assert "1 merged into existing" in cp.stdout, cp.stdout
    srv.start()
    await clients.connect(srv, "keep@localhost", "file password",
                          expect="auth-failed")
    c = await clients.connect(srv, "keep@localhost", "own password")
    items, _, _ = await roster_get(c)
    assert set(items) == {"had@example.org", "new@example.org"}, items
    r = await c.iq("<vCard xmlns='vcard-temp'/>")
    assert "Merged" in str(r), r
    await clients.connect(srv, "fresh@localhost", "fresh pw")
