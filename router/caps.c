/*
 * Entity capabilities (XEP-0115) of the JIDs whose presence the router
 * sees: each full JID's announced hash, one disco#info query per unknown
 * hash, the answer verified (capsver.c) and its features cached, in
 * bounded memory, for every JID that announces the same hash. PEP asks
 * caps_has(full, "NODE+notify") per notification recipient.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/version.h"
#include "handover.h"
#include "router.h"

/* XEP-0115 9.3: one query to at most five entities, distinct bare JIDs */
#define CAPS_TRIES	5
/* a ver that no holder answered rightly is not asked for again so soon */
#define CAPS_BAD_TTL	600.0
/* queries one JID may cause in a burst, then one per CAPS_JID_EVERY s */
#define CAPS_JID_BURST	3.0
#define CAPS_JID_EVERY	20.0
/* remote JIDs remembered (local ones are bounded by the sessions) */
#define CAPS_REMOTE_MAX	65536
/* the longest caps node kept; a longer one is not caps we can use */
#define CAPS_NODE_MAX	1024
/* eviction looks this far from the LRU end for a ver nobody holds */
#define CAPS_EVICT_SCAN	32

enum caps_state { CV_UNKNOWN, CV_KNOWN, CV_BAD };

/* an LRU list: most recent at the head; objects embed a struct dl */
struct dl {
	struct dl	*prev, *next;
};
struct dlist {
	struct dl	*head, *tail;
};

struct caps_query;

/* one verification string: its holders, its cached features, its query */
struct caps_ver {
	char		*key;		/* "algo ver" */
	const char	*ver;		/* in key */
	int		 algo;
	struct caps_jid	*holders;
	size_t		 nholders;
	enum caps_state	 state;
	const char	**feat;		/* CV_KNOWN: sorted, one allocation */
	size_t		 nfeat;
	size_t		 bytes;		/* what the cache counts for it */
	double		 bad_until;	/* CV_BAD */
	struct dl	 lru;		/* in caps.cache, when not unknown */
	struct caps_query *q;		/* in flight, or NULL */
};

/* one full JID with caps */
struct caps_jid {
	char		*full;
	char		*domain;	/* ours, that we ask from */
	char		*node;		/* its caps node */
	struct caps_ver	*ver;		/* NULL: no usable caps */
	struct caps_jid	*hprev, *hnext;	/* holders of ver */
	bool		 remote;
	bool		 gone;		/* unavailable, kept while asked */
	bool		 asking;	/* a query to it is in flight */
	struct dl	 rlru;		/* in caps.remotes, if remote */
	double		 tokens;	/* queries it may cause now */
	double		 tstamp;
};

struct caps_query {
	char		 id[24];
	struct caps_ver	*v;
	char		*to;		/* the full JID asked */
	char		*tried[CAPS_TRIES];	/* bare JIDs asked */
	int		 ntried;
	struct ctimer	 timer;
};

static struct {
	struct map	*jids;		/* full -> caps_jid */
	struct map	*vers;		/* key -> caps_ver */
	struct map	*queries;	/* id -> caps_query */
	struct dlist	 cache;		/* vers known or bad */
	size_t		 ncached, bytes;
	struct dlist	 remotes;	/* remote JIDs */
	size_t		 nremote;
	size_t		 nqueries;
	uint64_t	 next_id;
	void		(*known)(const char *, void *);
	void		*known_arg;
} caps;

static void	query_next(struct caps_ver *);

static void
caps_init(void)
{
	if (caps.jids != NULL)
		return;
	caps.jids = map_new();
	caps.vers = map_new();
	caps.queries = map_new();
}

/* ---- LRU lists ----------------------------------------------------------- */

static void
dl_unlink(struct dlist *l, struct dl *d)
{
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		l->head = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	else
		l->tail = d->prev;
	d->prev = d->next = NULL;
}

static void
dl_push(struct dlist *l, struct dl *d)
{
	d->prev = NULL;
	d->next = l->head;
	if (l->head != NULL)
		l->head->prev = d;
	l->head = d;
	if (l->tail == NULL)
		l->tail = d;
}

/* d becomes the most recently used */
static void
dl_touch(struct dlist *l, struct dl *d)
{
	if (l->head != d) {
		dl_unlink(l, d);
		dl_push(l, d);
	}
}

#define VER_OF(d)	container_of(d, struct caps_ver, lru)

static void
lru_touch(struct caps_ver *v)
{
	if (v->state != CV_UNKNOWN)
		dl_touch(&caps.cache, &v->lru);
}

