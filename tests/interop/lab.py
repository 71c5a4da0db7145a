"""
The federation interop lab, from Python: the network namespace (through
scripts/lab), the peer servers (Prosody, ejabberd) and Parley servers in it,
their accounts, and their logs.

The tests run *inside* the namespace (tests/interop/run.sh starts pytest
with "ip netns exec parleylab"), so clients connect straight to the lab
addresses and every server sees the lab's DNS. Used from outside the
namespace (by hand, from the host), the same functions wrap every command
in "ip netns exec parleylab".

By hand (as root, /usr/bin/python3):
    scripts/lab up
    /usr/bin/python3 tests/interop/lab.py start prosody trusted
    /usr/bin/python3 tests/interop/lab.py start ejabberd dialback
    /usr/bin/python3 tests/interop/lab.py adduser prosody alice secret
    /usr/bin/python3 tests/interop/lab.py start parley p1.test dialback
    /usr/bin/python3 tests/interop/lab.py stop prosody
    scripts/lab down          (stops whatever is still running, by PID)

Every process started here records its PID in LAB_DIR/pids/NAME.pid, so
"scripts/lab down" can stop it even when the Python side died.
"""
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
LAB_SCRIPT = os.path.join(ROOT, "scripts", "lab")
PEERS_DIR = os.path.join(HERE, "peers")
LAB_DIR = os.path.abspath(os.environ.get("PARLEYLAB_DIR", "/tmp/parleylab"))
BIN = os.path.abspath(os.environ.get("PARLEY_BIN", os.path.join(ROOT, "bin")))

NS = "parleylab"
DNS_ADDR = "10.77.0.1"
C2S_PORT = 5222
# domain -> lab address; the SRV records (scripts/lab) point at these
ADDR = {
    "p1.test": "10.77.0.10",
    "p2.test": "10.77.0.11",
    "prosody.test": "10.77.0.20",
    "ejabberd.test": "10.77.0.30",
}
# domain -> s2s port announced in its _xmpp-server._tcp SRV record.
# p2.test deliberately uses a non-default port: a peer that connects to
# 5269 instead of following SRV finds nothing listening there.
S2S_PORT = {
    "p1.test": 5269,
    "p2.test": 5299,
    "prosody.test": 5269,
    "ejabberd.test": 5269,
}
# p2.test also has an _xmpps-server record (direct TLS, XEP-0368)
P2_TLS_PORT = 5298
# the external component listener of each Parley (XEP-0114)
COMPONENT_PORT = 5347
NODNS = "nodns.test"        # no DNS record at all (NXDOMAIN)
MODES = ("trusted", "dialback")

READY_TIMEOUT = 30
STOP_TIMEOUT = 10



def multiarch():
    """Debian's multiarch triplet (x86_64-linux-gnu, aarch64-linux-gnu)."""
    for cmd in (["dpkg-architecture", "-qDEB_HOST_MULTIARCH"],
                ["gcc", "-print-multiarch"]):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True,
                                 check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            continue
        if out:
            return out
    return os.uname().machine + "-linux-gnu"


# ejabberd: Debian's ejabberd and its dependencies
EJABBERD_ERL_LIBS = "/usr/lib/" + multiarch()
ERL_COOKIE = "parleylab"
EPMD_ADDR = "127.0.0.1"


class LabError(AssertionError):
    """Something in the lab does not work (raised as a test failure)."""


# ---------------------------------------------------------------------------
# the namespace

def in_netns():
    """True if this process already runs in the lab's network namespace."""
    try:
        mine = os.stat("/proc/self/ns/net")
        lab = os.stat("/run/netns/" + NS)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (lab.st_dev, lab.st_ino)


def ns_argv(argv):
    """argv to run in the namespace from wherever we are."""
    return list(argv) if in_netns() else ["ip", "netns", "exec", NS] + list(argv)


def lab_script(action, lab_dir=LAB_DIR, check=True):
    cp = subprocess.run([LAB_SCRIPT, action, "--dir", lab_dir],
                        capture_output=True, text=True, timeout=120)
    if check and cp.returncode != 0:
        raise LabError("scripts/lab %s failed (%d):\n%s%s" % (
            action, cp.returncode, cp.stdout, cp.stderr))
    return cp


def lab_up(lab_dir=LAB_DIR):
    lab_script("up", lab_dir)


def lab_down(lab_dir=LAB_DIR):
    lab_script("down", lab_dir)


def lab_is_up():
    return os.path.exists("/run/netns/" + NS)


