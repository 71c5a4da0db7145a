/*
 * The message archive of accounts (XEP-0313 urn:xmpp:mam:2): messages are
 * archived on their way (mam_route, from deliver_stanza), stamped for the
 * recipient with a XEP-0359 stanza-id; queries page through the archive
 * with XEP-0059; preferences (XEP-0441) say what is kept. Storage:
 * storage/store_archive.c; the query's reading: mam_query.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/xdata.h"
#include "mam.h"
#include "router.h"

#define NS_HINTS	"urn:xmpp:hints"
#define NS_DELAY	"urn:xmpp:delay"
/* XEP-0441 lists: JIDs in always and never together */
#define PREFS_JIDS_MAX	256

enum { PREFS_ALWAYS = 'a', PREFS_ROSTER = 'r', PREFS_NEVER = 'n' };

static const char *
prefs_name(int d)
{
	return d == PREFS_NEVER ? "never" : d == PREFS_ROSTER ? "roster" :
	    "always";
}

/*
 * The preferences record (a document, key ""): the default's letter, then
 * one line per JID, "+jid" always, "-jid" never. NULL: none stored, the
 * server's default (always). Caller frees.
 */
static char *
prefs_get(const char *node, const char *domain)
{
	char	*val;
	size_t	 len;

	if (store_doc_get(router.store, DOC_MAM_PREFS, node, domain, "",
	    &val, &len) == -1)
		return NULL;
	return val;
}

/* the line "<mark>jid\n" in rec */
static bool
prefs_has(const char *rec, char mark, const char *jid)
{
	const char	*p;
	size_t		 jl = strlen(jid);

	for (p = strchr(rec, '\n'); p != NULL; p = strchr(p + 1, '\n'))
		if (p[1] == mark && strncmp(p + 2, jid, jl) == 0 &&
		    (p[2 + jl] == '\n' || p[2 + jl] == '\0'))
			return true;
	return false;
}

/* XEP-0441 2: whether the account archives a message with with (bare) */
static bool
prefs_allow(const char *node, const char *domain, const char *with)
{
	char	*rec;
	bool	 ok;

	if ((rec = prefs_get(node, domain)) == NULL)
		return true;
	if (prefs_has(rec, '-', with))
		ok = false;
	else if (prefs_has(rec, '+', with))
		ok = true;
	else if (rec[0] == PREFS_NEVER)
		ok = false;
	else if (rec[0] == PREFS_ROSTER) {
		struct roster_item	it;

		memset(&it, 0, sizeof(it));
		ok = store_roster_get(router.store, node, domain, with,
		    &it) == 0 && !it.hidden;
		roster_item_clear(&it);
	} else
		ok = true;
	free(rec);
	return ok;
}

static void
limits_of(struct archive_limits *lim)
{
	lim->age = (uint64_t)router.conf.archive_max_age * 1000000;
	lim->count = (size_t)router.conf.archive_max_messages;
	lim->bytes = router.conf.archive_max_bytes;
}

static uint64_t
now_us(void)
{
	return (uint64_t)(clock_wall() * 1e6);
}

/* ---- archiving on the delivery path ------------------------------------ */

/* an account on our side of a message */
struct party {
	const char	*node, *domain;
	char		 bare[JID_STR_MAX + 1];
};

struct route_job {
	struct rstanza	*rs;
	struct party	*sender, *recip;
	struct buf	*out;
	struct buf	 stored;
};

/*
 * XEP-0313 5.1.1 and XEP-0334: messages with a body are archived unless
 * a no-store or no-permanent-store hint says otherwise; a store hint
 * archives one without a body too.
 */
static bool
mam_worth(const struct xnode *el)
{
	if (xnode_child(el, NS_HINTS, "no-store") != NULL ||
	    xnode_child(el, NS_HINTS, "no-permanent-store") != NULL)
		return false;
	/* XEP-0424 5: the retraction is kept, with a body or without */
	return xnode_child(el, NS_HINTS, "store") != NULL ||
	    xnode_child(el, NS_CLIENT, "body") != NULL ||
	    xnode_child(el, NS_RETRACT, "retract") != NULL;
}

/*
 * XEP-0359 7: a stanza-id claimed by one of our JIDs is not the client's
 * to give; such ones are removed before anyone sees or archives them.
 */
