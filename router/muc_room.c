/*
 * Occupants of a room (XEP-0045 7): joining, presence, nick changes,
 * leaving, groupchat and private messages, the subject, the history sent
 * on join, invitations (7.8) and voice requests (7.13).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "../common/base64.h"
#include "../common/clock.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/xdata.h"
#include "mam.h"
#include "muc.h"
#include "router.h"

struct muc_occ *
muc_occ_of(const struct muc_room *r, const char *full)
{
	return map_get(r->by_full, full);
}

int
muc_role_default(const struct muc_room *r, int aff)
{
	switch (aff) {
	case AFF_OWNER:
	case AFF_ADMIN:
		return ROLE_MODERATOR;
	case AFF_MEMBER:
		return ROLE_PARTICIPANT;
	case AFF_NONE:
		return r->cfg.moderated ? ROLE_VISITOR : ROLE_PARTICIPANT;
	}
	return ROLE_NONE;
}

/* the room or occupant JID room/nick into out */
static char *
occ_jid(char *out, const struct muc_room *r, const char *nick)
{
	return jid_format(out, r->node, r->service, nick);
}

/*
 * XEP-0421 3: the same account has the same id in a room, another room
 * gives another; base64 of SHA-256 over the room's salt and the bare JID.
 */
static void
occid_make(struct muc_room *r, const char *bare, char *out, size_t outlen)
{
	gnutls_hash_hd_t	h;
	unsigned char		md[32];
	struct buf		b;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0) {
		out[0] = '\0';
		return;
	}
	(void)gnutls_hash(h, &r->salt, sizeof(r->salt));
	(void)gnutls_hash(h, bare, strlen(bare));
	gnutls_hash_deinit(h, md);
	buf_init(&b, 64);
	out[0] = '\0';
	if (base64_encode(&b, md, 24) == 0 && buf_avail(&b) < outlen) {
		memcpy(out, buf_rptr(&b), buf_avail(&b));
		out[buf_avail(&b)] = '\0';
	}
	buf_clear(&b);
}

/* the children of a presence that others see: not the MUC elements */
static char *
presence_extra(const struct xnode *el)
{
	struct xnode	*c;
	struct buf	 b;
	char		*s = NULL;

	buf_init(&b, LINK_STANZA_MAX);
	for (c = el->children; c != NULL; c = c->next) {
		if (c->type != XNODE_ELEM || strcmp(c->ns, NS_MUC) == 0 ||
		    strcmp(c->ns, NS_MUC_USER) == 0 ||
		    strcmp(c->ns, NS_OCCUPANT_ID) == 0 ||
		    strcmp(c->name, "error") == 0)
			continue;
		if (xnode_write(&b, c, NS_CLIENT) == -1)
			break;
	}
	if (buf_avail(&b) > 0)
		s = xstrndup(buf_rptr(&b), buf_avail(&b));
	buf_clear(&b);
	return s;
}

/* what one presence of an occupant says besides its item */
struct pres_info {
	bool		 unavail;
	const char	*extra;
	const char	*newnick;	/* 303 */
	const int	*codes;		/* to everyone */
	size_t		 ncodes;
	const int	*scodes;	/* to the occupant itself, then 110 */
	size_t		 nscodes;
	const char	*reason, *actor;
	int		 aff;		/* -1: the room's record */
};

static int
pres_build(struct buf *b, struct muc_room *r, struct muc_occ *o,
    const struct pres_info *pi, bool withjid, bool self)
{
	char	from[JID_STR_MAX + 1];
	int	rc, aff;
	size_t	i;

	aff = pi->aff >= 0 ? pi->aff : muc_aff(r, o->bare);
	occ_jid(from, r, o->nick);
	buf_reset(b);
	rc = buf_puts(b, "<presence from='") |
	    xml_escape(b, from, strlen(from)) | buf_puts(b, "'") |
	    buf_puts(b, pi->unavail ? " type='unavailable'>" : ">");
	if (pi->extra != NULL)
		rc |= buf_puts(b, pi->extra);
	/* XEP-0153 style: the room's avatar hash, as a user's */
	if (!pi->unavail && r->photo[0] != '\0')
		rc |= buf_printf(b, "<x xmlns='vcard-temp:x:update'><photo>"
		    "%s</photo></x>", r->photo);
	rc |= buf_printf(b, "<x xmlns='" NS_MUC_USER "'><item "
	    "affiliation='%s' role='%s'", muc_aff_name(aff),
	    muc_role_name(pi->unavail ? ROLE_NONE : o->role));
	if (withjid && o->nres > 0)
		rc |= buf_puts(b, " jid='") |
		    xml_escape(b, o->res[0], strlen(o->res[0])) |
		    buf_puts(b, "'");
	if (pi->newnick != NULL)
		rc |= buf_puts(b, " nick='") |
		    xml_escape(b, pi->newnick, strlen(pi->newnick)) |
		    buf_puts(b, "'");
	if (pi->reason == NULL && pi->actor == NULL)
		rc |= buf_puts(b, "/>");
	else {
		rc |= buf_puts(b, ">");
		if (pi->actor != NULL)
			rc |= buf_puts(b, "<actor nick='") |
			    xml_escape(b, pi->actor, strlen(pi->actor)) |
			    buf_puts(b, "'/>");
		if (pi->reason != NULL)
			rc |= buf_puts(b, "<reason>") |
			    xml_escape(b, pi->reason, strlen(pi->reason)) |
			    buf_puts(b, "</reason>");
		rc |= buf_puts(b, "</item>");
	}
	for (i = 0; i < pi->ncodes; i++)
		rc |= buf_printf(b, "<status code='%d'/>", pi->codes[i]);
	for (i = 0; self && i < pi->nscodes; i++)
		rc |= buf_printf(b, "<status code='%d'/>", pi->scodes[i]);
	/* XEP-0045 7.2.3: 110 is the self-presence's last status */
	if (self)
		rc |= buf_puts(b, "<status code='110'/>");
	rc |= buf_puts(b, "</x><occupant-id xmlns='" NS_OCCUPANT_ID "' id='") |
	    buf_puts(b, o->occid) | buf_puts(b, "'/></presence>");
	return rc;
}

