/*
 * The stream transport (transport.h): socket or memory I/O, TLS,
 * bounded output, the read budget, pause and resume, timeout, graceful
 * close and the deferred free, for c2s streams and s2s connections.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "transport.h"
#include "util.h"

static struct transport	*dirty_list;	/* output to write */
static struct transport	*dead_list;	/* to free */
static struct transport	*read_list;	/* memory backend: input due */
static bool		 use_memory;

static void	tp_handshake(struct transport *);
static void	tp_read(struct transport *);
static void	tp_fail(struct transport *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static struct ev_loop *
tp_loop(void)
{
	return ev_default_loop(0);
}

static void
tp_emit(struct transport *tp, enum tp_event ev, const char *p, size_t n)
{
	tp->cb(tp, ev, p, n, tp->arg);
}

static void
tp_mark_dirty(struct transport *tp)
{
	if (!tp->queued_dirty && tp->state != TP_DEAD) {
		tp->queued_dirty = true;
		tp->next_dirty = dirty_list;
		dirty_list = tp;
	}
}

/* memory backend: reading is a pass of transport_reap() */
static void
tp_mark_read(struct transport *tp)
{
	if (!tp->queued_read && tp->state != TP_DEAD) {
		tp->queued_read = true;
		tp->mem->next_read = read_list;
		read_list = tp;
	}
}

static bool
tp_wants_read(const struct transport *tp)
{
	switch (tp->state) {
	case TP_OPEN:
		return !tp->paused && !tp->tls_wait && !tp->eof;
	case TP_CLOSING:
		return !tp->eof;
	default:
		return false;
	}
}

/* the read watcher follows what the state wants (not in a handshake) */
static void
tp_io_update(struct transport *tp)
{
	bool	want = tp_wants_read(tp);

	if (tp->mem != NULL || tp->state == TP_HANDSHAKE || want == tp->reading)
		return;
	if (want)
		ev_io_start(tp_loop(), &tp->rio);
	else
		ev_io_stop(tp_loop(), &tp->rio);
	tp->reading = want;
}

/* there may be input already waiting (GnuTLS, the memory peer) */
static void
tp_kick_read(struct transport *tp)
{
	if (!tp_wants_read(tp))
		return;
	if (tp->mem != NULL)
		tp_mark_read(tp);
	else
		ev_feed_event(tp_loop(), &tp->rio, EV_READ);
}

static void
tp_timer_cb(struct ctimer *t)
{
	struct transport	*tp = container_of(t, struct transport, timer);

	if (tp->state == TP_CLOSING) {
		log_debug("%s: linger over", tp->name);
		tp_kill(tp);
		return;
	}
	if (tp->state != TP_DEAD)
		tp_emit(tp, TP_TIMEOUT, NULL, 0);
}

static void
tp_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	tp_read(container_of(w, struct transport, rio));
}

static int	tp_flush(struct transport *);

static void
tp_connect_done(struct transport *tp, int err)
{
	if (err != 0) {
		errno = err;
		tp_fail(tp, "connect: %s", strerror(err));
		return;
	}
	tp->state = TP_OPEN;
	tp_io_update(tp);
	tp_emit(tp, TP_CONNECTED, NULL, 0);
	if (buf_avail(&tp->out) > 0)
		tp_mark_dirty(tp);
}

