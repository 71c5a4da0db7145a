/*
 * The roster (RFC 6121 2) and roster versioning (XEP-0237): get, set,
 * remove, pushes to interested resources. The subscription state kept in
 * each item is driven by presence.c; removal here cancels subscriptions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "router.h"

#define NS_ROSTER	"jabber:iq:roster"
#define ROSTER_TEXT_MAX	1023	/* bytes of a name or a group */

static const char *const sub_names[] = { "none", "to", "from", "both" };

int
roster_sub_of(const char *node, const char *domain, const char *contact)
{
	struct roster_item	it;
	int			sub;

	memset(&it, 0, sizeof(it));
	if (store_roster_get(router.store, node, domain, contact, &it) == -1)
		return SUB_NONE;
	sub = it.hidden ? SUB_NONE : (int)it.sub;
	roster_item_clear(&it);
	return sub;
}

bool
roster_full(const char *node, const char *domain)
{
	size_t	n;

	return store_roster_count(router.store, node, domain, &n) == 0 &&
	    n >= (size_t)router.conf.roster_max_items;
}

struct snapshot {
	struct roster_item	*v;
	size_t			 n, cap;
};

static int
snapshot_add(const struct roster_item *it, void *arg)
{
	struct snapshot		*sn = arg;
	struct roster_item	*c;

	if (sn->n == sn->cap) {
		sn->cap = sn->cap ? 2 * sn->cap : 16;
		sn->v = xrealloc(sn->v, sn->cap * sizeof(*sn->v));
	}
	c = &sn->v[sn->n++];
	memset(c, 0, sizeof(*c));
	c->jid = xstrdup(it->jid);
	c->sub = it->sub;
	c->ask = it->ask;
	c->pending_in = it->pending_in;
	c->hidden = it->hidden;
	return 0;
}

struct roster_item *
roster_snapshot(const char *node, const char *domain, size_t *n)
{
	struct snapshot	sn = { NULL, 0, 0 };

	if (store_roster_list(router.store, node, domain, snapshot_add,
	    &sn) == -1) {
		log_warnx("roster of %s@%s unreadable", log_escs(node),
		    log_escs(domain));
		roster_snapshot_free(sn.v, sn.n);
		sn.v = NULL;
		sn.n = 0;
	}
	*n = sn.n;
	return sn.v;
}

void
roster_snapshot_free(struct roster_item *v, size_t n)
{
	while (n > 0)
		roster_item_clear(&v[--n]);
	free(v);
}

/* <item .../> for results and pushes; -1 past b's cap */
static int
roster_item_write(struct buf *b, const struct roster_item *it, bool removed)
{
	size_t	i;
	int	rc = 0;

	rc |= buf_puts(b, "<item jid='");
	rc |= xml_escape(b, it->jid, strlen(it->jid));
	rc |= buf_puts(b, "'");
	if (it->name != NULL && !removed) {
		rc |= buf_puts(b, " name='");
		rc |= xml_escape(b, it->name, strlen(it->name));
		rc |= buf_puts(b, "'");
	}
	rc |= buf_printf(b, " subscription='%s'", removed ? "remove" :
	    sub_names[it->sub]);
	if (it->ask && !removed)
		rc |= buf_puts(b, " ask='subscribe'");
	if (it->preapproved && !removed)
		rc |= buf_puts(b, " approved='true'");
	if (removed || it->ngroups == 0)
		return rc | buf_puts(b, "/>");
	rc |= buf_puts(b, ">");
	for (i = 0; i < it->ngroups; i++) {
		rc |= buf_puts(b, "<group>");
		rc |= xml_escape(b, it->groups[i], strlen(it->groups[i]));
		rc |= buf_puts(b, "</group>");
	}
	return rc | buf_puts(b, "</item>");
}

