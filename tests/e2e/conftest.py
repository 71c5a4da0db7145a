"""
End-to-end harness: starts real parleyd servers (one config per server in a
temporary directory), creates accounts with parleyctl, and drives them with
slixmpp clients and raw sockets. Every wait has a deadline so that a broken
server makes a test fail, never hang.

Run:  PARLEY_BIN=/abs/bin /usr/bin/python3 -m pytest -q tests/e2e
"""
import asyncio
import os
import random
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
# the shared client harness; tests import these names from here
from xmpptest import (NS_CLIENT, NS_DISCO_INFO, NS_PING,  # noqa: E402,F401
                      NS_STANZAS, SLOW, ClientsBase, add_event_loop,
                      element_error, exchange, new_event_loop,
                      run_async_test, stanza_error, uniq, unexpected_deaths,
                      wait_for)
import xmpptest  # noqa: E402
import pgserver  # noqa: E402

BIN = os.path.abspath(os.environ.get("PARLEY_BIN", os.path.join(ROOT, "bin")))
DOMAIN = "localhost"

# Deadlines (seconds), scaled for the sanitizer build (PARLEY_TIME_SCALE)
READY_TIMEOUT = 10 * SLOW
LOGIN_TIMEOUT = 10 * SLOW
STANZA_TIMEOUT = 5 * SLOW
TEST_TIMEOUT = 60 * SLOW
STOP_TIMEOUT = 10

NS_STREAM = "http://etherx.jabber.org/streams"
NS_STREAMS_ERR = "urn:ietf:params:xml:ns:xmpp-streams"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"

HEADER = ("<stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' "
          "to='%s' version='1.0'>" % DOMAIN).encode()

SANITIZER_RE = re.compile(
    r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
    r"AddressSanitizer:DEADLYSIGNAL")

# Ports for the servers a test starts. Each pytest-xdist worker draws from
# its own slice of 20000-32767, below the kernel's ephemeral range (where
# the clients' own ports come from), and never hands out a port twice, so
# two listeners of one server, or of two workers, cannot get the same one.
_PORT_BASE, _PORT_SPAN = 20000, 12768
_ports_given = set()


def free_port():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    n = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    idx = int(worker[2:]) if worker[2:].isdigit() else 0
    span = _PORT_SPAN // max(n, 1)
    lo = _PORT_BASE + idx * span
    for _ in range(1000):
        port = random.randrange(lo, lo + span)
        if port in _ports_given:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _ports_given.add(port)
        return port
    raise RuntimeError("no free port in %d-%d" % (lo, lo + span))


# ---------------------------------------------------------------------------
# /proc helpers: children of a process and the TCP sockets they hold

