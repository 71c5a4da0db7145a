/*
 * The rooms' occupants across a planned restart (docs/internals.md,
 * "Planned router restart"): each room with occupants is one HO_ROOM
 * record (its XEP-0421 salt, so that the occupant ids stay the same, and
 * the whole record of a room storage does not hold: a temporary or a
 * locked one), then one HO_OCC record per occupant, in join order. They
 * come back as they were, told to nobody: for the others nothing
 * changed. With the room archive off, the in-memory history ring goes
 * too (HO_HIST, oldest first), for stored rooms without occupants as
 * well, so that a newcomer after the restart gets the same history.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "handover.h"
#include "muc.h"
#include "router.h"

struct put_job {
	struct buf	*b;
	int		 rc;
};

/*
 * The in-memory history ring (the archive off), oldest first: a room
 * with occupants has its HO_ROOM before (a temporary one is made by
 * it); one without is a stored room, there at the start
 */
static void
hist_put(struct muc_room *r, void *arg)
{
	struct put_job		*job = arg;
	const struct muc_hist	*h;
	const char		*f[4];
	char			 at[32];
	size_t			 i;

	if (r->nocc == 0 && (!r->cfg.persistent || r->locked))
		return;
	for (i = 0; i < r->hn; i++) {
		h = &r->hist[(r->hfirst + i) % r->hcap];
		snprintf(at, sizeof(at), "%.3f", h->at);
		f[0] = r->jid;
		f[1] = at;
		f[2] = h->sid;
		f[3] = h->xml;
		job->rc |= ho_add(job->b, HO_HIST, 4, f);
	}
}

static void
room_put(struct muc_room *r, void *arg)
{
	struct put_job	*job = arg;
	struct muc_occ	*o;
	struct buf	 rec;
	const char	*f[HANDOVER_FIELDS_MAX];
	char		 salt[MUC_SALT_HEX + 1], role[4];
	size_t		 i;

	if (r->nocc == 0)
		return;
	buf_init(&rec, HANDOVER_FIELD_MAX);
	if (!r->cfg.persistent || r->locked)
		job->rc |= muc_room_record(r, &rec);
	muc_salt_format(r, salt);
	f[0] = r->jid;
	f[1] = salt;
	f[2] = r->locked ? "1" : "0";
	if ((f[3] = buf_cstr(&rec)) == NULL) {
		job->rc = -1;	/* no room for its NUL: too large */
		f[3] = "";
	}
	job->rc |= ho_add(job->b, HO_ROOM, 4, f);
	buf_clear(&rec);
	for (o = r->occ; o != NULL; o = o->next) {
		snprintf(role, sizeof(role), "%d", o->role);
		f[0] = r->jid;
		f[1] = o->nick;
		f[2] = o->bare;
		f[3] = role;
		f[4] = o->shown ? "1" : "0";
		f[5] = o->occid;
		f[6] = o->extra != NULL ? o->extra : "";
		for (i = 0; i < o->nres; i++)
			f[7 + i] = o->res[i];
		job->rc |= ho_add(job->b, HO_OCC, 7 + o->nres, f);
	}
}

/* fn on every room of every group chat service */
static void
rooms_foreach(void (*fn)(struct muc_room *, void *), void *arg)
{
	size_t	i;

	for (i = 0; i < router.conf.nhosts; i++) {
		const struct conf_host	*h = &router.conf.hosts[i];

		if (h->muc && h->muc_name != NULL)
			muc_room_foreach(h->muc_name, fn, arg);
	}
}

int
muc_handover_put(struct buf *b)
{
	struct put_job	job = { b, 0 };

	rooms_foreach(room_put, &job);
	return job.rc;
}

int
muc_handover_put_hist(struct buf *b)
{
	struct put_job	job = { b, 0 };

	rooms_foreach(hist_put, &job);
	return job.rc;
}

/* the room of jid at one of our group chat services, or NULL */
static const char *
room_service(const char *jid)
{
	const char	*at = strchr(jid, '@');
	size_t		 i;

	if (at == NULL || strchr(at, '/') != NULL)
		return NULL;
	for (i = 0; i < router.conf.nhosts; i++) {
		const struct conf_host	*h = &router.conf.hosts[i];

		if (h->muc && h->muc_name != NULL &&
		    strcmp(h->muc_name, at + 1) == 0)
			return h->muc_name;
	}
	return NULL;
}

