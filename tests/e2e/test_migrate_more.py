"""
Migration of what XEP-0227's user elements do not cover (storage/
pie_*.c, docs/operator.md "Migration"): message archives in the format
Prosody's XEP-0227 export writes (urn:xmpp:pie:0#mam), and in Parley's
own namespace (urn:parley:pie:0) last activity, archive preferences,
push registrations and group chat rooms with their archives. A Parley ->
Parley round trip loses nothing (the second export is the first, byte
for byte), stanza-ids are kept; FAST tokens are not carried (their
stored hashes log in: a token from before the move fails after it, the
password works); a Prosody-style archive is imported
with its times; bad archive and extension elements are refused with
their line, nothing imported.
"""
import os
import uuid

import pytest

from conftest import DOMAIN, session_ended
from imhelp import drain, online, send_message, settle
from test_fast import password_login, token_login
from test_mam import query
from test_migrate import accounts, scram_sha1, write
from test_muc import (PLUGINS, SVC, create, groupchat, next_body)
from test_push import enable

NS_MAM = "urn:xmpp:mam:2"


async def room_query(c, room):
    """The room's archive (XEP-0313 on its JID): [(id, body)]."""
    qid = uuid.uuid4().hex
    r = await c.iq("<query xmlns='%s' queryid='%s'/>" % (NS_MAM, qid),
                   type_="set", to=room)
    assert r["type"] == "result", str(r)
    out = []
    while not c.messages.empty():
        m = c.messages.get_nowait()
        res = m.xml.find("{%s}result" % NS_MAM)
        if res is None or res.get("queryid") != qid:
            continue
        body = m.xml.find(".//{jabber:client}body")
        out.append((res.get("id"), body.text if body is not None else None))
    return out


def muc_server(make_server, **kw):
    return make_server(host_options={DOMAIN: {"muc": "yes"}}, **kw)


async def test_round_trip_all_kinds(make_server, clients, tmp_path):
    old = muc_server(make_server)
    a, b = old.new_user("ra"), old.new_user("rb")
    ca = await online(old, clients, a)
    cb = await online(old, clients, b)
    # archive preferences, a push registration, a FAST token
    r = await ca.iq("<prefs xmlns='%s' default='always'><always><jid>%s"
                    "</jid></always><never/></prefs>" % (NS_MAM, b.jid),
                    type_="set")
    assert r["type"] == "result", str(r)
    await enable(ca, "push.example.net", "node-1", secret="s3cret")
    dev = str(uuid.uuid4())
    token = await password_login(old, a, dev)
    # two archived messages each way
    send_message(ca, b.jid, "one")
    await settle(ca, cb)
    send_message(cb, a.jid, "two")
    await settle(ca, cb)
    before = await query(ca)
    assert before.bodies == ["one", "two"], before.bodies
    # a persistent room with an archived groupchat message
    cr = await clients.login(old, a, plugins=PLUGINS, resource="muc")
    cr.send_presence()
    await cr.fence()
    room = await create(cr, "keep", conf={"persistentroom": "1",
                                           "roomname": "Kept"})
    groupchat(cr, room, "in the room")
    await next_body(cr, "in the room")
    drain(cr)
    room_before = await room_query(cr, room)
    assert [b for _, b in room_before] == ["in the room"], room_before
    # last activity: a logs out
    for c in (ca, cr):
        full = str(c.boundjid)
        c.disconnect()
        await session_ended(old, full)
    old.stop()

    first = os.path.join(str(tmp_path), "first.xml")
    cp = old.ctl("export", first)
    assert "exported 2 accounts and 1 group chat room" in cp.stderr, \
        cp.stderr
    text = open(first).read()
    assert "<archive xmlns='urn:xmpp:pie:0#mam'>" in text
    for kind in ("last", "mam-prefs", "push"):
        assert "kind='%s'" % kind in text, kind
    assert "fast" not in text
    assert "<service xmlns='urn:parley:pie:0' jid='%s'>" % SVC in text
    assert "<room name='keep'>" in text

    new = muc_server(make_server, start=False)
    cp = new.ctl("import", first)
    assert "imported 2 accounts" in cp.stdout and \
        "and 1 group chat room" in cp.stdout, cp.stdout + cp.stderr
    second = os.path.join(str(tmp_path), "second.xml")
    new.ctl("export", second)
    # nothing lost, nothing changed
    assert open(second).read() == text
    assert accounts(new) == sorted([a.jid, b.jid])

    new.start()
    # the FAST token issued before the move is not carried
    name, el = await token_login(new, a, dev, token)
    assert name == "failure", el
    c = await online(new, clients, a)
    after = await query(c)
    assert after.bodies == before.bodies
    assert after.ids == before.ids      # stanza-ids kept
    assert [r["stamp"] for r in after.results] == \
        [r["stamp"] for r in before.results]
    cr = await clients.login(new, a, plugins=PLUGINS, resource="muc2")
    room_after = await room_query(cr, room)
    assert room_after == room_before    # its stanza-id kept
    info = await cr["xep_0030"].get_info(jid=room)
    assert "muc_persistent" in info["disco_info"]["features"]
    # an import again is refused: accounts and the room exist
    new.stop()
    cp = new.ctl("import", first, check=False)
    assert cp.returncode == 1 and "room keep@%s exists already" % SVC \
        in cp.stderr, cp.stderr
    # --merge: the room's record replaced, its archive added to
    cp = new.ctl("import", "--merge", first)
    assert "and 1 group chat room" in cp.stdout, cp.stdout + cp.stderr
    merged = os.path.join(str(tmp_path), "merged.xml")
    new.ctl("export", merged)
    text = open(merged).read()
    assert text.count("<body>in the room</body>") == 2
    assert text.count("<room name='keep'>") == 1