/* frees v once nothing refers to it */
static void
ver_maybe_free(struct caps_ver *v)
{
	if (v->nholders > 0 || v->state != CV_UNKNOWN || v->q != NULL)
		return;
	map_del(caps.vers, v->key);
	free(v->key);
	free(v);
}

/* v leaves the cache (its features forgotten) */
static void
ver_uncache(struct caps_ver *v)
{
	if (v->state == CV_UNKNOWN)
		return;
	dl_unlink(&caps.cache, &v->lru);
	caps.ncached--;
	caps.bytes -= v->bytes;
	free(v->feat);
	v->feat = NULL;
	v->nfeat = 0;
	v->bytes = 0;
	v->state = CV_UNKNOWN;
}

/*
 * Back under caps-cache-max and caps-cache-size: the least recently used
 * ver that nobody holds goes first, else the least recently used (its
 * holders then have no known features until they announce it again).
 */
static void
cache_trim(const struct caps_ver *keep)
{
	struct caps_ver	*victim;
	struct dl	*d;
	int		 i;

	while ((caps.ncached > (size_t)router.conf.caps_cache_max ||
	    caps.bytes > router.conf.caps_cache_size) &&
	    caps.cache.tail != NULL) {
		victim = NULL;
		for (d = caps.cache.tail, i = 0; d != NULL &&
		    i < CAPS_EVICT_SCAN; d = d->prev, i++)
			if (VER_OF(d) != keep && VER_OF(d)->nholders == 0) {
				victim = VER_OF(d);
				break;
			}
		d = caps.cache.tail;
		if (victim == NULL && (d = VER_OF(d) != keep ? d :
		    d->prev) != NULL)
			victim = VER_OF(d);
		if (victim == NULL)
			break;
		log_debug("caps: %s evicted", log_escs(victim->key));
		ver_uncache(victim);
		ver_maybe_free(victim);
	}
}

static void
cache_add(struct caps_ver *v, enum caps_state state, size_t bytes)
{
	v->state = state;
	v->bytes = bytes + sizeof(*v) + strlen(v->key) + 1;
	caps.ncached++;
	caps.bytes += v->bytes;
	dl_push(&caps.cache, &v->lru);
	cache_trim(v);
}

/* ---- JIDs ---------------------------------------------------------------- */

static void
jid_unbind(struct caps_jid *j)
{
	struct caps_ver	*v = j->ver;

	if (v == NULL)
		return;
	if (j->hprev != NULL)
		j->hprev->hnext = j->hnext;
	else
		v->holders = j->hnext;
	if (j->hnext != NULL)
		j->hnext->hprev = j->hprev;
	j->hprev = j->hnext = NULL;
	j->ver = NULL;
	v->nholders--;
	ver_maybe_free(v);
}

static void
jid_bind(struct caps_jid *j, struct caps_ver *v)
{
	jid_unbind(j);
	j->ver = v;
	j->hprev = NULL;
	j->hnext = v->holders;
	if (v->holders != NULL)
		v->holders->hprev = j;
	v->holders = j;
	v->nholders++;
}

static void
jid_free(struct caps_jid *j)
{
	jid_unbind(j);
	if (j->remote) {
		dl_unlink(&caps.remotes, &j->rlru);
		caps.nremote--;
	}
	map_del(caps.jids, j->full);
	free(j->full);
	free(j->domain);
	free(j->node);
	free(j);
}

static struct caps_jid *
jid_get(const char *full)
{
	struct caps_jid	*j;

	if ((j = map_get(caps.jids, full)) != NULL) {
		if (j->remote)
			dl_touch(&caps.remotes, &j->rlru);
		j->gone = false;
		return j;
	}
	j = xcalloc(1, sizeof(*j));
	j->full = xstrdup(full);
	j->remote = !domain_is_local_jid(full);
	j->tokens = CAPS_JID_BURST;
	j->tstamp = clock_now();
	map_put(caps.jids, full, j);
	if (j->remote) {
		dl_push(&caps.remotes, &j->rlru);
		/* the least recently seen remote JID makes room */
		if (++caps.nremote > CAPS_REMOTE_MAX)
			jid_free(container_of(caps.remotes.tail,
			    struct caps_jid, rlru));
	}
	return j;
}

/* one query's worth of j's budget, if it has it */
static bool
jid_spend(struct caps_jid *j)
{
	double	now = clock_now();

	j->tokens += (now - j->tstamp) / CAPS_JID_EVERY;
	if (j->tokens > CAPS_JID_BURST)
		j->tokens = CAPS_JID_BURST;
	j->tstamp = now;
	if (j->tokens < 1.0)
		return false;
	j->tokens -= 1.0;
	return true;
}

