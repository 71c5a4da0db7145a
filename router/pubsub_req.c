/*
 * The XEP-0060 requests, in the pubsub and pubsub#owner namespaces, to
 * an account's bare JID (its PEP service, XEP-0163): publish with
 * publish-options, retract, items, create and configure, delete, purge,
 * subscribe and unsubscribe, affiliations and subscriptions. Each answer
 * is committed to storage before it is sent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../common/xdata.h"
#include "pubsub.h"
#include "router.h"

#define FORM_NODE_CONFIG	NS_PUBSUB "#node_config"
#define FORM_PUBLISH_OPTIONS	NS_PUBSUB "#publish-options"

/*
 * The verb of the pubsub element, NULL for none or several (served as
 * the first, the others would go unanswered): in the pubsub namespace
 * options, publish-options and configure go with another verb, and
 * configure is one on its own.
 */
static struct xnode *
req_verb(const struct xnode *ps, const char *ns)
{
	struct xnode	*v, *verb = NULL;
	bool		 owner = strcmp(ns, NS_PUBSUB) != 0;

	/* other namespaces (XEP-0059's <set/>) are the verb's business */
	for (v = xnode_child(ps, ns, NULL); v != NULL;
	    v = xnode_next(v, ns, NULL)) {
		if (!owner && (strcmp(v->name, "options") == 0 ||
		    strcmp(v->name, "publish-options") == 0 ||
		    strcmp(v->name, "configure") == 0))
			continue;
		if (verb != NULL)
			return NULL;
		verb = v;
	}
	return verb != NULL || owner ? verb :
	    xnode_child(ps, ns, "configure");
}

/*
 * The node named by the verb's 'node', checked; NULL with the error
 * sent (XEP-0060: nodeid-required for a verb that needs one).
 */
static const char *
req_node_name(struct ps_req *r, const struct xnode *verb)
{
	const char	*name = xnode_attr(verb, "node");

	if (name == NULL || *name == '\0') {
		ps_error(r, XERR_BAD_REQUEST, "nodeid-required", NULL);
		return NULL;
	}
	if (!ps_node_name_ok(name)) {
		ps_error(r, XERR_NOT_ACCEPTABLE, NULL, NULL);
		return NULL;
	}
	return name;
}

/* loads the node; -1 with the error sent (item-not-found when none) */
static int
req_node(struct ps_req *r, const char *name, struct ps_node *n)
{
	if (ps_node_load(r->a, r->svc, name, n) == 0)
		return 0;
	ps_store_error(r, errno);
	return -1;
}

/* owner-only verbs (XEP-0060 8: owner use cases) */
static bool
req_owner(struct ps_req *r, const struct ps_node *n)
{
	if (r->owner || (n != NULL && ps_affil_of(&n->conf, r->from_bare) ==
	    PS_AFFIL_OWNER))
		return true;
	ps_error(r, XERR_FORBIDDEN, NULL, NULL);
	return false;
}

/* ---- publish (XEP-0060 7.1, XEP-0163 3) --------------------------------- */

/*
 * The form of the publish-options (XEP-0060 7.1.5), NULL for none: at
 * most one <publish-options/> and in it nothing but one data form.
 * Returns -1 with bad-request sent for anything else: options the
 * service cannot read are no preconditions it could check.
 */
static int
publish_opts(struct ps_req *r, const struct xnode *ps,
    const struct xnode **form)
{
	const struct xnode	*po, *x;

	*form = NULL;
	if ((po = xnode_child(ps, NS_PUBSUB, "publish-options")) == NULL)
		return 0;
	x = xnode_child(po, NULL, NULL);
	if (xnode_next(po, NS_PUBSUB, "publish-options") == NULL &&
	    (x == NULL || (xnode_next(x, NULL, NULL) == NULL &&
	    strcmp(x->ns, NS_XDATA) == 0 && strcmp(x->name, "x") == 0))) {
		*form = x;	/* empty: no preconditions */
		return 0;
	}
	log_debug("pubsub %s: publish-options: not one data form",
	    r->svc->jid);
	ps_error(r, XERR_BAD_REQUEST, "invalid-options", NULL);
	return -1;
}

/*
 * The answer to publish-options that ps_conf_apply refused (XEP-0060
 * 7.1.5): a form that is malformed is bad-request (RFC 6120 8.3.3.1)
 * with invalid-options; one that is well-formed but that the node does
 * not meet (or could not be created to meet) is conflict with
 * precondition-not-met, which a client answers by configuring the node
 * and publishing again.
 */
static void
publish_opts_error(struct ps_req *r, const char *name, int rc,
    const char *why)
{
	log_debug("pubsub %s: %s: publish-options: %s", r->svc->jid,
	    log_escs(name), why);
	if (rc == PS_CONF_BAD)
		ps_error(r, XERR_BAD_REQUEST, "invalid-options", NULL);
	else
		ps_error(r, XERR_CONFLICT, "precondition-not-met", NULL);
}

/*
 * The configuration of a node a publish creates (XEP-0163 3:
 * auto-create): the defaults with the publish-options applied. Written
 * only once the item has passed its checks.
 */