/* p sees the real JIDs of the room's occupants */
static bool
sees_jids(const struct muc_room *r, const struct muc_occ *p)
{
	return r->cfg.nonanon || p->role == ROLE_MODERATOR;
}

/* inside a muc_send batch: to each session of p */
static void
send_res(const struct muc_occ *p)
{
	size_t	i;

	for (i = 0; i < p->nres; i++)
		muc_send_to(p->res[i]);
}

/*
 * o's presence to every other occupant, in the two forms (with and
 * without its real JID), each one frame per c2s; then to o's own
 * sessions (only to one with only set), with the self codes.
 */
static void
occ_announce_to(struct muc_room *r, struct muc_occ *o,
    const struct pres_info *pi, const char *only, bool others)
{
	struct muc_occ	*p;
	struct buf	 b;
	char		 from[JID_STR_MAX + 1];
	int		 withjid, type;
	size_t		 i;

	occ_jid(from, r, o->nick);
	type = pi->unavail ? PRES_UNAVAILABLE : PRES_AVAILABLE;
	buf_init(&b, LINK_STANZA_MAX);
	for (withjid = 0; others && withjid < 2; withjid++) {
		if (pres_build(&b, r, o, pi, withjid, false) == -1)
			continue;
		muc_send_begin(KIND_PRESENCE, type, from, buf_rptr(&b),
		    buf_avail(&b));
		for (p = r->occ; p != NULL; p = p->next)
			if (p != o && sees_jids(r, p) == (withjid != 0))
				send_res(p);
		muc_send_end();
	}
	if (pres_build(&b, r, o, pi, true, true) == 0) {
		muc_send_begin(KIND_PRESENCE, type, from, buf_rptr(&b),
		    buf_avail(&b));
		if (only != NULL)
			muc_send_to(only);
		else
			for (i = 0; i < o->nres; i++)
				muc_send_to(o->res[i]);
		muc_send_end();
	}
	buf_clear(&b);
}

static void
occ_announce(struct muc_room *r, struct muc_occ *o,
    const struct pres_info *pi, const char *only)
{
	occ_announce_to(r, o, pi, only, true);
}

void
muc_occ_broadcast(struct muc_room *r, struct muc_occ *o, const int *codes,
    size_t ncodes, const char *reason, const char *actor)
{
	struct pres_info	pi = { .extra = o->extra, .codes = codes,
	    .ncodes = ncodes, .reason = reason, .actor = actor, .aff = -1 };

	occ_announce(r, o, &pi, NULL);
}

void
muc_broadcast(struct muc_room *r, int kind, int type, const char *from,
    const char *xml, size_t len)
{
	struct muc_occ	*p;

	muc_send_begin(kind, type, from, xml, len);
	for (p = r->occ; p != NULL; p = p->next)
		send_res(p);
	muc_send_end();
}

static void
occ_unlink(struct muc_room *r, struct muc_occ *o)
{
	size_t	i;

	for (i = 0; i < o->nres; i++) {
		map_del(r->by_full, o->res[i]);
		muc_joined(o->res[i], r, false);
		free(o->res[i]);
	}
	map_del(r->by_nick, o->nick);
	if (o->prev != NULL)
		o->prev->next = o->next;
	else
		r->occ = o->next;
	if (o->next != NULL)
		o->next->prev = o->prev;
	else
		r->occ_last = o->prev;
	r->nocc--;
	free(o->nick);
	free(o->bare);
	free(o->extra);
	free(o);
}

/* a room that is gone for good leaves no record and no archive */
static void
room_forget(struct muc_room *r)
{
	muc_room_unsave(r);
	if (store_archive_clear(router.store, r->node, r->service) == -1 &&
	    errno != ENOENT)
		log_warn("muc: room %s: archive not removed",
		    log_escs(r->jid));
	muc_room_free(r);
}

/* a temporary room goes with its last occupant (XEP-0045 10.1.3) */
static void
room_maybe_gone(struct muc_room *r)
{
	if (r->nocc == 0 && (!r->cfg.persistent || r->locked))
		room_forget(r);
}