def require_lab():
    if not lab_is_up():
        raise LabError("the lab is not up: run scripts/lab up (or "
                       "tests/interop/run.sh)")


def certificate(domain, mode, lab_dir=LAB_DIR):
    """(certificate, key, trust store) a server of domain uses in mode.
    trusted: signed by the lab CA, trusts the lab CA. dialback: self-signed,
    trusts only itself, so it can verify no peer and no peer verifies it."""
    c = os.path.join(lab_dir, "certs")
    if mode == "trusted":
        return (os.path.join(c, domain + ".crt"),
                os.path.join(c, domain + ".key"),
                os.path.join(lab_dir, "ca", "ca.crt"))
    if mode == "dialback":
        crt = os.path.join(c, domain + "-self.crt")
        return crt, os.path.join(c, domain + "-self.key"), crt
    raise ValueError("mode must be one of %s" % (MODES,))


def port_open(addr, port, timeout=0.5):
    """True if addr:port accepts a TCP connection inside the namespace."""
    if in_netns():
        try:
            with socket.create_connection((addr, port), timeout=timeout):
                return True
        except OSError:
            return False
    probe = ("import socket,sys\n"
             "try: socket.create_connection((%r,%d),%r).close()\n"
             "except OSError: sys.exit(1)\n" % (addr, port, timeout))
    return subprocess.run(ns_argv(["/usr/bin/python3", "-c", probe]),
                          capture_output=True).returncode == 0


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"


def fill(template, values):
    """Replaces @NAME@ placeholders; refuses to leave one behind."""
    with open(os.path.join(PEERS_DIR, template)) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("@%s@" % k, str(v))
    i = text.find("@", 0)
    while i >= 0:
        j = text.find("@", i + 1)
        if j > i and text[i + 1:j].isupper() and \
                text[i + 1:j].replace("_", "").isalpha():
            raise LabError("%s: placeholder %s not filled"
                           % (template, text[i:j + 1]))
        i = text.find("@", i + 1)
    return text


