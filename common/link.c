/*
 * Framed links between processes: frame encoding and decoding, and the
 * libev plumbing of one link (read, bounded output queue, flush once per
 * loop iteration, deferred close). Frame layout is in link.h and
 * docs/internals.md.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link.h"
#include "linktls.h"
#include "log.h"
#include "util.h"

#define LINK_READ_CHUNK		65536
#define LINK_READ_BUDGET	(4 * LINK_READ_CHUNK)	/* per callback */

struct link_desc {
	uint16_t	 type;
	int		 min;
	const char	*name;
};

#define LINK_DESC(e, v, m)	{ v, m, #e },
static const struct link_desc link_descs[] = { LINK_TYPES(LINK_DESC) };

static struct link	*dead_links;
static struct link	*dirty_links;
static ev_prepare	 link_prepare;
/* links closed because their output passed its cap (/metrics) */
uint64_t		 link_overflows;

static const struct link_desc *
link_desc(uint16_t type)
{
	size_t	i;

	for (i = 0; i < nitems(link_descs); i++)
		if (link_descs[i].type == type)
			return &link_descs[i];
	return NULL;
}

const char *
link_msg_name(uint16_t type)
{
	static char		 unknown[8];
	const struct link_desc	*d;

	if ((d = link_desc(type)) != NULL)
		return d->name;
	snprintf(unknown, sizeof(unknown), "0x%04x", type);
	return unknown;
}

int
link_msg_min(uint16_t type)
{
	const struct link_desc	*d;

	return (d = link_desc(type)) != NULL ? d->min : -1;
}

static const struct {
	uint32_t	status;
	int		err;
} link_ctl_statuses[] = {
#define LINK_CTL_DESC(e, v, err)	{ v, err },
	LINK_CTL_STATUSES(LINK_CTL_DESC)
};

uint32_t
link_ctl_status(int err)
{
	size_t	i;

	for (i = 0; i < nitems(link_ctl_statuses); i++)
		if (link_ctl_statuses[i].err == err)
			return link_ctl_statuses[i].status;
	return LINK_CTL_FAILED;		/* the reply's text says which */
}

int
link_ctl_errno(uint32_t status, int *err)
{
	size_t	i;

	for (i = 0; i < nitems(link_ctl_statuses); i++)
		if (link_ctl_statuses[i].status == status) {
			*err = link_ctl_statuses[i].err;
			return 0;
		}
	return -1;
}

void
link_hdr_decode(struct link_hdr *h, const void *hdr)
{
	const unsigned char	*p = hdr;

	memcpy(&h->len, p, 4);
	memcpy(&h->type, p + 4, 2);
	memcpy(&h->flags, p + 6, 2);
	memcpy(&h->sid, p + 8, 8);
	h->len = be32toh(h->len);
	h->type = be16toh(h->type);
	h->flags = be16toh(h->flags);
	h->sid = be64toh(h->sid);
}

/* ---- building ------------------------------------------------------------ */

void
link_begin_buf(struct link_out *m, struct buf *b, uint16_t type,
    uint64_t sid)
{
	char	*w;

	m->l = NULL;
	m->b = b;
	m->type = type;
	m->start = buf_avail(b);
	m->fail = false;
	if ((w = buf_reserve(b, LINK_HDR_LEN)) == NULL) {
		m->fail = true;
		return;
	}
	/* the length is patched in by link_end */
	memset(w, 0, 4);
	type = htobe16(type);
	memcpy(w + 4, &type, 2);
	memset(w + 6, 0, 2);
	sid = htobe64(sid);
	memcpy(w + 8, &sid, 8);
	buf_commit(b, LINK_HDR_LEN);
}

void
link_begin(struct link_out *m, struct link *l, uint16_t type, uint64_t sid)
{
	link_begin_buf(m, &l->out, type, sid);
	m->l = l;
	m->fail = m->fail || l->failed;
}

void
link_out_buf(struct link_out *m, struct buf *b)
{
	memset(m, 0, sizeof(*m));
	m->b = b;
	m->start = buf_avail(b);
}

int
link_out_buf_end(struct link_out *m)
{
	if (!m->fail)
		return 0;
	buf_truncate(m->b, m->start);
	return -1;
}

void
link_put_bytes(struct link_out *m, const void *p, size_t n)
{
	if (!m->fail && buf_append(m->b, p, n) == -1)
		m->fail = true;
}

