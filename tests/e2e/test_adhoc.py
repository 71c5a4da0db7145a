"""
Ad-hoc commands (XEP-0050) with the XEP-0133 commands Parley has: the
list in disco#items for admins only (host option admins), one-step
commands through slixmpp's xep_0050 plugin, the announcement's two steps
with a sessionid, cancel, and the errors (forbidden, item-not-found,
bad-request with bad-sessionid and bad-payload) in raw XML.
"""
from conftest import DOMAIN, LOGIN_TIMEOUT, Client, User
from imhelp import online
from xmpptest import stanza_error, uniq

NS_CMD = "http://jabber.org/protocol/commands"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_INFO = "http://jabber.org/protocol/disco#info"
NS_X = "jabber:x:data"
ADMIN = "http://jabber.org/protocol/admin"


async def slix_admin(srv, clients, user):
    c = Client("%s/%s" % (user.jid, uniq("r")), user.password,
               ("127.0.0.1", srv.port))
    c.register_plugin("xep_0030")
    c.register_plugin("xep_0050")
    clients.all.append(c)
    c.start()
    assert await c.wait_state(LOGIN_TIMEOUT) == "session"
    return c


def admin_server(make_server):
    """A server whose host has one admin (host option admins)."""
    admin = User("boss%s@%s" % (uniq(""), DOMAIN), "pw-boss")
    return admin, make_server(users=[admin],
                              host_options={DOMAIN: {"admins": admin.jid}})


def cmd(node, action=None, sid=None, form=""):
    return "<command xmlns='%s' node='%s'%s%s>%s</command>" % (
        NS_CMD, node, " action='%s'" % action if action else "",
        " sessionid='%s'" % sid if sid else "", form)


def fields(command):
    out = {}
    for f in command.findall("{%s}x/{%s}field" % (NS_X, NS_X)):
        out[f.get("var")] = [v.text for v in f.findall("{%s}value" % NS_X)]
    return out


def app_error(iq):
    err = iq.xml.find("{jabber:client}error")
    return [c.tag.split("}")[1] for c in err
            if c.tag.startswith("{%s}" % NS_CMD)]


async def test_commands_listed_and_run(make_server, clients):
    admin, srv = admin_server(make_server)
    other = srv.new_user("plain")
    a = await slix_admin(srv, clients, admin)
    o = await online(srv, clients, other, resource="o")

    items = await a["xep_0050"].get_commands(DOMAIN)
    nodes = {i[1] for i in items["disco_items"]["items"]}
    assert nodes == {ADMIN + "#add-user", ADMIN + "#change-user-password",
                     ADMIN + "#delete-user", ADMIN + "#get-online-users-num",
                     ADMIN + "#get-online-users-list",
                     ADMIN + "#announce", ADMIN + "#set-motd",
                     ADMIN + "#edit-motd", ADMIN + "#delete-motd",
                     ADMIN + "#disable-user", ADMIN + "#reenable-user",
                     ADMIN + "#edit-admin",
                     "urn:xmpp:parley:admin#set-user-role",
                     "urn:xmpp:invite#invite",
                     "urn:xmpp:invite#create-account"}, nodes
    # a plain user (a member) sees only the XEP-0401 invitation its role
    # allows (test_invite.py)
    r = await o.iq("<query xmlns='%s' node='%s'/>" % (NS_ITEMS, NS_CMD),
                   to=DOMAIN)
    assert r["type"] == "result"
    assert [i.get("node") for i in r.xml.findall(
        "{%s}query/{%s}item" % (NS_ITEMS, NS_ITEMS))] == \
        ["urn:xmpp:invite#invite"], str(r)
    # a command node's disco#info (XEP-0050 2.3), for admins only
    q = "<query xmlns='%s' node='%s'/>" % (NS_INFO, ADMIN + "#announce")
    r = await a.iq(q, to=DOMAIN)
    idn = r.xml.find("{%s}query/{%s}identity" % (NS_INFO, NS_INFO))
    assert idn is not None and idn.get("type") == "command-node", str(r)
    feats = {f.get("var") for f in r.xml.findall(
        "{%s}query/{%s}feature" % (NS_INFO, NS_INFO))}
    assert feats == {NS_CMD, NS_X}, str(r)
    r = await o.iq(q, to=DOMAIN)
    assert stanza_error(r)[1] == "item-not-found", str(r)
    r = await a.iq("<query xmlns='%s' node='other'/>" % NS_ITEMS, to=DOMAIN)
    assert stanza_error(r)[1] == "item-not-found", str(r)

    r = await a["xep_0050"].send_command(DOMAIN,
                                         ADMIN + "#get-online-users-num")
    c = r.xml.find("{%s}command" % NS_CMD)
    assert c.get("status") == "completed", str(r)
    assert fields(c)["onlineusersnum"] == ["2"], str(r)
    # XEP-0133 8.2 registers it as text-single
    f = c.find("{%s}x/{%s}field[@var='onlineusersnum']" % (NS_X, NS_X))
    assert f.get("type") == "text-single", str(r)
    r = await a["xep_0050"].send_command(DOMAIN,
                                         ADMIN + "#get-online-users-list")
    c = r.xml.find("{%s}command" % NS_CMD)
    assert sorted(fields(c)["onlineuserjids"]) == sorted(
        [admin.jid, other.jid]), str(r)

    # the announcement: a form, then its submission with the sessionid
    r = await a.iq(cmd(ADMIN + "#announce"), to=DOMAIN, type_="set")
    c = r.xml.find("{%s}command" % NS_CMD)
    assert c.get("status") == "executing", str(r)
    sid = c.get("sessionid")
    # XEP-0133 4.23: the text is the field announcement
    assert sid and "announcement" in fields(c), str(r)
    form = ("<x xmlns='%s' type='submit'><field var='subject'><value>"
            "Maintenance</value></field><field var='announcement'><value>"
            "down at"
            "</value><value>noon</value></field></x>" % NS_X)
    r = await a.iq(cmd(ADMIN + "#announce", "complete", sid, form),
                   to=DOMAIN, type_="set")
    c = r.xml.find("{%s}command" % NS_CMD)
    assert c.get("status") == "completed", str(r)
    m = await o.next_message()
    assert m["type"] == "headline" and m["from"] == DOMAIN, str(m)
    assert m["subject"] == "Maintenance" and m["body"] == "down at\nnoon"
    # the session is over: its id is no longer good
    r = await a.iq(cmd(ADMIN + "#announce", "complete", sid, form),
                   to=DOMAIN, type_="set")
    assert stanza_error(r) == ("modify", "bad-request"), str(r)
    assert app_error(r) == ["bad-sessionid"], str(r)