void
muc_occ_remove(struct muc_room *r, struct muc_occ *o, const int *codes,
    size_t ncodes, const char *reason, const char *actor)
{
	struct pres_info	pi = { .unavail = true, .codes = codes,
	    .ncodes = ncodes, .reason = reason, .actor = actor, .aff = -1 };

	occ_announce(r, o, &pi, NULL);
	occ_unlink(r, o);
	room_maybe_gone(r);
}

void
muc_leave(struct muc_room *r, struct muc_occ *o, const char *full,
    const char *extra)
{
	struct pres_info	pi = { .unavail = true, .extra = extra,
	    .aff = -1 };
	size_t			i;

	if (o->nres > 1) {
		/* one of several sessions: only it is told (7.14) */
		occ_announce_to(r, o, &pi, full, false);
		for (i = 0; i < o->nres; i++)
			if (strcmp(o->res[i], full) == 0) {
				free(o->res[i]);
				o->res[i] = o->res[--o->nres];
				break;
			}
		map_del(r->by_full, full);
		muc_joined(full, r, false);
		return;
	}
	occ_announce(r, o, &pi, NULL);
	occ_unlink(r, o);
	room_maybe_gone(r);
}

/* ---- joining ------------------------------------------------------------ */

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
	size_t			 cap, first, k;
	long			 chars = 0;

	cap = (size_t)(r->cfg.history < router.conf.muc_history ?
	    r->cfg.history : router.conf.muc_history);
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
		if (e->len < 10 || buf_append(&b, e->xml, e->len - 10) == -1 ||
		    buf_printf(&b, "<stanza-id xmlns='" NS_SID "' id='%s' by='",
		    id) == -1 || xml_escape(&b, r->jid, strlen(r->jid)) == -1 ||
		    buf_puts(&b, "'/><delay xmlns='" NS_DELAY "' from='") ==
		    -1 || xml_escape(&b, r->jid, strlen(r->jid)) == -1 ||
		    buf_printf(&b, "' stamp='%s'/></message>", stamp) == -1)
			continue;
		muc_send(KIND_MESSAGE, MTYPE_GROUPCHAT, r->jid, buf_rptr(&b),
		    buf_avail(&b), full);
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

	if (r->subject_by != NULL && *r->subject_by != '\0')
		occ_jid(from, r, r->subject_by);
	else
		occ_jid(from, r, NULL);
	buf_init(&b, LINK_STANZA_MAX);
	if (buf_puts(&b, "<message from='") == 0 &&
	    xml_escape(&b, from, strlen(from)) == 0 &&
	    buf_puts(&b, "' type='groupchat'><subject>") == 0 &&
	    (r->subject == NULL || xml_escape(&b, r->subject,
	    strlen(r->subject)) == 0) &&
	    buf_puts(&b, "</subject></message>") == 0)
		muc_send(KIND_MESSAGE, MTYPE_GROUPCHAT, from, buf_rptr(&b),
		    buf_avail(&b), full);
	buf_clear(&b);
}

/* the others' presence to the joining session full (7.2.3) */
static void
others_send(struct muc_room *r, struct muc_occ *o, const char *full)
{
	struct pres_info	 pi = { .aff = -1 };
	struct muc_occ		*p;
	struct buf		 b;
	char			 from[JID_STR_MAX + 1];

	buf_init(&b, LINK_STANZA_MAX);
	for (p = r->occ; p != NULL; p = p->next) {
		if (p == o)
			continue;
		pi.extra = p->extra;
		occ_jid(from, r, p->nick);
		if (pres_build(&b, r, p, &pi, sees_jids(r, o), false) == 0)
			muc_send(KIND_PRESENCE, PRES_AVAILABLE, from,
			    buf_rptr(&b), buf_avail(&b), full);
	}
	buf_clear(&b);
}

struct reserved_job {
	const char	*nick, *bare;
	bool		 taken;
};

static int
reserved_visit(const void *key, size_t len, void *val, void *arg)
{
	struct reserved_job	*job = arg;

	if (strcmp(val, job->nick) == 0 && (len != strlen(job->bare) ||
	    memcmp(key, job->bare, len) != 0)) {
		job->taken = true;
		return 1;
	}
	return 0;
}

bool
muc_nick_taken(const struct muc_room *r, const char *nick, const char *bare)
{
	struct reserved_job	job = { nick, bare, false };

	map_foreach(r->nicks, reserved_visit, &job);
	return job.taken;
}

static bool
may_create(const struct muc_req *q)
{
	const struct conf_host	*h = conf_muc_find(&router.conf, q->service);

	if (h == NULL || strcmp(h->muc_create, "nobody") == 0)
		return false;
	return strcmp(h->muc_create, "anyone") == 0 || q->local;
}