static void
notify(const char *full)
{
	if (caps.known != NULL)
		caps.known(full, caps.known_arg);
}

/* the holders of v learn their features (copies: fn may change things) */
static void
notify_holders(struct caps_ver *v)
{
	struct caps_jid	*j;
	char		**fulls;
	size_t		  n = 0, i;

	if (caps.known == NULL || v->nholders == 0)
		return;
	fulls = xcalloc(v->nholders, sizeof(*fulls));
	for (j = v->holders; j != NULL && n < v->nholders; j = j->hnext)
		fulls[n++] = xstrdup(j->full);
	for (i = 0; i < n; i++) {
		notify(fulls[i]);
		free(fulls[i]);
	}
	free(fulls);
}

/* ---- queries ------------------------------------------------------------- */

static void
bare_of(const char *full, char *bare)
{
	struct jid	j;

	bare[0] = '\0';
	if (jid_parse(&j, full) == 0) {
		jid_format(bare, j.node, j.domain, NULL);
		jid_clear(&j);
	}
}

static bool
query_tried(const struct caps_query *q, const char *bare)
{
	int	i;

	for (i = 0; i < q->ntried; i++)
		if (strcmp(q->tried[i], bare) == 0)
			return true;
	return false;
}

static void
query_free(struct caps_query *q)
{
	int	i;

	ctimer_stop(&q->timer);
	for (i = 0; i < q->ntried; i++)
		free(q->tried[i]);
	free(q->to);
	free(q);
}

/*
 * The JID q asked is asked no more: NULL when it went away meanwhile
 * (then freed), else the JID.
 */
static struct caps_jid *
query_release(struct caps_query *q)
{
	struct caps_jid	*j;

	map_del(caps.queries, q->id);
	caps.nqueries--;
	j = map_get(caps.jids, q->to);
	free(q->to);
	q->to = NULL;
	if (j == NULL)
		return NULL;
	j->asking = false;
	if (j->gone) {
		jid_free(j);
		return NULL;
	}
	return j;
}

/*
 * The query of v ends: with ok false nobody answered rightly, so v is
 * remembered as bad for a while. The JID it asked last may now be asked
 * about its own ver, if that waits.
 */
static void
query_end(struct caps_ver *v, bool ok)
{
	struct caps_query	*q = v->q;
	struct caps_jid		*j;

	v->q = NULL;
	j = q->to != NULL ? query_release(q) : NULL;
	if (!ok && v->state == CV_UNKNOWN) {
		log_info("caps: %s: no right answer from %d JIDs, not asked "
		    "again for %.0f s", log_escs(v->key), q->ntried,
		    CAPS_BAD_TTL);
		v->bad_until = clock_now() + CAPS_BAD_TTL;
		cache_add(v, CV_BAD, 0);
	}
	query_free(q);
	ver_maybe_free(v);
	if (j != NULL && j->ver != NULL && j->ver != v &&
	    j->ver->state == CV_UNKNOWN && j->ver->q == NULL)
		query_next(j->ver);
}

static void
query_timeout(struct ctimer *t)
{
	struct caps_query	*q = container_of(t, struct caps_query, timer);

	log_info("caps: %s did not answer query %s", log_escs(q->to), q->id);
	query_next(q->v);
}

/*
 * Sends v's query to holder j. The routing may answer at once (an error
 * for a JID that went away), which ends or moves the query: nothing of
 * it may be used after the send.
 */
static void
query_send(struct caps_ver *v, struct caps_jid *j, const char *bare)
{
	struct caps_query	*q = v->q;
	struct arena		 a;
	struct xnode		*iq, *qn;

	if (q->to != NULL)
		(void)query_release(q);	/* the previous try is over */
	q->tried[q->ntried++] = xstrdup(bare);
	q->to = xstrdup(j->full);
	snprintf(q->id, sizeof(q->id), "caps%llx",
	    (unsigned long long)++caps.next_id);
	map_put(caps.queries, q->id, q);
	caps.nqueries++;
	j->asking = true;
	ctimer_start(&q->timer, router.conf.caps_query_timeout);
	log_debug("caps: query %s to %s for %s", q->id, log_escs(j->full),
	    log_escs(v->key));
	arena_init(&a);
	iq = xnode_new(&a, NS_CLIENT, "iq");
	xnode_set_attr(&a, iq, "type", "get");
	xnode_set_attr(&a, iq, "id", q->id);
	xnode_set_attr(&a, iq, "to", j->full);
	xnode_set_attr(&a, iq, "from", j->domain);
	qn = xnode_add(&a, iq, NS_DISCO_INFO, "query");
	/* XEP-0115 6.2: node is NODE#VER as the entity announced it */
	xnode_set_attr(&a, qn, "node", arena_printf(&a, "%s#%s", j->node,
	    v->ver));
	deliver_tree(NULL, iq);
	arena_free(&a);
}

