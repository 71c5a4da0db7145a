/*
 * One server-to-server connection, either direction: the XML stream with
 * its limits, stream errors, TLS set-up (client or server side) and the
 * set-up and idle deadlines. The bytes come and go through the conn's
 * transport (common/transport.h), as the c2s streams' do. What the
 * stream means is in in.c and out.c.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "s2s.h"

static void	conn_on_open(void *, const struct xnode *, const char *);
static void	conn_on_element(void *, struct xnode *, struct arena *);
static void	conn_on_close(void *);

static const struct xstream_cb conn_cbs = {
	conn_on_open, conn_on_element, conn_on_close
};

const char *
conn_name(const struct conn *c)
{
	static char	buf[3 * 1024 + 64];

	snprintf(buf, sizeof(buf), "%s%llu %s %s %s", c->outgoing ? "out" :
	    c->component ? "comp" : "in", (unsigned long long)c->id, c->local ? c->local : "?",
	    c->outgoing ? "->" : "<-", c->remote ? c->remote : "?");
	return buf;
}

struct conn *
conn_find(uint64_t id)
{
	return map_get64(s2s.conns, id);
}

void
conn_write(struct conn *c, const char *p, size_t n)
{
	if (tp_dead(&c->tp))
		return;
	log_trace(TRACE_XML, "%s send %s", conn_name(c),
	    log_esc_redacted(NULL, p, n));
	if (tp_write(&c->tp, p, n) == -1) {
		/* a peer that does not read: the queue was emptied */
		log_info("%s: output queue over %u bytes, closing",
		    conn_name(c), CONN_OUT_MAX);
		conn_error(c, SERR_POLICY_VIOLATION, "output queue limit");
	}
}

void
conn_puts(struct conn *c, const char *s)
{
	conn_write(c, s, strlen(s));
}

void
conn_send_element(struct conn *c, const struct xnode *el)
{
	struct buf	b;

	buf_init(&b, LINK_STANZA_MAX);		/* one stanza */
	if (xnode_write(&b, el, NS_SERVER) == 0)
		conn_write(c, buf_rptr(&b), buf_avail(&b));
	else
		log_warnx("%s: <%s/> too large, not sent", conn_name(c),
		    el->name);
	buf_clear(&b);
}

void
conn_error(struct conn *c, enum stream_err cond, const char *text)
{
	struct buf	b;

	if (c->state == CS_CLOSING || tp_dead(&c->tp))
		return;
	log_info("%s: stream error %s%s%s", conn_name(c),
	    stream_err_name(cond), text ? ": " : "", text ? text : "");
	/* markup and a text; a text that does not fit is left out */
	buf_init(&b, S2S_CTL_MAX);
	/* RFC 6120 4.9.1.1: the header goes first if not yet sent */
	if (!c->header_sent && !c->outgoing) {
		(void)buf_printf(&b, "<?xml version='1.0'?><stream:stream "
		    "xmlns='%s' xmlns:stream='" NS_STREAM "' version='1.0'>",
		    c->component ? NS_COMPONENT : NS_SERVER);
		c->header_sent = true;
	}
	if (c->header_sent) {
		(void)stream_err_xml(&b, cond, text);
		/* after a full queue was emptied: this fits */
		(void)tp_write(&c->tp, buf_rptr(&b), buf_avail(&b));
	}
	buf_clear(&b);
	conn_close(c);
}

/*
 * The conn leaves the table and its pair hears of it: on every way out
 * (a close, or a transport that failed), as a c2s stream does.
 */
static void
conn_forget(struct conn *c)
{
	if (c->gone)
		return;
	c->gone = true;
	c->state = CS_CLOSING;
	if (c->outgoing)
		out_conn_gone(c);
	if (c->component)
		comp_gone(c);
	map_del64(s2s.conns, c->id);
}

/* queued output (an error, </stream:stream>) gets the linger to go */
void
conn_close(struct conn *c)
{
	if (c->gone)
		return;
	conn_forget(c);
	tp_close(&c->tp);
}

static void
conn_kill(struct conn *c)
{
	conn_forget(c);
	tp_kill(&c->tp);
}

