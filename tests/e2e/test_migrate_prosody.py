"""
Migration from a real Prosody (Debian 12's 0.12): an account and its
roster and vCard made through a running Prosody by a client, exported by
prosody-migrator to XEP-0227 (its xep0227 store), imported with parleyctl
import; the user then logs in to Parley with the old password and finds
the contact and the vCard. Prosody runs on loopback for a second or two,
outside the federation lab (it needs no other domain), so the test lives
here and is skipped where Prosody is not installed.
"""
import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import DOMAIN, free_port
from imhelp import check_imported
from test_mam import query
from xmpptest import Client as BaseClient, uniq

PROSODY = shutil.which("prosody")
MIGRATOR = shutil.which("prosody-migrator")
# the xep0227 store writes <data_path>/<jid>.xml, and the migrator does
# not read Prosody's configuration: its data_path is the package default
PROSODY_DATA = "/var/lib/prosody"

pytestmark = [
    pytest.mark.skipif(
        PROSODY is None or MIGRATOR is None or
        not os.path.isdir(PROSODY_DATA),
        reason="prosody and prosody-migrator (Debian's prosody) not "
        "installed"),
    # as root the migrator becomes the prosody user, who owns the data
    # directory; as anyone else it must be able to write there
    pytest.mark.skipif(
        os.geteuid() != 0 and not os.access(PROSODY_DATA, os.W_OK),
        reason="prosody-migrator could not write " + PROSODY_DATA),
]

CONFIG = """daemonize = false
run_as_root = true
pidfile = "{dir}/prosody.pid"
data_path = "{dir}/data"
log = {{ info = "{dir}/prosody.log" }}
certificates = "{dir}/certs"
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
c2s_direct_tls_ports = {{}}
s2s_ports = {{}}
c2s_require_encryption = false
authentication = "internal_hashed"
modules_enabled = {{ "roster"; "saslauth"; "vcard"; "private"; "mam" }}
VirtualHost "{domain}"
"""

MIGRATOR_CONFIG = """local stores = {{ "accounts", "roster", "vcard", "private",
                 "archive-archive" }}
input {{ type = "internal"; path = "{dir}/data";
        hosts = {{ ["{domain}"] = stores }} }}
output {{ type = "xep0227"; hosts = {{ ["{domain}"] = stores }} }}
"""


class ProsodyClient(BaseClient):
    login_timeout = 15
    stanza_timeout = 10


def run(argv, **kw):
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                        **kw)
    assert cp.returncode == 0, "%s: %s %s" % (argv, cp.stdout, cp.stderr)
    return cp


async def fill_prosody(port, jid, password, other):
    """A client makes the roster and the vCard, as any user would."""
    c = ProsodyClient(jid, password, ("127.0.0.1", port),
                      mechs=["SCRAM-SHA-1"])
    # no certificate in this scratch Prosody: no TLS on loopback
    c.connect(address=("127.0.0.1", port), force_starttls=False,
              disable_starttls=True)
    try:
        state = await c.wait_state(15)
        assert state == "session", "login to Prosody: %s" % state
        r = await c.iq("<query xmlns='jabber:iq:roster'><item "
                       "jid='friend@example.org' name='Old Friend'><group>"
                       "Pals</group></item></query>", type_="set")
        assert r["type"] == "result", r
        r = await c.iq("<vCard xmlns='vcard-temp'><FN>From Prosody</FN>"
                       "</vCard>", type_="set")
        assert r["type"] == "result", r
        # archived by Prosody's mod_mam (the contact is not there)
        c.send_raw("<message to='%s' type='chat' id='pm1'><body>archived "
                   "in Prosody</body></message>" % other)
        r = await c.iq("<query xmlns='urn:xmpp:mam:2'/>", type_="set")
        assert r["type"] == "result", r
    finally:
        c.disconnect()
        await asyncio.sleep(0.2)


async def test_from_prosody(make_server, clients):
    user = uniq("pro")
    password = "prosody secret"
    # the migrator runs as the prosody user: the directory must be open
    work = tempfile.mkdtemp(prefix="x227-prosody-")
    out = os.path.join(PROSODY_DATA, "%s@%s.xml" % (user, DOMAIN))
    proc = None
    try:
        os.chmod(work, 0o777)
        os.makedirs(os.path.join(work, "certs"))
        port = free_port()
        conf = os.path.join(work, "prosody.cfg.lua")
        with open(conf, "w") as f:
            f.write(CONFIG.format(dir=work, port=port, domain=DOMAIN))
        run(["prosodyctl", "--config", conf, "register", user, DOMAIN,
             password])
        proc = subprocess.Popen(["prosody", "-F", "--config", conf],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        run(["prosodyctl", "--config", conf, "register", user + "b",
             DOMAIN, password])
        await fill_prosody(port, "%s@%s" % (user, DOMAIN), password,
                           "%s@%s" % (user + "b", DOMAIN))
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        proc = None
        subprocess.run(["chmod", "-R", "a+rwX", work], check=True)
        mconf = os.path.join(work, "migrator.cfg.lua")
        with open(mconf, "w") as f:
            f.write(MIGRATOR_CONFIG.format(dir=work, domain=DOMAIN))
        t0 = time.monotonic()
        run([MIGRATOR, "--config=" + mconf, "input", "output"])
        assert time.monotonic() - t0 < 30
        assert os.path.exists(out), "prosody-migrator wrote no %s" % out
        text = open(out).read()
        assert "SCRAM-SHA-1" in text, text
        # the archive, in XEP-0227 1.1's element
        assert "<archive xmlns='urn:xmpp:pie:0#mam'>" in text or \
            '<archive xmlns="urn:xmpp:pie:0#mam">' in text, text

        srv = make_server(start=False)
        cp = srv.ctl("import", out)
        assert "imported 1 account" in cp.stdout, cp.stdout + cp.stderr
        srv.start()
        jid = "%s@%s" % (user, DOMAIN)
        # Prosody 0.12 keeps SCRAM-SHA-1 only
        await check_imported(srv, clients, jid, password, "From Prosody")
        # the archived message came with its time
        c = await clients.connect(srv, jid, password)
        page = await query(c)
        assert page.bodies == ["archived in Prosody"], page.bodies
        assert page.results[0]["to"] == "%s@%s" % (user + "b", DOMAIN)
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(5)
        if os.path.exists(out):
            os.unlink(out)
        shutil.rmtree(work, ignore_errors=True)
