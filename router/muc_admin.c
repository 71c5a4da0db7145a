/*
 * Affiliations and roles (XEP-0045 8-10): the muc#admin lists and
 * changes (kick, ban, voice, membership, moderators, admins, owners),
 * nickname registration (7.10, jabber:iq:register on the room) and
 * XEP-0425 moderation of a message in the history.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/xdata.h"
#include "mam.h"
#include "muc.h"
#include "router.h"

/* items one admin request may change */
#define ADMIN_ITEMS_MAX	64

struct list_job {
	struct muc_req	*q;
	struct xnode	*query;
	int		 aff;
};

static int
list_aff(const void *key, size_t len, void *val, void *arg)
{
	struct list_job	*job = arg;
	struct xnode	*it;
	char		*jid;

	if ((int)(intptr_t)val - 1 != job->aff)
		return 0;
	jid = arena_strndup(job->q->a, key, len);
	it = xnode_add(job->q->a, job->query, NS_MUC_ADMIN, "item");
	xnode_set_attr(job->q->a, it, "affiliation", muc_aff_name(job->aff));
	xnode_set_attr(job->q->a, it, "jid", jid);
	return 0;
}

static void
admin_get(struct muc_req *q, struct xnode *item, int aff, int myrole)
{
	struct list_job	 job = { q, NULL, -1 };
	struct muc_occ	*p;
	struct xnode	*it;
	int		 role;

	if ((job.aff = muc_aff_find(xnode_attr(item, "affiliation"))) >= 0) {
		/*
		 * 9.5, 10.5: members and outcasts to admins, more to owners;
		 * the member list also to the roles of getmemberlist
		 */
		if ((aff < AFF_ADMIN && !(job.aff == AFF_MEMBER &&
		    myrole != ROLE_NONE && (q->room->cfg.getmember &
		    MUC_ROLE_BIT(myrole)))) || (job.aff >= AFF_ADMIN &&
		    aff < AFF_OWNER && job.aff != AFF_ADMIN)) {
			muc_error(q, XERR_FORBIDDEN, NULL);
			return;
		}
		iq_make_result(q->el, q->a);
		job.query = xnode_add(q->a, q->el, NS_MUC_ADMIN, "query");
		map_foreach(q->room->aff, list_aff, &job);
		muc_send_tree(q->el);
		return;
	}
	if ((role = muc_role_find(xnode_attr(item, "role"))) < 0) {
		muc_error(q, XERR_BAD_REQUEST, NULL);
		return;
	}
	if (myrole != ROLE_MODERATOR) {
		muc_error(q, XERR_FORBIDDEN, NULL);	/* 8.5 */
		return;
	}
	iq_make_result(q->el, q->a);
	job.query = xnode_add(q->a, q->el, NS_MUC_ADMIN, "query");
	for (p = q->room->occ; p != NULL; p = p->next) {
		if (p->role != role)
			continue;
		it = xnode_add(q->a, job.query, NS_MUC_ADMIN, "item");
		xnode_set_attr(q->a, it, "nick", p->nick);
		xnode_set_attr(q->a, it, "role", muc_role_name(p->role));
		xnode_set_attr(q->a, it, "affiliation",
		    muc_aff_name(muc_aff(q->room, p->bare)));
		if (p->nres > 0)
			xnode_set_attr(q->a, it, "jid", p->res[0]);
	}
	muc_send_tree(q->el);
}

