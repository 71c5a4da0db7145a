"""
Roles (issue 17, accounts): admin, member and limited, set with
`parleyctl role` (offline and through the running router) and decided in
router/roles.c. A limited account is refused room creation (XEP-0045
10.1.1 <not-allowed/>), upload slots (XEP-0363 5 <not-allowed/>) and the
admin commands (XEP-0050 4.6 <forbidden/>); a member may create rooms and
upload; an admin set by parleyctl runs admin commands and sets roles with an
ad-hoc command (set-user-role, in XEP-0133's style); the host's
member-can and limited-can change what each may do; a limited account
that may upload has its own daily quota (upload-quota-limited); the
admins option stays admin whatever is stored. Bad input: an unknown role
name, an account that does not exist, a JID of another host.
"""
import pytest

from conftest import DOMAIN, User, stanza_error, uniq
from test_muc import SVC, error_of, join_raw, self_presence
from test_reload import edit_conf, reloaded
from test_upload import slot, upload_server

NS_CMD = "http://jabber.org/protocol/commands"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_X = "jabber:x:data"
SET_ROLE = "urn:xmpp:parley:admin#set-user-role"
ONLINE = "http://jabber.org/protocol/admin#get-online-users-num"
PLUGINS = ("xep_0030", "xep_0045")


def roles_server(make_server, tmp, host_opts=None, **kw):
    opts = {"muc": "yes"}
    opts.update(host_opts or {})
    return upload_server(make_server, tmp, host_opts=opts, **kw)


async def login(srv, clients, user):
    c = await clients.login(srv, user, plugins=PLUGINS)
    c.send_presence()
    await c.fence()
    c.pending()
    return c


async def create_room(c, allowed):
    """Creates a fresh room, or is refused with XEP-0045 10.1.1's
    <not-allowed/>."""
    room = uniq("r")
    join_raw(c, room, "me")
    _, me = await self_presence(c, room, "me")
    if allowed:
        assert me["type"] != "error", str(me)
    else:
        assert me["type"] == "error" and error_of(me) == "not-allowed", \
            str(me)


async def admin_cmd(c):
    return await c.iq("<command xmlns='%s' node='%s' action='execute'/>"
                      % (NS_CMD, ONLINE), to=DOMAIN, type_="set")


def role(srv, jid):
    return srv.ctl("role", jid).stdout.split()


async def test_limited_member_admin(make_server, tmp_path, clients):
    lim = User("lim%s@%s" % (uniq(""), DOMAIN), "pw-lim")
    srv = roles_server(make_server, tmp_path, users=[lim], start=False)
    # offline: parleyctl writes the store itself
    out = srv.ctl("role", lim.jid, "limited")
    assert out.stdout.split() == [lim.jid, "role", "limited"], out
    assert role(srv, lim.jid) == [lim.jid, "limited"]
    srv.start()
    mem = srv.new_user("mem")
    boss = srv.new_user("boss")
    assert role(srv, lim.jid) == [lim.jid, "limited"]
    assert role(srv, mem.jid) == [mem.jid, "member"]

    lc = await login(srv, clients, lim)
    mc = await login(srv, clients, mem)
    bc = await login(srv, clients, boss)
    # room creation
    await create_room(lc, False)
    await create_room(mc, True)
    # upload slots
    r = await slot(lc, "a.txt", 10)
    assert stanza_error(r) == ("cancel", "not-allowed"), str(r)
    r = await slot(mc, "a.txt", 10)
    assert r["type"] == "result", str(r)
    # admin commands: forbidden to limited and members, listed for none
    for c in (lc, mc, bc):
        r = await admin_cmd(c)
        assert stanza_error(r) == ("auth", "forbidden"), str(r)
    # an admin set by parleyctl, through the running router, at once
    out = srv.ctl("role", boss.jid, "admin")
    assert out.stdout.split() == [boss.jid, "role", "admin"], out
    assert role(srv, boss.jid) == [boss.jid, "admin"]
    r = await admin_cmd(bc)
    assert r["type"] == "result", str(r)
    r = await bc.iq("<query xmlns='%s' node='%s'/>" % (NS_ITEMS, NS_CMD),
                    to=DOMAIN)
    assert r.xml.find("{%s}query/{%s}item" % (NS_ITEMS, NS_ITEMS)) \
        is not None, str(r)
    # an admin may do what a limited account may not
    await create_room(bc, True)
    # back to member: admin commands forbidden again; limited lifted
    srv.ctl("role", boss.jid, "member")
    r = await admin_cmd(bc)
    assert stanza_error(r) == ("auth", "forbidden"), str(r)
    srv.ctl("role", lim.jid, "member")
    r = await slot(lc, "b.txt", 10)
    assert r["type"] == "result", str(r)
    # a deleted account's role goes with it
    srv.ctl("role", mem.jid, "limited")
    srv.ctl("deluser", mem.jid)
    srv.adduser(mem.jid, mem.password)
    assert role(srv, mem.jid) == [mem.jid, "member"]


