/*
 * Service discovery (XEP-0030) for the server and, on an account's
 * behalf, its bare JID (RFC 6121 8.5.2.1.3): identity and the features
 * of the IQ handler table; an account's PEP service and nodes
 * (pep_disco.c).
 */
#include <string.h>

#include "../common/version.h"
#include "adhoc.h"
#include "router.h"

void
disco_info_fill(struct xnode *q, struct arena *a, const char *domain,
    bool account)
{
	struct xnode	*id;

	id = xnode_add(a, q, NS_DISCO_INFO, "identity");
	if (account) {
		/* XEP-0030 registry: a registered account on the server */
		xnode_set_attr(a, id, "category", "account");
		xnode_set_attr(a, id, "type", "registered");
		pep_disco_features(q, a);
		mam_disco_features(q, a);
	} else {
		xnode_set_attr(a, id, "category", "server");
		xnode_set_attr(a, id, "type", "im");
		xnode_set_attr(a, id, "name", PARLEY_NAME);
	}
	iq_features(q, a, account);
	if (!account)
		contact_disco_form(q, a, domain);
}

/*
 * XEP-0115 6.2: node NODE#VER of the server's own caps is the server's
 * info again, with the node echoed; any other node is unknown
 */
static bool
disco_caps_node(const char *domain, const char *node)
{
	char	ver[CAPS_VER_MAX];
	size_t	n = strlen(PARLEY_CAPS_NODE);

	return strncmp(node, PARLEY_CAPS_NODE, n) == 0 && node[n] == '#' &&
	    caps_server_ver(domain, ver) == 0 && strcmp(node + n + 1, ver) == 0;
}

static void
disco_info_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*q;
	const char	*node;
	bool		 account = rs->tnode != NULL;

	node = xnode_attr(xnode_child(iq, NULL, NULL), "node");
	if (node != NULL && account) {
		/* an account's nodes are its PEP nodes */
		pep_disco_node_info(rs, iq, a, node);
		return;
	}
	if (node != NULL && adhoc_cmd_find(node) != NULL) {
		adhoc_disco_info(rs, iq, a, node);
		return;
	}
	if (node != NULL && !disco_caps_node(rs->tdomain, node)) {
		/* XEP-0030 3.1: the server publishes no other nodes */
		iq_error(rs, iq, a, XERR_ITEM_NOT_FOUND, NULL);
		return;
	}
	node = node != NULL ? arena_strdup(a, node) : NULL;
	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_DISCO_INFO, "query");
	if (node != NULL)
		xnode_set_attr(a, q, "node", node);
	disco_info_fill(q, a, rs->tdomain, account);
	deliver_tree(rs->sender, iq);
}

/* an account lists its PEP nodes; the server its services */
static void
disco_items_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	const struct conf_host	*h;
	struct xnode		*q, *it;
	const char		*node;
	size_t			 i;

	if (rs->tnode != NULL) {
		pep_disco_items(rs, iq, a);
		return;
	}
	node = xnode_attr(xnode_child(iq, NULL, NULL), "node");
	if (node != NULL && strcmp(node, NS_COMMANDS) == 0) {
		adhoc_disco_items(rs, iq, a);
		return;
	}
	if (node != NULL) {
		/* XEP-0030 4.1: the server has no other nodes */
		iq_error(rs, iq, a, XERR_ITEM_NOT_FOUND, NULL);
		return;
	}
	h = conf_host_find(&router.conf, rs->tdomain);
	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_DISCO_ITEMS, "query");
	if (h != NULL && h->pubsub && h->pubsub_name != NULL) {
		it = xnode_add(a, q, NS_DISCO_ITEMS, "item");
		xnode_set_attr(a, it, "jid", h->pubsub_name);
		xnode_set_attr(a, it, "name", "Publish-Subscribe");
	}
	if (h != NULL && h->proxy_name != NULL) {
		it = xnode_add(a, q, NS_DISCO_ITEMS, "item");
		xnode_set_attr(a, it, "jid", h->proxy_name);
		xnode_set_attr(a, it, "name", "SOCKS5 Bytestreams");
	}
	if (h != NULL && h->upload_name != NULL) {
		it = xnode_add(a, q, NS_DISCO_ITEMS, "item");
		xnode_set_attr(a, it, "jid", h->upload_name);
		xnode_set_attr(a, it, "name", "HTTP File Upload");
	}
	/* XEP-0114 components, connected or not: the server offers them */
	for (i = 0; h != NULL && i < router.conf.ncomponents; i++) {
		it = xnode_add(a, q, NS_DISCO_ITEMS, "item");
		xnode_set_attr(a, it, "jid", router.conf.components[i].domain);
	}
	if (h != NULL && h->muc && h->muc_name != NULL) {
		it = xnode_add(a, q, NS_DISCO_ITEMS, "item");
		xnode_set_attr(a, it, "jid", h->muc_name);
		xnode_set_attr(a, it, "name", h->muc_title);
	}
	deliver_tree(rs->sender, iq);
}

const struct iq_handler disco_info_handler = {
	.ns = NS_DISCO_INFO, .name = "query", .server = true, .account = true,
	.get = disco_info_get,
};

const struct iq_handler disco_items_handler = {
	.ns = NS_DISCO_ITEMS, .name = "query", .server = true, .account = true,
	.get = disco_items_get,
};