static bool
mam_strip(struct xnode *el)
{
	struct xnode	*c, *prev = NULL, *next;
	struct jid	 j;
	const char	*by;
	bool		 ours, changed = false;

	for (c = el->children; c != NULL; c = next) {
		next = c->next;
		ours = false;
		if (c->type == XNODE_ELEM && strcmp(c->ns, NS_SID) == 0 &&
		    strcmp(c->name, "stanza-id") == 0) {
			by = xnode_attr(c, "by");
			/* no by, or one that does not parse: not valid */
			ours = by == NULL || jid_parse(&j, by) == -1;
			if (!ours) {
				ours = conf_host_find(&router.conf,
				    j.domain) != NULL;
				jid_clear(&j);
			}
		}
		if (!ours) {
			prev = c;
			continue;
		}
		if (prev == NULL)
			el->children = next;
		else
			prev->next = next;
		if (el->last == c)
			el->last = prev;
		changed = true;
	}
	return changed;
}

static void
bare_of(char *out, const char *jid)
{
	size_t	n = strcspn(jid, "/");

	if (n > JID_STR_MAX)
		n = JID_STR_MAX;
	memcpy(out, jid, n);
	out[n] = '\0';
}

/*
 * A nonce per archived message: drawn from a pool filled 64 at a time,
 * not one getrandom(2) per message on the delivery path.
 */
static uint64_t
nonce_next(void)
{
	static uint64_t	pool[64];
	static size_t	left;

	if (left == 0) {
		random_bytes(pool, sizeof(pool));
		left = nitems(pool);
	}
	return pool[--left];
}

/* an entry for node@domain, deferred: group commit, once per iteration */
static int
archive_entry_put(const char *node, const char *domain, const char *with,
    const char *xml, size_t len, struct mam_sid *sid)
{
	struct archive_entry	e;
	struct archive_limits	lim;

	memset(&e, 0, sizeof(e));
	e.nonce = nonce_next();
	e.stamp = now_us();
	e.with = (char *)with;
	e.xml = (char *)xml;
	e.len = len;
	limits_of(&lim);
	if (store_archive_put(router.store, node, domain, &e, &lim,
	    true) == -1)
		return -1;
	sid->id = e.id;
	sid->nonce = e.nonce;
	return 0;
}

int
mam_archive_put(const char *node, const char *domain, const char *with,
    const char *xml, size_t len, char *sid)
{
	struct mam_sid	s;

	if (archive_entry_put(node, domain, with, xml, len, &s) == -1)
		return -1;
	mam_sid_format(sid, &s);
	return 0;
}

/*
 * The message in the archives of sender and recipient (each if its
 * preferences let it), in one deferred transaction (group commit: flushed
 * before any frame leaves, store_flush). Returns the recipient's entry's
 * stanza-id in *sid, or false if it was not archived for the recipient.
 */
static bool
archive_both(struct route_job *job, bool self, struct mam_sid *sid)
{
	struct archive_entry	e[2];
	struct archive_req	req[2];
	struct archive_limits	lim;
	struct party		*p[2];
	char			with[2][JID_STR_MAX + 1];
	size_t			n = 0, i;

	bare_of(with[0], job->rs->to);
	bare_of(with[1], job->rs->from);
	p[0] = self ? NULL : job->sender;
	p[1] = job->recip;
	memset(e, 0, sizeof(e));
	for (i = 0; i < 2; i++) {
		if (p[i] == NULL || !prefs_allow(p[i]->node, p[i]->domain,
		    with[i]))
			continue;
		e[n].nonce = nonce_next();
		e[n].stamp = now_us();
		e[n].with = with[i];
		e[n].xml = (char *)buf_rptr(&job->stored);
		e[n].len = buf_avail(&job->stored);
		req[n].owner = p[i]->node;
		req[n].domain = p[i]->domain;
		req[n].e = &e[n];
		n++;
	}
	if (n == 0)
		return false;
	limits_of(&lim);
	(void)store_archive_put_many(router.store, req, n, &lim, true);
	for (i = 0; i < n; i++)
		if (e[i].id == 0)
			log_warn("archive of %s@%s: message from %s not "
			    "archived", req[i].owner, req[i].domain,
			    log_escs(job->rs->from));
	/* the recipient's, when archived, is the last one */
	if (p[1] == NULL || req[n - 1].e->with != with[1] ||
	    e[n - 1].id == 0)
		return false;
	sid->id = e[n - 1].id;
	sid->nonce = e[n - 1].nonce;
	return true;
}

