#!/usr/bin/env python3
# Writes the binary seeds of the link targets (tests/fuzz/corpus/link_*):
# frames as docs/internals.md describes them. The text seeds of the other
# targets are plain files. Run from the repository root.
import hashlib
import os
import struct

# the wire values of common/link.h and common/xmpp.h (pinned by
# tests/unit/test_link.c)
LINK_VERSION = 24
HELLO, AUTH_GET, AUTH_CRED, SESS_BEGIN, SESS_BOUND = 0x0001, 0x0101, 0x0102, 0x0103, 0x0104
FAST_PUT = 0x010f
AUTH_UPGRADE = 0x0117
SESS_END, SESS_KICK, REG_ADD, REG_RESULT, STANZA = 0x0105, 0x0106, 0x0107, 0x0108, 0x0201
HOST_CAPS = 0x0109
SECRETS = 0x011a
SM_ENABLE, SM_ENABLED, SM_ACK, SM_RESUME, SM_RESUMED = 0x010a, 0x010b, 0x010c, 0x010d, 0x010e
METRICS_GET, METRICS, AUTH_FAIL, METRICS_OM = 0x0111, 0x0112, 0x0113, 1
S2S_COUNTS = 0x0114
BOSH_FWD, BOSH_ANSWER, F_BOSH_CANCEL = 0x0115, 0x0116, 1
BOSH_OK, BOSH_UNKNOWN, BOSH_DOWN, BOSH_BUSY = 0, 1, 2, 3
SM_F_RESUME, F_SESS_LOST, XERR_ITEM_NOT_FOUND = 1, 1, 7
SM_ID = "0123456789abcdef0123456789abcdef"
CTL_ADDUSER, CTL_PASSWD, CTL_DELUSER, CTL_LIST = 0x0301, 0x0302, 0x0303, 0x0304
CTL_SESSIONS, CTL_KICK, CTL_STATS, CTL_ABOUT = 0x0306, 0x0307, 0x0308, 0x0309
CTL_DISABLE, CTL_ENABLE = 0x030a, 0x030b
CTL_ROLE = 0x030d
CTL_INVITE = 0x030e
CTL_RESTART, QUIESCE, QUIESCED, RELEASE = 0x030f, 0x0002, 0x0003, 0x0004
ROLE_C2S, ROLE_CTL, ROLE_S2S, ROLE_ROUTER = 1, 2, 3, 4
AUTH_OK, AUTH_NO_USER, AUTH_FAILED = 0, 1, 2
SERR_CONFLICT, SERR_NOT_AUTHORIZED = 3, 12
XERR_CONFLICT, XERR_JID_MALFORMED, XERR_RESOURCE_CONSTRAINT = 2, 8, 18
KIND_MESSAGE, KIND_PRESENCE, KIND_IQ = 1, 2, 3
MTYPE_NORMAL, MTYPE_CHAT, PRES_AVAILABLE, IQ_GET = 0, 1, 0, 0


def frame(t, payload=b"", sid=0, flags=0):
    return struct.pack(">IHHQ", len(payload), t, flags, sid) + payload


def u8(v):
    return struct.pack(">B", v)


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def s(v):
    if v is None:
        return b"\xff\xff\xff\xff"
    if isinstance(v, str):
        v = v.encode()
    return u32(len(v)) + v


def creds(iters=4096):
    out = b""
    for hlen in (20, 32):
        out += u32(iters) + s(b"S" * 16) + s(b"k" * hlen) + s(b"v" * hlen)
    return out


def hello(role, version=LINK_VERSION, instance=None):
    if instance is None:
        instance = 1 if role == ROLE_C2S else 0
    return frame(HELLO, u32(version) + u32(role) + u32(instance))


def stanza(sid, kind, typ, to, frm, xml, flags=0):
    return frame(STANZA, u8(kind) + u8(typ) + u16(0) + s(to) + s(frm) + s(xml), sid,
                 flags)