static void
tp_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct transport	*tp = container_of(w, struct transport, wio);
	int			 err = 0;
	socklen_t		 len = sizeof(err);

	(void)revents;
	if (tp->state == TP_CONNECTING) {
		ev_io_stop(loop, &tp->wio);
		if (getsockopt(tp->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		tp_connect_done(tp, err);
		return;
	}
	if (tp->state == TP_HANDSHAKE)
		tp_handshake(tp);
	else if (tp_flush(tp) == -1)
		tp_fail(tp, "write: %s", strerror(errno));
}

void
tp_init(struct transport *tp, size_t outmax, tp_event_cb *cb, void *arg)
{
	memset(tp, 0, sizeof(*tp));
	tp->fd = -1;
	tp->state = TP_IDLE;
	tp->cb = cb;
	tp->arg = arg;
	buf_init(&tp->out, outmax);
	tp->high = (uint32_t)(outmax / 2);
	tp->low = (uint32_t)(outmax / 8);
	ctimer_init(&tp->timer, tp_timer_cb);
	snprintf(tp->name, sizeof(tp->name), "transport");
}

void
tp_set_name(struct transport *tp, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(tp->name, sizeof(tp->name), fmt, ap);
	va_end(ap);
}

void
tp_set_marks(struct transport *tp, uint32_t low, uint32_t high)
{
	tp->low = low;
	tp->high = high;
}

static void
tp_attach(struct transport *tp, int fd)
{
	if (use_memory) {
		tp->fd = -1;
		tp->mem = xcalloc(1, sizeof(*tp->mem));
		buf_init(&tp->mem->in, 0);
		buf_init(&tp->mem->out, 0);
		return;
	}
	tp->fd = fd;
	ev_io_init(&tp->rio, tp_read_cb, fd, EV_READ);
	ev_io_init(&tp->wio, tp_write_cb, fd, EV_WRITE);
}

void
tp_open(struct transport *tp, int fd)
{
	tp_attach(tp, fd);
	tp->state = TP_OPEN;
	tp_io_update(tp);
}

int
tp_connect(struct transport *tp, const struct sockaddr *sa, socklen_t salen)
{
	int	fd = -1;

	if (!use_memory) {
		fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1)
			return -1;
		if (connect(fd, sa, salen) == -1 && errno != EINPROGRESS) {
			int	saved = errno;

			close(fd);
			errno = saved;
			return -1;
		}
	}
	tp_attach(tp, fd);
	tp->state = TP_CONNECTING;
	if (tp->mem == NULL)
		ev_io_start(tp_loop(), &tp->wio);
	return 0;
}

void
tp_start_tls(struct transport *tp, gnutls_session_t s)
{
	if (tp->state == TP_DEAD || tp->state == TP_CLOSING) {
		if (s != NULL)
			gnutls_deinit(s);
		return;
	}
	if (s == NULL) {
		tp_fail(tp, "tls: no session");
		return;
	}
	if (tp->tls != NULL)
		gnutls_deinit(tp->tls);
	tp->tls = s;
	tp->tls_wait = true;
	tp_io_update(tp);
	/* <proceed/> goes out in the clear first */
	tp_mark_dirty(tp);
}

int
tp_write_raw(struct transport *tp, const char *p, size_t n)
{
	if (tp->state == TP_DEAD)
		return 0;
	if (buf_append(&tp->out, p, n) == -1) {
		/* a peer that does not read: never grow without limit */
		log_info("%s: output queue over %zu bytes", tp->name,
		    tp->out.max);
		buf_reset(&tp->out);
		tp->tls_retry = false;
		return -1;
	}
	if (buf_avail(&tp->out) > tp->high)
		tp->above_high = true;
	tp_mark_dirty(tp);
	return 0;
}

int
tp_write(struct transport *tp, const char *p, size_t n)
{
	if (tp->framing != NULL && tp->framing->encode != NULL)
		return tp->framing->encode(tp, p, n);
	return tp_write_raw(tp, p, n);
}

void
tp_pause(struct transport *tp)
{
	tp->paused = true;
	tp_io_update(tp);
}

void
tp_resume(struct transport *tp)
{
	if (!tp->paused)
		return;
	tp->paused = false;
	tp_io_update(tp);
	tp_kick_read(tp);
}

void
tp_set_timeout(struct transport *tp, double seconds)
{
	if (tp_closing(tp))
		return;
	if (seconds <= 0)
		ctimer_stop(&tp->timer);
	else
		ctimer_start(&tp->timer, seconds);
}

void
tp_close(struct transport *tp)
{
	if (tp_closing(tp))
		return;
	if (tp->state != TP_OPEN) {
		/* connecting or mid-handshake: nothing can be said */
		tp_kill(tp);
		return;
	}
	tp->state = TP_CLOSING;
	tp->tls_wait = false;
	ctimer_start(&tp->timer, TP_LINGER);
	tp_io_update(tp);
	tp_kick_read(tp);
	tp_mark_dirty(tp);
}

