"""
Invitations (issue 17): account invitations (XEP-0401 with XEP-0445's
preauth token before in-band registration, on a host whose open
registration is off) and contact invitations (XEP-0379: the invitee and
the creator end up subscribed both ways), created by `parleyctl invite`
and by the XEP-0401 ad-hoc commands for roles that may invite. Bad input:
a token reused, expired, forged or revoked is item-not-found; a limited
account is refused the command; parleyctl refuses bad arguments.
"""
import re
import time
import xml.etree.ElementTree as ET

from conftest import DOMAIN, SLOW, User, uniq
from imhelp import online, roster_get, settle
from test_register import (NS_FEATURE, iq_error, raw_iq, reg_set,
                           tls_stream)

NS_INVITE = "urn:xmpp:invite"
NS_PARS = "urn:xmpp:pars:0"
NS_CMD = "http://jabber.org/protocol/commands"
NS_X = "jabber:x:data"
URI_ACCOUNT = re.compile(r"^xmpp:%s\?register;preauth=([0-9a-f]{32})$"
                         % re.escape(DOMAIN))


def invite(srv, *args, check=True):
    return srv.ctl("invite", *args, check=check)


def account_token(srv, *opts):
    out = invite(srv, *(opts + (DOMAIN,))).stdout.strip()
    m = URI_ACCOUNT.match(out)
    assert m, out
    return m.group(1)


def contact_token(srv, creator, *opts):
    out = invite(srv, "--contact", creator, *(opts + (DOMAIN,)))
    m = re.match(r"^xmpp:%s\?roster;preauth=([0-9a-f]{32});ibr=y$"
                 % re.escape(creator), out.stdout.strip())
    assert m, out.stdout
    return m.group(1)


async def register_with(srv, token, local=None, password="pw-inv"):
    """XEP-0445 3 on a fresh stream: the preauth IQ, then the
    registration. Returns (preauth answer, registration answer, the
    account)."""
    local = local or uniq("inv")
    raw, feats = await tls_stream(srv)
    try:
        # registration is closed: only the token way is offered
        assert feats.find("{%s}register" % NS_INVITE) is not None
        assert feats.find("{%s}register" % NS_FEATURE) is None
        pre = await raw_iq(raw, "<preauth xmlns='%s' token='%s'/>"
                           % (NS_PARS, token), "set", to=DOMAIN)
        if pre.get("type") != "result":
            return pre, None, None
        reg = await raw_iq(raw, reg_set(local, password), "set")
        return pre, reg, User("%s@%s" % (local, DOMAIN), password)
    finally:
        raw.close()


async def registered(srv, clients, token):
    pre, reg, u = await register_with(srv, token)
    assert pre.get("type") == "result", ET.tostring(pre)
    assert reg.get("type") == "result", ET.tostring(reg)
    return u


async def refused(srv, token):
    """XEP-0445 3: the token is judged at the preauth IQ already."""
    pre, reg, _ = await register_with(srv, token)
    assert reg is None, ET.tostring(reg)
    assert iq_error(pre) == ("cancel", "item-not-found"), ET.tostring(pre)


async def test_account_invitation_once(server, clients):
    """Registration closed: no token, no account; a token registers one
    account (which logs in), and then is spent."""
    raw, _ = await tls_stream(server)
    try:
        iq = await raw_iq(raw, reg_set(uniq("x"), "pw"), "set")
        assert iq_error(iq)[1] == "service-unavailable"
    finally:
        raw.close()
    tok = account_token(server)
    u = await registered(server, clients, tok)
    c = await clients.login(server, u, resource="new")
    assert c is not None
    # used tokens cannot be replayed
    await refused(server, tok)


async def test_forged_expired_revoked(server):
    """A token never issued, one past its expiry, one revoked, and one
    that is not a token at all: item-not-found, and no account."""
    await refused(server, "0" * 32)
    await refused(server, "not a token!")
    old = account_token(server, "--expires", "1s")
    time.sleep(1.5 * SLOW)
    await refused(server, old)
    gone = account_token(server)
    assert invite(server, "--revoke", gone).stdout.strip() == "revoked"
    await refused(server, gone)
    # a second revocation finds nothing
    cp = invite(server, "--revoke", gone, check=False)
    assert cp.returncode == 1 and "no such invitation" in cp.stderr


