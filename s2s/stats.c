/*
 * The router's view of our connections, for /metrics: every few seconds
 * the count of connections per state and direction (LINK_S2S_COUNTS).
 * The router keeps the last counts; it has no other way to know them.
 */
#include <string.h>

#include "../common/link.h"
#include "../common/map.h"
#include "../common/util.h"
#include "s2s.h"

#define STATS_INTERVAL	5.0	/* seconds between reports */

/* enum conn_state's names, in its order */
static const char *const state_names[] = {
	"connecting", "handshake", "header", "features", "starttls", "sasl",
	"dialback", "open", "closing"
};

static ev_timer	stats_timer;

struct counts {
	uint32_t	in[CS_CLOSING + 1];
	uint32_t	out[CS_CLOSING + 1];
};

static int
count_cb(const void *key, size_t len, void *val, void *arg)
{
	struct conn	*c = val;
	struct counts	*n = arg;

	(void)key;
	(void)len;
	if (c->state <= CS_CLOSING) {
		if (c->outgoing)
			n->out[c->state]++;
		else
			n->in[c->state]++;
	}
	return 0;
}

static void
stats_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct link_out	 m;
	struct counts	 n;
	size_t		 i;

	(void)loop;
	(void)w;
	(void)revents;
	if (!uplink_up())
		return;
	memset(&n, 0, sizeof(n));
	map_foreach(s2s.conns, count_cb, &n);
	link_begin(&m, s2s.up, LINK_S2S_COUNTS, 0);
	link_put_u32(&m, (uint32_t)nitems(state_names));
	for (i = 0; i < nitems(state_names); i++) {
		link_put_str(&m, state_names[i]);
		link_put_u32(&m, n.in[i]);
		link_put_u32(&m, n.out[i]);
	}
	link_end(&m);
}

void
stats_start(void)
{
	_Static_assert(nitems(state_names) == CS_CLOSING + 1,
	    "a name for each connection state");
	ev_timer_init(&stats_timer, stats_cb, 0.5, STATS_INTERVAL);
	ev_timer_start(s2s.loop, &stats_timer);
}
