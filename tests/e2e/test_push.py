"""
Push notifications (XEP-0357): a device enables pushes to an app server
that the test controls (a client bound as app@localhost/srv that answers
the pubsub publish), and a message or subscription request for the
account, offline or hibernating under XEP-0198, reaches the app server as
a summary (count, sender; the body only where the operator says so),
rate-limited per device; an error answer disables the registration;
disable stops pushes; malformed enables are refused with bad-request.

Debian's slixmpp (1.8.x) has no xep_0357 plugin: enable and disable are
sent as the XEP's XML through the harness's iq(), the publish-options
form built with slixmpp's xep_0004 Form.
"""
import asyncio
import re

import pytest
from slixmpp.plugins.xep_0004 import Form
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from conftest import (DOMAIN, NS_CLIENT, NS_DISCO_INFO, SLOW, STANZA_TIMEOUT,
                      stanza_error, uniq, wait_for)
from imhelp import fence, online, send_message
from test_rfc6120 import bound, ping
from test_sm import enabled

NS_PUSH = "urn:xmpp:push:0"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_XDATA = "jabber:x:data"
PUBLISH_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options"


def options_form(secret):
    """The publish-options form a device sends (XEP-0357 5)."""
    f = Form()
    f["type"] = "submit"
    f.add_field("FORM_TYPE", ftype="hidden", value=PUBLISH_OPTIONS)
    f.add_field("secret", value=secret)
    return str(f)


def enable_xml(jid, node, form=""):
    return "<enable xmlns='%s' jid='%s' node='%s'>%s</enable>" % (
        NS_PUSH, jid, node, form)


async def enable(c, jid, node, secret=None):
    r = await c.iq(enable_xml(jid, node, options_form(secret)
                              if secret else ""), type_="set")
    assert r["type"] == "result", str(r)


async def disable(c, jid, node=None):
    n = " node='%s'" % node if node else ""
    r = await c.iq("<disable xmlns='%s' jid='%s'%s/>" % (NS_PUSH, jid, n),
                   type_="set")
    assert r["type"] == "result", str(r)


class Push:
    """One publish the app server received, read."""

    def __init__(self, iq):
        self.iq = iq
        x = iq.xml
        self.frm = x.get("from")
        pub = x.find("{%s}pubsub/{%s}publish" % (NS_PUBSUB, NS_PUBSUB))
        self.node = pub.get("node")
        form = pub.find("{%s}item/{%s}notification/{%s}x"
                        % (NS_PUBSUB, NS_PUSH, NS_XDATA))
        self.form_type = form.get("type")
        self.fields = {}
        for f in form.findall("{%s}field" % NS_XDATA):
            v = f.find("{%s}value" % NS_XDATA)
            self.fields[f.get("var")] = v.text if v is not None else None
        self.options = {}
        po = x.find("{%s}pubsub/{%s}publish-options/{%s}x"
                    % (NS_PUBSUB, NS_PUBSUB, NS_XDATA))
        if po is not None:
            for f in po.findall("{%s}field" % NS_XDATA):
                v = f.find("{%s}value" % NS_XDATA)
                self.options[f.get("var")] = v.text if v is not None \
                    else None

    def __repr__(self):
        return "Push(%s %s %s)" % (self.frm, self.node, self.fields)


def app_server(c, answer="result"):
    """Makes client c an app server: it records each publish it gets in
    c.pushes and answers it (c.answer: 'result' or an error condition)."""
    c.pushes = asyncio.Queue()
    c.answer = answer

    def on_publish(iq):
        if iq["type"] != "set":
            return
        c.pushes.put_nowait(Push(iq))
        if c.answer == "result":
            c.send_raw("<iq type='result' id='%s' to='%s'/>"
                       % (iq["id"], iq["from"]))
        else:
            c.send_raw("<iq type='error' id='%s' to='%s'><error type="
                       "'cancel'><%s xmlns='urn:ietf:params:xml:ns:xmpp-"
                       "stanzas'/></error></iq>"
                       % (iq["id"], iq["from"], c.answer))
    c.register_handler(Callback(
        "t-push", MatchXPath("{%s}iq/{%s}pubsub" % (NS_CLIENT, NS_PUBSUB)),
        on_publish))
    return c