/*
 * Asks the next holder of v that has not been asked (a distinct bare
 * JID, XEP-0115 5.4 step 3.8), if there is one with budget left and room
 * among the queries in flight; else v's query ends without an answer.
 */
static void
query_next(struct caps_ver *v)
{
	struct caps_jid	*j;
	char		 bare[JID_STR_MAX + 1];

	if (v->q != NULL && v->q->ntried >= CAPS_TRIES) {
		query_end(v, false);
		return;
	}
	if (v->q == NULL && caps.nqueries >=
	    (size_t)router.conf.caps_queries_max) {
		log_debug("caps: %s: caps-queries-max reached, not asked",
		    log_escs(v->key));
		return;
	}
	for (j = v->holders; j != NULL; j = j->hnext) {
		if (j->asking || j->gone)
			continue;
		bare_of(j->full, bare);
		if (bare[0] == '\0' || (v->q != NULL &&
		    query_tried(v->q, bare)) || !jid_spend(j))
			continue;
		if (v->q == NULL) {
			v->q = xcalloc(1, sizeof(*v->q));
			v->q->v = v;
			ctimer_init(&v->q->timer, query_timeout);
		}
		query_send(v, j, bare);
		return;
	}
	if (v->q != NULL)
		query_end(v, false);
}

struct answer_job {
	struct rstanza	*rs;
	bool		 ours;
};

/* the answer's features, kept in one allocation: pointers then bytes */
static size_t
features_keep(struct caps_ver *v, const char **feat, size_t n)
{
	size_t	 i, bytes = n * sizeof(char *), off;
	char	*p;

	for (i = 0; i < n; i++)
		bytes += strlen(feat[i]) + 1;
	v->feat = xmalloc(bytes ? bytes : 1);
	p = (char *)v->feat;
	off = n * sizeof(char *);
	for (i = 0; i < n; i++) {
		v->feat[i] = p + off;
		memcpy(p + off, feat[i], strlen(feat[i]) + 1);
		off += strlen(feat[i]) + 1;
	}
	v->nfeat = n;
	return bytes;
}

static void
answer_read(struct xnode *iq, struct arena *a, void *arg)
{
	struct answer_job	*job = arg;
	struct caps_query	*q;
	struct caps_ver		*v;
	struct xnode		*qn;
	const char		*id = xnode_attr(iq, "id"), **feat;
	char			 ver[CAPS_VER_MAX];
	size_t			 nfeat;

	if (id == NULL || (q = map_get(caps.queries, id)) == NULL)
		return;
	/* only the JID asked answers (its address stamped by its server) */
	if (strcmp(job->rs->from, q->to) != 0)
		return;
	job->ours = true;
	v = q->v;
	ctimer_stop(&q->timer);
	if (job->rs->type != IQ_RESULT ||
	    (qn = xnode_child(iq, NS_DISCO_INFO, "query")) == NULL) {
		log_info("caps: %s answered query %s with an error",
		    log_escs(q->to), id);
		query_next(v);
		return;
	}
	if (caps_ver_make(a, qn, v->algo, ver, sizeof(ver), &feat,
	    &nfeat) == -1 || strcmp(ver, v->ver) != 0) {
		/* XEP-0115 5.4 step 3.8: never cached, another holder asked */
		log_info("caps: %s answered %s with info that does not hash "
		    "to it", log_escs(q->to), log_escs(v->key));
		query_next(v);
		return;
	}
	log_debug("caps: %s verified: %zu features", log_escs(v->key), nfeat);
	cache_add(v, CV_KNOWN, features_keep(v, feat, nfeat));
	notify_holders(v);
	query_end(v, true);
}

bool
caps_iq_answer(struct rstanza *rs)
{
	struct answer_job	job = { rs, false };

	if (caps.queries == NULL || caps.nqueries == 0 || rs->from == NULL)
		return false;
	(void)deliver_parse(rs->xml, rs->xlen, answer_read, &job);
	return job.ours;
}

