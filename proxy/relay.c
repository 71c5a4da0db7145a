/*
 * The proxy's connections: SOCKS5 handshake, the wait for activation
 * keyed by stream hash, and the relay between the two of a pair with
 * backpressure (a side whose peer's output passes PCONN_HIGH stops
 * being read), a rate bucket per direction (proxy-rate) and a byte cap
 * per transfer (proxy-max-bytes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "proxy.h"

static void	relay_event(struct transport *, enum tp_event, const char *,
		    size_t, void *);

/* off the waiting list of its hash */
static void
pconn_unlist(struct pconn *pc)
{
	struct pconn	*head, **pp;

	if (pc->state != PC_WAITING)
		return;
	head = map_get(proxy.waiting, pc->s5.hash);
	for (pp = &head; *pp != NULL; pp = &(*pp)->next_same)
		if (*pp == pc) {
			*pp = pc->next_same;
			break;
		}
	if (head == NULL)
		(void)map_del(proxy.waiting, pc->s5.hash);
	else
		(void)map_put(proxy.waiting, pc->s5.hash, head);
	pc->next_same = NULL;
}

/* closes pc (its queued output still goes) and, when paired, its peer */
static void
pconn_close(struct pconn *pc, const char *why)
{
	struct pconn	*peer = pc->peer;

	if (pc->state == PC_CLOSED)
		return;
	log_debug("proxy %llu closed: %s", (unsigned long long)pc->id, why);
	pconn_unlist(pc);
	if (pc->counted) {
		proxy.npending--;
		pc->counted = false;
	}
	if (pc->state == PC_RELAY && peer != NULL)
		proxy.nrelays--;
	pc->state = PC_CLOSED;
	ctimer_stop(&pc->rate);
	tp_close(&pc->tp);
	if (peer != NULL) {
		pc->peer = NULL;
		peer->peer = NULL;
		peer->state = PC_CLOSED;
		ctimer_stop(&peer->rate);
		log_debug("proxy %llu closed: its peer closed",
		    (unsigned long long)peer->id);
		tp_close(&peer->tp);
	}
}

/* reading pc goes on unless its peer is full or it holds bytes back */
static void
pconn_flow(struct pconn *pc)
{
	if (pc->state != PC_RELAY)
		return;
	if (pc->held || buf_avail(&pc->hold) > 0)
		tp_pause(&pc->tp);
	else
		tp_resume(&pc->tp);
}

/*
 * Sends on what pc holds, as far as the rate allows: a token bucket of
 * proxy-rate bytes per second holding one second's worth. What is left
 * waits for the timer, and pc is not read meanwhile, so a side holds at
 * most one read (TP_READ_BUDGET) back.
 */
static void
pconn_pump(struct pconn *pc)
{
	struct pconn	*peer = pc->peer;
	double		 rate = (double)proxy.conf.proxy_rate, now;
	size_t		 n = buf_avail(&pc->hold);

	if (peer == NULL || n == 0)
		return;
	if (rate > 0) {
		now = clock_now();
		pc->tokens += (now - pc->refilled) * rate;
		if (pc->tokens > rate)
			pc->tokens = rate;
		pc->refilled = now;
		if ((double)n > pc->tokens)
			n = pc->tokens > 0 ? (size_t)pc->tokens : 0;
		pc->tokens -= (double)n;
	}
	if (n > 0 && tp_write(&peer->tp, buf_rptr(&pc->hold), n) == -1) {
		pconn_close(pc, "peer output full");
		return;
	}
	buf_consume(&pc->hold, n);
	if (tp_out_pending(&peer->tp) > PCONN_HIGH)
		pc->held = true;
	if ((n = buf_avail(&pc->hold)) > 0)
		ctimer_start(&pc->rate, ((double)n < rate ? (double)n :
		    rate) / rate);
	pconn_flow(pc);
}

static void
pconn_rate_cb(struct ctimer *t)
{
	pconn_pump(container_of(t, struct pconn, rate));
}

static void
pconn_relay(struct pconn *pc, const char *data, size_t len)
{
	struct pconn	*peer = pc->peer;

	pc->bytes += len;
	if (pc->bytes + peer->bytes > proxy.conf.proxy_max_bytes) {
		log_info("proxy %llu: proxy-max-bytes (%zu) reached; closing "
		    "the transfer", (unsigned long long)pc->id,
		    proxy.conf.proxy_max_bytes);
		pconn_close(pc, "proxy-max-bytes");
		return;
	}
	if (buf_append(&pc->hold, data, len) == -1) {
		pconn_close(pc, "held bytes over the cap");
		return;
	}
	/* activity either way keeps the pair alive */
	tp_set_timeout(&pc->tp, proxy.conf.proxy_idle_timeout);
	tp_set_timeout(&peer->tp, proxy.conf.proxy_idle_timeout);
	pconn_pump(pc);
}