static int
publish_conf(struct ps_req *r, struct ps_node *n, const struct xnode *opts)
{
	const char	*why;
	int		 rc;

	ps_conf_default(&n->conf);
	n->nid = 0;
	if (opts != NULL && (rc = ps_conf_apply(r->a, opts, &n->conf, true,
	    FORM_PUBLISH_OPTIONS, &why)) != 0) {
		publish_opts_error(r, n->name, rc, why);
		return -1;
	}
	return 0;
}

static bool
publish_allowed(const struct ps_req *r, const struct ps_node *n)
{
	enum ps_affil	aff;

	if (r->owner)
		return true;
	if (r->svc->pep)
		return false;	/* only the account publishes to its PEP */
	aff = ps_affil_of(&n->conf, r->from_bare);
	if (aff == PS_AFFIL_OUTCAST)
		return false;
	switch (n->conf.publish_model) {
	case PS_PUBLISH_OPEN:
		return true;
	case PS_PUBLISH_SUBSCRIBERS:
		if (ps_sub_find(&n->conf, r->from_bare, NULL) != -1 ||
		    ps_sub_find(&n->conf, r->from_full, NULL) != -1)
			return true;
		/* FALLTHROUGH */
	default:
		return aff == PS_AFFIL_OWNER || aff == PS_AFFIL_PUBLISHER ||
		    aff == PS_AFFIL_PUBLISH_ONLY;
	}
}

/*
 * The item of a publish: at most one; its payload one element (XEP-0060
 * 7.1.3.6) and within the size limit. Returns the stored bytes in b (the
 * payload, empty for none) or -1 with the error sent.
 */
static int
publish_item(struct ps_req *r, const struct xnode *pub,
    const struct ps_node *n, struct xnode **item, struct buf *b)
{
	const struct xnode	*payload, *c;
	size_t			 count = 0;

	*item = xnode_child(pub, NS_PUBSUB, "item");
	if (*item != NULL && xnode_next(*item, NS_PUBSUB, "item") != NULL) {
		ps_error(r, XERR_BAD_REQUEST, "invalid-payload", NULL);
		return -1;
	}
	if (*item == NULL) {
		if (n->conf.persist || n->conf.payloads) {
			ps_error(r, XERR_BAD_REQUEST, "item-required", NULL);
			return -1;
		}
		return 0;
	}
	payload = xnode_child(*item, NULL, NULL);
	for (c = payload; c != NULL; c = xnode_next(c, NULL, NULL))
		count++;
	if (count > 1) {
		ps_error(r, XERR_BAD_REQUEST, "invalid-payload", NULL);
		return -1;
	}
	if (count == 0 && n->conf.payloads) {
		ps_error(r, XERR_BAD_REQUEST, "payload-required", NULL);
		return -1;
	}
	if (payload != NULL && xnode_write(b, payload, "") == -1) {
		ps_error(r, XERR_NOT_ACCEPTABLE, "payload-too-big", NULL);
		return -1;
	}
	return 0;
}

static void
ps_publish(struct ps_req *r, struct xnode *ps, struct xnode *pub, bool flag)
{
	const struct xnode	*opts;
	struct xnode		*item, *res, *el;
	struct ps_node		 n;
	struct pubsub_item	 it;
	const char		*name, *id, *why;
	struct buf		 b;
	int			 rc;

	(void)flag;

	if ((name = req_node_name(r, pub)) == NULL ||
	    publish_opts(r, ps, &opts) == -1)
		return;
	if (ps_node_load(r->a, r->svc, name, &n) == -1) {
		if (errno != ENOENT) {
			ps_store_error(r, errno);
			return;
		}
		if (!r->owner) {
			/* only the account creates nodes on its PEP */
			ps_error(r, r->svc->pep ? XERR_FORBIDDEN :
			    XERR_ITEM_NOT_FOUND, NULL, NULL);
			return;
		}
		n.name = name;
		if (publish_conf(r, &n, opts) == -1)
			return;
	} else {
		if (!publish_allowed(r, &n)) {
			ps_error(r, XERR_FORBIDDEN, NULL, NULL);
			return;
		}
		/* XEP-0060 7.1.5: publish-options are preconditions */
		if (opts != NULL && (rc = ps_conf_apply(r->a, opts, &n.conf,
		    false, FORM_PUBLISH_OPTIONS, &why)) != 0) {
			publish_opts_error(r, name, rc, why);
			return;
		}
	}
	buf_init(&b, router.conf.pubsub_item_max_size);
	if (publish_item(r, pub, &n, &item, &b) == -1)
		goto done;
	id = item != NULL ? xnode_attr(item, "id") : NULL;
	if (id == NULL || *id == '\0')
		id = ps_item_id_new(r->a);
	else if (!ps_item_id_ok(id)) {
		ps_error(r, XERR_BAD_REQUEST, NULL, NULL);
		goto done;
	}
	if (n.nid == 0 && ps_node_save(r->svc, &n) == -1) {
		ps_store_error(r, errno);
		goto done;
	}
	if (n.conf.persist) {
		memset(&it, 0, sizeof(it));
		it.id = (char *)id;
		it.publisher = (char *)r->from_bare;
		it.xml = (char *)buf_rptr(&b);
		it.len = buf_avail(&b);
		do
			rc = store_pubsub_item_put(router.store,
			    r->svc->owner, r->svc->domain, n.nid, &it,
			    ps_conf_max_items(&n.conf));
		while (rc == -1 && errno == EAGAIN);
		if (rc == -1) {
			ps_store_error(r, errno);
			goto done;
		}
	}
	/* committed: the answer, then the notifications */
	res = ps_result(r, NS_PUBSUB);
	el = xnode_add(r->a, res, NULL, "publish");
	xnode_set_attr(r->a, el, "node", name);
	xnode_set_attr(r->a, xnode_add(r->a, el, NULL, "item"), "id", id);
	ps_send(r);
	if (item == NULL)
		item = xnode_new(r->a, NS_PUBSUB, "item");
	xnode_set_attr(r->a, item, "id", id);
	pep_notify(r->svc, &n, PS_EV_ITEMS, item, id, r->a);
	pep_compat_published(r->svc, name, item, r->a);
done:
	buf_clear(&b);
}

