/*
 * RFC 6121 Appendix A: the subscription state of one roster item as a
 * pure function of the state and a subscription stanza, so that every
 * cell of the appendix's tables is unit-tested (test_subscription.c).
 */
#include <stdbool.h>

#include "../common/link.h"
#include "subscription.h"

/* A.2: the user's server, for a stanza the user sends */
int
subscription_out(struct roster_item *it, int type)
{
	int	acts = 0;

	switch (type) {
	case PRES_SUBSCRIBE:
		/* A.2.1: always routed; pending out unless subscribed */
		if ((it->sub & SUB_TO) == 0 && !it->ask) {
			it->ask = true;
			acts |= SUB_ACT_CHANGED;
		}
		if (it->hidden) {
			it->hidden = false;	/* 3.1.2: an item */
			acts |= SUB_ACT_CHANGED;
		}
		acts |= SUB_ACT_PASS;
		break;
	case PRES_SUBSCRIBED:
		/* A.2.2: routed only when it answers a pending request */
		if (it->pending_in) {
			it->pending_in = false;
			it->sub |= SUB_FROM;
			it->hidden = false;
			acts |= SUB_ACT_CHANGED | SUB_ACT_PASS |
			    SUB_ACT_CURRENT;	/* 3.1.5 */
		} else if ((it->sub & SUB_FROM) == 0 && !it->preapproved) {
			/* 3.4.1: pre-approval, in the roster, not routed */
			it->preapproved = true;
			it->hidden = false;
			acts |= SUB_ACT_CHANGED;
		}
		break;
	case PRES_UNSUBSCRIBE:
		/* A.2.3: always routed */
		if ((it->sub & SUB_TO) != 0 || it->ask) {
			it->sub &= ~SUB_TO;
			it->ask = false;
			acts |= SUB_ACT_CHANGED;
		}
		acts |= SUB_ACT_PASS;
		break;
	case PRES_UNSUBSCRIBED:
		/* A.2.4: routed only when it cancels or denies; 3.4 it
		   also withdraws a pre-approval, which the contact never
		   learnt of */
		if ((it->sub & SUB_FROM) != 0 || it->pending_in)
			acts |= SUB_ACT_PASS;
		if ((it->sub & SUB_FROM) != 0)
			acts |= SUB_ACT_UNAVAILABLE;	/* 3.2.2 */
		if ((acts & SUB_ACT_PASS) != 0 || it->preapproved) {
			it->sub &= ~SUB_FROM;
			it->pending_in = it->preapproved = false;
			acts |= SUB_ACT_CHANGED;
		}
		break;
	}
	return acts;
}

/* A.3: the user's server, for a stanza the contact sends to the user */
int
subscription_in(struct roster_item *it, int type)
{
	int	acts = 0;

	switch (type) {
	case PRES_SUBSCRIBE:
		if ((it->sub & SUB_FROM) != 0) {
			/* A.3.1: already approved: say so again */
			acts |= SUB_ACT_SUBSCRIBED;
		} else if (it->preapproved) {
			/* 3.4.2: approved in advance, the user is not asked */
			it->preapproved = false;
			it->sub |= SUB_FROM;
			acts |= SUB_ACT_CHANGED | SUB_ACT_SUBSCRIBED |
			    SUB_ACT_CURRENT;
		} else if (!it->pending_in) {
			/* A.3.1: a request already known is not again */
			it->pending_in = true;
			acts |= SUB_ACT_CHANGED | SUB_ACT_PASS;
		}
		break;
	case PRES_SUBSCRIBED:
		/* A.3.2: only an answer to the user's own request counts */
		if (it->ask) {
			it->ask = false;
			it->sub |= SUB_TO;
			acts |= SUB_ACT_CHANGED | SUB_ACT_PASS;
		}
		break;
	case PRES_UNSUBSCRIBE:
		/* A.3.3, 3.3.3: the contact no longer sees the user */
		if ((it->sub & SUB_FROM) != 0)
			acts |= SUB_ACT_UNAVAILABLE;
		if ((it->sub & SUB_FROM) != 0 || it->pending_in) {
			it->sub &= ~SUB_FROM;
			it->pending_in = false;
			acts |= SUB_ACT_CHANGED | SUB_ACT_PASS;
		}
		break;
	case PRES_UNSUBSCRIBED:
		/* A.3.4 */
		if ((it->sub & SUB_TO) != 0 || it->ask) {
			it->sub &= ~SUB_TO;
			it->ask = false;
			acts |= SUB_ACT_CHANGED | SUB_ACT_PASS;
		}
		break;
	}
	return acts;
}
