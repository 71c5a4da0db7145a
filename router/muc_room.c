/*
 * Occupants of a room (XEP-0045 7): joining (with the room's creation),
 * presence and its broadcast, nick changes, leaving, destruction.
 * Messages are muc_msg.c's, the history sent on join muc_history.c's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "../common/base64.h"
#include "../common/clock.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
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

char *
muc_occ_jid(char *out, const struct muc_room *r, const char *nick)
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

/* o's presence from its occupant JID from (the caller's, made once) */
static int
pres_build(struct buf *b, struct muc_room *r, struct muc_occ *o,
    const char *from, const struct pres_info *pi, bool withjid, bool self)
{
	int	rc, aff;
	size_t	i;

	aff = pi->aff >= 0 ? pi->aff : muc_aff(r, o->bare);
	buf_reset(b);
	rc = buf_puts(b, "<presence from='") |
	    xml_escape(b, from, strlen(from)) | buf_puts(b, "'") |
	    buf_puts(b, pi->unavail ? " type='unavailable'>" : ">");
	if (pi->extra != NULL)
		rc |= buf_puts(b, pi->extra);
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

void
muc_send_res(const struct muc_occ *p)
{
	size_t	i;

	for (i = 0; i < p->nres; i++)
		muc_send_to(p->res[i]);
}

/*
 * muc#roomconfig_presencebroadcast: whether the others get o's presence
 * pi; one that now has a role not broadcast leaves their view (gi: its
 * unavailable presence), one that left it comes back.
 */
static bool
others_get(const struct muc_room *r, struct muc_occ *o,
    const struct pres_info *pi, struct pres_info *gi)
{
	bool	was = o->shown;

	*gi = *pi;
	if (pi->unavail) {
		o->shown = false;
		return was;
	}
	o->shown = (r->cfg.pbroadcast & MUC_ROLE_BIT(o->role)) != 0;
	if (!o->shown && was) {
		gi->unavail = true;
		gi->extra = NULL;
	}
	return o->shown || was;
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
	struct muc_occ		*p;
	struct pres_info	 gi;
	struct buf		 b;
	char			 from[JID_STR_MAX + 1];
	int			 withjid, type;

	muc_occ_jid(from, r, o->nick);
	if (others) {
		/* what the others get now is its latest: none is held */
		o->pres_held = false;
		ctimer_stop(&o->pres_timer);
		others = others_get(r, o, pi, &gi);
	}
	buf_init(&b, LINK_STANZA_MAX);
	for (withjid = 0; others && withjid < 2; withjid++) {
		type = gi.unavail ? PRES_UNAVAILABLE : PRES_AVAILABLE;
		if (pres_build(&b, r, o, from, &gi, withjid, false) == -1)
			continue;
		muc_send_begin(KIND_PRESENCE, type, from, buf_rptr(&b),
		    buf_avail(&b));
		for (p = r->occ; p != NULL; p = p->next)
			if (p != o && sees_jids(r, p) == (withjid != 0))
				muc_send_res(p);
		muc_send_end();
	}
	type = pi->unavail ? PRES_UNAVAILABLE : PRES_AVAILABLE;
	if (pres_build(&b, r, o, from, pi, true, true) == 0) {
		muc_send_begin(KIND_PRESENCE, type, from, buf_rptr(&b),
		    buf_avail(&b));
		if (only != NULL)
			muc_send_to(only);
		else
			muc_send_res(o);
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
		muc_send_res(p);
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
	ctimer_stop(&o->pres_timer);
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

static void	pres_due(struct ctimer *);

/* a new occupant of r, last in join order, with its first session */
static struct muc_occ *
occ_new(struct muc_room *r, const char *nick, const char *bare,
    const char *full)
{
	struct muc_occ	*o = xcalloc(1, sizeof(*o));

	o->nick = xstrdup(nick);
	o->bare = xstrdup(bare);
	o->res[o->nres++] = xstrdup(full);
	o->rate_at = clock_now();
	o->room = r;
	ctimer_init(&o->pres_timer, pres_due);
	o->pres_tokens = MUC_PRES_BURST;
	o->pres_at = o->rate_at;
	o->prev = r->occ_last;
	if (r->occ_last != NULL)
		r->occ_last->next = o;
	else
		r->occ = o;
	r->occ_last = o;
	r->nocc++;
	map_put(r->by_nick, o->nick, o);
	map_put(r->by_full, o->res[0], o);
	muc_joined(full, r, true);
	return o;
}

/* ---- joining ------------------------------------------------------------ */

/* the others' presence to the joining session full (7.2.3) */
static void
others_send(struct muc_room *r, struct muc_occ *o, const char *full)
{
	struct pres_info	 pi = { .aff = -1 };
	struct muc_occ		*p;
	struct buf		 b;
	char			 from[JID_STR_MAX + 1];
	bool			 withjid = sees_jids(r, o);

	buf_init(&b, LINK_STANZA_MAX);
	for (p = r->occ; p != NULL; p = p->next) {
		if (p == o || !p->shown)
			continue;
		pi.extra = p->extra;
		muc_occ_jid(from, r, p->nick);
		if (pres_build(&b, r, p, from, &pi, withjid, false) == 0)
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

/* an account of ours creates rooms by its role (router/roles.c) */
static bool
role_creates(const struct muc_req *q)
{
	struct jid	j;
	bool		ok;

	if (!q->local)
		return true;	/* remote: muc-create anyone decided */
	if (jid_parse(&j, q->bare) == -1)
		return false;
	ok = role_may(j.node, j.domain, ROLE_CAP_CREATE_ROOMS);
	jid_clear(&j);
	return ok;
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
	if (!role_creates(q)) {
		/* XEP-0045 10.1.1: creation restricted, not-allowed */
		muc_error(q, XERR_NOT_ALLOWED, "your role may not create "
		    "rooms");
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

	if (o->nres == MUC_RES_MAX) {
		muc_error(q, XERR_RESOURCE_CONSTRAINT, "too many sessions");
		return;
	}
	o->res[o->nres++] = xstrdup(q->from);
	map_put(q->room->by_full, o->res[o->nres - 1], o);
	muc_joined(q->from, q->room, true);
	others_send(q->room, o, q->from);
	occ_announce_to(q->room, o, &pi, q->from, false);
	muc_history_send(q->room, x, q->from);
	if (q->room->photo[0] != '\0')
		muc_avatar_presence(q->room, q->from);
}

/*
 * The presence bucket of o: refilled for the time gone by; takes a token
 * and returns true, or returns false with *wait the seconds until one.
 */
static bool
pres_take(struct muc_occ *o, double *wait)
{
	double	now = clock_now();

	o->pres_tokens += (now - o->pres_at) * MUC_PRES_RATE;
	if (o->pres_tokens > MUC_PRES_BURST)
		o->pres_tokens = MUC_PRES_BURST;
	o->pres_at = now;
	if (o->pres_tokens >= 1) {
		o->pres_tokens -= 1;
		return true;
	}
	*wait = (1 - o->pres_tokens) / MUC_PRES_RATE;
	return false;
}

/* a held presence's token is there: the latest goes out */
static void
pres_due(struct ctimer *t)
{
	struct muc_occ	*o = container_of(t, struct muc_occ, pres_timer);
	double		 wait;

	if (!o->pres_held)
		return;
	if (!pres_take(o, &wait)) {
		ctimer_start(t, wait);	/* a clock that moved less */
		return;
	}
	muc_occ_broadcast(o->room, o, NULL, 0, NULL, NULL);
}

static void
join(struct muc_req *q)
{
	struct muc_room		*r = q->room;
	struct muc_occ		*o, *p;
	const struct xnode	*x = xnode_child(q->el, NS_MUC, "x");
	const char		*pw;
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
	o = occ_new(r, q->nick, q->bare, q->from);
	o->role = muc_role_default(r, aff);
	o->extra = presence_extra(q->el);
	occid_make(r, q->bare, o->occid, sizeof(o->occid));
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
	muc_history_send(r, x, q->from);
	/* the join is complete (the subject): then the room's avatar */
	if (r->photo[0] != '\0')
		muc_avatar_presence(r, q->from);
}

struct muc_occ *
muc_occ_restore(struct muc_room *r, const char *nick, const char *bare,
    int role, bool shown, const char *occid, const char *extra,
    char *const *res, size_t nres)
{
	struct muc_occ	*o;
	size_t		 i;

	if (nres == 0 || nres > MUC_RES_MAX ||
	    map_get(r->by_nick, nick) != NULL ||
	    strlen(occid) >= sizeof(o->occid))
		return NULL;
	for (i = 0; i < nres; i++)
		if (map_get(r->by_full, res[i]) != NULL)
			return NULL;
	o = occ_new(r, nick, bare, res[0]);
	o->role = role;
	o->shown = shown;
	o->extra = extra != NULL ? xstrdup(extra) : NULL;
	memcpy(o->occid, occid, strlen(occid) + 1);
	for (i = 1; i < nres; i++) {
		o->res[o->nres++] = xstrdup(res[i]);
		map_put(r->by_full, o->res[i], o);
		muc_joined(o->res[i], r, true);
	}
	return o;
}

/* 7.6: the occupant takes another nick (all its sessions do) */
static void
nick_change(struct muc_req *q, struct muc_occ *o)
{
	static const int	 c303[] = { 303 };
	struct pres_info	 pi = { .unavail = true, .codes = c303,
	    .ncodes = 1, .aff = -1 };
	struct muc_occ		*p = map_get(q->room->by_nick, q->nick);
	double			 wait;

	if (!q->room->cfg.nick_change) {
		/* 7.6: the room does not let occupants change nicks */
		muc_error(q, XERR_NOT_ACCEPTABLE, "nick changes are off");
		return;
	}
	if (p != NULL || muc_nick_taken(q->room, q->nick, q->bare)) {
		muc_error(q, XERR_CONFLICT, NULL);
		return;
	}
	/* a nick change cannot wait and merge: past the bucket, refused */
	if (!pres_take(o, &wait)) {
		muc_error(q, XERR_RESOURCE_CONSTRAINT, "too many changes");
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
	double			 wait;

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
	/*
	 * 7.2.1: a join names a nick; RFC 7700's rules drop its leading and
	 * trailing spaces, so one of spaces only names none
	 */
	if (q->nick == NULL || q->nick[strspn(q->nick, " ")] == '\0') {
		muc_error(q, XERR_JID_MALFORMED, "no nickname");
		return;
	}
	if (q->rejoin && q->room == NULL) {
		/* a temporary room a crash ended: the client learns it */
		muc_error(q, XERR_ITEM_NOT_FOUND, "the room is gone");
		return;
	}
	if (q->rejoin && o != NULL)
		return;		/* handed over by a planned restart */
	if (o == NULL) {
		join(q);
		return;
	}
	if (strcmp(o->nick, q->nick) != 0) {
		nick_change(q, o);
		return;
	}
	/*
	 * 7.7: a change of availability, to everyone; past the bucket the
	 * latest is kept and goes out when a token comes (docs/hardening.md)
	 */
	free(o->extra);
	o->extra = presence_extra(q->el);
	if (o->pres_held)
		return;
	if (!pres_take(o, &wait)) {
		o->pres_held = true;
		ctimer_start(&o->pres_timer, wait);
		return;
	}
	muc_occ_broadcast(q->room, o, NULL, 0, NULL, NULL);
}

/* 10.9: everyone is told, with the alternate venue and the reason */
void
muc_room_destroy(struct muc_room *r, const char *venue, const char *reason)
{
	struct muc_occ	*o;
	struct buf	 b;
	char		 from[JID_STR_MAX + 1];
	int		 rc;

	buf_init(&b, LINK_STANZA_MAX);
	while ((o = r->occ) != NULL) {
		muc_occ_jid(from, r, o->nick);
		buf_reset(&b);
		rc = buf_puts(&b, "<presence from='") |
		    xml_escape(&b, from, strlen(from)) |
		    buf_puts(&b, "' type='unavailable'><x xmlns='" NS_MUC_USER
		    "'><item affiliation='none' role='none'/><destroy");
		if (venue != NULL)
			rc |= buf_puts(&b, " jid='") |
			    xml_escape(&b, venue, strlen(venue)) |
			    buf_puts(&b, "'");
		rc |= buf_puts(&b, ">");
		if (reason != NULL)
			rc |= buf_puts(&b, "<reason>") |
			    xml_escape(&b, reason, strlen(reason)) |
			    buf_puts(&b, "</reason>");
		rc |= buf_puts(&b, "</destroy><status code='110'/></x>"
		    "</presence>");
		if (rc == 0) {
			muc_send_begin(KIND_PRESENCE, PRES_UNAVAILABLE, from,
			    buf_rptr(&b), buf_avail(&b));
			muc_send_res(o);
			muc_send_end();
		}
		occ_unlink(r, o);
	}
	buf_clear(&b);
	log_info("muc: room %s destroyed", log_escs(r->jid));
	room_forget(r);
}

