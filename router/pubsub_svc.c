/*
 * The publish-subscribe service of a host (XEP-0060) at its pubsub-name,
 * pubsub.DOMAIN by default: a local component on the engine PEP uses
 * (pubsub.c, pubsub_req.c), with no owning account. It answers IQs to
 * its domain -- disco#info and disco#items, pubsub and pubsub#owner --
 * and nothing else: other stanzas get the RFC 6120 error.
 */
#include <string.h>

#include "../common/jid.h"
#include "../common/util.h"
#include "pubsub.h"
#include "router.h"

static void	svc_disco_info(struct rstanza *, struct xnode *,
		    struct arena *);

static const struct iq_handler svc_disco_info_handler = {
	.ns = NS_DISCO_INFO, .name = "query", .get = svc_disco_info,
};

static const struct iq_handler svc_disco_items_handler = {
	.ns = NS_DISCO_ITEMS, .name = "query", .get = pep_disco_items,
};

/* the payloads the service answers: one table, as iq.c's */
static const struct iq_handler *const svc_handlers[] = {
	&svc_disco_info_handler,
	&svc_disco_items_handler,
	&pubsub_handler,
	&pubsub_owner_handler,
};

/* XEP-0060 5.1: the service's identity and features */
static void
svc_info(struct ps_req *r)
{
	const struct conf_host	*h;
	struct xnode		*q, *f;
	size_t			 i;

	h = conf_pubsub_find(&router.conf, r->svc->domain);
	iq_make_result(r->iq, r->a);
	q = xnode_add(r->a, r->iq, NS_DISCO_INFO, "query");
	ps_disco_features(q, r->a, false, h != NULL &&
	    strcmp(h->pubsub_create, "nobody") != 0);
	xnode_set_attr(r->a, xnode_child(q, NS_DISCO_INFO, "identity"),
	    "name", "Publish-Subscribe");
	for (i = 0; i < nitems(svc_handlers); i++) {
		f = xnode_add(r->a, q, NS_DISCO_INFO, "feature");
		xnode_set_attr(r->a, f, "var", svc_handlers[i]->ns);
	}
	ps_send(r);
}

/* XEP-0030: the service itself, or one of its nodes (XEP-0060 5.3) */
static void
svc_disco_info(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct ps_service	 svc;
	struct ps_req		 r;
	const char		*node;

	node = xnode_attr(xnode_child(iq, NULL, NULL), "node");
	if (node != NULL) {
		pep_disco_node_info(rs, iq, a, node);
		return;
	}
	(void)ps_req_init(&r, &svc, rs, iq, a);
	svc_info(&r);
}

bool
pubsub_svc_route(struct rstanza *rs, const struct jid *to)
{
	if (conf_pubsub_find(&router.conf, to->domain) == NULL)
		return false;
	iq_component(rs, to, svc_handlers, nitems(svc_handlers));
	return true;
}