/* ---- the interface ------------------------------------------------------- */

void
caps_seen(const char *full, const char *local_domain,
    const struct xnode *presence)
{
	struct caps_jid	*j;
	struct caps_ver	*v;
	struct xnode	*c;
	const char	*hash, *ver, *node;
	char		 key[CAPS_VER_MAX + 16];
	int		 algo;

	caps_init();
	if ((c = xnode_child(presence, NS_CAPS, "c")) == NULL)
		return;		/* XEP-0115 7.3: caps need not be repeated */
	hash = xnode_attr(c, "hash");
	ver = xnode_attr(c, "ver");
	node = xnode_attr(c, "node");
	j = jid_get(full);
	/*
	 * 5.4 step 1: no hash is the legacy format, which we do not use;
	 * an algorithm we lack (step 2) is not verified, so not trusted
	 */
	if (hash == NULL || ver == NULL || node == NULL ||
	    strlen(node) > CAPS_NODE_MAX ||
	    (algo = caps_algo_find(hash)) == -1 ||
	    strlen(ver) != caps_ver_len(algo)) {
		jid_unbind(j);
		return;
	}
	snprintf(key, sizeof(key), "%s %s", hash, ver);
	/* most presences repeat them: no copy then */
	if (j->node == NULL || strcmp(j->node, node) != 0) {
		free(j->node);
		j->node = xstrdup(node);
	}
	if (j->domain == NULL || strcmp(j->domain, local_domain) != 0) {
		free(j->domain);
		j->domain = xstrdup(local_domain);
	}
	if (j->ver != NULL && strcmp(j->ver->key, key) == 0) {
		lru_touch(j->ver);
		return;
	}
	if ((v = map_get(caps.vers, key)) == NULL) {
		v = xcalloc(1, sizeof(*v));
		v->key = xstrdup(key);
		v->ver = v->key + strlen(hash) + 1;
		v->algo = algo;
		map_put(caps.vers, key, v);
	}
	jid_bind(j, v);
	if (v->state == CV_BAD && clock_now() >= v->bad_until) {
		ver_uncache(v);
		v->bad_until = 0;
	}
	switch (v->state) {
	case CV_KNOWN:
		lru_touch(v);
		notify(full);
		break;
	case CV_BAD:
		break;
	case CV_UNKNOWN:
		if (v->q == NULL)
			query_next(v);
		break;
	}
}

void
caps_gone(const char *full)
{
	struct caps_jid	*j;

	if (caps.jids == NULL || (j = map_get(caps.jids, full)) == NULL)
		return;
	if (j->asking) {
		/* kept until its query ends, with the budget it spent */
		jid_unbind(j);
		j->gone = true;
		return;
	}
	jid_free(j);
}