/* one role change (8.2-8.6, 9.6-9.7): 0, or -1 with the error sent */
static int
role_set(struct muc_req *q, struct muc_occ *me, const char *nick, int role,
    const char *reason)
{
	static const int	 c307[] = { 307 };
	struct muc_occ		*t = map_get(q->room->by_nick, nick);
	int			 myaff = muc_aff(q->room, q->bare), taff;

	if (t == NULL) {
		muc_error(q, XERR_ITEM_NOT_FOUND, NULL);
		return -1;
	}
	taff = muc_aff(q->room, t->bare);
	/* 8.2: nobody kicks or silences an admin or owner; 9.6 moderators */
	if (me->role != ROLE_MODERATOR ||
	    (role == ROLE_MODERATOR && myaff < AFF_ADMIN) ||
	    (role < ROLE_MODERATOR && taff >= AFF_ADMIN) ||
	    (t->role == ROLE_MODERATOR && myaff < AFF_ADMIN)) {
		muc_error(q, XERR_NOT_ALLOWED, NULL);
		return -1;
	}
	if (role == ROLE_NONE) {
		muc_occ_remove(q->room, t, c307, 1, reason, me->nick);
		return 0;
	}
	t->role = role;
	muc_occ_broadcast(q->room, t, NULL, 0, reason, NULL);
	return 0;
}

struct owners_job {
	size_t	n;
};

static int
count_owners(const void *key, size_t len, void *val, void *arg)
{
	(void)key;
	(void)len;
	if ((int)(intptr_t)val - 1 == AFF_OWNER)
		((struct owners_job *)arg)->n++;
	return 0;
}

/* the occupants of account bare after its affiliation changed */
static void
aff_apply(struct muc_req *q, const char *bare, int aff, const char *reason,
    const char *actor)
{
	static const int	 c301[] = { 301 }, c321[] = { 321 };
	struct muc_occ		*p, *next;
	char			 rjid[JID_STR_MAX + 1];

	/* a removal may free a temporary room: known again by its JID */
	snprintf(rjid, sizeof(rjid), "%s", q->room->jid);

	for (p = q->room->occ; p != NULL; p = next) {
		next = p->next;
		if (strcmp(p->bare, bare) != 0)
			continue;
		if (aff == AFF_OUTCAST)
			muc_occ_remove(q->room, p, c301, 1, reason, actor);
		else if (aff < AFF_MEMBER && q->room->cfg.members_only)
			muc_occ_remove(q->room, p, c321, 1, reason, actor);
		else {
			p->role = muc_role_default(q->room, aff);
			muc_occ_broadcast(q->room, p, NULL, 0, reason, NULL);
		}
		if (muc_room_find(rjid) == NULL)
			return;
	}
}

/* one affiliation change (9.1-9.8, 10.3-10.8) */
static int
aff_set(struct muc_req *q, const char *jid, int aff, const char *reason,
    const char *actor)
{
	struct owners_job	 oj = { 0 };
	struct jid		 j;
	char			 bare[JID_STR_MAX + 1];
	int			 myaff = muc_aff(q->room, q->bare), cur;

	if (jid_parse(&j, jid) == -1) {
		muc_error(q, XERR_JID_MALFORMED, NULL);
		return -1;
	}
	jid_format(bare, j.node, j.domain, NULL);
	jid_clear(&j);
	cur = muc_aff(q->room, bare);
	/* admins manage members and outcasts below themselves */
	if (myaff < AFF_ADMIN || (myaff == AFF_ADMIN &&
	    (aff >= AFF_ADMIN || cur >= AFF_ADMIN))) {
		muc_error(q, XERR_NOT_ALLOWED, NULL);
		return -1;
	}
	if (cur == AFF_OWNER && aff != AFF_OWNER) {
		map_foreach(q->room->aff, count_owners, &oj);
		if (oj.n <= 1) {
			/* 10.6: a room keeps an owner */
			muc_error(q, XERR_CONFLICT, "the last owner");
			return -1;
		}
	}
	if (aff == AFF_NONE)
		map_del(q->room->aff, bare);
	else if (map_count(q->room->aff) >=
	    (size_t)router.conf.muc_max_occupants * 4 && cur == AFF_NONE) {
		muc_error(q, XERR_RESOURCE_CONSTRAINT, "too many affiliations");
		return -1;
	} else
		map_put(q->room->aff, bare, (void *)(intptr_t)(aff + 1));
	aff_apply(q, bare, aff, reason, actor);
	return 0;
}

