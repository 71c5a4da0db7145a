/*
 * IQs addressed to the server or, on an account's behalf, to a bare JID
 * (RFC 6120 10.3, RFC 6121 8.5.2.1.3). One table of handlers: a feature
 * is a file and a line here, and disco#info lists exactly these.
 */
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/xml.h"
#include "router.h"

static const struct iq_handler *const iq_handlers[] = {
	&ping_handler,
	&disco_info_handler,
	&disco_items_handler,
	&roster_handler,
	&vcard_handler,
	&private_handler,
	&version_handler,
	&time_handler,
	&last_handler,
	&blocking_handler,
	&register_handler,
	&pubsub_handler,
	&pubsub_owner_handler,
	&carbons_handler,
	&mam_handler,
	&mam_prefs_handler,
	&mam_metadata_handler,
	&extdisco_services_handler,
	&extdisco_credentials_handler,
	&push_handler,
	&adhoc_handler,
};

struct iq_job {
	struct rstanza	*rs;
	bool		 account;	/* to an account's bare JID */
};

void
iq_make_result(struct xnode *iq, struct arena *a)
{
	const char	*to = xnode_attr(iq, "to");
	const char	*from = xnode_attr(iq, "from");

	xnode_set_attr(a, iq, "to", from);
	xnode_set_attr(a, iq, "from", to);
	xnode_set_attr(a, iq, "type", "result");
	iq->children = iq->last = NULL;
}

/* the handlers' one way to refuse: iq turned into its error, back to sender */
void
iq_error(struct rstanza *rs, struct xnode *iq, struct arena *a,
    enum stanza_err err, const char *text)
{
	stanza_make_error(a, iq, err, text);
	deliver_tree(rs->sender, iq);
}

bool
iq_own_account(const struct rstanza *rs)
{
	return rs->tnode != NULL && rs->sender != NULL &&
	    strcmp(rs->tnode, rs->sender->user->node) == 0 &&
	    strcmp(rs->tdomain, rs->sender->user->domain) == 0;
}

void
iq_features(struct xnode *query, struct arena *a, bool account)
{
	struct xnode	*f;
	size_t		 i;

	for (i = 0; i < sizeof(iq_handlers) / sizeof(*iq_handlers); i++) {
		if (account ? !iq_handlers[i]->account :
		    !iq_handlers[i]->server)
			continue;
		/* several elements of one namespace: one feature */
		if (i > 0 && strcmp(iq_handlers[i - 1]->ns,
		    iq_handlers[i]->ns) == 0)
			continue;
		f = xnode_add(a, query, NS_DISCO_INFO, "feature");
		xnode_set_attr(a, f, "var", iq_handlers[i]->ns);
	}
	if (!account) {
		/* XEP-0160 4: offline storage, which is not an IQ service */
		f = xnode_add(a, query, NS_DISCO_INFO, "feature");
		xnode_set_attr(a, f, "var", "msgoffline");
		/* XEP-0115 7: the server's caps in its stream features */
		f = xnode_add(a, query, NS_DISCO_INFO, "feature");
		xnode_set_attr(a, f, "var", NS_CAPS);
		/*
		 * XEP-0054: the server keeps its accounts' vCards (vcard.c,
		 * on the account's JID). Gajim looks for this in the server's
		 * disco#info, not the account's, before it edits a profile.
		 */
		f = xnode_add(a, query, NS_DISCO_INFO, "feature");
		xnode_set_attr(a, f, "var", "vcard-temp");
	}
}

bool
iq_host_account(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *host)
{
	if (host == NULL || rs->sender == NULL ||
	    strcmp(rs->sender->user->domain, host) != 0) {
		iq_error(rs, iq, a, XERR_FORBIDDEN, NULL);
		return false;
	}
	return true;
}

bool
iq_run(const struct iq_handler *h, struct rstanza *rs, struct xnode *iq,
    struct arena *a)
{
	if (rs->type == IQ_GET && h->get != NULL)
		h->get(rs, iq, a);
	else if (rs->type == IQ_SET && h->set != NULL)
		h->set(rs, iq, a);
	else
		return false;
	return true;
}