void
tp_kill(struct transport *tp)
{
	if (tp->state == TP_DEAD)
		return;
	tp->state = TP_DEAD;
	ctimer_stop(&tp->timer);
	if (tp->mem == NULL) {
		ev_io_stop(tp_loop(), &tp->rio);
		ev_io_stop(tp_loop(), &tp->wio);
	}
	tp->reading = false;
	tp->next_dead = dead_list;
	dead_list = tp;
}

/* an I/O failure: dead, and the owner hears of it unless it was closing */
static void
tp_fail(struct transport *tp, const char *fmt, ...)
{
	va_list	ap;
	bool	closing = tp->state == TP_CLOSING;
	char	why[128];

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_debug("%s: %s", tp->name, why);
	tp_kill(tp);
	if (!closing)
		tp_emit(tp, TP_ERROR, why, strlen(why));
}

void
tp_trim(struct transport *tp)
{
	if (buf_avail(&tp->out) == 0 && !tp->tls_retry)
		buf_clear(&tp->out);
}

/* ---- reading ------------------------------------------------------------- */

static void
tp_deliver(struct transport *tp, const char *p, size_t n)
{
	if (tp->state == TP_OPEN)
		tp_emit(tp, TP_DATA_IN, p, n);
}

/* one read: > 0 bytes, 0 end of stream, -1 error (errno), -2 try later */
static ssize_t
tp_recv(struct transport *tp, char *p, size_t n)
{
	ssize_t	r;

	if (tp->tls_on) {
		do
			r = gnutls_record_recv(tp->tls, p, n);
		while (r == GNUTLS_E_REHANDSHAKE);	/* we never renegotiate */
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return -2;
		if (r < 0) {
			log_debug("%s: tls read: %s", tp->name,
			    gnutls_strerror((int)r));
			errno = EPROTO;
			return -1;
		}
		return r;
	}
	if (tp->mem != NULL) {
		if (buf_avail(&tp->mem->in) == 0)
			return tp->mem->eof ? 0 : -2;
		r = (ssize_t)(buf_avail(&tp->mem->in) < n ?
		    buf_avail(&tp->mem->in) : n);
		memcpy(p, buf_rptr(&tp->mem->in), (size_t)r);
		buf_consume(&tp->mem->in, (size_t)r);
		return r;
	}
	for (;;) {
		r = read(tp->fd, p, n);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? -2 : -1;
	}
}

static void
tp_emit_decoded(struct transport *tp, const char *p, size_t n)
{
	tp_deliver(tp, p, n);
}

static void
tp_read(struct transport *tp)
{
	char	data[TP_READ_CHUNK];
	size_t	got = 0;
	ssize_t	n;

	if (tp->state == TP_HANDSHAKE) {
		tp_handshake(tp);
		return;
	}
	while (tp_wants_read(tp)) {
		if (got >= TP_READ_BUDGET) {
			/* fairness: the rest in the next iteration */
			tp_kick_read(tp);
			return;
		}
		n = tp_recv(tp, data, sizeof(data));
		if (n == -2)
			return;
		if (n == -1) {
			tp_fail(tp, "read: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			tp->eof = true;
			if (tp->state == TP_CLOSING) {
				/* both sides done */
				tp_kill(tp);
				return;
			}
			log_debug("%s: closed by the peer", tp->name);
			tp_io_update(tp);
			tp_emit(tp, TP_CLOSED, NULL, 0);
			tp_close(tp);
			return;
		}
		got += (size_t)n;
		if (tp->state == TP_OPEN) {
			if (tp->framing != NULL && tp->framing->decode != NULL) {
				if (tp->framing->decode(tp, data, (size_t)n,
				    tp_emit_decoded) == -1) {
					tp_fail(tp, "framing error");
					return;
				}
			} else
				tp_deliver(tp, data, (size_t)n);
		}
		/* a short plain read emptied the socket */
		if (!tp->tls_on && tp->mem == NULL && (size_t)n < sizeof(data))
			return;
	}
}

/* ---- TLS ----------------------------------------------------------------- */

static void
tp_handshake(struct transport *tp)
{
	int	rc;

	rc = gnutls_handshake(tp->tls);
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
		if (tp->mem != NULL)
			return;
		if (gnutls_record_get_direction(tp->tls) == 1) {
			ev_io_start(tp_loop(), &tp->wio);
			ev_io_stop(tp_loop(), &tp->rio);
			tp->reading = false;
		} else {
			ev_io_stop(tp_loop(), &tp->wio);
			if (!tp->reading)
				ev_io_start(tp_loop(), &tp->rio);
			tp->reading = true;
		}
		return;
	}
	if (rc < 0) {
		/* no TLS: no way to send an error */
		log_info("%s: tls handshake: %s", tp->name,
		    gnutls_strerror(rc));
		tp_fail(tp, "tls handshake: %s", gnutls_strerror(rc));
		return;
	}
	log_trace(TRACE_TLS, "%s: tls %s", tp->name,
	    gnutls_protocol_get_name(gnutls_protocol_get_version(tp->tls)));
	tp->tls_on = true;
	tp->state = TP_OPEN;
	if (tp->mem == NULL)
		ev_io_stop(tp_loop(), &tp->wio);
	tp_io_update(tp);
	tp_emit(tp, TP_TLS_DONE, NULL, 0);
	if (tp->state == TP_DEAD)
		return;
	if (buf_avail(&tp->out) > 0)
		tp_mark_dirty(tp);
	/* what follows the Finished may already sit decrypted in GnuTLS:
	   the kernel will not signal it */
	if (gnutls_record_check_pending(tp->tls) > 0)
		tp_kick_read(tp);
}

