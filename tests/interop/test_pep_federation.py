"""
PEP (XEP-0163) across the federation, as OMEMO clients use it: a Parley
user and a contact on Prosody, ejabberd or another Parley, mutually
subscribed, both announcing NODE+notify for the OMEMO device list in
their entity capabilities (XEP-0115). Each publishes a device list with
access_model=open; each receives the other's as an event (the server
of the publisher must learn the remote resource's capabilities over
the federation to send it), and fetches the other's device list and
bundle with an items request across the servers.
"""
from conftest import new_user, uniq
from test_federation import befriend, matrix, servers

NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_EVENT = NS_PUBSUB + "#event"
NS_AXOLOTL = "eu.siacs.conversations.axolotl"
DEVICELIST = NS_AXOLOTL + ".devicelist"
AVATAR_DATA = "urn:xmpp:avatar:data"
AVATAR_META = "urn:xmpp:avatar:metadata"
# a 1x1 PNG and its SHA-1, as XEP-0084 item ids are
PNG_B64 = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
           "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
PLUGINS = ("xep_0115", "xep_0163")


def publish(node, payload, item_id):
    return ("<pubsub xmlns='%s'><publish node='%s'><item id='%s'>%s</item>"
            "</publish><publish-options><x xmlns='jabber:x:data' "
            "type='submit'><field var='FORM_TYPE' type='hidden'><value>"
            "%s#publish-options</value></field><field var='pubsub#"
            "access_model'><value>open</value></field></x>"
            "</publish-options></pubsub>"
            % (NS_PUBSUB, node, item_id, payload, NS_PUBSUB))


def devices(dev_id):
    return "<list xmlns='%s'><device id='%s'/></list>" % (NS_AXOLOTL, dev_id)


def event_devices(m, frm):
    """The device ids of a device-list event from frm, or None."""
    items = m.xml.find("{%s}event/{%s}items" % (NS_EVENT, NS_EVENT))
    if items is None or items.get("node") != DEVICELIST or \
            m["from"].bare != frm:
        return None
    return [d.get("id") for d in items.iter("{%s}device" % NS_AXOLOTL)]


async def interested(clients, user):
    c = await clients.login(user, plugins=PLUGINS)
    c["xep_0030"].add_feature(DEVICELIST + "+notify")
    c["xep_0030"].add_feature(AVATAR_META + "+notify")
    await c["xep_0115"].update_caps()
    await c.iq("<query xmlns='jabber:iq:roster'/>")
    c.send_presence()
    return c


@matrix
async def test_omemo_devicelist_across(pool, clients, kind, domain, mode):
    local, remote = servers(pool, kind, domain, mode)
    a, b = new_user(local, "a"), new_user(remote, "b")
    ca, cb = await interested(clients, a), await interested(clients, b)
    await befriend(ca, a, cb, b)
    # both resources' presence (with caps) has crossed; the servers ask
    # each other's clients for their features, then events flow
    for cx, x, cy, y in ((ca, a, cb, b), (cb, b, ca, a)):
        dev = str(abs(hash(uniq())) % 100000 + 1)
        r = await cx.iq(publish(DEVICELIST, devices(dev), "current"),
                        type_="set")
        assert r["type"] == "result", "%s publishes: %s" % (x.jid, r)
        m = await cy.next_message(
            match=lambda m, x=x, dev=dev: dev in (event_devices(m, x.jid)
                                                  or []),
            what="%s's device list event at %s" % (x.jid, y.jid))
        assert m["from"].bare == x.jid
        # and the other fetches it, as a client starting a session does
        r = await cy.iq("<pubsub xmlns='%s'><items node='%s'/></pubsub>"
                        % (NS_PUBSUB, DEVICELIST), to=x.jid)
        assert r["type"] == "result", "%s fetches %s's list: %s" % (
            y.jid, x.jid, r)
        ids = [d.get("id") for d in r.xml.iter("{%s}device" % NS_AXOLOTL)]
        assert dev in ids, str(r)


@matrix
async def test_avatar_across(pool, clients, kind, domain, mode):
    """XEP-0084 avatars across the federation: each side publishes the
    data and then the metadata node; the contact on the other server gets
    the metadata event and fetches the data by the id it names."""
    import base64
    import hashlib
    local, remote = servers(pool, kind, domain, mode)
    a, b = new_user(local, "a"), new_user(remote, "b")
    ca, cb = await interested(clients, a), await interested(clients, b)
    await befriend(ca, a, cb, b)
    png = base64.b64decode(PNG_B64)
    sha = hashlib.sha1(png).hexdigest()
    data = "<data xmlns='%s'>%s</data>" % (AVATAR_DATA, PNG_B64)
    meta = ("<metadata xmlns='%s'><info id='%s' bytes='%d' type='image/png'"
            " width='1' height='1'/></metadata>" % (AVATAR_META, sha,
                                                   len(png)))
    for cx, x, cy, y in ((ca, a, cb, b), (cb, b, ca, a)):
        for node, payload in ((AVATAR_DATA, data), (AVATAR_META, meta)):
            r = await cx.iq(publish(node, payload, sha), type_="set")
            assert r["type"] == "result", "%s publishes %s: %s" % (
                x.jid, node, r)
        m = await cy.next_message(
            match=lambda m, x=x: m["from"].bare == x.jid and m.xml.find(
                "{%s}event/{%s}items[@node='%s']" % (
                    NS_EVENT, NS_EVENT, AVATAR_META)) is not None,
            what="%s's avatar metadata event at %s" % (x.jid, y.jid))
        info = m.xml.find(".//{%s}info" % AVATAR_META)
        assert info is not None and info.get("id") == sha, str(m)
        r = await cy.iq("<pubsub xmlns='%s'><items node='%s'><item id='%s'/>"
                        "</items></pubsub>" % (NS_PUBSUB, AVATAR_DATA, sha),
                        to=x.jid)
        assert r["type"] == "result", "%s fetches %s's avatar: %s" % (
            y.jid, x.jid, r)
        got = r.xml.find(".//{%s}data" % AVATAR_DATA)
        assert got is not None and got.text.strip() == PNG_B64, str(r)