static void
conn_free(struct conn *c)
{
	struct conn	**pp;

	for (pp = &s2s.held; *pp != NULL; pp = &(*pp)->next_held)
		if (*pp == c) {
			*pp = c->next_held;
			break;
		}
	xstream_free(c->xs);
	buf_clear(&c->held);
	map_free(c->pairs, NULL);
	listen_peer_gone(c);
	free(c->local);
	free(c->remote);
	free(c);
}

void
conn_update_reading(struct conn *c)
{
	if (c->paused || buf_avail(&c->held) > 0)
		tp_pause(&c->tp);
	else
		tp_resume(&c->tp);
}

/* TLS on the connection now: client (outgoing) or server side */
void
conn_start_tls(struct conn *c, bool client)
{
	gnutls_session_t	s = NULL;
	int			rc;

	if (client) {
		if ((rc = gnutls_init(&s, GNUTLS_CLIENT |
		    GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL)) < 0 ||
		    (rc = gnutls_priority_set(s, s2s.tls.prio)) < 0 ||
		    (rc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
		    c->creds)) < 0 ||
		    (rc = gnutls_server_name_set(s, GNUTLS_NAME_DNS,
		    c->remote, strlen(c->remote))) < 0) {
			log_warnx("%s: tls: %s", conn_name(c),
			    gnutls_strerror(rc));
			if (s != NULL)
				gnutls_deinit(s);
			conn_kill(c);
			return;
		}
	} else {
		if ((s = tls_server_new(&s2s.tls, tp_fd(&c->tp))) == NULL) {
			conn_kill(c);
			return;
		}
		/* a certificate lets the peer use SASL EXTERNAL */
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
	}
	c->state = CS_HANDSHAKE;
	/* after what is queued (<proceed/>) */
	tp_start_tls(&c->tp, s);
}

int
conn_send_header(struct conn *c, struct buf *b, int fail)
{
	if (fail) {
		buf_clear(b);
		/* with a header of its own */
		conn_error(c, SERR_INTERNAL_SERVER_ERROR, "stream header");
		return -1;
	}
	conn_write(c, buf_rptr(b), buf_avail(b));
	buf_clear(b);
	c->header_sent = true;
	c->state = CS_FEATURES;
	return 0;
}

void
conn_new_sid(struct conn *c)
{
	unsigned char	rnd[CONN_ID_LEN / 2];

	random_bytes(rnd, sizeof(rnd));
	hex_encode(c->sid, rnd, sizeof(rnd));
}

/* after TLS or SASL: a new stream on the same connection */
void
conn_restart(struct conn *c)
{
	xstream_reset(c->xs);
	c->header_sent = false;
	c->state = CS_HEADER;
}

static void
conn_timeout(struct conn *c)
{
	double	idle;

	if (c->state != CS_OPEN && (c->pairs == NULL ||
	    map_count(c->pairs) == 0)) {
		if (c->state == CS_CONNECTING || c->state == CS_HANDSHAKE) {
			log_info("%s: timed out", conn_name(c));
			conn_kill(c);
		} else
			conn_error(c, SERR_CONNECTION_TIMEOUT,
			    "negotiation took too long");
		return;
	}
	if (c->component) {
		/* a component is ours: it stays however quiet it is */
		tp_set_timeout(&c->tp, s2s.conf.s2s_idle_timeout);
		return;
	}
	idle = clock_now() - c->last_io;
	if (idle >= s2s.conf.s2s_idle_timeout) {
		log_info("%s: idle, closing", conn_name(c));
		conn_puts(c, "</stream:stream>");
		conn_close(c);
		return;
	}
	tp_set_timeout(&c->tp, s2s.conf.s2s_idle_timeout - idle);
}

void
conn_opened(struct conn *c)
{
	c->state = CS_OPEN;
	tp_set_timeout(&c->tp, s2s.conf.s2s_idle_timeout);
}