PROSODY_ARCHIVE = """<?xml version='1.0' encoding='utf-8'?>
<server-data xmlns='urn:xmpp:pie:0'>
<host jid='{dom}'>
<user name='pa'>
{scram}
<archive xmlns='urn:xmpp:pie:0#mam'>
<result xmlns='urn:xmpp:mam:2' id='6b1c2f0e-1d2a-4b57-9a43-2f7c8e5d0a11'>
<forwarded xmlns='urn:xmpp:forward:0'>
<delay xmlns='urn:xmpp:delay' stamp='2024-03-01T10:00:00Z'/>
<message xmlns='jabber:client' to='friend@example.org' type='chat'
 from='pa@{dom}/phone' id='m1'><body>old sent</body></message>
</forwarded></result>
<result xmlns='urn:xmpp:mam:2' id='0f3e9b7a-77aa-4c1e-8d3f-9b1b2c3d4e5f'>
<forwarded xmlns='urn:xmpp:forward:0'>
<delay xmlns='urn:xmpp:delay' stamp='2024-03-01T11:30:00.250000+01:00'/>
<message xmlns='jabber:client' to='pa@{dom}' type='chat'
 from='friend@example.org/laptop' id='m2'><body>old received</body></message>
</forwarded></result>
</archive>
</user>
</host>
</server-data>
"""


async def test_prosody_archive_imported(make_server, clients, tmp_path):
    """XEP-0227 archives as Prosody's mod_storage_xep0227 writes them:
    each message with its delay stamp, with its other party found from
    to and from; a client's archive query finds them, in order, with
    their times."""
    srv = make_server(start=False)
    path = write(tmp_path, "pa.xml", PROSODY_ARCHIVE.format(
        dom=DOMAIN, scram=scram_sha1("pa-secret")))
    cp = srv.ctl("import", path)
    assert "imported 1 account (2 records" in cp.stdout, \
        cp.stdout + cp.stderr
    srv.start()
    from conftest import User
    c = await online(srv, clients, User("pa@" + DOMAIN, "pa-secret"))
    page = await query(c)
    assert page.bodies == ["old sent", "old received"], page.bodies
    assert [r["stamp"][:19] for r in page.results] == \
        ["2024-03-01T10:00:00", "2024-03-01T10:30:00"], page.results
    # the with index: the other party of each
    page = await query(c, "<x xmlns='jabber:x:data' type='submit'><field "
                       "var='FORM_TYPE' type='hidden'><value>%s</value>"
                       "</field><field var='with'><value>friend@example.org"
                       "</value></field></x>" % NS_MAM)
    assert page.bodies == ["old sent", "old received"], page.bodies