/* an item of a set names a role and a nick, or an affiliation and a JID */
static bool
item_shape_ok(const struct xnode *it)
{
	return (muc_role_find(xnode_attr(it, "role")) >= 0 &&
	    xnode_attr(it, "nick") != NULL) ||
	    (muc_aff_find(xnode_attr(it, "affiliation")) >= 0 &&
	    xnode_attr(it, "jid") != NULL);
}

void
muc_admin_iq(struct muc_req *q, struct xnode *qq)
{
	struct muc_room	*r = q->room;
	struct muc_occ	*me = muc_occ_of(r, q->from);
	struct xnode	*it, *c;
	const char	*reason, *nick;
	char		 rjid[JID_STR_MAX + 1];
	int		 aff = muc_aff(r, q->bare), role, rc = 0, n = 0;

	snprintf(rjid, sizeof(rjid), "%s", r->jid);

	if ((it = xnode_child(qq, NS_MUC_ADMIN, "item")) == NULL) {
		muc_error(q, XERR_BAD_REQUEST, NULL);
		return;
	}
	if (q->type == IQ_GET) {
		admin_get(q, it, aff, me != NULL ? me->role : ROLE_NONE);
		return;
	}
	/* the request's size and shape first: a bad one changes nothing */
	for (c = it; c != NULL; c = xnode_next(c, NS_MUC_ADMIN, "item")) {
		if (++n > ADMIN_ITEMS_MAX) {
			muc_error(q, XERR_POLICY_VIOLATION, "too many items");
			return;
		}
		if (!item_shape_ok(c)) {
			muc_error(q, XERR_BAD_REQUEST, NULL);
			return;
		}
	}
	for (; it != NULL; it = xnode_next(it, NS_MUC_ADMIN, "item")) {
		reason = muc_text(q->a, it, NS_MUC_ADMIN, "reason");
		if (reason != NULL && *reason == '\0')
			reason = NULL;
		nick = xnode_attr(it, "nick");
		role = muc_role_find(xnode_attr(it, "role"));
		if (role >= 0 && nick != NULL) {
			if (me == NULL) {
				muc_error(q, XERR_NOT_ALLOWED, NULL);
				rc = -1;
			} else
				rc = role_set(q, me, nick, role, reason);
		} else
			rc = aff_set(q, xnode_attr(it, "jid"),
			    muc_aff_find(xnode_attr(it, "affiliation")),
			    reason, me != NULL ? me->nick : NULL);
		if (rc == -1 || muc_room_find(rjid) == NULL)
			break;	/* an error, or a temporary room gone */
		/* me may have gone (a moderator removing itself) */
		me = muc_occ_of(r, q->from);
	}
	/* what the items before an error changed stays: it is stored too */
	if (muc_room_find(rjid) != NULL)
		muc_room_save(r);
	if (rc == 0) {
		iq_make_result(q->el, q->a);
		muc_send_tree(q->el);
	}
}