/* ---- retract (XEP-0060 7.2) --------------------------------------------- */

static void
ps_retract(struct ps_req *r, struct xnode *ps, struct xnode *verb, bool flag)
{
	struct xnode	*item;
	struct ps_node	 n;
	const char	*name, *id, *notify;
	int		 b;

	(void)ps;
	(void)flag;

	if ((name = req_node_name(r, verb)) == NULL ||
	    req_node(r, name, &n) == -1)
		return;
	if (!r->owner && ps_affil_of(&n.conf, r->from_bare) !=
	    PS_AFFIL_OWNER && ps_affil_of(&n.conf, r->from_bare) !=
	    PS_AFFIL_PUBLISHER) {
		ps_error(r, XERR_FORBIDDEN, NULL, NULL);
		return;
	}
	item = xnode_child(verb, NS_PUBSUB, "item");
	if (item == NULL || (id = xnode_attr(item, "id")) == NULL ||
	    *id == '\0') {
		ps_error(r, XERR_BAD_REQUEST, "item-required", NULL);
		return;
	}
	if (!n.conf.persist) {
		ps_error(r, XERR_FEATURE_NOT_IMPLEMENTED, "unsupported",
		    "persistent-items");
		return;
	}
	if (store_pubsub_item_del(router.store, r->svc->owner,
	    r->svc->domain, n.nid, id) == -1) {
		ps_store_error(r, errno);
		return;
	}
	ps_result(r, NULL);
	ps_send(r);
	/* 7.2.2.1: the notify attribute, else the node's configuration */
	notify = xnode_attr(verb, "notify");
	b = notify != NULL ? xdata_bool(notify) : -1;
	if (b == 1 || (b == -1 && n.conf.notify_retract))
		pep_notify(r->svc, &n, PS_EV_RETRACT, NULL, id, r->a);
	pep_compat_removed(r->svc, name, r->a);
}

/* ---- items (XEP-0060 6.5) ----------------------------------------------- */

struct items_walk {
	struct arena	*a;
	struct xnode	*items;
	size_t		 n;
};

static int
items_one(const struct pubsub_item *it, void *arg)
{
	struct items_walk	*iw = arg;

	ps_item_node(iw->a, iw->items, NS_PUBSUB, it, true);
	iw->n++;
	return 0;
}

static void
ps_items(struct ps_req *r, struct xnode *ps, struct xnode *verb, bool flag)
{
	struct xnode		*res, *want;
	struct ps_node		 n;
	struct pubsub_item	 it;
	struct items_walk	 iw;
	const char		*name, *app, *max_s, *id;
	enum stanza_err		 err;
	char			*end;
	unsigned long		 max = 0;

	(void)ps;
	(void)flag;

	if ((name = req_node_name(r, verb)) == NULL ||
	    req_node(r, name, &n) == -1)
		return;
	if ((err = ps_access(r, &n, &app)) != XERR_COUNT) {
		ps_error(r, err, app, NULL);
		return;
	}
	if ((max_s = xnode_attr(verb, "max_items")) != NULL) {
		errno = 0;
		max = strtoul(max_s, &end, 10);
		if (*max_s == '\0' || *end != '\0' || errno != 0 ||
		    *max_s == '-') {
			ps_error(r, XERR_BAD_REQUEST, NULL, NULL);
			return;
		}
		if (max == 0)
			max = 1;
	}
	want = xnode_child(verb, NS_PUBSUB, "item");
	res = xnode_new(r->a, NS_PUBSUB, "pubsub");
	iw.a = r->a;
	iw.items = xnode_add(r->a, res, NULL, "items");
	iw.n = 0;
	xnode_set_attr(r->a, iw.items, "node", name);
	if (want == NULL) {
		if (store_pubsub_items(router.store, r->svc->owner,
		    r->svc->domain, n.nid, max, items_one, &iw) == -1)
			goto fail;
		ps_reply(r, res);
		return;
	}
	/* 6.5.8: particular items; those that are not there are left out */
	for (; want != NULL; want = xnode_next(want, NS_PUBSUB, "item")) {
		if ((id = xnode_attr(want, "id")) == NULL)
			continue;
		if (store_pubsub_item_get(router.store, r->svc->owner,
		    r->svc->domain, n.nid, id, &it) == -1) {
			if (errno == ENOENT)
				continue;
			goto fail;
		}
		items_one(&it, &iw);
		pubsub_item_clear(&it);
	}
	ps_reply(r, res);
	return;
fail:
	ps_error(r, XERR_INTERNAL_SERVER_ERROR, NULL, NULL);
}