/* v as n (at most 8) big-endian bytes */
static void
link_put_be(struct link_out *m, uint64_t v, size_t n)
{
	uint8_t	b[8];
	size_t	i;

	for (i = n; i > 0; i--) {
		b[i - 1] = (uint8_t)v;
		v >>= 8;
	}
	link_put_bytes(m, b, n);
}

void
link_put_u8(struct link_out *m, uint8_t v)
{
	link_put_be(m, v, 1);
}

void
link_put_u16(struct link_out *m, uint16_t v)
{
	link_put_be(m, v, 2);
}

void
link_put_u32(struct link_out *m, uint32_t v)
{
	link_put_be(m, v, 4);
}

void
link_put_u64(struct link_out *m, uint64_t v)
{
	link_put_be(m, v, 8);
}

void
link_put_stanza(struct link_out *m, int kind, int type, const char *to,
    const char *from, const char *xml, size_t len)
{
	link_put_u8(m, (uint8_t)kind);
	link_put_u8(m, (uint8_t)type);
	link_put_u16(m, 0);
	link_put_str(m, to);
	link_put_str(m, from);
	link_put_strn(m, xml, len);
}

void
link_put_strn(struct link_out *m, const char *s, size_t n)
{
	if (s == NULL) {
		link_put_u32(m, UINT32_MAX);
		return;
	}
	link_put_u32(m, (uint32_t)n);
	link_put_bytes(m, s, n);
}

void
link_put_str(struct link_out *m, const char *s)
{
	link_put_strn(m, s, s ? strlen(s) : 0);
}

void
link_put_stream_err(struct link_out *m, enum stream_err e)
{
	link_put_u32(m, stream_err_wire(e));
}

void
link_put_stanza_err(struct link_out *m, enum stanza_err e)
{
	link_put_u32(m, stanza_err_wire(e));
}

void
link_put_hello(struct link_out *m, enum link_role role, uint32_t instance)
{
	link_put_u32(m, LINK_VERSION);
	link_put_u32(m, role);
	link_put_u32(m, instance);
}

void
link_set_flags(struct link_out *m, uint16_t flags)
{
	if (m->fail)
		return;
	flags = htobe16(flags);
	memcpy(m->b->data + m->b->off + m->start + 6, &flags, 2);
}

static void
link_mark_dirty(struct link *l)
{
	if (!l->dirty) {
		l->dirty = true;
		l->next_dirty = dirty_links;
		dirty_links = l;
	}
}

int
link_end(struct link_out *m)
{
	struct link	*l = m->l;
	struct buf	*b = m->b;
	size_t		 plen = 0;
	uint32_t	 len;

	if (!m->fail) {
		plen = buf_avail(b) - m->start - LINK_HDR_LEN;
		if (plen > LINK_MAX_PAYLOAD) {
			/*
			 * One frame too large is that frame's problem, not
			 * the link's: it is dropped, the caller told, and
			 * every other session on the link goes on.
			 */
			b->len = b->off + m->start;
			log_warnx("%s: a %s of %zu bytes is over the frame "
			    "limit; dropped", l != NULL ? l->name : "link",
			    link_msg_name(m->type), plen);
			errno = EMSGSIZE;
			return -1;
		}
	}
	if (m->fail) {
		/* drop the partial frame so the queue stays well-formed */
		if (buf_avail(b) > m->start)
			b->len = b->off + m->start;
		if (l != NULL && !l->failed) {
			link_overflows++;
			link_fail(l, "output queue over its cap");
		}
		errno = EMSGSIZE;
		return -1;
	}
	len = htobe32((uint32_t)plen);
	memcpy(b->data + b->off + m->start, &len, 4);
	if (l == NULL)
		return 0;
	if (buf_avail(&l->out) > l->high)
		l->over = true;	/* the drain callback is owed */
	log_trace(TRACE_LINK, "%s: send %s len=%zu", l->name,
	    link_msg_name(m->type), plen);
	link_mark_dirty(l);
	return 0;
}

/* ---- reading ------------------------------------------------------------- */

void
link_in_init(struct link_in *in, const void *payload, size_t len)
{
	in->p = payload;
	in->left = len;
	in->bad = false;
}

void
link_get_bytes(struct link_in *in, const void **p, size_t n)
{
	if (in->bad || in->left < n) {
		in->bad = true;
		*p = NULL;
		return;
	}
	*p = in->p;
	in->p += n;
	in->left -= n;
}

