/*
 * Service discovery (XEP-0030) for the server: its identity and the
 * features of the IQ handler table; no items yet.
 */
#include "router.h"

static void
disco_info_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*q, *id;

	if (xnode_attr(xnode_child(iq, NULL, NULL), "node") != NULL) {
		/* XEP-0030 3.1: we publish no nodes */
		stanza_make_error(a, iq, XERR_ITEM_NOT_FOUND, NULL);
		deliver_tree(rs->sender, iq);
		return;
	}
	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_DISCO_INFO, "query");
	id = xnode_add(a, q, NULL, "identity");
	xnode_set_attr(a, id, "category", "server");
	xnode_set_attr(a, id, "type", "im");
	xnode_set_attr(a, id, "name", "Parley");
	iq_features(q, a, false);
	deliver_tree(rs->sender, iq);
}

static void
disco_items_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	iq_make_result(iq, a);
	xnode_add(a, iq, NS_DISCO_ITEMS, "query");
	deliver_tree(rs->sender, iq);
}

const struct iq_handler disco_info_handler = {
	.ns = NS_DISCO_INFO, .name = "query", .server = true,
	.get = disco_info_get,
};

const struct iq_handler disco_items_handler = {
	.ns = NS_DISCO_ITEMS, .name = "query", .server = true,
	.get = disco_items_get,
};