static int
cmp_feature(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool
caps_has(const char *full, const char *feature)
{
	struct caps_jid	*j;
	struct caps_ver	*v;

	if (caps.jids == NULL || (j = map_get(caps.jids, full)) == NULL ||
	    (v = j->ver) == NULL || v->state != CV_KNOWN)
		return false;
	lru_touch(v);
	return bsearch(&feature, v->feat, v->nfeat, sizeof(*v->feat),
	    cmp_feature) != NULL;
}

void
caps_on_known(void (*fn)(const char *, void *), void *arg)
{
	caps.known = fn;
	caps.known_arg = arg;
}

/* ---- the server's own caps (XEP-0115 6.3) -------------------------------- */

int
caps_server_ver(const char *domain, char *ver)
{
	struct arena	 a;
	struct xnode	*q;
	int		 rc;

	arena_init(&a);
	q = xnode_new(&a, NS_DISCO_INFO, "query");
	disco_info_fill(q, &a, domain, false);
	rc = caps_ver_make(&a, q, CAPS_SHA1, ver, CAPS_VER_MAX, NULL, NULL);
	arena_free(&a);
	return rc;
}

void
caps_announce(struct link *l)
{
	struct link_out	 m;
	char		 ver[CAPS_VER_MAX];
	size_t		 i;

	for (i = 0; i < router.conf.nhosts; i++) {
		if (caps_server_ver(router.conf.hosts[i].name, ver) == -1)
			fatalx("%s: no ver for %s", __func__,
			    router.conf.hosts[i].name);
		link_begin(&m, l, LINK_HOST_CAPS, 0);
		link_put_str(&m, router.conf.hosts[i].name);
		link_put_str(&m, ver);
		link_end(&m);
	}
}

void
caps_stats(struct caps_stats *st)
{
	st->jids = caps.jids != NULL ? map_count(caps.jids) : 0;
	st->remote = caps.nremote;
	st->cached = caps.ncached;
	st->bytes = caps.bytes;
	st->queries = caps.nqueries;
}

/* map_foreach: the values into an array (arg: its cursor) */
static int
collect(const void *key, size_t len, void *val, void *arg)
{
	void	***pp = arg;

	(void)key;
	(void)len;
	*(*pp)++ = val;
	return 0;
}

void
caps_clear(void)
{
	struct caps_query	**qv;
	struct caps_jid		**jv;
	void			**p;
	size_t			  n, i;

	if (caps.jids == NULL)
		return;
	n = map_count(caps.queries);
	qv = xcalloc(n + 1, sizeof(*qv));
	p = (void **)qv;
	map_foreach(caps.queries, collect, &p);
	for (i = 0; i < n; i++) {
		qv[i]->v->q = NULL;
		query_free(qv[i]);
	}
	free(qv);
	n = map_count(caps.jids);
	jv = xcalloc(n + 1, sizeof(*jv));
	p = (void **)jv;
	map_foreach(caps.jids, collect, &p);
	for (i = 0; i < n; i++) {
		jv[i]->asking = false;
		jid_free(jv[i]);
	}
	free(jv);
	while (caps.cache.head != NULL) {
		struct caps_ver	*v = VER_OF(caps.cache.head);

		ver_uncache(v);
		ver_maybe_free(v);
	}
	map_free(caps.jids, NULL);
	map_free(caps.vers, NULL);
	map_free(caps.queries, NULL);
	memset(&caps, 0, sizeof(caps));
}

/* ---- across a planned restart (handover.h) ------------------------------- */

/*
 * Each verified ver (XEP-0115 5.4) as one HO_CAPS record, least recently
 * used first so that the next router's LRU order is the same; its sorted
 * features joined by newlines (a ver with a newline in a feature is not
 * carried: it is asked for again). The next router asks no holder of a
 * carried ver for its disco#info again. Failed (CV_BAD) vers are not
 * carried: their wait is short.
 */
int
caps_handover_put(struct buf *b)
{
	struct caps_ver	*v;
	struct dl	*d;
	struct buf	 feat;
	const char	*f[2];
	size_t		 i;
	int		 rc = 0;

	buf_init(&feat, HANDOVER_FIELD_MAX);
	for (d = caps.cache.tail; d != NULL; d = d->prev) {
		v = VER_OF(d);
		if (v->state != CV_KNOWN)
			continue;
		buf_reset(&feat);
		for (i = 0; i < v->nfeat; i++)
			if (strchr(v->feat[i], '\n') != NULL ||
			    (i > 0 && buf_puts(&feat, "\n") == -1) ||
			    buf_puts(&feat, v->feat[i]) == -1)
				break;
		if (i < v->nfeat || (f[1] = buf_cstr(&feat)) == NULL)
			continue;
		f[0] = v->key;
		rc |= ho_add(b, HO_CAPS, 2, f);
	}
	buf_clear(&feat);
	return rc;
}

int
caps_handover_get(struct ho_rec *rec)
{
	struct caps_ver	 *v;
	const char	**feat = NULL;
	char		 *sp, *p, *nl;
	size_t		  n = 0, i;
	int		  algo;

	caps_init();
	if ((sp = strchr(rec->f[0], ' ')) == NULL)
		return -1;
	*sp = '\0';
	algo = caps_algo_find(rec->f[0]);
	*sp = ' ';
	if (algo == -1 || strlen(sp + 1) != caps_ver_len(algo) ||
	    map_get(caps.vers, rec->f[0]) != NULL)
		return -1;
	/* the features, sorted and distinct, as caps_has searches them */
	for (p = rec->f[1]; rec->len[1] > 0; p = nl + 1) {
		feat = xrealloc(feat, (n + 1) * sizeof(*feat));
		feat[n++] = p;
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
	}
	for (i = 1; i < n; i++)
		if (strcmp(feat[i - 1], feat[i]) >= 0) {
			free(feat);
			return -1;
		}
	v = xcalloc(1, sizeof(*v));
	v->key = xstrdup(rec->f[0]);
	v->ver = v->key + (sp - rec->f[0]) + 1;
	v->algo = algo;
	map_put(caps.vers, v->key, v);
	cache_add(v, CV_KNOWN, features_keep(v, feat, n));
	free(feat);
	return 0;
}