class Process:
    """A process in the namespace with a pid file under LAB_DIR/pids."""

    def __init__(self, name, argv, log_path, cwd=None, env=None,
                 lab_dir=LAB_DIR):
        self.name = name
        self.pidfile = os.path.join(lab_dir, "pids", name + ".pid")
        os.makedirs(os.path.dirname(self.pidfile), exist_ok=True)
        self._log = open(log_path, "ab")
        e = dict(os.environ)
        e.update(env or {})
        # "ip netns exec" execs the command: the pid is the server's
        self.proc = subprocess.Popen(ns_argv(argv), cwd=cwd, env=e,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._log,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        with open(self.pidfile, "w") as f:
            f.write("%d\n" % self.proc.pid)

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then SIGKILL; returns a problem or None."""
        problem = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                problem = "%s (%d) still running %ds after SIGTERM" % (
                    self.name, self.proc.pid, timeout)
                self.proc.kill()
                self.proc.wait(5)
        try:
            os.unlink(self.pidfile)
        except OSError:
            pass
        self._log.close()
        return problem


def ensure_epmd(lab_dir=LAB_DIR):
    """The Erlang port mapper for ejabberd's node, bound to 127.0.0.1 in the
    namespace (one per lab; scripts/lab down stops it)."""
    pidfile = os.path.join(lab_dir, "pids", "epmd.pid")
    try:
        with open(pidfile) as f:
            if pid_alive(int(f.read().strip())):
                return
    except (OSError, ValueError):
        pass
    os.makedirs(os.path.join(lab_dir, "run"), exist_ok=True)
    p = Process("epmd", ["epmd", "-address", EPMD_ADDR],
                os.path.join(lab_dir, "run", "epmd.log"), lab_dir=lab_dir)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not p.running():
            raise LabError("epmd exited with %s" % p.proc.returncode)
        if port_open(EPMD_ADDR, 4369):
            return
        time.sleep(0.1)
    raise LabError("epmd does not listen on %s:4369" % EPMD_ADDR)


# ---------------------------------------------------------------------------
# servers

class Server:
    """One XMPP server for one lab domain in one mode."""

    kind = "server"

    def __init__(self, domain, mode, lab_dir=LAB_DIR, log_level="debug"):
        if domain not in ADDR:
            raise ValueError("unknown lab domain %s" % domain)
        if mode not in MODES:
            raise ValueError("mode must be one of %s" % (MODES,))
        self.domain = domain
        self.mode = mode
        self.addr = ADDR[domain]
        self.s2s_port = S2S_PORT[domain]
        self.c2s_port = C2S_PORT
        self.lab_dir = lab_dir
        self.log_level = log_level
        self.name = "%s-%s" % (self.kind, domain)
        self.dir = os.path.join(lab_dir, "run", self.name)
        self.cert, self.key, self.ca_file = certificate(domain, mode, lab_dir)
        self.process = None
        self.log_path = os.path.join(self.dir, self.kind + ".log")
        self.out_path = os.path.join(self.dir, "stdout.log")

    def __repr__(self):
        return "<%s %s %s>" % (self.kind, self.domain, self.mode)

    def jid(self, user):
        return "%s@%s" % (user, self.domain)

    # to be provided
    def write_config(self):
        raise NotImplementedError

    def argv(self):
        raise NotImplementedError

    def env(self):
        return {}

    def adduser(self, user, password):
        raise NotImplementedError

    # common
    def endpoints(self):
        return [(self.addr, self.c2s_port), (self.addr, self.s2s_port)]

    def start(self, fresh=True):
        """Starts the server and returns when its c2s and s2s ports accept.
        fresh: a new directory (no accounts); else keep data and config."""
        require_lab()
        if self.process and self.process.running():
            return self
        if fresh or not os.path.isdir(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)
            os.makedirs(self.dir)
            self.write_config()
        self.pre_start()
        self.process = Process(self.name, self.argv(), self.out_path,
                               cwd=self.dir, env=self.env(),
                               lab_dir=self.lab_dir)
        self.wait_ready()
        return self

    def pre_start(self):
        pass

    def wait_ready(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.process.running():
                raise LabError("%s exited with %s during start-up\n%s" % (
                    self, self.process.proc.returncode, self.log_tail()))
            if all(port_open(a, p) for a, p in self.endpoints()):
                return
            time.sleep(0.1)
        raise LabError("%s: %s not all accepting after %ss\n%s" % (
            self, self.endpoints(), timeout, self.log_tail()))

    def stop(self):
        if self.process is None:
            return None
        problem = self.process.stop()
        self.process = None
        return problem

    def restart(self):
        """Stop and start on the same data (accounts survive)."""
        problem = self.stop()
        self.start(fresh=False)
        return problem

    def running(self):
        return self.process is not None and self.process.running()

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_text(self, since=0):
        out = []
        paths = [self.log_path]
        if self.out_path != self.log_path:
            paths.append(self.out_path)
        for p in paths:
            try:
                with open(p, "rb") as f:
                    if p == self.log_path:
                        f.seek(since)
                    out.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "\n".join(out)

    def log_tail(self, since=0, lines=150):
        text = self.log_text(since).splitlines()
        return "\n".join(text[-lines:])

    def auth_methods(self, peer):
        """How s2s streams with peer were authenticated, from this
        server's log: a set of "in:external", "in:dialback",
        "out:external", "out:dialback" (empty if unknown)."""
        return set()

    def _run(self, argv, what, env=None, stdin=None, timeout=30):
        e = dict(os.environ)
        e.update(env or {})
        try:
            cp = subprocess.run(ns_argv(argv), input=stdin, env=e,
                                cwd=self.dir, capture_output=True, text=True,
                                timeout=timeout)
        except subprocess.TimeoutExpired:
            raise LabError("%s: %s hung for %ss" % (self, what, timeout))
        if cp.returncode != 0:
            raise LabError("%s: %s failed (%d)\n%s%s" % (
                self, what, cp.returncode, cp.stdout, cp.stderr))
        return cp


class Prosody(Server):
    """Prosody 0.12, foreground ("prosody -F"), as root (run_as_root)."""

    kind = "prosody"

    def __init__(self, domain="prosody.test", mode="trusted", **kw):
        super().__init__(domain, mode, **kw)
        self.conf = os.path.join(self.dir, "prosody.cfg.lua")

    def write_config(self):
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        # an empty certificate directory: Prosody indexes it at start-up
        # and complains when it is missing; the certificate is set in ssl
        os.makedirs(os.path.join(self.dir, "certs"), exist_ok=True)
        text = fill("prosody.cfg.lua.in", {
            "DIR": self.dir, "MODE": self.mode, "DOMAIN": self.domain,
            "ADDR": self.addr, "S2S_PORT": self.s2s_port,
            "LOGLEVEL": self.log_level, "CERT": self.cert, "KEY": self.key,
            "CAFILE": self.ca_file,
            "SECURE_AUTH": "true" if self.mode == "trusted" else "false",
            "RESOLV_CONF": "/etc/netns/%s/resolv.conf" % NS,
        })
        with open(self.conf, "w") as f:
            f.write(text)

    def argv(self):
        return ["prosody", "-F", "--config", self.conf]

    def adduser(self, user, password):
        # prosodyctl writes the account files directly (works with the
        # server running: mod_storage_internal reads them on demand)
        self._run(["prosodyctl", "--config", self.conf, "register", user,
                   self.domain, password], "prosodyctl register")


def _prosody_auth_methods(text, me, peer):
    found = set()
    ext_in = "Accepting SASL EXTERNAL identity from %s" % peer in text
    ext_out = "SASL EXTERNAL with %s succeeded" % peer in text
    auth_in = "connection %s->%s is now authenticated" % (peer, me) in text
    auth_out = "connection %s->%s is now authenticated" % (me, peer) in text
    if auth_in:
        found.add("in:external" if ext_in else "in:dialback")
    if auth_out:
        found.add("out:external" if ext_out else "out:dialback")
    return found


Prosody.auth_methods = lambda self, peer: _prosody_auth_methods(
    self.log_text(), self.domain, peer)


class Ejabberd(Server):
    """ejabberd 23.01 without ejabberdctl.

    ejabberdctl runs everything as the "ejabberd" user (su), which cannot
    use the lab directory, and its node name is ejabberd@localhost. So the
    lab starts erl itself, as root, with what ejabberdctl would pass
    (ERL_LIBS, EJABBERD_CONFIG_PATH, EJABBERD_LOG_PATH, -mnesia dir,
    -s ejabberd) and a long node name on 127.0.0.1 registered with an epmd
    that the lab runs on 127.0.0.1 inside the namespace (ensure_epmd).
    Accounts: a second, hidden node runs ejabberd_ctl against it, which is
    exactly what "ejabberdctl register" does."""

    kind = "ejabberd"

    def __init__(self, domain="ejabberd.test", mode="trusted", **kw):
        super().__init__(domain, mode, **kw)
        self.conf = os.path.join(self.dir, "ejabberd.yml")
        self.inetrc = os.path.join(self.dir, "inetrc")
        self.node = "ejabberd@" + EPMD_ADDR
        self._ctl = 0

    def write_config(self):
        dialback = "  mod_s2s_dialback: {}" if self.mode == "dialback" else \
            "  # no mod_s2s_dialback: certificate authentication only"
        text = fill("ejabberd.yml.in", {
            "DIR": self.dir, "MODE": self.mode, "DOMAIN": self.domain,
            "ADDR": self.addr, "S2S_PORT": self.s2s_port,
            "LOGLEVEL": "debug" if self.log_level == "debug" else "info",
            "CERT": self.cert, "KEY": self.key, "CAFILE": self.ca_file,
            "DIALBACK_MODULE": dialback,
        })
        with open(self.conf, "w") as f:
            f.write(text)
        # Erlang's resolver (inet_res) for s2s: the lab's dnsmasq only
        with open(self.inetrc, "w") as f:
            f.write("{nameserver, {%s}}.\n" % DNS_ADDR.replace(".", ","))
            f.write("{lookup, [file, dns]}.\n")

    def pre_start(self):
        ensure_epmd(self.lab_dir)

    def _erl_common(self):
        return ["-setcookie", ERL_COOKIE, "-start_epmd", "false",
                "-kernel", "inet_dist_use_interface",
                "{%s}" % EPMD_ADDR.replace(".", ","),
                "-noinput", "-noshell"]

    def env(self):
        return {
            "ERL_LIBS": EJABBERD_ERL_LIBS,
            "EJABBERD_CONFIG_PATH": self.conf,
            "EJABBERD_LOG_PATH": self.log_path,
            "ERL_INETRC": self.inetrc,
            "ERL_EPMD_ADDRESS": EPMD_ADDR,
            "ERL_CRASH_DUMP": os.path.join(self.dir, "erl_crash.dump"),
            "ERL_CRASH_DUMP_BYTES": "0",
            "HOME": self.dir,
        }

    def argv(self):
        return (["erl", "-name", self.node] + self._erl_common() +
                ["+K", "true", "-mnesia", "dir",
                 '"%s"' % os.path.join(self.dir, "db"), "-s", "ejabberd"])

    def ctl(self, *args, timeout=30):
        """ejabberdctl's equivalent: ejabberd_ctl on a hidden node."""
        self._ctl += 1
        node = "ctl%d_%d@%s" % (os.getpid(), self._ctl, EPMD_ADDR)
        argv = (["erl", "-name", node, "-hidden"] + self._erl_common() +
                ["-s", "ejabberd_ctl", "-extra", self.node] + list(args))
        return self._run(argv, "ejabberd_ctl %s" % args[0],
                         env={"ERL_LIBS": EJABBERD_ERL_LIBS,
                              "ERL_EPMD_ADDRESS": EPMD_ADDR,
                              "HOME": self.dir}, timeout=timeout)

    def adduser(self, user, password):
        self.ctl("register", user, self.domain, password)

    def auth_methods(self, peer):
        text = self.log_text()
        found = set()
        for way, arrow in (("in", "%s -> %s" % (peer, self.domain)),
                           ("out", "%s -> %s" % (self.domain, peer))):
            for mech in ("EXTERNAL", "dialback"):
                if "Accepted %sbound s2s %s authentication %s " % (
                        way, mech, arrow) in text:
                    found.add("%s:%s" % (way, mech.lower()))
        return found

    def wait_ready(self, timeout=READY_TIMEOUT):
        super().wait_ready(timeout)
        # the listeners open before every module is loaded: ask the node
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.ctl("status", timeout=10)
                return
            except LabError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)