async def test_errors_and_cancel(make_server, clients):
    admin, srv = admin_server(make_server)
    other = srv.new_user("plain")
    a = await online(srv, clients, admin, resource="a")
    o = await online(srv, clients, other, resource="o")

    # a plain user is forbidden, whatever the node
    r = await o.iq(cmd(ADMIN + "#get-online-users-num"), to=DOMAIN,
                   type_="set")
    assert stanza_error(r) == ("auth", "forbidden"), str(r)
    r = await a.iq(cmd(ADMIN + "#no-such-command"), to=DOMAIN, type_="set")
    assert stanza_error(r) == ("cancel", "item-not-found"), str(r)
    r = await a.iq(cmd(ADMIN + "#announce", "complete", "feedfacefeedface"),
                   to=DOMAIN, type_="set")
    assert stanza_error(r)[1] == "bad-request" and \
        app_error(r) == ["bad-sessionid"], str(r)
    r = await a.iq("<command xmlns='%s'/>" % NS_CMD, to=DOMAIN, type_="set")
    assert stanza_error(r)[1] == "bad-request", str(r)
    r = await a.iq(cmd(ADMIN + "#announce", "prev"), to=DOMAIN, type_="set")
    assert app_error(r) == ["bad-action"], str(r)

    # a malformed submission: no body, or no form at all
    for form in ("<x xmlns='%s' type='submit'/>" % NS_X, ""):
        r = await a.iq(cmd(ADMIN + "#announce"), to=DOMAIN, type_="set")
        sid = r.xml.find("{%s}command" % NS_CMD).get("sessionid")
        r = await a.iq(cmd(ADMIN + "#announce", "complete", sid, form),
                       to=DOMAIN, type_="set")
        assert stanza_error(r)[1] == "bad-request" and \
            app_error(r) == ["bad-payload"], str(r)

    # cancel ends the session
    r = await a.iq(cmd(ADMIN + "#announce"), to=DOMAIN, type_="set")
    sid = r.xml.find("{%s}command" % NS_CMD).get("sessionid")
    r = await a.iq(cmd(ADMIN + "#announce", "cancel", sid), to=DOMAIN,
                   type_="set")
    assert r.xml.find("{%s}command" % NS_CMD).get("status") == "canceled"
    r = await a.iq(cmd(ADMIN + "#announce", "complete", sid,
                       "<x xmlns='%s' type='submit'><field var="
                       "'announcement'><value>x</value></field></x>" % NS_X),
                   to=DOMAIN, type_="set")
    assert app_error(r) == ["bad-sessionid"], str(r)
    await o.fence()
    assert not o.pending(), o.pending()

    # bounded: many sessions opened and never finished
    seen = set()
    for _ in range(40):
        r = await a.iq(cmd(ADMIN + "#announce"), to=DOMAIN, type_="set")
        if r["type"] == "error":
            assert stanza_error(r)[1] == "resource-constraint", str(r)
        else:
            seen.add(r.xml.find("{%s}command" % NS_CMD).get("sessionid"))
    assert 0 < len(seen) < 40


