#!/usr/bin/python3
"""
Benchmark accounts and rosters for the peer servers, written straight into
each one's storage with the server stopped (the fastest route each allows;
their command line tools take a second or more per account):

    provision.py prosody  DATA_PATH  DOMAIN PASSWORD ITER SPEC...
    provision.py ejabberd SQLITE_DB  DOMAIN PASSWORD ITER SPEC...
    provision.py jabberd2 SQLITE_DB  DOMAIN PASSWORD ITER SPEC...

SPEC is PREFIX:COUNT[:CLIQUE]: accounts PREFIX0..PREFIX<COUNT-1>, and with
CLIQUE, rosters in groups of CLIQUE accounts that all list each other with
subscription "both". As for Parley, the SCRAM-SHA-1 credentials are derived
once (one salt for every account). jabberd2's sqlite authreg keeps only
plaintext passwords (ITER is unused there): its SASL library derives the
SCRAM credentials at every login, with a fresh salt.
"""
import base64
import gzip
import hashlib
import hmac
import os
import sqlite3
import sys
import time


def scram_sha1(password, salt, it):
    salted = hashlib.pbkdf2_hmac("sha1", password.encode(), salt, it)
    ck = hmac.new(salted, b"Client Key", "sha1").digest()
    sk = hmac.new(salted, b"Server Key", "sha1").digest()
    return hashlib.sha1(ck).digest(), sk


def specs(args):
    for a in args:
        p = a.split(":")
        yield p[0], int(p[1]), int(p[2]) if len(p) > 2 else 0


def contacts(prefix, i, clique):
    base = i - i % clique
    return ["%s%d" % (prefix, j) for j in range(base, base + clique)
            if j != i]


def prosody(path, domain, pw, it, args):
    # datamanager layout: DATA/<host>/<store>/<user>.dat, Lua tables
    salt = "parley-bench-salt"
    stored, server = scram_sha1(pw, salt.encode(), it)
    acc = ('return {\n\t["iteration_count"] = %d;\n\t["salt"] = "%s";\n'
           '\t["stored_key"] = "%s";\n\t["server_key"] = "%s";\n};\n'
           % (it, salt, stored.hex(), server.hex()))
    host = os.path.join(path, domain.replace(".", "%2e"))
    os.makedirs(os.path.join(host, "accounts"), exist_ok=True)
    os.makedirs(os.path.join(host, "roster"), exist_ok=True)
    for prefix, n, clique in specs(args):
        for i in range(n):
            u = "%s%d" % (prefix, i)
            with open(os.path.join(host, "accounts", u + ".dat"), "w") as f:
                f.write(acc)
            if clique:
                items = "".join(
                    '\t["%s@%s"] = { ["subscription"] = "both"; '
                    '["groups"] = {}; };\n' % (c, domain)
                    for c in contacts(prefix, i, clique))
                with open(os.path.join(host, "roster", u + ".dat"),
                          "w") as f:
                    f.write('return {\n\t[false] = { ["version"] = 1; };\n'
                            + items + "};\n")


def ejabberd(db, domain, pw, it, args):
    salt = b"parley-bench-salt"
    stored, server = scram_sha1(pw, salt, it)
    b = lambda x: base64.b64encode(x).decode()
    con = sqlite3.connect(db)
    with open("/usr/share/ejabberd/sql/lite.sql") as f:
        con.executescript(f.read())
    users, roster = [], []
    for prefix, n, clique in specs(args):
        for i in range(n):
            u = "%s%d" % (prefix, i)
            users.append((u, b(stored), b(server), b(salt), it))
            if clique:
                for c in contacts(prefix, i, clique):
                    roster.append((u, "%s@%s" % (c, domain), "", "B", "N",
                                   "", "N", "", "item"))
    con.executemany("INSERT INTO users (username, password, serverkey, "
                    "salt, iterationcount) VALUES (?,?,?,?,?)", users)
    con.executemany("INSERT INTO rosterusers (username, jid, nick, "
                    "subscription, ask, askmessage, server, subscribe, "
                    "type) VALUES (?,?,?,?,?,?,?,?,?)", roster)
    con.commit()
    con.close()


def jabberd2(db, domain, pw, it, args):
    # Debian's schema; the c2s reads "authreg", the sm needs a user's row
    # in "active" to load it, and the roster from "roster-items" (a
    # collection-owner is the bare JID; to/from are the subscription)
    with gzip.open("/usr/share/doc/jabberd2/db-setup.sqlite.gz", "rt") as f:
        schema = f.read()
    con = sqlite3.connect(db)
    con.executescript(schema)
    auth, active, roster = [], [], []
    now = int(time.time())
    for prefix, n, clique in specs(args):
        for i in range(n):
            u = "%s%d" % (prefix, i)
            owner = "%s@%s" % (u, domain)
            auth.append((u, domain, pw))
            active.append((owner, now))
            if clique:
                for c in contacts(prefix, i, clique):
                    roster.append((owner, "%s@%s" % (c, domain), 1, 1, 0))
    con.executemany('INSERT INTO authreg (username, realm, password) '
                    'VALUES (?,?,?)', auth)
    con.executemany('INSERT INTO active ("collection-owner", time) '
                    'VALUES (?,?)', active)
    con.executemany('INSERT INTO "roster-items" ("collection-owner", jid, '
                    '"to", "from", ask) VALUES (?,?,?,?,?)', roster)
    con.commit()
    con.close()


def main():
    if len(sys.argv) < 7:
        sys.exit(__doc__)
    kind, path, domain, pw, it = sys.argv[1:6]
    {"prosody": prosody, "ejabberd": ejabberd, "jabberd2": jabberd2}[kind](
        path, domain, pw, int(it), sys.argv[6:])


if __name__ == "__main__":
    main()