/* 7.10: the registration form, or the nick already registered */
void
muc_register_iq(struct muc_req *q, struct xnode *qq)
{
	struct muc_room	*r = q->room;
	struct muc_occ	*p;
	struct xnode	*x, *res;
	struct xdata	 d;
	const struct xdata_field *f;
	const char	*why, *mine = map_get(r->nicks, q->bare);
	char		 nick[JID_PART_MAX + 1];

	if (muc_aff(r, q->bare) == AFF_OUTCAST) {
		muc_error(q, XERR_FORBIDDEN, NULL);
		return;
	}
	if (q->type == IQ_GET) {
		iq_make_result(q->el, q->a);
		res = xnode_add(q->a, q->el, NS_REGISTER, "query");
		if (mine != NULL) {
			xnode_add(q->a, res, NS_REGISTER, "registered");
			xnode_add_text(q->a, xnode_add(q->a, res, NS_REGISTER,
			    "username"), mine, strlen(mine));
		} else {
			x = xdata_new(q->a, res, "form", NS_MUC_REGISTER);
			xdata_add(q->a, x, "muc#register_roomnick",
			    "text-single", "Nickname", NULL);
		}
		muc_send_tree(q->el);
		return;
	}
	if (xnode_child(qq, NS_REGISTER, "remove") != NULL) {
		free(map_del(r->nicks, q->bare));
		goto done;
	}
	if ((x = xnode_child(qq, NS_XDATA, "x")) == NULL ||
	    xdata_parse(q->a, x, &d, &why) == -1 ||
	    (f = xdata_field(&d, "muc#register_roomnick")) == NULL ||
	    f->nvalues != 1) {
		muc_error(q, XERR_BAD_REQUEST, NULL);
		return;
	}
	if (jid_resourceprep(f->values[0], nick) == -1 || *nick == '\0') {
		muc_error(q, XERR_JID_MALFORMED, NULL);
		return;
	}
	p = map_get(r->by_nick, nick);
	if ((p != NULL && strcmp(p->bare, q->bare) != 0) ||
	    muc_nick_taken(r, nick, q->bare)) {
		muc_error(q, XERR_CONFLICT, NULL);
		return;
	}
	if (map_count(r->nicks) >= (size_t)router.conf.muc_max_occupants &&
	    mine == NULL) {
		muc_error(q, XERR_RESOURCE_CONSTRAINT, NULL);
		return;
	}
	free(map_put(r->nicks, q->bare, xstrdup(nick)));
	/* a registration makes a member (7.10, as services commonly do) */
	if (muc_aff(r, q->bare) == AFF_NONE)
		map_put(r->aff, q->bare, (void *)(intptr_t)(AFF_MEMBER + 1));
done:
	muc_room_save(r);
	iq_make_result(q->el, q->a);
	muc_send_tree(q->el);
}

/* XEP-0425 4: moderators retract a message of the room */
void
muc_moderate_iq(struct muc_req *q, struct xnode *m)
{
	struct muc_occ	*me = muc_occ_of(q->room, q->from);
	struct buf	 b;
	const char	*id = xnode_attr(m, "id"), *reason;
	char		 from[JID_STR_MAX + 1];
	bool		 theirs;
	int		 rc;

	if (me == NULL || me->role != ROLE_MODERATOR) {
		muc_error(q, XERR_FORBIDDEN, NULL);
		return;
	}
	if (id == NULL || xnode_child(m, NS_RETRACT, "retract") == NULL) {
		muc_error(q, XERR_BAD_REQUEST, NULL);
		return;
	}
	if (muc_hist_retract(q->room, id, NULL, &theirs) == -1) {
		muc_error(q, XERR_ITEM_NOT_FOUND, NULL);
		return;
	}
	reason = muc_text(q->a, m, NS_MODERATE, "reason");
	muc_occ_jid(from, q->room, me->nick);
	buf_init(&b, LINK_STANZA_MAX);
	rc = buf_puts(&b, "<message type='groupchat' from='") |
	    xml_escape(&b, q->room->jid, strlen(q->room->jid)) |
	    buf_puts(&b, "'><retract xmlns='" NS_RETRACT "' id='") |
	    xml_escape(&b, id, strlen(id)) |
	    buf_puts(&b, "'><moderated xmlns='" NS_MODERATE "' by='") |
	    xml_escape(&b, from, strlen(from)) |
	    buf_puts(&b, "'><occupant-id xmlns='" NS_OCCUPANT_ID "' id='") |
	    buf_puts(&b, me->occid) | buf_puts(&b, "'/></moderated>");
	if (reason != NULL && *reason != '\0')
		rc |= buf_puts(&b, "<reason>") |
		    xml_escape(&b, reason, strlen(reason)) |
		    buf_puts(&b, "</reason>");
	rc |= buf_puts(&b, "</retract></message>");
	if (rc == 0)
		muc_broadcast(q->room, KIND_MESSAGE, MTYPE_GROUPCHAT,
		    q->room->jid, buf_rptr(&b), buf_avail(&b));
	buf_clear(&b);
	iq_make_result(q->el, q->a);
	muc_send_tree(q->el);
}