def write(target, name, data):
    d = os.path.join("tests/fuzz/corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


MSG = "<message to='romeo@example.net' type='chat'><body>hi</body></message>"

# link_router: byte 0 = socket (bit 0: control) and the role of an automatic
# HELLO (bits 1-2: none, c2s 1, ctl 2, s2s 3)
c2s_session = (
    frame(AUTH_GET, u32(11) + s("user") + s("example.org") + s(""), 1)
    + frame(AUTH_GET, u32(12) + s("nobody") + s("example.org") + s(""), 2)
    + frame(AUTH_GET, u32(13) + s("fail") + s("example.org") + s(""), 3)
    + frame(AUTH_GET, u32(14) + s("user") + s("example.org") + s("dev"), 4)
    + frame(AUTH_GET, u32(15) + s("user") + s("off.example") + s(""), 4)
    + frame(FAST_PUT, s("user") + s("example.org") + s("dev") + s(b"rec"), 4)
    + frame(FAST_PUT, s("user") + s("example.org") + s("dev") + s(""), 4)
    + frame(AUTH_UPGRADE, s("user") + s("example.org") + u32(4096)
            + s(b"s" * 16) + s(b"k" * 32) + s(b"v" * 32), 4)
    + frame(AUTH_UPGRADE, s("user") + s("example.com") + u32(1)
            + s(b"s") + s(b"k" * 32) + s(b"v" * 32), 4)
    + frame(AUTH_UPGRADE, s("nobody") + s("example.org") + u32(4096)
            + s(b"s" * 16) + s(b"k" * 32) + s(b"v" * 32), 4)
    + frame(SESS_BEGIN, s("user@example.org/res") + u32(0), 1)
    + stanza(1, KIND_MESSAGE, MTYPE_CHAT, "romeo@example.net", "spoofed@example.org", MSG)
    + stanza(1, KIND_IQ, IQ_GET, None, "user@example.org/res", "<iq type='get' id='1'/>")
    + stanza(9, KIND_MESSAGE, MTYPE_NORMAL, "a@b", "c@d", MSG)
    + frame(SESS_END, b"", 1)
    + frame(REG_ADD, s("newuser") + s("example.org") + s("192.0.2.1") + s(None) + creds(), 4)
    + frame(REG_ADD, s("user") + s("example.org") + s("192.0.2.2") + s(None) + creds(), 5)
    + frame(REG_ADD, s("Bad") + s("example.org") + s("192.0.2.3") + s(None) + creds(), 6)
    + frame(REG_ADD, s("inv") + s("example.org") + s("192.0.2.4") + s("0" * 32) + creds(), 7)
    + frame(REG_ADD, s("inv") + s("example.org") + s("192.0.2.5") + s("bad token") + creds(), 8)
    + frame(REG_ADD, s("inv") + s("example.org") + s("192.0.2.6") + s("good") + creds(), 9)
    + frame(REG_ADD, s("") + s("example.org") + s("192.0.2.7") + s("good"), 10, flags=3)
    + frame(REG_ADD, s("") + s("example.org") + s("192.0.2.8") + s(None), 11, flags=3)
)
write("link_router", "c2s-session", b"\x02\x00" + c2s_session)
# /metrics: both formats, an unknown flag, a SASL failure counted
write("link_router", "c2s-metrics", b"\x02\x00"
      + frame(AUTH_FAIL, b"", 1)
      + frame(METRICS_GET, u32(1) + u32(METRICS_OM), 0)
      + frame(METRICS_GET, u32(2) + u32(0), 0)
      + frame(AUTH_FAIL, b"x", 1)
      + frame(METRICS_GET, u32(3) + u32(2), 0))
# XEP-0480: SHA-256 keys of the wrong length close the link
write("link_router", "c2s-upgrade-bad", b"\x02\x00"
      + frame(AUTH_UPGRADE, s("user") + s("example.org") + u32(4096)
              + s(b"s" * 16) + s(b"k" * 20) + s(b"v" * 20), 4))
write("link_router", "c2s-session-chunked", b"\x02\x04\x00\x07\x0f\xc1" + c2s_session)
# stream management: enable (with the id a c2s re-announces, so that a
# resume can find it), acks, resume by another stream, lost sessions
write("link_router", "c2s-sm", b"\x02\x00"
      + frame(SESS_BEGIN, s("user@example.org/res") + u32(0), 1)
      + frame(SM_ENABLE, u32(SM_F_RESUME) + u32(600) + u32(0) + u32(0) + s(SM_ID), 1)
      + frame(SM_ENABLE, u32(0) + u32(0) + u32(0) + u32(0) + s(""), 1)
      + stanza(1, KIND_IQ, IQ_GET, None, "user@example.org/res", "<iq type='get' id='1'/>")
      + frame(SM_ACK, u32(0) + u32(1) + u32(0) + u32(0), 1)
      + frame(SM_ACK, u32(0xffffffff) + u32(7) + u32(3) + u32(2), 1)
      + frame(SM_RESUME, s("other@example.org") + s(SM_ID) + u32(0), 2)
      + frame(SM_RESUME, s("user@example.org") + s("nope") + u32(0), 3)
      + frame(SM_RESUME, s("user@example.org") + s(SM_ID) + u32(5), 4)
      + frame(SM_ACK, u32(1) + u32(1) + u32(1) + u32(1), 4)
      + frame(SESS_BEGIN, s("user@example.org/two") + u32(0), 5)
      + frame(SM_ENABLE, u32(SM_F_RESUME) + u32(0) + u32(0) + u32(0) + s(""), 5)
      + frame(SESS_END, b"", 5, flags=F_SESS_LOST)
      + frame(SESS_END, b"", 4))
write("link_router", "c2s-sm-bad", b"\x02\x00"
      + frame(SESS_BEGIN, s("user@example.org/res") + u32(0), 1)
      + frame(SM_ENABLE, u32(SM_F_RESUME) + u32(0) + u32(0) + u32(0) + s("x" * 40), 1)
      + frame(SM_ACK, u32(1) + u32(2), 1))
write("link_router", "c2s-unexpected", b"\x02\x00" + frame(CTL_LIST, s(None)))
write("link_router", "c2s-bad-version", b"\x00\x00" + hello(ROLE_C2S, version=LINK_VERSION - 1))
write("link_router", "wrong-role", b"\x00\x00" + hello(ROLE_CTL))
write("link_router", "bad-instance", b"\x00\x00" + hello(ROLE_C2S, instance=0)
      + hello(ROLE_S2S, instance=2))
write("link_router", "second-hello", b"\x02\x00" + hello(ROLE_C2S))
write("link_router", "stanza-bad-type", b"\x02\x00"
      + stanza(1, KIND_IQ, 9, "a@b", "c@d", "<iq type='get' id='1'/>")
      + stanza(1, 7, 0, "a@b", "c@d", MSG))
write("link_router", "short-frame", b"\x02\x00" + frame(SESS_BEGIN, u32(0)))
write("link_router", "oversize", b"\x02\x00" + struct.pack(">IHHQ", 1 << 21, STANZA, 0, 1))
write("link_router", "s2s-stanza", b"\x06\x00"
      + stanza(0, KIND_MESSAGE, MTYPE_CHAT, "juliet@example.org", "romeo@example.net/orchard", MSG)
      + stanza(0, KIND_PRESENCE, PRES_AVAILABLE, "juliet@example.org", "romeo@example.net",
               "<presence/>"))
# LINK_F_COMPONENT on a stanza whose from is no component's: dropped
F_COMPONENT = 0x0002
write("link_router", "s2s-component-flag", b"\x06\x00"
      + stanza(0, KIND_MESSAGE, MTYPE_CHAT, "romeo@example.net", "bot@gw.example.org",
               MSG, flags=F_COMPONENT))
# LINK_F_MUC_REJOIN: a session's join again (taken), then the flag on a
# message (the link fails: only an available presence with a 'to')
F_MUC_REJOIN = 0x0004
write("link_router", "c2s-muc-rejoin", b"\x02\x00"
      + frame(SESS_BEGIN, s("user@example.org/res") + u32(0), 1)
      + stanza(1, KIND_PRESENCE, PRES_AVAILABLE, "r@conference.example.org/n",
               "user@example.org/res", "<presence><x xmlns='http://jabber.org/"
               "protocol/muc'><history maxstanzas='0'/></x></presence>",
               flags=F_MUC_REJOIN)
      + stanza(1, KIND_MESSAGE, MTYPE_CHAT, "a@example.org", "user@example.org/res",
               MSG, flags=F_MUC_REJOIN))
# LINK_F_MUC_REJOIN from the s2s role: a remote occupant's join again
# (taken), one to a domain with no rooms (dropped), then the flag on a
# message (the link fails: only an available presence)
write("link_router", "s2s-muc-rejoin", b"\x06\x00"
      + stanza(0, KIND_PRESENCE, PRES_AVAILABLE, "r@conference.example.org/n",
               "romeo@example.net/orchard", "<presence><x xmlns='http://jabber.org/"
               "protocol/muc'><history maxstanzas='0'/></x></presence>",
               flags=F_MUC_REJOIN)
      + stanza(0, KIND_PRESENCE, PRES_AVAILABLE, "juliet@example.org/n",
               "romeo@example.net/orchard", "<presence/>", flags=F_MUC_REJOIN)
      + stanza(0, KIND_MESSAGE, MTYPE_CHAT, "r@conference.example.org",
               "romeo@example.net/orchard", MSG, flags=F_MUC_REJOIN))
# the s2s process's connection counts, then a bad name and too many
write("link_router", "s2s-counts", b"\x06\x00"
      + frame(S2S_COUNTS, u32(2) + s("open") + u32(1) + u32(2) + s("header") + u32(0) + u32(1), 0)
      + frame(S2S_COUNTS, u32(1) + s("Open\"") + u32(1) + u32(2), 0)
      + frame(S2S_COUNTS, u32(99), 0))
# BOSH requests between workers: to itself (instance 1, the target's c2s),
# to nobody (bounced), a cancel, answers to itself and to nobody, and the
# frames a c2s may not send (instance 0, request id 0, a router status)
BODY = "<body xmlns='http://jabber.org/protocol/httpbind' rid='2' sid='x'/>"
write("link_router", "c2s-bosh", b"\x02\x00"
      + frame(BOSH_FWD, u32(1) + u32(1) + s("192.0.2.1") + s(BODY))
      + frame(BOSH_FWD, u32(7) + u32(2) + s("192.0.2.1") + s(BODY))
      + frame(BOSH_FWD, u32(1) + u32(1) + s(None) + s(None), flags=F_BOSH_CANCEL)
      + frame(BOSH_ANSWER, u32(1) + u32(1) + u32(BOSH_OK) + u32(200) + s("<body/>"))
      + frame(BOSH_ANSWER, u32(9) + u32(3) + u32(BOSH_OK) + u32(400) + s(None))
      + frame(BOSH_ANSWER, u32(1) + u32(4) + u32(BOSH_BUSY) + u32(503) + s(None)))
write("link_router", "c2s-bosh-bad", b"\x02\x00"
      + frame(BOSH_FWD, u32(0) + u32(1) + s("") + s(BODY))
      + frame(BOSH_FWD, u32(1) + u32(0) + s("") + s(BODY))
      + frame(BOSH_ANSWER, u32(1) + u32(1) + u32(BOSH_DOWN) + u32(0) + s(None)))
write("link_router", "ctl-commands", b"\x05\x00"
      + frame(CTL_ADDUSER, s("new@example.org") + creds(), 1)
      + frame(CTL_ADDUSER, s("user@example.org") + creds(), 2)
      + frame(CTL_PASSWD, s("user@example.org") + creds(), 3)
      + frame(CTL_PASSWD, s("example.org") + creds(), 4)
      + frame(CTL_DELUSER, s("user@example.org"), 5)
      + frame(CTL_DELUSER, s("User@EXAMPLE.org/res"), 6)
      + frame(CTL_LIST, s(None), 7)
      + frame(CTL_LIST, s("big.example"), 8)
      + frame(CTL_LIST, s("bad domain"), 9)
      + frame(CTL_DISABLE, s("user@example.org"), 10)
      + frame(CTL_DISABLE, s("nobody@example.org"), 11)
      + frame(CTL_ENABLE, s("user@example.org"), 12)
      + frame(CTL_ENABLE, s("not a jid"), 13)
      + frame(CTL_ROLE, s("user@example.org") + s(None), 14)
      + frame(CTL_ROLE, s("user@example.org") + s("limited"), 15)
      + frame(CTL_ROLE, s("user@example.org") + s("boss"), 16)
      + frame(CTL_ROLE, s("nobody@example.org") + s("admin"), 17)
      + frame(CTL_ROLE, s("example.org") + s(None), 18)
      + frame(CTL_INVITE, s("create") + s("example.org") + s(None) + u32(2) + u32(60), 19)
      + frame(CTL_INVITE, s("create") + s("example.org") + s("user@example.org") + u32(1) + u32(0), 20)
      + frame(CTL_INVITE, s("create") + s("example.org") + s("nobody@example.org") + u32(1) + u32(0), 21)
      + frame(CTL_INVITE, s("create") + s("nowhere.example") + s(None) + u32(1) + u32(0), 22)
      + frame(CTL_INVITE, s("list") + s("example.org") + s(None) + u32(0) + u32(0), 23)
      + frame(CTL_INVITE, s("revoke") + s("0" * 32) + s(None) + u32(0) + u32(0), 24)
      + frame(CTL_INVITE, s("bogus") + s("example.org") + s(None) + u32(0) + u32(0), 25))
write("link_router", "ctl-ops", b"\x05\x00"
      + frame(CTL_SESSIONS, s(None), 1)
      + frame(CTL_SESSIONS, s("user@example.org"), 2)
      + frame(CTL_SESSIONS, s("example.org"), 3)
      + frame(CTL_KICK, s("user@example.org/res"), 4)
      + frame(CTL_KICK, s("user@example.org"), 5)
      + frame(CTL_STATS, s(None), 6)
      + frame(CTL_ABOUT, s(None), 7)
      + frame(CTL_KICK, s(None), 8))
write("link_router", "ctl-bad-creds", b"\x05\x00"
      + frame(CTL_ADDUSER, s("new@example.org") + creds(iters=0), 1))
# a planned restart: the answers of a c2s and an s2s, one with a payload;
# parleyctl's request for the router and for something else
write("link_router", "quiesced", b"\x02\x00"
      + frame(SESS_BEGIN, s("user@example.org/res") + u32(0), 1)
      + frame(QUIESCED, b"", 0)
      + frame(QUIESCED, b"x", 0))
write("link_router", "s2s-quiesced", b"\x06\x00" + frame(QUIESCED, b"", 0))
write("link_router", "ctl-restart", b"\x05\x00"
      + frame(CTL_RESTART, s("c2s"), 1)
      + frame(CTL_RESTART, s("router"), 2))

# link_c2s: byte 0 = states of streams 1-4 (auth wait, bind wait, bound,
# registering); a stream waiting for credentials waits for request id = sid.
# The router's LINK_HELLO comes first.
R_HELLO = hello(ROLE_ROUTER)
write("link_c2s", "router-replies", b"\xe4\x00"
      + R_HELLO
      + frame(AUTH_CRED, u32(1) + u32(AUTH_OK) + creds() + s(b""), 1)
      + frame(AUTH_CRED, u32(1) + u32(AUTH_NO_USER), 1)
      + frame(SESS_BOUND, u32(0) + s("user@example.org/res"), 2)
      + stanza(3, KIND_MESSAGE, MTYPE_CHAT, "user@example.org/res", "romeo@example.net", MSG)
      + frame(SESS_KICK, u32(SERR_CONFLICT), 3)
      + frame(REG_RESULT, u32(0), 4)
      + frame(REG_RESULT, u32(XERR_RESOURCE_CONSTRAINT), 4)
      + frame(REG_RESULT, u32(0), 4, flags=3)
      + frame(STANZA + 1, b"", 9))
write("link_c2s", "auth-failures", b"\x00\x02\x00\x03"
      + R_HELLO
      + frame(AUTH_CRED, u32(1) + u32(AUTH_FAILED), 1)
      + frame(AUTH_CRED, u32(2) + u32(AUTH_OK) + creds(iters=0), 2))
write("link_c2s", "auth-stale-reply", b"\x00\x00"
      + R_HELLO
      + frame(AUTH_CRED, u32(7) + u32(AUTH_OK) + creds() + s(b""), 1)
      + frame(AUTH_CRED, u32(0) + u32(AUTH_NO_USER), 2)
      + frame(AUTH_CRED, u32(3) + u32(AUTH_OK) + creds() + s(b""), 3)
      + frame(AUTH_CRED, u32(4) + u32(3), 4))
# XEP-0480: the router's answer to LINK_AUTH_UPGRADE, for a stream
# waiting (stream 1) and not (stream 2, binding); one short
AUTH_UPGRADED = 0x0118
write("link_c2s", "upgraded", b"\x04\x00"
      + R_HELLO
      + frame(AUTH_UPGRADED, u32(AUTH_OK), 1)
      + frame(AUTH_UPGRADED, u32(AUTH_FAILED), 2)
      + frame(AUTH_UPGRADED, b"", 1))
write("link_c2s", "bind-refused", b"\x55\x00"
      + R_HELLO
      + frame(SESS_BOUND, u32(XERR_JID_MALFORMED) + s(""), 1)
      + frame(SESS_BOUND, u32(0) + s(None), 2))
write("link_c2s", "bind-unknown-condition", b"\x55\x00"
      + R_HELLO
      + frame(SESS_BOUND, u32(XERR_CONFLICT) + s(""), 1)
      + frame(SESS_BOUND, u32(99) + s(""), 2))
write("link_c2s", "kick-codes", b"\xaa\x00"
      + R_HELLO
      + frame(SESS_KICK, u32(SERR_CONFLICT), 1)
      + frame(SESS_KICK, u32(SERR_NOT_AUTHORIZED), 2)
      + frame(SESS_KICK, u32(1000), 3))
write("link_c2s", "kick-no-condition", b"\xaa\x00" + R_HELLO + frame(SESS_KICK, u32(0), 1))
write("link_c2s", "host-caps", b"\x00\x00"
      + R_HELLO
      + frame(HOST_CAPS, s("example.org") + s("ZZ0uPRgUoMwIMSXEFkFwYj8h7Rk="))
      + frame(HOST_CAPS, s("example.org") + s(None))
      + frame(HOST_CAPS, s("example.org"))
      + frame(HOST_CAPS, s("other.example") + s("x" * 200)))
# the router's keys, first after its hello; then a short key, a NULL one,
# and one trailing byte (each fails the link: the rest of the seed is
# for the mutator)
KEY_A, KEY_B = bytes(range(32)), bytes(range(32, 64))
write("link_c2s", "secrets", b"\x00\x00"
      + R_HELLO
      + frame(SECRETS, s(KEY_A) + s(KEY_B))
      + frame(SECRETS, s(KEY_B) + s(KEY_A))
      + frame(SECRETS, s(KEY_A) + s(KEY_B[:31]))
      + frame(SECRETS, s(KEY_A) + s(None))
      + frame(SECRETS, s(KEY_A) + s(KEY_B) + b"\x00"))
write("link_c2s", "bad-version", b"\x00\x00" + hello(ROLE_ROUTER, version=LINK_VERSION - 1))
write("link_c2s", "no-hello", b"\xaa\x00"
      + stanza(3, KIND_MESSAGE, MTYPE_CHAT, "user@example.org/res", "a@b", MSG))
write("link_c2s", "wrong-role", b"\x00\x00" + hello(ROLE_C2S))
# LINK_F_STAMP_TO (carbons): the c2s writes each session's JID in as 'to'
STANZA_MULTI, F_STAMP_TO = 0x0202, 0x0001
CARBON = "<message from='juliet@example.org' type='chat'><received/></message>"
env = u8(KIND_MESSAGE) + u8(MTYPE_CHAT) + u16(0) + s(None) + s("juliet@example.org")
write("link_c2s", "stamp-to", b"\xe4\x00"
      + R_HELLO
      + frame(STANZA, env + s(CARBON), 3, flags=F_STAMP_TO)
      + frame(STANZA_MULTI, env + s(CARBON) + u32(2) + struct.pack(">QQ", 3, 4), 0,
              flags=F_STAMP_TO)
      + frame(STANZA, env + s("<message/>"), 3, flags=F_STAMP_TO)
      + frame(STANZA, env + s("<"), 3, flags=F_STAMP_TO)
      + frame(STANZA, env + s(""), 3, flags=F_STAMP_TO))
write("link_c2s", "metrics", b"\xe4\x00"
      + R_HELLO
      + frame(METRICS, u32(1) + s("# EOF\n"), 0)
      + frame(METRICS, u32(7) + s(""), 0)
      + frame(METRICS, u32(2) + s(None), 0))
write("link_c2s", "sm", b"\xe4\x00"
      + R_HELLO
      + frame(SM_ENABLED, s(SM_ID) + u32(300), 3)
      + frame(SM_ENABLED, s("") + u32(0), 3)
      + stanza(3, KIND_MESSAGE, MTYPE_CHAT, "user@example.org/res", "romeo@example.net", MSG)
      + frame(SM_RESUMED, u32(0) + s("user@example.org/res") + s(SM_ID) + u32(1) + u32(2) + u32(300), 1)
      + frame(SM_RESUMED, u32(XERR_ITEM_NOT_FOUND) + s("") + s("") + u32(0) + u32(0) + u32(0), 2)
      + frame(SM_RESUMED, u32(0) + s("") + s("") + u32(0) + u32(0) + u32(0), 4))
# what a resumed session's c2s keeps for a router crash: its presence, a
# room's join; for no session, for a room JID without a nick, too large
SESS_KEEP = 0x0119
JOIN = ("<presence from='user@example.org/res' to='r@muc.example.org/n'>"
        "<x xmlns='http://jabber.org/protocol/muc'>"
        "<history maxstanzas='0'/></x></presence>")
write("link_c2s", "sess-keep", b"\xe4\x00"
      + R_HELLO
      + frame(SM_RESUMED, u32(0) + s("user@example.org/res") + s(SM_ID) + u32(1) + u32(2) + u32(300), 1)
      + frame(SESS_KEEP, s("") + s("<presence from='user@example.org/res'/>"), 1)
      + frame(SESS_KEEP, s("r@muc.example.org/n") + s(JOIN), 1)
      + frame(SESS_KEEP, s("r@muc.example.org") + s(JOIN), 1)
      + frame(SESS_KEEP, s("r@muc.example.org/n") + s("x" * 5000), 1)
      + frame(SESS_KEEP, s("r@muc.example.org/n") + s(JOIN), 9)
      + frame(SESS_KEEP, s("r@muc.example.org/n"), 1))
# a planned router restart: answered, stanzas still delivered; bad ones
write("link_c2s", "quiesce", b"\xe4\x00"
      + R_HELLO
      + frame(QUIESCE)
      + stanza(3, KIND_MESSAGE, MTYPE_CHAT, "user@example.org/res", "romeo@example.net", MSG)
      + frame(QUIESCE)
      + frame(QUIESCE, b"", 3))
write("link_c2s", "release", b"\xe4\x00"
      + R_HELLO
      + frame(QUIESCE)
      + frame(RELEASE)
      + frame(RELEASE)
      + frame(RELEASE, b"x"))

# BOSH: requests forwarded to us, a cancel, answers of each status, the
# router's notice that a worker went (request id 0), and bad frames
write("link_c2s", "bosh", b"\x00\x00"
      + R_HELLO
      + frame(BOSH_FWD, u32(2) + u32(1) + s("192.0.2.1") + s(BODY))
      + frame(BOSH_FWD, u32(2) + u32(1) + s(None) + s(None), flags=F_BOSH_CANCEL)
      + frame(BOSH_ANSWER, u32(2) + u32(5) + u32(BOSH_OK) + u32(200) + s("<body/>"))
      + frame(BOSH_ANSWER, u32(2) + u32(6) + u32(BOSH_UNKNOWN) + u32(0) + s(None))
      + frame(BOSH_ANSWER, u32(2) + u32(0) + u32(BOSH_DOWN) + u32(0) + s(None))
      + frame(BOSH_ANSWER, u32(3) + u32(7) + u32(BOSH_BUSY) + u32(503) + s(None)))
write("link_c2s", "bosh-bad", b"\x00\x00"
      + R_HELLO
      + frame(BOSH_ANSWER, u32(2) + u32(5) + u32(9) + u32(200) + s("")))
write("link_c2s", "bosh-bad-fwd", b"\x00\x00"
      + R_HELLO
      + frame(BOSH_FWD, u32(0x10000) + u32(1) + s("") + s(BODY)))

# link_s2s: the chunking plan, then frames, the router's LINK_HELLO first
write("link_s2s", "stanzas", b"\x00"
      + R_HELLO
      + stanza(0, KIND_MESSAGE, MTYPE_CHAT, "romeo@example.net", "juliet@example.org/balcony", MSG)
      + stanza(0, KIND_PRESENCE, PRES_AVAILABLE, "romeo@example.net", "juliet@example.org",
               "<presence/>"))
write("link_s2s", "stanza-chunked", b"\x03\x00\x02\x05"
      + R_HELLO
      + stanza(0, KIND_IQ, IQ_GET, "romeo@example.net", "juliet@example.org/b",
               "<iq type='get' id='x'/>"))
write("link_s2s", "null-to", b"\x00" + R_HELLO + stanza(0, KIND_MESSAGE, MTYPE_NORMAL, None, "a@b", MSG))
write("link_s2s", "unexpected", b"\x00" + R_HELLO + frame(AUTH_GET, u32(1) + s("a") + s("b")))
write("link_s2s", "no-hello", b"\x00" + stanza(0, KIND_MESSAGE, MTYPE_NORMAL, "a@b", "c@d", MSG))
write("link_s2s", "bad-version", b"\x00" + hello(ROLE_ROUTER, version=LINK_VERSION + 1))
# a planned router restart: answered, then stanzas still come; a payload
write("link_s2s", "quiesce", b"\x00" + R_HELLO + frame(QUIESCE)
      + stanza(0, KIND_MESSAGE, MTYPE_CHAT, "romeo@example.net", "juliet@example.org/b", MSG)
      + frame(QUIESCE, b"x"))
# the next router's release, a malformed one
write("link_s2s", "release", b"\x00" + R_HELLO + frame(QUIESCE) + frame(RELEASE)
      + frame(RELEASE, b"", 1))

# s2s: byte 0 = mode (fuzz_s2s.c), then the chunking plan, then the remote
# server's bytes. Chunks of exact sizes: steps below 0xc0 are that many
# bytes plus one, so a size is written as a run of steps.
import hashlib
import hmac

SECRET = ("8c5d3e6bbd1a8e7d6f2b49a04f0c51d2"
          "a3b9e3c24d8f1e07b6a5c9d0e1f2a3b4")


def dialback_key(receiving, originating, stream_id):
    k = hashlib.sha256(SECRET.encode()).hexdigest().encode()
    text = ("%s %s %s" % (receiving, originating, stream_id)).encode()
    return hmac.new(k, text, hashlib.sha256).hexdigest()


def plan(*sizes):
    steps = []
    for n in sizes:
        while n > 192:
            steps.append(0xbf)
            n -= 192
        steps.append(n - 1)
    steps.append(0xff)          # then the rest, 4096 bytes at a time
    assert len(steps) <= 15
    return bytes([len(steps)] + steps)


IN, OUT, REQTLS, DIALBACK, CERT, VERIFY = 0, 1, 2, 4, 8, 16
DNS_NX, DNS_NONE, DNS_LISTENER, DNS_LISTENER2 = 0, 1 << 5, 2 << 5, 3 << 5
ROUTER_DOWN = 0x80

HDR_IN = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
          "xmlns:stream='http://etherx.jabber.org/streams' "
          "xmlns:db='jabber:server:dialback' to='example.org' "
          "from='remote.test' version='1.0'>")
