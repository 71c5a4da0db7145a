/*
 * What service discovery (XEP-0030) says of an account's PEP service
 * (XEP-0163 1, XEP-0060 5) and of a pubsub service: the pubsub/pep or
 * pubsub/service identity and the features this engine implements -- no
 * more -- the nodes the asker may see as its items, a node's own
 * identity and its items.
 */
#include <errno.h>
#include <string.h>

#include "../common/jid.h"
#include "pubsub.h"
#include "router.h"

/* XEP-0060 10: the features really implemented, and where */
#define F_PEP		0x1	/* an account's PEP service */
#define F_SVC		0x2	/* a pubsub service */
#define F_CREATE	0x4	/* a service only if it lets nodes be made */
#define F_ALL		(F_PEP | F_SVC)

static const struct {
	const char	*name;
	int		 where;
} ps_features[] = {
	{ "access-open", F_ALL }, { "access-presence", F_PEP },
	{ "access-roster", F_PEP }, { "access-whitelist", F_ALL },
	{ "auto-create", F_PEP }, { "auto-subscribe", F_PEP },
	{ "config-node", F_ALL },
	/* XEP-0060 registry, XEP-0402: pubsub#max_items takes "max" */
	{ "config-node-max", F_ALL },
	{ "create-and-configure", F_PEP | F_SVC | F_CREATE },
	{ "create-nodes", F_PEP | F_SVC | F_CREATE }, { "delete-items", F_ALL },
	{ "delete-nodes", F_ALL }, { "filtered-notifications", F_PEP },
	{ "instant-nodes", F_SVC | F_CREATE }, { "item-ids", F_ALL },
	{ "last-published", F_ALL }, { "manage-affiliations", F_ALL },
	{ "manage-subscriptions", F_ALL }, { "member-affiliation", F_ALL },
	{ "modify-affiliations", F_ALL },
	/* XEP-0060 registry: a node keeps several items (max_items > 1) */
	{ "multi-items", F_ALL },
	{ "outcast-affiliation", F_ALL },
	{ "persistent-items", F_ALL }, { "presence-notifications", F_PEP },
	{ "presence-subscribe", F_PEP }, { "publish", F_ALL },
	{ "publish-options", F_ALL }, { "publisher-affiliation", F_ALL },
	{ "purge-nodes", F_ALL }, { "retract-items", F_ALL },
	{ "retrieve-affiliations", F_ALL }, { "retrieve-default", F_ALL },
	{ "retrieve-items", F_ALL }, { "retrieve-subscriptions", F_ALL },
	{ "subscribe", F_ALL },
};

/*
 * The identity (pubsub/pep or pubsub/service) and features of a PEP
 * service (pep) or of a pubsub service that lets nodes be created
 * (create) or not.
 */
void
ps_disco_features(struct xnode *q, struct arena *a, bool pep, bool create)
{
	struct xnode	*id, *f;
	size_t		 i;
	int		 where = pep ? F_PEP : F_SVC;

	id = xnode_add(a, q, NS_DISCO_INFO, "identity");
	xnode_set_attr(a, id, "category", "pubsub");
	xnode_set_attr(a, id, "type", pep ? "pep" : "service");
	for (i = 0; i < sizeof(ps_features) / sizeof(*ps_features); i++) {
		if ((ps_features[i].where & where) == 0 || (!pep && !create &&
		    (ps_features[i].where & F_CREATE) != 0))
			continue;
		f = xnode_add(a, q, NS_DISCO_INFO, "feature");
		xnode_set_attr(a, f, "var", arena_printf(a, "%s#%s",
		    NS_PUBSUB, ps_features[i].name));
	}
}

void
pep_disco_features(struct xnode *q, struct arena *a)
{
	ps_disco_features(q, a, true, true);
	pep_compat_features(q, a);
}

/* XEP-0060 5.3: a node's identity, if the asker may see it */
void
pep_disco_node_info(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *node)
{
	struct ps_service	 svc;
	struct ps_req		 r;
	struct ps_node		 n;
	struct xnode		*q, *id, *f;
	const char		*app;

	(void)ps_req_init(&r, &svc, rs, iq, a);
	if (ps_node_load(a, &svc, node, &n) == -1 ||
	    ps_access(&r, &n, &app) != XERR_COUNT) {
		iq_error(rs, iq, a, XERR_ITEM_NOT_FOUND, NULL);
		return;
	}
	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_DISCO_INFO, "query");
	xnode_set_attr(a, q, "node", node);
	id = xnode_add(a, q, NULL, "identity");
	xnode_set_attr(a, id, "category", "pubsub");
	xnode_set_attr(a, id, "type", "leaf");
	f = xnode_add(a, q, NULL, "feature");
	xnode_set_attr(a, f, "var", NS_PUBSUB);
	deliver_tree(rs->sender, iq);
}

struct items_list {
	struct ps_req	*r;
	struct xnode	*q;
};

static int
items_node(const char *name, uint64_t nid, const char *rec, size_t len,
    void *arg)
{
	struct items_list	*il = arg;
	struct ps_node		 n;
	struct xnode		*it;
	const char		*app;

	memset(&n, 0, sizeof(n));
	n.name = name;
	n.nid = nid;
	if (ps_conf_decode(il->r->a, rec, len, &n.conf) == -1 ||
	    ps_access(il->r, &n, &app) != XERR_COUNT)
		return 0;
	it = xnode_add(il->r->a, il->q, NULL, "item");
	xnode_set_attr(il->r->a, it, "jid", il->r->svc->jid);
	xnode_set_attr(il->r->a, it, "node", name);
	if (n.conf.title != NULL)
		xnode_set_attr(il->r->a, it, "name", n.conf.title);
	return 0;
}

static int
items_item(const struct pubsub_item *it, void *arg)
{
	struct items_list	*il = arg;
	struct xnode		*el;

	el = xnode_add(il->r->a, il->q, NULL, "item");
	xnode_set_attr(il->r->a, el, "jid", il->r->svc->jid);
	xnode_set_attr(il->r->a, el, "name", it->id);
	return 0;
}

/*
 * XEP-0060 5.2: the nodes the asker may see; 5.5: with a node, the ids
 * of its items, if the asker may retrieve them.
 */
void
pep_disco_items(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct ps_service	 svc;
	struct ps_req		 r;
	struct items_list	 il;
	struct ps_node		 n;
	struct xnode		*q;
	const char		*node, *app;
	int			 rc;

	(void)ps_req_init(&r, &svc, rs, iq, a);
	node = xnode_attr(xnode_child(iq, NULL, NULL), "node");
	q = xnode_new(a, NS_DISCO_ITEMS, "query");
	il.r = &r;
	il.q = q;
	if (node != NULL) {
		if (ps_node_load(a, &svc, node, &n) == -1 ||
		    ps_access(&r, &n, &app) != XERR_COUNT) {
			iq_error(rs, iq, a, XERR_ITEM_NOT_FOUND, NULL);
			return;
		}
		xnode_set_attr(a, q, "node", node);
		rc = store_pubsub_items(router.store, svc.owner, svc.domain,
		    n.nid, 0, items_item, &il);
	} else
		rc = store_pubsub_node_list(router.store, svc.owner,
		    svc.domain, items_node, &il);
	if (rc == -1) {
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	iq_make_result(iq, a);
	xnode_append(iq, q);
	deliver_tree(rs->sender, iq);
}