async def test_limited_uses_and_list(server, clients):
    """--uses 2: two accounts, the third refused; --list shows what is
    left of the invitation (never the token)."""
    tok = account_token(server, "--uses", "2")
    listing = invite(server, "--list", DOMAIN).stdout
    assert "uses=2" in listing and tok not in listing, listing
    await registered(server, clients, tok)
    assert "uses=1" in invite(server, "--list", DOMAIN).stdout
    await registered(server, clients, tok)
    await refused(server, tok)
    assert tok[:16] not in invite(server, "--list", DOMAIN).stdout


async def test_one_use_two_streams(server, clients):
    """Two streams both pass the preauth of a single-use token (it is
    spent only by an account made); the first registration spends it and
    the second gets item-not-found."""
    tok = account_token(server)
    streams = []
    try:
        for _ in range(2):
            raw, _ = await tls_stream(server)
            streams.append(raw)
            pre = await raw_iq(raw, "<preauth xmlns='%s' token='%s'/>"
                               % (NS_PARS, tok), "set", to=DOMAIN)
            assert pre.get("type") == "result", ET.tostring(pre)
        first = await raw_iq(streams[0], reg_set(uniq("a"), "pw"), "set")
        assert first.get("type") == "result", ET.tostring(first)
        second = await raw_iq(streams[1], reg_set(uniq("b"), "pw"), "set")
        assert iq_error(second) == ("cancel", "item-not-found"), \
            ET.tostring(second)
    finally:
        for raw in streams:
            raw.close()


async def test_taken_name_keeps_the_use(server, clients):
    """An account that cannot be made (the name is taken) spends no use."""
    tok = account_token(server)
    taken = server.new_user("tk")
    pre, reg, _ = await register_with(server, tok,
                                      local=taken.jid.split("@")[0])
    assert iq_error(reg)[1] == "conflict"
    await registered(server, clients, tok)


async def test_contact_invitation_registers_mutual(server, clients):
    """XEP-0401 ibr=y: the invitee registers with the creator's contact
    token and both are subscribed both ways at once."""
    romeo = server.new_user("romeo")
    cr = await online(server, clients, romeo, resource="r")
    tok = contact_token(server, romeo.jid)
    juliet = await registered(server, clients, tok)
    items, _, _ = await roster_get(cr)
    assert items[juliet.jid].sub == "both", items
    cj = await online(server, clients, juliet, resource="j")
    items, _, _ = await roster_get(cj)
    assert items[romeo.jid].sub == "both", items
    await refused(server, tok)


async def test_contact_invitation_presence(server, clients):
    """XEP-0379 3.4-3.6: an existing account subscribes with the token
    in its request and is approved and subscribed back; the token then is
    spent, and a second request with it waits for the user as usual."""
    romeo = server.new_user("romeo")
    juliet, nurse = server.new_user("jul"), server.new_user("nurse")
    cr = await online(server, clients, romeo, resource="r")
    cj = await online(server, clients, juliet, resource="j")
    cn = await online(server, clients, nurse, resource="n")
    router = server.router_pid()
    tok = contact_token(server, romeo.jid)
    pres = ("<presence to='%s' type='subscribe'><preauth xmlns='%s' "
            "token='%s'/></presence>")
    cj.send_raw(pres % (romeo.jid, NS_PARS, tok))
    await settle(cj, cr)
    items, _, _ = await roster_get(cj)
    assert items[romeo.jid].sub == "both", items
    items, _, _ = await roster_get(cr)
    assert items[juliet.jid].sub == "both", items
    # replayed by someone else: an ordinary request, not approved
    cn.send_raw(pres % (romeo.jid, NS_PARS, tok))
    await settle(cn, cr)
    items, _, _ = await roster_get(cn)
    assert items[romeo.jid].sub == "none", items
    # the namespace in a text, no <preauth/>: an ordinary request (the
    # router once read the absent element's token and crashed)
    cj.send_raw("<presence to='%s' type='subscribe'><status>%s</status>"
                "</presence>" % (nurse.jid, NS_PARS))
    await settle(cj, cn)
    assert server.router_pid() == router, "the router restarted"
    items, _, _ = await roster_get(cj)
    assert items[nurse.jid].sub == "none", items