static void
conn_data(struct conn *c, const char *data, size_t n)
{
	if (c->state == CS_CLOSING)
		return;
	c->last_io = clock_now();
	log_trace(TRACE_XML, "%s recv %s", conn_name(c),
	    xstream_trace_text(c->xs, data, n));
	if (xstream_feed(c->xs, data, n) == -1)
		conn_error(c, xstream_error(c->xs), xstream_error_text(c->xs));
}

/* the transport's one callback */
static void
conn_event(struct transport *tp, enum tp_event ev, const char *data,
    size_t n, void *arg)
{
	struct conn	*c = arg;

	switch (ev) {
	case TP_DATA_IN:
		conn_data(c, data, n);
		break;
	case TP_TIMEOUT:
		conn_timeout(c);
		break;
	case TP_CLOSED:
		log_debug("%s: closed by peer", conn_name(c));
		conn_close(c);
		break;
	case TP_ERROR:
		log_info("%s: %s", conn_name(c), data);
		conn_forget(c);
		break;
	case TP_CONNECTED:
		out_connected(c);
		break;
	case TP_TLS_DONE:
		c->tls_on = true;
		c->tls = tp->tls;
		conn_restart(c);
		if (c->outgoing)
			out_tls_done(c);
		else
			in_tls_done(c);
		break;
	case TP_GONE:
		conn_free(c);
		break;
	case TP_LOW_WATER:
		break;
	}
}

struct conn *
conn_new(int fd, bool outgoing)
{
	struct conn	*c;

	c = xcalloc(1, sizeof(*c));
	c->id = ++s2s.next_id;
	c->outgoing = outgoing;
	tp_init(&c->tp, CONN_OUT_MAX, conn_event, c);
	tp_set_name(&c->tp, "%s%llu", outgoing ? "out" : "in",
	    (unsigned long long)c->id);
	buf_init(&c->held, CONN_HELD_MAX);
	c->xs = xstream_new(&conn_cbs, c, s2s.conf.max_stanza_size * 2);
	c->last_io = clock_now();
	if (!outgoing)
		tp_open(&c->tp, fd);
	/*
	 * Set-up deadline (in CS_OPEN the same timer checks idleness). An
	 * incoming stream may wait for our own stream to its authoritative
	 * server, which has s2s-connect-timeout to answer: twice that.
	 */
	tp_set_timeout(&c->tp, s2s.conf.s2s_connect_timeout *
	    (outgoing ? 1. : 2.));
	map_put64(s2s.conns, c->id, c);
	return c;
}

/* ---- XML stream callbacks ---------------------------------------------- */

static void
conn_on_open(void *ctx, const struct xnode *hdr, const char *ns)
{
	struct conn	*c = ctx;

	if (c->state != CS_HEADER) {
		conn_error(c, SERR_BAD_FORMAT, NULL);
		return;
	}
	if (strcmp(hdr->ns, NS_STREAM) != 0 ||
	    strcmp(hdr->name, "stream") != 0) {
		conn_error(c, SERR_INVALID_NAMESPACE, NULL);
		return;
	}
	if (c->component) {
		if (strcmp(ns, NS_COMPONENT) != 0)
			conn_error(c, SERR_INVALID_NAMESPACE, "the content "
			    "namespace must be " NS_COMPONENT);
		else
			comp_open(c, hdr);
		return;
	}
	if (strcmp(ns, NS_SERVER) != 0) {
		conn_error(c, SERR_INVALID_NAMESPACE,
		    "the content namespace must be jabber:server");
		return;
	}
	if (c->outgoing)
		out_open(c, hdr, ns);
	else
		in_open(c, hdr, ns);
}

static void
conn_on_element(void *ctx, struct xnode *el, struct arena *a)
{
	struct conn	*c = ctx;

	if (c->state == CS_CLOSING)
		return;
	c->last_io = clock_now();
	if (c->component)
		comp_element(c, el, a);
	else if (c->outgoing)
		out_element(c, el, a);
	else
		in_element(c, el, a);
}

static void
conn_on_close(void *ctx)
{
	struct conn	*c = ctx;

	log_debug("%s: stream closed by peer", conn_name(c));
	if (c->state != CS_CLOSING) {
		conn_puts(c, "</stream:stream>");
		conn_close(c);
	}
	xstream_stop(c->xs);
}