/*
 * XEP-0424: the newest entries with the other party an author's
 * retraction looks through; an older message stays (a retraction names
 * the message by its 'id', which the archive does not index).
 */
#define RETRACT_SCAN	1000

struct unsend_job {
	const struct retract_target	*t;
	uint64_t			 found;
};

static int
unsend_match(const struct archive_entry *e, void *arg)
{
	struct unsend_job	*job = arg;

	if (!retract_target_is(job->t, e->xml, e->len))
		return 0;
	job->found = e->id;
	return 1;
}

/* the message t names leaves p's archive of messages with with */
static void
unsend(const struct party *p, const char *with,
    const struct retract_target *t)
{
	struct archive_range	rg;
	struct unsend_job	job = { t, 0 };

	memset(&rg, 0, sizeof(rg));
	rg.with = with;
	rg.hi = UINT64_MAX;
	rg.backward = true;
	rg.max = RETRACT_SCAN;
	if (store_archive_query(router.store, p->node, p->domain, &rg,
	    unsend_match, &job) == -1)
		log_warn("archive of %s@%s: retraction not read", p->node,
		    p->domain);
	else if (job.found != 0 && store_archive_del(router.store, p->node,
	    p->domain, job.found) == -1)
		log_warn("archive of %s@%s: retracted message not removed",
		    p->node, p->domain);
}

/*
 * XEP-0424 5: a retraction counts only from the author's bare JID, so
 * the message goes from the archives of ours that hold it: the sender's
 * (local) with the recipient, the recipient's (local) with the sender;
 * the retraction itself is archived after, as any message.
 */
static void
retract_apply(struct route_job *job, const char *id, bool self)
{
	struct retract_target	t;
	char			to[JID_STR_MAX + 1], from[JID_STR_MAX + 1];

	bare_of(from, job->rs->from);
	bare_of(to, job->rs->to);
	if (retract_target_init(&t, from, id) == -1)
		return;
	if (job->sender != NULL && !self)
		unsend(job->sender, to, &t);
	if (job->recip != NULL)
		unsend(job->recip, from, &t);
	retract_target_clear(&t);
}

static void
route_tree(struct xnode *el, struct arena *a, void *arg)
{
	struct route_job	*job = arg;
	struct rstanza		*rs = job->rs;
	struct xnode		*sid_el;
	struct mam_sid		 sid;
	const char		*rid;
	char			 id[MAM_SID_LEN + 1];
	bool			 changed, self;

	changed = mam_strip(el);
	self = job->sender != NULL && job->recip != NULL &&
	    strcmp(job->sender->bare, job->recip->bare) == 0;
	if ((rid = retract_id(el)) != NULL)
		retract_apply(job, rid, self);
	if (mam_worth(el)) {
		xnode_set_attr(a, el, "from", rs->from);
		xnode_set_attr(a, el, "to", rs->to);
		/* with xmlns: it is forwarded inside another namespace */
		buf_init(&job->stored, LINK_STANZA_MAX);
		if (xnode_write(&job->stored, el, "") == 0 &&
		    archive_both(job, self, &sid)) {
			/* XEP-0359 3: the recipient's archive id */
			mam_sid_format(id, &sid);
			sid_el = xnode_add(a, el, NS_SID, "stanza-id");
			xnode_set_attr(a, sid_el, "by", job->recip->bare);
			xnode_set_attr(a, sid_el, "id", id);
			changed = true;
		}
		buf_clear(&job->stored);
	}
	if (!changed)
		return;
	if (xnode_write(job->out, el, NS_CLIENT) == -1) {
		/* past the cap with our id: the original goes on */
		log_warnx("message from %s: no room for its stanza-id",
		    log_escs(rs->from));
		return;
	}
	rs->xml = buf_rptr(job->out);
	rs->xlen = buf_avail(job->out);
}

/* a local account, online (*up its user) or not (*up NULL) */
static bool
account_known(struct party *p, const char *node, const char *domain,
    struct user **up)
{
	struct scram_creds	c;
	struct user		*u;

	jid_format(p->bare, node, domain, NULL);
	if ((*up = u = map_get(router.by_bare, p->bare)) != NULL) {
		if (u->removed)
			return false;
		p->node = u->node;
		p->domain = u->domain;
		return true;
	}
	if (store_account_get(router.store, node, domain, &c) == -1)
		return false;
	explicit_bzero(&c, sizeof(c));
	p->node = node;
	p->domain = domain;
	return true;
}