/* ---- create and configure (XEP-0060 8.1, 8.2) --------------------------- */

/*
 * Who may create nodes: on a PEP service its account; on a pubsub
 * service, the host's pubsub-create policy (XEP-0060 8.1.3.1: nobody is
 * feature-not-implemented, a requester outside the policy forbidden).
 */
static bool
create_allowed(struct ps_req *r)
{
	const struct conf_host	*h;
	struct jid		 j;
	bool			 ok;

	if (r->svc->pep) {
		if (!r->owner)
			ps_error(r, XERR_FORBIDDEN, NULL, NULL);
		return r->owner;
	}
	h = conf_pubsub_find(&router.conf, r->svc->domain);
	if (h == NULL || strcmp(h->pubsub_create, "nobody") == 0) {
		ps_error(r, XERR_FEATURE_NOT_IMPLEMENTED, "unsupported",
		    "create-nodes");
		return false;
	}
	if (strcmp(h->pubsub_create, "anyone") == 0)
		return true;
	/* local: the host's own accounts */
	if ((ok = jid_parse(&j, r->from_bare) == 0)) {
		ok = j.node != NULL && strcmp(j.domain, h->name) == 0;
		jid_clear(&j);
	}
	if (!ok)
		ps_error(r, XERR_FORBIDDEN, NULL, NULL);
	return ok;
}

/*
 * A submitted configuration form (x, NULL for none) applied to c; -1
 * with not-acceptable sent for a bad form and, on a pubsub service, for
 * an access model that needs an owning account (presence, roster).
 */
static int
conf_take(struct ps_req *r, const struct xnode *x, struct ps_conf *c,
    const char *verb, const char *name)
{
	const char	*why = "an account's access model on a service";

	if ((x == NULL || ps_conf_apply(r->a, x, c, true, FORM_NODE_CONFIG,
	    &why) == 0) && ps_conf_fits(r->svc, c))
		return 0;
	log_debug("pubsub %s: %s %s: %s", r->svc->jid, verb, log_escs(name),
	    why);
	ps_error(r, XERR_NOT_ACCEPTABLE, NULL, NULL);
	return -1;
}

static void
ps_create(struct ps_req *r, struct xnode *ps, struct xnode *verb, bool flag)
{
	struct xnode	*conf, *res;
	struct ps_node	 n;
	const char	*name;
	bool		 instant;

	(void)flag;

	if (!create_allowed(r))
		return;
	name = xnode_attr(verb, "node");
	instant = name == NULL || *name == '\0';
	if (instant && r->svc->pep) {
		/* XEP-0163: PEP nodes have names */
		ps_error(r, XERR_NOT_ACCEPTABLE, "nodeid-required", NULL);
		return;
	}
	if (instant)
		name = ps_item_id_new(r->a);
	if (!ps_node_name_ok(name)) {
		ps_error(r, XERR_NOT_ACCEPTABLE, NULL, NULL);
		return;
	}
	memset(&n, 0, sizeof(n));
	n.name = name;
	ps_conf_new(r->svc, &n.conf);
	conf = xnode_child(xnode_child(ps, NS_PUBSUB, "configure"), NS_XDATA,
	    "x");
	if (conf_take(r, conf, &n.conf, "create", name) == -1)
		return;
	if (!r->svc->pep)
		(void)ps_affil_set(r->a, &n.conf, r->from_bare,
		    PS_AFFIL_OWNER);
	if (ps_node_save(r->svc, &n) == -1) {
		ps_store_error(r, errno);
		return;
	}
	res = ps_result(r, instant ? NS_PUBSUB : NULL);
	if (instant)
		xnode_set_attr(r->a, xnode_add(r->a, res, NULL, "create"),
		    "node", name);
	ps_send(r);
}

static void
ps_configure_get(struct ps_req *r, struct xnode *ps, struct xnode *verb,
    bool flag)
{
	struct xnode	*res, *el;
	struct ps_node	 n;
	const char	*name;

	(void)ps;
	(void)flag;

	if ((name = req_node_name(r, verb)) == NULL ||
	    req_node(r, name, &n) == -1 || !req_owner(r, &n))
		return;
	res = ps_result(r, NS_PUBSUB_OWNER);
	el = xnode_add(r->a, res, NULL, "configure");
	xnode_set_attr(r->a, el, "node", name);
	ps_conf_form(r->a, el, &n.conf);
	ps_send(r);
}

