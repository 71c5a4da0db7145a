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

/* the one element child of the pubsub element: the verb */
static struct xnode *
req_verb(const struct xnode *ps, const char *ns)
{
	struct xnode	*v;

	for (v = xnode_child(ps, ns, NULL); v != NULL;
	    v = xnode_next(v, ns, NULL))
		/* options and publish-options go with another verb */
		if (strcmp(v->name, "options") != 0 &&
		    strcmp(v->name, "publish-options") != 0 &&
		    strcmp(v->name, "configure") != 0)
			return v;
	return xnode_child(ps, ns, "configure");
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
 * The configuration of a node a publish creates (XEP-0163 3:
 * auto-create): the defaults with the publish-options applied. Written
 * only once the item has passed its checks.
 */
static int
publish_conf(struct ps_req *r, struct ps_node *n, const struct xnode *opts)
{
	const char	*why;

	ps_conf_default(&n->conf);
	n->nid = 0;
	if (opts != NULL && ps_conf_apply(r->a, opts, &n->conf, true,
	    FORM_PUBLISH_OPTIONS, &why) == -1) {
		log_debug("pubsub %s: publish-options: %s", r->svc->jid, why);
		ps_error(r, XERR_CONFLICT, "precondition-not-met", NULL);
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
ps_publish(struct ps_req *r, struct xnode *ps, struct xnode *pub)
{
	struct xnode		*opts, *item, *res, *el;
	struct ps_node		 n;
	struct pubsub_item	 it;
	const char		*name, *id, *why;
	struct buf		 b;
	int			 rc;

	if ((name = req_node_name(r, pub)) == NULL)
		return;
	opts = xnode_child(xnode_child(ps, NS_PUBSUB, "publish-options"),
	    NS_XDATA, "x");
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
		if (opts != NULL && ps_conf_apply(r->a, opts, &n.conf, false,
		    FORM_PUBLISH_OPTIONS, &why) == -1) {
			log_debug("pubsub %s: %s: precondition: %s",
			    r->svc->jid, log_escs(name), why);
			ps_error(r, XERR_CONFLICT, "precondition-not-met",
			    NULL);
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
ps_retract(struct ps_req *r, struct xnode *verb)
{
	struct xnode	*item;
	struct ps_node	 n;
	const char	*name, *id, *notify;
	int		 b;

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
ps_items(struct ps_req *r, struct xnode *verb)
{
	struct xnode		*res, *want;
	struct ps_node		 n;
	struct pubsub_item	 it;
	struct items_walk	 iw;
	const char		*name, *app, *max_s, *id;
	enum stanza_err		 err;
	char			*end;
	unsigned long		 max = 0;

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

static void
ps_create(struct ps_req *r, struct xnode *ps, struct xnode *verb)
{
	struct xnode	*conf, *res;
	struct ps_node	 n;
	const char	*name, *why;
	bool		 instant;

	if (!r->owner) {
		ps_error(r, XERR_FORBIDDEN, NULL, NULL);
		return;
	}
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
	ps_conf_default(&n.conf);
	conf = xnode_child(xnode_child(ps, NS_PUBSUB, "configure"), NS_XDATA,
	    "x");
	if (conf != NULL && ps_conf_apply(r->a, conf, &n.conf, true,
	    FORM_NODE_CONFIG, &why) == -1) {
		log_debug("pubsub %s: create %s: %s", r->svc->jid,
		    log_escs(name), why);
		ps_error(r, XERR_NOT_ACCEPTABLE, NULL, NULL);
		return;
	}
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
ps_configure_get(struct ps_req *r, struct xnode *verb)
{
	struct xnode	*res, *el;
	struct ps_node	 n;
	const char	*name;

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
ps_configure_set(struct ps_req *r, struct xnode *verb)
{
	struct xnode	*x;
	struct ps_node	 n;
	const char	*name, *why, *type;

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
	if (ps_conf_apply(r->a, x, &n.conf, true, FORM_NODE_CONFIG,
	    &why) == -1) {
		log_debug("pubsub %s: configure %s: %s", r->svc->jid,
		    log_escs(name), why);
		ps_error(r, XERR_NOT_ACCEPTABLE, NULL, NULL);
		return;
	}
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
ps_default_get(struct ps_req *r)
{
	struct xnode	*res, *el;
	struct ps_conf	 c;

	ps_conf_default(&c);
	res = ps_result(r, NS_PUBSUB_OWNER);
	el = xnode_add(r->a, res, NULL, "default");
	ps_conf_form(r->a, el, &c);
	ps_send(r);
}

/* ---- delete and purge (XEP-0060 8.4, 8.5) ------------------------------- */

static void
ps_delete(struct ps_req *r, struct xnode *verb)
{
	struct ps_node	n;
	const char	*name;

	if ((name = req_node_name(r, verb)) == NULL ||
	    req_node(r, name, &n) == -1 || !req_owner(r, &n))
		return;
	if (store_pubsub_node_del(router.store, r->svc->owner,
	    r->svc->domain, name) == -1) {
		ps_store_error(r, errno);
		return;
	}
	ps_result(r, NULL);
	ps_send(r);
	if (n.conf.notify_delete)
		pep_notify(r->svc, &n, PS_EV_DELETE, NULL, NULL, r->a);
	pep_compat_removed(r->svc, name, r->a);
}

static void
ps_purge(struct ps_req *r, struct xnode *verb)
{
	struct ps_node	n;
	const char	*name;

	if ((name = req_node_name(r, verb)) == NULL ||
	    req_node(r, name, &n) == -1 || !req_owner(r, &n))
		return;
	if (!n.conf.persist) {
		ps_error(r, XERR_FEATURE_NOT_IMPLEMENTED, "unsupported",
		    "persistent-items");
		return;
	}
	if (store_pubsub_purge(router.store, r->svc->owner, r->svc->domain,
	    n.nid) == -1) {
		ps_store_error(r, errno);
		return;
	}
	ps_result(r, NULL);
	ps_send(r);
	if (n.conf.notify_retract)
		pep_notify(r->svc, &n, PS_EV_PURGE, NULL, NULL, r->a);
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
ps_subscribe(struct ps_req *r, struct xnode *ps, struct xnode *verb)
{
	struct xnode	*res;
	struct ps_node	 n;
	const char	*name, *jid, *app, *subid;
	enum stanza_err	 err;

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
ps_unsubscribe(struct ps_req *r, struct xnode *verb)
{
	struct ps_node	n;
	const char	*name, *jid, *subid;
	ssize_t		 i;

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
ps_mine(struct ps_req *r, struct xnode *verb, bool affs)
{
	struct xnode	*res;
	struct mine	 m;

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
ps_owner_list(struct ps_req *r, struct xnode *verb, bool affs)
{
	struct xnode	*res, *list, *el;
	struct ps_node	 n;
	const char	*name;
	size_t		 i;

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

static void
ps_owner_set(struct ps_req *r, struct xnode *verb, bool affs)
{
	struct xnode	*el;
	struct ps_node	 n;
	const char	*name, *jid, *val;
	int		 aff;
	ssize_t		 i;

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

/* ---- dispatch ----------------------------------------------------------- */

static int
req_init(struct ps_req *r, struct ps_service *svc, struct rstanza *rs,
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
	if (rs->from == NULL || jid_parse(&j, rs->from) == -1)
		return -1;
	jid_format(bare, j.node, j.domain, NULL);
	jid_clear(&j);
	r->from_bare = arena_strdup(a, bare);
	r->from_full = rs->from;
	r->owner = strcmp(r->from_bare, svc->jid) == 0;
	return 0;
}

static void
pubsub_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct ps_service	 svc;
	struct ps_req		 r;
	struct xnode		*ps = xnode_child(iq, NS_PUBSUB, "pubsub");
	struct xnode		*verb = req_verb(ps, NS_PUBSUB);

	if (req_init(&r, &svc, rs, iq, a) == -1)
		return;
	if (verb == NULL) {
		ps_error(&r, XERR_BAD_REQUEST, NULL, NULL);
	} else if (strcmp(verb->name, "items") == 0)
		ps_items(&r, verb);
	else if (strcmp(verb->name, "subscriptions") == 0)
		ps_mine(&r, verb, false);
	else if (strcmp(verb->name, "affiliations") == 0)
		ps_mine(&r, verb, true);
	else if (strcmp(verb->name, "options") == 0 ||
	    strcmp(verb->name, "default") == 0)
		ps_error(&r, XERR_FEATURE_NOT_IMPLEMENTED, "unsupported",
		    "subscription-options");
	else
		ps_error(&r, XERR_BAD_REQUEST, NULL, NULL);
}

static void
pubsub_set(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct ps_service	 svc;
	struct ps_req		 r;
	struct xnode		*ps = xnode_child(iq, NS_PUBSUB, "pubsub");
	struct xnode		*verb = req_verb(ps, NS_PUBSUB);

	if (req_init(&r, &svc, rs, iq, a) == -1)
		return;
	if (verb == NULL)
		ps_error(&r, XERR_BAD_REQUEST, NULL, NULL);
	else if (strcmp(verb->name, "publish") == 0)
		ps_publish(&r, ps, verb);
	else if (strcmp(verb->name, "retract") == 0)
		ps_retract(&r, verb);
	else if (strcmp(verb->name, "create") == 0)
		ps_create(&r, ps, verb);
	else if (strcmp(verb->name, "subscribe") == 0)
		ps_subscribe(&r, ps, verb);
	else if (strcmp(verb->name, "unsubscribe") == 0)
		ps_unsubscribe(&r, verb);
	else if (strcmp(verb->name, "configure") == 0)
		/* configure goes with create only (8.1.3) */
		ps_error(&r, XERR_BAD_REQUEST, NULL, NULL);
	else
		ps_error(&r, XERR_FEATURE_NOT_IMPLEMENTED, "unsupported",
		    verb->name);
}

static void
owner_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct ps_service	 svc;
	struct ps_req		 r;
	struct xnode		*ps = xnode_child(iq, NS_PUBSUB_OWNER,
				    "pubsub");
	struct xnode		*verb = xnode_child(ps, NS_PUBSUB_OWNER,
				    NULL);

	if (req_init(&r, &svc, rs, iq, a) == -1)
		return;
	if (verb == NULL)
		ps_error(&r, XERR_BAD_REQUEST, NULL, NULL);
	else if (strcmp(verb->name, "configure") == 0)
		ps_configure_get(&r, verb);
	else if (strcmp(verb->name, "default") == 0)
		ps_default_get(&r);
	else if (strcmp(verb->name, "affiliations") == 0)
		ps_owner_list(&r, verb, true);
	else if (strcmp(verb->name, "subscriptions") == 0)
		ps_owner_list(&r, verb, false);
	else
		ps_error(&r, XERR_BAD_REQUEST, NULL, NULL);
}

static void
owner_set(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct ps_service	 svc;
	struct ps_req		 r;
	struct xnode		*ps = xnode_child(iq, NS_PUBSUB_OWNER,
				    "pubsub");
	struct xnode		*verb = xnode_child(ps, NS_PUBSUB_OWNER,
				    NULL);

	if (req_init(&r, &svc, rs, iq, a) == -1)
		return;
	if (verb == NULL)
		ps_error(&r, XERR_BAD_REQUEST, NULL, NULL);
	else if (strcmp(verb->name, "configure") == 0)
		ps_configure_set(&r, verb);
	else if (strcmp(verb->name, "delete") == 0)
		ps_delete(&r, verb);
	else if (strcmp(verb->name, "purge") == 0)
		ps_purge(&r, verb);
	else if (strcmp(verb->name, "affiliations") == 0)
		ps_owner_set(&r, verb, true);
	else if (strcmp(verb->name, "subscriptions") == 0)
		ps_owner_set(&r, verb, false);
	else
		ps_error(&r, XERR_FEATURE_NOT_IMPLEMENTED, "unsupported",
		    verb->name);
}

const struct iq_handler pubsub_handler = {
	.ns = NS_PUBSUB, .name = "pubsub", .server = false, .account = true,
	.get = pubsub_get, .set = pubsub_set,
};

const struct iq_handler pubsub_owner_handler = {
	.ns = NS_PUBSUB_OWNER, .name = "pubsub", .server = false,
	.account = true, .get = owner_get, .set = owner_set,
};