void
mam_route(struct rstanza *rs, struct buf *out)
{
	struct route_job	 job;
	struct party		 sp, rp;
	struct user		*su, *ru = NULL;
	struct sess		*s;
	struct jid		 to;
	bool			 parsed = false;

	if (!router.conf.archive || rs->kind != KIND_MESSAGE ||
	    (rs->type != MTYPE_CHAT && rs->type != MTYPE_NORMAL) ||
	    rs->to == NULL || rs->from == NULL)
		return;
	memset(&job, 0, sizeof(job));
	job.rs = rs;
	job.out = out;
	if (rs->sender != NULL && !(su = rs->sender->user)->removed) {
		/* XEP-0191: a message to a blocked JID is refused, not kept */
		if (su->blocklist && blocking_blocks(su->node, su->domain,
		    rs->to))
			return;
		sp.node = su->node;
		sp.domain = su->domain;
		snprintf(sp.bare, sizeof(sp.bare), "%s", su->bare);
		job.sender = &sp;
	}
	/* the fast path's lookup first: an online resource names its user */
	if ((s = map_get(router.by_full, rs->to)) != NULL) {
		ru = s->user;
		if (!ru->removed) {
			rp.node = ru->node;
			rp.domain = ru->domain;
			snprintf(rp.bare, sizeof(rp.bare), "%s", ru->bare);
			job.recip = &rp;
		}
	} else {
		if (jid_parse(&to, rs->to) == -1)
			return;
		parsed = true;
		if (conf_host_find(&router.conf, to.domain) != NULL) {
			/* our domain itself, or no such account: bounced */
			if (to.node == NULL ||
			    !account_known(&rp, to.node, to.domain, &ru))
				goto done;
			job.recip = &rp;
		}
	}
	if (job.recip != NULL && (ru == NULL || ru->blocklist) &&
	    blocking_blocks(rp.node, rp.domain, rs->from))
		goto done;	/* the recipient refuses it: not kept */
	if (job.recip != NULL || job.sender != NULL)
		(void)deliver_parse(rs->xml, rs->xlen, route_tree, &job);
done:
	if (parsed)
		jid_clear(&to);
}

/* ---- queries ----------------------------------------------------------- */

/* the entry a stanza-id names, if it is one of this archive's */
static bool
sid_resolve(const char *node, const char *domain, const struct mam_sid *sid,
    struct archive_entry *e)
{
	if (store_archive_get(router.store, node, domain, sid->id, e) == -1)
		return false;
	if (e->nonce != sid->nonce) {
		archive_entry_clear(e);
		return false;
	}
	return true;
}

static bool
sid_known(const char *node, const char *domain, const struct mam_sid *sid)
{
	struct archive_entry	e;

	if (!sid_resolve(node, domain, sid, &e))
		return false;
	archive_entry_clear(&e);
	return true;
}

/* a page: copies of the entries, in the order the store gave them */
struct page {
	struct archive_entry	*v;
	size_t			 n, cap;
	const char		*with;	/* ids queries: the filter */
	uint64_t		 lo, hi;
	size_t			 skip;	/* RSM index: entries not shown */
};

static void
page_add(struct page *pg, const struct archive_entry *e)
{
	struct archive_entry	*c;

	if (pg->n == pg->cap) {
		pg->cap = pg->cap ? 2 * pg->cap : 16;
		pg->v = xrealloc(pg->v, pg->cap * sizeof(*pg->v));
	}
	c = &pg->v[pg->n++];
	*c = *e;
	c->with = xstrdup(e->with);
	c->xml = xmalloc(e->len + 1);
	memcpy(c->xml, e->xml, e->len + 1);
}

static int
page_one(const struct archive_entry *e, void *arg)
{
	struct page	*pg = arg;

	if (pg->skip > 0)
		pg->skip--;
	else
		page_add(pg, e);
	return 0;
}

/* XEP-0313 4.1.1: a full JID in with matches that resource only */
static bool
with_full_match(const struct archive_entry *e, void *arg)
{
	return mam_entry_has_jid(e->xml, e->len, arg);
}

static void
page_clear(struct page *pg)
{
	size_t	i;

	for (i = 0; i < pg->n; i++)
		archive_entry_clear(&pg->v[i]);
	free(pg->v);
	memset(pg, 0, sizeof(*pg));
}