/* the next n (at most 8) bytes as a big-endian number; 0 past the end */
static uint64_t
link_get_be(struct link_in *in, size_t n)
{
	const void	*p;
	const uint8_t	*u;
	uint64_t	 v = 0;
	size_t		 i;

	link_get_bytes(in, &p, n);
	if ((u = p) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		v = v << 8 | u[i];
	return v;
}

void
link_get_u8(struct link_in *in, uint8_t *v)
{
	*v = (uint8_t)link_get_be(in, 1);
}

void
link_get_u16(struct link_in *in, uint16_t *v)
{
	*v = (uint16_t)link_get_be(in, 2);
}

void
link_get_u32(struct link_in *in, uint32_t *v)
{
	*v = (uint32_t)link_get_be(in, 4);
}

void
link_get_u64(struct link_in *in, uint64_t *v)
{
	*v = link_get_be(in, 8);
}

void
link_get_strn(struct link_in *in, const char **s, size_t *len)
{
	const void	*p;
	uint32_t	 n;

	*s = NULL;
	*len = 0;
	link_get_u32(in, &n);
	if (in->bad || n == UINT32_MAX)
		return;
	link_get_bytes(in, &p, n);
	if (p != NULL) {
		*s = p;
		*len = n;
	}
}

bool
link_strcpy(char *out, size_t max, const char *s, size_t n)
{
	out[0] = '\0';
	if (s == NULL || n >= max || memchr(s, '\0', n) != NULL)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

void
link_get_str(struct link_in *in, char *out, size_t max)
{
	const char	*s;
	size_t		 n;

	link_get_strn(in, &s, &n);
	if (!link_strcpy(out, max, s, n))
		in->bad = true;
}

void
link_get_stanza(struct link_in *in, struct link_stanza *ls)
{
	uint16_t	pad;

	link_get_u8(in, &ls->kind);
	link_get_u8(in, &ls->type);
	link_get_u16(in, &pad);
	link_get_strn(in, &ls->to, &ls->tolen);
	link_get_strn(in, &ls->from, &ls->fromlen);
	link_get_strn(in, &ls->xml, &ls->xlen);
	if (ls->xml == NULL)
		in->bad = true;
}

/* a u32 that unwire maps to a value; an unknown number makes in bad */
static int
link_get_wire(struct link_in *in, int (*unwire)(uint32_t), int none)
{
	uint32_t	w;
	int		v;

	link_get_u32(in, &w);
	if ((v = unwire(w)) == -1) {
		in->bad = true;
		return none;
	}
	return v;
}

void
link_get_stream_err(struct link_in *in, enum stream_err *e)
{
	*e = (enum stream_err)link_get_wire(in, stream_err_unwire, SERR_NONE);
}

void
link_get_stanza_err(struct link_in *in, enum stanza_err *e)
{
	*e = (enum stanza_err)link_get_wire(in, stanza_err_unwire, XERR_COUNT);
}

bool
link_in_done(const struct link_in *in)
{
	return !in->bad && in->left == 0;
}

void
link_put_secrets(struct link_out *m, const struct link_secrets *ks)
{
	link_put_strn(m, (const char *)ks->sasl, sizeof(ks->sasl));
	link_put_strn(m, (const char *)ks->upload, sizeof(ks->upload));
}

/* one key of LINK_SECRETS: exactly LINK_SECRET_LEN bytes, no NULL */
static void
link_get_secret(struct link_in *in, uint8_t out[LINK_SECRET_LEN])
{
	const char	*p;
	size_t		 n;

	link_get_strn(in, &p, &n);
	if (p == NULL || n != LINK_SECRET_LEN) {
		in->bad = true;
		return;
	}
	memcpy(out, p, n);
}

int
link_secrets_parse(const char *payload, size_t len, struct link_secrets *ks)
{
	struct link_in	in;

	link_in_init(&in, payload, len);
	link_get_secret(&in, ks->sasl);
	link_get_secret(&in, ks->upload);
	if (!link_in_done(&in)) {
		explicit_bzero(ks, sizeof(*ks));
		return -1;
	}
	return 0;
}

int
link_hello_parse(const struct link_hdr *h, const char *payload,
    unsigned roles, struct link_peer *peer, char *why, size_t whylen)
{
	struct link_in	in;

	memset(peer, 0, sizeof(*peer));
	if (h->type != LINK_HELLO) {
		snprintf(why, whylen, "expected LINK_HELLO, got %s",
		    link_msg_name(h->type));
		return -1;
	}
	link_in_init(&in, payload, h->len);
	link_get_u32(&in, &peer->version);
	if (!in.bad && peer->version != LINK_VERSION) {
		snprintf(why, whylen, "peer speaks link version %u, we speak "
		    "%u", peer->version, LINK_VERSION);
		return -1;
	}
	link_get_u32(&in, &peer->role);
	link_get_u32(&in, &peer->instance);
	if (!link_in_done(&in)) {
		snprintf(why, whylen, "bad LINK_HELLO");
		return -1;
	}
	if (peer->role < LINK_ROLE_C2S || peer->role > LINK_ROLE_PROXY ||
	    !(roles & LINK_ROLE_BIT(peer->role))) {
		snprintf(why, whylen, "role %u not expected here", peer->role);
		return -1;
	}
	if (peer->role == LINK_ROLE_C2S ? peer->instance < 1 ||
	    peer->instance > LINK_INSTANCE_MAX : peer->instance != 0) {
		snprintf(why, whylen, "instance %u for role %u",
		    peer->instance, peer->role);
		return -1;
	}
	return 0;
}

/* ---- the link object ----------------------------------------------------- */

/* read(2), or a TLS record: bytes, 0 at EOF, -1 with errno */
static ssize_t
link_recv(struct link *l, void *dst, size_t n)
{
	ssize_t	r;

	if (l->tls == NULL)
		return read(l->fd, dst, n);
	r = gnutls_record_recv(l->tls, dst, n);
	if (r >= 0)
		return r;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		errno = EAGAIN;
	else {
		link_fail(l, "tls read: %s", gnutls_strerror((int)r));
		errno = EAGAIN;		/* failed already: just stop */
	}
	return -1;
}

/* write(2), or a TLS record (finishing one cut short first) */
static ssize_t
link_send(struct link *l)
{
	size_t	len = buf_avail(&l->out);
	ssize_t	n;

	if (l->tls == NULL)
		return write(l->fd, buf_rptr(&l->out), len);
	if (len > 16384)
		len = 16384;
	/* GnuTLS wants the same call again, or NULL to finish it */
	n = l->tls_retry ? gnutls_record_send(l->tls, NULL, 0) :
	    gnutls_record_send(l->tls, buf_rptr(&l->out), len);
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
		l->tls_retry = true;
		errno = EAGAIN;
		return -1;
	}
	l->tls_retry = false;
	if (n < 0) {
		errno = EPROTO;
		return -1;
	}
	return n;
}

static void	link_handshake(struct link *);

static void
link_hs_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	link_fail(container_of(w, struct link, hs_timer),
	    "tls handshake not done in %.0f s", w->repeat);
}