DBRESULT = "<db:result from='remote.test' to='example.org'>validkey</db:result>"
STANZAS = ("<message from='romeo@remote.test/orchard' to='juliet@example.org' "
           "type='chat' id='m1'><body>hi</body></message>"
           "<presence from='romeo@remote.test/orchard' to='juliet@example.org'/>"
           "<iq from='romeo@remote.test/orchard' to='example.org' type='get' "
           "id='v1'><query xmlns='jabber:iq:version'/></iq>"
           "<message from='romeo@other.test' to='juliet@example.org'/>")
END = "</stream:stream>"


def s2s(name, mode, chunks, rest=""):
    first = "".join(chunks)
    data = (first + rest).encode()
    write("s2s", name, bytes([mode]) + plan(*[len(c.encode()) for c in chunks]) + data)


s2s("in-dialback-stanzas", IN | DIALBACK | DNS_LISTENER, [HDR_IN + DBRESULT], STANZAS + END)
s2s("in-dialback-router-down", IN | DIALBACK | DNS_LISTENER | ROUTER_DOWN,
    [HDR_IN + DBRESULT], STANZAS + END)
s2s("in-dialback-failover", IN | DIALBACK | DNS_LISTENER2, [HDR_IN + DBRESULT], STANZAS)
s2s("in-dialback-nxdomain", IN | DIALBACK | DNS_NX, [HDR_IN, DBRESULT], STANZAS)
s2s("in-dialback-no-records", IN | DIALBACK | DNS_NONE, [HDR_IN + DBRESULT])
s2s("in-stanza-unauthenticated", IN | DIALBACK, [HDR_IN + STANZAS])
s2s("in-dialback-wrong-key", IN | DIALBACK | DNS_LISTENER,
    [HDR_IN + DBRESULT.replace("validkey", "wrongkey")], STANZAS)
s2s("in-db-verify", IN | DIALBACK, [HDR_IN
    + "<db:verify from='remote.test' to='example.org' id='abc'>"
    + dialback_key("remote.test", "example.org", "abc") + "</db:verify>"
    + "<db:verify from='remote.test' to='example.org' id='abc'>"
    + "0" * 64 + "</db:verify>"
    + "<db:verify from='remote.test' to='example.net' id='x&apos;'>k</db:verify>"])