def _scan_children(pid):
    """pids whose parent is pid, from every /proc/*/stat."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            out.append(int(d))
    return sorted(out)


# the kernel lists a task's children in /proc/PID/task/TID/children
# (CONFIG_PROC_CHILDREN): a read of a few files instead of every
# /proc/*/stat, which on a machine running hundreds of processes cost
# 0.1 s a scan, and each server start and each test's check for deaths
# makes several
_HAVE_CHILDREN = os.path.exists("/proc/self/task/%d/children"
                                % os.getpid())


def proc_children(pid):
    """pids whose parent is pid (zombies left out)."""
    if not _HAVE_CHILDREN:
        return _scan_children(pid)
    kids = set()
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                kids.update(int(p) for p in f.read().split())
    except FileNotFoundError:
        # a thread ended meanwhile, or pid did
        return _scan_children(pid)
    except OSError:
        return []
    return sorted(p for p in kids if proc_alive(p))


def proc_alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode(errors="replace")
                    for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def proc_socket_inodes(pid):
    inodes = set()
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return inodes
    for fd in fds:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", link)
        if m:
            inodes.add(int(m.group(1)))
    return inodes


def tcp_table():
    """[(local_port, remote_port, state, inode)] over IPv4 and IPv6."""
    rows = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            p = line.split()
            lport = int(p[1].rsplit(":", 1)[1], 16)
            rport = int(p[2].rsplit(":", 1)[1], 16)
            rows.append((lport, rport, p[3], int(p[9])))
    return rows


TCP_ESTABLISHED = "01"
TCP_LISTEN = "0A"


def tcp_listeners():
    """[(local_port, inode)] of the listening TCP sockets. The kernel
    lists the listening sockets first, then the others (connections and
    TIME_WAIT, tens of thousands under a benchmark, 50 us a line to
    read): the reading stops at the first that does not listen."""
    rows = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                f.readline()
                for line in f:
                    p = line.split()
                    if p[3] != TCP_LISTEN:
                        break
                    rows.append((int(p[1].rsplit(":", 1)[1], 16),
                                 int(p[9])))
        except OSError:
            continue
    return rows


# ---------------------------------------------------------------------------
# the server under test

class Server:
    """One parleyd with its own config, data and run directories."""

    def __init__(self, base, cert, overrides=None, name="srv",
                 extra_hosts=(), host_options=None):
        self.name = name
        self.dir = str(base)
        self.cert = cert
        self.port = free_port()
        self.tls_port = free_port()
        self.opts = {
            "workers": "2",
            "datadir": os.path.join(self.dir, "data"),
            "rundir": os.path.join(self.dir, "run"),
            "log-level": "debug",
            "lmdb-mapsize": "64M",
            "scram-iterations": "4096",
            "c2s-listen": "127.0.0.1:%d" % self.port,
            "c2s-tls-listen": "127.0.0.1:%d" % self.tls_port,
            "c2s-require-tls": "yes",
            "max-stanza-size": "256K",
            "negotiation-timeout": "30",
            "idle-timeout": "600",
            "auth-retries": "3",
            # every test logs in from 127.0.0.1: the per-address limits
            # are tested on their own (test_hostile.py)
            "auth-fail-max": "0",
            "c2s-max-per-address": "0",
            "c2s-stanza-rate": "0",
        }
        # PARLEY_TEST_PG (make pg): the store is a fresh database on
        # that PostgreSQL server (tests/lib/pgserver.py)
        if os.environ.get("PARLEY_TEST_PG") and \
                "storage" not in (overrides or {}):
            self.opts["storage"] = "postgresql"
            self.opts["postgresql"] = '"%s"' % pgserver.fresh_db(
                os.environ["PARLEY_TEST_PG"])
        self.opts.update(overrides or {})
        # an option overridden with None is left out of the file
        self.opts = {k: v for k, v in self.opts.items() if v is not None}
        self.workers = int(self.opts.get("workers", 0))
        self.conf = os.path.join(self.dir, "parley.conf")
        self.log_path = os.path.join(self.dir, "parleyd.log")
        self.proc = None
        self._log = None
        self.problems = []      # found at stop: reported by the fixture
        self.users = []         # made by new_user()
        # the kinds of child (c2s, router, s2s) the running test kills on
        # purpose (@pytest.mark.kills); any other death fails the test
        self.allowed = ALLOWED
        self.checked = 0        # log bytes already read for deaths
        self.kids = {}          # child pid -> kind, when last seen ready
        self._reported = set()  # parleyd pids whose exit status was bad
        with open(self.conf, "w") as f:
            f.write("# written by tests/e2e/conftest.py\n")
            for k, v in self.opts.items():
                f.write("%s %s\n" % (k, v))
            for h, crt, key in [(DOMAIN, cert[0], cert[1])] + \
                    list(extra_hosts):
                f.write("host %s {\n\tcertificate %s\n\tkey %s\n"
                        % (h, crt, key))
                for k, v in (host_options or {}).get(h, {}).items():
                    f.write("\t%s %s\n" % (k, v))
                f.write("}\n")

    # -- accounts -------------------------------------------------------

    def ctl(self, *args, stdin=None, check=True):
        """Runs parleyctl; returns the CompletedProcess."""
        cmd = [os.path.join(BIN, "parleyctl"), "-c", self.conf] + list(args)
        try:
            cp = subprocess.run(cmd, input=stdin, capture_output=True,
                                text=True, timeout=20 * SLOW)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s hung for 20s" % " ".join(cmd))
        if check and cp.returncode != 0:
            raise AssertionError("%s exited %d\nstdout: %s\nstderr: %s" % (
                " ".join(cmd), cp.returncode, cp.stdout, cp.stderr))
        return cp

    def adduser(self, jid, password):
        self.ctl("adduser", jid, stdin=password + "\n")

    def new_user(self, prefix="u", password=None):
        """Creates a fresh account; returns User(jid, password)."""
        u = User("%s@%s" % (uniq(prefix), DOMAIN),
                 password or "pw-" + uniq("p"))
        self.adduser(u.jid, u.password)
        self.users.append(u)
        return u

    # -- lifecycle ------------------------------------------------------

    def start(self):
        self._log = open(self.log_path, "ab")
        self._ready_from = self._log.tell()
        argv = [os.path.join(BIN, "parleyd"), "-c", self.conf]
        if os.environ.get("PARLEY_TRACE"):
            argv += ["-T", os.environ["PARLEY_TRACE"]]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log,
                                     stderr=subprocess.STDOUT)
        RUNNING.append(self)
        self.wait_ready()

    def wait_ready(self, timeout=READY_TIMEOUT):
        """Until every c2s listens, every process (the proxy too, when
        there is one) has its router link, parleyd has heard each child
        report itself up (its "ready" line, what it tells systemd), and
        the STARTTLS port answers a header."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    "parleyd exited with %s during startup\n%s"
                    % (self.proc.returncode, self.log_tail()))
            # the log line first: reading the log is cheap, each look at
            # the children reads every /proc/*/stat, so those wait for it
            # and the poll can be short (a server starts in every test)
            if "ready: every process is up" not in self.log_text(
                    getattr(self, "_ready_from", 0)):
                last = "no ready line in the log"
                time.sleep(0.02)
                continue
            try:
                c2s = self.c2s_pids()
                if (len(c2s) == self.workers and
                        self.router_pid() is not None and
                        all(self.listening(p) for p in c2s) and
                        self.router_links() >= self.workers +
                        self.runs("s2s") +
                        (1 if self.opts.get("proxy-listen") else 0)):
                    self._probe()
                    self.kids = self.kid_kinds()
                    return
                last = "c2s=%s router=%s router links=%d" % (
                    c2s, self.router_pid(), self.router_links())
            except OSError as e:
                last = e
            time.sleep(0.02)
        raise AssertionError("server not ready after %ss (%s)\n%s"
                             % (timeout, last, self.log_tail()))

    def runs(self, kind):
        """Whether parleyd starts this kind of process here (the
        processes option; without it every kind where the router is)."""
        procs = self.opts.get("processes")
        if procs is None:
            return kind == "c2s" or "router-address" not in self.opts
        return kind in procs.split(",")

    def _probe(self):
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=2) as s:
            mine = s.getsockname()[1]
            s.sendall(HEADER)
            data = b""
            while b"<stream:stream" not in data and b"features" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    raise OSError("closed before the stream header")
                data += chunk
        # until the c2s has closed its end (a socket without an inode is
        # one no process holds): the probe must not count against a
        # test's per-address limit (c2s-max-per-address 1)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and any(
                lp == self.port and rp == mine and ino != 0
                for lp, rp, st, ino in tcp_table()):
            time.sleep(0.005)

    def restart(self):
        """A full stop (SIGTERM) and start on the same configuration, data
        and ports; clients connected before are disconnected."""
        self.stop()
        self.start()

    def stop(self):
        """SIGTERM; records problems (slow exit, stray children, sanitizer
        reports) in self.problems."""
        if self.proc is None:
            return
        self.halt()
        self.finish()

    def finish(self):
        """After the stop: the deaths and sanitizer reports in the log."""
        if self in RUNNING:
            RUNNING.remove(self)
        self.problems += self.check_deaths()
        text = self.log_text()
        m = SANITIZER_RE.search(text)
        if m:
            start = max(0, m.start() - 200)
            self.problems.append("sanitizer report in the log:\n"
                                 + text[start:start + 6000])

    def halt(self):
        """SIGTERM to parleyd, then SIGKILL to what outlives it."""
        kids = self.children()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.problems.append("parleyd still running %ds after "
                                     "SIGTERM" % STOP_TIMEOUT)
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.returncode != 0 and self.proc.pid not in self._reported:
            self._reported.add(self.proc.pid)
            self.problems.append("parleyd exited with status %s"
                                 % self.proc.returncode)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(map(proc_alive, kids)):
            time.sleep(0.05)
        for pid in kids:
            if proc_alive(pid):
                self.problems.append("child %d %s outlived parleyd"
                                     % (pid, proc_cmdline(pid)))
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self._log.close()

    def client_port(self, direct_tls, turn):
        """The port of a test's turn-th client (HostsServer: by host)."""
        return self.tls_port if direct_tls else self.port

    def linked_workers(self):
        """The c2s processes linked to the router when all are up."""
        return self.workers

    # -- processes ------------------------------------------------------

    def children(self):
        return proc_children(self.proc.pid) if self.proc else []

    def kid_kinds(self):
        """{child pid: 'c2s', 'router' or 's2s'}."""
        out = {}
        for p in self.children():
            argv0 = os.path.basename((proc_cmdline(p) or ["?"])[0])
            out[p] = argv0.replace("parley-", "")
        return out

    def check_deaths(self):
        """Children that died since the last call and were not killed on
        purpose: parleyd logs every death (restarts, and the exit status
        of each child at stop). Also every child seen at the start that
        is gone now (a death not logged yet)."""
        size = self.log_size()
        text = self.log_text(self.checked, size)
        self.checked = size
        bad = unexpected_deaths(text, self.allowed)
        if self.proc is not None and self.proc.poll() is None:
            bad += ["%s pid=%d is gone" % (kind, pid)
                    for pid, kind in self.kids.items()
                    if kind not in self.allowed and not proc_alive(pid)]
            self.kids = self.kid_kinds()    # each death is reported once
        return bad

    def c2s_pids(self):
        return [p for p in self.children()
                if any("parley-c2s" in a for a in proc_cmdline(p)[:1])]

    def router_pid(self):
        for p in self.children():
            if any("parley-router" in a for a in proc_cmdline(p)[:1]):
                return p
        return None

    def router_links(self):
        """Connected Unix sockets the router holds under the run directory
        (the accepted c2s links carry the listening socket's path). A c2s
        that listens before its link is up would fail logins with
        temporary-auth-failure, so readiness waits for these."""
        pid = self.router_pid()
        if pid is None:
            return 0
        mine = proc_socket_inodes(pid)
        rundir = self.opts["rundir"].rstrip("/") + "/"
        n = 0
        try:
            with open("/proc/net/unix") as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            return 0
        for line in lines:
            p = line.split()
            if len(p) >= 8 and p[5] == "03" and int(p[6]) in mine and \
                    p[7].startswith(rundir):
                n += 1
        return n

    def listening(self, pid):
        """True if pid holds a listening socket on the STARTTLS port."""
        mine = proc_socket_inodes(pid)
        return any(lp == self.port and ino in mine
                   for lp, ino in tcp_listeners())

    def established(self, pid):
        """Remote ports of client connections pid holds on our ports."""
        mine = proc_socket_inodes(pid)
        return {rp for lp, rp, st, ino in tcp_table()
                if lp in (self.port, self.tls_port) and st == TCP_ESTABLISHED
                and ino in mine}

    def owner_of(self, client_port):
        """The c2s pid serving the client whose local port is given."""
        for pid in self.c2s_pids():
            if client_port in self.established(pid):
                return pid
        return None

    # -- log --------------------------------------------------------------

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_text(self, since=0, until=None):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                data = f.read() if until is None else f.read(until - since)
                return data.decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, since=0, lines=300):
        text = self.log_text(since).splitlines()
        cut = "" if len(text) <= lines else "[... %d lines cut]\n" % (
            len(text) - lines)
        return cut + "\n".join(text[-lines:])