/*
 * The handshake drives the watchers until it is done: GnuTLS says which
 * way it is blocked. Once done, the frames queued meanwhile (our
 * LINK_HELLO) go out.
 */
static void
link_handshake(struct link *l)
{
	int	rc;

	rc = gnutls_handshake(l->tls);
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
		if (gnutls_record_get_direction(l->tls) == 1)
			ev_io_start(l->loop, &l->wio);
		else
			ev_io_stop(l->loop, &l->wio);
		return;
	}
	if (rc < 0) {
		link_fail(l, "tls handshake: %s", linktls_strerror(l->tls, rc));
		return;
	}
	l->tls_up = true;
	ev_timer_stop(l->loop, &l->hs_timer);
	ev_io_stop(l->loop, &l->wio);
	if (l->on_secure != NULL)
		l->on_secure(l, l->ctx);
	if (l->failed)
		return;
	if (l->paused)
		ev_io_stop(l->loop, &l->rio);
	if (buf_avail(&l->out) > 0)
		link_mark_dirty(l);
	if (gnutls_record_check_pending(l->tls) > 0 && !l->paused)
		ev_feed_event(l->loop, &l->rio, EV_READ);
}

void
link_start_tls(struct link *l, gnutls_session_t s, double timeout)
{
	l->tls = s;
	ev_timer_init(&l->hs_timer, link_hs_timeout, timeout, 0.);
	l->hs_timer.repeat = timeout;	/* for the message */
	ev_timer_start(l->loop, &l->hs_timer);
	link_handshake(l);
}

