"""
A third-party client: xmpp.js (@xmpp/client, pinned in tests/node) logs
in with XEP-0388 SASL2 and Bind2, asks for a FAST token, and logs in
again from the same device with the token and a wrong password, which
only FAST (XEP-0484) lets through. Node and the package come from
scripts/deps.sh and `npm ci` in tests/node (run here when missing).
"""
import json
import os
import shutil
import subprocess

import pytest

from conftest import DOMAIN

NODE_DIR = os.path.join(os.path.dirname(__file__), "..", "node")


@pytest.fixture(scope="module")
def xmppjs():
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed (scripts/deps.sh)")
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@xmpp",
                                      "client")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"],
                       cwd=NODE_DIR, check=True, timeout=600)
    return node


def node_run(node, script, server, user, *extra):
    """Runs a script of tests/node; returns the JSON line it prints."""
    env = dict(os.environ, NODE_TLS_REJECT_UNAUTHORIZED="0",
               NODE_NO_WARNINGS="1")
    p = subprocess.run(
        [node, script, str(server.port), DOMAIN, user.jid.split("@")[0],
         user.password] + list(extra),
        cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=60)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    assert lines, (p.stdout, p.stderr)
    return json.loads(lines[-1])


def test_xmppjs_sasl2_bind2_fast(server, xmppjs):
    u = server.new_user("js")
    r = node_run(xmppjs, "sasl2_fast.mjs", server, u)
    assert "error" not in r, r
    first, second = r["first"], r["second"]
    # SASL2 with a password mechanism, bound with Bind2 (the tag "node")
    assert first["mech"] in ("SCRAM-SHA-1", "PLAIN"), r
    assert first["jid"].startswith(u.jid + "/node."), r
    assert first["pong"] and r["token"], r
    # stream management enabled inline (XEP-0198 in Bind2)
    assert first["sm"] and second["sm"], r
    # FAST: the token, not the (wrong) password; the same device resource
    assert second["mech"] == "HT-SHA-256-NONE", r
    assert second["jid"] == first["jid"], r
    assert second["pong"], r
    log = server.log_text()
    assert "mech=HT-SHA-256-NONE sasl2" in log, log[-3000:]
    assert "sm failed" not in log, log[-3000:]


def test_scram_plus_tls_exporter(server, xmppjs):
    """RFC 9266 tls-exporter, which Python's ssl module cannot export."""
    u = server.new_user("js")
    r = node_run(xmppjs, "scram_exporter.mjs", server, u)
    assert "error" not in r, r
    if r["version"] != "TLSv1.3":
        pytest.skip("TLS %s: no tls-exporter" % r["version"])
    assert r["exporter"], r
    assert r["outcome"] == "success" and r["verified"], r
    r = node_run(xmppjs, "scram_exporter.mjs", server, u, "bad")
    assert r["outcome"] == "failure", r
    assert "not-authorized" in r["element"], r
    assert "channel-binding data does not match" in r["element"], r