async def command(c, node, fields=None, sid=None, action="execute"):
    """Runs node; fields: a submitted form (XEP-0004) in the request."""
    form = ""
    if fields is not None:
        form = "<x xmlns='%s' type='submit'>%s</x>" % (NS_X, "".join(
            "<field var='%s'><value>%s</value></field>" % kv
            for kv in fields.items()))
    return await c.iq("<command xmlns='%s' node='%s' action='%s'%s>%s"
                      "</command>" % (NS_CMD, node, action,
                                      " sessionid='%s'" % sid if sid
                                      else "", form),
                      to=DOMAIN, type_="set")


async def create_account(c, fields):
    """XEP-0401 5.2: #create-account's form, then fields submitted."""
    r = await command(c, NS_INVITE + "#create-account")
    assert r["type"] == "result", str(r)
    cmd = r.xml.find("{%s}command" % NS_CMD)
    assert cmd.get("status") == "executing", str(r)
    vars_ = [f.get("var") for f in r.xml.iter("{%s}field" % NS_X)]
    assert {"username", "uses", "lifetime"} <= set(vars_), str(r)
    return await command(c, NS_INVITE + "#create-account", fields,
                         sid=cmd.get("sessionid"), action="complete")


def adhoc_error(r):
    """(condition, XEP-0050 condition) of an error answer."""
    err = r.xml.find("{jabber:client}error")
    assert r["type"] == "error" and err is not None, str(r)
    names = [el.tag.split("}")[1] for el in err]
    app = [el.tag.split("}")[1] for el in err if el.tag.startswith(
        "{%s}" % NS_CMD)]
    return names[0], app[0] if app else None


def form_value(iq, var):
    for f in iq.xml.iter("{%s}field" % NS_X):
        if f.get("var") == var:
            return f.findtext("{%s}value" % NS_X)
    return None


async def test_adhoc_member_and_limited(server, clients):
    """XEP-0401 4: a member runs urn:xmpp:invite#invite and gets a
    contact invitation without ibr=y (its role may invite but not
    register accounts): it subscribes an existing account both ways and
    registers nothing. An admin's has ibr=y. A limited account is
    forbidden (XEP-0050 4.6), and a member the account invitation."""
    mem, lim = server.new_user("mem"), server.new_user("lim")
    boss, jul = server.new_user("boss"), server.new_user("jul")
    server.ctl("role", lim.jid, "limited")
    server.ctl("role", boss.jid, "admin")
    cm = await online(server, clients, mem, resource="m",
                      plugins=("xep_0030",))
    cl = await clients.login(server, lim, plugins=("xep_0030",))
    cb = await clients.login(server, boss, plugins=("xep_0030",))
    cj = await online(server, clients, jul, resource="j")
    r = await command(cm, NS_INVITE + "#invite")
    assert r["type"] == "result", str(r)
    uri = form_value(r, "uri")
    m = re.match(r"^xmpp:%s\?roster;preauth=([0-9a-f]{32})$"
                 % re.escape(mem.jid), uri or "")
    assert m, str(r)
    assert form_value(r, "expire"), str(r)
    await refused(server, m.group(1))
    cj.send_raw("<presence to='%s' type='subscribe'><preauth xmlns='%s' "
                "token='%s'/></presence>" % (mem.jid, NS_PARS, m.group(1)))
    await settle(cj, cm)
    items, _, _ = await roster_get(cm)
    assert items[jul.jid].sub == "both", items
    # an admin may register accounts: ibr=y, and it registers
    r = await command(cb, NS_INVITE + "#invite")
    m = re.match(r"^xmpp:%s\?roster;preauth=([0-9a-f]{32});ibr=y$"
                 % re.escape(boss.jid), form_value(r, "uri") or "")
    assert m, str(r)
    await registered(server, clients, m.group(1))
    r = await command(cl, NS_INVITE + "#invite")
    assert r["type"] == "error" and "forbidden" in str(r), str(r)
    # create-account needs register-accounts, which a member lacks
    r = await command(cm, NS_INVITE + "#create-account")
    assert r["type"] == "error" and "forbidden" in str(r), str(r)