static struct muc_room *
room_create(struct muc_req *q)
{
	size_t	n, mine;

	if (!may_create(q)) {
		muc_error(q, XERR_NOT_ALLOWED, "rooms are created by this "
		    "server's users only");
		return NULL;
	}
	n = muc_room_count(q->service, q->bare, &mine);
	if (n >= (size_t)router.conf.muc_max_rooms ||
	    mine >= (size_t)router.conf.muc_max_rooms_per_user) {
		muc_error(q, XERR_RESOURCE_CONSTRAINT, "too many rooms");
		return NULL;
	}
	q->room = muc_room_new(q->rnode, q->service, q->bare);
	/* XEP-0045 10.1.1: the creator owns it; locked until configured */
	map_put(q->room->aff, q->bare, (void *)(intptr_t)(AFF_OWNER + 1));
	q->room->locked = true;
	log_info("muc: room %s created by %s", log_escs(q->room->jid),
	    log_escs(q->bare));
	return q->room;
}

/* a second session of an occupant joins behind its nick (7.2 note) */
static void
join_session(struct muc_req *q, struct muc_occ *o, const struct xnode *x)
{
	struct pres_info	pi = { .extra = o->extra, .aff = -1 };
	struct hist_ask		ask;

	if (o->nres == MUC_RES_MAX) {
		muc_error(q, XERR_RESOURCE_CONSTRAINT, "too many sessions");
		return;
	}
	o->res[o->nres++] = xstrdup(q->from);
	map_put(q->room->by_full, o->res[o->nres - 1], o);
	muc_joined(q->from, q->room, true);
	others_send(q->room, o, q->from);
	occ_announce_to(q->room, o, &pi, q->from, false);
	hist_ask_read(x, &ask);
	hist_send_all(q->room, &ask, q->from);
	subject_send(q->room, q->from);
}

static void
join(struct muc_req *q)
{
	struct muc_room		*r = q->room;
	struct muc_occ		*o, *p;
	const struct xnode	*x = xnode_child(q->el, NS_MUC, "x");
	const char		*pw;
	struct hist_ask		 ask;
	int			 aff, scodes[3], max;
	size_t			 ns = 0;
	bool			 created = false;

	if (r == NULL) {
		if ((r = room_create(q)) == NULL)
			return;
		created = true;
	} else if (r->locked && muc_aff(r, q->bare) != AFF_OWNER) {
		/* XEP-0045 10.1.1: not there until its owner configures it */
		muc_error(q, XERR_ITEM_NOT_FOUND, "the room is locked");
		return;
	}
	aff = muc_aff(r, q->bare);
	if (aff == AFF_OUTCAST) {
		muc_error(q, XERR_FORBIDDEN, "banned");	/* 7.2.8 */
		return;
	}
	if (r->cfg.members_only && aff < AFF_MEMBER) {
		muc_error(q, XERR_REGISTRATION_REQUIRED, NULL);	/* 7.2.7 */
		return;
	}
	pw = muc_text(q->a, x, NS_MUC, "password");
	if (r->cfg.password != NULL && *r->cfg.password != '\0' &&
	    aff < AFF_ADMIN && (x == NULL || pw == NULL ||
	    strcmp(pw, r->cfg.password) != 0)) {
		muc_error(q, XERR_NOT_AUTHORIZED, "password required");
		return;
	}
	p = map_get(r->by_nick, q->nick);
	if (p != NULL && strcmp(p->bare, q->bare) == 0) {
		join_session(q, p, x);
		return;
	}
	/* 7.2.9: taken, or registered by someone else */
	if (p != NULL || muc_nick_taken(r, q->nick, q->bare)) {
		muc_error(q, XERR_CONFLICT, NULL);
		return;
	}
	max = r->cfg.max_users > 0 && r->cfg.max_users <
	    router.conf.muc_max_occupants ? r->cfg.max_users :
	    router.conf.muc_max_occupants;
	if (r->nocc >= (size_t)max && (aff < AFF_ADMIN ||
	    r->nocc >= (size_t)router.conf.muc_max_occupants)) {
		muc_error(q, XERR_SERVICE_UNAVAILABLE, "the room is full");
		return;
	}
	o = xcalloc(1, sizeof(*o));
	o->nick = xstrdup(q->nick);
	o->bare = xstrdup(q->bare);
	o->res[o->nres++] = xstrdup(q->from);
	o->role = muc_role_default(r, aff);
	o->extra = presence_extra(q->el);
	o->rate_at = clock_now();
	occid_make(r, q->bare, o->occid, sizeof(o->occid));
	o->prev = r->occ_last;
	if (r->occ_last != NULL)
		r->occ_last->next = o;
	else
		r->occ = o;
	r->occ_last = o;
	r->nocc++;
	map_put(r->by_nick, o->nick, o);
	map_put(r->by_full, o->res[0], o);
	muc_joined(q->from, r, true);
	others_send(r, o, q->from);
	/*
	 * 7.2.3, 7.2.12, 10.1.1: 100 non-anonymous, 170 archived (the
	 * room's archive), 201 created, then 110
	 */
	if (r->cfg.nonanon)
		scodes[ns++] = 100;
	if (router.conf.archive)
		scodes[ns++] = 170;
	if (created)
		scodes[ns++] = 201;
	{
		struct pres_info	pi = { .extra = o->extra,
		    .scodes = scodes, .nscodes = ns, .aff = -1 };

		occ_announce(r, o, &pi, NULL);
	}
	hist_ask_read(x, &ask);
	hist_send_all(r, &ask, q->from);
	subject_send(r, q->from);
}