BAD = [
    ("no-delay", "<archive xmlns='urn:xmpp:pie:0#mam'><result xmlns='"
     "urn:xmpp:mam:2' id='x'><forwarded xmlns='urn:xmpp:forward:0'>"
     "<message xmlns='jabber:client' to='a@b'/></forwarded></result>"
     "</archive>", "forwarding a message with its <delay"),
    ("bad-stamp", "<archive xmlns='urn:xmpp:pie:0#mam'><result xmlns='"
     "urn:xmpp:mam:2' id='x'><forwarded xmlns='urn:xmpp:forward:0'>"
     "<delay xmlns='urn:xmpp:delay' stamp='yesterday'/><message xmlns="
     "'jabber:client' to='a@b'/></forwarded></result></archive>",
     "forwarding a message"),
    ("no-message", "<archive xmlns='urn:xmpp:pie:0#mam'><result xmlns='"
     "urn:xmpp:mam:2' id='x'><forwarded xmlns='urn:xmpp:forward:0'>"
     "<delay xmlns='urn:xmpp:delay' stamp='2024-01-01T00:00:00Z'/>"
     "</forwarded></result></archive>", "forwarding a message"),
    ("doc-kind", "<doc xmlns='urn:parley:pie:0' kind='muc'>eA==</doc>",
     "not one Parley imports"),
    ("doc-fast", "<doc xmlns='urn:parley:pie:0' kind='fast'>eA=="
     "</doc>", "not one Parley imports"),
    ("doc-b64", "<doc xmlns='urn:parley:pie:0' kind='last'>!!!</doc>",
     "not base64"),
    ("doc-nul", "<doc xmlns='urn:parley:pie:0' kind='last'>YQBi</doc>",
     "not base64 of text"),
]


@pytest.mark.parametrize("name,inner,expect", BAD, ids=[b[0] for b in BAD])
def test_bad_archive_and_docs_refused(make_server, tmp_path, name, inner,
                                      expect):
    srv = make_server(start=False)
    text = ("<server-data xmlns='urn:xmpp:pie:0'><host jid='%s'><user "
            "name='bad' password='x'>\n%s\n</user></host></server-data>"
            % (DOMAIN, inner))
    cp = srv.ctl("import", write(tmp_path, name + ".xml", text),
                 check=False)
    assert cp.returncode == 1, cp.stdout
    assert ":2: " in cp.stderr and expect in cp.stderr, cp.stderr
    assert "nothing imported" in cp.stderr
    assert "bad@" + DOMAIN not in accounts(srv)


def test_rooms_refused(make_server, tmp_path):
    """A room of a service that is not ours, a record naming another
    room: each said with its line, nothing imported."""
    srv = muc_server(make_server, start=False)
    text = ("<server-data xmlns='urn:xmpp:pie:0'>\n"
            "<service xmlns='urn:parley:pie:0' jid='conference.other.example'"
            "><room name='r'/></service>\n"
            "<service xmlns='urn:parley:pie:0' jid='%s'><room name='r'>"
            "<room xmlns='urn:parley:muc:0' node='other'/></room>"
            "</service>\n</server-data>" % SVC)
    cp = srv.ctl("import", write(tmp_path, "rooms.xml", text), check=False)
    assert cp.returncode == 1, cp.stdout
    assert ":2: room r@conference.other.example: conference.other." \
        "example is not a group chat service" in cp.stderr, cp.stderr
    assert ":3: room r: its record names another room" in cp.stderr
    assert "2 problems: nothing imported" in cp.stderr, cp.stderr
