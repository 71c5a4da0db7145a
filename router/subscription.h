/*
 * The subscription state machine of RFC 6121 Appendix A, without I/O:
 * one step changes the state kept in a roster item and says what the
 * caller must do (store, route or deliver, answer, send presence).
 * router/presence.c does the I/O; tests/unit/test_subscription.c runs
 * the appendix's tables against it.
 */
#ifndef PARLEY_SUBSCRIPTION_H
#define PARLEY_SUBSCRIPTION_H

#include "../storage/store.h"

/* what a step asks of the caller, in this order */
#define SUB_ACT_CHANGED		0x01	/* store the item and push it */
#define SUB_ACT_PASS		0x02	/* route it (outbound) or deliver
					   it to the user (inbound) */
#define SUB_ACT_SUBSCRIBED	0x04	/* inbound: answer 'subscribed' for
					   the user (A.3.1, 3.4) */
#define SUB_ACT_CURRENT		0x08	/* the contact may now see the user:
					   send the current presence */
#define SUB_ACT_UNAVAILABLE	0x10	/* the contact may no longer see the
					   user: send unavailable */

/*
 * A subscription stanza of type (PRES_SUBSCRIBE .. PRES_UNSUBSCRIBED)
 * that the user sends to the contact of it (A.2), or that the contact
 * sends to the user (A.3). it borrows; only sub, ask, pending_in,
 * preapproved and hidden change; pending_xml is the caller's. Returns
 * the SUB_ACT_* bits.
 */
int	 subscription_out(struct roster_item *it, int type);
int	 subscription_in(struct roster_item *it, int type);

#endif