/* 7.6: the occupant takes another nick (all its sessions do) */
static void
nick_change(struct muc_req *q, struct muc_occ *o)
{
	static const int	 c303[] = { 303 };
	struct pres_info	 pi = { .unavail = true, .codes = c303,
	    .ncodes = 1, .aff = -1 };
	struct muc_occ		*p = map_get(q->room->by_nick, q->nick);

	if (p != NULL || muc_nick_taken(q->room, q->nick, q->bare)) {
		muc_error(q, XERR_CONFLICT, NULL);
		return;
	}
	pi.newnick = q->nick;
	occ_announce(q->room, o, &pi, NULL);
	map_del(q->room->by_nick, o->nick);
	free(o->nick);
	o->nick = xstrdup(q->nick);
	map_put(q->room->by_nick, o->nick, o);
	free(o->extra);
	o->extra = presence_extra(q->el);
	pi.unavail = false;
	pi.codes = NULL;
	pi.ncodes = 0;
	pi.newnick = NULL;
	pi.extra = o->extra;
	occ_announce(q->room, o, &pi, NULL);
}

void
muc_presence_in(struct muc_req *q)
{
	static const int	 c333[] = { 333 };
	struct muc_occ		*o;
	char			*extra;

	o = q->room != NULL ? muc_occ_of(q->room, q->from) : NULL;
	switch (q->type) {
	case PRES_ERROR:
		/* XEP-0045 17.1.4 (ghosts): a bounce removes the occupant */
		if (o != NULL)
			muc_occ_remove(q->room, o, c333, 1, NULL, NULL);
		return;
	case PRES_UNAVAILABLE:
		if (o == NULL)
			return;
		extra = presence_extra(q->el);
		muc_leave(q->room, o, q->from, extra);
		free(extra);
		return;
	case PRES_AVAILABLE:
		break;
	default:
		return;
	}
	if (q->nick == NULL) {
		/* 7.2.1: a join names a nick */
		muc_error(q, XERR_JID_MALFORMED, "no nickname");
		return;
	}
	if (o == NULL) {
		join(q);
		return;
	}
	if (strcmp(o->nick, q->nick) != 0) {
		nick_change(q, o);
		return;
	}
	/* 7.7: a change of availability, to everyone */
	free(o->extra);
	o->extra = presence_extra(q->el);
	muc_occ_broadcast(q->room, o, NULL, 0, NULL, NULL);
}

/* ---- messages ----------------------------------------------------------- */

/* muc-rate: messages per occupant per 10 seconds */
static bool
rate_ok(struct muc_occ *o)
{
	double	now = clock_now();

	if (now - o->rate_at >= 10) {
		o->rate_at = now;
		o->rate_n = 0;
	}
	return ++o->rate_n <= router.conf.muc_rate;
}

static void
hist_add(struct muc_room *r, const char *xml, size_t len, const char *sid,
    const char *occid)
{
	size_t		 cap = (size_t)(r->cfg.history <
	    router.conf.muc_history ? r->cfg.history :
	    router.conf.muc_history);
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
				free(h->xml);
				free(h->sid);
				free(h->occid);
				continue;
			}
			r->hist[r->hn++] = *h;
		}
		free(old);
	}
	if (r->hn == r->hcap) {
		h = &r->hist[r->hfirst];
		free(h->xml);
		free(h->sid);
		free(h->occid);
		r->hfirst = (r->hfirst + 1) % r->hcap;
		r->hn--;
	}
	h = &r->hist[(r->hfirst + r->hn) % r->hcap];
	h->xml = xstrndup(xml, len);
	h->len = len;
	h->at = clock_wall();
	h->sid = xstrdup(sid);
	h->occid = xstrdup(occid);
	r->hn++;
}

/* elements a sender may not bring in: ours (XEP-0359 7, XEP-0421 4) */
static void
strip_claims(struct muc_room *r, struct xnode *el)
{
	struct xnode	**pp, *c;

	for (pp = &el->children; (c = *pp) != NULL; ) {
		if (c->type == XNODE_ELEM &&
		    ((strcmp(c->ns, NS_SID) == 0 &&
		    strcmp(c->name, "stanza-id") == 0 &&
		    (xnode_attr(c, "by") == NULL ||
		    strcmp(xnode_attr(c, "by"), r->jid) == 0)) ||
		    strcmp(c->ns, NS_OCCUPANT_ID) == 0)) {
			*pp = c->next;
			if (el->last == c)
				el->last = NULL;
			continue;
		}
		pp = &c->next;
	}
	if (el->last == NULL)
		for (c = el->children; c != NULL; c = c->next)
			el->last = c;
}

static int
subject_set(struct muc_req *q, struct muc_occ *o, const char *subject)
{
	if (o->role != ROLE_MODERATOR && !(q->room->cfg.change_subject &&
	    o->role >= ROLE_PARTICIPANT)) {
		muc_error(q, XERR_FORBIDDEN, NULL);	/* 8.1 */
		return -1;
	}
	if (strlen(subject) > router.conf.muc_subject_max_size) {
		muc_error(q, XERR_NOT_ACCEPTABLE, "subject too long");
		return -1;
	}
	free(q->room->subject);
	free(q->room->subject_by);
	q->room->subject = xstrdup(subject);
	q->room->subject_by = xstrdup(o->nick);
	muc_room_save(q->room);
	return 0;
}

