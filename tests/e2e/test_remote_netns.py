"""Remote links across hosts: network namespaces play three machines
(needs root and iproute2; skipped otherwise). The router's host R runs the
router and one c2s; hosts B and C run only c2s workers (router-address)
that reach R over their own "back" veth pair, TLS-PSK on top. Clients
reach every host's "front" address through a bridge in our namespace.

    test process -- bridge 10.231.0.254/24 -- R 10.231.0.1, B .2, C .3
    R 10.232.1.1/30 == B 10.232.1.2      R 10.232.2.1/30 == C 10.232.2.2

The link cut takes B's back interface down (its clients stay connected):
the router notices by keepalive, ends B's sessions; B notices, keeps its
clients, reconnects with back-off once the interface is up, re-announces
them, and messages flow again.

Federation with the s2s on a host of its own: R runs the router and a
c2s for a.test (processes router,c2s), C runs only a.test's s2s
(processes s2s, linked over its back pair), and B runs another server,
b.test, whole; the two federate over the front bridge. Cutting C's back
interface leaves a.test without federation (bounced at once) while C
holds what b.test sends, and delivers it once its link is back."""
import asyncio
import os
import secrets
import shutil
import subprocess
import time

import pytest

from conftest import (BIN, DOMAIN, Client, exchange, uniq, wait_for)
from test_remote_links import across_three
from test_s2s import mkcert
from xmpptest import stop_process

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="network namespaces need root and iproute2")

TAG = "%d" % (os.getpid() % 100000)
NS = {h: "prl%s%s" % (h, TAG) for h in ("r", "b", "c")}
FRONT = {"r": "10.231.0.1", "b": "10.231.0.2", "c": "10.231.0.3"}
BACK = {"b": ("10.232.1.1", "10.232.1.2"), "c": ("10.232.2.1", "10.232.2.2")}
BRIDGE = "prlbr" + TAG
C2S_PORT, LINK_PORT = 5222, 5399


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True, timeout=20)


def ns(host, *argv):
    sh("ip", "netns", "exec", NS[host], *argv)


def lab_down():
    # the front pairs' ends in our namespace first, and synchronously: a
    # namespace's deletion frees its devices later, and a lab set up
    # right after (the next test) would find the old names taken
    for h, n in NS.items():
        subprocess.run(["ip", "link", "del", "f%s%s" % (h, TAG)],
                       capture_output=True)
        subprocess.run(["ip", "netns", "del", n], capture_output=True)
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)


def lab_up():
    lab_down()
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", "10.231.0.254/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    for h, n in NS.items():
        sh("ip", "netns", "add", n)
        ns(h, "ip", "link", "set", "lo", "up")
        sh("ip", "link", "add", "f%s%s" % (h, TAG), "type", "veth", "peer",
           "name", "front", "netns", n)
        sh("ip", "link", "set", "f%s%s" % (h, TAG), "master", BRIDGE, "up")
        ns(h, "ip", "addr", "add", FRONT[h] + "/24", "dev", "front")
        ns(h, "ip", "link", "set", "front", "up")
    for h, (ra, ha) in BACK.items():
        sh("ip", "link", "add", "back" + h, "netns", NS["r"], "type", "veth",
           "peer", "name", "back", "netns", NS[h])
        ns("r", "ip", "addr", "add", ra + "/30", "dev", "back" + h)
        ns("r", "ip", "link", "set", "back" + h, "up")
        ns(h, "ip", "addr", "add", ha + "/30", "dev", "back")
        ns(h, "ip", "link", "set", "back", "up")


class Host:
    """One parleyd in its namespace, with its own directories."""

    def __init__(self, base, host, cert, opts, domain=DOMAIN):
        self.host = host
        self.dir = str(base)
        self.conf = os.path.join(self.dir, "parley.conf")
        self.log_path = os.path.join(self.dir, "parleyd.log")
        o = {"workers": "1", "datadir": os.path.join(self.dir, "data"),
             "rundir": os.path.join(self.dir, "run"), "log-level": "debug",
             "lmdb-mapsize": "64M",
             "c2s-listen": "%s:%d" % (FRONT[host], C2S_PORT),
             "c2s-tls-listen": "%s:%d" % (FRONT[host], C2S_PORT + 1),
             "auth-fail-max": "0", "c2s-max-per-address": "0",
             "c2s-stanza-rate": "0"}
        o.update(opts)
        with open(self.conf, "w") as f:
            for k, v in o.items():
                if v is not None:       # None: the option left out
                    f.write("%s %s\n" % (k, v))
            f.write("host %s {\n\tcertificate %s\n\tkey %s\n}\n"
                    % (domain, cert[0], cert[1]))
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS[host],
             os.path.join(BIN, "parleyd"), "-c", self.conf],
            stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)
        self.port = C2S_PORT

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        stop_process(self.proc, 15)
        self.log.close()
        return self.proc.returncode