def test_ctl_bad_input(server):
    """parleyctl invite: bad numbers and durations, missing and extra
    arguments, an unknown host, a contact that is not an account."""
    for args in (("--uses", "0", DOMAIN), ("--uses", "x", DOMAIN),
                 ("--expires", "5y", DOMAIN), ("--expires", "", DOMAIN),
                 ("--bogus", DOMAIN), (DOMAIN, DOMAIN), ("--uses",),
                 ("--list",)):
        cp = invite(server, *args, check=False)
        assert cp.returncode != 0 and "invite" in cp.stderr, (args, cp)
        assert cp.stdout == "", (args, cp.stdout)
    cp = invite(server, "nowhere.example", check=False)
    assert cp.returncode == 1 and "not a host" in cp.stderr, cp
    cp = invite(server, "--contact", "ghost@%s" % DOMAIN, DOMAIN,
                check=False)
    assert cp.returncode == 1 and "no such account" in cp.stderr, cp
    cp = invite(server, "--contact", "not a jid", DOMAIN, check=False)
    assert cp.returncode == 1 and "bare JID" in cp.stderr, cp


async def test_adhoc_admin_account_invitation(server, clients):
    """XEP-0401 4: urn:xmpp:invite#create-account for a role with
    register-accounts (an admin); its URI registers one account."""
    boss = server.new_user("boss")
    server.ctl("role", boss.jid, "admin")
    cb = await clients.login(server, boss, plugins=("xep_0030",))
    r = await create_account(cb, {})
    assert r["type"] == "result", str(r)
    m = URI_ACCOUNT.match(form_value(r, "uri") or "")
    assert m, str(r)
    await registered(server, clients, m.group(1))
    await refused(server, m.group(1))


async def test_preauth_bad_forms(server):
    """Bad <preauth/> IQs get an error and the stream goes on: no token,
    an empty or overlong one, a get; a registration after a refused token
    is still closed."""
    raw, _ = await tls_stream(server)
    try:
        for attrs, type_, cond in (("", "set", "item-not-found"),
                                   (" token=''", "set", "item-not-found"),
                                   (" token='%s'" % ("a" * 65), "set",
                                    "item-not-found"),
                                   (" token='abc'", "get",
                                    "service-unavailable")):
            iq = await raw_iq(raw, "<preauth xmlns='%s'%s/>"
                              % (NS_PARS, attrs), type_, to=DOMAIN)
            assert iq_error(iq)[1] == cond, (attrs, ET.tostring(iq))
        iq = await raw_iq(raw, reg_set(uniq("x"), "pw"), "set")
        assert iq_error(iq)[1] == "service-unavailable"
        assert not raw.eof
    finally:
        raw.close()


def test_expired_swept(make_server):
    """Expired invitations are deleted by the periodic sweep
    (invite-sweep-interval), not only hidden from --list; valid ones
    stay. A tick walks at most 64 records: with more than that, a pass
    takes two ticks, the second resuming after the first."""
    srv = make_server(invite_sweep_interval="1")
    n, valid = 70, 66
    for _ in range(n):
        account_token(srv, "--expires", "1s")
    keep = [account_token(srv, "--expires", "1h") for _ in range(valid)]
    removed = 0
    deadline = time.monotonic() + 30 * SLOW
    while time.monotonic() < deadline:
        removed = sum(int(m) for m in re.findall(
            r"invite: (\d+) expired invitations removed", srv.log_text()))
        if removed >= n:
            break
        time.sleep(0.2)
    assert removed == n, srv.log_tail()
    listing = invite(srv, "--list", DOMAIN).stdout
    assert listing.count("\n") == valid, listing
    assert not any(k in listing for k in keep)
    # the valid ones alone: 64, then the 2 left after them
    deadline = time.monotonic() + 10 * SLOW
    pat = (r"invite: %s: sweep saw 64 removed 0 more\n.*?"
           r"invite: %s: sweep saw 2 removed 0 resumed\n"
           % (re.escape(DOMAIN), re.escape(DOMAIN)))
    while not re.search(pat, srv.log_text(), re.S):
        assert time.monotonic() < deadline, srv.log_tail()
        time.sleep(0.2)