static void
groupchat(struct muc_req *q)
{
	struct muc_occ	*o = muc_occ_of(q->room, q->from);
	struct xnode	*subj, *n;
	struct buf	 b;
	char		 from[JID_STR_MAX + 1], sid[MAM_SID_LEN + 40];
	uint64_t	 rnd[2];
	bool		 body;

	if (o == NULL) {
		muc_error(q, XERR_NOT_ACCEPTABLE, "not joined");	/* 7.4 */
		return;
	}
	if (o->role < ROLE_PARTICIPANT) {
		muc_error(q, XERR_FORBIDDEN, "visitors have no voice");
		return;
	}
	if (!rate_ok(o)) {
		muc_error(q, XERR_RESOURCE_CONSTRAINT, "too many messages");
		return;
	}
	body = xnode_child(q->el, NS_CLIENT, "body") != NULL;
	subj = xnode_child(q->el, NS_CLIENT, "subject");
	if (subj != NULL && !body &&
	    subject_set(q, o, xnode_text(q->a, subj)) == -1)
		return;
	strip_claims(q->room, q->el);
	occ_jid(from, q->room, o->nick);
	xnode_set_attr(q->a, q->el, "from", from);
	xnode_set_attr(q->a, q->el, "to", NULL);
	n = xnode_add(q->a, q->el, NS_OCCUPANT_ID, "occupant-id");
	xnode_set_attr(q->a, n, "id", o->occid);
	buf_init(&b, LINK_STANZA_MAX);
	/*
	 * XEP-0313 on the room: archived as sent, with its namespace, and
	 * the archive's id is the room's stanza-id; else a random one
	 */
	if (!body || !router.conf.archive || xnode_write(&b, q->el, "") ==
	    -1 || mam_archive_put(q->room->node, q->room->service, from,
	    buf_rptr(&b), buf_avail(&b), sid) == -1) {
		random_bytes(rnd, sizeof(rnd));
		hex_encode(sid, rnd, sizeof(rnd));
	}
	buf_reset(&b);
	n = xnode_add(q->a, q->el, NS_SID, "stanza-id");
	xnode_set_attr(q->a, n, "by", q->room->jid);
	xnode_set_attr(q->a, n, "id", sid);
	if (xnode_write(&b, q->el, NS_CLIENT) == 0) {
		/* without the archive, the history is kept here */
		if (body && !router.conf.archive)
			hist_add(q->room, buf_rptr(&b), buf_avail(&b), sid,
			    o->occid);
		muc_broadcast(q->room, KIND_MESSAGE, MTYPE_GROUPCHAT, from,
		    buf_rptr(&b), buf_avail(&b));
	}
	buf_clear(&b);
}

/* 7.5: to one occupant, from the sender's occupant JID */
static void
private_message(struct muc_req *q)
{
	struct muc_occ	*o = muc_occ_of(q->room, q->from), *t;
	struct buf	 b;
	char		 from[JID_STR_MAX + 1];
	int		 pm = q->room->cfg.allow_pm;
	size_t		 i;

	if (o == NULL) {
		muc_error(q, XERR_NOT_ACCEPTABLE, "not joined");
		return;
	}
	if (q->type == MTYPE_GROUPCHAT) {
		muc_error(q, XERR_BAD_REQUEST, NULL);	/* 7.5.1 */
		return;
	}
	if ((t = map_get(q->room->by_nick, q->nick)) == NULL) {
		muc_error(q, XERR_ITEM_NOT_FOUND, NULL);
		return;
	}
	if (pm == PM_NONE || (pm == PM_PARTICIPANTS &&
	    o->role < ROLE_PARTICIPANT) || (pm == PM_MODERATORS &&
	    o->role != ROLE_MODERATOR)) {
		muc_error(q, XERR_NOT_ALLOWED, "private messages are off");
		return;
	}
	if (!rate_ok(o)) {
		muc_error(q, XERR_RESOURCE_CONSTRAINT, "too many messages");
		return;
	}
	strip_claims(q->room, q->el);
	occ_jid(from, q->room, o->nick);
	xnode_set_attr(q->a, q->el, "from", from);
	xnode_set_attr(q->a, q->el, "to", NULL);
	xnode_add(q->a, q->el, NS_MUC_USER, "x");
	buf_init(&b, LINK_STANZA_MAX);
	if (xnode_write(&b, q->el, NS_CLIENT) == 0) {
		muc_send_begin(KIND_MESSAGE, q->type, from, buf_rptr(&b),
		    buf_avail(&b));
		for (i = 0; i < t->nres; i++)
			muc_send_to(t->res[i]);
		muc_send_end();
	}
	buf_clear(&b);
}

/* a message from the room's bare JID to any address */
static void
room_message_to(struct muc_req *q, const char *to, struct xnode *x)
{
	struct xnode	*m;

	m = xnode_new(q->a, NS_CLIENT, "message");
	xnode_set_attr(q->a, m, "from", q->room->jid);
	xnode_set_attr(q->a, m, "to", to);
	xnode_append(m, x);
	deliver_tree(NULL, m);
}