@pytest.fixture
def hosts(tmp_path_factory, cert):
    keyfile = str(tmp_path_factory.mktemp("keys") / "links.psk")
    with open(keyfile, "w") as f:
        for h in ("b", "c"):
            f.write("host%s:%s\n" % (h, secrets.token_hex(32)))
    os.chmod(keyfile, 0o600)
    out = {}
    try:
        lab_up()
        out["r"] = Host(tmp_path_factory.mktemp("hr"), "r", cert, {
            "link-listen": "*:%d" % LINK_PORT, "link-psk-file": keyfile})
        deadline = time.monotonic() + 15
        while "c2s[1] connected" not in out["r"].text():
            assert time.monotonic() < deadline, out["r"].text()[-3000:]
            time.sleep(0.1)
        for h, inst in (("b", 10), ("c", 20)):
            out[h] = Host(tmp_path_factory.mktemp("h" + h), h, cert, {
                "router-address": "%s:%d" % (BACK[h][0], LINK_PORT),
                "link-psk-file": keyfile, "link-psk-identity": "host" + h,
                "instance-base": str(inst)})
        while not all("c2s[%d] connected" % i in out["r"].text()
                      for i in (10, 20)):
            assert time.monotonic() < deadline, out["r"].text()[-3000:]
            time.sleep(0.1)
        yield out
    finally:
        lab_stop(out)


def lab_stop(out):
    """Every host's parleyd stopped: each exits 0 with no child that died
    on the way; then the namespaces go."""
    bad = []
    for h, srv in out.items():
        if srv.stop() != 0:
            bad.append("%s exited %s" % (h, srv.proc.returncode))
        if "ERROR: AddressSanitizer" in srv.text() or \
                "restarting" in srv.text():
            bad.append("%s: a child died:\n%s" % (h, srv.text()[-3000:]))
    lab_down()
    assert not bad, bad


def wait_log(srv, line, since=0, timeout=15):
    deadline = time.monotonic() + timeout
    while line not in srv.text()[since:]:
        assert time.monotonic() < deadline, (line, srv.text()[-3000:])
        time.sleep(0.1)


@pytest.fixture
def fed(tmp_path_factory):
    """a.test: router and c2s on R, its s2s alone on C; b.test whole on
    B. Each finds the other by s2s-route at the front addresses."""
    ca, cb = mkcert(tmp_path_factory, "a.test"), mkcert(tmp_path_factory,
                                                       "b.test")
    keyfile = str(tmp_path_factory.mktemp("keys") / "links.psk")
    with open(keyfile, "w") as f:
        f.write("s2s-c:%s\n" % secrets.token_hex(32))
    os.chmod(keyfile, 0o600)
    fed = {"s2s-connect-timeout": "5"}
    out = {}
    try:
        lab_up()
        out["r"] = Host(tmp_path_factory.mktemp("fr"), "r", ca, dict(
            fed, processes="router,c2s", **{
                "link-listen": "*:%d" % LINK_PORT, "link-psk-file": keyfile}),
            domain="a.test")
        wait_log(out["r"], "c2s[1] connected")
        out["c"] = Host(tmp_path_factory.mktemp("fc"), "c", ca, dict(
            fed, processes="s2s", workers=None, **{
                "router-address": "%s:%d" % (BACK["c"][0], LINK_PORT),
                "link-psk-file": keyfile, "link-psk-identity": "s2s-c",
                "s2s-listen": "%s:5269" % FRONT["c"],
                "s2s-route": "b.test=%s:5269" % FRONT["b"],
                "s2s-dialback-secret": uniq("s")}), domain="a.test")
        wait_log(out["r"], "s2s connected")
        out["b"] = Host(tmp_path_factory.mktemp("fb"), "b", cb, dict(
            fed, **{"s2s-listen": "%s:5269" % FRONT["b"],
                    "s2s-route": "a.test=%s:5269" % FRONT["c"],
                    "s2s-dialback-secret": uniq("s")}), domain="b.test")
        wait_log(out["b"], "ready: every process is up")
        wait_log(out["c"], "ready: every process is up")
        yield out
    finally:
        lab_stop(out)