class Parley(Server):
    """parleyd for p1.test or p2.test, with the federation options of the
    s2s process (see docs/interop.md)."""

    kind = "parley"

    def __init__(self, domain="p1.test", mode="trusted", overrides=None,
                 **kw):
        super().__init__(domain, mode, **kw)
        self.conf = os.path.join(self.dir, "parley.conf")
        self.log_path = os.path.join(self.dir, "parleyd.log")
        self.out_path = self.log_path
        self.connect_timeout = 3
        self.opts = {
            "workers": "1",
            "datadir": os.path.join(self.dir, "data"),
            "rundir": os.path.join(self.dir, "run"),
            "log-level": self.log_level,
            "lmdb-mapsize": "64M",
            "scram-iterations": "4096",
            "c2s-listen": "%s:%d" % (self.addr, C2S_PORT),
            "c2s-require-tls": "yes",
            "s2s-listen": "%s:%d" % (self.addr, self.s2s_port),
            "s2s-ca-file": self.ca_file,
            "dns-server": DNS_ADDR,
            "s2s-require-tls": "yes",
            # trusted: certificates only, so a passing test proves SASL
            # EXTERNAL; dialback: nobody can verify anybody's certificate
            "s2s-dialback": "yes" if mode == "dialback" else "no",
            "s2s-dialback-secret": secrets.token_hex(16),
            "s2s-connect-timeout": "%ds" % self.connect_timeout,
            "s2s-idle-timeout": "5m",
            # the lab network is private (10.x); production refuses it
            "s2s-allow-private": "yes",
        }
        if domain == "p2.test":
            self.opts["s2s-tls-listen"] = "%s:%d" % (self.addr, P2_TLS_PORT)
        # an external component (XEP-0114) gw.DOMAIN may attach here; DNS
        # and the certificates name it (scripts/lab)
        self.component = "gw." + domain
        self.component_secret = secrets.token_hex(8)
        self.component_addr = (self.addr, COMPONENT_PORT)
        self.opts["component-listen"] = "%s:%d" % self.component_addr
        self.opts["component"] = "%s=%s" % (self.component,
                                            self.component_secret)
        self.opts.update(overrides or {})

    def write_config(self):
        with open(self.conf, "w") as f:
            f.write("# written by tests/interop/lab.py (%s, mode %s)\n"
                    % (self.domain, self.mode))
            for k, v in self.opts.items():
                if isinstance(v, (list, tuple)):
                    for one in v:
                        f.write("%s %s\n" % (k, one))
                else:
                    f.write("%s %s\n" % (k, v))
            # muc: its group chat service at conference.DOMAIN
            f.write("host %s {\n\tcertificate %s\n\tkey %s\n"
                    "\tmuc yes\n}\n" % (self.domain, self.cert, self.key))

    def start(self, fresh=True):
        if fresh:
            self.checked = 0
        return super().start(fresh)

    def wait_ready(self, timeout=READY_TIMEOUT):
        """Also until the s2s process has reached the router: its port
        accepts (into the backlog) before, and until then the router
        drops what a user sends to a remote domain (a presence, which
        gets no bounce, is lost; seen with the first MUC join to a
        remote room right after start-up)."""
        deadline = time.monotonic() + timeout
        super().wait_ready(timeout)
        while "router: s2s connected" not in self.log_text(
                getattr(self, "started_at", 0)):
            if time.monotonic() >= deadline:
                raise LabError("%s: the s2s process did not reach the "
                               "router within %ss\n%s" % (
                                   self, timeout, self.log_tail()))
            time.sleep(0.1)

    def stop(self):
        """Also a problem: a child that did not exit with status 0."""
        problem = super().stop()
        deaths = self.deaths()
        if deaths:
            problem = "\n".join(([problem] if problem else []) + deaths)
        return problem

    def deaths(self):
        """Children that died since the last call (parleyd logs every
        death with its cause): each is a failure, the lab kills none."""
        since = getattr(self, "checked", 0)
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                data = f.read()
        except OSError:
            data = b""
        self.checked = since + len(data)
        text = data.decode("utf-8", "replace")
        # here, not at the top: the command line needs no slixmpp
        sys.path.insert(0, os.path.join(HERE, "..", "lib"))
        from xmpptest import unexpected_deaths
        return ["%s: %s" % (self, d) for d in unexpected_deaths(text)]

    def pre_start(self):
        # a restart appends to the log: wait_ready reads from here
        self.started_at = self.log_size()
        for b in ("parleyd", "parley-router", "parley-c2s", "parley-s2s",
                  "parleyctl"):
            if not os.access(os.path.join(BIN, b), os.X_OK):
                raise LabError("%s is missing (build Parley, or set "
                               "PARLEY_BIN)" % os.path.join(BIN, b))

    def argv(self):
        return [os.path.join(BIN, "parleyd"), "-c", self.conf]

    def adduser(self, user, password):
        self._run([os.path.join(BIN, "parleyctl"), "-c", self.conf,
                   "adduser", self.jid(user)], "parleyctl adduser",
                  stdin=password + "\n")