/* jid (its bare JID) is an occupant's or has an affiliation */
static bool
of_room(const struct muc_room *r, const char *jid)
{
	const struct muc_occ	*p;
	struct jid		 j;
	char			 bare[JID_STR_MAX + 1];

	if (jid_parse(&j, jid) == -1)
		return false;
	jid_format(bare, j.node, j.domain, NULL);
	jid_clear(&j);
	if (map_get(r->aff, bare) != NULL)
		return true;
	for (p = r->occ; p != NULL; p = p->next)
		if (strcmp(p->bare, bare) == 0)
			return true;
	return false;
}

/* 7.8.2: mediated invitations, 7.8.3 (their declines) */
static void
invites(struct muc_req *q, struct xnode *ux)
{
	struct muc_occ	*o = muc_occ_of(q->room, q->from);
	struct xnode	*inv, *x, *n, *reason;
	const char	*to;
	struct jid	 j;
	int		 aff = muc_aff(q->room, q->bare), k = 0;

	if ((inv = xnode_child(ux, NS_MUC_USER, "decline")) != NULL) {
		if ((to = xnode_attr(inv, "to")) == NULL ||
		    jid_parse(&j, to) == -1) {
			muc_error(q, XERR_JID_MALFORMED, NULL);
			return;
		}
		jid_clear(&j);
		/* only to someone of the room: no relay to any address */
		if (!of_room(q->room, to)) {
			muc_error(q, XERR_NOT_ACCEPTABLE, NULL);
			return;
		}
		x = xnode_new(q->a, NS_MUC_USER, "x");
		n = xnode_add(q->a, x, NS_MUC_USER, "decline");
		xnode_set_attr(q->a, n, "from", q->bare);
		if ((reason = xnode_child(inv, NS_MUC_USER, "reason")) != NULL)
			xnode_append(n, xnode_copy(q->a, reason));
		room_message_to(q, to, x);
		return;
	}
	if (o == NULL && aff < AFF_ADMIN) {
		muc_error(q, XERR_NOT_ACCEPTABLE, "not joined");
		return;
	}
	if (!q->room->cfg.invites && aff < AFF_ADMIN &&
	    (o == NULL || o->role != ROLE_MODERATOR)) {
		muc_error(q, XERR_FORBIDDEN, "invitations are off");
		return;
	}
	for (inv = xnode_child(ux, NS_MUC_USER, "invite"); inv != NULL &&
	    k < MUC_INVITES_MAX; inv = xnode_next(inv, NS_MUC_USER,
	    "invite"), k++) {
		if ((to = xnode_attr(inv, "to")) == NULL ||
		    jid_parse(&j, to) == -1) {
			muc_error(q, XERR_JID_MALFORMED, NULL);
			return;
		}
		/* 9.3: an admin's invitation into a members-only room */
		if (q->room->cfg.members_only && aff >= AFF_ADMIN) {
			char	bare[JID_STR_MAX + 1];

			jid_format(bare, j.node, j.domain, NULL);
			if (muc_aff(q->room, bare) == AFF_NONE) {
				map_put(q->room->aff, bare,
				    (void *)(intptr_t)(AFF_MEMBER + 1));
				muc_room_save(q->room);
			}
		}
		jid_clear(&j);
		x = xnode_new(q->a, NS_MUC_USER, "x");
		n = xnode_add(q->a, x, NS_MUC_USER, "invite");
		xnode_set_attr(q->a, n, "from", q->bare);
		if ((reason = xnode_child(inv, NS_MUC_USER, "reason")) != NULL)
			xnode_append(n, xnode_copy(q->a, reason));
		if (q->room->cfg.password != NULL &&
		    *q->room->cfg.password != '\0')
			xnode_add_text(q->a, xnode_add(q->a, x, NS_MUC_USER,
			    "password"), q->room->cfg.password,
			    strlen(q->room->cfg.password));
		room_message_to(q, to, x);
	}
}

/* 7.13: a visitor asks for voice; the moderators get the form */
static void
voice_request(struct muc_req *q, struct xnode *form)
{
	struct muc_occ	*o = muc_occ_of(q->room, q->from), *p;
	struct xnode	*m;
	struct buf	 b;

	if (o == NULL) {
		muc_error(q, XERR_NOT_ACCEPTABLE, "not joined");
		return;
	}
	if (!rate_ok(o)) {
		muc_error(q, XERR_RESOURCE_CONSTRAINT, "too many requests");
		return;
	}
	m = xnode_new(q->a, NS_CLIENT, "message");
	xnode_set_attr(q->a, m, "from", q->room->jid);
	form = xnode_copy(q->a, form);
	xdata_add(q->a, form, "muc#jid", "jid-single", NULL, q->bare);
	xdata_add(q->a, form, "muc#roomnick", "text-single", NULL, o->nick);
	xnode_append(m, form);
	buf_init(&b, LINK_STANZA_MAX);
	if (xnode_write(&b, m, NS_CLIENT) == 0) {
		muc_send_begin(KIND_MESSAGE, MTYPE_NORMAL, q->room->jid,
		    buf_rptr(&b), buf_avail(&b));
		for (p = q->room->occ; p != NULL; p = p->next)
			if (p->role == ROLE_MODERATOR)
				send_res(p);
		muc_send_end();
	}
	buf_clear(&b);
}