static int
attr_put(struct buf *b, const char *name, const char *v)
{
	return buf_printf(b, " %s='", name) == -1 ||
	    xml_escape(b, v, strlen(v)) == -1 || buf_puts(b, "'") == -1 ?
	    -1 : 0;
}

/*
 * XEP-0313 4.2: one result, the stored message forwarded (XEP-0297) with
 * its archiving time (XEP-0203), to the querying resource. Built as
 * bytes: the stored message is copied, not parsed.
 */
static void
result_send(const char *to, const char *owner, const char *queryid,
    const struct archive_entry *e)
{
	struct buf	 b;
	struct mam_sid	 sid = { e->id, e->nonce };
	char		 id[MAM_SID_LEN + 1], stamp[32];
	struct sess	*s = map_get(router.by_full, to);

	mam_sid_format(id, &sid);
	xmpp_datetime(stamp, (double)e->stamp / 1e6);
	buf_init(&b, LINK_STANZA_MAX);
	if (buf_puts(&b, "<message") == -1 || attr_put(&b, "to", to) ||
	    attr_put(&b, "from", owner) ||
	    buf_puts(&b, "><result xmlns='" NS_MAM "'") == -1 ||
	    (queryid != NULL && attr_put(&b, "queryid", queryid)) ||
	    attr_put(&b, "id", id) ||
	    buf_puts(&b, "><forwarded xmlns='" NS_FORWARD "'><delay xmlns='"
	    NS_DELAY "'") == -1 || attr_put(&b, "stamp", stamp) ||
	    buf_puts(&b, "/>") == -1 ||
	    buf_append(&b, e->xml, e->len) == -1 ||
	    buf_puts(&b, "</forwarded></result></message>") == -1)
		log_warnx("archive of %s: entry %s too large to send", owner,
		    id);
	else if (s != NULL)
		deliver_to_sess(s, KIND_MESSAGE, MTYPE_NORMAL, s->full, owner,
		    buf_rptr(&b), buf_avail(&b));
	else if (s2s_forward(KIND_MESSAGE, MTYPE_NORMAL, to, owner,
	    buf_rptr(&b), buf_avail(&b)) == -1)
		/* a room's archive asked by a remote occupant */
		log_debug("archive of %s: result to %s not sent", owner,
		    log_escs(to));
	buf_clear(&b);
}