static void
ps_configure_set(struct ps_req *r, struct xnode *ps, struct xnode *verb,
    bool flag)
{
	struct xnode	*x;
	struct ps_node	 n;
	const char	*name, *type;

	(void)ps;
	(void)flag;

	if ((name = req_node_name(r, verb)) == NULL ||
	    req_node(r, name, &n) == -1 || !req_owner(r, &n))
		return;
	if ((x = xnode_child(verb, NS_XDATA, "x")) == NULL) {
		ps_error(r, XERR_BAD_REQUEST, NULL, NULL);
		return;
	}
	type = xnode_attr(x, "type");
	/* 8.2.6: a cancelled configuration changes nothing */
	if (type != NULL && strcmp(type, "cancel") == 0) {
		ps_result(r, NULL);
		ps_send(r);
		return;
	}
	if (conf_take(r, x, &n.conf, "configure", name) == -1)
		return;
	if (ps_node_save(r->svc, &n) == -1) {
		ps_store_error(r, errno);
		return;
	}
	/* a lower max_items drops the oldest items now */
	if (!n.conf.persist)
		(void)store_pubsub_purge(router.store, r->svc->owner,
		    r->svc->domain, n.nid);
	ps_result(r, NULL);
	ps_send(r);
	if (n.conf.notify_config)
		pep_notify(r->svc, &n, PS_EV_CONFIG, NULL, NULL, r->a);
}

static void
ps_default_get(struct ps_req *r, struct xnode *ps, struct xnode *verb,
    bool flag)
{
	struct xnode	*res, *el;
	struct ps_conf	 c;

	(void)ps;
	(void)verb;
	(void)flag;

	ps_conf_new(r->svc, &c);
	res = ps_result(r, NS_PUBSUB_OWNER);
	el = xnode_add(r->a, res, NULL, "default");
	ps_conf_form(r->a, el, &c);
	ps_send(r);
}

/* ---- delete and purge (XEP-0060 8.4, 8.5) ------------------------------- */

/* the node goes (delete) or only its items (purge), then subscribers hear */
static void
ps_delete(struct ps_req *r, struct xnode *ps, struct xnode *verb,
    bool purge)
{
	struct ps_node	n;
	const char	*name;
	int		rc;

	(void)ps;
	if ((name = req_node_name(r, verb)) == NULL ||
	    req_node(r, name, &n) == -1 || !req_owner(r, &n))
		return;
	if (purge && !n.conf.persist) {
		ps_error(r, XERR_FEATURE_NOT_IMPLEMENTED, "unsupported",
		    "persistent-items");
		return;
	}
	rc = purge ? store_pubsub_purge(router.store, r->svc->owner,
	    r->svc->domain, n.nid) : store_pubsub_node_del(router.store,
	    r->svc->owner, r->svc->domain, name);
	if (rc == -1) {
		ps_store_error(r, errno);
		return;
	}
	ps_result(r, NULL);
	ps_send(r);
	if (purge ? n.conf.notify_retract : n.conf.notify_delete)
		pep_notify(r->svc, &n, purge ? PS_EV_PURGE : PS_EV_DELETE,
		    NULL, NULL, r->a);
	pep_compat_removed(r->svc, name, r->a);
}

/* ---- subscriptions (XEP-0060 6.1, 6.2) ---------------------------------- */

static struct xnode *
sub_node(struct arena *a, struct xnode *parent, const char *node,
    const char *jid, const char *subid, const char *state)
{
	struct xnode	*el = xnode_add(a, parent, NULL, "subscription");

	if (node != NULL)
		xnode_set_attr(a, el, "node", node);
	xnode_set_attr(a, el, "jid", jid);
	if (subid != NULL)
		xnode_set_attr(a, el, "subid", subid);
	xnode_set_attr(a, el, "subscription", state);
	return el;
}

/* the 'jid' of a (un)subscribe: the requester's own (6.1.3.1) */
static const char *
sub_jid(struct ps_req *r, const struct xnode *verb)
{
	const char	*jid = xnode_attr(verb, "jid");
	struct jid	 j;
	char		 bare[JID_STR_MAX + 1], *full;

	if (jid == NULL || jid_parse(&j, jid) == -1) {
		ps_error(r, XERR_BAD_REQUEST, "invalid-jid", NULL);
		return NULL;
	}
	jid_format(bare, j.node, j.domain, NULL);
	full = jid_full(&j);
	jid_clear(&j);
	if (strcmp(bare, r->from_bare) != 0) {
		free(full);
		ps_error(r, XERR_BAD_REQUEST, "invalid-jid", NULL);
		return NULL;
	}
	jid = arena_strdup(r->a, full);
	free(full);
	return jid;
}