static void
tp_begin_handshake(struct transport *tp)
{
	tp->tls_wait = false;
	if (tp->mem != NULL) {
		tp_fail(tp, "tls: not with the memory backend");
		return;
	}
	gnutls_transport_set_int(tp->tls, tp->fd);
	/* the watchers are the handshake's from here */
	ev_io_stop(tp_loop(), &tp->rio);
	tp->reading = false;
	tp->state = TP_HANDSHAKE;
	tp_handshake(tp);
}

/* ---- writing ------------------------------------------------------------- */

/* closing, all written: close_notify, half-close, then linger */
static void
tp_finish(struct transport *tp)
{
	if (tp->tls_on)
		(void)gnutls_bye(tp->tls, GNUTLS_SHUT_WR);
	if (tp->mem != NULL)
		tp->mem->shut = true;
	else
		shutdown(tp->fd, SHUT_WR);
	if (tp->eof)
		tp_kill(tp);
}

/* one write: bytes taken, or -2 try later, -1 error */
static ssize_t
tp_send(struct transport *tp)
{
	ssize_t	n;
	size_t	len;

	if (tp->tls_on) {
		if (tp->tls_retry)
			n = gnutls_record_send(tp->tls, NULL, 0);
		else {
			len = buf_avail(&tp->out);
			if (len > 16384)
				len = 16384;
			n = gnutls_record_send(tp->tls, buf_rptr(&tp->out),
			    len);
		}
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			tp->tls_retry = true;
			return -2;
		}
		tp->tls_retry = false;
		if (n < 0) {
			log_info("%s: tls write: %s", tp->name,
			    gnutls_strerror((int)n));
			errno = EPROTO;
			return -1;
		}
		return n;
	}
	if (tp->mem != NULL) {
		if (tp->mem->shut) {
			errno = EPIPE;
			return -1;
		}
		(void)buf_append(&tp->mem->out, buf_rptr(&tp->out),
		    buf_avail(&tp->out));
		return (ssize_t)buf_avail(&tp->out);
	}
	for (;;) {
		n = write(tp->fd, buf_rptr(&tp->out), buf_avail(&tp->out));
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? -2 : -1;
	}
}

static void
tp_low_water(struct transport *tp)
{
	if (tp->above_high && buf_avail(&tp->out) <= tp->low) {
		tp->above_high = false;
		tp_emit(tp, TP_LOW_WATER, NULL, 0);
	}
}

