/*
 * BOSH requests between c2s workers (docs/internals.md, "Several c2s
 * workers"): a worker that got a request for a session another worker
 * holds sends it here, and the router passes it to that worker by
 * instance and its answer back. The router keeps no state per request;
 * it answers for an owner that is not connected, and tells every worker
 * when one goes, so that no forwarded request waits for a dead one.
 */
#include <string.h>

#include "../common/log.h"
#include "router.h"

/* instances that have had a link since the router started: one bit each */
static uint8_t	boshrelay_seen[(LINK_INSTANCE_MAX + 1) / 8];

static struct rlink *
boshrelay_find(uint32_t instance)
{
	struct rlink	*rl;

	for (rl = router.links; rl != NULL; rl = rl->next)
		if (rl->role == LINK_ROLE_C2S && rl->instance == instance &&
		    rl->l->hello_heard && !rl->l->failed)
			return rl;
	return NULL;
}

static int
boshrelay_answer(struct link *l, uint32_t owner, uint32_t id,
    uint32_t status, uint32_t http, const char *body, size_t len)
{
	struct link_out	m;

	link_begin(&m, l, LINK_BOSH_ANSWER, 0);
	link_put_u32(&m, owner);
	link_put_u32(&m, id);
	link_put_u32(&m, status);
	link_put_u32(&m, http);
	link_put_strn(&m, body, len);
	return link_end(&m);
}

int
boshrelay_frame(struct rlink *rl, const struct link_hdr *h,
    const char *payload)
{
	struct link_in	 in;
	struct link_out	 m;
	struct rlink	*to;
	const char	*client = NULL, *body;
	size_t		 clen = 0, blen;
	uint32_t	 inst, id, status = LINK_BOSH_OK, http = 0;

	link_in_init(&in, payload, h->len);
	link_get_u32(&in, &inst);
	link_get_u32(&in, &id);
	if (h->type == LINK_BOSH_FWD) {
		link_get_strn(&in, &client, &clen);
		link_get_strn(&in, &body, &blen);
	} else {
		link_get_u32(&in, &status);
		link_get_u32(&in, &http);
		link_get_strn(&in, &body, &blen);
	}
	/*
	 * a c2s answers only what it was sent: its answer, or that it is
	 * full; the other statuses are the router's
	 */
	if (!link_in_done(&in) || inst == 0 || inst > LINK_INSTANCE_MAX ||
	    id == 0 || (h->type == LINK_BOSH_ANSWER &&
	    status != LINK_BOSH_OK && status != LINK_BOSH_BUSY))
		return -1;
	to = boshrelay_find(inst);
	if (h->type == LINK_BOSH_ANSWER) {
		if (to == NULL) {
			/* the forwarding worker went, with the connection */
			log_debug("bosh answer for c2s[%u], gone", inst);
			return 0;
		}
		(void)boshrelay_answer(to->l, rl->instance, id, status, http,
		    body, blen);
		return 0;
	}
	if (to == NULL && (h->flags & LINK_F_BOSH_CANCEL))
		return 0;	/* nothing held there to let go of */
	if (to == NULL) {
		/* bounced: the forwarding worker answers the client */
		(void)boshrelay_answer(rl->l, inst, id,
		    boshrelay_seen[inst / 8] & (1u << (inst % 8)) ?
		    LINK_BOSH_DOWN : LINK_BOSH_UNKNOWN, 0, NULL, 0);
		return 0;
	}
	link_begin(&m, to->l, LINK_BOSH_FWD, 0);
	link_set_flags(&m, h->flags & LINK_F_BOSH_CANCEL);
	link_put_u32(&m, rl->instance);
	link_put_u32(&m, id);
	link_put_strn(&m, client, clen);
	link_put_strn(&m, body, blen);
	(void)link_end(&m);
	return 0;
}

void
boshrelay_link_up(struct rlink *rl)
{
	if (rl->instance <= LINK_INSTANCE_MAX)
		boshrelay_seen[rl->instance / 8] |=
		    (uint8_t)(1u << (rl->instance % 8));
}

/* a c2s link went: what was forwarded to it is answered now */
void
boshrelay_link_lost(struct rlink *gone)
{
	struct rlink	*rl;

	/* a second link with a taken instance never had one (links.c) */
	if (gone->role != LINK_ROLE_C2S || gone->instance == 0 ||
	    boshrelay_find(gone->instance) != NULL)
		return;
	for (rl = router.links; rl != NULL; rl = rl->next)
		if (rl != gone && rl->role == LINK_ROLE_C2S &&
		    rl->l->hello_heard && !rl->l->failed)
			(void)boshrelay_answer(rl->l, gone->instance, 0,
			    LINK_BOSH_DOWN, 0, NULL, 0);
}