static void
link_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct link		*l = container_of(w, struct link, rio);
	struct link_hdr		 h;
	const unsigned char	*p;
	size_t			 got = 0;
	ssize_t			 n;
	char			*dst;
	int			 min;

	(void)loop;
	(void)revents;
	if (l->tls != NULL && !l->tls_up) {
		link_handshake(l);
		return;
	}
	while (!l->failed && !l->paused && got < LINK_READ_BUDGET) {
		if ((dst = buf_reserve(&l->in, LINK_READ_CHUNK)) == NULL) {
			link_fail(l, "input buffer over its cap");
			return;
		}
		n = link_recv(l, dst, LINK_READ_CHUNK);
		if (n == 0) {
			link_fail(l, "closed by peer");
			break;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				link_fail(l, "read: %s", strerror(errno));
			break;
		}
		buf_commit(&l->in, (size_t)n);
		got += (size_t)n;
		if ((size_t)n < LINK_READ_CHUNK && (l->tls == NULL ||
		    gnutls_record_check_pending(l->tls) == 0))
			break;
	}
	/* records GnuTLS already decrypted: the kernel will not signal them */
	if (l->tls != NULL && !l->failed && !l->paused &&
	    gnutls_record_check_pending(l->tls) > 0)
		ev_feed_event(l->loop, &l->rio, EV_READ);
	while (!l->failed && !l->paused && buf_avail(&l->in) >= LINK_HDR_LEN) {
		p = (const unsigned char *)buf_rptr(&l->in);
		link_hdr_decode(&h, p);
		if (h.len > LINK_MAX_PAYLOAD) {
			link_fail(l, "frame of %u bytes over the limit", h.len);
			return;
		}
		if (buf_avail(&l->in) < LINK_HDR_LEN + (size_t)h.len)
			break;
		min = link_msg_min(h.type);
		if (min >= 0 && h.len < (uint32_t)min) {
			link_fail(l, "short %s (%u bytes)",
			    link_msg_name(h.type), h.len);
			return;
		}
		log_trace(TRACE_LINK, "%s: recv %s sid=%016llx len=%u",
		    l->name, link_msg_name(h.type),
		    (unsigned long long)h.sid, h.len);
		if (l->on_frame(l, &h, (const char *)p + LINK_HDR_LEN,
		    l->ctx) == -1 && !l->failed)
			link_fail(l, "bad %s", link_msg_name(h.type));
		buf_consume(&l->in, LINK_HDR_LEN + (size_t)h.len);
	}
}

/*
 * Low water: a queue that passed the high mark is down to half of it, so
 * the owner resumes the work it held back. Called after writing, with
 * more output possibly queued by the callback (flushed by the prepare
 * pass, where the link is dirty again).
 */
static void
link_drained(struct link *l)
{
	if (!l->over || l->failed || buf_avail(&l->out) > l->high / 2)
		return;
	l->over = false;
	if (l->on_drain != NULL)
		l->on_drain(l, l->ctx);
}

/* the process's hook before any queued frame is written (the router's) */
static void	(*before_write)(void);

void
link_set_before_write(void (*fn)(void))
{
	before_write = fn;
}

void
link_flush(struct link *l)
{
	ssize_t	n;

	if (l->tls != NULL && !l->tls_up) {
		if (!l->failed)
			link_handshake(l);	/* it flushes when done */
		return;
	}
	if (before_write != NULL && !l->failed && buf_avail(&l->out) > 0)
		before_write();
	while (!l->failed && buf_avail(&l->out) > 0) {
		n = link_send(l);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				ev_io_start(l->loop, &l->wio);
				link_drained(l);
				return;
			}
			link_fail(l, "write: %s", strerror(errno));
			return;
		}
		buf_consume(&l->out, (size_t)n);
	}
	ev_io_stop(l->loop, &l->wio);
	link_drained(l);
}

static void
link_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	link_flush(container_of(w, struct link, wio));
}

void
link_run_pending(void)
{
	struct link	*l;

	/* close callbacks queue frames and may fail other links */
	while (dirty_links != NULL || dead_links != NULL) {
		while ((l = dirty_links) != NULL) {
			dirty_links = l->next_dirty;
			l->dirty = false;
			if (!l->failed)
				link_flush(l);
		}
		while ((l = dead_links) != NULL) {
			dead_links = l->next_dead;
			l->on_close(l, l->why, l->ctx);
			link_free(l);
		}
	}
}

static void
link_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	link_run_pending();
}

void
link_loop_init(struct ev_loop *loop)
{
	ev_prepare_init(&link_prepare, link_prepare_cb);
	ev_prepare_start(loop, &link_prepare);
	ev_unref(loop);		/* the prepare watcher alone keeps no loop alive */
}