async def test_delete_user(make_server, clients):
    admin, srv = admin_server(make_server)
    victim, keep = srv.new_user("gone"), srv.new_user("keep")
    a = await online(srv, clients, admin, resource="a")
    v = await online(srv, clients, victim, resource="v")
    node = ADMIN + "#delete-user"

    def submit(sid, *jids):
        vals = "".join("<value>%s</value>" % j for j in jids)
        return cmd(node, "complete", sid,
                   "<x xmlns='%s' type='submit'><field var='accountjids'>"
                   "%s</field></x>" % (NS_X, vals))

    async def start():
        r = await a.iq(cmd(node), to=DOMAIN, type_="set")
        c = r.xml.find("{%s}command" % NS_CMD)
        assert c.get("status") == "executing" and \
            "accountjids" in fields(c), str(r)
        return c.get("sessionid")

    # all or nothing: a JID of another domain, a full JID, garbage
    for bad in (["x@elsewhere.example"], [victim.jid + "/r"], ["@@"],
                [keep.jid, "x@elsewhere.example"]):
        r = await a.iq(submit(await start(), *bad), to=DOMAIN, type_="set")
        assert stanza_error(r)[1] == "bad-request" and \
            app_error(r) == ["bad-payload"], (bad, str(r))
    await clients.connect(srv, keep)

    r = await a.iq(submit(await start(), victim.jid, "nobody@" + DOMAIN),
                   to=DOMAIN, type_="set")
    c = r.xml.find("{%s}command" % NS_CMD)
    assert c.get("status") == "completed", str(r)
    assert c.find("{%s}note" % NS_CMD).text == "deleted 1, not found 1"
    await v.wait_closed()
    await clients.connect(srv, victim, expect="auth-failed")
    await clients.connect(srv, keep)


async def test_disable_and_reenable_user(make_server, clients):
    """XEP-0133 4.3 and 4.4 on the disabled-accounts storage, as
    parleyctl disable and enable: the sessions end, the login is
    refused with <account-disabled/>, re-enabled it works again."""
    admin, srv = admin_server(make_server)
    u = srv.new_user("dis")
    a = await online(srv, clients, admin, resource="a")
    v = await online(srv, clients, u, resource="v")

    async def run(node, *jids):
        r = await a.iq(cmd(ADMIN + node), to=DOMAIN, type_="set")
        c = r.xml.find("{%s}command" % NS_CMD)
        assert c.get("status") == "executing" and \
            "accountjids" in fields(c), str(r)
        vals = "".join("<value>%s</value>" % j for j in jids)
        return await a.iq(cmd(ADMIN + node, "complete", c.get("sessionid"),
                              "<x xmlns='%s' type='submit'><field var="
                              "'accountjids'>%s</field></x>" % (NS_X, vals)),
                          to=DOMAIN, type_="set")

    def note(r):
        c = r.xml.find("{%s}command" % NS_CMD)
        assert c is not None and c.get("status") == "completed", str(r)
        return c.find("{%s}note" % NS_CMD).text

    # all or nothing: nobody is disabled by a list with a bad JID
    for node in ("#disable-user", "#reenable-user"):
        for bad in ([], ["x@elsewhere.example"], [u.jid, u.jid + "/r"]):
            r = await run(node, *bad)
            assert stanza_error(r)[1] == "bad-request" and \
                app_error(r) == ["bad-payload"], (node, bad, str(r))
    await clients.connect(srv, u)

    r = await run("#disable-user", u.jid, "nobody@" + DOMAIN)
    assert note(r) == "disabled 1, not found 1", str(r)
    await v.wait_closed()
    c = await clients.connect(srv, u.jid, u.password,
                              mechs=["SCRAM-SHA-256"], expect="auth-failed")
    assert c.auth_failures == ["account-disabled"], c.auth_failures

    r = await run("#reenable-user", u.jid)
    assert note(r) == "re-enabled 1, not found 0", str(r)
    await clients.connect(srv, u)