void
roster_push(struct user *u, const struct roster_item *it, bool removed)
{
	static unsigned long	 seq;
	struct buf		 b;
	struct sess		*s;

	if (u == NULL || it->hidden)
		return;
	buf_init(&b, LINK_STANZA_MAX);
	for (s = u->sessions; s != NULL; s = s->next) {
		/* RFC 6121 2.1.6: only resources that asked for the roster */
		if (!s->interested)
			continue;
		buf_reset(&b);
		if (buf_printf(&b, "<iq type='set' id='push%lu' to='",
		    ++seq) | xml_escape(&b, s->full, strlen(s->full)) |
		    buf_printf(&b, "'><query xmlns='" NS_ROSTER "' ver='%llu'>",
		    (unsigned long long)it->ver) |
		    roster_item_write(&b, it, removed) |
		    buf_puts(&b, "</query></iq>")) {
			log_warnx("roster push to %s too large", s->full);
			continue;
		}
		deliver_to_sess(s, KIND_IQ, IQ_SET, s->full, NULL,
		    buf_rptr(&b), buf_avail(&b));
	}
	buf_clear(&b);
}

struct roster_get_job {
	struct buf	*b;
	bool		 full;	/* the result passed its cap */
};

static int
roster_get_item(const struct roster_item *it, void *arg)
{
	struct roster_get_job	*job = arg;

	if (!it->hidden && roster_item_write(job->b, it, false) == -1) {
		job->full = true;
		return -1;
	}
	return 0;
}

