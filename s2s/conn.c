/*
 * One server-to-server connection, either direction: socket and TLS I/O
 * (client or server side), the XML stream with its limits, stream
 * errors, and the deferred flush and free of the event loop (the same
 * discipline as the c2s streams: callbacks queue output, one prepare
 * pass writes it and frees what was closed). What the stream means is
 * in in.c and out.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "s2s.h"

#define CONN_READ_CHUNK		16384
#define CONN_READ_BUDGET	(4 * CONN_READ_CHUNK)
#define CONN_LINGER		2.0

static void	conn_on_open(void *, const struct xnode *, const char *);
static void	conn_on_element(void *, struct xnode *, struct arena *);
static void	conn_on_close(void *);
static void	conn_handshake(struct conn *);
static int	conn_flush(struct conn *);

static const struct xstream_cb conn_cbs = {
	conn_on_open, conn_on_element, conn_on_close
};

const char *
conn_name(const struct conn *c)
{
	static char	buf[3 * 1024 + 64];

	snprintf(buf, sizeof(buf), "%s%llu %s %s %s", c->outgoing ? "out" :
	    "in", (unsigned long long)c->id, c->local ? c->local : "?",
	    c->outgoing ? "->" : "<-", c->remote ? c->remote : "?");
	return buf;
}

struct conn *
conn_find(uint64_t id)
{
	return map_get64(s2s.conns, id);
}

static void
conn_mark_dirty(struct conn *c)
{
	if (!c->dirty && !c->dead) {
		c->dirty = true;
		c->next_dirty = s2s.dirty;
		s2s.dirty = c;
	}
}

void
conn_write(struct conn *c, const char *p, size_t n)
{
	if (c->dead)
		return;
	log_trace(TRACE_XML, "%s send %s", conn_name(c),
	    log_esc_redacted(NULL, p, n));
	if (buf_append(&c->out, p, n) == -1) {
		log_info("%s: output queue over %u bytes, closing",
		    conn_name(c), CONN_OUT_MAX);
		buf_reset(&c->out);
		c->tls_retry = false;
		conn_error(c, SERR_POLICY_VIOLATION, "output queue limit");
		return;
	}
	conn_mark_dirty(c);
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

	buf_init(&b, 0);
	if (xnode_write(&b, el, NS_SERVER) == 0)
		conn_write(c, buf_rptr(&b), buf_avail(&b));
	buf_clear(&b);
}

void
conn_error(struct conn *c, enum stream_err cond, const char *text)
{
	struct buf	b;

	if (c->state == CS_CLOSING || c->dead)
		return;
	log_info("%s: stream error %s%s%s", conn_name(c),
	    stream_err_name(cond), text ? ": " : "", text ? text : "");
	buf_init(&b, 0);
	/* RFC 6120 4.9.1.1: the header goes first if not yet sent */
	if (!c->header_sent && !c->outgoing) {
		buf_puts(&b, "<?xml version='1.0'?><stream:stream xmlns='"
		    NS_SERVER "' xmlns:stream='" NS_STREAM "' version='1.0'>");
		c->header_sent = true;
	}
	if (c->header_sent) {
		buf_printf(&b, "<stream:error><%s xmlns='" NS_STREAMS_ERR
		    "'/>", stream_err_name(cond));
		if (text != NULL) {
			buf_puts(&b, "<text xmlns='" NS_STREAMS_ERR "'>");
			xml_escape(&b, text, strlen(text));
			buf_puts(&b, "</text>");
		}
		buf_puts(&b, "</stream:error></stream:stream>");
		conn_write(c, buf_rptr(&b), buf_avail(&b));
	}
	buf_clear(&b);
	conn_close(c);
}

static void
conn_kill(struct conn *c)
{
	if (c->dead)
		return;
	if (c->state != CS_CLOSING && c->outgoing)
		out_conn_gone(c);
	c->dead = true;
	c->state = CS_CLOSING;
	ev_io_stop(s2s.loop, &c->rio);
	ev_io_stop(s2s.loop, &c->wio);
	ev_timer_stop(s2s.loop, &c->timer);
	map_del64(s2s.conns, c->id);
	c->next_dead = s2s.dead;
	s2s.dead = c;
}

static void
conn_linger_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	conn_kill(container_of(w, struct conn, timer));
}

