/*
 * The history sent on join (XEP-0045 7.2.14-7.2.15): from the room's
 * archive when the archive is on, else from an in-memory ring per room;
 * the subject after it; retraction (XEP-0424 by the author, XEP-0425 by
 * a moderator) from the ring and the archive.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/util.h"
#include "mam.h"
#include "muc.h"
#include "router.h"

/* messages r keeps: its historylength, within muc-history (a record
   read back may be older than a lowered muc-history) */
static size_t
hist_cap(const struct muc_room *r)
{
	return (size_t)(r->cfg.history < router.conf.muc_history ?
	    r->cfg.history : router.conf.muc_history);
}

static void
hist_entry_clear(struct muc_hist *h)
{
	free(h->xml);
	free(h->sid);
}

void
muc_hist_free(struct muc_room *r)
{
	size_t	i;

	for (i = 0; i < r->hn; i++)
		hist_entry_clear(&r->hist[(r->hfirst + i) % r->hcap]);
	free(r->hist);
	r->hist = NULL;
	r->hn = r->hfirst = r->hcap = 0;
}

/* XEP-0045 7.2.14: what the joining session asked of the history */
struct hist_ask {
	long	 maxchars, maxstanzas;	/* -1: no limit */
	double	 after;			/* seconds, since or now - seconds */
};

static long
attr_long(const struct xnode *n, const char *name)
{
	const char	*v = xnode_attr(n, name);
	char		*end;
	long		 l;

	if (v == NULL)
		return -1;
	l = strtol(v, &end, 10);
	return *end != '\0' || l < 0 ? -1 : l;
}

static void
hist_ask_read(const struct xnode *x, struct hist_ask *h)
{
	const struct xnode	*n = xnode_child(x, NS_MUC, "history");
	const char		*since;
	uint64_t		 us;
	long			 sec;

	h->maxchars = h->maxstanzas = -1;
	h->after = 0;
	if (n == NULL)
		return;
	h->maxchars = attr_long(n, "maxchars");
	h->maxstanzas = attr_long(n, "maxstanzas");
	if ((sec = attr_long(n, "seconds")) >= 0)
		h->after = clock_wall() - (double)sec;
	if ((since = xnode_attr(n, "since")) != NULL &&
	    mam_time_parse(since, &us) == 0 && (double)us / 1e6 > h->after)
		h->after = (double)us / 1e6;
}

/* one message of the history with its XEP-0203 delay, to full */
static void
hist_send(struct muc_room *r, const struct muc_hist *h, const char *full,
    struct buf *b)
{
	char	stamp[32];

	xmpp_datetime(stamp, h->at);
	buf_reset(b);
	/* the stored bytes end with </message> (xnode_write) */
	if (h->len < 10 || buf_append(b, h->xml, h->len - 10) == -1 ||
	    buf_puts(b, "<delay xmlns='" NS_DELAY "' from='") == -1 ||
	    xml_escape(b, r->jid, strlen(r->jid)) == -1 ||
	    buf_printf(b, "' stamp='%s'/></message>", stamp) == -1)
		return;
	muc_send(KIND_MESSAGE, MTYPE_GROUPCHAT, r->jid, buf_rptr(b),
	    buf_avail(b), full);
}

/*
 * An archived message is stored with its namespace (for XEP-0313's
 * <forwarded/>, mam_archive_put): sent as is, a stanza to a remote
 * occupant would say jabber:client on an s2s stream, which Prosody
 * refuses (RFC 6120 4.8.3: the stream's default namespace is
 * jabber:server) with an error that makes the occupant a ghost. The
 * history goes out in the stream's namespace, like every other stanza.
 */
static int
hist_put_stanza(struct buf *b, const char *xml, size_t len)
{
	static const char	pfx[] = "<message xmlns='" NS_CLIENT "'";
	size_t			n = sizeof(pfx) - 1;

	if (len >= n && memcmp(xml, pfx, n) == 0)
		return buf_puts(b, "<message") == -1 ? -1 :
		    buf_append(b, xml + n, len - n);
	return buf_append(b, xml, len);
}

/* the newest entries of a room's archive, newest first */
struct arch_hist {
	struct archive_entry	*v;
	size_t			 n, cap;
};

static int
arch_hist_one(const struct archive_entry *e, void *arg)
{
	struct arch_hist	*ah = arg;
	struct archive_entry	*c;

	if (ah->n == ah->cap) {
		ah->cap = ah->cap ? 2 * ah->cap : 16;
		ah->v = xrealloc(ah->v, ah->cap * sizeof(*ah->v));
	}
	c = &ah->v[ah->n++];
	*c = *e;
	c->with = NULL;
	c->xml = xstrndup(e->xml, e->len);
	return 0;
}

