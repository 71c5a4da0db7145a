/*
 * Draining (parleyctl drain WORKER, LINK_DRAIN from the router): this
 * process takes no new clients (its listening sockets close, so that
 * SO_REUSEPORT gives every new connection to the other workers), drops
 * the connections of resumable XEP-0198 sessions at once, without a
 * stream close, so that they hibernate at the router and their clients
 * resume on another worker with nothing lost (XEP-0198 5: the router
 * keeps what was not acked), and after the grace period ends every other
 * stream with system-shutdown (RFC 6120 4.9.3.21), then stops. The
 * supervisor starts it again, from the binary now installed: a rolling
 * upgrade is one drain per worker.
 */
#include <signal.h>
#include <stdlib.h>

#include "../common/log.h"
#include "../common/util.h"
#include "c2s.h"

/* after the grace: time for the stream errors to go out (TP_LINGER) */
#define DRAIN_LINGER	3.0

static struct ctimer	drain_timer;
static bool		drain_over;	/* the grace passed: stopping */

/* the resumable streams, or all */
static void
drain_streams(bool all)
{
	struct stream	**v, *st;
	size_t		  i, n, gone = 0;

	n = stream_list(&v);
	for (i = 0; i < n; i++) {
		st = v[i];
		if (st->sm.on && st->sm.resumable) {
			stream_lost(st);	/* hibernates: resume elsewhere */
			gone++;
		} else if (all) {
			stream_error(st, SERR_SYSTEM_SHUTDOWN,
			    "this server process is being restarted");
			gone++;
		}
	}
	free(v);
	log_info("draining: %zu of %zu streams ended%s", gone, n,
	    all ? "" : " (the resumable ones)");
}

static void
drain_timer_cb(struct ctimer *t)
{
	if (!drain_over) {
		drain_over = true;
		drain_streams(true);
		ctimer_start(t, DRAIN_LINGER);
		return;
	}
	log_info("drained: stopping");
	/* the process's own way out (proc_run), as from the supervisor */
	raise(SIGTERM);
}

void
drain_start(uint32_t grace)
{
	if (c2s.draining)
		return;
	c2s.draining = true;
	log_info("draining: no new clients; the others end in %u s", grace);
	listen_close();
	drain_streams(false);
	ctimer_init(&drain_timer, drain_timer_cb);
	ctimer_start(&drain_timer, grace);
}
