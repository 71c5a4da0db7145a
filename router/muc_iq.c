/*
 * IQs between occupants (XEP-0045 7.5 for IQs: a vCard, a version, a
 * ping to room/nick). The room relays them from the sender's occupant
 * JID and writes an id of its own in, so that two senders using the
 * same id cannot take each other's answers; the answer gets its id back
 * and goes to the one who asked. A bounded table with a timeout.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "muc.h"
#include "router.h"

/* requests waiting for their answer, on all services */
#define MUC_IQ_MAX	4096
/* a request unanswered this long is forgotten (no answer then) */
#define MUC_IQ_TIMEOUT	60.0

struct relay {
	char		 id[40];	/* ours, the key */
	char		*orig_id;	/* the sender's, NULL: none */
	char		*asker;		/* its real full JID */
	char		*target;	/* the real full JID asked */
	char		*room;		/* the room's JID */
	char		*nick;		/* the target's nick then */
	double		 until;
	struct relay	*prev, *next;	/* oldest first */
};

static struct {
	struct map	*by_id;
	struct relay	*first, *last;
	struct ctimer	 timer;
	bool		 timer_init;
} iqs;

static void
relay_free(struct relay *e)
{
	map_del(iqs.by_id, e->id);
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		iqs.first = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		iqs.last = e->prev;
	free(e->orig_id);
	free(e->asker);
	free(e->target);
	free(e->room);
	free(e->nick);
	free(e);
}

/* the expired go; the timer is armed for the oldest left */
static void
relay_expire(void)
{
	double	now = clock_now();

	while (iqs.first != NULL && iqs.first->until <= now) {
		log_debug("muc: iq %s to %s unanswered, forgotten",
		    log_escs(iqs.first->id), log_escs(iqs.first->target));
		relay_free(iqs.first);
	}
	if (iqs.first != NULL)
		ctimer_start(&iqs.timer, iqs.first->until - now);
	else
		ctimer_stop(&iqs.timer);
}

static void
relay_due(struct ctimer *t)
{
	(void)t;
	relay_expire();
}

void
muc_iq_relay(struct muc_req *q, const struct muc_occ *me,
    const struct muc_occ *t)
{
	struct relay	*e;
	uint64_t	 rnd[2];
	const char	*id = xnode_attr(q->el, "id");
	char		 from[JID_STR_MAX + 1];

	if (iqs.by_id == NULL)
		iqs.by_id = map_new();
	if (!iqs.timer_init) {
		ctimer_init(&iqs.timer, relay_due);
		iqs.timer_init = true;
	}
	relay_expire();
	muc_occ_jid(from, q->room, me->nick);
	if (muc_blocked_by(t->res[0], from)) {
		/* XEP-0191 3.5: an IQ to a user who blocks its sender */
		muc_error(q, XERR_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	if (map_count(iqs.by_id) >= MUC_IQ_MAX) {
		muc_error(q, XERR_RESOURCE_CONSTRAINT, "too many requests");
		return;
	}
	e = xcalloc(1, sizeof(*e));
	do {
		random_bytes(rnd, sizeof(rnd));
		memcpy(e->id, "muc", 3);
		hex_encode(e->id + 3, rnd, sizeof(rnd));
	} while (map_get(iqs.by_id, e->id) != NULL);
	e->orig_id = id != NULL ? xstrdup(id) : NULL;
	e->asker = xstrdup(q->from);
	e->target = xstrdup(t->res[0]);
	e->room = xstrdup(q->room->jid);
	e->nick = xstrdup(t->nick);
	e->until = clock_now() + MUC_IQ_TIMEOUT;
	e->prev = iqs.last;
	if (iqs.last != NULL)
		iqs.last->next = e;
	else
		iqs.first = e;
	iqs.last = e;
	map_put(iqs.by_id, e->id, e);
	if (!ctimer_active(&iqs.timer))
		ctimer_start(&iqs.timer, MUC_IQ_TIMEOUT);
	xnode_set_attr(q->a, q->el, "id", e->id);
	xnode_set_attr(q->a, q->el, "from", from);
	xnode_set_attr(q->a, q->el, "to", e->target);
	muc_send_tree(q->el);
}

void
muc_iq_answer(struct muc_req *q)
{
	struct relay	*e;
	const char	*id = xnode_attr(q->el, "id");
	char		 from[JID_STR_MAX + 1];

	/* only the session asked answers, in the room it was asked in */
	if (id == NULL || iqs.by_id == NULL ||
	    (e = map_get(iqs.by_id, id)) == NULL ||
	    strcmp(e->target, q->from) != 0 || q->room == NULL ||
	    strcmp(e->room, q->room->jid) != 0)
		return;
	xnode_set_attr(q->a, q->el, "id", e->orig_id);
	xnode_set_attr(q->a, q->el, "from", muc_occ_jid(from, q->room,
	    e->nick));
	xnode_set_attr(q->a, q->el, "to", e->asker);
	muc_send_tree(q->el);
	relay_free(e);
}

void
muc_iq_clear(void)
{
	while (iqs.first != NULL)
		relay_free(iqs.first);
	if (iqs.timer_init)
		ctimer_stop(&iqs.timer);
	map_free(iqs.by_id, NULL);
	iqs.by_id = NULL;
}