async def next_push(app, timeout=STANZA_TIMEOUT):
    try:
        return await asyncio.wait_for(app.pushes.get(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError("the app server got no push within %ss"
                             % timeout)


async def no_push(app, seconds=1.5):
    await asyncio.sleep(seconds * SLOW)
    got = []
    while not app.pushes.empty():
        got.append(app.pushes.get_nowait())
    assert not got, "unexpected pushes: %s" % got


async def away(srv, c):
    """c leaves, and the router has ended its session."""
    full = c.boundjid.full
    c.disconnect()
    await c.wait_closed()
    await wait_for(lambda: "session %s ended" % full in srv.log_text(),
                   STANZA_TIMEOUT, "the session ended")


async def push_setup(srv, clients, answer="result", secret="s3cret"):
    """An app server, a user who enabled pushes to it and went offline,
    and a contact. Returns (app, user, contact client, node)."""
    app = app_server(await clients.login(srv, srv.new_user("app"),
                                         resource="srv"), answer)
    user = srv.new_user("ph")
    node = uniq("node")
    c = await clients.login(srv, user, resource="phone")
    await enable(c, app.boundjid.full, node, secret)
    await away(srv, c)
    bob = await clients.login(srv, srv.new_user("bob"), resource="b")
    return app, user, bob, node


async def sm_phone(srv, app, node):
    """A raw stream-managed session (resumable) of a new user, available,
    that enabled pushes to app. Returns (raw, user)."""
    user = srv.new_user("sm")
    raw = await bound(srv, user, resource="phone")
    await enabled(raw)
    await raw.send("<presence/>")
    await raw.send("<iq type='set' id='pe'>%s</iq>"
                   % enable_xml(app.boundjid.full, node))
    await raw.read_until(rb"<iq[^>]*id='pe'[^>]*>")
    assert re.search(rb"<iq[^>]*type='result'[^>]*id='pe'|<iq[^>]*id='pe'"
                     rb"[^>]*type='result'", raw.buf), raw.buf
    return raw, user


# ---------------------------------------------------------------------------

async def test_account_disco_lists_push(server, clients):
    user = server.new_user("d")
    c = await clients.login(server, user, resource="r")
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=user.jid)
    feats = [f.get("var") for f in r.xml.iter("{%s}feature" % NS_DISCO_INFO)]
    assert NS_PUSH in feats, feats


async def test_offline_message_pushed_without_body(server, clients):
    app, user, bob, node = await push_setup(server, clients)
    send_message(bob, user.jid, "secret-text")
    p = await next_push(app)
    assert p.frm == user.jid
    assert p.node == node
    assert p.form_type == "submit"
    assert p.fields["FORM_TYPE"] == "urn:xmpp:push:summary"
    assert p.fields["message-count"] == "1"
    assert p.fields["last-message-sender"] == bob.boundjid.full
    # privacy by default: no body
    assert "last-message-body" not in p.fields, p
    assert b"secret-text" not in str(p.iq).encode()
    # the publish-options come back as the device sent them
    assert p.options == {"FORM_TYPE": PUBLISH_OPTIONS, "secret": "s3cret"}
    # the message is stored all the same
    back = await online(server, clients, user, resource="back")
    assert [m["body"] for m in back.at_login.messages] == ["secret-text"]


async def test_message_without_body_not_pushed(server, clients):
    app, user, bob, node = await push_setup(server, clients)
    bob.send_raw("<message to='%s' type='chat'><active xmlns='http://"
                 "jabber.org/protocol/chatstates'/></message>" % user.jid)
    await fence(bob)
    await no_push(app)


async def test_body_when_the_operator_says_so(make_server, clients):
    srv = make_server(host_options={DOMAIN: {"push-body": "yes"}})
    app, user, bob, node = await push_setup(srv, clients)
    send_message(bob, user.jid, "hello-body")
    p = await next_push(app)
    assert p.fields["last-message-body"] == "hello-body", p


async def test_burst_is_rate_limited(make_server, clients):
    interval = int(3 * SLOW)
    srv = make_server(push_interval=interval)
    app, user, bob, node = await push_setup(srv, clients)
    send_message(bob, user.jid, "m0")
    first = await next_push(app)
    assert first.fields["message-count"] == "1", first
    for i in range(1, 5):
        send_message(bob, user.jid, "m%d" % i)
    await fence(bob)
    # the rest waits for the interval and goes as one push, counted
    await no_push(app, 1.0)
    second = await next_push(app, interval + STANZA_TIMEOUT)
    assert second.fields["message-count"] == "5", second
    await no_push(app, interval + 0.5)


async def test_hibernated_session_pushed(server, clients):
    app = app_server(await clients.login(server, server.new_user("app"),
                                         resource="srv"))
    node = uniq("node")
    raw, user = await sm_phone(server, app, node)
    await ping(raw)
    raw.close()         # no </stream:stream>: the connection is lost
    await wait_for(lambda: "session %s/phone hibernated" % user.jid
                   in server.log_text(), STANZA_TIMEOUT,
                   "the session hibernates")
    bob = await clients.login(server, server.new_user("bob"), resource="b")
    send_message(bob, user.jid + "/phone", "wake-up")
    p = await next_push(app)
    assert p.node == node and p.fields["message-count"] == "1", p
    assert p.fields["last-message-sender"] == bob.boundjid.full


async def test_online_user_not_pushed(server, clients):
    app = app_server(await clients.login(server, server.new_user("app"),
                                         resource="srv"))
    user = server.new_user("on")
    c = await online(server, clients, user, resource="phone")
    await enable(c, app.boundjid.full, uniq("n"))
    bob = await clients.login(server, server.new_user("bob"), resource="b")
    send_message(bob, user.jid, "you-are-here")
    await c.next_message(match=lambda m: m["body"] == "you-are-here")
    await no_push(app)


async def test_error_answer_disables(make_server, clients):
    srv = make_server(push_interval=0)
    app, user, bob, node = await push_setup(srv, clients, answer="item-not-found")
    send_message(bob, user.jid, "one")
    await next_push(app)
    await wait_for(lambda: "registration removed" in srv.log_text(),
                   STANZA_TIMEOUT, "the registration is removed")
    send_message(bob, user.jid, "two")
    await fence(bob)
    await no_push(app)


async def test_disable_stops_pushes(server, clients):
    app, user, bob, node = await push_setup(server, clients)
    c = await clients.login(server, user, resource="again")
    await disable(c, app.boundjid.full, node)
    await away(server, c)
    send_message(bob, user.jid, "nobody-hears")
    await fence(bob)
    await no_push(app)


async def test_subscription_request_pushed(server, clients):
    app, user, bob, node = await push_setup(server, clients)
    bob.send_raw("<presence to='%s' type='subscribe'/>" % user.jid)
    p = await next_push(app)
    assert p.fields.get("pending-subscription-count") == "1", p
    assert "message-count" not in p.fields


async def test_devices_bounded(make_server, clients):
    srv = make_server(push_max_devices=2, push_interval=0)
    app = app_server(await clients.login(srv, srv.new_user("app"),
                                         resource="srv"))
    user = srv.new_user("many")
    c = await clients.login(srv, user, resource="phone")
    nodes = ["n1", "n2", "n3"]
    for n in nodes:
        await enable(c, app.boundjid.full, n)
    # the same JID and node again replaces, it does not add
    await enable(c, app.boundjid.full, "n3")
    await away(srv, c)
    bob = await clients.login(srv, srv.new_user("bob"), resource="b")
    send_message(bob, user.jid, "hi")
    got = sorted([(await next_push(app)).node for _ in range(2)])
    assert got == ["n2", "n3"], got
    await no_push(app, 1.0)


@pytest.mark.parametrize("payload,cond", [
    (enable_xml("", "n"), "bad-request"),
    ("<enable xmlns='%s' node='n'/>" % NS_PUSH, "bad-request"),
    (enable_xml("a@b@c", "n"), "bad-request"),
    ("<enable xmlns='%s' jid='push.example'/>" % NS_PUSH, "bad-request"),
    # a form that is not a submitted publish-options form
    (enable_xml("push.example", "n", "<x xmlns='jabber:x:data' type='form'>"
                "<field var='FORM_TYPE'><value>%s</value></field></x>"
                % PUBLISH_OPTIONS), "bad-request"),
    (enable_xml("push.example", "n", "<x xmlns='jabber:x:data' type='submit'>"
                "<field var='FORM_TYPE'><value>urn:other</value></field></x>"),
     "bad-request"),
    (enable_xml("push.example", "n", "<x xmlns='jabber:x:data' type='submit'>"
                "<field var='FORM_TYPE'><value>%s</value></field>"
                "<field var='a'><value>1</value></field>"
                "<field var='a'><value>2</value></field></x>"
                % PUBLISH_OPTIONS), "bad-request"),
    (enable_xml("push.example", "n", "<x xmlns='jabber:x:data'/>"),
     "bad-request"),
    (enable_xml("push.example", "n", "<foo xmlns='urn:other'/>"),
     "bad-request"),
    (enable_xml("push.example", "n", "<x xmlns='jabber:x:data' type='submit'>"
                "<field var='FORM_TYPE'><value>%s</value></field>"
                "<field var='big'><value>%s</value></field></x>"
                % (PUBLISH_OPTIONS, "x" * 5000)), "not-acceptable"),
    ("<disable xmlns='%s'/>" % NS_PUSH, "bad-request"),
])
async def test_malformed_enable(server, clients, payload, cond):
    c = await clients.login(server, server.new_user("bad"), resource="r")
    r = await c.iq(payload, type_="set")
    assert r["type"] == "error" and stanza_error(r)[1] == cond, str(r)[:300]
    # still alive and answering
    await fence(c)


async def test_other_account_forbidden(server, clients):
    victim = server.new_user("v")
    c = await clients.login(server, server.new_user("m"), resource="r")
    r = await c.iq(enable_xml("push.example", "n"), to=victim.jid,
                   type_="set")
    assert r["type"] == "error" and stanza_error(r)[1] == "forbidden", str(r)


async def test_registration_survives_restart(make_server, clients):
    srv = make_server()
    app, user, bob, node = await push_setup(srv, clients)
    app_user, bob_user = [[u for u in srv.users if u.jid == c.boundjid.bare][0]
                          for c in (app, bob)]
    srv.restart()
    app = app_server(await clients.login(srv, app_user, resource="srv"))
    bob = await clients.login(srv, bob_user, resource="b")
    send_message(bob, user.jid, "after-restart")
    p = await next_push(app)
    assert p.node == node and p.options.get("secret") == "s3cret", p


async def test_account_deletion_removes_registrations(server, clients):
    app, user, bob, node = await push_setup(server, clients)
    send_message(bob, user.jid, "to-the-old-account")
    assert (await next_push(app)).fields["message-count"] == "1"
    server.ctl("deluser", user.jid)
    server.adduser(user.jid, user.password)
    send_message(bob, user.jid, "to-the-new-account")
    await fence(bob)
    await no_push(app)
    # a new account of the same name inherits no count either
    c = await clients.login(server, user, resource="new")
    await enable(c, app.boundjid.full, node)
    await away(server, c)
    send_message(bob, user.jid, "counted-anew")
    assert (await next_push(app)).fields["message-count"] == "1"


async def test_timed_out_session_not_pushed_twice(make_server, clients):
    """A message pushed while its session hibernated goes to offline
    storage when the session times out: not a second push for it."""
    srv = make_server(push_interval=0, sm_resume_timeout=1)
    app = app_server(await clients.login(srv, srv.new_user("app"),
                                         resource="srv"))
    raw, user = await sm_phone(srv, app, "n")
    raw.close()
    await wait_for(lambda: "session %s/phone hibernated" % user.jid
                   in srv.log_text(), STANZA_TIMEOUT, "the session hibernates")
    bob = await clients.login(srv, srv.new_user("bob"), resource="b")
    send_message(bob, user.jid + "/phone", "once")
    p = await next_push(app)
    assert p.fields["message-count"] == "1", p
    await wait_for(lambda: "session %s/phone ended" % user.jid
                   in srv.log_text(), 5 * SLOW + STANZA_TIMEOUT,
                   "the session times out")
    await no_push(app)
    back = await online(srv, clients, user, resource="back")
    assert [m["body"] for m in back.at_login.messages] == ["once"]


async def test_remote_app_server(make_server, tmp_path_factory, clients):
    """The app server is on another domain: the push goes over s2s, and
    its error answer comes back over s2s and disables the registration."""
    from test_s2s import pair, user as s2s_user
    a, b = pair(make_server, tmp_path_factory, push_interval=0)
    ua, sender, uapp = (s2s_user(a, "a.test", "ph"), s2s_user(a, "a.test"),
                        s2s_user(b, "b.test", "app"))
    app = app_server(await clients.login(b, uapp, resource="srv"))
    c = await clients.login(a, ua, resource="phone")
    await enable(c, app.boundjid.full, "remote-node", "k")
    await away(a, c)
    s = await clients.login(a, sender, resource="s")
    send_message(s, ua.jid, "across")
    p = await next_push(app, 3 * STANZA_TIMEOUT)
    assert p.frm == ua.jid and p.node == "remote-node", p
    assert p.fields["last-message-sender"] == s.boundjid.full, p
    assert p.options.get("secret") == "k", p
    app.answer = "not-authorized"
    send_message(s, ua.jid, "again")
    await next_push(app, 3 * STANZA_TIMEOUT)
    await wait_for(lambda: "registration removed" in a.log_text(),
                   3 * STANZA_TIMEOUT, "the registration is removed")
    send_message(s, ua.jid, "no-more")
    await fence(s)
    await no_push(app)


async def test_unacked_at_hibernation_pushed(server, clients):
    """A message written to a connection that then dies, never acked:
    the client may never have seen it, so the hibernation pushes it."""
    app = app_server(await clients.login(server, server.new_user("app"),
                                         resource="srv"))
    raw, user = await sm_phone(server, app, "n")
    bob = await clients.login(server, server.new_user("bob"), resource="b")
    send_message(bob, user.jid + "/phone", "unseen")
    await raw.read_until(rb"<body>unseen</body>")
    await no_push(app, 0.5)
    raw.close()         # nothing acked
    p = await next_push(app)
    assert p.fields["message-count"] == "1", p
    assert p.fields["last-message-sender"] == bob.boundjid.full, p


async def test_largest_registration_stored(make_server, clients):
    """A registration at every limit (the longest node, all of it escaped
    in the record, and a form of push-form-max-size) is stored and pushed
    as it was given."""
    srv = make_server(push_max_devices=1)
    app = app_server(await clients.login(srv, srv.new_user("app"),
                                         resource="srv"))
    user = srv.new_user("esc")
    c = await clients.login(srv, user, resource="phone")
    secret = "x" * 3900
    await enable(c, app.boundjid.full, "&amp;" * 1024, secret)
    await away(srv, c)
    bob = await clients.login(srv, srv.new_user("bob"), resource="b")
    send_message(bob, user.jid, "hi")
    p = await next_push(app)
    assert p.node == "&" * 1024 and p.options["secret"] == secret