static int
sid_cmp(const void *a, const void *b)
{
	const struct mam_sid	*x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* urn:xmpp:mam:2#extended: the entries named, in archive order */
static int
query_ids(const char *node, const char *domain, struct mam_query *q,
    struct page *pg)
{
	struct archive_entry	e;
	size_t			i;

	qsort(q->ids, q->nids, sizeof(*q->ids), sid_cmp);
	for (i = 0; i < q->nids; i++) {
		if (!sid_resolve(node, domain, &q->ids[i], &e))
			return -1;
		if ((q->with == NULL || strcmp(e.with, q->with) == 0) &&
		    (q->with_full == NULL ||
		    with_full_match(&e, (void *)q->with_full)) &&
		    e.id >= pg->lo && e.id <= pg->hi)
			page_add(pg, &e);
		archive_entry_clear(&e);
	}
	return 0;
}

static void
fin_add(struct arena *a, struct xnode *iq, struct page *pg, size_t shown,
    size_t count, bool complete, bool has_index, size_t index)
{
	struct xnode	*fin, *set, *el;
	struct mam_sid	 sid;
	char		 id[MAM_SID_LEN + 1], num[24];

	fin = xnode_add(a, iq, NS_MAM, "fin");
	if (complete)
		xnode_set_attr(a, fin, "complete", "true");
	set = xnode_add(a, fin, NS_RSM, "set");
	if (shown > 0) {
		sid.id = pg->v[0].id;
		sid.nonce = pg->v[0].nonce;
		mam_sid_format(id, &sid);
		el = xnode_add(a, set, NULL, "first");
		if (has_index) {
			snprintf(num, sizeof(num), "%zu", index);
			xnode_set_attr(a, el, "index", num);
		}
		xnode_add_text(a, el, id, strlen(id));
		sid.id = pg->v[shown - 1].id;
		sid.nonce = pg->v[shown - 1].nonce;
		mam_sid_format(id, &sid);
		el = xnode_add(a, set, NULL, "last");
		xnode_add_text(a, el, id, strlen(id));
	}
	snprintf(num, sizeof(num), "%zu", count);
	el = xnode_add(a, set, NULL, "count");
	xnode_add_text(a, el, num, strlen(num));
}

static void
page_reverse(struct page *pg, size_t n)
{
	struct archive_entry	t;
	size_t			i;

	for (i = 0; i < n / 2; i++) {
		t = pg->v[i];
		pg->v[i] = pg->v[n - 1 - i];
		pg->v[n - 1 - i] = t;
	}
}

void
mam_query_run(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *node, const char *domain, const char *to)
{
	struct xnode		*query = xnode_child(iq, NS_MAM, "query");
	struct mam_query	 q;
	struct archive_range	 r;
	struct page		 pg;
	enum stanza_err		 err;
	const char		*text;
	char			 owner[JID_STR_MAX + 1];
	size_t			 count = 0, shown, i, index = 0;
	uint64_t		 age;
	bool			 complete, has_index = false;

	if (mam_query_parse(a, query, (size_t)router.conf.archive_page_max,
	    &q, &err, &text) == -1) {
		iq_error(rs, iq, a, err, text);
		return;
	}
	memset(&r, 0, sizeof(r));
	memset(&pg, 0, sizeof(pg));
	r.with = q.with;
	if (q.with_full != NULL) {
		r.match = with_full_match;
		r.match_arg = (void *)q.with_full;
	}
	r.lo = q.start;
	r.hi = q.end;
	/* past the age limit: gone, if not yet removed */
	age = (uint64_t)router.conf.archive_max_age * 1000000;
	if (age > 0 && now_us() > age && now_us() - age > r.lo)
		r.lo = now_us() - age;
	if ((q.has_after_id && !sid_known(node, domain, &q.after_id)) ||
	    (q.has_before_id && !sid_known(node, domain, &q.before_id)) ||
	    (q.has_after && !sid_known(node, domain, &q.after)) ||
	    (q.has_before && !sid_known(node, domain, &q.before))) {
		iq_error(rs, iq, a, XERR_ITEM_NOT_FOUND, "no such archive id");
		return;
	}
	/* ids that exist are stamps: never 0, never UINT64_MAX */
	if (q.has_after_id && q.after_id.id + 1 > r.lo)
		r.lo = q.after_id.id + 1;
	if (q.has_before_id && q.before_id.id - 1 < r.hi)
		r.hi = q.before_id.id - 1;
	/* the count is of the filters, not of the page (XEP-0059 2.6) */
	if (!q.has_ids && store_archive_count(router.store, node, domain, &r,
	    &count) == -1) {
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	pg.lo = r.lo;
	pg.hi = r.hi;
	if (q.has_after && q.after.id + 1 > r.lo)
		r.lo = q.after.id + 1;
	if (q.has_before && q.before.id - 1 < r.hi)
		r.hi = q.before.id - 1;
	r.backward = q.backward;
	r.max = q.max + 1;	/* one more: is the page the last? */
	if (q.has_index && !q.has_ids) {
		/*
		 * XEP-0059 2.4: the page starts index entries in (of the
		 * filtered range, as the count is); past the end it is empty.
		 */
		if (q.index >= count)
			q.max = 0;
		pg.skip = q.index;
		r.max += q.index;
	}
	if (q.has_ids) {
		if (query_ids(node, domain, &q, &pg) == -1) {
			page_clear(&pg);
			iq_error(rs, iq, a, XERR_ITEM_NOT_FOUND,
			    "no such archive id");
			return;
		}
		count = pg.n;
	} else if (q.max > 0 && store_archive_query(router.store, node,
	    domain, &r, page_one, &pg) == -1) {
		page_clear(&pg);
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	shown = pg.n > q.max ? q.max : pg.n;
	complete = pg.n <= q.max;
	/* newest first from the store: the page itself is in order */
	if (q.backward)
		page_reverse(&pg, shown);
	if (!q.has_ids && q.has_index) {
		has_index = true;
		index = q.index;
	} else if (!q.has_ids && !q.backward && !q.has_after)
		has_index = true;		/* from the first */
	else if (!q.has_ids && q.before_empty && count >= shown) {
		has_index = true;		/* the last page */
		index = count - shown;
	}
	jid_format(owner, node, domain, NULL);
	for (i = 0; i < shown; i++)
		result_send(to, owner, q.queryid,
		    &pg.v[q.flip ? shown - 1 - i : i]);
	iq_make_result(iq, a);
	fin_add(a, iq, &pg, shown, count, complete, has_index, index);
	deliver_tree(rs->sender, iq);
	page_clear(&pg);
}

static void
mam_query_set(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	if (!iq_own_account(rs)) {
		iq_error(rs, iq, a, XERR_FORBIDDEN, NULL);
		return;
	}
	mam_query_run(rs, iq, a, rs->tnode, rs->tdomain, rs->sender->full);
}

/* XEP-0313 5.1: the form's fields, for a client to show */
void
mam_form_run(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*q, *x;

	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_MAM, "query");
	x = xdata_new(a, q, "form", NS_MAM);
	xdata_add(a, x, "with", "jid-single", NULL, NULL);
	xdata_add(a, x, "start", "text-single", NULL, NULL);
	xdata_add(a, x, "end", "text-single", NULL, NULL);
	xdata_add(a, x, "before-id", "text-single", NULL, NULL);
	xdata_add(a, x, "after-id", "text-single", NULL, NULL);
	xdata_add(a, x, "ids", "text-multi", NULL, NULL);
	deliver_tree(rs->sender, iq);
}

static void
mam_query_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	if (!iq_own_account(rs)) {
		iq_error(rs, iq, a, XERR_FORBIDDEN, NULL);
		return;
	}
	mam_form_run(rs, iq, a);
}

/* ---- metadata (XEP-0313 urn:xmpp:mam:2#metadata) ------------------------ */

static int
first_one(const struct archive_entry *e, void *arg)
{
	struct archive_entry	*out = arg;

	*out = *e;
	out->with = NULL;
	out->xml = NULL;
	return 1;
}

static void
meta_add(struct arena *a, struct xnode *m, const char *name,
    const struct archive_entry *e)
{
	struct xnode	*el = xnode_add(a, m, NULL, name);
	struct mam_sid	 sid = { e->id, e->nonce };
	char		 id[MAM_SID_LEN + 1], stamp[32];

	mam_sid_format(id, &sid);
	xmpp_datetime(stamp, (double)e->stamp / 1e6);
	xnode_set_attr(a, el, "id", id);
	xnode_set_attr(a, el, "timestamp", stamp);
}

static void
mam_metadata_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct archive_range	r = { .hi = UINT64_MAX, .max = 1 };
	struct archive_entry	first, last;
	struct xnode		*m;

	if (!iq_own_account(rs)) {
		iq_error(rs, iq, a, XERR_FORBIDDEN, NULL);
		return;
	}
	memset(&first, 0, sizeof(first));
	memset(&last, 0, sizeof(last));
	if (store_archive_query(router.store, rs->tnode, rs->tdomain, &r,
	    first_one, &first) == -1) {
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	r.backward = true;
	(void)store_archive_query(router.store, rs->tnode, rs->tdomain, &r,
	    first_one, &last);
	iq_make_result(iq, a);
	m = xnode_add(a, iq, NS_MAM, "metadata");
	if (first.id != 0) {
		meta_add(a, m, "start", &first);
		meta_add(a, m, "end", &last);
	}
	deliver_tree(rs->sender, iq);
}

/* ---- preferences (XEP-0441) -------------------------------------------- */

static void
prefs_list(struct arena *a, struct xnode *prefs, const char *name,
    const char *rec, char mark)
{
	struct xnode	*list = xnode_add(a, prefs, NULL, name), *j;
	const char	*p, *e;

	for (p = strchr(rec, '\n'); p != NULL; p = e) {
		e = strchr(p + 1, '\n');
		if (p[1] != mark)
			continue;
		j = xnode_add(a, list, NULL, "jid");
		xnode_add_text(a, j, p + 2, e != NULL ? (size_t)(e - p - 2) :
		    strlen(p + 2));
	}
}

static void
prefs_answer(struct rstanza *rs, struct xnode *iq, struct arena *a,
    const char *rec)
{
	struct xnode	*p;

	iq_make_result(iq, a);
	p = xnode_add(a, iq, NS_MAM, "prefs");
	xnode_set_attr(a, p, "default", prefs_name(rec != NULL ? rec[0] :
	    PREFS_ALWAYS));
	prefs_list(a, p, "always", rec != NULL ? rec : "", '+');
	prefs_list(a, p, "never", rec != NULL ? rec : "", '-');
	deliver_tree(rs->sender, iq);
}

static void
mam_prefs_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	char	*rec;

	if (!iq_own_account(rs)) {
		iq_error(rs, iq, a, XERR_FORBIDDEN, NULL);
		return;
	}
	rec = prefs_get(rs->tnode, rs->tdomain);
	prefs_answer(rs, iq, a, rec);
	free(rec);
}

