/*
 * Dead connections (issue 14): a bound client silent for c2s-ping-interval
 * is pinged (XEP-0199, or an XEP-0198 <r/> when stream management is on);
 * if nothing at all arrives within c2s-ping-timeout, the connection is
 * taken for dead and closed, so that contacts see the session end (or
 * hibernate, if resumable) long before a TCP timeout would say so.
 */
#include <stdio.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../common/xml.h"
#include "c2s.h"

#define NS_PING		"urn:xmpp:ping"

static void	ping_timer_cb(struct ctimer *);

void
ping_init(struct stream *st)
{
	ctimer_init(&st->ping.timer, ping_timer_cb);
}

void
ping_free(struct stream *st)
{
	ctimer_stop(&st->ping.timer);
}

/*
 * The timer is armed once per silence, not per read: when it fires it
 * looks at last_read and sleeps again for what is left.
 */
void
ping_start(struct stream *st)
{
	st->ping.out = false;
	if (c2s.conf.c2s_ping_interval > 0)
		ctimer_start(&st->ping.timer, c2s.conf.c2s_ping_interval);
}

static void
ping_send(struct stream *st)
{
	struct buf	*b = &c2s.scratch;

	st->ping.seq++;
	st->ping.out = true;
	st->ping.sent_at = clock_now();
	if (st->sm.on) {
		/* XEP-0198 4: any answer (<a/>) is a sign of life */
		sm_request(st);
	} else {
		buf_reset(b);
		buf_puts(b, "<iq type='get' id='");
		buf_printf(b, "ping-%08x", st->ping.seq);
		buf_puts(b, "' from='");
		xml_escape(b, st->domain, strlen(st->domain));
		buf_puts(b, "' to='");
		xml_escape(b, st->jid, strlen(st->jid));
		buf_puts(b, "'><ping xmlns='" NS_PING "'/></iq>");
		stream_write(st, buf_rptr(b), buf_avail(b));
	}
	log_debug("%016llx silent for %d s: pinged",
	    (unsigned long long)st->sid, c2s.conf.c2s_ping_interval);
	ctimer_start(&st->ping.timer, c2s.conf.c2s_ping_timeout);
}

static void
ping_timer_cb(struct ctimer *t)
{
	struct stream	*st = container_of(t, struct stream, ping.timer);
	double		 idle;

	if (st->state != ST_BOUND || c2s.conf.c2s_ping_interval <= 0)
		return;
	if (st->paused || st->throttled) {
		/* we do not read it (backpressure, its rate): not silence */
		st->ping.out = false;
		ctimer_start(t, c2s.conf.c2s_ping_interval);
		return;
	}
	if (st->ping.out && st->last_read <= st->ping.sent_at) {
		log_info("%016llx no answer to a ping in %d s: connection "
		    "dead", (unsigned long long)st->sid,
		    c2s.conf.c2s_ping_timeout);
		/* a resumable session hibernates (XEP-0198 5) */
		st->sm.lost = true;
		stream_error(st, SERR_CONNECTION_TIMEOUT,
		    "no answer to a ping");
		return;
	}
	st->ping.out = false;
	idle = clock_now() - st->last_read;
	if (idle >= c2s.conf.c2s_ping_interval)
		ping_send(st);
	else
		ctimer_start(t, c2s.conf.c2s_ping_interval - idle);
}

/*
 * 0 when el is the answer (result or error, RFC 6120 8.2.3) to our last
 * ping: consumed here, never routed; 1 if not.
 */
int
ping_element(struct stream *st, const struct xnode *el)
{
	const char	*id, *type, *to;
	char		 want[16];

	if (st->ping.seq == 0 || strcmp(el->name, "iq") != 0 ||
	    strcmp(el->ns, NS_CLIENT) != 0)
		return 1;
	if ((type = xnode_attr(el, "type")) == NULL ||
	    (strcmp(type, "result") != 0 && strcmp(type, "error") != 0))
		return 1;
	if ((to = xnode_attr(el, "to")) != NULL &&
	    strcmp(to, st->domain) != 0)
		return 1;
	(void)snprintf(want, sizeof(want), "ping-%08x", st->ping.seq);
	if ((id = xnode_attr(el, "id")) == NULL || strcmp(id, want) != 0)
		return 1;
	return 0;
}