s2s("in-starttls", IN | REQTLS | DIALBACK, [HDR_IN
    + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"])
s2s("in-tls-required", IN | REQTLS | DIALBACK, [HDR_IN + DBRESULT])
s2s("in-sasl-external", IN, [HDR_IN
    + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>"
    + "cmVtb3RlLnRlc3Q=</auth>"])
s2s("in-bad-headers", IN, ["<stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' to='example.org'>"])
s2s("in-host-unknown", IN, [HDR_IN.replace("to='example.org'", "to='nowhere.test'")])
s2s("in-old-version", IN | DIALBACK | DNS_LISTENER,
    [HDR_IN.replace(" version='1.0'", "") + DBRESULT], STANZAS)

# XEP-0114 components (bit 4 incoming): the handshake cannot be right
# (the stream id is random), so these reach the header and handshake checks
COMPONENT = 16
HDR_COMP = ("<?xml version='1.0'?><stream:stream "
            "xmlns='jabber:component:accept' "
            "xmlns:stream='http://etherx.jabber.org/streams' "
            "to='gw.example.org'>")
COMP_MSG = ("<message from='bot@gw.example.org' to='juliet@example.org'>"
            "<body>hi</body></message>")
s2s("comp-wrong-handshake", IN | COMPONENT,
    [HDR_COMP, "<handshake>" + "0" * 40 + "</handshake>"], COMP_MSG + END)
s2s("comp-short-handshake", IN | COMPONENT,
    [HDR_COMP + "<handshake>abc</handshake>"])
s2s("comp-stanza-first", IN | COMPONENT, [HDR_COMP + COMP_MSG])
s2s("comp-unknown-domain", IN | COMPONENT,
    [HDR_COMP.replace("gw.example.org", "nowhere.test")])
s2s("comp-subdomain", IN | COMPONENT,
    [HDR_COMP.replace("gw.example.org", "a.gw.example.org")])
s2s("comp-server-ns", IN | COMPONENT,
    [HDR_COMP.replace("jabber:component:accept", "jabber:server")])

HDR_OUT = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
           "xmlns:stream='http://etherx.jabber.org/streams' "
           "xmlns:db='jabber:server:dialback' id='remote-1' "
           "from='remote.test' to='example.org' version='1.0'>")
FEAT_DB = "<stream:features><dialback xmlns='urn:xmpp:features:dialback'/></stream:features>"
FEAT_TLS = ("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
            "<required/></starttls></stream:features>")
FEAT_EXT = ("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
            "<mechanism>EXTERNAL</mechanism></mechanisms></stream:features>")
s2s("out-dialback-valid", OUT | DIALBACK, [HDR_OUT + FEAT_DB,
    "<db:result from='remote.test' to='example.org' type='valid'/>"], END)
s2s("out-dialback-invalid", OUT | DIALBACK, [HDR_OUT + FEAT_DB,
    "<db:result from='remote.test' to='example.org' type='invalid'/>"])
s2s("out-verify", OUT | DIALBACK | VERIFY, [HDR_OUT + FEAT_DB,
    "<db:verify from='remote.test' to='example.org' id='abc' type='valid'/>"
    "<db:result type='valid'/>"])
s2s("out-starttls", OUT | REQTLS | DIALBACK, [HDR_OUT + FEAT_TLS,
    "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"])
s2s("out-no-tls-offered", OUT | REQTLS | DIALBACK, [HDR_OUT + FEAT_DB])
s2s("out-sasl-external", OUT | DIALBACK | CERT, [HDR_OUT + FEAT_EXT,
    "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    HDR_OUT + "<stream:features/>"], END)
s2s("out-sasl-refused", OUT | DIALBACK | CERT, [HDR_OUT + FEAT_EXT,
    "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"])
s2s("out-stream-error", OUT | DIALBACK, [HDR_OUT
    + "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
    + "</stream:error>"])
s2s("out-no-id", OUT | DIALBACK, [HDR_OUT.replace(" id='remote-1'", "") + FEAT_DB])

# certid: byte 0 = mode (0 names, 1 DER certificate, 2 dialback keys);
# the certificates are the unit tests' (tests/unit/test_certid_pem.h).
import base64
import re

for name, body in [
        ("wildcard", "*.example.org\nxmpp.example.org"),
        ("absolute", "example.org.\nEXAMPLE.ORG"),
        ("wildcard-tld", "*.org\nexample.org"),
        ("partial-wildcard", "a*.example.org\nab.example.org"),
        ("wildcard-alabel", "xn--*.example\nxn--a.example"),
        ("double-wildcard", "*.*.org\na.b.org"),
        ("inner-wildcard", "foo.*.org\nfoo.bar.org"),
        ("wildcard-apex", "*.example.org\nexample.org"),
        ("wildcard-two-labels", "*.example.org\na.b.example.org"),
        ("empty-label", "example..org\nexample..org"),
        ("two-dots", "example.org..\nexample.org.")]:
    write("certid", "name-" + name, b"\x00" + body.encode())
write("certid", "key-equal", b"\x02" + (("%064x" % 7) + "\n" + ("%064x" % 7)).encode())
write("certid", "key-short", b"\x02" + b"abc\nabc")

with open("tests/unit/test_certid_pem.h") as f:
    text = f.read()
for m in re.finditer(r'#define PEM_(\w+) \\\n((?:"[^"\n]*\\n" \\\n?)+)', text):
    name = m.group(1)
    pem = "".join(re.findall(r'"([^"]*)\\n"', m.group(2)))
    if "CERTIFICATE" not in pem or name == "CA":
        continue
    der = base64.b64decode(pem.replace("-----BEGIN CERTIFICATE-----", "")
                           .replace("-----END CERTIFICATE-----", ""))
    write("certid", "cert-" + name.lower().replace("_", "-"), b"\x01" + der)

# c2s: byte 0 = mode (bit 0 require TLS, bit 1 direct TLS, bit 2 router
# restart, bit 3 client vanishes), then the chunking plan, then the
# client's bytes; %F, %S and %1 become SCRAM messages (fuzz_c2s.c).
C_HDR = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
         "xmlns:stream='http://etherx.jabber.org/streams' to='example.org' "
         "version='1.0' xml:lang='en'>")
SASL = "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'"


def plain(authz, user, pw):
    return base64.b64encode(("%s\0%s\0%s" % (authz, user, pw)).encode()).decode()


AUTH_OK = "<auth %s mechanism='SCRAM-SHA-256'>%%F</auth>" % SASL
RESP_OK = "<response %s>%%S</response>" % SASL
BIND = ("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
        "<resource>phone</resource></bind></iq>")
C_STANZAS = ("<message to='Romeo@Example.NET/orchard' type='chat' id='m1'>"
             "<body>Wherefore art thou?</body><xml:x/></message>"
             "<presence><show>away</show></presence>"
             "<presence to='romeo@example.net' type='subscribe'/>"
             "<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>"
             "<iq type='get' id='p1' to='example.org'><ping xmlns='urn:xmpp:ping'/></iq>"
             "<message to='not a jid@@'/><iq type='set' id='x'/>"
             "<message type='bogus'/>")


def c2s(name, mode, chunks, rest=""):
    data = ("".join(chunks) + rest).encode()
    write("c2s", name, bytes([mode]) + plan(*[len(c.encode()) for c in chunks]) + data)


c2s("login-bind-stanzas", 0, [C_HDR + AUTH_OK, RESP_OK, C_HDR + BIND],
    C_STANZAS + "</stream:stream>")
CSI = "xmlns='urn:xmpp:csi:0'"
c2s("csi", 0, [C_HDR + AUTH_OK, RESP_OK, C_HDR + BIND],
    "<inactive %s/>" % CSI
    + "<message to='romeo@example.net/o' type='chat'><composing "
    "xmlns='http://jabber.org/protocol/chatstates'/></message>" * 6
    + "<message to='romeo@example.net/o'><x xmlns='urn:a' b='&lt;body'/>"
    "</message><inactive %s/>" % CSI + C_STANZAS + "<active %s/>" % CSI
    + "<inactive %s>x</inactive><idle %s/>" % (CSI, CSI))
SM = "xmlns='urn:xmpp:sm:3'"
c2s("sm-enable-acks", 0, [C_HDR + AUTH_OK, RESP_OK, C_HDR + BIND],
    "<enable %s/><enable %s resume='true' max='600'/>" % (SM, SM) + C_STANZAS
    + "<r %s/><a %s h='2'/><a %s h='1'/><a %s h='x'/>" % (SM, SM, SM, SM))
c2s("sm-h-too-high", 0, [C_HDR + AUTH_OK, RESP_OK, C_HDR + BIND],
    "<enable %s resume='true'/><a %s h='4294967295'/>" % (SM, SM))
c2s("sm-before-bind", 0, [C_HDR + AUTH_OK, RESP_OK, C_HDR],
    "<enable %s/><r %s/>" % (SM, SM))
c2s("sm-resume", 0, [C_HDR + AUTH_OK, RESP_OK, C_HDR],
    "<resume %s previd='%s' h='2'/>" % (SM, SM_ID) + C_STANZAS + "<r %s/>" % SM)
c2s("sm-resume-unknown", 0, [C_HDR + AUTH_OK, RESP_OK, C_HDR],
    "<resume %s previd='nope' h='0'/><resume %s previd='%s'/>" % (SM, SM, "x" * 80)
    + BIND + "<resume %s previd='nope' h='0'/>" % SM)
c2s("sm-client-vanishes", 8, [C_HDR + AUTH_OK, RESP_OK, C_HDR + BIND],
    "<enable %s resume='true'/>" % SM + C_STANZAS)
c2s("login-sha1", 0, [C_HDR + AUTH_OK.replace("SHA-256", "SHA-1"),
    RESP_OK.replace("%S", "%1"), C_HDR + BIND], C_STANZAS)
c2s("login-router-restart", 4, [C_HDR + AUTH_OK, RESP_OK, C_HDR + BIND], C_STANZAS)
c2s("login-in-flight-restart", 4, [C_HDR + AUTH_OK])
c2s("bind-taken", 0, [C_HDR + AUTH_OK, RESP_OK, C_HDR + BIND.replace("phone", "taken")],
    BIND.replace("b1", "b2"))
c2s("bind-no-resource", 0, [C_HDR + AUTH_OK, RESP_OK, C_HDR
    + "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>"], C_STANZAS)
c2s("plain-without-tls", 0, [C_HDR + "<auth %s mechanism='PLAIN'>%s</auth>"
    % (SASL, plain("", "user", "pencil"))])
c2s("auth-wrong-password", 0, [C_HDR + "<auth %s mechanism='PLAIN'>%s</auth>"
    % (SASL, plain("", "user", "wrong"))] * 4)
c2s("auth-authzid", 0, [C_HDR + "<auth %s mechanism='PLAIN'>%s</auth>"
    % (SASL, plain("juliet@example.org", "juliet", "pencil")), C_HDR + BIND])
c2s("auth-unknown-and-fail", 0, [C_HDR + "<auth %s mechanism='PLAIN'>%s</auth>"
    % (SASL, plain("", "nobody", "pencil")), "<auth %s mechanism='PLAIN'>%s</auth>"
    % (SASL, plain("", "fail", "pencil"))])
c2s("auth-scram-start", 0, [C_HDR + "<auth %s mechanism='SCRAM-SHA-256'>%s</auth>"
    % (SASL, base64.b64encode(b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL").decode()),
    "<response %s>%s</response>" % (SASL, base64.b64encode(
        b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=").decode())])
c2s("auth-empty-then-abort", 0, [C_HDR + "<auth %s mechanism='PLAIN'/>" % SASL,
    "<response %s>=</response><abort %s/>" % (SASL, SASL)])
c2s("auth-bad-mechanism", 0, [C_HDR + "<auth %s mechanism='X-OAUTH'>=</auth>" % SASL
    + "<auth %s mechanism='PLAIN'>!!!</auth>" % SASL])
c2s("starttls", 1, [C_HDR + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"])
c2s("tls-required", 1, [C_HDR + AUTH_OK])
c2s("direct-tls", 2, ["\x16\x03\x01\x00\x05hello"])
c2s("register", 0, [C_HDR
    + "<iq type='get' id='g1'><query xmlns='jabber:iq:register'/></iq>"
    + "<iq type='set' id='s1'><query xmlns='jabber:iq:register'>"
    + "<username>newbie</username><password>secret</password></query></iq>",
    "<iq type='set' id='s2'><query xmlns='jabber:iq:register'>"
    + "<username>user</username><password>x</password></query></iq>"
    + "<iq type='set' id='s3'><query xmlns='jabber:iq:register'>"
    + "<username>Bad User</username><password>x</password></query></iq>"])
c2s("bad-header", 0, ["<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
    "xmlns:stream='http://etherx.jabber.org/streams' to='example.org' version='1.0'>"])
c2s("host-unknown", 0, [C_HDR.replace("example.org", "nowhere.test")])
c2s("stanza-before-auth", 0, [C_HDR + "<message to='a@b'/>"])
c2s("vanish-while-delivering", 8, [C_HDR + AUTH_OK, RESP_OK, C_HDR + BIND], "<presence/>")
c2s("tls-drop-after-register", 0, [C_HDR
    + "<iq type='set' id='s1'><query xmlns='jabber:iq:register'>"
    + "<username>newbie</username><password>secret</password></query></iq>"
    + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"])

SASL2 = "xmlns='urn:xmpp:sasl:2'"
UA = ("<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'>"
      "<software>x</software></user-agent>")
BIND2 = ("<bind xmlns='urn:xmpp:bind:0'><tag>Phone</tag><enable "
         "xmlns='urn:xmpp:carbons:2'/><inactive xmlns='urn:xmpp:csi:0'/>"
         "<enable %s resume='true'/></bind>" % SM)
AUTH2 = ("<authenticate %s mechanism='SCRAM-SHA-256'><initial-response>%%F"
         "</initial-response>%s{X}</authenticate>" % (SASL2, UA))


def auth2(extra):
    return AUTH2.replace("{X}", extra)



RESP2 = "<response %s>%%S</response>" % SASL2
c2s("sasl2-bind2-inline", 0, [C_HDR + auth2(BIND2 + "<request-token "
    "xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>"), RESP2],
    C_STANZAS + "<active %s/>" % CSI)
c2s("sasl2-resume-inline", 0, [C_HDR + auth2("<resume %s previd='%s' "
    "h='2'/>" % (SM, SM_ID) + BIND2), RESP2], C_STANZAS)
c2s("sasl2-no-bind", 0, [C_HDR + auth2(""), RESP2, BIND], C_STANZAS)
c2s("sasl2-bad", 0, [C_HDR
    + "<authenticate %s mechanism='X-NOPE'/>" % SASL2
    + "<authenticate %s mechanism='SCRAM-SHA-256'><user-agent id='nope'/>"
    "</authenticate>" % SASL2
    + auth2("<bind xmlns='urn:xmpp:bind:0'><x xmlns='urn:a'/></bind>")
    + "<authenticate %s mechanism='HT-SHA-256-NONE'><initial-response>"
    "dXNlcgA=</initial-response></authenticate>" % SASL2
    + "<response %s>=</response><abort %s/>" % (SASL2, SASL2)
    + auth2(""), "<abort %s/><authenticate %s mechanism='SCRAM-SHA-256-"
    "PLUS'><initial-response>cD10bHMtZXhwb3J0ZXIsLG49dXNlcixyPWE="
    "</initial-response></authenticate>" % (SASL2, SASL2)])

# XEP-0480 (mode bit 4: SHA-1 credentials only): the task done, then bad
# task data, an unknown task, a stray element and an abort mid-task
UPGR = "<upgrade xmlns='urn:xmpp:sasl:upgrade:0'>UPGR-SCRAM-SHA-256</upgrade>"
AUTH2_SHA1 = ("<authenticate %s mechanism='SCRAM-SHA-1'><initial-response>%%F"
              "</initial-response>%s%s</authenticate>" % (SASL2, UA, UPGR))
RESP2_SHA1 = "<response %s>%%1</response>" % SASL2
NEXT = "<next %s task='UPGR-SCRAM-SHA-256'/>" % SASL2


def task_data(h):
    return ("<task-data %s><hash xmlns='urn:xmpp:scram-upgrade:0'>%s</hash>"
            "</task-data>" % (SASL2, h))


c2s("sasl2-upgrade", 16, [C_HDR + AUTH2_SHA1, RESP2_SHA1, NEXT,
    task_data("A" * 43 + "="), BIND], C_STANZAS)
c2s("sasl2-upgrade-bad", 16, [C_HDR + AUTH2_SHA1, RESP2_SHA1, NEXT,
    task_data("!!") + AUTH2_SHA1, RESP2_SHA1,
    "<next %s task='UPGR-X'/>" % SASL2 + AUTH2_SHA1, RESP2_SHA1,
    "<response %s>=</response>" % SASL2])
c2s("sasl2-upgrade-abort", 16, [C_HDR + AUTH2_SHA1, RESP2_SHA1, NEXT,
    "<abort %s/>" % SASL2 + AUTH2_SHA1, RESP2_SHA1, task_data("AAAA")])


# ---- the upgrade target (tests/fuzz/fuzz_upgrade.c) ------------------------
# byte 0: bit 0 the account lacks SHA-256, bit 1 TLS; NUL-separated elements
def upgrade(name, mode, *els):
    write("upgrade", name, bytes([mode]) + b"\0".join(e.encode() for e in els))


UP_AUTH = "<authenticate %s mechanism='SCRAM-SHA-1'>%s</authenticate>" % (
    SASL2, UPGR)
UP_HASH = task_data(base64.b64encode(bytes(range(32))).decode())
upgrade("done", 3, UP_AUTH, NEXT, UP_HASH)
upgrade("has-both", 2, UP_AUTH, NEXT, UP_HASH)
upgrade("no-tls", 1, UP_AUTH, NEXT, UP_HASH)
upgrade("short-hash", 3, UP_AUTH, NEXT, task_data(base64.b64encode(
    b"x" * 20).decode()))
upgrade("bad-base64", 3, UP_AUTH, NEXT, task_data("!!"))
upgrade("no-hash", 3, UP_AUTH, NEXT, "<task-data %s/>" % SASL2)
upgrade("data-first", 3, UP_AUTH, UP_HASH, NEXT)
upgrade("other-task", 3, UP_AUTH, "<next %s task='UPGR-SCRAM-SHA-512'/>"
        % SASL2, UP_HASH)
upgrade("twice", 3, UP_AUTH, NEXT, NEXT, UP_HASH, UP_HASH)
upgrade("empty-hash", 3, UP_AUTH, NEXT, task_data("="))
upgrade("long-hash", 3, UP_AUTH, NEXT, task_data(base64.b64encode(
    b"y" * 300).decode()))
upgrade("store-fails", 7, UP_AUTH, NEXT, UP_HASH)


# ---- the router target (tests/fuzz/fuzz_router.c) --------------------------
# Records, not frames: the target binds the sessions and frames each stanza
# itself at the LINK_VERSION it was built with, so these never go stale.
def router_seeds():
    # slots: alice/a, alice/b, bob/x, carol/z (offline at the start)
    alice_a, alice_b, bob_x, carol_z = range(4)
    rob_r, rob, eve_e, remote = range(4)

    def st(slot, xml, to=0):
        x = xml.encode()
        return bytes([slot, to]) + u16(len(x)) + x

    def s2s(frm, xml, to=0):
        x = xml.encode()
        return bytes([4 | frm << 3, to]) + u16(len(x)) + x

    def toggle(slot):
        return bytes([6 | slot << 3])

    def rebind(slot):
        return bytes([7 | slot << 3])

    def deluser(slot):  # alice, bob, carol, dave
        return bytes([7 | slot << 3 | 0x20])

    def seed(name, *records):
        write("router", name, b"".join(records))

    roster = "<query xmlns='jabber:iq:roster'>%s</query>"
    get = "<iq type='get' id='r1'>" + roster % "" + "</iq>"

    def rset(item, id="s1"):
        return "<iq type='set' id='%s'>%s</iq>" % (id, roster % item)

    def pres(to, typ):
        return "<presence to='%s' type='%s'/>" % (to, typ)

    seed("roster-get-set-remove",
         st(alice_a, get),
         st(alice_a, rset("<item jid='bob@example.org' name='Bob'>"
                          "<group>Friends</group><group>Work</group></item>")),
         st(alice_a, rset("<item jid='rob@remote.example'/>", "s2")),
         st(alice_b, get),
         st(alice_a, "<iq type='get' id='r2'><query xmlns='jabber:iq:roster' "
                     "ver='1'/></iq>"),
         st(alice_a, rset("<item jid='bob@example.org' "
                          "subscription='remove'/>", "s3")),
         st(alice_a, rset("<item jid='nobody@example.org' "
                          "subscription='remove'/>", "s4")),
         st(alice_a, rset("<item jid='a@b'/><item jid='c@d'/>", "s5")),
         st(alice_a, "<iq type='set' id='s6' to='bob@example.org'>"
                     + roster % "<item jid='x@y'/>" + "</iq>"))
    seed("subscribe-local",
         st(alice_a, get), st(bob_x, get),
         st(alice_a, "<presence/>"), st(bob_x, "<presence/>"),
         st(alice_a, pres("bob@example.org", "subscribe")),
         st(bob_x, pres("alice@example.org", "subscribed")),
         st(bob_x, pres("alice@example.org", "subscribe")),
         st(alice_a, pres("bob@example.org", "subscribed")),
         st(alice_a, "<presence><show>away</show><status>out</status>"
                     "<priority>5</priority></presence>"),
         st(bob_x, pres("alice@example.org", "unsubscribe")),
         st(alice_a, pres("bob@example.org", "unsubscribed")),
         st(alice_a, get))
    seed("subscribe-remote",
         st(alice_a, get), st(alice_a, "<presence/>"),
         st(alice_a, pres("rob@remote.example", "subscribe")),
         s2s(rob, pres("alice@example.org", "subscribed")),
         s2s(rob_r, "<presence to='alice@example.org'/>"),
         s2s(rob, pres("alice@example.org", "subscribe")),
         st(alice_b, pres("rob@remote.example", "subscribed")),
         s2s(eve_e, pres("alice@example.org", "subscribe")),
         s2s(eve_e, pres("alice@example.org", "unsubscribe")),
         s2s(rob, pres("alice@example.org", "unsubscribed")),
         s2s(remote, pres("alice@example.org", "subscribe")),
         st(alice_a, get))
    seed("subscribe-offline-redelivered",
         s2s(rob, pres("carol@example.org", "subscribe")),
         st(bob_x, pres("carol@example.org", "subscribe")),
         st(alice_a, pres("carol@example.org", "subscribed")),
         toggle(carol_z),
         st(carol_z, get), st(carol_z, "<presence/>"),
         st(carol_z, pres("rob@remote.example", "subscribed")),
         st(carol_z, pres("bob@example.org", "unsubscribed")),
         st(carol_z, get))
    ps = "http://jabber.org/protocol/pubsub"
    form = ("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>"
            "<value>%s#%s</value></field>%s</x>")

    def field(var, val):
        return "<field var='pubsub#%s'><value>%s</value></field>" % (var, val)

    def psiq(typ, body, to="", ns=ps, id="p"):
        t = " to='%s'" % to if to else ""
        return "<iq type='%s' id='%s'%s><pubsub xmlns='%s'>%s</pubsub></iq>" % (
            typ, id, t, ns, body)

    seed("pep-publish-notify-retract",
         st(alice_a, rset("<item jid='bob@example.org'/>")),
         st(alice_a, pres("bob@example.org", "subscribe")),
         st(bob_x, pres("alice@example.org", "subscribed")),
         st(bob_x, pres("alice@example.org", "subscribe")),
         st(alice_a, pres("bob@example.org", "subscribed")),
         st(alice_a, "<presence/>"), st(bob_x, "<presence/>"),
         st(alice_a, psiq("set", "<publish node='urn:m'><item id='1'>"
                          "<m xmlns='urn:m'>x</m></item></publish>"
                          "<publish-options>" + form % (
                              ps, "publish-options",
                              field("access_model", "open") +
                              field("max_items", "2")) +
                          "</publish-options>")),
         st(alice_a, psiq("set", "<publish node='urn:m'><item>"
                          "<m xmlns='urn:m'>y</m></item></publish>")),
         st(bob_x, psiq("get", "<items node='urn:m' max_items='1'/>",
                        "alice@example.org")),
         s2s(rob_r, psiq("get", "<items node='urn:m'><item id='1'/>"
                         "</items>", "alice@example.org")),
         st(bob_x, psiq("set", "<subscribe node='urn:m' "
                        "jid='bob@example.org/x'/>", "alice@example.org")),
         st(alice_a, psiq("set", "<retract node='urn:m' notify='1'>"
                          "<item id='1'/></retract>")),
         st(alice_a, psiq("get", "<configure node='urn:m'/>",
                          ns=ps + "#owner")),
         st(alice_a, psiq("set", "<configure node='urn:m'>" + form % (
             ps, "node_config", field("access_model", "whitelist") +
             field("roster_groups_allowed", "F")) + "</configure>",
             ns=ps + "#owner")),
         st(alice_a, psiq("set", "<affiliations node='urn:m'><affiliation "
                          "jid='carol@example.org' affiliation='member'/>"
                          "</affiliations>", ns=ps + "#owner")),
         st(alice_a, psiq("get", "<subscriptions node='urn:m'/>",
                          ns=ps + "#owner")),
         st(alice_a, psiq("set", "<purge node='urn:m'/>", ns=ps + "#owner")),
         st(alice_a, "<iq type='get' id='d'><query xmlns='http://jabber.org/"
                     "protocol/disco#items'/></iq>"),
         st(alice_a, psiq("set", "<delete node='urn:m'/>", ns=ps + "#owner")),
         deluser(0))
    seed("presence-broadcast-probe",
         st(alice_a, rset("<item jid='bob@example.org'/>")),
         st(alice_a, pres("bob@example.org", "subscribe")),
         st(bob_x, pres("alice@example.org", "subscribed")),
         st(bob_x, "<presence><priority>1</priority></presence>"),
         st(alice_a, "<presence/>"), st(alice_b, "<presence/>"),
         st(alice_a, "<presence><show>dnd</show></presence>"),
         st(alice_a, pres("bob@example.org", "probe")),
         s2s(rob_r, pres("alice@example.org", "probe")),
         s2s(rob_r, pres("bob@example.org", "probe")),
         st(alice_a, "<presence to='rob@remote.example/r'/>"),
         st(alice_a, "<presence to='carol@example.org'/>"),
         st(alice_b, "<presence type='unavailable'/>"),
         toggle(alice_a), toggle(alice_a), rebind(bob_x),
         st(bob_x, "<presence type='unavailable'/>"))
    seed("offline-store-redeliver",
         st(alice_a, "<message to='carol@example.org' type='chat'>"
                     "<body>one</body></message>"),
         s2s(rob_r, "<message to='carol@example.org'><body>two</body>"
                    "</message>"),
         st(bob_x, "<message to='carol@example.org/z' type='normal'>"
                   "<body>three</body></message>"),
         st(bob_x, "<message to='carol@example.org' type='headline'>"
                   "<body>skip</body></message>"),
         st(bob_x, "<message to='carol@example.org' type='groupchat'>"
                   "<body>skip</body></message>"),
         st(alice_a, "<message to='dave@example.org'><body>d</body>"
                     "</message>"),
         st(alice_a, "<message to='nobody@example.org'><body>?</body>"
                     "</message>"),
         *[st(alice_b, "<message to='carol@example.org'><body>%s</body>"
                       "</message>" % ("x" * (i * 900))) for i in range(8)],
         toggle(carol_z),
         st(carol_z, "<presence><priority>-1</priority></presence>"),
         st(carol_z, "<presence/>"),
         st(carol_z, "<message to='alice@example.org'><body>back</body>"
                     "</message>"),
         st(alice_a, "<message to='alice@example.org/gone'><body>b</body>"
                     "</message>"),
         st(alice_a, "<message to='rob@remote.example/r'><body>r</body>"
                     "</message>"))
    block = "<iq type='set' id='%s'><%s xmlns='urn:xmpp:blocking'>%s</%s></iq>"
    seed("block-unblock",
         st(alice_a, "<iq type='get' id='b0'><blocklist "
                     "xmlns='urn:xmpp:blocking'/></iq>"),
         st(alice_a, "<presence/>"),
         st(alice_a, block % ("b1", "block", "<item jid='bob@example.org'/>"
                              "<item jid='evil.example'/>"
                              "<item jid='rob@remote.example/r'/>", "block")),
         st(bob_x, "<message to='alice@example.org'><body>hi</body>"
                   "</message>"),
         s2s(eve_e, "<message to='alice@example.org'><body>x</body>"
                    "</message>"),
         st(bob_x, pres("alice@example.org", "subscribe")),
         st(alice_a, "<message to='bob@example.org'><body>x</body>"
                     "</message>"),
         st(alice_b, "<iq type='get' id='b2'><blocklist "
                     "xmlns='urn:xmpp:blocking'/></iq>"),
         st(alice_a, block % ("b3", "unblock", "<item jid='bob@example.org'/>",
                              "unblock")),
         st(alice_a, block % ("b4", "block", "<item jid='bad@@jid'/>",
                              "block")),
         st(alice_a, block % ("b5", "block", "", "block")),
         st(alice_a, block % ("b6", "unblock", "", "unblock")),
         st(alice_a, block % ("b7", "block", "".join(
             "<item jid='u%d@example.net'/>" % i for i in range(10)),
             "block")))
    priv = "<iq type='%s' id='%s'><query xmlns='jabber:iq:private'>%s</query></iq>"
    seed("private-xml",
         st(alice_a, priv % ("set", "p1", "<storage xmlns='storage:bookmarks'>"
                             "<conference jid='room@muc.example'/></storage>")),
         st(alice_a, priv % ("get", "p2", "<storage xmlns='storage:bookmarks'/>")),
         st(alice_a, priv % ("set", "p3", "".join(
             "<d%d xmlns='urn:x:%d'>%s</d%d>" % (i, i, "y" * 3000, i)
             for i in range(5)))),
         st(alice_a, priv % ("get", "p4", "<foo/>")),
         st(alice_a, priv % ("set", "p5", "<x xmlns='jabber:client'/>")),
         st(alice_a, "<iq type='get' id='p6' to='bob@example.org'>"
                     "<query xmlns='jabber:iq:private'><a xmlns='b'/></query>"
                     "</iq>"))
    seed("vcard",
         st(alice_a, "<iq type='set' id='v1'><vCard xmlns='vcard-temp'>"
                     "<FN>Alice</FN><NICKNAME>al</NICKNAME></vCard></iq>"),
         st(alice_a, "<iq type='get' id='v2'><vCard xmlns='vcard-temp'/></iq>"),
         st(bob_x, "<iq type='get' id='v3' to='alice@example.org'>"
                   "<vCard xmlns='vcard-temp'/></iq>"),
         s2s(rob_r, "<iq type='get' id='v4' to='alice@example.org'>"
                    "<vCard xmlns='vcard-temp'/></iq>"),
         st(bob_x, "<iq type='set' id='v5' to='alice@example.org'>"
                   "<vCard xmlns='vcard-temp'/></iq>"),
         st(alice_a, "<iq type='set' id='v6'><vCard xmlns='vcard-temp'>"
                     "<FN>%s</FN></vCard></iq>" % ("z" * 5000)),
         st(alice_a, "<iq type='get' id='v7' to='dave@example.org'>"
                     "<vCard xmlns='vcard-temp'/></iq>"))
    seed("disco-ping-version-time-last",
         st(alice_a, "<iq type='get' id='d1' to='example.org'><query "
                     "xmlns='http://jabber.org/protocol/disco#info'/></iq>"),
         st(alice_a, "<iq type='get' id='d2' to='example.org'><query "
                     "xmlns='http://jabber.org/protocol/disco#items'/></iq>"),
         st(alice_a, "<iq type='get' id='d3' to='bob@example.org'><query "
                     "xmlns='http://jabber.org/protocol/disco#info'/></iq>"),
         st(alice_a, "<iq type='get' id='d4' to='example.org'><query "
                     "xmlns='http://jabber.org/protocol/disco#info' "
                     "node='x'/></iq>"),
         st(alice_a, "<iq type='get' id='p1' to='example.org'>"
                     "<ping xmlns='urn:xmpp:ping'/></iq>"),
         st(alice_a, "<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>"),
         s2s(rob_r, "<iq type='get' id='p3' to='example.org'>"
                    "<ping xmlns='urn:xmpp:ping'/></iq>"),
         st(alice_a, "<iq type='get' id='p4' to='bob@example.org/x'>"
                     "<ping xmlns='urn:xmpp:ping'/></iq>"),
         st(bob_x, "<iq type='result' id='p4' to='alice@example.org/a'/>"),
         st(alice_a, "<iq type='get' id='t1' to='example.org'>"
                     "<time xmlns='urn:xmpp:time'/></iq>"),
         st(alice_a, "<iq type='get' id='t2' to='example.org'>"
                     "<query xmlns='jabber:iq:version'/></iq>"),
         st(alice_a, "<iq type='get' id='t3' to='example.org'>"
                     "<query xmlns='jabber:iq:last'/></iq>"),
         st(alice_a, "<iq type='get' id='t4' to='carol@example.org'>"
                     "<query xmlns='jabber:iq:last'/></iq>"),
         st(alice_a, "<iq type='get' id='t5' to='example.org'>"
                     "<unknown xmlns='urn:x'/></iq>"),
         st(alice_a, "<iq type='set' id='t6' to='example.org'>"
                     "<query xmlns='jabber:iq:register'><remove/></query></iq>"),
         st(alice_a, "<iq type='error' id='t7' to='example.org'/>"),
         st(alice_a, "<message to='example.org'><body>srv</body></message>"),
         st(alice_a, "<message to='remote.example'><body>r</body></message>"))
    seed("deluser-online-and-offline",
         st(alice_a, get), st(alice_a, "<presence/>"), st(bob_x, "<presence/>"),
         st(alice_a, pres("bob@example.org", "subscribe")),
         st(bob_x, pres("alice@example.org", "subscribed")),
         st(bob_x, pres("alice@example.org", "subscribe")),
         st(alice_a, pres("bob@example.org", "subscribed")),
         st(alice_a, pres("rob@remote.example", "subscribe")),
         s2s(rob, pres("alice@example.org", "subscribed")),
         st(alice_a, "<iq type='set' id='v1'><vCard xmlns='vcard-temp'>"
                     "<FN>Alice</FN></vCard></iq>"),
         st(alice_a, block % ("b1", "block", "<item jid='eve@evil.example'/>",
                              "block")),
         st(bob_x, "<message to='carol@example.org'><body>x</body></message>"),
         s2s(rob, pres("carol@example.org", "subscribe")),
         deluser(0), deluser(2),
         st(bob_x, get),
         st(bob_x, "<message to='alice@example.org'><body>gone?</body>"
                   "</message>"),
         toggle(0), st(alice_a, get), deluser(1))
    carbons = "<iq type='set' id='c%s'><%s xmlns='urn:xmpp:carbons:2'/></iq>"
    forged = ("<message to='alice@example.org/a' type='chat'><received "
              "xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
              "<message xmlns='jabber:client' from='x@y' to='alice@example.org'>"
              "<body>f</body></message></forwarded></received></message>")
    seed("carbons",
         st(alice_a, carbons % (1, "enable")),
         st(alice_b, carbons % (2, "enable")),
         st(bob_x, carbons % (3, "enable")),
         st(alice_a, "<presence><priority>1</priority></presence>"),
         st(bob_x, "<message type='chat'><body>hi</body></message>", 3),
         st(bob_x, "<message><body>bare</body></message>", 2),
         st(alice_a, "<message type='chat'><body>re</body></message>", 6),
         st(alice_b, "<message type='chat'><body>out</body></message>", 13),
         st(bob_x, "<message type='chat'><body>p</body><private "
                   "xmlns='urn:xmpp:carbons:2'/></message>", 3),
         st(bob_x, forged),
         s2s(rob_r, forged),
         s2s(rob_r, "<message type='chat'><body>s</body><x xmlns="
                    "'http://jabber.org/protocol/muc#user'/></message>", 4),
         st(alice_a, carbons % (4, "enable"), 6),
         st(alice_a, carbons % (5, "private")),
         toggle(1), st(bob_x, "<message type='error'><body>e</body>"
                              "</message>", 3),
         st(alice_b, carbons % (6, "disable")), deluser(0))
    # XEP-0424: alice's message leaves both archives on her retraction;
    # bob's and rob's retractions of it change nothing; the one to carol
    # (offline) leaves her offline store too
    oops = ("<message type='chat' id='m1'><body>oops</body><origin-id "
            "xmlns='urn:xmpp:sid:0' id='m1'/></message>")
    retract = ("<message type='chat' id='r%s'><retract xmlns='urn:xmpp:"
               "message-retract:1' id='m1'/><body>r</body></message>")
    seed("retract-chat",
         st(alice_a, oops, 6),
         st(bob_x, retract % 1, 3),
         s2s(rob_r, retract % 2, 2),
         st(alice_a, retract % 3, 6),
         st(alice_b, retract % 4, 5),
         st(alice_a, oops, 7),
         st(alice_a, retract % 5, 7),
         toggle(carol_z), st(carol_z, "<presence/>"))
    # XEP-0357: alice registers two app servers (bob's session, a remote
    # JID) and goes away; messages and a request are pushed; bob answers
    # the first push with an error, rob the second with a result
    push = "<iq type='set' id='p%s'>%s</iq>"
    enable = ("<enable xmlns='urn:xmpp:push:0' jid='%s' node='n'>"
              "<x xmlns='jabber:x:data' type='submit'><field "
              "var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub"
              "#publish-options</value></field><field var='secret'>"
              "<value>k</value></field></x></enable>")
    seed("push",
         st(alice_a, push % (1, enable % "bob@example.org/x")),
         st(alice_a, push % (2, enable % "rob@remote.example/r")),
         st(alice_a, push % (3, "<enable xmlns='urn:xmpp:push:0' "
                                "jid='a@b@c' node='n'/>")),
         st(alice_a, push % (4, "<enable xmlns='urn:xmpp:push:0' jid='x' "
                                "node='n'><x xmlns='jabber:x:data' "
                                "type='form'/></enable>")),
         st(bob_x, push % (5, enable % "bob@example.org/x"), 2),
         toggle(0), toggle(1),
         st(bob_x, "<message type='chat'><body>wake</body></message>", 2),
         s2s(rob, "<presence type='subscribe'/>", 2),
         st(bob_x, "<iq type='error' id='push1'><error type='cancel'>"
                   "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-"
                   "stanzas'/></error></iq>", 2),
         s2s(rob_r, "<iq type='result' id='push2'/>", 2),
         st(bob_x, "<message type='chat'><body>more</body></message>", 3),
         toggle(0),
         st(alice_a, push % (6, "<disable xmlns='urn:xmpp:push:0' "
                                "jid='rob@remote.example/r'/>")),
         deluser(0))
    # XEP-0077 password change (a PBKDF2 job, pwjob.c) and XEP-0133 by
    # carol, the host's admin: the list, a form, cancel, a stale session
    reg = ("<iq type='set' id='pw%d'><query xmlns='jabber:iq:register'>"
           "<username>%s</username><password>%s</password></query></iq>")
    cmd = ("<iq type='set' id='c%d' to='example.org'><command xmlns='http:"
           "//jabber.org/protocol/commands' node='http://jabber.org/protoc"
           "ol/admin#%s'%s/></iq>")
    seed("register-passwd-adhoc",
         st(alice_a, reg % (1, "alice", "n3w")),
         st(alice_a, reg % (2, "bob@example.org", "x")),
         st(alice_b, reg % (3, "alice@example.org", "\u00ad")),
         toggle(carol_z),
         st(carol_z, "<iq type='get' id='d1' to='example.org'><query xmlns="
                     "'http://jabber.org/protocol/disco#items' node='http://"
                     "jabber.org/protocol/commands'/></iq>"),
         st(carol_z, cmd % (1, "get-online-users-list", "")),
         st(carol_z, cmd % (2, "disable-user", "")),
         st(carol_z, cmd % (3, "disable-user", " sessionid='0'")),
         st(carol_z, cmd % (4, "delete-user", " action='cancel'")),
         st(bob_x, cmd % (5, "add-user", "")),
         # XEP-0133 4.29: the form lists the admins (a walk of accounts)
         st(carol_z, cmd % (6, "edit-admin", "")),
         st(carol_z, cmd % (7, "edit-admin", " sessionid='0'")),
         st(bob_x, cmd % (8, "edit-admin", "")))

    # XEP-0401 and XEP-0379: invitations by ad-hoc command, a subscription
    # carrying a token out and in (the fake store knows none: forged)
    inv = ("<iq type='set' id='i%d' to='example.org'><command xmlns='http:"
           "//jabber.org/protocol/commands' node='urn:xmpp:invite#%s'/></iq>")
    pars = ("<presence to='%s' type='subscribe'><preauth xmlns='urn:xmpp:"
            "pars:0' token='%s'/></presence>")
    seed("invite-adhoc-preauth",
         st(alice_a, inv % (1, "invite")),
         st(alice_a, inv % (2, "create-account")),
         toggle(carol_z),
         st(carol_z, inv % (3, "create-account")),
         st(bob_x, pars % ("alice@example.org", "forged-token")),
         st(bob_x, pars % ("alice@example.org", "")),
         s2s(rob, pars % ("alice@example.org", "a" * 80)))

    # XEP-0401 with a form: #invite's in the execute, #create-account's
    # first step (its form)
    invf = ("<iq type='set' id='f%d' to='example.org'><command xmlns='http:"
            "//jabber.org/protocol/commands' node='urn:xmpp:invite#%s'>"
            "<x xmlns='jabber:x:data' type='submit'><field var='uses'>"
            "<value>%s</value></field><field var='lifetime'><value>%s"
            "</value></field><field var='username'><value>%s</value>"
            "</field></x></command></iq>")
    seed("invite-adhoc-form",
         st(alice_a, invf % (1, "invite", "3", "120", "")),
         st(alice_a, invf % (2, "invite", "0", "x", "")),
         st(alice_a, invf % (3, "invite", "99999999999", "-1", "")),
         toggle(carol_z),
         st(carol_z, invf % (4, "create-account", "1", "60", "held")),
         st(carol_z, inv % (5, "create-account")))

    # stored invitations of the token fuzzinvite (storage/store_codec.c's
    # text record), then used: a valid one of alice's, used twice, and
    # damaged ones
    def plant(rec):
        return bytes([6 | 0x40]) + u16(len(rec)) + rec

    key = hashlib.sha256(b"fuzzinvite").hexdigest()
    seed("invite-stored-records",
         plant(("%s c 1 0 alice@example.org" % key).encode()),
         st(bob_x, pars % ("alice@example.org", "fuzzinvite")),
         plant(("%s c 1 0 alice@example.org" % key).encode()),
         st(bob_x, pars % ("alice@example.org", "fuzzinvite")),
         plant(("%s a 2 1 -" % key).encode()),
         plant(("%s a 1 0 - held" % key).encode()),
         st(bob_x, pars % ("alice@example.org", "fuzzinvite")),
         st(bob_x, pars % ("alice@example.org", "fuzzinvite")),
         plant(b"0" * 64 + b" c 1 0 alice@example.org"),
         st(bob_x, pars % ("alice@example.org", "fuzzinvite")),
         plant(("%s c -1 99999999999999999999 x" % key).encode()),
         plant(b"short"))


router_seeds()


# ---- web targets: fuzz_http, fuzz_websocket, fuzz_bosh ------------------
def web_seeds():
    sep = b"\n==\n"
    host = b"Host: localhost\r\n"
    hm = b"GET /.well-known/host-meta HTTP/1.1\r\n" + host
    write("http", "host-meta", hm + b"\r\n" + hm + b"Connection: close\r\n\r\n")
    write("http", "host-meta-json", b"GET /.well-known/host-meta.json "
          b"HTTP/1.0\r\nHost: localhost:5280\r\n\r\n")
    write("http", "options", b"OPTIONS /http-bind HTTP/1.1\r\n" + host +
          b"Origin: https://x\r\n\r\n")
    write("http", "chunked", b"POST /http-bind HTTP/1.1\r\n" + host +
          b"Transfer-Encoding: chunked\r\n\r\n5\r\n<body\r\n0\r\n\r\n")
    write("http", "bad", sep.join([
        b"GARBAGE\r\n\r\n", b"GET / HTTP/2.0\r\n\r\n",
        b"GET /a/../b HTTP/1.1\r\n" + host + b"\r\n",
        b"GET /a%2fb HTTP/1.1\r\n" + host + b"\r\n",
        b"POST /http-bind HTTP/1.1\r\n" + host + b"\r\n",
        b"POST /x HTTP/1.1\r\n" + host + b"Content-Length: 99999\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + host + b"X-Forwarded-For: 1.2.3.4\r\n\r\n",
        b"GET /xmpp-websocket HTTP/1.1\r\n" + host + b"\r\n"]))

    def frame(payload, op=1, mask=True):
        if isinstance(payload, str):
            payload = payload.encode()
        n = len(payload)
        b0 = 0x80 | op
        if n < 126:
            h = bytes([b0, (0x80 if mask else 0) | n])
        else:
            h = bytes([b0, (0x80 if mask else 0) | 126]) + struct.pack(
                "!H", n)
        if not mask:
            return h + payload
        k = b"\x11\x22\x33\x44"
        return h + k + bytes(c ^ k[i % 4] for i, c in enumerate(payload))
    fr = "urn:ietf:params:xml:ns:xmpp-framing"
    opn = "<open xmlns='%s' to='localhost' version='1.0'/>" % fr
    write("websocket", "login", frame(opn) + frame(
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
        "AHVzZXIAcGVuY2ls</auth>") + frame(opn) + frame(
        "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:"
        "xmpp-bind'/></iq>") + frame("<message to='a@b'><body>x</body>"
        "</message>") + frame(b"p", 9) + frame("<close xmlns='%s'/>" % fr)
        + frame(b"\x03\xe8", 8))
    write("websocket", "unmasked", frame(opn, mask=False))
    write("websocket", "reserved", frame(opn, op=3) + frame(opn, op=2))
    write("websocket", "fragments", bytes([0x01, 0x83]) + b"\0\0\0\0<op" +
          bytes([0x80, 0x80 | (len(opn) - 3)]) + b"\0\0\0\0" +
          opn[3:].encode())
    bosh = "http://jabber.org/protocol/httpbind"
    create = ("<body xmlns='%s' xmlns:xmpp='urn:xmpp:xbosh' rid='100' "
              "to='localhost' wait='10' hold='1' xmpp:version='1.0'/>" % bosh)
    b = lambda rid, extra="", payload="": (
        "<body xmlns='%s' xmlns:xmpp='urn:xmpp:xbosh' rid='%d' sid='%%S'%s>"
        "%s</body>" % (bosh, rid, extra, payload)).encode()
    write("bosh", "session", sep.join([
        create.encode(),
        b(101, "", "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
          "mechanism='PLAIN'>AHVzZXIAcGVuY2ls</auth>"),
        b(102, " xmpp:restart='true'"),
        b(104, "", "<iq xmlns='jabber:client' type='get' id='1'/>"),
        b(103), b(104), b(105, " pause='30'"),
        b(106, " type='terminate'")]))
    write("bosh", "bad", sep.join([
        b"<body/>", ("<body xmlns='%s' rid='1' to='nowhere'/>" % bosh)
        .encode(), create.encode(), b(999), b(101),
        ("<body xmlns='%s' rid='5' sid='00'/>" % bosh).encode()]))


web_seeds()
# ---- the muc target (tests/fuzz/fuzz_muc.c) ---------------------------------
# A mode byte (bit 0: the archive on), then records: byte 0 = sender
# (bits 0-2: alice/a, alice/b, bob/x, carol/z,
# eve@remote, mallory@remote, remote.test, dave) | kind << 3 (message,
# presence, iq) | type << 5; byte 1 = the 'to' (room/alice, room/bob, room,
# room/Bob, other/x, other, service, service/res, room/carol, big/n).
def muc_seeds():
    MSG, PRES, IQ = 0, 1, 2
    NORMAL, CHAT, GROUPCHAT = 0, 1, 2
    AVAIL, UNAVAIL, PERROR = 0, 1, 7
    GET, SET = 0, 1

    def r(frm, kind, typ, to, xml):
        x = xml.encode()
        return bytes([frm | kind << 3 | typ << 5, to]) + u16(len(x)) + x

    def seed(name, *records):
        # the mode byte: the archive on, and a copy with it off
        write("muc", name, b"\x01" + b"".join(records))
        write("muc", name + "-ring", b"\x00" + b"".join(records))

    muc = "<x xmlns='http://jabber.org/protocol/muc'>%s</x>"
    join = lambda frm, to, extra="": r(frm, PRES, AVAIL, to,
                                        "<presence>" + muc % extra +
                                        "</presence>")
    owner = "<query xmlns='http://jabber.org/protocol/muc#owner'>%s</query>"
    admin = "<query xmlns='http://jabber.org/protocol/muc#admin'>%s</query>"
    form = "<x xmlns='jabber:x:data' type='submit'>%s</x>"
    field = "<field var='muc#roomconfig_%s'><value>%s</value></field>"
    instant = r(0, IQ, SET, 2, "<iq type='set' id='c'>" + owner % (form % "")
                + "</iq>")
    seed("join-talk-leave", join(0, 0), instant, join(2, 1),
         r(2, MSG, GROUPCHAT, 2, "<message type='groupchat'><body>hi"
           "</body></message>"),
         r(2, MSG, CHAT, 0, "<message type='chat'><body>pm</body>"
           "</message>"),
         r(0, MSG, GROUPCHAT, 2, "<message type='groupchat'><subject>t"
           "</subject></message>"),
         join(3, 8, "<history maxstanzas='1'/>"),
         r(2, PRES, AVAIL, 3, "<presence/>"),
         r(2, PRES, UNAVAIL, 3, "<presence type='unavailable'/>"),
         r(3, PRES, PERROR, 8, "<presence type='error'/>"))
    seed("configure-persistent", join(0, 0),
         r(0, IQ, GET, 2, "<iq type='get' id='g'>" + owner % "" + "</iq>"),
         r(0, IQ, SET, 2, "<iq type='set' id='s'>" + owner % (form % (
             field % ("persistentroom", "1") + field % ("membersonly", "1")
             + field % ("roomsecret", "pw") + field % ("whois", "anyone")
             + field % ("allowpm", "moderators")
             + field % ("historylength", "2"))) + "</iq>"),
         r(0, IQ, SET, 2, "<iq type='set' id='a'>" + admin %
           "<item jid='bob@example.org' affiliation='member'/>" + "</iq>"),
         join(2, 1, "<password>pw</password>"),
         r(0, IQ, SET, 2, "<iq type='set' id='v'><vCard xmlns='vcard-temp'>"
           "<PHOTO><BINVAL>aGVsbG8=</BINVAL></PHOTO></vCard></iq>"),
         r(2, IQ, SET, 2, "<iq type='set' id='r'><query xmlns='jabber:iq:"
           "register'>" + form % "<field var='muc#register_roomnick'><value>"
           "Bob</value></field>" + "</query></iq>"))
    seed("kick-ban-destroy", join(0, 0), instant, join(2, 1), join(4, 8),
         r(0, IQ, SET, 2, "<iq type='set' id='k'>" + admin %
           "<item nick='carol' role='none'><reason>r</reason></item>"
           + "</iq>"),
         r(0, IQ, SET, 2, "<iq type='set' id='b'>" + admin %
           "<item jid='bob@example.org' affiliation='outcast'/>" + "</iq>"),
         r(0, IQ, GET, 2, "<iq type='get' id='l'>" + admin %
           "<item affiliation='outcast'/>" + "</iq>"),
         r(0, IQ, SET, 2, "<iq type='set' id='d'>" + owner %
           "<destroy jid='other@conference.example.org'><reason>r</reason>"
           "</destroy>" + "</iq>"))
    seed("invite-voice-moderate", join(0, 0), instant, join(2, 1),
         r(2, MSG, NORMAL, 2, "<message><x xmlns='http://jabber.org/"
           "protocol/muc#user'><invite to='carol@example.org'><reason>x"
           "</reason></invite></x></message>"),
         r(3, MSG, NORMAL, 2, "<message><x xmlns='http://jabber.org/"
           "protocol/muc#user'><decline to='bob@example.org'/></x>"
           "</message>"),
         r(2, MSG, NORMAL, 2, "<message><x xmlns='jabber:x:data' type="
           "'submit'><field var='FORM_TYPE'><value>http://jabber.org/"
           "protocol/muc#request</value></field></x></message>"),
         r(0, IQ, SET, 2, "<iq type='set' id='m'><moderate xmlns='urn:xmpp:"
           "message-moderate:1' id='x'><retract xmlns='urn:xmpp:message-"
           "retract:1'/></moderate></iq>"),
         r(2, IQ, GET, 1, "<iq type='get' id='p'><ping xmlns='urn:xmpp:"
           "ping'/></iq>"),
         r(0, IQ, GET, 6, "<iq type='get' id='i'><query xmlns='http://"
           "jabber.org/protocol/disco#items'/></iq>"),
         r(0, IQ, GET, 2, "<iq type='get' id='i'><query xmlns='http://"
           "jabber.org/protocol/disco#info'/></iq>"))
    # XEP-0424: an author's retraction, another's, one without an id
    retract = ("<message type='groupchat'><retract xmlns='urn:xmpp:"
               "message-retract:1'%s/><body>r</body></message>")
    seed("retract-own", join(0, 0), instant, join(2, 1),
         r(2, MSG, GROUPCHAT, 2, "<message type='groupchat'><body>hi"
           "</body></message>"),
         r(2, MSG, GROUPCHAT, 2, retract % " id='x'"),
         r(0, MSG, GROUPCHAT, 2, retract % " id='x'"),
         r(2, MSG, GROUPCHAT, 2, retract % ""))


muc_seeds()


def fast_seeds():
    """tests/fuzz/fuzz_fast.c: byte 0 the mechanism (bits 0-1) and a
    count (bit 2, byte 1), then a FAST record as c2s/fast.c writes it,
    for the target's credentials ("pencil", its salt, 16 iterations)."""
    import hashlib
    import hmac
    salt = b"0123456789abcdef"
    salted = hashlib.pbkdf2_hmac("sha256", b"pencil", salt, 16)
    stored = hashlib.sha256(hmac.new(salted, b"Client Key",
                                     hashlib.sha256).digest()).digest()
    fp = hmac.new(stored, salt, hashlib.sha256).digest()[:8]
    ht_none = 5

    def slot(mech, expiry, count, key, f=fp):
        return (u8(1) + u8(mech) + struct.pack(">Q", expiry) + u32(count)
                + key + f)

    for m in range(4):
        cur = slot(ht_none + m, 1 << 40, 3, bytes([0x11 + m]) * 32)
        new = slot(ht_none + m, 1 << 40, 0, bytes([0x22 + m]) * 32)
        write("fast", "two-slots-%d" % m, u8(m | 4) + u8(7) + u8(1) + cur
              + new)
        write("fast", "no-count-%d" % m, u8(m) + u8(0) + u8(1) + cur + new)
    other = slot(ht_none + 1, 1 << 40, 0, b"\x33" * 32)
    stale = slot(ht_none, 1, 0, b"\x44" * 32)
    write("fast", "other-mech-expired", u8(4) + u8(1) + u8(1) + other
          + stale)
    write("fast", "old-password", u8(0) + u8(0) + u8(1)
          + slot(ht_none, 1 << 40, 0, b"\x55" * 32, b"\0" * 8) + other)
    write("fast", "replayed-count", u8(4) + u8(3) + u8(1)
          + slot(ht_none, 1 << 40, 3, b"\x66" * 32) + other)
    write("fast", "short", u8(0) + u8(0) + u8(1) + other)
    write("fast", "version-2", u8(0) + u8(0) + u8(2) + other + other)


fast_seeds()


# handover: the next router's file of a planned restart
# (router/handover_fmt.c): "PARLEYHO" u32 version u32 body-length body
# u64 FNV-1a(body); records u8 type u8 nfields, fields u32 length + bytes
HANDOVER_VERSION = 2


def handover_seeds():
    def rec(t, *fields):
        return (t.encode() + u8(len(fields)) +
                b"".join(u32(len(f)) + f.encode() for f in fields))

    def fnv(b):
        h = 0xcbf29ce484222325
        for c in b:
            h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
        return h

    def ho(body, version=HANDOVER_VERSION, bad=False):
        return (b"PARLEYHO" + u32(version) + u32(len(body)) + body +
                struct.pack(">Q", fnv(body) ^ (1 if bad else 0)))

    room = rec("R", "r@conference.example.org", "00112233aabbccdd", "0",
               "<room xmlns='urn:parley:muc:0' node='r' creator="
               "'a@example.org'/>")
    occ = rec("O", "r@conference.example.org", "alice", "a@example.org",
              "3", "1", "b2NjdXBhbnQ=", "<show>away</show>",
              "a@example.org/phone", "a@example.org/pc")
    far = rec("O", "r@conference.example.org", "far", "f@remote.test",
              "2", "1", "ZmFy", "", "f@remote.test/x")
    dirp = rec("D", "a@example.org/phone", "b@example.org/pc")
    ros = rec("I", "a@example.org/phone") + rec("C", "a@example.org/pc")
    smq = (rec("Q", "a@example.org/phone", "4294967295", "0", "1", "1",
               "", "c@example.org/x", "<message><body>1</body></message>")
           + rec("Q", "a@example.org/phone", "0", "0", "1", "0",
                 "a@example.org/phone", "", "<message/>"))
    write("handover", "full", ho(room + occ + far + dirp + ros + smq))
    write("handover", "sm", ho(smq))
    write("handover", "empty", ho(b""))
    write("handover", "roster", ho(ros))
    hist = (rec("H", "r@conference.example.org", "1764930000.125",
                "c2lk", "<message from='r@conference.example.org/alice' "
                "type='groupchat'><body>hi</body></message>") +
            rec("H", "r@conference.example.org", "1764930001.000", "c2lk2",
                "<message/>"))
    caps = (rec("K", "sha-1 q07IKJEyjvHSyhy//CH0CxmKi8w=",
                "http://jabber.org/protocol/caps\nurn:xmpp:ping") +
            rec("K", "sha-256 " + "A" * 43 + "=", ""))
    write("handover", "history-caps", ho(room + occ + hist + caps))
    write("handover", "version-1", ho(room + occ + ros, version=1))
    write("handover", "other-version",
          ho(ros, version=HANDOVER_VERSION + 1))
    write("handover", "bad-checksum", ho(room + occ, bad=True))
    write("handover", "truncated", ho(room + occ)[:-20])
    write("handover", "bad-arity", ho(b"D\x01" + u32(1) + b"x"))


handover_seeds()