/* queued output (an error, </stream:stream>) gets CONN_LINGER to go */
void
conn_close(struct conn *c)
{
	if (c->state == CS_CLOSING || c->dead)
		return;
	if (c->outgoing)
		out_conn_gone(c);
	c->state = CS_CLOSING;
	ev_io_stop(s2s.loop, &c->rio);
	c->reading = false;
	ev_timer_stop(s2s.loop, &c->timer);
	ev_timer_init(&c->timer, conn_linger_cb, CONN_LINGER, 0.);
	ev_timer_start(s2s.loop, &c->timer);
	conn_mark_dirty(c);
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
	if (c->tls != NULL)
		gnutls_deinit(c->tls);
	if (c->fd != -1)
		close(c->fd);
	xstream_free(c->xs);
	buf_clear(&c->out);
	buf_clear(&c->held);
	map_free(c->pairs, NULL);
	listen_peer_gone(c);
	free(c->local);
	free(c->remote);
	free(c);
}

void
conn_reap(void)
{
	struct conn	*c;

	while ((c = s2s.dirty) != NULL) {
		s2s.dirty = c->next_dirty;
		c->dirty = false;
		if (!c->dead && conn_flush(c) == -1)
			conn_kill(c);
	}
	while ((c = s2s.dead) != NULL) {
		s2s.dead = c->next_dead;
		conn_free(c);
	}
}

static void
conn_finish(struct conn *c)
{
	if (c->tls_on)
		(void)gnutls_bye(c->tls, GNUTLS_SHUT_WR);
	shutdown(c->fd, SHUT_WR);
	conn_kill(c);
}

static int
conn_flush(struct conn *c)
{
	ssize_t	n;
	size_t	len;

	if (c->state == CS_HANDSHAKE || c->state == CS_CONNECTING)
		return 0;
	while (buf_avail(&c->out) > 0 || c->tls_retry) {
		if (c->tls_on) {
			if (c->tls_retry)
				n = gnutls_record_send(c->tls, NULL, 0);
			else {
				len = buf_avail(&c->out);
				if (len > 16384)
					len = 16384;
				n = gnutls_record_send(c->tls,
				    buf_rptr(&c->out), len);
			}
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				c->tls_retry = true;
				ev_io_start(s2s.loop, &c->wio);
				return 0;
			}
			c->tls_retry = false;
			if (n < 0) {
				log_info("%s: tls write: %s", conn_name(c),
				    gnutls_strerror((int)n));
				return -1;
			}
		} else {
			n = write(c->fd, buf_rptr(&c->out), buf_avail(&c->out));
			if (n == -1) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN) {
					ev_io_start(s2s.loop, &c->wio);
					return 0;
				}
				log_info("%s: write: %s", conn_name(c),
				    strerror(errno));
				return -1;
			}
		}
		buf_consume(&c->out, (size_t)n);
	}
	ev_io_stop(s2s.loop, &c->wio);
	if (c->state == CS_STARTTLS && !c->outgoing)
		/* <proceed/> is out: the next bytes are the ClientHello */
		conn_start_tls(c, false);
	else if (c->state == CS_CLOSING)
		conn_finish(c);
	return 0;
}

void
conn_start_reading(struct conn *c)
{
	if (!c->reading && c->state != CS_CLOSING && !c->dead && !c->paused) {
		ev_io_start(s2s.loop, &c->rio);
		c->reading = true;
	}
}

/* TLS on the connection now: client (outgoing) or server side */
void
conn_start_tls(struct conn *c, bool client)
{
	int	rc;

	if (client) {
		if ((rc = gnutls_init(&c->tls, GNUTLS_CLIENT |
		    GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL)) < 0 ||
		    (rc = gnutls_priority_set(c->tls, s2s.tls.prio)) < 0 ||
		    (rc = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE,
		    c->creds)) < 0 ||
		    (rc = gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS,
		    c->remote, strlen(c->remote))) < 0) {
			log_warnx("%s: tls: %s", conn_name(c),
			    gnutls_strerror(rc));
			conn_kill(c);
			return;
		}
		gnutls_transport_set_int(c->tls, c->fd);
	} else {
		if ((c->tls = tls_server_new(&s2s.tls, c->fd)) == NULL) {
			conn_kill(c);
			return;
		}
		/* a certificate lets the peer use SASL EXTERNAL */
		gnutls_certificate_server_set_request(c->tls,
		    GNUTLS_CERT_REQUEST);
	}
	c->state = CS_HANDSHAKE;
	conn_handshake(c);
}

