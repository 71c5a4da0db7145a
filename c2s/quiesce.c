/*
 * A planned router restart, the c2s side (docs/internals.md, "Router
 * restart"). From the router's LINK_QUIESCE until the next router has
 * heard our LINK_HELLO (after which our sessions are announced again,
 * uplink.c), the stanzas clients send are held in their streams, in
 * order, with reading paused (st->held, stream.c), instead of being
 * refused as when the router dies unannounced. The hold is bounded: in
 * bytes by STREAM_HELD_MAX a stream, since reading stops at the first
 * held stanza, and in time by c2s-restart-hold: a router not back by
 * then gets what was held refused (resource-constraint), as today.
 */
#include "../common/log.h"
#include "c2s.h"

static struct ctimer	quiesce_timer;
static bool		quiesce_inited;

static void
quiesce_expired(struct ctimer *t)
{
	(void)t;
	log_warnx("the router is not back after %d s: refusing what "
	    "clients send", c2s.conf.c2s_restart_hold);
	quiesce_end();
}

void
quiesce_start(void)
{
	if (!quiesce_inited) {
		ctimer_init(&quiesce_timer, quiesce_expired);
		quiesce_inited = true;
	}
	if (c2s.holding)
		return;
	c2s.holding = true;
	ctimer_start(&quiesce_timer, c2s.conf.c2s_restart_hold);
	log_info("the router is restarting: holding what clients send, "
	    "%d s at most", c2s.conf.c2s_restart_hold);
}

void
quiesce_end(void)
{
	if (!c2s.holding)
		return;
	c2s.holding = false;
	ctimer_stop(&quiesce_timer);
	stream_release_all();
}