static void
roster_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct roster_get_job	 job;
	struct buf		 b;
	struct xnode		*q = xnode_child(iq, NS_ROSTER, "query");
	const char		*ver = xnode_attr(q, "ver");
	const char		*id = xnode_attr(iq, "id");
	uint64_t		 cur;
	char			 curs[24];

	if (!iq_own_account(rs)) {
		iq_error(rs, iq, a, XERR_FORBIDDEN, NULL);
		return;
	}
	if (store_roster_version(router.store, rs->tnode, rs->tdomain,
	    &cur) == -1) {
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	rs->sender->interested = true;
	snprintf(curs, sizeof(curs), "%llu", (unsigned long long)cur);
	/* the result is one stanza; a roster past that is refused */
	buf_init(&b, LINK_STANZA_MAX);
	job.b = &b;
	job.full = buf_puts(&b, "<iq type='result' id='") |
	    xml_escape(&b, id, strlen(id)) | buf_puts(&b, "' to='") |
	    xml_escape(&b, rs->sender->full, strlen(rs->sender->full));
	/* XEP-0237 3.3: the client is up to date: an empty result */
	if (ver != NULL && strcmp(ver, curs) == 0) {
		job.full |= buf_puts(&b, "'/>") == -1;
		goto send;
	}
	job.full |= buf_printf(&b, "'><query xmlns='" NS_ROSTER
	    "' ver='%s'>", curs) == -1;
	if (!job.full && store_roster_list(router.store, rs->tnode,
	    rs->tdomain, roster_get_item, &job) == -1 && !job.full) {
		buf_clear(&b);
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	job.full |= buf_puts(&b, "</query></iq>") == -1;
send:
	if (job.full) {
		buf_clear(&b);
		iq_error(rs, iq, a, XERR_RESOURCE_CONSTRAINT, NULL);
		return;
	}
	deliver_to_sess(rs->sender, KIND_IQ, IQ_RESULT, rs->sender->full,
	    NULL, buf_rptr(&b), buf_avail(&b));
	buf_clear(&b);
}

/* checks the groups of a roster set (RFC 6121 2.3.3); NULL when fine */
static enum stanza_err
roster_take_groups(struct roster_item *it, struct xnode *item,
    struct arena *a, const char **why)
{
	struct xnode	*g;
	char		*text;
	size_t		 i;

	for (g = xnode_child(item, NS_ROSTER, "group"); g != NULL;
	    g = xnode_next(g, NS_ROSTER, "group")) {
		text = xnode_text(a, g);
		if (*text == '\0') {
			*why = "empty group name";
			return XERR_NOT_ACCEPTABLE;
		}
		if (strlen(text) > ROSTER_TEXT_MAX) {
			*why = "group name too long";
			return XERR_NOT_ACCEPTABLE;
		}
		for (i = 0; i < it->ngroups; i++)
			if (strcmp(it->groups[i], text) == 0) {
				*why = "duplicate group";
				return XERR_BAD_REQUEST;
			}
		if (it->ngroups == ROSTER_GROUPS_MAX) {
			*why = "too many groups";
			return XERR_NOT_ACCEPTABLE;
		}
		it->groups[it->ngroups++] = xstrdup(text);
	}
	return XERR_COUNT;
}

/*
 * The item is stored (or removed) at version ver: the result to the
 * client, then the push to the interested resources. Clears it.
 */
static void
roster_set_done(struct rstanza *rs, struct xnode *iq, struct arena *a,
    struct roster_item *it, uint64_t ver, bool removed)
{
	it->ver = ver;
	iq_make_result(iq, a);
	deliver_tree(rs->sender, iq);
	roster_push(rs->sender->user, it, removed);
	roster_item_clear(it);
}

static void
roster_set(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode		*q = xnode_child(iq, NS_ROSTER, "query");
	struct xnode		*item, *c;
	struct roster_item	 it;
	struct jid		 j;
	const char		*jid, *name, *sub, *why = NULL;
	enum stanza_err		 err;
	char			 contact[JID_STR_MAX + 1];
	bool			 exists;
	size_t			 n;
	uint64_t		 ver;

	memset(&it, 0, sizeof(it));
	if (!iq_own_account(rs)) {
		iq_error(rs, iq, a, XERR_FORBIDDEN, NULL);
		return;
	}
	/* RFC 6121 2.3.3: exactly one item */
	item = xnode_child(q, NS_ROSTER, "item");
	for (n = 0, c = xnode_child(q, NULL, NULL); c != NULL;
	    c = xnode_next(c, NULL, NULL))
		n++;
	if (item == NULL || n != 1) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST,
		    "a roster set holds exactly one item");
		return;
	}
	if ((jid = xnode_attr(item, "jid")) == NULL ||
	    jid_parse(&j, jid) == -1) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST,
		    "the item needs a valid jid");
		return;
	}
	jid_format(contact, j.node, j.domain, j.resource);
	jid_clear(&j);
	exists = store_roster_get(router.store, rs->tnode, rs->tdomain,
	    contact, &it) == 0;
	sub = xnode_attr(item, "subscription");
	if (sub != NULL && strcmp(sub, "remove") == 0) {
		if (!exists || it.hidden) {
			roster_item_clear(&it);
			iq_error(rs, iq, a, XERR_ITEM_NOT_FOUND, NULL);
			return;
		}
		presence_roster_removed(rs->sender->user->bare,
		    rs->sender->user, &it);
		if (store_roster_del(router.store, rs->tnode, rs->tdomain,
		    contact, &ver) == -1) {
			roster_item_clear(&it);
			iq_error(rs, iq, a,
			    XERR_INTERNAL_SERVER_ERROR, NULL);
			return;
		}
		roster_set_done(rs, iq, a, &it, ver, true);
		return;
	}
	if (!exists && roster_full(rs->tnode, rs->tdomain)) {
		iq_error(rs, iq, a, XERR_NOT_ALLOWED,
		    "the roster is full");
		return;
	}
	if (!exists) {
		memset(&it, 0, sizeof(it));
		it.jid = xstrdup(contact);
	}
	/* the client sets name and groups; state is the server's */
	free(it.name);
	it.name = NULL;
	name = xnode_attr(item, "name");
	if (name != NULL && strlen(name) > ROSTER_TEXT_MAX) {
		roster_item_clear(&it);
		iq_error(rs, iq, a, XERR_NOT_ACCEPTABLE,
		    "name too long");
		return;
	}
	if (name != NULL && *name != '\0')
		it.name = xstrdup(name);
	while (it.ngroups > 0)
		free(it.groups[--it.ngroups]);
	if ((err = roster_take_groups(&it, item, a, &why)) != XERR_COUNT) {
		roster_item_clear(&it);
		iq_error(rs, iq, a, err, why);
		return;
	}
	it.hidden = false;
	if (store_roster_put(router.store, rs->tnode, rs->tdomain, &it,
	    &ver) == -1) {
		roster_item_clear(&it);
		iq_error(rs, iq, a, errno == ENOSPC ?
		    XERR_RESOURCE_CONSTRAINT : XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	roster_set_done(rs, iq, a, &it, ver, false);
}

const struct iq_handler roster_handler = {
	.ns = NS_ROSTER, .name = "query", .account = true,
	.get = roster_get, .set = roster_set,
};
