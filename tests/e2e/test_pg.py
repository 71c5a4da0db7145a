"""
The PostgreSQL backend's bad days (storage/pg*.c; docs/operator.md,
"Storage on PostgreSQL"): a conninfo that leads nowhere, a database newer
than the binary, the server going away under a running router and coming
back, and moving an LMDB server's data over with parleyctl export and
import. Runs with PARLEY_TEST_PG (make pg), skips without.
"""

import os
import re
import signal
import subprocess
import time

import pytest

from conftest import BIN, SLOW
from imhelp import online, roster_get, roster_set
import pgserver

pytestmark = pytest.mark.skipif(not os.environ.get("PARLEY_TEST_PG"),
                                reason="PARLEY_TEST_PG is not set "
                                "(make pg sets it)")


def log_wait(path, text, timeout=15 * SLOW):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                if text in f.read():
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    return False


def start_expecting_refusal(srv, text):
    """parleyd on srv's configuration: the router must refuse to start,
    logging text; then parleyd is stopped (by its PID)."""
    with open(srv.log_path, "ab") as log:
        p = subprocess.Popen([os.path.join(BIN, "parleyd"), "-c", srv.conf],
                             stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT)
    try:
        assert log_wait(srv.log_path, text), open(srv.log_path).read()
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20 * SLOW)


# the router exits (parleyd restarts it); s2s and c2s may still be starting
@pytest.mark.kills("router", "s2s", "c2s")
def test_bad_conninfo_names_the_option(make_server):
    srv = make_server(start=False, storage="postgresql",
                      postgresql='"host=/nonexistent/pg port=1 dbname=x"')
    start_expecting_refusal(srv, "router: fatal: storage postgresql (the "
                            "postgresql option in %s)" % srv.conf)
    cp = srv.ctl("list", check=False)
    assert cp.returncode != 0
    assert "the postgresql option in" in cp.stderr, cp.stderr
    assert "/nonexistent/pg" in cp.stderr, cp.stderr


@pytest.mark.kills("router", "s2s", "c2s")
def test_newer_schema_is_refused(make_server):
    srv = make_server()
    srv.new_user("n")
    srv.stop()
    conninfo = srv.opts["postgresql"].strip('"')
    pgserver.psql(conninfo, "UPDATE parley_schema SET version = 9999")
    start_expecting_refusal(srv, "newer than this Parley knows")
    cp = srv.ctl("list", check=False)
    assert cp.returncode != 0 and "version 9999" in cp.stderr, cp.stderr


@pytest.fixture
def own_pg():
    """A PostgreSQL server of the test's own, to stop and start."""
    pg = pgserver.PgServer()
    pg.start()
    yield pg
    pg.remove()


async def test_server_down_and_back(make_server, clients, own_pg):
    """PostgreSQL stops under a running router: a write fails with an
    error stanza and nothing crashes; once it is back the router
    reconnects by itself and the same write succeeds."""
    srv = make_server(storage="postgresql", postgresql='"%s"'
                      % pgserver.fresh_db(own_pg.conninfo))
    u = srv.new_user("d")
    v = srv.new_user("e")
    c = await online(srv, clients, u)
    own_pg.stop()
    r = await c.iq("<vCard xmlns='vcard-temp'><FN>Down</FN></vCard>",
                   type_="set")
    assert r["type"] == "error", r
    assert "internal-server-error" in str(r), r
    assert log_wait(srv.log_path, "connection to PostgreSQL lost")
    # a router under load while the server is down: each store call
    # tries to reconnect, the log says so once per 10 s (pg.c's
    # PG_WARN_EVERY), not once per call
    for i in range(40):
        r = await c.iq("<vCard xmlns='vcard-temp'><FN>D%d</FN></vCard>"
                       % i, type_="set")
        assert r["type"] == "error", r
    with open(srv.log_path, errors="replace") as f:
        down = [ln for ln in f if "PostgreSQL lost" in ln
                or ": reconnect" in ln]
    assert 2 <= len(down) <= 4, down
    own_pg.start()
    r = await c.iq("<vCard xmlns='vcard-temp'><FN>Back</FN></vCard>",
                   type_="set")
    assert r["type"] == "result", r
    r = await roster_set(c, v.jid, name="Vee")
    assert r["type"] == "result", r
    items, _, _ = await roster_get(c)
    assert v.jid in items, items
    r = await c.iq("<vCard xmlns='vcard-temp'/>")
    assert "Back" in str(r), r
    # how many attempts failed is said once the server is back
    assert log_wait(srv.log_path, "attempts failed)")
    with open(srv.log_path, errors="replace") as f:
        m = re.search(r"reconnected to PostgreSQL \((\d+) attempts",
                      f.read())
    assert m and int(m.group(1)) >= 40, m


async def test_lmdb_to_postgresql(make_server, clients, tmp_path):
    """docs/operator.md's move: export from LMDB, import into PostgreSQL;
    the account logs in with its password and finds its data."""
    old = make_server(storage="lmdb")
    a = old.new_user("ml")
    b = old.new_user("mm")
    ca = await online(old, clients, a)
    r = await roster_set(ca, b.jid, name="Bee", groups=["Friends"])
    assert r["type"] == "result", r
    r = await ca.iq("<vCard xmlns='vcard-temp'><FN>Moved</FN></vCard>",
                    type_="set")
    assert r["type"] == "result", r
    r = await ca.iq("<block xmlns='urn:xmpp:blocking'><item "
                    "jid='spam@example.net'/></block>", type_="set")
    assert r["type"] == "result", r
    ca.disconnect()
    old.stop()
    path = os.path.join(str(tmp_path), "move.xml")
    cp = old.ctl("export", path)
    assert "exported 2 accounts" in cp.stderr, cp.stderr

    new = make_server(start=False)
    assert new.opts.get("storage") == "postgresql"
    cp = new.ctl("import", path)
    assert "imported 2 accounts" in cp.stdout, cp.stdout + cp.stderr
    new.start()
    c = await online(new, clients, a, presence=None)
    items, _, _ = await roster_get(c)
    assert items[b.jid].name == "Bee", items
    r = await c.iq("<vCard xmlns='vcard-temp'/>")
    assert "Moved" in str(r), r
    r = await c.iq("<blocklist xmlns='urn:xmpp:blocking'/>")
    assert "spam@example.net" in str(r), r
    # on PostgreSQL an export may run beside the router; an import not
    again = os.path.join(str(tmp_path), "again.xml")
    cp = new.ctl("export", again)
    assert "exported 2 accounts" in cp.stderr, cp.stderr
    cp = new.ctl("import", again, check=False)
    assert cp.returncode != 0 and "stop it first" in cp.stderr, cp.stderr