static int
room_get(struct ho_rec *rec)
{
	struct muc_room	*r;
	const char	*service;

	if ((service = room_service(rec->f[0])) == NULL ||
	    rec->len[1] != MUC_SALT_HEX || (strcmp(rec->f[2], "0") != 0 &&
	    strcmp(rec->f[2], "1") != 0))
		return -1;
	if ((r = muc_room_find(rec->f[0])) == NULL) {
		/* temporary or locked: its record is here, not in storage */
		if (rec->len[3] == 0 || (r = muc_room_from_record(service,
		    rec->f[3], rec->len[3])) == NULL)
			return -1;
		if (strcmp(r->jid, rec->f[0]) != 0) {
			muc_room_free(r);
			return -1;
		}
	}
	if (muc_salt_parse(r, rec->f[1]) == -1)
		return -1;
	r->locked = rec->f[2][0] == '1';
	return 0;
}

static int
occ_get(struct ho_rec *rec)
{
	struct muc_room	*r = muc_room_find(rec->f[0]);
	char		*end;
	long		 role;
	size_t		 i, k;

	if (r == NULL)
		return -1;
	role = strtol(rec->f[3], &end, 10);
	if (*end != '\0' || role < ROLE_VISITOR || role > ROLE_MODERATOR ||
	    (strcmp(rec->f[4], "0") != 0 && strcmp(rec->f[4], "1") != 0) ||
	    rec->len[1] == 0 || rec->len[1] > MUC_NICK_MAX ||
	    rec->len[2] == 0 || rec->len[2] > JID_STR_MAX)
		return -1;
	for (i = 7; i < rec->n; i++) {
		if (rec->len[i] == 0 || rec->len[i] > JID_STR_MAX ||
		    strchr(rec->f[i], '/') == NULL)
			return -1;
		for (k = 7; k < i; k++)
			if (strcmp(rec->f[k], rec->f[i]) == 0)
				return -1;	/* a session twice */
	}
	if (muc_occ_restore(r, rec->f[1], rec->f[2], (int)role,
	    rec->f[4][0] == '1', rec->f[5], rec->len[6] > 0 ? rec->f[6] : NULL,
	    rec->f + 7, rec->n - 7) == NULL)
		return -1;
	/* a local session must come back; a remote one is as it was */
	for (i = 7; i < rec->n; i++)
		if (domain_is_local_jid(rec->f[i]))
			handover_expect_muc(rec->f[i]);
	return 0;
}

static int
hist_get(struct ho_rec *rec)
{
	struct muc_room	*r = muc_room_find(rec->f[0]);
	char		*end;
	double		 at;

	if (r == NULL)
		return -1;
	at = strtod(rec->f[1], &end);
	if (*end != '\0' || end == rec->f[1] || !(at >= 0) ||
	    at > clock_wall() + 86400 || rec->len[2] == 0 ||
	    rec->len[2] > 256 || rec->len[3] == 0 ||
	    rec->len[3] > router.conf.max_stanza_size)
		return -1;
	muc_hist_put(r, rec->f[3], rec->len[3], rec->f[2], at);
	return 0;
}

int
muc_handover_get(struct ho_rec *rec)
{
	switch (rec->type) {
	case HO_ROOM:
		return room_get(rec);
	case HO_HIST:
		return hist_get(rec);
	default:
		return occ_get(rec);
	}
}

struct empty_job {
	struct muc_room	**v;
	size_t		  n, cap;
};

static void
room_empty(struct muc_room *r, void *arg)
{
	struct empty_job	*job = arg;

	if (r->nocc > 0 || (r->cfg.persistent && !r->locked))
		return;
	if (job->n == job->cap) {
		job->cap = job->cap ? 2 * job->cap : 8;
		job->v = xrealloc(job->v, job->cap * sizeof(*job->v));
	}
	job->v[job->n++] = r;
}

void
muc_handover_done(void)
{
	struct empty_job	job = { NULL, 0, 0 };
	size_t			i;

	/* a room made from the handover whose occupants were all refused
	   goes, as a temporary room does with its last occupant */
	rooms_foreach(room_empty, &job);
	for (i = 0; i < job.n; i++)
		muc_room_free(job.v[i]);
	free(job.v);
}