async def test_adhoc_invite_form_limits(make_server, clients):
    """XEP-0401 4 with a form submitted with the execute: uses and
    lifetime within the host's invite-max-uses and invite-max-lifetime
    (no form: one use, the longest lifetime); anything else is
    bad-request with bad-payload, and makes no invitation."""
    srv = make_server(host_options={DOMAIN: {"invite-max-uses": "5",
                                             "invite-max-lifetime": "1h"}})
    mem = srv.new_user("mem")
    cm = await clients.login(srv, mem, plugins=("xep_0030",))
    t0 = time.time()
    r = await command(cm, NS_INVITE + "#invite")
    assert r["type"] == "result", str(r)
    r = await command(cm, NS_INVITE + "#invite",
                      {"uses": "5", "lifetime": "120"})
    assert r["type"] == "result", str(r)
    assert form_value(r, "uri"), str(r)
    listing = invite(srv, "--list", DOMAIN).stdout.splitlines()
    got = sorted((int(re.search(r"uses=(\d+)", ln).group(1)),
                  int(re.search(r"expires=(\d+)", ln).group(1)))
                 for ln in listing)
    assert [u for u, _ in got] == [1, 5], listing
    exp = dict(got)
    assert t0 + 3600 - 5 <= exp[1] <= time.time() + 3600 + 5, listing
    assert t0 + 120 - 5 <= exp[5] <= time.time() + 120 + 5, listing
    for bad in ({"uses": "6"}, {"uses": "0"}, {"uses": "-1"},
                {"uses": "x"}, {"uses": "99999999999999999999"},
                {"lifetime": "3601"}, {"lifetime": "0"},
                {"lifetime": "1h"}, {"uses": " 2"}):
        r = await command(cm, NS_INVITE + "#invite", bad)
        assert adhoc_error(r) == ("bad-request", "bad-payload"), (bad,
                                                                    str(r))
    assert len(invite(srv, "--list", DOMAIN).stdout.splitlines()) == 2


async def test_adhoc_create_account_username(server, clients):
    """XEP-0401 5.2: #create-account's form names the account: the URI
    carries it, the token registers that name only (not-allowed for
    another), and the name is held for it (conflict for open or other
    invited registrations) until it is used. A taken or held name, one
    that is no localpart, or a name with more than one use: errors."""
    boss = server.new_user("boss")
    server.ctl("role", boss.jid, "admin")
    cb = await clients.login(server, boss, plugins=("xep_0030",))
    name = uniq("jul")
    r = await create_account(cb, {"username": name, "lifetime": "600"})
    assert r["type"] == "result", str(r)
    m = re.match(r"^xmpp:%s@%s\?register;preauth=([0-9a-f]{32})$"
                 % (re.escape(name), re.escape(DOMAIN)),
                 form_value(r, "uri") or "")
    assert m, str(r)
    tok = m.group(1)
    assert "username=%s\n" % name in invite(server, "--list",
                                              DOMAIN).stdout
    # another name with this token
    pre, reg, _ = await register_with(server, tok, uniq("other"))
    assert pre.get("type") == "result", ET.tostring(pre)
    assert iq_error(reg) == ("cancel", "not-allowed"), ET.tostring(reg)
    # this name with another token
    other = account_token(server)
    pre, reg, _ = await register_with(server, other, name)
    assert iq_error(reg) == ("cancel", "conflict"), ET.tostring(reg)
    # the name is held: a second invitation for it is refused
    r = await create_account(cb, {"username": name})
    assert adhoc_error(r)[0] == "conflict", str(r)
    u = await registered_as(server, tok, name)
    c = await clients.login(server, u, resource="new")
    assert c is not None
    await refused(server, tok)
    # taken now; bad names; a name is one account
    for fields, cond in (({"username": name}, "conflict"),
                         ({"username": boss.jid.split("@")[0]},
                          "conflict"),
                         ({"username": "a@b"}, "bad-request"),
                         ({"username": "x" * 1100}, "bad-request"),
                         ({"username": uniq("n"), "uses": "2"},
                          "bad-request")):
        r = await create_account(cb, fields)
        assert adhoc_error(r)[0] == cond, (fields, str(r))


async def registered_as(srv, token, local):
    pre, reg, u = await register_with(srv, token, local)
    assert pre.get("type") == "result", ET.tostring(pre)
    assert reg.get("type") == "result", ET.tostring(reg)
    return u


