/*
 * Personal eventing (XEP-0163): who hears of an account's node events and
 * when. Notifications go to the account's own resources and to its
 * contacts entitled by the node's access model, each to the full JIDs
 * whose entity capabilities (XEP-0115, caps.c) include NODE+notify, and
 * to explicit subscribers. The last item of each node goes to a resource
 * when its capabilities become known (it came online, or changed them).
 * A remote contact's resources are known from the presence they send the
 * account: kept here, both ways (account -> resources, resource ->
 * accounts), as long as they are available.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "pubsub.h"
#include "router.h"

/* a small set of strings */
struct strv {
	char	**v;
	size_t	  n, cap;
};

/* remote resources that sent an account available presence */
#define PEP_REMOTE_MAX	1024	/* per account, and accounts per resource */

static struct map	*remote_by_owner;	/* bare -> struct strv */
static struct map	*owners_by_remote;	/* full -> struct strv */

static bool
strv_has(const struct strv *sv, const char *s)
{
	size_t	i;

	for (i = 0; sv != NULL && i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

static void
strv_add(struct strv *sv, const char *s)
{
	if (strv_has(sv, s) || sv->n >= PEP_REMOTE_MAX)
		return;
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? 2 * sv->cap : 4;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = xstrdup(s);
}

/* removes s; true when the set is empty then */
static bool
strv_del(struct strv *sv, const char *s)
{
	size_t	i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0) {
			free(sv->v[i]);
			sv->v[i] = sv->v[--sv->n];
			break;
		}
	return sv->n == 0;
}

static void
strv_free(void *p)
{
	struct strv	*sv = p;
	size_t		 i;

	for (i = 0; sv != NULL && i < sv->n; i++)
		free(sv->v[i]);
	if (sv != NULL)
		free(sv->v);
	free(sv);
}

static void
index_add(struct map **m, const char *key, const char *val)
{
	struct strv	*sv;

	if (*m == NULL)
		*m = map_new();
	if ((sv = map_get(*m, key)) == NULL) {
		sv = xcalloc(1, sizeof(*sv));
		map_put(*m, key, sv);
	}
	strv_add(sv, val);
}

static void
index_del(struct map *m, const char *key, const char *val)
{
	struct strv	*sv;

	if (m == NULL || (sv = map_get(m, key)) == NULL)
		return;
	if (strv_del(sv, val)) {
		map_del(m, key);
		strv_free(sv);
	}
}

void
pep_presence_in(const char *node, const char *domain, const char *from,
    int type)
{
	char	bare[JID_STR_MAX + 1];

	if ((type != PRES_AVAILABLE && type != PRES_UNAVAILABLE) ||
	    strchr(from, '/') == NULL || domain_is_local_jid(from))
		return;
	jid_format(bare, node, domain, NULL);
	if (type == PRES_AVAILABLE) {
		index_add(&remote_by_owner, bare, from);
		index_add(&owners_by_remote, from, bare);
	} else {
		index_del(remote_by_owner, bare, from);
		index_del(owners_by_remote, from, bare);
	}
}

/* the account is gone or its server forgot the remote resources */
void
pep_account_gone(const char *bare)
{
	struct strv	*sv;
	size_t		 i;

	if (remote_by_owner == NULL ||
	    (sv = map_del(remote_by_owner, bare)) == NULL)
		return;
	for (i = 0; i < sv->n; i++)
		index_del(owners_by_remote, sv->v[i], bare);
	strv_free(sv);
}

/* ---- notifications ------------------------------------------------------ */

struct notify {
	const struct ps_service	*svc;
	const struct ps_node	*n;
	struct arena		*a;
	struct xnode		*msg;
	const char		*xml;		/* msg without 'to' */
	size_t			 len;
	int			 type;		/* MTYPE_ */
	char			*feature;	/* NODE+notify */
	struct map		*done;		/* full JIDs reached */
	struct strv		 remote;	/* to send one by one */
};

static bool
notify_wants(struct notify *nt, const char *full)
{
	if (map_get(nt->done, full) != NULL)
		return false;
	if (!caps_has(full, nt->feature))
		return false;
	map_put(nt->done, full, (void *)1);
	return true;
}

/*
 * XEP-0191 3.5: nothing goes between the owner and a JID it blocks, nor
 * to an account that blocks the owner
 */
static bool
notify_blocked(const struct ps_service *svc, const char *bare,
    const struct user *u)
{
	if (svc->pep && strcmp(bare, svc->jid) != 0 &&
	    blocking_blocks(svc->owner, svc->domain, bare))
		return true;
	return u != NULL && u->blocklist &&
	    blocking_blocks(u->node, u->domain, svc->jid);
}

/* the available resources of a local account that asked */
static void
notify_local(struct notify *nt, const char *bare)
{
	struct user	*u;
	struct sess	*s;

	if ((u = map_get(router.by_bare, bare)) == NULL ||
	    notify_blocked(nt->svc, bare, u))
		return;
	for (s = u->sessions; s != NULL; s = s->next)
		if (s->available && notify_wants(nt, s->full))
			deliver_to_sess(s, KIND_MESSAGE, nt->type, NULL,
			    nt->svc->jid, nt->xml, nt->len);
}

static void
notify_remote(struct notify *nt, const char *bare)
{
	struct strv	*sv;
	size_t		 i;

	if (remote_by_owner == NULL ||
	    (sv = map_get(remote_by_owner, nt->svc->jid)) == NULL ||
	    notify_blocked(nt->svc, bare, NULL))
		return;
	for (i = 0; i < sv->n; i++)
		if (strncmp(sv->v[i], bare, strlen(bare)) == 0 &&
		    sv->v[i][strlen(bare)] == '/' &&
		    notify_wants(nt, sv->v[i]))
			strv_add(&nt->remote, sv->v[i]);
}

/* may this contact (bare) hear of the node: its access model */
static bool
notify_allowed(const struct notify *nt, const char *bare,
    const struct roster_item *it)
{
	struct ps_req	r;
	const char	*app;

	memset(&r, 0, sizeof(r));
	r.svc = nt->svc;
	r.from_bare = bare;
	/* presence and open: the contacts that see the account's presence */
	if ((nt->n->conf.access == PS_ACCESS_PRESENCE ||
	    nt->n->conf.access == PS_ACCESS_OPEN) &&
	    (it->sub == SUB_FROM || it->sub == SUB_BOTH))
		return true;
	return nt->n->conf.access != PS_ACCESS_PRESENCE &&
	    nt->n->conf.access != PS_ACCESS_OPEN &&
	    ps_access(&r, nt->n, &app) == XERR_COUNT;
}

/* a message to one JID (remote, or a subscription), with its 'to' */
static void
notify_one(struct notify *nt, const char *to)
{
	struct rstanza	rs;
	struct buf	b;

	xnode_set_attr(nt->a, nt->msg, "to", to);
	buf_init(&b, LINK_STANZA_MAX);
	if (xnode_write(&b, nt->msg, NS_CLIENT) == 0) {
		memset(&rs, 0, sizeof(rs));
		rs.kind = KIND_MESSAGE;
		rs.type = nt->type;
		rs.to = to;
		rs.from = nt->svc->jid;
		rs.xml = buf_rptr(&b);
		rs.xlen = buf_avail(&b);
		deliver_stanza(&rs);
	}
	buf_clear(&b);
	xnode_set_attr(nt->a, nt->msg, "to", NULL);
}

static struct xnode *
event_build(struct arena *a, const struct ps_service *svc,
    const struct ps_node *n, enum ps_event ev, const struct xnode *item,
    const char *id)
{
	struct xnode	*msg, *event, *el, *copy;

	msg = xnode_new(a, NS_CLIENT, "message");
	xnode_set_attr(a, msg, "from", svc->jid);
	if (n->conf.notif_type == PS_NOTIF_HEADLINE)
		xnode_set_attr(a, msg, "type", "headline");
	xnode_set_attr(a, msg, "id", ps_item_id_new(a));
	event = xnode_add(a, msg, NS_PUBSUB_EVENT, "event");
	switch (ev) {
	case PS_EV_ITEMS:
	case PS_EV_RETRACT:
		el = xnode_add(a, event, NULL, "items");
		xnode_set_attr(a, el, "node", n->name);
		if (ev == PS_EV_RETRACT) {
			xnode_set_attr(a, xnode_add(a, el, NULL, "retract"),
			    "id", id);
			break;
		}
		copy = xnode_copy(a, item);
		copy->ns = NS_PUBSUB_EVENT;
		xnode_set_attr(a, copy, "id", id);
		if (!n->conf.payloads)
			copy->children = copy->last = NULL;
		xnode_append(el, copy);
		break;
	case PS_EV_DELETE:
		xnode_set_attr(a, xnode_add(a, event, NULL, "delete"), "node",
		    n->name);
		break;
	case PS_EV_PURGE:
		xnode_set_attr(a, xnode_add(a, event, NULL, "purge"), "node",
		    n->name);
		break;
	case PS_EV_CONFIG:
		xnode_set_attr(a, xnode_add(a, event, NULL, "configuration"),
		    "node", n->name);
		break;
	}
	return msg;
}

void
pep_notify(const struct ps_service *svc, const struct ps_node *n,
    enum ps_event ev, const struct xnode *item, const char *id,
    struct arena *a)
{
	struct notify		 nt;
	struct roster_item	*items = NULL;
	struct buf		 b;
	size_t			 nitems = 0, i;

	if (!n->conf.notify)
		return;
	memset(&nt, 0, sizeof(nt));
	nt.svc = svc;
	nt.n = n;
	nt.a = a;
	nt.type = n->conf.notif_type == PS_NOTIF_HEADLINE ? MTYPE_HEADLINE :
	    MTYPE_NORMAL;
	nt.feature = arena_printf(a, "%s+notify", n->name);
	nt.msg = event_build(a, svc, n, ev, item, id);
	buf_init(&b, LINK_STANZA_MAX);
	if (xnode_write(&b, nt.msg, NS_CLIENT) == -1) {
		log_warnx("pep %s: event of %s too large", svc->jid,
		    log_escs(n->name));
		buf_clear(&b);
		return;
	}
	nt.xml = buf_rptr(&b);
	nt.len = buf_avail(&b);
	nt.done = map_new();
	if (svc->pep) {
		/* the same bytes to every local resource: one frame a c2s */
		deliver_fanout_begin(KIND_MESSAGE, nt.type, svc->jid, nt.xml,
		    nt.len);
		notify_local(&nt, svc->jid);
		items = n->conf.access == PS_ACCESS_WHITELIST ? NULL :
		    roster_snapshot(svc->owner, svc->domain, &nitems);
		for (i = 0; i < nitems; i++) {
			if (!notify_allowed(&nt, items[i].jid, &items[i]))
				continue;
			notify_local(&nt, items[i].jid);
			notify_remote(&nt, items[i].jid);
		}
		for (i = 0; i < n->conf.naffs; i++)
			if (n->conf.affs[i].aff == PS_AFFIL_MEMBER ||
			    n->conf.affs[i].aff == PS_AFFIL_PUBLISHER) {
				notify_local(&nt, n->conf.affs[i].jid);
				notify_remote(&nt, n->conf.affs[i].jid);
			}
		deliver_fanout_end();
		roster_snapshot_free(items, nitems);
	}
	for (i = 0; i < nt.remote.n; i++)
		notify_one(&nt, nt.remote.v[i]);
	/* explicit subscriptions: to the JID subscribed, once */
	for (i = 0; i < n->conf.nsubs; i++) {
		const char	*sj = n->conf.subs[i].jid;
		char		 bare[JID_STR_MAX + 1];
		struct jid	 j;

		if (map_get(nt.done, sj) != NULL || jid_parse(&j, sj) == -1)
			continue;
		jid_format(bare, j.node, j.domain, NULL);
		jid_clear(&j);
		if (notify_blocked(svc, bare, map_get(router.by_bare, bare)))
			continue;
		map_put(nt.done, sj, (void *)1);
		notify_one(&nt, sj);
	}
	map_free(nt.done, NULL);
	for (i = 0; i < nt.remote.n; i++)
		free(nt.remote.v[i]);
	free(nt.remote.v);
	buf_clear(&b);
}

/* ---- last published items ----------------------------------------------- */

struct last {
	const struct ps_service	*svc;
	const struct ps_node	*n;
	const char		*to;
	struct arena		*a;
	bool			 sent;
};

static int
last_one(const struct pubsub_item *it, void *arg)
{
	struct last	*l = arg;
	struct xnode	*msg, *items;
	struct notify	 nt;

	msg = event_build(l->a, l->svc, l->n, PS_EV_ITEMS,
	    xnode_new(l->a, NS_PUBSUB, "item"), it->id);
	items = xnode_child(xnode_child(msg, NS_PUBSUB_EVENT, "event"),
	    NS_PUBSUB_EVENT, "items");
	items->children = items->last = NULL;
	ps_item_node(l->a, items, NS_PUBSUB_EVENT, it, l->n->conf.payloads);
	memset(&nt, 0, sizeof(nt));
	nt.svc = l->svc;
	nt.a = l->a;
	nt.msg = msg;
	nt.type = l->n->conf.notif_type == PS_NOTIF_HEADLINE ?
	    MTYPE_HEADLINE : MTYPE_NORMAL;
	notify_one(&nt, l->to);
	l->sent = true;
	return 1;
}

void
pep_send_last(const struct ps_service *svc, const struct ps_node *n,
    const char *to, struct arena *a)
{
	struct last	l = { svc, n, to, a, false };

	if (!n->conf.persist)
		return;
	(void)store_pubsub_items(router.store, svc->owner, svc->domain,
	    n->nid, 1, last_one, &l);
}

struct last_walk {
	struct ps_service	 svc;
	const char		*to;		/* full JID */
	const char		*to_bare;
	struct arena		*a;
	bool			 blocked;	/* one blocks the other */
};

static int
last_node(const char *name, uint64_t nid, const char *rec, size_t len,
    void *arg)
{
	struct last_walk	*lw = arg;
	struct ps_node		 n;
	struct ps_req		 r;
	const char		*app;

	memset(&n, 0, sizeof(n));
	n.name = name;
	n.nid = nid;
	if (ps_conf_decode(lw->a, rec, len, &n.conf) == -1 ||
	    n.conf.send_last != PS_SENDLAST_ON_SUB_AND_PRESENCE ||
	    !n.conf.notify)
		return 0;
	memset(&r, 0, sizeof(r));
	r.svc = &lw->svc;
	r.from_bare = lw->to_bare;
	r.owner = strcmp(lw->to_bare, lw->svc.jid) == 0;
	if (ps_access(&r, &n, &app) != XERR_COUNT)
		return 0;
	if (lw->blocked)
		return 0;
	/* a presence subscription is what entitles a contact here */
	if (!r.owner && n.conf.access == PS_ACCESS_OPEN) {
		int sub = roster_sub_of(lw->svc.owner, lw->svc.domain,
		    lw->to_bare);

		if (sub != SUB_FROM && sub != SUB_BOTH &&
		    ps_affil_of(&n.conf, lw->to_bare) == PS_AFFIL_NONE)
			return 0;
	}
	if (!caps_has(lw->to, arena_printf(lw->a, "%s+notify", name)))
		return 0;
	pep_send_last(&lw->svc, &n, lw->to, lw->a);
	return 0;
}

/* the last items of owner's nodes that full may have, to full */
static void
last_of_owner(const char *owner_bare, const char *full, const char *bare,
    struct arena *a)
{
	struct last_walk	lw;
	struct jid		j;

	if (jid_parse(&j, owner_bare) == -1 || j.node == NULL) {
		jid_clear(&j);
		return;
	}
	memset(&lw, 0, sizeof(lw));
	lw.svc.owner = arena_strdup(a, j.node);
	lw.svc.domain = arena_strdup(a, j.domain);
	lw.svc.jid = owner_bare;
	lw.svc.pep = true;
	lw.to = full;
	lw.to_bare = bare;
	lw.a = a;
	lw.blocked = notify_blocked(&lw.svc, bare,
	    map_get(router.by_bare, bare));
	jid_clear(&j);
	(void)store_pubsub_node_list(router.store, lw.svc.owner,
	    lw.svc.domain, last_node, &lw);
}

/*
 * caps.c: the features of full became known. A local resource gets the
 * last items of its own account and of the local contacts whose
 * presence it sees; a remote one those of the accounts it sent presence.
 */
static void
pep_caps_known(const char *full, void *arg)
{
	struct arena		 a;
	struct sess		*s;
	struct strv		*sv;
	struct roster_item	*items;
	struct jid		 j;
	char			 bare[JID_STR_MAX + 1];
	size_t			 n, i;

	(void)arg;
	if (jid_parse(&j, full) == -1)
		return;
	jid_format(bare, j.node, j.domain, NULL);
	jid_clear(&j);
	arena_init(&a);
	if ((s = map_get(router.by_full, full)) != NULL) {
		last_of_owner(s->user->bare, full, bare, &a);
		items = roster_snapshot(s->user->node, s->user->domain, &n);
		for (i = 0; i < n; i++)
			if ((items[i].sub == SUB_TO ||
			    items[i].sub == SUB_BOTH) &&
			    domain_is_local_jid(items[i].jid))
				last_of_owner(items[i].jid, full, bare, &a);
		roster_snapshot_free(items, n);
	} else if (owners_by_remote != NULL &&
	    (sv = map_get(owners_by_remote, full)) != NULL) {
		for (i = 0; i < sv->n; i++)
			last_of_owner(sv->v[i], full, bare, &a);
	}
	arena_free(&a);
}

void
pep_init(void)
{
	caps_on_known(pep_caps_known, NULL);
}
