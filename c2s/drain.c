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
 * upgrade is one drain per worker. With drain-redirect (a whole host
 * drained), TCP streams end with see-other-host naming another host
 * instead (RFC 6120 4.9.3.19), the resumable ones still hibernating so
 * that their clients resume there.
 */
#include <signal.h>
#include <stdlib.h>

#include "../common/log.h"
#include "../common/util.h"
#include "c2s.h"

/* after the grace: time for the stream errors to go out (TP_LINGER) */
#define DRAIN_LINGER	3.0

#define DRAIN_TEXT	"this server process is being restarted"

static struct ctimer	drain_timer;
static bool		drain_over;	/* the grace passed: stopping */

/*
 * Sends st to drain-redirect; 0, or -1 if none applies. Not to a web
 * transport's stream: WebSocket redirects to a URI (RFC 7395 3.6.1
 * see-other-uri), not to a HOST:PORT.
 */
static int
drain_redirect(struct stream *st)
{
	const char	*to = c2s.conf.drain_redirect;

	if (to == NULL || st->web != NULL)
		return -1;
	stream_error_data(st, SERR_SEE_OTHER_HOST, to, DRAIN_TEXT);
	return 0;
}

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
			/* hibernates: resume elsewhere (or there) */
			st->sm.lost = true;
			if (drain_redirect(st) == -1)
				stream_lost(st);
			gone++;
		} else if (all) {
			if (drain_redirect(st) == -1)
				stream_error(st, SERR_SYSTEM_SHUTDOWN,
				    DRAIN_TEXT);
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