struct link *
link_new(struct ev_loop *loop, int fd, const char *name, size_t cap,
    link_frame_cb *on_frame, link_close_cb *on_close, void *ctx)
{
	struct link	*l;

	l = xcalloc(1, sizeof(*l));
	l->loop = loop;
	l->fd = fd;
	buf_init(&l->in, LINK_MAX_PAYLOAD + LINK_HDR_LEN + LINK_READ_CHUNK);
	buf_init(&l->out, cap);
	l->high = cap / 4;
	l->on_frame = on_frame;
	l->on_close = on_close;
	l->ctx = ctx;
	snprintf(l->name, sizeof(l->name), "%s", name);
	ev_io_init(&l->rio, link_read_cb, fd, EV_READ);
	ev_io_init(&l->wio, link_write_cb, fd, EV_WRITE);
	ev_io_start(loop, &l->rio);
	return l;
}

void
link_free(struct link *l)
{
	struct link	**pp;

	if (l == NULL)
		return;
	ev_io_stop(l->loop, &l->rio);
	ev_io_stop(l->loop, &l->wio);
	if (l->dirty)
		for (pp = &dirty_links; *pp != NULL; pp = &(*pp)->next_dirty)
			if (*pp == l) {
				*pp = l->next_dirty;
				break;
			}
	if (l->tls != NULL) {
		ev_timer_stop(l->loop, &l->hs_timer);
		gnutls_deinit(l->tls);
	}
	if (l->fd != -1)
		close(l->fd);
	buf_clear(&l->in);
	buf_clear(&l->out);
	free(l);
}

int
link_fail(struct link *l, const char *fmt, ...)
{
	va_list	ap;

	if (l->failed)
		return -1;
	l->failed = true;
	va_start(ap, fmt);
	vsnprintf(l->why, sizeof(l->why), fmt, ap);
	va_end(ap);
	ev_io_stop(l->loop, &l->rio);
	ev_io_stop(l->loop, &l->wio);
	if (l->tls != NULL)
		ev_timer_stop(l->loop, &l->hs_timer);
	l->next_dead = dead_links;
	dead_links = l;
	return -1;
}

bool
link_congested(const struct link *l)
{
	return buf_avail(&l->out) > l->high;
}

void
link_set_drain(struct link *l, link_drain_cb *cb)
{
	l->on_drain = cb;
}

void
link_pause(struct link *l, bool pause)
{
	if (l->failed || l->paused == pause)
		return;
	l->paused = pause;
	/* the handshake reads on; no frame is read before it is done */
	if (l->tls != NULL && !l->tls_up)
		return;
	if (pause) {
		ev_io_stop(l->loop, &l->rio);
	} else {
		ev_io_start(l->loop, &l->rio);
		/* frames already buffered would wait for the next read */
		ev_feed_event(l->loop, &l->rio, EV_READ);
	}
}

void
link_hello(struct link *l, enum link_role role, uint32_t instance)
{
	struct link_out	m;

	link_begin(&m, l, LINK_HELLO, 0);
	link_put_hello(&m, role, instance);
	if (link_end(&m) == 0)
		l->hello_sent = true;
}

int
link_hello_recv(struct link *l, const struct link_hdr *h,
    const char *payload, unsigned roles, enum link_role self)
{
	char	why[96];

	if (link_hello_parse(h, payload, roles, &l->peer, why,
	    sizeof(why)) == -1) {
		/*
		 * A failed link is never flushed by the loop, so the
		 * answer is written now; a few bytes fit in any socket.
		 */
		if (h->type == LINK_HELLO && !l->hello_sent &&
		    l->peer.version != LINK_VERSION) {
			link_hello(l, self, 0);
			link_flush(l);
		}
		return link_fail(l, "%s", why);
	}
	l->hello_heard = true;
	return 0;
}

/* ---- blocking helpers (parleyctl) ---------------------------------------- */

int
link_write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		if ((w = write(fd, c, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
read_full(int fd, void *p, size_t n)
{
	char	*c = p;
	ssize_t	 r;

	while (n > 0) {
		if ((r = read(fd, c, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = ECONNRESET;
			return -1;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

int
link_read_frame(int fd, struct link_hdr *h, char **payload)
{
	unsigned char	hdr[LINK_HDR_LEN];

	*payload = NULL;
	if (read_full(fd, hdr, sizeof(hdr)) == -1)
		return -1;
	link_hdr_decode(h, hdr);
	if (h->len > LINK_MAX_PAYLOAD) {
		errno = EPROTO;
		return -1;
	}
	*payload = xmalloc(h->len + 1);
	if (read_full(fd, *payload, h->len) == -1) {
		free(*payload);
		*payload = NULL;
		return -1;
	}
	(*payload)[h->len] = '\0';
	return 0;
}