KINDS = {"prosody": Prosody, "ejabberd": Ejabberd, "parley": Parley}
DEFAULT_DOMAIN = {"prosody": "prosody.test", "ejabberd": "ejabberd.test",
                  "parley": "p1.test"}


def make(kind, mode, domain=None, **kw):
    """A server object (not started) for kind in mode."""
    return KINDS[kind](domain or DEFAULT_DOMAIN[kind], mode, **kw)


# ---------------------------------------------------------------------------
# by hand

def _attach(kind, domain, mode="trusted"):
    """A Server object for an instance started earlier by this CLI."""
    srv = make(kind, mode, domain)
    return srv


def main(argv):
    usage = ("usage: lab.py start KIND MODE [DOMAIN] | stop KIND [DOMAIN] | "
             "adduser KIND USER PASSWORD [DOMAIN]\n"
             "  KIND: prosody, ejabberd, parley; MODE: trusted, dialback")
    if len(argv) < 2:
        print(usage, file=sys.stderr)
        return 2
    cmd = argv[1]
    try:
        if cmd == "start" and len(argv) in (4, 5):
            kind, mode = argv[2], argv[3]
            srv = make(kind, mode, argv[4] if len(argv) == 5 else None)
            srv.start()
            # leave it running: scripts/lab down or "lab.py stop" ends it
            srv.process._log.close()
            print("%s %s (%s) running, pid %d, in %s" % (
                kind, srv.domain, mode, srv.process.pid, srv.dir))
            os._exit(0)
        if cmd == "stop" and len(argv) in (3, 4):
            kind = argv[2]
            dom = argv[3] if len(argv) == 4 else DEFAULT_DOMAIN[kind]
            pidfile = os.path.join(LAB_DIR, "pids",
                                   "%s-%s.pid" % (kind, dom))
            try:
                with open(pidfile) as f:
                    pid = int(f.read().strip())
            except (OSError, ValueError):
                print("%s %s: not running" % (kind, dom))
                return 0
            if pid_alive(pid):
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + STOP_TIMEOUT
                while pid_alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if pid_alive(pid):
                    os.kill(pid, signal.SIGKILL)
            os.unlink(pidfile)
            print("%s %s: stopped" % (kind, dom))
            return 0
        if cmd == "adduser" and len(argv) in (5, 6):
            kind, user, pw = argv[2], argv[3], argv[4]
            srv = _attach(kind, argv[5] if len(argv) == 6 else
                          DEFAULT_DOMAIN[kind])
            srv.adduser(user, pw)
            print("added %s" % srv.jid(user))
            return 0
    except LabError as e:
        print(str(e), file=sys.stderr)
        return 1
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
