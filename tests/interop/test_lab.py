"""
The lab itself: DNS inside the namespace, and Prosody <-> ejabberd
federation in both modes, a message each way. If these fail, nothing in
test_federation.py can be trusted.
"""
import socket
import struct

import pytest

import lab
from conftest import exchange, new_user, uniq


def dns_query(name, qtype):
    """One UDP query to the lab's dnsmasq: (rcode, [answer rdata bytes])."""
    qid = 0x4242
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(q, (lab.DNS_ADDR, 53))
        data, _ = s.recvfrom(4096)
    rid, flags, qd, an = struct.unpack(">HHHH", data[:8])
    assert rid == qid
    pos = 12
    for _ in range(qd):
        while data[pos]:
            pos += data[pos] + 1
        pos += 5
    answers = []
    for _ in range(an):
        if data[pos] & 0xC0 == 0xC0:
            pos += 2
        else:
            while data[pos]:
                pos += data[pos] + 1
            pos += 1
        rtype, _, _, rdlen = struct.unpack(">HHIH", data[pos:pos + 10])
        pos += 10
        if rtype == qtype:
            answers.append(data[pos:pos + rdlen])
        pos += rdlen
    return flags & 0xF, answers


SRV = 33
A = 1


@pytest.mark.parametrize("domain", sorted(lab.ADDR))
def test_dns_records(pool, domain):
    rcode, ans = dns_query(domain, A)
    assert rcode == 0 and ans == [socket.inet_aton(lab.ADDR[domain])]
    rcode, ans = dns_query("_xmpp-server._tcp." + domain, SRV)
    assert rcode == 0 and len(ans) == 1
    prio, weight, port = struct.unpack(">HHH", ans[0][:6])
    assert port == lab.S2S_PORT[domain]


def test_dns_nodns_is_nxdomain(pool):
    assert dns_query(lab.NODNS, A)[0] == 3
    assert dns_query("_xmpp-server._tcp." + lab.NODNS, SRV)[0] == 3
    # and the system resolver in the namespace agrees
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo(lab.NODNS, 5269)


@pytest.mark.parametrize("mode", lab.MODES)
async def test_prosody_ejabberd_federation(pool, clients, mode):
    pros = pool.get("prosody", mode)
    ejab = pool.get("ejabberd", mode)
    a, b = new_user(pros, "pa"), new_user(ejab, "eb")
    ca = await clients.login(a)
    cb = await clients.login(b)
    # Prosody -> ejabberd (Prosody opens the first stream), then a reply
    await exchange(ca, cb, "p2e-" + uniq())
    await exchange(cb, ca, "e2p-" + uniq())
    # a second message each way on the established streams
    await exchange(ca, cb)
    await exchange(cb, ca)
    check_auth(pros, ejab, mode)


def check_auth(pros, ejab, mode):
    """Both servers' logs say the streams were authenticated the way the
    mode intends: SASL EXTERNAL (trusted) or dialback."""
    mech = "external" if mode == "trusted" else "dialback"
    want = {"in:" + mech, "out:" + mech}
    assert pros.auth_methods(ejab.domain) == want, pros.log_tail()
    assert ejab.auth_methods(pros.domain) == want, ejab.log_tail()


@pytest.mark.parametrize("mode", lab.MODES)
async def test_ejabberd_prosody_federation(pool, clients, mode):
    """ejabberd opens the first stream this time (fresh servers)."""
    for d in ("prosody.test", "ejabberd.test"):
        if d in pool.running:
            pool.stop(pool.running[d])
    pros = pool.get("prosody", mode)
    ejab = pool.get("ejabberd", mode)
    a, b = new_user(pros, "pa"), new_user(ejab, "eb")
    ca = await clients.login(a)
    cb = await clients.login(b)
    await exchange(cb, ca, "e2p-" + uniq())
    await exchange(ca, cb, "p2e-" + uniq())
    check_auth(pros, ejab, mode)