/* -1: the connection failed (the caller kills it) */
static int
tp_flush(struct transport *tp)
{
	ssize_t	n;

	if (tp->state != TP_OPEN && tp->state != TP_CLOSING)
		return 0;
	while (buf_avail(&tp->out) > 0 || tp->tls_retry) {
		n = tp_send(tp);
		if (n == -2) {
			ev_io_start(tp_loop(), &tp->wio);
			tp_low_water(tp);
			return 0;
		}
		if (n == -1)
			return -1;
		buf_consume(&tp->out, (size_t)n);
	}
	if (tp->out.cap > TP_OUT_KEEP)
		buf_clear(&tp->out);
	if (tp->mem == NULL)
		ev_io_stop(tp_loop(), &tp->wio);
	tp_low_water(tp);
	/*
	 * The owner may have queued more on TP_LOW_WATER (a file sent in
	 * pieces, c2s/http.c) and closed: that is flushed first, later
	 */
	if (tp->state == TP_DEAD || buf_avail(&tp->out) > 0)
		return 0;
	if (tp->tls_wait && tp->state == TP_OPEN)
		tp_begin_handshake(tp);
	else if (tp->state == TP_CLOSING)
		tp_finish(tp);
	return 0;
}

static void
tp_free(struct transport *tp)
{
	if (tp->tls != NULL)
		gnutls_deinit(tp->tls);
	tp->tls = NULL;
	if (tp->fd != -1)
		close(tp->fd);
	tp->fd = -1;
	buf_clear(&tp->out);
	if (tp->mem != NULL) {
		buf_clear(&tp->mem->in);
		buf_clear(&tp->mem->out);
		free(tp->mem);
		tp->mem = NULL;
	}
}

void
transport_reap(void)
{
	struct transport	*tp;

	while ((tp = read_list) != NULL) {
		read_list = tp->mem->next_read;
		tp->queued_read = false;
		if (tp->state != TP_DEAD)
			tp_read(tp);
	}
	while ((tp = dirty_list) != NULL) {
		dirty_list = tp->next_dirty;
		tp->queued_dirty = false;
		if (tp->state != TP_DEAD && tp_flush(tp) == -1)
			tp_fail(tp, "write: %s", strerror(errno));
	}
	while ((tp = dead_list) != NULL) {
		struct transport	**pp;

		dead_list = tp->next_dead;
		/* a dead transport still on the read list */
		for (pp = &read_list; *pp != NULL; pp = &(*pp)->mem->next_read)
			if (*pp == tp) {
				*pp = tp->mem->next_read;
				break;
			}
		tp_free(tp);
		tp_emit(tp, TP_GONE, NULL, 0);
	}
}

static void
transport_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	transport_reap();
}

void
transport_loop_init(struct ev_loop *loop)
{
	static ev_prepare	reaper;

	ev_prepare_init(&reaper, transport_prepare_cb);
	ev_prepare_start(loop, &reaper);
	ev_unref(loop);
}

/* ---- memory backend ------------------------------------------------------ */

void
tp_use_memory(bool on)
{
	use_memory = on;
}

void
tp_mem_inject(struct transport *tp, const char *p, size_t n)
{
	if (tp->mem == NULL || tp->state == TP_DEAD)
		return;
	(void)buf_append(&tp->mem->in, p, n);
	tp_kick_read(tp);
}

void
tp_mem_eof(struct transport *tp)
{
	if (tp->mem == NULL || tp->state == TP_DEAD)
		return;
	tp->mem->eof = true;
	tp_kick_read(tp);
}

void
tp_mem_connected(struct transport *tp, int err)
{
	if (tp->mem != NULL && tp->state == TP_CONNECTING)
		tp_connect_done(tp, err);
}

const char *
tp_mem_output(struct transport *tp)
{
	const char	*s = tp->mem ? buf_cstr(&tp->mem->out) : NULL;

	return s != NULL ? s : "";
}

void
tp_mem_output_reset(struct transport *tp)
{
	if (tp->mem != NULL)
		buf_reset(&tp->mem->out);
}

bool
tp_mem_shut(const struct transport *tp)
{
	return tp->mem != NULL && tp->mem->shut;
}

void
transport_run(void)
{
	int	i;

	for (i = 0; i < 64 && (read_list != NULL || dirty_list != NULL ||
	    dead_list != NULL); i++)
		transport_reap();
}
