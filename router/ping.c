/*
 * XMPP Ping (XEP-0199) to the server, or to an account's bare JID which
 * the server answers on its behalf (RFC 6121 8.5.2.1.3): an empty result.
 */
#include "router.h"

static void
ping_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	iq_make_result(iq, a);
	deliver_tree(rs->sender, iq);
}

const struct iq_handler ping_handler = {
	.ns = NS_PING, .name = "ping", .server = true, .account = true,
	.get = ping_get,
};