async def test_add_user_and_change_password(make_server, clients):
    admin, srv = admin_server(make_server)
    a = await online(srv, clients, admin, resource="a")
    new = User("new%s@%s" % (uniq(""), DOMAIN), "first-pw")

    async def run(node, **vals):
        r = await a.iq(cmd(ADMIN + node), to=DOMAIN, type_="set")
        c = r.xml.find("{%s}command" % NS_CMD)
        assert c.get("status") == "executing", str(r)
        for k in vals:
            assert k.replace("_", "-") in fields(c), str(r)
        form = "".join("<field var='%s'><value>%s</value></field>" % (
            k.replace("_", "-"), v) for k, v in vals.items())
        return await a.iq(cmd(ADMIN + node, "complete", c.get("sessionid"),
                              "<x xmlns='%s' type='submit'>%s</x>" % (
                                  NS_X, form)), to=DOMAIN, type_="set")

    # malformed: passwords differ, another domain, no password
    for vals in ({"accountjid": new.jid, "password": "a",
                  "password_verify": "b"},
                 {"accountjid": "x@elsewhere.example", "password": "a",
                  "password_verify": "a"},
                 {"accountjid": new.jid}):
        r = await run("#add-user", **vals)
        assert app_error(r) == ["bad-payload"], (vals, str(r))

    r = await run("#add-user", accountjid=new.jid, password=new.password,
                  password_verify=new.password)
    assert r.xml.find("{%s}command" % NS_CMD).get("status") == \
        "completed", str(r)
    c = await clients.connect(srv, new)
    r = await run("#add-user", accountjid=new.jid, password="x",
                  password_verify="x")
    assert stanza_error(r)[1] == "conflict", str(r)

    r = await run("#change-user-password", accountjid=new.jid,
                  password="second-pw")
    assert r.xml.find("{%s}command" % NS_CMD).get("status") == \
        "completed", str(r)
    await c.wait_closed()       # logged in with the old password
    await clients.connect(srv, new, expect="auth-failed")
    await clients.connect(srv, new.jid, "second-pw")
    r = await run("#change-user-password", accountjid="nobody@" + DOMAIN,
                  password="x")
    assert stanza_error(r)[1] == "item-not-found", str(r)


async def test_message_of_the_day(make_server, clients):
    admin, srv = admin_server(make_server)
    u = srv.new_user("motd")
    a = await online(srv, clients, admin, resource="a")

    async def step(node, form=None):
        r = await a.iq(cmd(ADMIN + node), to=DOMAIN, type_="set")
        c = r.xml.find("{%s}command" % NS_CMD)
        if form is None:
            return r, c
        r = await a.iq(cmd(ADMIN + node, "complete", c.get("sessionid"),
                           "<x xmlns='%s' type='submit'>%s</x>" % (
                               NS_X, form)), to=DOMAIN, type_="set")
        return r, c

    motd = "<field var='motd'><value>%s</value></field>"
    r, _ = await step("#set-motd", "")
    assert app_error(r) == ["bad-payload"], str(r)
    r, _ = await step("#set-motd", motd % ("x" * 9000))
    assert app_error(r) == ["bad-payload"], str(r)
    r, _ = await step("#set-motd", motd % "Welcome")
    assert r.xml.find("{%s}command" % NS_CMD).get("status") == \
        "completed", str(r)
    # edit shows the current one
    r, c = await step("#edit-motd")
    assert fields(c)["motd"] == ["Welcome"], str(r)
    await a.iq(cmd(ADMIN + "#edit-motd", "cancel", c.get("sessionid")),
               to=DOMAIN, type_="set")

    # at the initial presence (online() sends it, and keeps what came)
    c = await online(srv, clients, u, resource="one")
    ms = c.at_login.messages
    assert len(ms) == 1, [str(m) for m in ms]
    assert ms[0]["type"] == "headline" and ms[0]["from"] == DOMAIN and \
        ms[0]["body"] == "Welcome", str(ms[0])

    r, _ = await step("#delete-motd")
    assert r.xml.find("{%s}command" % NS_CMD).get("status") == \
        "completed", str(r)
    c2 = await online(srv, clients, u, resource="two")
    assert c2.at_login.messages == [], [str(m) for m in c2.at_login.messages]
    # the edit form has nothing to show now
    r, c = await step("#edit-motd")
    assert fields(c)["motd"] == [], str(r)


