"""
Migration from a real ejabberd (Debian 12's 23.01): an account made with
ejabberdctl register, its roster and vCard set by a client, exported with
ejabberdctl export_piefxis_host, imported with parleyctl import; the user
logs in to Parley with the old password and finds the contact and the
vCard. ejabberd runs in a network namespace of its own (unshare -n: its
epmd and listener collide with nothing), as root with the boot arguments
ejabberdctl would use, as the interop lab does (tests/interop/lab.py,
Ejabberd). About 15 s; skipped without ejabberd or root.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import DOMAIN
from imhelp import check_imported
from xmpptest import stop_process, uniq

ERL_LIBS = "/usr/lib/x86_64-linux-gnu"
COOKIE = "x227migrate"
NODE = "ej@127.0.0.1"
PORT = 5222                     # inside the namespace: nothing else there

pytestmark = pytest.mark.skipif(
    shutil.which("erl") is None or shutil.which("unshare") is None or
    shutil.which("nsenter") is None or os.geteuid() != 0 or
    not any(d.startswith("ejabberd-") for d in os.listdir(ERL_LIBS)),
    reason="needs Debian's ejabberd, erl, unshare, nsenter and root")

CONFIG = """hosts:
  - "{domain}"
loglevel: info
auth_method: internal
auth_password_format: scram
listen:
  -
    port: {port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls: false
shaper: {{}}
shaper_rules: {{}}
acl: {{}}
access_rules:
  local:
    allow: all
modules:
  mod_roster: {{}}
  mod_vcard: {{}}
  mod_offline: {{}}
  mod_private: {{}}
"""

# the client runs inside the namespace, as its own process
CLIENT = r"""
import asyncio, sys, slixmpp
class C(slixmpp.ClientXMPP):
    def __init__(s):
        super().__init__(sys.argv[1] + "/x", sys.argv[2])
        s.add_event_handler("session_start", s.go)
        s.add_event_handler("failed_all_auth", lambda _: s.disconnect())
    async def go(s, _):
        for x in ("<query xmlns='jabber:iq:roster'><item "
                  "jid='friend@example.org' name='Old Friend'><group>Pals"
                  "</group></item></query>",
                  "<vCard xmlns='vcard-temp'><FN>From ejabberd</FN></vCard>"):
            iq = s.make_iq_set()
            iq.append(slixmpp.ET.fromstring(x))
            r = await iq.send(timeout=10)
            print(r["type"])
        s.disconnect()
c = C()
c.connect(("127.0.0.1", int(sys.argv[3])), force_starttls=False,
          disable_starttls=True)
c.loop.run_until_complete(asyncio.wait_for(c.disconnected, 30))
"""


class Ejabberd:
    def __init__(self, work):
        self.work = work
        self.epmd = None
        self.beam = None
        self.n = 0

    def env(self):
        return dict(os.environ, ERL_LIBS=ERL_LIBS, HOME=self.work,
                    EJABBERD_CONFIG_PATH=os.path.join(self.work,
                                                      "ejabberd.yml"),
                    EJABBERD_LOG_PATH=os.path.join(self.work,
                                                   "ejabberd.log"))

    def ns(self):
        return ["nsenter", "-t", str(self.epmd.pid), "-n"]

    def start(self):
        with open(os.path.join(self.work, "ejabberd.yml"), "w") as f:
            f.write(CONFIG.format(domain=DOMAIN, port=PORT))
        # the namespace lives as long as its epmd, stopped by pid
        self.epmd = subprocess.Popen(
            ["unshare", "-n", "sh", "-c", "ip link set lo up && exec epmd"],
            env=self.env(), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        self.beam = subprocess.Popen(
            self.ns() + ["erl", "-name", NODE, "-setcookie", COOKIE,
                         "-noinput", "-noshell", "+K", "true", "-mnesia",
                         "dir", '"%s"' % os.path.join(self.work, "db"),
                         "-s", "ejabberd"],
            env=self.env(), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.ctl("status", check=False).returncode == 0:
                return
            time.sleep(0.5)
        raise AssertionError("ejabberd did not start in 60 s")

    def ctl(self, *args, check=True):
        """ejabberdctl's own mechanism: ejabberd_ctl on a hidden node."""
        self.n += 1
        cp = subprocess.run(
            self.ns() + ["erl", "-name", "ctl%d@127.0.0.1" % self.n,
                         "-hidden", "-setcookie", COOKIE, "-noinput",
                         "-noshell", "-s", "ejabberd_ctl", "-extra", NODE]
            + list(args), env=self.env(), capture_output=True, text=True,
            timeout=60)
        assert not check or cp.returncode == 0, \
            "ejabberdctl %s: %s %s" % (args, cp.stdout, cp.stderr)
        return cp

    def stop(self):
        for p in (self.beam, self.epmd):
            stop_process(p)


async def test_from_ejabberd(make_server, clients):
    user = uniq("ej")
    password = "ejabberd secret"
    jid = "%s@%s" % (user, DOMAIN)
    work = tempfile.mkdtemp(prefix="x227-ejabberd-")
    ej = Ejabberd(work)
    t0 = time.monotonic()
    try:
        ej.start()
        ej.ctl("register", user, DOMAIN, password)
        cp = subprocess.run(ej.ns() + [sys.executable, "-c", CLIENT, jid,
                                       password, str(PORT)],
                            capture_output=True, text=True, timeout=60)
        assert cp.stdout.split() == ["result", "result"], \
            cp.stdout + cp.stderr
        out = os.path.join(work, "out")
        os.mkdir(out)
        ej.ctl("export_piefxis_host", out, DOMAIN)
        ej.stop()
        files = sorted(os.listdir(out))
        hostfile = [f for f in files if f.endswith("_%s.xml" % DOMAIN)]
        assert len(files) == 2 and len(hostfile) == 1, files
        path = os.path.join(out, hostfile[0])
        text = open(path).read()
        assert "scram-credentials" in text and password not in text, text
        assert time.monotonic() - t0 < 120

        srv = make_server(start=False)
        # the main file only names the host file (XInclude)
        main = [f for f in files if f not in hostfile][0]
        cp = srv.ctl("import", os.path.join(out, main))
        assert "import that file itself" in cp.stderr, cp.stderr
        cp = srv.ctl("import", path)
        assert "imported 1 account" in cp.stdout, cp.stdout + cp.stderr
        srv.start()
        await check_imported(srv, clients, jid, password, "From ejabberd")
    finally:
        ej.stop()
        shutil.rmtree(work, ignore_errors=True)