static void
ps_subscribe(struct ps_req *r, struct xnode *ps, struct xnode *verb, bool flag)
{
	struct xnode	*res;
	struct ps_node	 n;
	const char	*name, *jid, *app, *subid;
	enum stanza_err	 err;

	(void)flag;

	if ((name = req_node_name(r, verb)) == NULL ||
	    (jid = sub_jid(r, verb)) == NULL || req_node(r, name, &n) == -1)
		return;
	if (xnode_child(ps, NS_PUBSUB, "options") != NULL) {
		ps_error(r, XERR_FEATURE_NOT_IMPLEMENTED, "unsupported",
		    "subscription-options");
		return;
	}
	if ((err = ps_access(r, &n, &app)) != XERR_COUNT) {
		ps_error(r, err, app, NULL);
		return;
	}
	if ((subid = ps_sub_add(r->a, &n.conf, jid)) == NULL) {
		ps_error(r, XERR_NOT_ALLOWED, "max-nodes-exceeded", NULL);
		return;
	}
	if (ps_node_save(r->svc, &n) == -1) {
		ps_store_error(r, errno);
		return;
	}
	res = ps_result(r, NS_PUBSUB);
	sub_node(r->a, res, name, jid, subid, "subscribed");
	ps_send(r);
	/* 6.1.7: the last item to a new subscriber */
	if (n.conf.send_last != PS_SENDLAST_NEVER)
		pep_send_last(r->svc, &n, jid, r->a);
}

static void
ps_unsubscribe(struct ps_req *r, struct xnode *ps, struct xnode *verb,
    bool flag)
{
	struct ps_node	n;
	const char	*name, *jid, *subid;
	ssize_t		 i;

	(void)ps;
	(void)flag;

	if ((name = req_node_name(r, verb)) == NULL ||
	    (jid = sub_jid(r, verb)) == NULL || req_node(r, name, &n) == -1)
		return;
	subid = xnode_attr(verb, "subid");
	if ((i = ps_sub_find(&n.conf, jid, subid)) == -1) {
		/* 6.2.3.2 and 6.2.3.5 */
		ps_error(r, subid != NULL && ps_sub_find(&n.conf, jid,
		    NULL) != -1 ? XERR_NOT_ACCEPTABLE :
		    XERR_UNEXPECTED_REQUEST, subid != NULL &&
		    ps_sub_find(&n.conf, jid, NULL) != -1 ? "invalid-subid" :
		    "not-subscribed", NULL);
		return;
	}
	ps_sub_del(&n.conf, (size_t)i);
	if (ps_node_save(r->svc, &n) == -1) {
		ps_store_error(r, errno);
		return;
	}
	ps_result(r, NULL);
	ps_send(r);
}

/* ---- the entity's own subscriptions and affiliations (5.6, 5.7) --------- */

struct mine {
	struct ps_req	*r;
	struct xnode	*list;
	const char	*only;		/* a node filter, or NULL */
	bool		 affs;
};

static int
mine_one(const char *name, uint64_t nid, const char *rec, size_t len,
    void *arg)
{
	struct mine	*m = arg;
	struct ps_conf	 c;
	struct xnode	*el;
	size_t		 i;
	int		 aff;

	(void)nid;
	if (m->only != NULL && strcmp(m->only, name) != 0)
		return 0;
	if (ps_conf_decode(m->r->a, rec, len, &c) == -1)
		return 0;
	if (m->affs) {
		aff = m->r->owner ? PS_AFFIL_OWNER :
		    ps_affil_of(&c, m->r->from_bare);
		if (aff == PS_AFFIL_NONE)
			return 0;
		el = xnode_add(m->r->a, m->list, NULL, "affiliation");
		xnode_set_attr(m->r->a, el, "node", name);
		xnode_set_attr(m->r->a, el, "affiliation",
		    ps_affil_name((enum ps_affil)aff));
		return 0;
	}
	for (i = 0; i < c.nsubs; i++) {
		struct jid	j;
		char		bare[JID_STR_MAX + 1];

		if (jid_parse(&j, c.subs[i].jid) == -1)
			continue;
		jid_format(bare, j.node, j.domain, NULL);
		jid_clear(&j);
		if (strcmp(bare, m->r->from_bare) == 0)
			sub_node(m->r->a, m->list, name, c.subs[i].jid,
			    c.subs[i].subid, "subscribed");
	}
	return 0;
}

static void
ps_mine(struct ps_req *r, struct xnode *ps, struct xnode *verb, bool affs)
{
	struct xnode	*res;
	struct mine	 m;

	(void)ps;

	res = xnode_new(r->a, NS_PUBSUB, "pubsub");
	m.r = r;
	m.list = xnode_add(r->a, res, NULL, affs ? "affiliations" :
	    "subscriptions");
	m.only = xnode_attr(verb, "node");
	m.affs = affs;
	if (m.only != NULL)
		xnode_set_attr(r->a, m.list, "node", m.only);
	if (store_pubsub_node_list(router.store, r->svc->owner,
	    r->svc->domain, mine_one, &m) == -1) {
		ps_error(r, XERR_INTERNAL_SERVER_ERROR, NULL, NULL);
		return;
	}
	ps_reply(r, res);
}

/* ---- the owner's view: affiliations and subscriptions (8.8, 8.9) -------- */