static void
conn_handshake(struct conn *c)
{
	int	rc;

	rc = gnutls_handshake(c->tls);
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
		if (gnutls_record_get_direction(c->tls) == 1) {
			ev_io_start(s2s.loop, &c->wio);
			ev_io_stop(s2s.loop, &c->rio);
			c->reading = false;
		} else {
			ev_io_stop(s2s.loop, &c->wio);
			conn_start_reading(c);
		}
		return;
	}
	if (rc < 0) {
		log_info("%s: tls handshake: %s", conn_name(c),
		    gnutls_strerror(rc));
		conn_kill(c);
		return;
	}
	c->tls_on = true;
	ev_io_stop(s2s.loop, &c->wio);
	conn_restart(c);
	conn_start_reading(c);
	if (c->outgoing)
		out_tls_done(c);
	else
		in_tls_done(c);
	if (!c->dead && gnutls_record_check_pending(c->tls) > 0)
		ev_feed_event(s2s.loop, &c->rio, EV_READ);
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
conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn	*c = container_of(w, struct conn, rio);
	char		 data[CONN_READ_CHUNK];
	size_t		 got = 0;
	ssize_t		 n;

	(void)loop;
	(void)revents;
	if (c->state == CS_HANDSHAKE) {
		conn_handshake(c);
		return;
	}
	while (c->state != CS_CLOSING && !c->dead && !c->paused &&
	    c->reading && c->state != CS_HANDSHAKE &&
	    !(c->state == CS_STARTTLS && !c->outgoing)) {
		if (got >= CONN_READ_BUDGET) {
			ev_feed_event(s2s.loop, &c->rio, EV_READ);
			return;
		}
		if (c->tls_on) {
			n = gnutls_record_recv(c->tls, data, sizeof(data));
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				return;
			if (n == GNUTLS_E_REHANDSHAKE)
				continue;
			if (n < 0) {
				log_info("%s: tls read: %s", conn_name(c),
				    gnutls_strerror((int)n));
				conn_kill(c);
				return;
			}
		} else {
			n = read(c->fd, data, sizeof(data));
			if (n == -1) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN) {
					log_info("%s: read: %s", conn_name(c),
					    strerror(errno));
					conn_kill(c);
				}
				return;
			}
		}
		if (n == 0) {
			log_debug("%s: closed by peer", conn_name(c));
			conn_kill(c);
			return;
		}
		got += (size_t)n;
		c->last_io = ev_now(s2s.loop);
		log_trace(TRACE_XML, "%s recv %s", conn_name(c),
		    xstream_trace_text(c->xs, data, (size_t)n));
		if (xstream_feed(c->xs, data, (size_t)n) == -1) {
			conn_error(c, xstream_error(c->xs),
			    xstream_error_text(c->xs));
			return;
		}
		if (!c->tls_on && (size_t)n < sizeof(data))
			return;
	}
	if (c->state == CS_STARTTLS && !c->outgoing) {
		ev_io_stop(s2s.loop, &c->rio);
		c->reading = false;
	}
}

static void
conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn	*c = container_of(w, struct conn, wio);
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	(void)loop;
	(void)revents;
	if (c->state == CS_CONNECTING) {
		ev_io_stop(s2s.loop, &c->wio);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0) {
			log_info("%s: connect: %s", conn_name(c),
			    strerror(err ? err : errno));
			conn_kill(c);
			return;
		}
		out_connected(c);
		return;
	}
	if (c->state == CS_HANDSHAKE)
		conn_handshake(c);
	else if (conn_flush(c) == -1)
		conn_kill(c);
}

static void
conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn	*c = container_of(w, struct conn, timer);
	ev_tstamp	 idle;

	(void)revents;
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
	idle = ev_now(loop) - c->last_io;
	if (idle >= s2s.conf.s2s_idle_timeout) {
		log_info("%s: idle, closing", conn_name(c));
		conn_puts(c, "</stream:stream>");
		conn_close(c);
		return;
	}
	w->repeat = s2s.conf.s2s_idle_timeout - idle;
	ev_timer_again(loop, w);
}

struct conn *
conn_new(int fd, bool outgoing)
{
	struct conn	*c;

	c = xcalloc(1, sizeof(*c));
	c->id = ++s2s.next_id;
	c->fd = fd;
	c->outgoing = outgoing;
	buf_init(&c->out, CONN_OUT_MAX);
	buf_init(&c->held, 0);
	c->xs = xstream_new(&conn_cbs, c, s2s.conf.max_stanza_size * 2);
	c->last_io = ev_now(s2s.loop);
	ev_io_init(&c->rio, conn_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, conn_write_cb, fd, EV_WRITE);
	/*
	 * Set-up deadline (in CS_OPEN the same timer checks idleness). An
	 * incoming stream may wait for our own stream to its authoritative
	 * server, which has s2s-connect-timeout to answer: twice that.
	 */
	ev_timer_init(&c->timer, conn_timer_cb, s2s.conf.s2s_connect_timeout *
	    (outgoing ? 1. : 2.), 0.);
	ev_timer_start(s2s.loop, &c->timer);
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

	if (c->state == CS_CLOSING || c->dead)
		return;
	c->last_io = ev_now(s2s.loop);
	if (c->outgoing)
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
