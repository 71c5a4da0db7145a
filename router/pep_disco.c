/*
 * What service discovery (XEP-0030) says of an account's PEP service
 * (XEP-0163 1, XEP-0060 5): the pubsub/pep identity and the features
 * this engine implements -- no more -- on the bare JID, the nodes the
 * asker may see as its items, and a node's own identity.
 */
#include <errno.h>
#include <string.h>

#include "../common/jid.h"
#include "pubsub.h"
#include "router.h"

/* XEP-0060 10: the features really implemented */
static const char *const pep_features[] = {
	"access-open", "access-presence", "access-roster", "access-whitelist",
	"auto-create", "auto-subscribe", "config-node",
	"create-and-configure", "create-nodes", "delete-items",
	"delete-nodes", "filtered-notifications", "item-ids",
	"last-published", "manage-affiliations", "manage-subscriptions",
	"member-affiliation", "modify-affiliations", "outcast-affiliation",
	"persistent-items", "presence-notifications", "presence-subscribe",
	"publish", "publish-options", "publisher-affiliation",
	"purge-nodes", "retract-items", "retrieve-affiliations",
	"retrieve-default", "retrieve-items", "retrieve-subscriptions",
	"subscribe",
};

void
pep_disco_features(struct xnode *q, struct arena *a)
{
	struct xnode	*id, *f;
	size_t		 i;

	id = xnode_add(a, q, NS_DISCO_INFO, "identity");
	xnode_set_attr(a, id, "category", "pubsub");
	xnode_set_attr(a, id, "type", "pep");
	for (i = 0; i < sizeof(pep_features) / sizeof(*pep_features); i++) {
		f = xnode_add(a, q, NS_DISCO_INFO, "feature");
		xnode_set_attr(a, f, "var", arena_printf(a, "%s#%s",
		    NS_PUBSUB, pep_features[i]));
	}
	pep_compat_features(q, a);
}

static void
disco_svc(struct ps_req *r, struct ps_service *svc, struct rstanza *rs,
    struct xnode *iq, struct arena *a)
{
	struct jid	j;
	char		bare[JID_STR_MAX + 1];

	memset(r, 0, sizeof(*r));
	r->rs = rs;
	r->iq = iq;
	r->a = a;
	r->svc = svc;
	svc->owner = rs->tnode;
	svc->domain = rs->tdomain;
	svc->pep = true;
	jid_format(bare, rs->tnode, rs->tdomain, NULL);
	svc->jid = arena_strdup(a, bare);
	r->from_full = rs->from;
	r->from_bare = "";
	if (rs->from != NULL && jid_parse(&j, rs->from) == 0) {
		jid_format(bare, j.node, j.domain, NULL);
		jid_clear(&j);
		r->from_bare = arena_strdup(a, bare);
	}
	r->owner = strcmp(r->from_bare, svc->jid) == 0;
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

	disco_svc(&r, &svc, rs, iq, a);
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

/* XEP-0060 5.2: the nodes the asker may see */
void
pep_disco_items(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct ps_service	 svc;
	struct ps_req		 r;
	struct items_list	 il;
	struct xnode		*q;

	disco_svc(&r, &svc, rs, iq, a);
	q = xnode_new(a, NS_DISCO_ITEMS, "query");
	il.r = &r;
	il.q = q;
	if (store_pubsub_node_list(router.store, svc.owner, svc.domain,
	    items_node, &il) == -1) {
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	iq_make_result(iq, a);
	xnode_append(iq, q);
	deliver_tree(rs->sender, iq);
}
