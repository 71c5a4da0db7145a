"""
Room avatars (XEP-0486, with XEP-0054 and the XEP-0153 presence of 5.2):
the service and the room list vcard-temp; an owner sets the room's vCard
(others: forbidden); the occupants get status 104 and a presence from the
room's bare JID with the photo's hash; the room's disco#info has
muc#roominfo_avatarhash (text-multi, one SHA-1 per PHOTO) only while an
avatar is set; anyone, in the room or not, gets the vCard; an empty vCard
removes the avatar (an empty photo in the room's presence, no field);
occupants' own presences do not carry the room's hash; a newcomer gets
the room's presence after the subject.
"""
import base64
import hashlib

from conftest import DOMAIN, NS_DISCO_INFO
from test_muc import (SVC, create, error_of, join, login, subject_msg)

NS_UPDATE = "vcard-temp:x:update"
NS_XDATA = "jabber:x:data"
PNG = b"\x89PNG\r\n\x1a\n-first-"
SVG = b"<svg xmlns='http://www.w3.org/2000/svg'/>"


def photo(data, typ):
    return ("<PHOTO><TYPE>%s</TYPE><BINVAL>%s</BINVAL></PHOTO>"
            % (typ, base64.b64encode(data).decode()))


def sha1(data):
    return hashlib.sha1(data).hexdigest()


async def avatar_hashes(c, rjid):
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=rjid)
    feats = [f.get("var") for f in
             r.xml.iter("{%s}feature" % NS_DISCO_INFO)]
    assert "vcard-temp" in feats, feats
    for f in r.xml.iter("{%s}field" % NS_XDATA):
        if f.get("var") == "muc#roominfo_avatarhash":
            assert f.get("type") == "text-multi", str(r)
            return [v.text for v in f.findall("{%s}value" % NS_XDATA)]
    return None


def room_update(p, rjid):
    """The photo of a presence from the room's bare JID, or None."""
    if p["from"].full != rjid:
        return None
    x = p.xml.find("{%s}x/{%s}photo" % (NS_UPDATE, NS_UPDATE))
    return None if x is None else (x.text or "")


async def test_room_avatar(make_server, clients):
    srv = make_server(host_options={DOMAIN: {"muc": "yes"}})
    a, b, c = (await login(srv, clients), await login(srv, clients),
               await login(srv, clients))
    # 3.1: the service says rooms take a vCard
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=SVC)
    assert "var=\"vcard-temp\"" in str(r) or "var='vcard-temp'" in str(r), \
        str(r)
    rjid = await create(a, "pic", "alice", conf={"persistentroom": "1"})
    await join(b, "pic", "bob")
    await subject_msg(b)
    assert await avatar_hashes(c, rjid) is None
    # 3.2: a participant may not set it
    r = await b.iq("<vCard xmlns='vcard-temp'>%s</vCard>"
                   % photo(PNG, "image/png"), to=rjid, type_="set")
    assert error_of(r) == "forbidden", str(r)
    # the owner sets two PHOTOs of one image (5.1)
    b.pending()
    r = await a.iq("<vCard xmlns='vcard-temp'>%s%s</vCard>"
                   % (photo(PNG, "image/png"), photo(SVG, "image/svg+xml")),
                   to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    m = await b.next_message(match=lambda m: "code=\"104\"" in str(m) or
                             "code='104'" in str(m), what="status 104")
    assert m["from"].full == rjid and m["type"] == "groupchat", str(m)
    p = await b.next_presence(match=lambda p: room_update(p, rjid)
                              is not None, what="the room's presence")
    assert room_update(p, rjid) == sha1(PNG), str(p)
    # 3.3: the hash of each in disco#info, also for someone not present
    assert await avatar_hashes(c, rjid) == [sha1(PNG), sha1(SVG)]
    # 3.4: anyone gets the vCard
    r = await c.iq("<vCard xmlns='vcard-temp'/>", to=rjid)
    assert base64.b64encode(PNG).decode() in str(r), str(r)
    # an occupant's own presence does not carry the room's hash
    b.send_raw("<presence to='%s/bob'><status>here</status></presence>"
               % rjid)
    p = await a.next_presence(match=lambda p: p["from"].resource == "bob"
                              and p["status"] == "here")
    # (its own XEP-0153 update, from its server's XEP-0398, is its own)
    assert sha1(PNG) not in str(p), str(p)
    # a newcomer gets the room's presence after the subject
    d = await login(srv, clients)
    d.send_raw("<presence to='%s/dave'><x xmlns='http://jabber.org/"
               "protocol/muc'/></presence>" % rjid)
    await subject_msg(d)
    p = await d.next_presence(match=lambda p: room_update(p, rjid)
                              is not None, what="the room's presence")
    assert room_update(p, rjid) == sha1(PNG), str(p)
    # 3.2: an empty vCard removes it
    r = await a.iq("<vCard xmlns='vcard-temp'/>", to=rjid, type_="set")
    assert r["type"] == "result", str(r)
    p = await b.next_presence(match=lambda p: room_update(p, rjid)
                              is not None and room_update(p, rjid) == "",
                              what="the room's presence without a photo")
    assert await avatar_hashes(c, rjid) is None
    r = await c.iq("<vCard xmlns='vcard-temp'/>", to=rjid)
    assert "BINVAL" not in str(r), str(r)
    # a newcomer to a room without an avatar gets no such presence
    e = await login(srv, clients)
    await join(e, "pic", "erin")
    await subject_msg(e)
    await e.fence()
    assert not [s for s in e.pending() if NS_UPDATE in s and
                "from=\"%s\"" % rjid in s], "a room presence without avatar"