/* the SOCKS5 handshake's bytes; the hash goes on the waiting list */
static void
pconn_handshake(struct pconn *pc, const char *data, size_t len)
{
	struct buf	 rep;
	struct pconn	*head;
	ssize_t		 used;

	if (buf_append(&pc->in, data, len) == -1) {
		pconn_close(pc, "handshake too long");
		return;
	}
	buf_init(&rep, 0);
	used = socks5_feed(&pc->s5, buf_rptr(&pc->in), buf_avail(&pc->in),
	    &rep);
	if (rep.len > 0)
		(void)tp_write(&pc->tp, rep.data, rep.len);
	buf_clear(&rep);
	if (used == -1) {
		log_info("proxy %llu: SOCKS5: %s", (unsigned long long)pc->id,
		    pc->s5.err);
		pconn_close(pc, pc->s5.err);
		return;
	}
	buf_consume(&pc->in, (size_t)used);
	if (pc->s5.state != SOCKS5_DONE)
		return;
	/* XEP-0065 6.3.3: nothing is relayed before activation */
	if (buf_avail(&pc->in) > 0) {
		pconn_close(pc, "data before activation");
		return;
	}
	buf_clear(&pc->in);
	head = map_get(proxy.waiting, pc->s5.hash);
	/* a pair is two: the target first, then the initiator */
	if (head != NULL && head->next_same != NULL) {
		pconn_close(pc, "a third connection for the hash");
		return;
	}
	pc->state = PC_WAITING;
	if (head == NULL)
		(void)map_put(proxy.waiting, pc->s5.hash, pc);
	else
		head->next_same = pc;
	log_debug("proxy %llu waiting hash=%s", (unsigned long long)pc->id,
	    pc->s5.hash);
}

static void
relay_event(struct transport *tp, enum tp_event ev, const char *data,
    size_t len, void *arg)
{
	struct pconn	*pc = arg;

	(void)tp;
	switch (ev) {
	case TP_DATA_IN:
		if (pc->state == PC_HANDSHAKE)
			pconn_handshake(pc, data, len);
		else if (pc->state == PC_RELAY)
			pconn_relay(pc, data, len);
		else if (pc->state == PC_WAITING)
			pconn_close(pc, "data before activation");
		break;
	case TP_LOW_WATER:
		/* pc's output drained: its peer may send again */
		if (pc->peer != NULL) {
			pc->peer->held = false;
			pconn_flow(pc->peer);
		}
		break;
	case TP_TIMEOUT:
		pconn_close(pc, pc->state == PC_RELAY ? "idle" :
		    "not activated in time");
		break;
	case TP_CLOSED:
		/* the side is done: what the rate held back still goes
		   (one read at most), then the peer closes too */
		if (pc->peer != NULL && buf_avail(&pc->hold) > 0)
			(void)tp_write(&pc->peer->tp, buf_rptr(&pc->hold),
			    buf_avail(&pc->hold));
		pconn_close(pc, "closed by the client");
		break;
	case TP_ERROR:
		pconn_close(pc, data);
		break;
	case TP_GONE:
		pconn_close(pc, "gone");
		ctimer_stop(&pc->rate);
		buf_clear(&pc->in);
		buf_clear(&pc->hold);
		free(pc);
		break;
	default:
		break;
	}
}

struct pconn *
relay_accept(int fd)
{
	static bool	 warned;	/* once per episode, not per socket */
	struct pconn	*pc;

	if (proxy.npending >= proxy.conf.proxy_max_pending) {
		if (!warned)
			log_warnx("proxy-max-pending (%d) reached; refusing "
			    "connections", proxy.conf.proxy_max_pending);
		warned = true;
		if (fd != -1)
			close(fd);
		return NULL;
	}
	warned = false;
	pc = xcalloc(1, sizeof(*pc));
	pc->id = ++proxy.next_id;
	pc->state = PC_HANDSHAKE;
	pc->counted = true;
	proxy.npending++;
	socks5_init(&pc->s5);
	buf_init(&pc->in, SOCKS5_MSG_MAX);
	/* one read's worth: reading stops while anything is held */
	buf_init(&pc->hold, TP_READ_BUDGET);
	ctimer_init(&pc->rate, pconn_rate_cb);
	pc->refilled = clock_now();
	pc->tokens = (double)proxy.conf.proxy_rate;
	tp_init(&pc->tp, PCONN_OUT_MAX, relay_event, pc);
	tp_set_name(&pc->tp, "proxy %llu", (unsigned long long)pc->id);
	tp_set_marks(&pc->tp, PCONN_LOW, PCONN_HIGH);
	tp_open(&pc->tp, fd);
	/* proxy-pending-timeout covers the handshake and the wait */
	tp_set_timeout(&pc->tp, proxy.conf.proxy_pending_timeout);
	log_debug("proxy %llu accepted", (unsigned long long)pc->id);
	return pc;
}

enum link_proxy_status
relay_activate(const char *hash, const char *who)
{
	struct pconn	*target, *initiator;

	target = map_get(proxy.waiting, hash);
	if (target == NULL || (initiator = target->next_same) == NULL) {
		log_info("proxy: activation by %s of hash %s: not two "
		    "connections", log_escs(who), log_escs(hash));
		return LINK_PROXY_NOT_FOUND;
	}
	if (proxy.nrelays >= proxy.conf.proxy_max_relays) {
		log_warnx("proxy-max-relays (%d) reached; refusing an "
		    "activation", proxy.conf.proxy_max_relays);
		return LINK_PROXY_BUSY;
	}
	(void)map_del(proxy.waiting, hash);
	target->next_same = NULL;
	target->state = initiator->state = PC_RELAY;
	target->counted = initiator->counted = false;
	proxy.npending -= 2;
	proxy.nrelays++;
	target->peer = initiator;
	initiator->peer = target;
	tp_set_timeout(&target->tp, proxy.conf.proxy_idle_timeout);
	tp_set_timeout(&initiator->tp, proxy.conf.proxy_idle_timeout);
	log_info("proxy: activated %llu <-> %llu for %s",
	    (unsigned long long)initiator->id,
	    (unsigned long long)target->id, log_escs(who));
	return LINK_PROXY_OK;
}