static void
ps_owner_list(struct ps_req *r, struct xnode *ps, struct xnode *verb, bool affs)
{
	struct xnode	*res, *list, *el;
	struct ps_node	 n;
	const char	*name;
	size_t		 i;

	(void)ps;

	if ((name = req_node_name(r, verb)) == NULL ||
	    req_node(r, name, &n) == -1 || !req_owner(r, &n))
		return;
	res = ps_result(r, NS_PUBSUB_OWNER);
	list = xnode_add(r->a, res, NULL, affs ? "affiliations" :
	    "subscriptions");
	xnode_set_attr(r->a, list, "node", name);
	if (affs) {
		if (r->svc->pep) {
			el = xnode_add(r->a, list, NULL, "affiliation");
			xnode_set_attr(r->a, el, "jid", r->svc->jid);
			xnode_set_attr(r->a, el, "affiliation", "owner");
		}
		for (i = 0; i < n.conf.naffs; i++) {
			el = xnode_add(r->a, list, NULL, "affiliation");
			xnode_set_attr(r->a, el, "jid", n.conf.affs[i].jid);
			xnode_set_attr(r->a, el, "affiliation",
			    ps_affil_name(n.conf.affs[i].aff));
		}
	} else
		for (i = 0; i < n.conf.nsubs; i++)
			sub_node(r->a, list, NULL, n.conf.subs[i].jid,
			    n.conf.subs[i].subid, "subscribed");
	ps_send(r);
}

/* a bare JID for an affiliation; NULL if it is not one */
static const char *
aff_jid(struct arena *a, const char *s)
{
	struct jid	 j;
	char		 bare[JID_STR_MAX + 1];

	if (s == NULL || jid_parse(&j, s) == -1)
		return NULL;
	jid_format(bare, j.node, j.domain, NULL);
	jid_clear(&j);
	return arena_strdup(a, bare);
}

/* removes the subscriptions of bare and of its full JIDs */
static void
sub_drop_bare(struct ps_conf *c, const char *bare)
{
	struct jid	j;
	char		b[JID_STR_MAX + 1];
	size_t		i = 0;

	while (i < c->nsubs) {
		if (jid_parse(&j, c->subs[i].jid) == -1) {
			i++;
			continue;
		}
		jid_format(b, j.node, j.domain, NULL);
		jid_clear(&j);
		if (strcmp(b, bare) == 0)
			ps_sub_del(c, i);
		else
			i++;
	}
}

static bool
has_owner(const struct ps_conf *c)
{
	size_t	i;

	for (i = 0; i < c->naffs; i++)
		if (c->affs[i].aff == PS_AFFIL_OWNER)
			return true;
	return false;
}

static void
ps_owner_set(struct ps_req *r, struct xnode *ps, struct xnode *verb, bool affs)
{
	struct xnode	*el;
	struct ps_node	 n;
	const char	*name, *jid, *val;
	int		 aff;
	ssize_t		 i;

	(void)ps;

	if ((name = req_node_name(r, verb)) == NULL ||
	    req_node(r, name, &n) == -1 || !req_owner(r, &n))
		return;
	for (el = xnode_child(verb, NS_PUBSUB_OWNER, affs ? "affiliation" :
	    "subscription"); el != NULL; el = xnode_next(el,
	    NS_PUBSUB_OWNER, affs ? "affiliation" : "subscription")) {
		val = xnode_attr(el, affs ? "affiliation" : "subscription");
		if (affs) {
			if ((jid = aff_jid(r->a, xnode_attr(el, "jid"))) ==
			    NULL || (aff = ps_affil_parse(val)) == -1)
				goto bad;
			/* 8.9.2.4: the PEP account stays the owner */
			if (r->svc->pep && strcmp(jid, r->svc->jid) == 0)
				goto bad;
			if (ps_affil_set(r->a, &n.conf, jid,
			    (enum ps_affil)aff) == -1)
				goto full;
			/* XEP-0060 4.1: an outcast has no subscription */
			if (aff == PS_AFFIL_OUTCAST)
				sub_drop_bare(&n.conf, jid);
			continue;
		}
		if ((jid = xnode_attr(el, "jid")) == NULL || val == NULL)
			goto bad;
		if (strcmp(val, "none") == 0) {
			while ((i = ps_sub_find(&n.conf, jid, NULL)) != -1)
				ps_sub_del(&n.conf, (size_t)i);
		} else if (strcmp(val, "subscribed") == 0) {
			if (ps_sub_add(r->a, &n.conf, jid) == NULL)
				goto full;
		} else
			goto bad;
	}
	/* a service's node keeps an owner (8.9.2.4) */
	if (affs && !r->svc->pep && !has_owner(&n.conf))
		goto bad;
	if (ps_node_save(r->svc, &n) == -1) {
		ps_store_error(r, errno);
		return;
	}
	ps_result(r, NULL);
	ps_send(r);
	return;
bad:
	ps_error(r, XERR_NOT_ACCEPTABLE, NULL, NULL);
	return;
full:
	ps_error(r, XERR_NOT_ALLOWED, NULL, NULL);
}

/* ---- dispatch: one table of verbs --------------------------------------- */

