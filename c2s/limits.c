/*
 * What one client address or one session may cost this c2s process:
 * connections per address (c2s-max-per-address), failed logins per
 * address (auth-fail-max per AUTH_WINDOW), and the stanza rate of a bound
 * session (c2s-stanza-rate: a token bucket; a client over it is simply
 * read later, nothing it sent is dropped). Addresses are counted under
 * common/peer.c's keys. It also tells the client the stream's own limits
 * (XEP-0478), so that a client can keep under them.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "c2s.h"

#define AUTH_WINDOW	600.0	/* seconds over which failures count */

struct peer {
	int		 conns;
	int		 failures;
	ev_tstamp	 window;	/* start of the failure window */
	bool		 warned;
};

static struct map	*peers;		/* address key -> struct peer */

static struct peer *
peer_get(const char *key)
{
	struct peer	*p;

	if (peers == NULL)
		peers = map_new();
	if ((p = map_get(peers, key)) == NULL) {
		p = xcalloc(1, sizeof(*p));
		map_put(peers, key, p);
	}
	return p;
}

/* a peer with nothing to remember is forgotten: the map stays bounded */
static void
peer_maybe_free(const char *key, struct peer *p)
{
	if (p->conns == 0 && (p->failures == 0 ||
	    clock_now() - p->window >= AUTH_WINDOW)) {
		map_del(peers, key);
		free(p);
	}
}

bool
limits_addr_open(const char *key)
{
	struct peer	*p = peer_get(key);

	if (c2s.conf.c2s_max_per_address > 0 &&
	    p->conns >= c2s.conf.c2s_max_per_address) {
		if (!p->warned)
			log_warnx("%s: c2s-max-per-address (%d) reached; "
			    "refusing its connections", key,
			    c2s.conf.c2s_max_per_address);
		p->warned = true;
		peer_maybe_free(key, p);
		return false;
	}
	p->conns++;
	return true;
}

void
limits_addr_close(const char *key)
{
	struct peer	*p;

	if (peers == NULL || (p = map_get(peers, key)) == NULL)
		return;
	if (--p->conns < c2s.conf.c2s_max_per_address)
		p->warned = false;
	peer_maybe_free(key, p);
}

bool
limits_conn_open(struct stream *st)
{
	if (!limits_addr_open(st->peer))
		return false;
	st->counted = true;
	return true;
}

void
limits_conn_close(struct stream *st)
{
	if (!st->counted)
		return;
	st->counted = false;
	limits_addr_close(st->peer);
}

bool
limits_auth_blocked(struct stream *st)
{
	struct peer	*p;

	if (c2s.conf.auth_fail_max == 0 || peers == NULL ||
	    (p = map_get(peers, st->peer)) == NULL)
		return false;
	if (clock_now() - p->window >= AUTH_WINDOW) {
		p->failures = 0;
		return false;
	}
	return p->failures >= c2s.conf.auth_fail_max;
}

void
limits_auth_failed(struct stream *st)
{
	struct peer	*p = peer_get(st->peer);
	double		 now = clock_now();

	if (p->failures == 0 || now - p->window >= AUTH_WINDOW) {
		p->failures = 0;
		p->window = now;
	}
	if (++p->failures == c2s.conf.auth_fail_max)
		log_warnx("%s: %d failed logins within %.0f minutes: further "
		    "attempts are refused for the rest of the window",
		    st->peer, p->failures, AUTH_WINDOW / 60);
}

static void
limits_refill(struct stream *st)
{
	double	rate = c2s.conf.c2s_stanza_rate, now = clock_now();

	if (st->tokens_at == 0)
		st->tokens = 2 * rate;		/* a new session: a full burst */
	else {
		st->tokens += (now - st->tokens_at) * rate;
		if (st->tokens > 2 * rate)
			st->tokens = 2 * rate;
	}
	st->tokens_at = now;
}

double
limits_stanza_wait(struct stream *st)
{
	double	rate = c2s.conf.c2s_stanza_rate;

	if (rate <= 0)
		return 0;
	limits_refill(st);
	return st->tokens >= 1 ? 0 : (1 - st->tokens) / rate;
}

void
limits_stanza_take(struct stream *st)
{
	if (c2s.conf.c2s_stanza_rate > 0)
		st->tokens -= 1;
}

/*
 * XEP-0478 in every features list, since the limits change with
 * authentication: before it the pre-authentication element limit
 * (c2s-max-stanza-size-preauth), after it max-stanza-size (and over BOSH
 * no more than an HTTP body may carry). idle-seconds only once
 * authenticated: before that negotiation-timeout bounds the whole
 * negotiation, traffic or not, which is no idle limit. Not beside a
 * required STARTTLS, which RFC 6120 5.3.1 wants offered alone.
 */
void
limits_features(const struct stream *st, struct buf *b)
{
	size_t	max;

	/* RFC 6120 5.3.1: STARTTLS required is offered alone */
	if (!st->tls_on && st->web == NULL && c2s.conf.c2s_require_tls)
		return;
	if (!st->authed) {
		(void)buf_printf(b, "<limits xmlns='" NS_STREAM_LIMITS "'>"
		    "<max-bytes>%zu</max-bytes></limits>",
		    c2s.conf.c2s_max_stanza_preauth);
		return;
	}
	max = c2s.conf.max_stanza_size;
	if (st->web_max != 0 && st->web_max < max)
		max = st->web_max;
	(void)buf_printf(b, "<limits xmlns='" NS_STREAM_LIMITS "'>"
	    "<max-bytes>%zu</max-bytes><idle-seconds>%d</idle-seconds>"
	    "</limits>", max, c2s.conf.idle_timeout);
}
