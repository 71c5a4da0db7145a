/*
 * Messages to a room and its occupants (XEP-0045 7.4-7.5, 7.8, 7.13,
 * 8.1): groupchat with the room's stanza-id and occupant ids, archived;
 * an author's retraction (XEP-0424); the subject; private messages;
 * invitations and declines; voice requests; bounces that remove ghosts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/xdata.h"
#include "mam.h"
#include "muc.h"
#include "router.h"

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

/*
 * Elements a sender may not bring in: ours (XEP-0359 7, XEP-0421 4), and
 * the room's muc#user <x/> (XEP-0045 7.5, 8: status codes, an item with a
 * real JID or an affiliation are the room's to say, and a private message
 * gets the room's own)
 */
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
		    strcmp(c->ns, NS_OCCUPANT_ID) == 0 ||
		    (strcmp(c->ns, NS_MUC_USER) == 0 &&
		    strcmp(c->name, "x") == 0))) {
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

/*
 * XEP-0424 by the author: the message the room's stanza-id names leaves
 * the history and the archive if it carries the sender's occupant id,
 * the room's hash of the real bare JID (not the nick: another account
 * may hold it now). Another account's message is refused: only the
 * room knows the author for sure, and a client that skips its own check
 * (XEP-0424 6) would be fooled. One the room no longer holds (gone,
 * never archived) goes out as it came: nothing to check it against.
 */
static int
retract_own(struct muc_req *q, struct muc_occ *o, const char *id)
{
	bool	theirs;

	if (muc_hist_retract(q->room, id, o->occid, &theirs) == -1 &&
	    theirs) {
		muc_error(q, XERR_FORBIDDEN, "not your message");
		return -1;
	}
	return 0;
}

static void
groupchat(struct muc_req *q)
{
	struct muc_occ	*o = muc_occ_of(q->room, q->from);
	struct xnode	*subj, *n;
	struct buf	 b;
	const char	*rid;
	char		 from[JID_STR_MAX + 1], sid[MAM_SID_LEN + 40];
	uint64_t	 rnd[2];
	bool		 body, keep;

	if (o == NULL) {
		/* 7.4 */
		muc_error(q, XERR_NOT_ACCEPTABLE, "not joined");
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
	if ((rid = retract_id(q->el)) != NULL && retract_own(q, o, rid) == -1)
		return;
	/* XEP-0424 5: the retraction is kept, with a body or without */
	keep = body || xnode_child(q->el, NS_RETRACT, "retract") != NULL;
	strip_claims(q->room, q->el);
	muc_occ_jid(from, q->room, o->nick);
	xnode_set_attr(q->a, q->el, "from", from);
	xnode_set_attr(q->a, q->el, "to", NULL);
	n = xnode_add(q->a, q->el, NS_OCCUPANT_ID, "occupant-id");
	xnode_set_attr(q->a, n, "id", o->occid);
	buf_init(&b, LINK_STANZA_MAX);
	/*
	 * XEP-0313 on the room: archived as sent, with its namespace, and
	 * the archive's id is the room's stanza-id; else a random one
	 */
	if (!keep || !router.conf.archive || xnode_write(&b, q->el, "") ==
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
		if (keep && !router.conf.archive)
			muc_hist_add(q->room, buf_rptr(&b), buf_avail(&b), sid);
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
	muc_occ_jid(from, q->room, o->nick);
	xnode_set_attr(q->a, q->el, "from", from);
	xnode_set_attr(q->a, q->el, "to", NULL);
	xnode_add(q->a, q->el, NS_MUC_USER, "x");
	buf_init(&b, LINK_STANZA_MAX);
	if (xnode_write(&b, q->el, NS_CLIENT) == 0) {
		muc_send_begin(KIND_MESSAGE, q->type, from, buf_rptr(&b),
		    buf_avail(&b));
		muc_send_res(t);
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
	bool		 self;

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
	/* all or none: an error after some went out would mislead */
	for (inv = xnode_child(ux, NS_MUC_USER, "invite"); inv != NULL &&
	    k < MUC_INVITES_MAX; inv = xnode_next(inv, NS_MUC_USER,
	    "invite"), k++) {
		if ((to = xnode_attr(inv, "to")) == NULL ||
		    jid_parse(&j, to) == -1) {
			muc_error(q, XERR_JID_MALFORMED, NULL);
			return;
		}
		self = j.node != NULL &&
		    strcmp(j.node, q->room->node) == 0 &&
		    strcmp(j.domain, q->room->service) == 0;
		jid_clear(&j);
		if (self) {
			/* the room would send itself what it refuses */
			muc_error(q, XERR_NOT_ACCEPTABLE, "that is this room");
			return;
		}
	}
	for (inv = xnode_child(ux, NS_MUC_USER, "invite"), k = 0;
	    inv != NULL && k < MUC_INVITES_MAX; inv = xnode_next(inv,
	    NS_MUC_USER, "invite"), k++) {
		to = xnode_attr(inv, "to");
		if (jid_parse(&j, to) == -1)
			continue;	/* checked above */
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

/* 8.6: a moderator's answer to a voice request: voice, or nothing */
static void
voice_answer(struct muc_req *q, const struct xdata *d)
{
	const struct xdata_field	*allow, *nick;
	struct muc_occ			*t;

	allow = xdata_field(d, "muc#request_allow");
	nick = xdata_field(d, "muc#roomnick");
	if (allow == NULL || allow->nvalues != 1 ||
	    xdata_bool(allow->values[0]) != 1)
		return;		/* denied: the requester is not told */
	if (nick == NULL || nick->nvalues != 1 ||
	    (t = map_get(q->room->by_nick, nick->values[0])) == NULL) {
		muc_error(q, XERR_ITEM_NOT_FOUND, NULL);
		return;
	}
	if (t->role == ROLE_VISITOR) {
		t->role = ROLE_PARTICIPANT;
		muc_occ_broadcast(q->room, t, NULL, 0, NULL, NULL);
	}
}

/*
 * 7.13: a visitor asks for voice; the moderators get the form. A
 * moderator's form with muc#request_allow answers one (8.6).
 */
static void
voice_request(struct muc_req *q, struct xnode *form, const struct xdata *d)
{
	struct muc_occ	*o = muc_occ_of(q->room, q->from), *p;
	struct xnode	*m;
	struct buf	 b;

	if (o == NULL) {
		muc_error(q, XERR_NOT_ACCEPTABLE, "not joined");
		return;
	}
	if (o->role == ROLE_MODERATOR &&
	    xdata_field(d, "muc#request_allow") != NULL) {
		voice_answer(q, d);
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
				muc_send_res(p);
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
			voice_request(q, x, &d);
			return;
		}
	}
	/* 7.4: a chat or normal message to the room itself */
	muc_error(q, XERR_BAD_REQUEST, NULL);
}