# ---------------------------------------------------------------------------
# PARLEY_E2E_HOSTS=3: every server is three "hosts" on loopback (issue 19)

HOSTS = int(os.environ.get("PARLEY_E2E_HOSTS") or "1")
# options of the processes only the router's host runs: a remote host
# ignores them, and the web listeners go to the remote hosts
WEB_LISTENS = ("http-listen", "https-listen")


def psk_file(path, names):
    """A psktool-format file: identity:hexkey per line; returns the keys."""
    keys = {n: secrets.token_hex(32) for n in names}
    with open(path, "w") as f:
        for n, k in keys.items():
            f.write("%s:%s\n" % (n, k))
    os.chmod(path, 0o600)
    return keys


class RemoteHost(Server):
    """A parleyd without the router (router-address): c2s workers, and
    the s2s when extra says processes s2s,..., linked to router's port."""

    def __init__(self, base, cert, router, identity, keyfile, base_inst,
                 extra=None, **kw):
        self.router = router
        self.base_inst = base_inst
        opts = {
            "workers": "1",
            "router-address": "127.0.0.1:%d" % router.link_port,
            "link-psk-file": keyfile,
            "link-psk-identity": identity,
            "instance-base": str(base_inst),
        }
        opts.update(extra or {})
        super().__init__(base, cert, opts, name="remote-%s" % identity,
                         **kw)

    def wait_ready(self, timeout=READY_TIMEOUT):
        """Until each worker listens and the router logged its link (since
        this start: the log may be the router's own)."""
        since = self._ready_from if self.log_path == self.router.log_path \
            else 0
        lines = ["c2s[%d] connected" % i for i in
                 range(self.base_inst, self.base_inst + self.workers)]
        if self.runs("s2s"):
            lines.append("s2s connected")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("remote parleyd exited: %s"
                                     % self.log_tail())
            text = self.router.log_text(since)
            if (len(self.c2s_pids()) == self.workers and
                    all(self.listening(p) for p in self.c2s_pids()) and
                    all(x in text for x in lines)):
                if self.workers > 0:
                    self._probe()
                self.kids = self.kid_kinds()
                return
            time.sleep(0.1)
        raise AssertionError("remote host not ready\n%s\nrouter:\n%s"
                             % (self.log_tail(), self.router.log_tail()))


