/*
 * Software Version (XEP-0092) for the server's JID: our name and release,
 * no operating system (it helps an attacker more than a user). With
 * version-hide the name alone, so the release is not advertised.
 */
#include "../common/version.h"
#include "router.h"

#define NS_VERSION	"jabber:iq:version"

static void
version_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*q, *el;

	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_VERSION, "query");
	el = xnode_add(a, q, NULL, "name");
	xnode_add_text(a, el, PARLEY_NAME, sizeof(PARLEY_NAME) - 1);
	if (!router.conf.version_hide) {
		el = xnode_add(a, q, NULL, "version");
		xnode_add_text(a, el, PARLEY_VERSION,
		    sizeof(PARLEY_VERSION) - 1);
	}
	deliver_tree(rs->sender, iq);
}

/* XEP-0092 defines no set: iq.c answers it service-unavailable */
const struct iq_handler version_handler = {
	.ns = NS_VERSION, .name = "query", .server = true,
	.get = version_get,
};