/* the JIDs of <always/> or <never/> as record lines; -1 if malformed */
static int
prefs_read_list(struct arena *a, const struct xnode *prefs,
    const char *name, char mark, struct buf *b, size_t *n)
{
	const struct xnode	*list, *j;
	const char		*bare;

	if ((list = xnode_child(prefs, NS_MAM, name)) == NULL)
		return 0;
	for (j = xnode_child(list, NS_MAM, "jid"); j != NULL;
	    j = xnode_next(j, NS_MAM, "jid")) {
		if ((bare = mam_bare_jid(a, xnode_text(a, j))) == NULL ||
		    ++*n > PREFS_JIDS_MAX)
			return -1;
		if (buf_printf(b, "\n%c%s", mark, bare) == -1)
			return -1;
	}
	return 0;
}

static void
mam_prefs_set(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*prefs = xnode_child(iq, NS_MAM, "prefs");
	struct buf	 b;
	const char	*def;
	size_t		 n = 0;
	int		 d;

	if (!iq_own_account(rs)) {
		iq_error(rs, iq, a, XERR_FORBIDDEN, NULL);
		return;
	}
	def = xnode_attr(prefs, "default");
	if (def == NULL || (strcmp(def, "always") != 0 &&
	    strcmp(def, "roster") != 0 && strcmp(def, "never") != 0)) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST,
		    "default: always, roster or never");
		return;
	}
	d = def[0] == 'a' ? PREFS_ALWAYS : def[0] == 'r' ? PREFS_ROSTER :
	    PREFS_NEVER;
	buf_init(&b, (PREFS_JIDS_MAX + 1) * (JID_STR_MAX + 2));
	(void)buf_printf(&b, "%c", d);
	if (prefs_read_list(a, prefs, "always", '+', &b, &n) == -1 ||
	    prefs_read_list(a, prefs, "never", '-', &b, &n) == -1) {
		buf_clear(&b);
		iq_error(rs, iq, a, n > PREFS_JIDS_MAX ? XERR_NOT_ACCEPTABLE :
		    XERR_BAD_REQUEST, n > PREFS_JIDS_MAX ? "too many JIDs" :
		    "not a JID");
		return;
	}
	if (store_doc_put(router.store, DOC_MAM_PREFS, rs->tnode,
	    rs->tdomain, "", buf_cstr(&b), buf_avail(&b)) == -1) {
		buf_clear(&b);
		iq_error(rs, iq, a, errno == ENOSPC ?
		    XERR_RESOURCE_CONSTRAINT : XERR_INTERNAL_SERVER_ERROR,
		    NULL);
		return;
	}
	prefs_answer(rs, iq, a, buf_cstr(&b));
	buf_clear(&b);
}

void
mam_disco_features(struct xnode *query, struct arena *a)
{
	/*
	 * XEP-0424 2: retractions are archived, and what they name leaves
	 * the archive (no tombstone, so no #tombstone)
	 */
	static const char *const	feats[] = { NS_MAM_EXT, NS_MAM_META,
	    NS_SID, NS_RETRACT };
	struct xnode			*f;
	size_t				 i;

	if (!router.conf.archive)
		return;
	for (i = 0; i < nitems(feats); i++) {
		f = xnode_add(a, query, NS_DISCO_INFO, "feature");
		xnode_set_attr(a, f, "var", feats[i]);
	}
}

const struct iq_handler mam_handler = {
	.ns = NS_MAM, .name = "query", .server = false, .account = true,
	.get = mam_query_get, .set = mam_query_set,
};
const struct iq_handler mam_prefs_handler = {
	.ns = NS_MAM, .name = "prefs", .server = false, .account = true,
	.get = mam_prefs_get, .set = mam_prefs_set,
};
const struct iq_handler mam_metadata_handler = {
	.ns = NS_MAM, .name = "metadata", .server = false, .account = true,
	.get = mam_metadata_get,
};