class S2SHost(RemoteHost):
    """A parleyd that runs only the s2s process of router's server
    (processes s2s), linked to router's link port: its own s2s-listen and
    host blocks (the certificates it federates with), no client port."""

    def __init__(self, base, cert, router, identity, keyfile, extra=None,
                 **kw):
        # no c2s here: a workers line would be refused (the clients'
        # options do not matter, nothing listens on the client ports)
        opts = {"processes": "s2s", "workers": None}
        opts.update(extra or {})
        super().__init__(base, cert, router, identity, keyfile, 1, opts,
                         **kw)


class HostsServer(Server):
    """One server as three hosts: the router's host (router and one c2s
    worker, link-listen with TLS-PSK), a c2s host and a c2s and s2s host
    (processes s2s,c2s) with router-address, each with its own client
    ports, all on loopback and logging into one file (the s2s listens on
    the server's s2s ports, from the third host). The object stands for the whole: parleyctl and
    the router are the first host's, port and tls_port are the second
    host's, clients (Clients.connect) go to the two c2s hosts in turn,
    c2s_pids() are theirs and children() everybody's."""

    def __init__(self, base, cert, overrides=None, name="srv",
                 extra_hosts=(), host_options=None):
        overrides = dict(overrides or {})
        web = {k: overrides.pop(k) for k in WEB_LISTENS if k in overrides}
        want = int(overrides.get("workers", "2"))
        self.link_port = free_port()
        keyfile = os.path.join(str(base), "links.psk")
        psk_file(keyfile, ["hostb", "hostc"])
        home = dict(overrides)
        home.update({"workers": "1", "processes": "router,c2s",
                     "link-listen": "127.0.0.1:%d" % self.link_port,
                     "link-psk-file": keyfile})
        self.home = Server(base, cert, home, name=name,
                           extra_hosts=extra_hosts,
                           host_options=host_options)
        self.remotes = []
        inst = 2        # after the router host's c2s[1]: one digit each
        for i, ident in enumerate(("hostb", "hostc")):
            d = os.path.join(str(base), ident)
            os.mkdir(d)
            opts = {k: v for k, v in self.home.opts.items()
                    if k not in ("c2s-listen", "c2s-tls-listen", "datadir",
                                 "rundir", "link-listen", "processes")}
            if ident == "hostc":
                opts["processes"] = "s2s,c2s"
            opts.update(web)
            # its own client ports (Server picks them); the workers split
            # so that the c2s hosts hold `workers` between them
            opts.update({"datadir": os.path.join(d, "data"),
                         "rundir": os.path.join(d, "run"),
                         "workers": str(max(1, (want + 1 - i) // 2))})
            h = RemoteHost(d, cert, self, ident, keyfile, inst, opts,
                           extra_hosts=extra_hosts,
                           host_options=host_options)
            inst += h.workers
            h.log_path = self.home.log_path
            self.remotes.append(h)
        # what a test appends to the configuration before the start
        # (s2s-route lines) goes to every host's: start() copies it
        self._conf_written = os.path.getsize(self.home.conf)
        self.name = name
        self.dir = self.home.dir
        self.cert = cert
        self.opts = dict(self.home.opts, **web)
        self.conf = self.home.conf
        self.log_path = self.home.log_path
        self.port = self.remotes[0].port
        self.tls_port = self.remotes[0].tls_port
        self.workers = sum(h.workers for h in self.remotes)
        self.problems = []
        self.users = []
        self.allowed = ALLOWED
        self.checked = 0
        self.kids = {}
        self._reported = set()

    @property
    def proc(self):
        return self.home.proc

    def hosts(self):
        return [self.home] + self.remotes

    def client_port(self, direct_tls, turn):
        h = self.remotes[turn % len(self.remotes)]
        return h.tls_port if direct_tls else h.port

    def start(self):
        with open(self.home.conf, "rb") as f:
            f.seek(self._conf_written)
            added = f.read()
        if added:
            for h in self.remotes:
                with open(h.conf, "ab") as f:
                    f.write(added)
            self._conf_written += len(added)
        self.home.start()
        RUNNING.remove(self.home)
        for h in self.remotes:
            # nothing copied from the router's host: its c2s link hands
            # each worker the keys they share (LINK_SECRETS)
            h.start()
            RUNNING.remove(h)
        RUNNING.append(self)
        self.kids = self.kid_kinds()

    def wait_ready(self, timeout=READY_TIMEOUT):
        for h in self.hosts():
            h.wait_ready(timeout)
        self.kids = self.kid_kinds()

    def stop(self):
        """The c2s hosts first (their workers would only reconnect), then
        the router's; the deaths and sanitizer reports of all three are
        in the one log."""
        if self.home.proc is None:
            return
        for h in self.remotes + [self.home]:
            if h.proc is not None:      # not started: the first failed
                h.halt()
            for p in h.problems:
                self.problems.append("%s: %s" % (h.name, p))
            h.problems = []
        self.finish()

    def children(self):
        return [p for h in self.hosts() for p in h.children()]

    def c2s_pids(self):
        return [p for h in self.remotes for p in Server.c2s_pids(h)]

    def listening(self, pid):
        return any(Server.listening(h, pid) for h in self.remotes)

    def linked_workers(self):
        return self.workers + self.home.workers

    def router_links(self):
        """The links of the c2s hosts' workers (TCP, on link_port) and
        the router host's other ones, less its own c2s worker: as for one
        host, workers + 1 when all are up."""
        mine = proc_socket_inodes(self.router_pid() or 0)
        tcp = sum(1 for lp, rp, st, ino in tcp_table()
                  if lp == self.link_port and st == TCP_ESTABLISHED and
                  ino in mine)
        return Server.router_links(self) - 1 + tcp

    def established(self, pid):
        return set().union(*(Server.established(h, pid)
                             for h in self.remotes))


class User:
    def __init__(self, jid, password):
        self.jid = jid
        self.password = password
        self.local = jid.split("@")[0]

    def __repr__(self):
        return "User(%s)" % self.jid


RUNNING = []        # servers alive now
STARTED = []        # (server, start time) over the whole run
ALLOWED = ()        # kinds of child the running test kills on purpose


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "kills(*kinds): the test kills or crashes Parley "
        "children of these kinds (c2s, router, s2s) on purpose; deaths of "
        "other kinds still fail it")
    config.addinivalue_line(
        "markers", "one_host(reason): skipped with PARLEY_E2E_HOSTS=3, "
        "where the test cannot mean what it checks")


@pytest.fixture(autouse=True)
def no_crashes(request):
    """Fails the test (at teardown) when a Parley child died during it:
    a crash after the last assertion is restarted by parleyd and would
    go unnoticed."""
    global ALLOWED
    m = request.node.get_closest_marker("kills")
    ALLOWED = tuple(m.args) if m else ()
    before = list(RUNNING)
    started = len(STARTED)
    between = []
    for s in before:
        between += ["%s: %s" % (s.name, p) for p in s.check_deaths()]
        s.allowed = ALLOWED
    if between:
        pytest.fail("Parley processes died after the previous test:\n"
                    + "\n".join(between), pytrace=False)
    yield
    problems = []
    for s in before + [s for s in STARTED[started:] if s not in before]:
        problems += ["%s: %s" % (s.name, p) for p in s.check_deaths()]
        s.allowed = ()
    ALLOWED = ()
    if problems:
        pytest.fail("Parley processes died during the test:\n"
                    + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def cert(tmp_path_factory):
    """One self-signed certificate for DOMAIN: (cert path, key path)."""
    d = tmp_path_factory.mktemp("cert")
    crt, key = str(d / "localhost.crt"), str(d / "localhost.key")
    script = os.path.join(ROOT, "scripts", "mkcert.sh")
    if os.access(script, os.X_OK):
        subprocess.run([script, DOMAIN, crt, key], check=True,
                       capture_output=True, timeout=60)
    else:
        tmpl = d / "template"
        tmpl.write_text('cn = "%s"\ndns_name = "%s"\nexpiration_days = 30\n'
                        "tls_www_server\nsigning_key\n" % (DOMAIN, DOMAIN))
        subprocess.run(["certtool", "--generate-privkey", "--key-type=ecdsa",
                        "--outfile", key], check=True, capture_output=True,
                       timeout=60)
        subprocess.run(["certtool", "--generate-self-signed",
                        "--load-privkey", key, "--template", str(tmpl),
                        "--outfile", crt], check=True, capture_output=True,
                       timeout=60)
    return crt, key


def _check_binaries():
    for b in ("parleyd", "parley-router", "parley-c2s", "parley-s2s",
              "parleyctl"):
        p = os.path.join(BIN, b)
        if not os.access(p, os.X_OK):
            pytest.fail("%s is missing (build it, or set PARLEY_BIN)" % p,
                        pytrace=False)


class ServerFactory:
    def __init__(self, tmp_path_factory, cert):
        self.tmp = tmp_path_factory
        self.cert = cert
        self.servers = []

    def __call__(self, users=(), start=True, hosts=(), host_options=None,
                 **overrides):
        """A new server. overrides: config options with '_' for '-'.
        users: User objects created with parleyctl before the start (so
        the offline path of parleyctl is exercised too). host_options:
        {host name: {option: value}} written into that host's block."""
        _check_binaries()
        opts = {k.replace("_", "-"): str(v) for k, v in overrides.items()}
        # a test that links hosts itself, or says which processes run,
        # gets the plain server it asks for
        kind = HostsServer if HOSTS > 1 and not any(
            k.startswith("link-") or k in ("router-address", "processes")
            for k in opts) else Server
        srv = kind(self.tmp.mktemp("parley"), self.cert, opts,
                     name="srv%d" % (len(STARTED) + 1), extra_hosts=hosts,
                     host_options=host_options)
        self.servers.append(srv)
        STARTED.append(srv)
        for u in users:
            srv.adduser(u.jid, u.password)
        if start:
            srv.start()
        return srv

    def close(self):
        problems = []
        for srv in self.servers:
            srv.stop()
            problems += ["%s: %s" % (srv.name, p) for p in srv.problems]
        if problems:
            pytest.fail("server shutdown problems:\n" + "\n".join(problems),
                        pytrace=False)


@pytest.fixture
def make_server(tmp_path_factory, cert):
    """Factory for servers private to one test (config overrides)."""
    f = ServerFactory(tmp_path_factory, cert)
    yield f
    f.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, cert):
    """The default server, shared by the tests of one module. Two accounts
    exist from before the start (created with the server stopped)."""
    f = ServerFactory(tmp_path_factory, cert)
    pre = [User("pre%s@%s" % (uniq("a"), DOMAIN), "pre-secret-a"),
           User("pre%s@%s" % (uniq("b"), DOMAIN), "pre-secret-b")]
    srv = f(users=pre)
    srv.preloaded = pre
    yield srv
    f.close()


# ---------------------------------------------------------------------------
# server log on failure

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    item._parley_since = {id(s): s.log_size() for s in RUNNING}
    item._parley_started = len(STARTED)
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    since = getattr(item, "_parley_since", {})
    start = getattr(item, "_parley_started", len(STARTED))
    shown = set()
    for srv in list(RUNNING) + STARTED[start:]:
        if id(srv) in shown or (id(srv) not in since and
                                srv not in STARTED[start:]):
            continue
        shown.add(id(srv))
        rep.sections.append((
            "%s log (%s, %s)" % (srv.name, srv.log_path, rep.when),
            srv.log_tail(since.get(id(srv), 0))))


# ---------------------------------------------------------------------------
# asyncio: every async test runs in a fresh loop, under a deadline

@pytest.fixture
def event_loop():
    yield from new_event_loop()


def pytest_collection_modifyitems(items):
    add_event_loop(items)
    if HOSTS > 1:
        for item in items:
            m = item.get_closest_marker("one_host")
            if m:
                item.add_marker(pytest.mark.skip(
                    reason="PARLEY_E2E_HOSTS: " + m.args[0]))


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    return run_async_test(pyfuncitem, TEST_TIMEOUT)


# ---------------------------------------------------------------------------
# slixmpp clients (tests/lib/xmpptest.py)

class LoginFailed(AssertionError):
    pass


class Client(xmpptest.Client):
    login_timeout = LOGIN_TIMEOUT
    stanza_timeout = STANZA_TIMEOUT

    def __init__(self, jid, password, host_addr, mechs=None, **kw):
        # 'localhost' as the TLS server name whatever the JID's domain
        super().__init__(jid, password, host_addr, mechs=mechs,
                         server_name=DOMAIN, **kw)


class Clients(ClientsBase):
    """Connects clients to a server and disconnects them all at the end."""

    def __init__(self):
        super().__init__()
        self.turns = {}     # id(server) -> clients connected to it

    async def connect(self, server, user_or_jid, password=None, *,
                      resource=None, mechs=None, direct_tls=False,
                      expect="session", timeout=LOGIN_TIMEOUT,
                      plugins=None):
        """Returns a Client whose state is `expect` ('session',
        'auth-failed', 'stream-error', 'disconnected') or fails the test."""
        if isinstance(user_or_jid, User):
            jid, password = user_or_jid.jid, user_or_jid.password
        else:
            jid = user_or_jid
        if resource:
            jid = "%s/%s" % (jid.split("/")[0], resource)
        turn = self.turns.get(id(server), 0)
        self.turns[id(server)] = turn + 1
        port = server.client_port(direct_tls, turn)
        kw = {"plugins": plugins} if plugins is not None else {}
        c = Client(jid, password, ("127.0.0.1", port), mechs=mechs, **kw)
        self.all.append(c)
        c.start(direct_tls=direct_tls)
        state = await c.wait_state(timeout)
        if state != expect:
            raise LoginFailed(
                "login of %s (mechs=%s, direct_tls=%s): expected %s, got %s "
                "(auth failures %s, stream errors %s)"
                % (jid, mechs, direct_tls, expect, state, c.auth_failures,
                   c.stream_errors))
        return c

    async def login(self, server, user, **kw):
        return await self.connect(server, user, **kw)


@pytest.fixture
def clients(event_loop):
    cl = Clients()
    yield cl
    event_loop.run_until_complete(asyncio.wait_for(cl.close(), 15))


async def session_ended(server, full_jid):
    """Until the router has ended the session (its log says so): a client
    that saw its stream close cannot tell when the router knows."""
    line = "router: session %s ended" % full_jid
    await wait_for(lambda: line in server.log_text(), STANZA_TIMEOUT,
                   "the router ended %s" % full_jid, every=0.02)


async def assert_service_works(server, clients):
    """Two fresh accounts can log in and exchange messages both ways."""
    u1, u2 = server.new_user("w"), server.new_user("w")
    c1 = await clients.login(server, u1, resource="w1")
    c2 = await clients.login(server, u2, resource="w2")
    await exchange(c1, c2)
    await exchange(c2, c1)


# ---------------------------------------------------------------------------
# raw streams, where the exact bytes matter

STREAM_ERR_RE = re.compile(
    rb"<(?:[\w.-]+:)?error\b[^>]*>\s*<([\w-]+)\b[^>]*xmlns\s*=\s*"
    rb"[\"']urn:ietf:params:xml:ns:xmpp-streams[\"']", re.S)


class Raw:
    """A client stream driven byte by byte (asyncio streams)."""

    def __init__(self, reader, writer):
        self.r = reader
        self.w = writer
        self.buf = b""       # everything received (since the last mark)
        self.eof = False
        self.reset_by_peer = False

    @classmethod
    async def open(cls, port, tls=False, timeout=5, sni=DOMAIN):
        ctx = None
        if tls:
            ctx = client_tls_context()
        r, w = await asyncio.wait_for(asyncio.open_connection(
            "127.0.0.1", port, ssl=ctx,
            server_hostname=sni if tls else None), timeout)
        return cls(r, w)

    async def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        try:
            self.w.write(data)
            await asyncio.wait_for(self.w.drain(), 10)
        except (ConnectionError, ssl.SSLError, OSError):
            self.reset_by_peer = True

    async def _read_some(self, timeout):
        try:
            chunk = await asyncio.wait_for(self.r.read(65536), timeout)
        except asyncio.TimeoutError:
            return None
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError,
                OSError):
            self.reset_by_peer = True
            self.eof = True
            return b""
        if not chunk:
            self.eof = True
        self.buf += chunk
        return chunk

    async def read_until(self, pattern, timeout=STANZA_TIMEOUT):
        """Reads until the regex (bytes) matches the buffer; returns the
        match or fails the test."""
        rx = re.compile(pattern, re.S) if isinstance(pattern, bytes) \
            else pattern
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0 or self.eof:
                raise AssertionError(
                    "waited for %r%s; received %r" % (
                        rx.pattern, " (connection closed)" if self.eof
                        else " for %ss" % timeout, self.buf[-3000:]))
            await self._read_some(left)

    async def read_until_close(self, timeout=STANZA_TIMEOUT):
        """Reads until the server closes; fails if it does not."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    "server did not close the connection within %ss; "
                    "received %r" % (timeout, self.buf[-3000:]))
            await self._read_some(left)
        return self.buf

    async def stream_header(self):
        await self.send(HEADER)
        return await self.read_until(rb"</stream:features>")

    async def starttls(self):
        """Header, <starttls/>, <proceed/>, handshake; then a new header
        and its features. Returns the features text."""
        await self.stream_header()
        await self.send("<starttls xmlns='%s'/>" % NS_TLS)
        await self.read_until(rb"<proceed\b[^>]*/>")
        await asyncio.wait_for(
            self.w.start_tls(client_tls_context(), server_hostname=DOMAIN),
            10)
        self.buf = b""
        await self.send(HEADER)
        m = await self.read_until(rb"<(?:stream:)?features\b.*?"
                                  rb"</(?:stream:)?features>")
        return m.group(0)

    def mark(self):
        self.buf = b""

    def close(self):
        try:
            self.w.close()
        except Exception:
            pass


def client_tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def stream_errors_in(data):
    """Conditions of the stream errors in data."""
    return [m.group(1).decode() for m in STREAM_ERR_RE.finditer(data)]


async def expect_stream_error(raw, condition, timeout=STANZA_TIMEOUT):
    """The server sends <stream:error><condition/> and closes. condition
    may be a tuple of acceptable ones."""
    allowed = condition if isinstance(condition, tuple) else (condition,)
    try:
        await raw.read_until(STREAM_ERR_RE, timeout)
    except AssertionError as e:
        raise AssertionError("expected stream error <%s/>: %s%s" % (
            condition, e, " (connection reset by the server)"
            if raw.reset_by_peer else ""))
    data = await raw.read_until_close(timeout)
    got = stream_errors_in(data)
    assert got and got[0] in allowed, (
        "expected stream error <%s/>, got %s in %r" % (condition, got,
                                                      data[-2000:]))
    # RFC 6120 4.9.1.1: the server's stream header precedes the error
    assert re.search(rb"<stream:stream\b", data), (
        "no stream header before the error: %r" % data[-2000:])
    return data


def parse_features(text):
    """The <stream:features> element text parsed with ElementTree."""
    if isinstance(text, bytes):
        text = text.decode()
    wrapped = ("<root xmlns='jabber:client' xmlns:stream='%s'>%s</root>"
               % (NS_STREAM, text))
    root = ET.fromstring(wrapped)
    feats = root.find("{%s}features" % NS_STREAM)
    assert feats is not None, "no stream:features in %r" % text
    return feats


def sasl_plain(user, password, authzid=""):
    import base64
    return base64.b64encode(("%s\0%s\0%s" % (authzid, user, password))
                            .encode()).decode()


async def disco_service(c, service):
    """A service of our domain as client c discovers it (XEP-0030):
    asserts the domain's items list it; returns its disco#info result,
    identities [(category, type)] and feature set."""
    items = "http://jabber.org/protocol/disco#items"
    r = await c.iq("<query xmlns='%s'/>" % items, to=DOMAIN)
    jids = [i.get("jid") for i in r.xml.iter("{%s}item" % items)]
    assert service in jids, str(r)
    r = await c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=service)
    ids = [(i.get("category"), i.get("type"))
           for i in r.xml.iter("{%s}identity" % NS_DISCO_INFO)]
    feats = {f.get("var") for f in r.xml.iter("{%s}feature" % NS_DISCO_INFO)}
    return r, ids, feats