@pytest.mark.one_host("edits and reloads the router host's configuration")
async def test_host_options(make_server, tmp_path, clients):
    """member-can and limited-can per host; upload-quota-limited."""
    srv = roles_server(make_server, tmp_path, host_opts={
        "member-can": "upload", "limited-can": '"create-rooms upload"',
        "upload-quota-limited": "100"})
    mem = srv.new_user("mem")
    lim = srv.new_user("lim")
    srv.ctl("role", lim.jid, "limited")
    mc = await login(srv, clients, mem)
    lc = await login(srv, clients, lim)
    await create_room(mc, False)
    await create_room(lc, True)
    # the limited account's own daily quota: 100 bytes
    r = await slot(lc, "a.txt", 60)
    assert r["type"] == "result", str(r)
    r = await slot(lc, "b.txt", 60)
    assert stanza_error(r) == ("wait", "resource-constraint"), str(r)
    # members keep upload-quota-daily
    r = await slot(mc, "a.txt", 60)
    assert r["type"] == "result", str(r)
    r = await slot(mc, "b.txt", 60)
    assert r["type"] == "result", str(r)
    # a reload changes what each may do, the sessions stay
    edit_conf(srv, "\tmember-can upload\n", "\tmember-can create-rooms\n")
    since = srv.log_size()
    srv.ctl("reload")
    await reloaded(srv, since, srv.workers + 2)
    await create_room(mc, True)
    r = await slot(mc, "c.txt", 10)
    assert stanza_error(r) == ("cancel", "not-allowed"), str(r)


async def test_configured_admin_stays_admin(make_server, tmp_path, clients):
    boss = User("boss%s@%s" % (uniq(""), DOMAIN), "pw-boss")
    srv = roles_server(make_server, tmp_path, users=[boss],
                       host_opts={"admins": boss.jid})
    out = srv.ctl("role", boss.jid, "limited")
    assert "stays an admin" in out.stderr, out
    assert out.stdout.split() == [boss.jid, "role", "limited"], out
    assert role(srv, boss.jid) == [boss.jid, "admin", "(listed", "in",
                                   "admins;", "stored", "role", "limited)"]
    bc = await login(srv, clients, boss)
    r = await admin_cmd(bc)
    assert r["type"] == "result", str(r)
    r = await slot(bc, "a.txt", 10)
    assert r["type"] == "result", str(r)