/*
 * The conditions of a bounce (RFC 6120 8.3.3) that mean the session is
 * not there: a client's own error answer to some message is not one.
 */
static bool
error_says_gone(const struct xnode *el)
{
	static const char *const gone[] = {
		"gone", "item-not-found", "recipient-unavailable", "redirect",
		"remote-server-not-found", "remote-server-timeout",
		"service-unavailable",
	};
	const struct xnode	*e = xnode_child(el, NS_CLIENT, "error"), *c;
	size_t			 i;

	for (c = xnode_child(e, NS_STANZAS, NULL); c != NULL;
	    c = xnode_next(c, NS_STANZAS, NULL))
		for (i = 0; i < nitems(gone); i++)
			if (strcmp(c->name, gone[i]) == 0)
				return true;
	return false;
}

void
muc_message_in(struct muc_req *q)
{
	static const int	 c333[] = { 333 };
	struct muc_occ		*o;
	struct xnode		*x;

	o = q->room != NULL ? muc_occ_of(q->room, q->from) : NULL;
	if (q->type == MTYPE_ERROR) {
		/* a bounce that says the occupant is gone removes the ghost */
		if (o != NULL && error_says_gone(q->el))
			muc_occ_remove(q->room, o, c333, 1, NULL, NULL);
		return;
	}
	if (q->room == NULL || q->room->locked) {
		muc_error(q, XERR_ITEM_NOT_FOUND, NULL);
		return;
	}
	if (q->nick != NULL) {
		private_message(q);
		return;
	}
	if (q->type == MTYPE_GROUPCHAT) {
		groupchat(q);
		return;
	}
	if ((x = xnode_child(q->el, NS_MUC_USER, "x")) != NULL &&
	    (xnode_child(x, NS_MUC_USER, "invite") != NULL ||
	    xnode_child(x, NS_MUC_USER, "decline") != NULL)) {
		invites(q, x);
		return;
	}
	if ((x = xnode_child(q->el, NS_XDATA, "x")) != NULL) {
		struct xdata	d;
		const char	*why;

		if (xdata_parse(q->a, x, &d, &why) == 0 &&
		    d.form_type != NULL &&
		    strcmp(d.form_type, NS_MUC_REQUEST) == 0) {
			voice_request(q, x);
			return;
		}
	}
	/* 7.4: a chat or normal message to the room itself */
	muc_error(q, XERR_BAD_REQUEST, NULL);
}

/* 10.9: everyone is told, with the alternate venue and the reason */
void
muc_room_destroy(struct muc_room *r, const char *venue, const char *reason)
{
	struct muc_occ	*o;
	struct buf	 b;
	char		 from[JID_STR_MAX + 1];
	size_t		 i;

	buf_init(&b, LINK_STANZA_MAX);
	while ((o = r->occ) != NULL) {
		occ_jid(from, r, o->nick);
		buf_reset(&b);
		if (buf_puts(&b, "<presence from='") == 0 &&
		    xml_escape(&b, from, strlen(from)) == 0 &&
		    buf_printf(&b, "' type='unavailable'><x xmlns='"
		    NS_MUC_USER "'><item affiliation='none' role='none'/>"
		    "<destroy") == 0 &&
		    (venue == NULL || (buf_puts(&b, " jid='") |
		    xml_escape(&b, venue, strlen(venue)) |
		    buf_puts(&b, "'")) == 0) &&
		    buf_puts(&b, ">") == 0 &&
		    (reason == NULL || (buf_puts(&b, "<reason>") |
		    xml_escape(&b, reason, strlen(reason)) |
		    buf_puts(&b, "</reason>")) == 0) &&
		    buf_puts(&b, "</destroy><status code='110'/></x>"
		    "</presence>") == 0) {
			muc_send_begin(KIND_PRESENCE, PRES_UNAVAILABLE, from,
			    buf_rptr(&b), buf_avail(&b));
			for (i = 0; i < o->nres; i++)
				muc_send_to(o->res[i]);
			muc_send_end();
		}
		occ_unlink(r, o);
	}
	buf_clear(&b);
	log_info("muc: room %s destroyed", log_escs(r->jid));
	room_forget(r);
}

/* XEP-0425: the moderated message leaves the history; all are told */
int
muc_hist_retract(struct muc_room *r, const char *sid, char **occid)
{
	size_t	i, k;

	for (i = 0; i < r->hn; i++) {
		struct muc_hist	*h = &r->hist[(r->hfirst + i) % r->hcap];

		if (strcmp(h->sid, sid) != 0)
			continue;
		free(h->xml);
		free(h->sid);
		*occid = h->occid;
		for (k = i; k + 1 < r->hn; k++)
			r->hist[(r->hfirst + k) % r->hcap] =
			    r->hist[(r->hfirst + k + 1) % r->hcap];
		r->hn--;
		return 0;
	}
	return -1;
}