async def test_ctl_server_stopped(make_server, clients):
    """parleyctl invite with the server stopped writes the store itself
    (storage/invitation.c, as the router does): the same URIs, --list
    and --revoke; once the server starts, the account invitation
    registers an account and the contact invitation subscribes both
    ways; the revoked one is refused."""
    romeo = User("%s@%s" % (uniq("romeo"), DOMAIN), "pw-romeo")
    srv = make_server(users=(romeo,), start=False)
    tok = account_token(srv, "--uses", "2", "--expires", "1h")
    ctok = contact_token(srv, romeo.jid)
    gone = account_token(srv)
    listing = invite(srv, "--list", DOMAIN).stdout
    assert listing.count("\n") == 3, listing
    assert "uses=2" in listing and tok not in listing, listing
    assert "contact uses=1 expires=0 creator=%s\n" % romeo.jid in listing
    assert invite(srv, "--revoke", gone).stdout.strip() == "revoked"
    cp = invite(srv, "--revoke", gone, check=False)
    assert cp.returncode == 1 and "no such invitation" in cp.stderr, cp
    # the router's checks, with the server stopped too
    cp = invite(srv, "nowhere.example", check=False)
    assert cp.returncode == 1 and "not a host" in cp.stderr, cp
    cp = invite(srv, "--contact", "ghost@%s" % DOMAIN, DOMAIN, check=False)
    assert cp.returncode == 1 and "no such account" in cp.stderr, cp
    assert cp.stdout == "", cp.stdout
    srv.start()
    assert invite(srv, "--list", DOMAIN).stdout.count("\n") == 2
    u = await registered(srv, clients, tok)
    assert await clients.login(srv, u, resource="new") is not None
    cr = await online(srv, clients, romeo, resource="r")
    juliet = await registered(srv, clients, ctok)
    items, _, _ = await roster_get(cr)
    assert items[juliet.jid].sub == "both", items
    await refused(srv, gone)
    await refused(srv, ctok)
    # and the running server's own, after
    await registered(srv, clients, account_token(srv))


def hold_names(srv):
    """The usernames held for invitations (XEP-0401 5.2), from --list."""
    return {ln.split()[1] for ln in invite(srv, "--list",
                                            DOMAIN).stdout.splitlines()
            if ln.startswith("hold ")}


async def test_expired_holds_swept(make_server, clients):
    """The sweep (invite-sweep-interval) removes a username hold whose
    invitation ran out, with nobody looking the name up: it leaves the
    store (--list) and the name registers with another invitation. Live
    holds stay; past 64 a pass walks them in two ticks, the second
    resuming after the first."""
    srv = make_server(invite_sweep_interval="1")
    boss = srv.new_user("boss")
    srv.ctl("role", boss.jid, "admin")
    cb = await clients.login(srv, boss, plugins=("xep_0030",))
    short = [uniq("gone") for _ in range(3)]
    keep = [uniq("keep") for _ in range(66)]
    for name, life in [(n, "1") for n in short] + [(n, "3600")
                                                   for n in keep]:
        r = await create_account(cb, {"username": name, "lifetime": life})
        assert r["type"] == "result", str(r)
    released = 0
    deadline = time.monotonic() + 30 * SLOW
    while time.monotonic() < deadline:
        released = sum(int(m) for m in re.findall(
            r"invite: (\d+) held usernames released", srv.log_text()))
        if released >= len(short):
            break
        time.sleep(0.2)
    assert released == len(short), srv.log_tail()
    held = hold_names(srv)
    assert held == set(keep), held
    pat = (r"invite: %s: hold sweep saw 64 removed 0 more\n.*?"
           r"invite: %s: hold sweep saw 2 removed 0 resumed\n"
           % (re.escape(DOMAIN), re.escape(DOMAIN)))
    deadline = time.monotonic() + 10 * SLOW
    while not re.search(pat, srv.log_text(), re.S):
        assert time.monotonic() < deadline, srv.log_tail()
        time.sleep(0.2)
    # free again: another invitation registers the name
    u = await registered_as(srv, account_token(srv), short[0])
    assert await clients.login(srv, u, resource="new") is not None
    # a live hold still holds
    pre, reg, _ = await register_with(srv, account_token(srv), keep[0])
    assert iq_error(reg) == ("cancel", "conflict"), ET.tostring(reg)