static void
iq_dispatch(struct xnode *iq, struct arena *a, void *arg)
{
	struct iq_job			*job = arg;
	struct rstanza			*rs = job->rs;
	const struct iq_handler		*h;
	struct xnode			*q;
	size_t				 i;

	if ((q = xnode_only_child(iq)) == NULL) {
		/*
		 * RFC 6120 8.2.3: one payload, not the first of several
		 * (a remote server's; the c2s refuses a client's)
		 */
		if (xnode_attr(iq, "from") == NULL)
			xnode_set_attr(a, iq, "from", rs->from);
		iq_error(rs, iq, a, XERR_BAD_REQUEST, NULL);
		return;
	}
	for (i = 0; i < sizeof(iq_handlers) / sizeof(*iq_handlers); i++) {
		h = iq_handlers[i];
		if (strcmp(h->ns, q->ns) != 0 || (h->name != NULL &&
		    strcmp(h->name, q->name) != 0))
			continue;
		if ((job->account ? h->account || h->own : h->server) &&
		    iq_run(h, rs, iq, a))
			return;
		break;
	}
	/* RFC 6120 8.4: a payload we do not serve */
	if (xnode_attr(iq, "from") == NULL)
		xnode_set_attr(a, iq, "from", rs->from);
	iq_error(rs, iq, a, XERR_SERVICE_UNAVAILABLE, NULL);
}

void
iq_to_server(struct rstanza *rs, const char *tnode, const char *tdomain)
{
	struct iq_job	job = { rs, tnode != NULL };

	rs->tnode = tnode;
	rs->tdomain = tdomain;
	/* results and errors to the server end here (our caps queries') */
	if (rs->type != IQ_GET && rs->type != IQ_SET) {
		if (tnode == NULL)
			(void)caps_iq_answer(rs);
		else
			(void)push_iq_answer(rs);
		return;
	}
	(void)deliver_parse(rs->xml, rs->xlen, iq_dispatch, &job);
}

struct iq_component_job {
	struct rstanza			*rs;
	const struct iq_handler *const	*table;
	size_t				 n;
};

static void
iq_component_dispatch(struct xnode *iq, struct arena *a, void *arg)
{
	struct iq_component_job		*job = arg;
	const struct iq_handler		*h;
	struct xnode			*q;
	size_t				 i;

	if ((q = xnode_only_child(iq)) == NULL) {
		/* RFC 6120 8.2.3: one payload */
		iq_error(job->rs, iq, a, XERR_BAD_REQUEST, NULL);
		return;
	}
	for (i = 0; i < job->n; i++) {
		h = job->table[i];
		if (strcmp(h->ns, q->ns) != 0 || strcmp(h->name, q->name) != 0)
			continue;
		if (iq_run(h, job->rs, iq, a))
			return;
		break;
	}
	/* RFC 6120 8.4: a payload the service does not serve */
	iq_error(job->rs, iq, a, XERR_SERVICE_UNAVAILABLE, NULL);
}

void
iq_component(struct rstanza *rs, const struct jid *to,
    const struct iq_handler *const *table, size_t n)
{
	struct iq_component_job	job = { rs, table, n };

	if (rs->kind == KIND_IQ && to->node == NULL && to->resource == NULL) {
		/* results and errors to the service end here */
		if (rs->type == IQ_GET || rs->type == IQ_SET) {
			rs->tnode = NULL;
			rs->tdomain = to->domain;
			(void)deliver_parse(rs->xml, rs->xlen,
			    iq_component_dispatch, &job);
		}
		return;
	}
	/*
	 * RFC 6120 10.3 and 8.3.3.19: the service takes no messages and
	 * has no other JIDs; presence to it is dropped (RFC 6121 has no
	 * error for presence to a service).
	 */
	if (rs->kind != KIND_PRESENCE)
		deliver_error(rs, XERR_SERVICE_UNAVAILABLE);
}

struct xnode *
iq_svc_info(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *category, const char *type, const char *name,
    const struct iq_handler *const *table, size_t n)
{
	struct xnode	*q, *el;
	size_t		 i;

	if (xnode_attr(xnode_child(iq, NULL, NULL), "node") != NULL) {
		iq_error(rs, iq, a, XERR_ITEM_NOT_FOUND, NULL);
		return NULL;
	}
	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_DISCO_INFO, "query");
	el = xnode_add(a, q, NS_DISCO_INFO, "identity");
	xnode_set_attr(a, el, "category", category);
	xnode_set_attr(a, el, "type", type);
	xnode_set_attr(a, el, "name", name);
	for (i = 0; i < n; i++) {
		el = xnode_add(a, q, NS_DISCO_INFO, "feature");
		xnode_set_attr(a, el, "var", table[i]->ns);
	}
	return q;
}

void
iq_svc_items(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	iq_make_result(iq, a);
	(void)xnode_add(a, iq, NS_DISCO_ITEMS, "query");
	deliver_tree(rs->sender, iq);
}