def adduser(r, domain=DOMAIN):
    jid = "%s@%s" % (uniq("n"), domain)
    pw = "pw-" + uniq("p")
    subprocess.run(["ip", "netns", "exec", NS[r.host],
                    os.path.join(BIN, "parleyctl"), "-c", r.conf, "adduser",
                    jid], input=pw + "\n", text=True, check=True,
                   capture_output=True, timeout=20)
    return jid, pw


async def login(all_clients, host, jid, pw, resource):
    c = Client("%s/%s" % (jid, resource), pw, (FRONT[host], C2S_PORT))
    all_clients.append(c)
    c.start()
    assert await c.wait_state(15) == "session"
    return c


@pytest.fixture
def conns(event_loop):
    cl = []
    yield cl
    for c in cl:
        c.cancel_connection_attempt()
        if c.transport is not None:
            c.disconnect()


async def test_across_hosts_and_link_cut(hosts, conns):
    r = hosts["r"]
    users = [adduser(r) for _ in range(3)]
    a = await login(conns, "r", *users[0], "a")
    b = await login(conns, "b", *users[1], "b")
    c = await login(conns, "c", *users[2], "c")
    await across_three(a, b, c)

    # cut B's link; both ends notice (keepalive), B's clients stay
    since = len(r.text())
    ns("b", "ip", "link", "set", "back", "down")
    await wait_for(lambda: "c2s[10] link closed" in r.text()[since:], 30,
                   "the router notices the cut")
    await wait_for(lambda: "router link lost" in hosts["b"].text(), 30,
                   "host B notices the cut")
    # the router ended B's session as if it had gone unavailable
    assert "session %s ended" % b.boundjid.full in r.text()[since:]
    assert not b.closed.done()
    ns("b", "ip", "link", "set", "back", "up")
    await wait_for(lambda: "c2s[10] connected" in r.text()[since:], 30,
                   "host B back")
    await asyncio.sleep(1)
    await exchange(b, a)
    await exchange(a, b)
    await exchange(c, b)


async def far(x, y):
    """A chat message from client x reaches client y of the other server."""
    body = uniq("far")
    x.send_raw("<message to='%s' type='chat'><body>%s</body></message>"
               % (y.boundjid.full, body))
    m = await y.next_message(what="a message across servers", timeout=15)
    assert m["body"] == body and m["from"].full == x.boundjid.full, str(m)


async def test_federation_through_s2s_host_and_link_cut(fed, conns):
    r, c, b = fed["r"], fed["c"], fed["b"]
    ua, ub = adduser(r, "a.test"), adduser(b, "b.test")
    xa = await login(conns, "r", *ua, "a")
    xb = await login(conns, "b", *ub, "b")
    await far(xa, xb)
    await far(xb, xa)
    # host C authenticated a.test to b.test; R runs no s2s
    assert "authenticated for" in c.text(), c.text()[-3000:]
    assert "processes=router,c2s workers=" in r.text()
    assert "processes=s2s, workers=0" in c.text()

    # cut C's link: both ends notice; a.test bounces at once, and what
    # b.test sends meanwhile waits on host C
    since, csince = len(r.text()), len(c.text())
    ns("c", "ip", "link", "set", "back", "down")
    await wait_for(lambda: "s2s link closed" in r.text()[since:], 30,
                   "the router notices the cut")
    await wait_for(lambda: "router link lost" in c.text()[csince:], 30,
                   "host C notices the cut")
    xa.send_raw("<message to='%s' type='chat' id='cut1'><body>x</body>"
                "</message>" % xb.boundjid.full)
    e = await xa.next_message(what="the bounce while cut", timeout=10)
    assert e["type"] == "error" and e["id"] == "cut1", str(e)
    assert e["error"]["condition"] == "service-unavailable", str(e)
    held = uniq("held")
    xb.send_raw("<message to='%s' type='chat'><body>%s</body></message>"
                % (xa.boundjid.full, held))
    await asyncio.sleep(1)
    ns("c", "ip", "link", "set", "back", "up")
    await wait_for(lambda: "s2s connected" in r.text()[since:], 30,
                   "host C back")
    m = await xa.next_message(what="the message held on host C",
                              timeout=15)
    assert m["body"] == held, str(m)
    await far(xa, xb)
    await far(xb, xa)
    assert not xa.closed.done() and not xb.closed.done()