async def test_edit_admin_list(make_server, clients):
    """XEP-0133 4.29: adminjids lists the configured admins (host option
    admins, which win: they stay admins whatever is submitted) and the
    accounts whose stored role is admin; the submission sets the stored
    roles; a JID that is not an account here (nor a configured admin)
    refuses the whole list; an admin may not take themselves off; only
    admins may run it."""
    boss = User("boss%s@%s" % (uniq(""), DOMAIN), "pw-boss")
    far = "root@elsewhere.example"
    srv = make_server(users=[boss], host_options={
        DOMAIN: {"admins": '"%s %s"' % (boss.jid, far)}})
    ann, bob = srv.new_user("ann"), srv.new_user("bob")
    a = await online(srv, clients, boss, resource="a")
    b = await online(srv, clients, bob, resource="b")
    node = ADMIN + "#edit-admin"

    async def form(c):
        r = await c.iq(cmd(node), to=DOMAIN, type_="set")
        cm = r.xml.find("{%s}command" % NS_CMD)
        assert cm is not None and cm.get("status") == "executing", str(r)
        return r, cm

    async def submit(c, *jids):
        _, cm = await form(c)
        vals = "".join("<value>%s</value>" % j for j in jids)
        return await c.iq(cmd(node, "complete", cm.get("sessionid"),
                              "<x xmlns='%s' type='submit'><field var="
                              "'adminjids'>%s</field></x>" % (NS_X, vals)),
                          to=DOMAIN, type_="set")

    def completed(r):
        cm = r.xml.find("{%s}command" % NS_CMD)
        assert cm is not None and cm.get("status") == "completed", str(r)
        return cm.find("{%s}note" % NS_CMD).text

    # a member may not run it
    r = await b.iq(cmd(node), to=DOMAIN, type_="set")
    assert stanza_error(r)[1] == "forbidden", str(r)

    r, cm = await form(a)
    f = cm.find("{%s}x/{%s}field[@var='adminjids']" % (NS_X, NS_X))
    assert f.get("type") == "jid-multi", str(r)
    assert sorted(fields(cm)["adminjids"]) == sorted([boss.jid, far])
    fixed = [v.text for v in cm.findall(
        "{%s}x/{%s}field[@type='fixed']/{%s}value" % (NS_X, NS_X, NS_X))]
    assert len(fixed) == 1 and far in fixed[0], fixed
    await a.iq(cmd(node, "cancel", cm.get("sessionid")), to=DOMAIN,
               type_="set")

    # all or nothing: another domain's JID, a full JID, an unknown account
    for bad in ([bob.jid, "x@elsewhere.example"], [bob.jid + "/r"],
                ["nobody@" + DOMAIN], ["@@"]):
        r = await submit(a, boss.jid, *bad)
        assert stanza_error(r)[1] == "bad-request" and \
            app_error(r) == ["bad-payload"], (bad, str(r))
    r = await b.iq(cmd(ADMIN + "#get-online-users-num"), to=DOMAIN,
                   type_="set")
    assert stanza_error(r)[1] == "forbidden", str(r)

    # bob and ann become admins; the configured ones, left out, stay
    assert completed(await submit(a, bob.jid, ann.jid)) == \
        "admins added 2, removed 0, not stored (storage error) 0; " \
        "those of the configuration file (admins option) stay admins"
    r, cm = await form(b)
    assert sorted(fields(cm)["adminjids"]) == sorted(
        [boss.jid, far, bob.jid, ann.jid]), str(r)
    await b.iq(cmd(node, "cancel", cm.get("sessionid")), to=DOMAIN,
               type_="set")
    # bob may not take himself off (the host would lose its admin if he
    # were the last); ann may be taken off
    r = await submit(b, boss.jid, ann.jid)
    assert stanza_error(r) == ("cancel", "not-allowed"), str(r)
    assert completed(await submit(b, bob.jid)).startswith(
        "admins added 0, removed 1,")
    r, cm = await form(a)
    assert sorted(fields(cm)["adminjids"]) == sorted(
        [boss.jid, far, bob.jid]), str(r)
    # the configured admin takes bob off too: bob is a member again
    completed(await submit(a, boss.jid))
    r = await b.iq(cmd(node), to=DOMAIN, type_="set")
    assert stanza_error(r)[1] == "forbidden", str(r)