def test_bad_input(make_server, tmp_path):
    srv = roles_server(make_server, tmp_path)
    u = srv.new_user("u")
    out = srv.ctl("role", u.jid, "boss", check=False)
    assert out.returncode != 0, out
    assert 'unknown role "boss" (admin, member or limited)' in out.stderr
    assert role(srv, u.jid) == [u.jid, "member"]
    out = srv.ctl("role", u.jid, "Admin", check=False)
    assert out.returncode != 0, out
    out = srv.ctl("role", "nobody-%s@%s" % (uniq(""), DOMAIN), "admin",
                  check=False)
    assert out.returncode != 0 and "no such account" in out.stderr, out
    out = srv.ctl("role", "nobody-%s@%s" % (uniq(""), DOMAIN), check=False)
    assert out.returncode != 0 and "no such account" in out.stderr, out
    out = srv.ctl("role", "x@elsewhere.example", "admin", check=False)
    assert out.returncode != 0 and "not a host" in out.stderr, out
    out = srv.ctl("role", u.jid + "/res", check=False)
    assert out.returncode != 0, out
    out = srv.ctl("role", check=False)
    assert out.returncode != 0, out
    out = srv.ctl("role", u.jid, "admin", "extra", check=False)
    assert out.returncode != 0, out


async def set_role_cmd(c, jid, name):
    """The set-user-role command: its form, then the submission."""
    r = await c.iq("<command xmlns='%s' node='%s' action='execute'/>"
                   % (NS_CMD, SET_ROLE), to=DOMAIN, type_="set")
    cmd = r.xml.find("{%s}command" % NS_CMD)
    assert cmd is not None and cmd.get("status") == "executing", str(r)
    fields = {f.get("var") for f in cmd.findall(
        "{%s}x/{%s}field" % (NS_X, NS_X))}
    assert fields == {"FORM_TYPE", "accountjid", "role"}, str(r)
    vals = "".join("<field var='%s'><value>%s</value></field>" % kv
                   for kv in (("accountjid", jid), ("role", name))
                   if kv[1] is not None)
    return await c.iq("<command xmlns='%s' node='%s' action='complete' "
                      "sessionid='%s'><x xmlns='%s' type='submit'>%s</x>"
                      "</command>" % (NS_CMD, SET_ROLE, cmd.get("sessionid"),
                                      NS_X, vals), to=DOMAIN, type_="set")


def note(r):
    cmd = r.xml.find("{%s}command" % NS_CMD)
    assert cmd is not None and cmd.get("status") == "completed", str(r)
    n = cmd.find("{%s}note" % NS_CMD)
    return n.get("type"), n.text


async def test_set_role_command(make_server, tmp_path, clients):
    srv = roles_server(make_server, tmp_path)
    boss = srv.new_user("boss")
    u = srv.new_user("u")
    srv.ctl("role", boss.jid, "admin")
    bc = await login(srv, clients, boss)
    uc = await login(srv, clients, u)
    r = await set_role_cmd(bc, u.jid, "limited")
    assert note(r) == ("info", "%s is limited" % u.jid), str(r)
    assert role(srv, u.jid) == [u.jid, "limited"]
    r = await slot(uc, "a.txt", 10)
    assert stanza_error(r) == ("cancel", "not-allowed"), str(r)
    # a non-admin may not run it
    r = await uc.iq("<command xmlns='%s' node='%s' action='execute'/>"
                    % (NS_CMD, SET_ROLE), to=DOMAIN, type_="set")
    assert stanza_error(r) == ("auth", "forbidden"), str(r)
    # bad input: an unknown role, no role, a JID of another host or
    # with a resource, not a JID; nothing changes
    for jid, name in ((u.jid, "boss"), (u.jid, None), (u.jid, "Admin"),
                      ("x@elsewhere.example", "member"),
                      (u.jid + "/r", "member"), ("@@", "member")):
        r = await set_role_cmd(bc, jid, name)
        assert stanza_error(r) == ("modify", "bad-request"), str(r)
    assert role(srv, u.jid) == [u.jid, "limited"]
    r = await set_role_cmd(bc, "nobody-%s@%s" % (uniq(""), DOMAIN),
                           "member")
    assert note(r)[0] == "warn" and "no such account" in note(r)[1], str(r)
    r = await set_role_cmd(bc, u.jid, "member")
    assert note(r) == ("info", "%s is member" % u.jid), str(r)
    r = await slot(uc, "a.txt", 10)
    assert r["type"] == "result", str(r)