/*
 * With the archive on, the history is the room's archive (XEP-0313 on
 * the room): it survives a restart and has no retracted message. Each
 * one gets the room's stanza-id (the archive's id) and its delay.
 */
static void
hist_send_archive(struct muc_room *r, const struct hist_ask *ask,
    const char *full)
{
	struct archive_range	 rg;
	struct arch_hist	 ah = { NULL, 0, 0 };
	struct mam_sid		 sid;
	struct buf		 b;
	char			 id[MAM_SID_LEN + 1], stamp[32];
	size_t			 cap = hist_cap(r), first, k;
	long			 chars = 0;
	int			 rc;

	if (ask->maxstanzas >= 0 && (size_t)ask->maxstanzas < cap)
		cap = (size_t)ask->maxstanzas;
	if (cap == 0)
		return;
	memset(&rg, 0, sizeof(rg));
	rg.lo = ask->after > 0 ? (uint64_t)(ask->after * 1e6) : 0;
	rg.hi = UINT64_MAX;
	rg.backward = true;
	rg.max = cap;
	if (store_archive_query(router.store, r->node, r->service, &rg,
	    arch_hist_one, &ah) == -1)
		log_warn("muc: room %s: history not read", log_escs(r->jid));
	for (first = 0; first < ah.n; first++) {
		if (ask->maxchars >= 0 && chars + (long)ah.v[first].len + 160 >
		    ask->maxchars)
			break;
		chars += (long)ah.v[first].len + 160;
	}
	buf_init(&b, LINK_STANZA_MAX);
	for (k = first; k-- > 0; ) {
		const struct archive_entry	*e = &ah.v[k];

		sid.id = e->id;
		sid.nonce = e->nonce;
		mam_sid_format(id, &sid);
		xmpp_datetime(stamp, (double)e->stamp / 1e6);
		buf_reset(&b);
		/* the stored bytes end with </message> (xnode_write) */
		if (e->len < 10)
			continue;
		rc = hist_put_stanza(&b, e->xml, e->len - 10) |
		    buf_printf(&b, "<stanza-id xmlns='" NS_SID "' id='%s' by='",
		    id) | xml_escape(&b, r->jid, strlen(r->jid)) |
		    buf_puts(&b, "'/><delay xmlns='" NS_DELAY "' from='") |
		    xml_escape(&b, r->jid, strlen(r->jid)) |
		    buf_printf(&b, "' stamp='%s'/></message>", stamp);
		if (rc == 0)
				muc_send(KIND_MESSAGE, MTYPE_GROUPCHAT, r->jid,
			    buf_rptr(&b), buf_avail(&b), full);
	}
	buf_clear(&b);
	for (k = 0; k < ah.n; k++)
		archive_entry_clear(&ah.v[k]);
	free(ah.v);
}

static void
hist_send_all(struct muc_room *r, const struct hist_ask *ask,
    const char *full)
{
	struct buf	 b;
	size_t		 first = r->hn, k;
	long		 chars = 0, n = 0;
	const struct muc_hist *h;

	if (router.conf.archive) {
		hist_send_archive(r, ask, full);
		return;
	}
	/* the newest that fit the request, sent oldest first */
	while (first > 0) {
		h = &r->hist[(r->hfirst + first - 1) % r->hcap];
		if (ask->maxstanzas >= 0 && n + 1 > ask->maxstanzas)
			break;
		if (ask->maxchars >= 0 && chars + (long)h->len + 80 >
		    ask->maxchars)
			break;
		if (h->at < ask->after)
			break;
		chars += (long)h->len + 80;
		n++;
		first--;
	}
	buf_init(&b, LINK_STANZA_MAX);
	for (k = first; k < r->hn; k++)
		hist_send(r, &r->hist[(r->hfirst + k) % r->hcap], full, &b);
	buf_clear(&b);
}

/* XEP-0045 7.2.15: the subject, after the history, even when empty */
static void
subject_send(struct muc_room *r, const char *full)
{
	struct buf	b;
	char		from[JID_STR_MAX + 1];
	int		rc;

	if (r->subject_by != NULL && *r->subject_by != '\0')
		muc_occ_jid(from, r, r->subject_by);
	else
		muc_occ_jid(from, r, NULL);
	buf_init(&b, LINK_STANZA_MAX);
	rc = buf_puts(&b, "<message from='") |
	    xml_escape(&b, from, strlen(from)) |
	    buf_puts(&b, "' type='groupchat'><subject>");
	if (r->subject != NULL)
		rc |= xml_escape(&b, r->subject, strlen(r->subject));
	rc |= buf_puts(&b, "</subject></message>");
	if (rc == 0)
		muc_send(KIND_MESSAGE, MTYPE_GROUPCHAT, from, buf_rptr(&b),
		    buf_avail(&b), full);
	buf_clear(&b);
}

