"""
Contact addresses (XEP-0157): a host's contact-* options published as a
serverinfo form in the server's disco#info; the server's caps (XEP-0115)
still verify with the form in.
(tests/conf/bad-contact-uri.conf: a value that is no URI.)
"""
import asyncio

from conftest import DOMAIN, LOGIN_TIMEOUT
from test_caps import slix_client

NS_INFO = "http://jabber.org/protocol/disco#info"
NS_X = "jabber:x:data"
SERVERINFO = "http://jabber.org/network/serverinfo"


async def test_contact_addresses_in_disco(make_server, clients):
    srv = make_server(host_options={DOMAIN: {
        "contact-abuse": '"mailto:abuse@example.org xmpp:abuse@%s"' % DOMAIN,
        "contact-support": "https://example.org/support",
    }})
    c = await slix_client(srv, clients)
    c.register_plugin("xep_0128")
    info = await c["xep_0030"].get_info(jid=DOMAIN, local=False,
                                        timeout=LOGIN_TIMEOUT)
    forms = info.xml.findall("{%s}query/{%s}x" % (NS_INFO, NS_X))
    assert len(forms) == 1, str(info)
    fields = {}
    for f in forms[0].findall("{%s}field" % NS_X):
        fields[f.get("var")] = (f.get("type"), [
            v.text for v in f.findall("{%s}value" % NS_X)])
    assert fields == {
        "FORM_TYPE": ("hidden", [SERVERINFO]),
        "abuse-addresses": ("list-multi", ["mailto:abuse@example.org",
                                           "xmpp:abuse@%s" % DOMAIN]),
        "support-addresses": ("list-multi",
                              ["https://example.org/support"]),
    }, fields
    # slixmpp checks the server's caps hash, form included (XEP-0115 5.4)
    got = None
    for _ in range(50):
        ver = await c["xep_0115"].get_verstring(DOMAIN)
        if ver:
            got = await c["xep_0115"].get_caps(verstring=ver)
            if got is not None:
                break
        await asyncio.sleep(0.1)
    assert got is not None, "slixmpp did not verify the server's caps"


async def test_no_contacts_no_form(server, clients):
    c = await slix_client(server, clients)
    info = await c["xep_0030"].get_info(jid=DOMAIN, local=False,
                                        timeout=LOGIN_TIMEOUT)
    assert info.xml.find("{%s}query/{%s}x" % (NS_INFO, NS_X)) is None, \
        str(info)