typedef void	ps_verb_fn(struct ps_req *, struct xnode *ps,
		    struct xnode *verb, bool flag);

struct ps_verb {
	const char	*ns;		/* of the <pubsub> element */
	bool		 set;		/* iq type set, else get */
	const char	*name;		/* the verb element */
	ps_verb_fn	*fn;		/* NULL: refused with the error below */
	bool		 flag;		/* affiliations; purge, not delete */
	enum stanza_err	 err;
	const char	*feature;	/* of an <unsupported/> */
};

static const struct ps_verb ps_verbs[] = {
	{ NS_PUBSUB, false, "items", ps_items, false, 0, NULL },
	{ NS_PUBSUB, false, "subscriptions", ps_mine, false, 0, NULL },
	{ NS_PUBSUB, false, "affiliations", ps_mine, true, 0, NULL },
	{ NS_PUBSUB, false, "options", NULL, false,
	  XERR_FEATURE_NOT_IMPLEMENTED, "subscription-options" },
	{ NS_PUBSUB, false, "default", NULL, false,
	  XERR_FEATURE_NOT_IMPLEMENTED, "subscription-options" },
	{ NS_PUBSUB, true, "publish", ps_publish, false, 0, NULL },
	{ NS_PUBSUB, true, "retract", ps_retract, false, 0, NULL },
	{ NS_PUBSUB, true, "create", ps_create, false, 0, NULL },
	{ NS_PUBSUB, true, "subscribe", ps_subscribe, false, 0, NULL },
	{ NS_PUBSUB, true, "unsubscribe", ps_unsubscribe, false, 0, NULL },
	/* 8.1.3: configure goes with create only */
	{ NS_PUBSUB, true, "configure", NULL, false, XERR_BAD_REQUEST, NULL },
	{ NS_PUBSUB_OWNER, false, "configure", ps_configure_get, false, 0,
	  NULL },
	{ NS_PUBSUB_OWNER, false, "default", ps_default_get, false, 0, NULL },
	{ NS_PUBSUB_OWNER, false, "affiliations", ps_owner_list, true, 0,
	  NULL },
	{ NS_PUBSUB_OWNER, false, "subscriptions", ps_owner_list, false, 0,
	  NULL },
	{ NS_PUBSUB_OWNER, true, "configure", ps_configure_set, false, 0,
	  NULL },
	{ NS_PUBSUB_OWNER, true, "delete", ps_delete, false, 0, NULL },
	{ NS_PUBSUB_OWNER, true, "purge", ps_delete, true, 0, NULL },
	{ NS_PUBSUB_OWNER, true, "affiliations", ps_owner_set, true, 0,
	  NULL },
	{ NS_PUBSUB_OWNER, true, "subscriptions", ps_owner_set, false, 0,
	  NULL },
};

/*
 * A verb we do not know: a get is malformed (bad-request), a set asks
 * for a feature we lack (feature-not-implemented, XEP-0060 7.1.3.x).
 */
static void
ps_dispatch(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *ns, bool set)
{
	const struct ps_verb	*v;
	struct ps_service	 svc;
	struct ps_req		 r;
	struct xnode		*ps = xnode_child(iq, ns, "pubsub");
	struct xnode		*verb;
	size_t			 i;

	if (ps_req_init(&r, &svc, rs, iq, a) == -1)
		return;
	if ((verb = req_verb(ps, ns)) == NULL) {
		ps_error(&r, XERR_BAD_REQUEST, NULL, NULL);
		return;
	}
	for (i = 0; i < sizeof(ps_verbs) / sizeof(*ps_verbs); i++) {
		v = &ps_verbs[i];
		if (v->set != set || strcmp(v->ns, ns) != 0 ||
		    strcmp(v->name, verb->name) != 0)
			continue;
		if (v->fn != NULL)
			v->fn(&r, ps, verb, v->flag);
		else
			ps_error(&r, v->err, v->feature != NULL ?
			    "unsupported" : NULL, v->feature);
		return;
	}
	if (set)
		ps_error(&r, XERR_FEATURE_NOT_IMPLEMENTED, "unsupported",
		    verb->name);
	else
		ps_error(&r, XERR_BAD_REQUEST, NULL, NULL);
}

static void
pubsub_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	ps_dispatch(rs, iq, a, NS_PUBSUB, false);
}

static void
pubsub_set(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	ps_dispatch(rs, iq, a, NS_PUBSUB, true);
}

static void
owner_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	ps_dispatch(rs, iq, a, NS_PUBSUB_OWNER, false);
}

static void
owner_set(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	ps_dispatch(rs, iq, a, NS_PUBSUB_OWNER, true);
}

const struct iq_handler pubsub_handler = {
	.ns = NS_PUBSUB, .name = "pubsub", .server = false, .account = true,
	.get = pubsub_get, .set = pubsub_set,
};

const struct iq_handler pubsub_owner_handler = {
	.ns = NS_PUBSUB_OWNER, .name = "pubsub", .server = false,
	.account = true, .get = owner_get, .set = owner_set,
};