void
muc_hist_add(struct muc_room *r, const char *xml, size_t len, const char *sid)
{
	muc_hist_put(r, xml, len, sid, clock_wall());
}

void
muc_hist_put(struct muc_room *r, const char *xml, size_t len, const char *sid,
    double at)
{
	size_t		 cap = hist_cap(r);
	struct muc_hist	*h;

	if (cap == 0)
		return;
	if (r->hcap != cap) {
		/* the length changed: start again with the new ring */
		struct muc_hist	*old = r->hist;
		size_t		 i, n = r->hn, first = r->hfirst,
				 ocap = r->hcap;

		r->hist = xcalloc(cap, sizeof(*r->hist));
		r->hcap = cap;
		r->hfirst = r->hn = 0;
		for (i = 0; i < n; i++) {
			h = &old[(first + i) % ocap];
			if (n - i > cap) {
				hist_entry_clear(h);
				continue;
			}
			r->hist[r->hn++] = *h;
		}
		free(old);
	}
	if (r->hn == r->hcap) {
		hist_entry_clear(&r->hist[r->hfirst]);
		r->hfirst = (r->hfirst + 1) % r->hcap;
		r->hn--;
	}
	h = &r->hist[(r->hfirst + r->hn) % r->hcap];
	h->xml = xstrndup(xml, len);
	h->len = len;
	h->at = at;
	h->sid = xstrdup(sid);
	r->hn++;
}

/* the XEP-0421 id a stored message of the room carries, or NULL */
static const char *
stored_occid(struct arena *a, const char *xml, size_t len)
{
	struct xnode	*el, *c;

	if ((el = doc_parse(a, xml, len)) == NULL ||
	    (c = xnode_child(el, NS_OCCUPANT_ID, "occupant-id")) == NULL)
		return NULL;
	return xnode_attr(c, "id");
}

/* the archive's entry of stanza-id sid, if it is the room's (its nonce) */
static int
archive_find(struct muc_room *r, const char *sid, struct archive_entry *e)
{
	struct mam_sid	s;

	if (mam_sid_parse(sid, &s) == -1 || store_archive_get(router.store,
	    r->node, r->service, s.id, e) == -1)
		return -1;
	/* the nonce makes an id unguessable (docs/internals.md) */
	if (e->nonce != s.nonce) {
		archive_entry_clear(e);
		return -1;
	}
	return 0;
}

int
muc_hist_retract(struct muc_room *r, const char *sid, const char *occid,
    bool *theirs)
{
	struct archive_entry	 e;
	struct muc_hist		*h = NULL;
	struct arena		 a;
	const char		*id;
	uint64_t		 aid = 0;
	size_t			 i, k;
	bool			 found = false, mine = true;

	*theirs = false;
	arena_init(&a);
	memset(&e, 0, sizeof(e));
	if (router.conf.archive && archive_find(r, sid, &e) == 0) {
		found = true;
		aid = e.id;
		id = occid != NULL ? stored_occid(&a, e.xml, e.len) : NULL;
		mine = occid == NULL || (id != NULL && strcmp(id, occid) == 0);
	}
	for (i = 0; i < r->hn; i++) {
		h = &r->hist[(r->hfirst + i) % r->hcap];
		if (strcmp(h->sid, sid) == 0)
			break;
	}
	if (i < r->hn && !found) {
		found = true;
		id = occid != NULL ? stored_occid(&a, h->xml, h->len) : NULL;
		mine = occid == NULL || (id != NULL && strcmp(id, occid) == 0);
	}
	arena_free(&a);
	archive_entry_clear(&e);
	if (!found || !mine) {
		*theirs = found;
		return -1;
	}
	if (i < r->hn) {
		hist_entry_clear(h);
		for (k = i; k + 1 < r->hn; k++)
			r->hist[(r->hfirst + k) % r->hcap] =
			    r->hist[(r->hfirst + k + 1) % r->hcap];
		r->hn--;
	}
	if (aid != 0 && store_archive_del(router.store, r->node,
	    r->service, aid) == -1) {
		log_warn("muc: room %s: archive entry not removed",
		    log_escs(r->jid));
		return -1;
	}
	return 0;
}

void
muc_history_send(struct muc_room *r, const struct xnode *x, const char *full)
{
	struct hist_ask	ask;

	hist_ask_read(x, &ask);
	hist_send_all(r, &ask, full);
	subject_send(r, full);
}
