/*
 * One client stream: the XML stream header and features, STARTTLS,
 * stream errors, and stanzas of a bound session on their way to the
 * router. The bytes come and go through the stream's transport
 * (common/transport.h); SASL is in auth.c, binding in bind.c.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/xml.h"
#include "c2s.h"

static void	stream_on_open(void *, const struct xnode *, const char *);
static void	stream_on_element(void *, struct xnode *, struct arena *);
static void	stream_on_close(void *);
static void	stream_throttle_cb(struct ctimer *);
static void	stream_event(struct transport *, enum tp_event, const char *,
		    size_t, void *);

static const struct xstream_cb stream_cbs = {
	stream_on_open, stream_on_element, stream_on_close
};

struct stream *
stream_find(uint64_t sid)
{
	return map_get64(c2s.streams, sid);
}

void
stream_write(struct stream *st, const char *p, size_t n)
{
	if (tp_dead(&st->tp))
		return;
	if (tp_write(&st->tp, p, n) == -1) {
		/* a client that does not read: the queue was emptied */
		log_info("%016llx output queue over %u bytes, closing",
		    (unsigned long long)st->sid, STREAM_OUT_MAX);
		stream_error(st, SERR_POLICY_VIOLATION,
		    "output queue limit reached");
	}
}

void
stream_puts(struct stream *st, const char *s)
{
	stream_write(st, s, strlen(s));
}

void
stream_send_element(struct stream *st, const struct xnode *el)
{
	buf_reset(&c2s.scratch);
	if (xnode_write(&c2s.scratch, el, NS_CLIENT) == -1) {
		log_warnx("%016llx <%s/> too large, not sent",
		    (unsigned long long)st->sid, el->name);
		return;
	}
	stream_write(st, buf_rptr(&c2s.scratch), buf_avail(&c2s.scratch));
	if (stanza_kind_of(el->ns, el->name, NS_CLIENT) != -1)
		sm_written(st, -1);	/* ours: a stanza error */
}

static void
stream_send_header(struct stream *st, const char *from)
{
	struct buf	*b = &c2s.scratch;
	unsigned char	 rnd[STREAM_ID_LEN / 2];

	random_bytes(rnd, sizeof(rnd));
	hex_encode(st->id, rnd, sizeof(rnd));
	buf_reset(b);
	buf_puts(b, "<?xml version='1.0'?><stream:stream xmlns='"
	    NS_CLIENT "' xmlns:stream='" NS_STREAM "' id='");
	buf_puts(b, st->id);
	if (from != NULL) {
		buf_puts(b, "' from='");
		xml_escape(b, from, strlen(from));
	}
	buf_puts(b, "' version='1.0' xml:lang='");
	xml_escape(b, st->lang ? st->lang : "en",
	    strlen(st->lang ? st->lang : "en"));
	buf_puts(b, "'>");
	stream_write(st, buf_rptr(b), buf_avail(b));
	st->header_sent = true;
}

void
stream_error(struct stream *st, enum stream_err cond, const char *text)
{
	stream_error_data(st, cond, NULL, text);
}

void
stream_error_data(struct stream *st, enum stream_err cond, const char *data,
    const char *text)
{
	struct buf	*b = &c2s.scratch;

	if (st->state == ST_CLOSING)
		return;
	/* held stanzas came before the error, as queued output does */
	csi_flush(st, "stream error");
	if (st->state == ST_CLOSING)
		return;
	log_info("%016llx stream error %s%s%s%s%s", (unsigned long long)st->sid,
	    stream_err_name(cond), data ? " " : "", data ? data : "",
	    text ? ": " : "", text ? text : "");
	/* RFC 6120 4.9.1.1: the header goes first if not yet sent */
	if (!st->header_sent)
		stream_send_header(st, st->domain ? st->domain :
		    c2s.conf.hosts[0].name);
	buf_reset(b);
	/* whole; LINK_STANZA_MAX */
	(void)stream_err_xml_data(b, cond, data, text);
	/* after a full queue was emptied: this fits */
	(void)tp_write(&st->tp, buf_rptr(b), buf_avail(b));
	stream_close(st);
}

/*
 * The router and the table forget the stream: on every way out (a close,
 * or a transport that failed), or a frame for its sid or a walk of
 * c2s.streams would find it after it is freed.
 */
static void
stream_forget(struct stream *st)
{
	if (st->gone)
		return;
	st->gone = true;
	if (st->registered)
		uplink_sess_end(st);	/* st->sm.lost: it may hibernate */
	st->registered = false;
	map_del64(c2s.streams, st->sid);
	st->state = ST_CLOSING;
	st->throttled = false;
	ctimer_stop(&st->throttle);
}

static void
stream_kill(struct stream *st)
{
	stream_forget(st);
	tp_kill(&st->tp);
}

void
stream_lost(struct stream *st)
{
	st->sm.lost = true;
	stream_kill(st);
}

/*
 * Closes the stream: the router forgets the session now, queued output
 * (the stream error, </stream:stream>) gets the transport's linger to go.
 */
void
stream_close(struct stream *st)
{
	if (st->gone)
		return;
	stream_forget(st);
	tp_close(&st->tp);
}

static void
stream_free(struct stream *st)
{
	if (st->web_gone != NULL)
		st->web_gone(st->web);
	limits_conn_close(st);
	xstream_free(st->xs);
	sasl_free(st->sasl);
	sasl2_stream_free(st);
	fast_stream_free(st);
	buf_clear(&st->held);
	csi_free(st);
	sm_free(st);
	ping_free(st);
	free(st->domain);
	free(st->lang);
	free(st->node);
	free(st->jid);
	free(st->bind_id);
	free(st->reg_id);
	free(st->preauth);
	free(st->presence);
	rejoin_free(st);
	c2s.nstreams--;
	free(st);
}

/* after STARTTLS or SASL success: a new stream on the same connection */
void
stream_restart(struct stream *st)
{
	xstream_reset(st->xs);
	st->header_sent = false;
	st->state = ST_HEADER;
}

/* reading stops while the router link is congested or the rate says so */
static void
stream_update_reading(struct stream *st)
{
	if (st->paused || st->throttled)
		tp_pause(&st->tp);
	else
		tp_resume(&st->tp);
}

static int
stream_resume(const void *key, size_t len, void *val, void *arg)
{
	struct stream	*st = val;

	(void)key;
	(void)len;
	(void)arg;
	if (st->paused) {
		st->paused = false;
		stream_update_reading(st);
	}
	return 0;
}

/*
 * Backpressure: while the router link's queue is above its high-water
 * mark, bound sessions stop being read (the kernel's socket buffers then
 * slow the clients down) instead of the queue growing to its cap. The
 * link's drain (or its loss) resumes them: no polling.
 */
struct stream_walk {
	struct stream	**v;
	size_t		  n, cap;
};

static int
stream_collect(const void *key, size_t len, void *val, void *arg)
{
	struct stream_walk	*w = arg;

	(void)key;
	(void)len;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		w->v = xrealloc(w->v, w->cap * sizeof(*w->v));
	}
	w->v[w->n++] = val;
	return 0;
}

size_t
stream_list(struct stream ***v)
{
	struct stream_walk	w = { NULL, 0, 0 };

	map_foreach(c2s.streams, stream_collect, &w);
	*v = w.v;
	return w.n;
}

void
stream_resume_all(void)
{
	if (c2s.npaused == 0)
		return;
	c2s.npaused = 0;
	map_foreach(c2s.streams, stream_resume, NULL);
}

static int
stream_release(const void *key, size_t len, void *val, void *arg)
{
	struct stream	*st = val;

	(void)key;
	(void)len;
	(void)arg;
	if (st->throttled)
		ctimer_start(&st->throttle, 0);
	return 0;
}

void
stream_release_all(void)
{
	map_foreach(c2s.streams, stream_release, NULL);
}

static void
stream_pause(struct stream *st)
{
	st->paused = true;
	c2s.npaused++;
	stream_update_reading(st);
}

void
stream_bound(struct stream *st)
{
	/* negotiation is over: from now on the idle timeout */
	tp_set_timeout(&st->tp, c2s.conf.idle_timeout < STREAM_HIBERNATE ?
	    c2s.conf.idle_timeout : STREAM_HIBERNATE);
	ping_start(st);
}

void
stream_feed(struct stream *st, const char *data, size_t n)
{
	if (st->state == ST_CLOSING)
		return;
	st->last_read = clock_now();
	log_trace(TRACE_XML, "%016llx recv %s", (unsigned long long)st->sid,
	    xstream_trace_text(st->xs, data, n));
	if (st->state == ST_BOUND && xstream_hibernating(st->xs))
		/* awake again: hibernate after the next silence */
		tp_set_timeout(&st->tp, STREAM_HIBERNATE);
	if (xstream_feed(st->xs, data, n) == -1)
		stream_error(st, xstream_error(st->xs),
		    xstream_error_text(st->xs));
}

/*
 * RFC 7395 3.3.3: a WebSocket message carries one complete element; a
 * message with a part of one (the rest to come in the next) or with two
 * is refused, as a stanza that is not well-formed on its own. A message
 * of whitespace only carries none and is let through.
 */
void
stream_feed_element(struct stream *st, const char *data, size_t n)
{
	uint64_t	before;

	if (st->state == ST_CLOSING)
		return;
	before = xstream_elements(st->xs);
	stream_feed(st, data, n);
	if (st->state == ST_CLOSING)
		return;
	if (!xstream_between(st->xs))
		stream_error(st, SERR_NOT_WELL_FORMED, "a WebSocket message "
		    "that ends inside an element (RFC 7395 3.3.3)");
	else if (xstream_elements(st->xs) - before > 1)
		stream_error(st, SERR_NOT_WELL_FORMED, "a WebSocket message "
		    "of more than one element (RFC 7395 3.3.3)");
}

static void
stream_timeout(struct stream *st)
{
	double	idle, next;

	if (st->state != ST_BOUND) {
		stream_error(st, SERR_CONNECTION_TIMEOUT,
		    "negotiation took too long");
		return;
	}
	idle = clock_now() - st->last_read;
	if (idle >= c2s.conf.idle_timeout) {
		/* a silent connection may be dead: kept if resumable */
		st->sm.lost = true;
		stream_error(st, SERR_CONNECTION_TIMEOUT, "idle");
		return;
	}
	/* a quiet session keeps no parser and no output buffer */
	if (idle >= STREAM_HIBERNATE && !xstream_hibernating(st->xs)) {
		if (xstream_hibernate(st->xs))
			log_debug("%016llx idle: parser freed",
			    (unsigned long long)st->sid);
		tp_trim(&st->tp);
	}
	if (idle >= STREAM_HIBERNATE && !xstream_hibernating(st->xs))
		next = STREAM_HIBERNATE;	/* mid-stanza: later */
	else if (!xstream_hibernating(st->xs) && idle < STREAM_HIBERNATE)
		next = STREAM_HIBERNATE - idle;
	else
		next = c2s.conf.idle_timeout - idle;
	if (next > c2s.conf.idle_timeout - idle)
		next = c2s.conf.idle_timeout - idle;
	tp_set_timeout(&st->tp, next);
}

/* the transport's one callback */
static void
stream_event(struct transport *tp, enum tp_event ev, const char *data,
    size_t n, void *arg)
{
	struct stream	*st = arg;

	(void)tp;
	switch (ev) {
	case TP_DATA_IN:
		stream_feed(st, data, n);
		break;
	case TP_TIMEOUT:
		stream_timeout(st);
		break;
	case TP_CLOSED:
		log_debug("%016llx closed by client",
		    (unsigned long long)st->sid);
		/* XEP-0198 5: no </stream:stream>, so resumable */
		st->sm.lost = true;
		csi_flush(st, "eof");
		stream_close(st);
		break;
	case TP_ERROR:
		log_debug("%016llx %s", (unsigned long long)st->sid, data);
		st->sm.lost = true;
		stream_forget(st);
		break;
	case TP_TLS_DONE:
		st->tls_on = true;
		stream_restart(st);
		break;
	case TP_GONE:
		stream_free(st);
		break;
	case TP_LOW_WATER:
	case TP_CONNECTED:
		break;
	}
}

static struct stream *
stream_new(struct listener *lst)
{
	struct stream	*st;

	st = xcalloc(1, sizeof(*st));
	st->lst = lst;
	st->sid = ((uint64_t)c2s.instance << 48) | ++c2s.next_sid;
	tp_init(&st->tp, STREAM_OUT_MAX, stream_event, st);
	tp_set_name(&st->tp, "%016llx", (unsigned long long)st->sid);
	buf_init(&st->held, STREAM_HELD_MAX);
	st->xs = xstream_new(&stream_cbs, st, c2s.conf.max_stanza_size);
	xstream_preauth(st->xs, auth_preauth());
	st->last_read = clock_now();
	ctimer_init(&st->throttle, stream_throttle_cb);
	sm_init(st);
	ping_init(st);
	map_put64(c2s.streams, st->sid, st);
	c2s.nstreams++;
	return st;
}

struct stream *
stream_web_new(const char *peer, bool secure, const struct tp_framing *f,
    void *web, void (*gone)(void *))
{
	struct stream	*st;

	st = stream_new(NULL);
	snprintf(st->peer, sizeof(st->peer), "%s", peer);
	st->tls_on = secure;
	st->web = web;
	st->web_gone = gone;
	st->tp.framing = f;
	st->state = ST_HEADER;
	tp_set_timeout(&st->tp, c2s.conf.negotiation_timeout);
	if (!limits_conn_open(st))
		stream_error(st, SERR_POLICY_VIOLATION,
		    "too many connections from your address");
	else
		log_debug("%016llx web stream from %s",
		    (unsigned long long)st->sid, peer);
	return st;
}

void
stream_accept(struct listener *lst, int fd)
{
	struct stream	*st;

	st = stream_new(lst);
	peer_key(fd, st->peer, sizeof(st->peer));
	tp_open(&st->tp, fd);
	tp_set_timeout(&st->tp, c2s.conf.negotiation_timeout);
	if (!limits_conn_open(st)) {
		if (lst->cl->kind == LISTEN_C2S_TLS) {
			/* no TLS yet, so no way to say why */
			stream_kill(st);
			return;
		}
		stream_error(st, SERR_POLICY_VIOLATION,
		    "too many connections from your address");
		return;
	}
	log_debug("%016llx accepted on %s port %u%s",
	    (unsigned long long)st->sid, lst->cl->addr, lst->cl->port,
	    lst->cl->kind == LISTEN_C2S_TLS ? " (direct TLS)" : "");
	if (lst->cl->kind == LISTEN_C2S_TLS) {
		/* XEP-0368: TLS from the first byte */
		st->state = ST_HANDSHAKE;
		tp_start_tls(&st->tp, tls_server_new(&c2s.tls, fd));
		return;
	}
	st->state = ST_HEADER;
}

/* ---- XML stream callbacks -------------------------------------------------- */

static int
stream_check_header(struct stream *st, const struct xnode *hdr,
    const char *default_ns)
{
	const struct conf_host	*h;
	const char		*to, *version, *lang;
	char			 dom[JID_PART_MAX + 1];

	lang = xnode_attr_ns(hdr, NS_XML, "lang");
	if (lang != NULL && st->lang == NULL && strlen(lang) <= 35 &&
	    strspn(lang, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == strlen(lang))
		st->lang = xstrdup(lang);
	/* RFC 6120 4.9.3.10 */
	if (strcmp(hdr->ns, NS_STREAM) != 0) {
		stream_error(st, SERR_INVALID_NAMESPACE, NULL);
		return -1;
	}
	if (strcmp(hdr->name, "stream") != 0) {
		stream_error(st, SERR_BAD_FORMAT, "expected <stream:stream>");
		return -1;
	}
	if (strcmp(default_ns, NS_CLIENT) != 0) {
		stream_error(st, SERR_INVALID_NAMESPACE,
		    "the content namespace must be jabber:client");
		return -1;
	}
	/* RFC 6120 4.9.3.6 */
	to = xnode_attr(hdr, "to");
	if (to == NULL || jid_nameprep(to, dom) == -1 ||
	    (h = conf_host_find(&c2s.conf, dom)) == NULL ||
	    (st->domain != NULL && strcmp(st->domain, h->name) != 0)) {
		stream_error(st, SERR_HOST_UNKNOWN, NULL);
		return -1;
	}
	if (st->domain == NULL)
		st->domain = xstrdup(h->name);
	/* RFC 6120 4.7.5: we speak 1.0; a missing version means 0.9 */
	version = xnode_attr(hdr, "version");
	if (version == NULL || strtol(version, NULL, 10) < 1) {
		stream_error(st, SERR_UNSUPPORTED_VERSION, NULL);
		return -1;
	}
	return 0;
}

static void
stream_on_open(void *ctx, const struct xnode *hdr, const char *default_ns)
{
	struct stream	*st = ctx;

	if (st->state != ST_HEADER) {
		stream_error(st, SERR_BAD_FORMAT, NULL);
		return;
	}
	if (stream_check_header(st, hdr, default_ns) == -1)
		return;
	stream_send_header(st, st->domain);
	stream_features(st);
	st->state = st->authed ? (st->jid ? ST_BOUND : ST_AUTHED) :
	    ST_FEATURES;
}

/* after the header, and after XEP-0388 <success/> (no restart there) */
void
stream_features(struct stream *st)
{
	struct buf	*b = &c2s.scratch;

	buf_reset(b);
	buf_puts(b, "<stream:features>");
	/* RFC 7395 3.4, XEP-0206 4: TLS is the web transport's */
	if (!st->tls_on && st->web == NULL)
		buf_puts(b, c2s.conf.c2s_require_tls ?
		    "<starttls xmlns='" NS_TLS "'><required/></starttls>" :
		    "<starttls xmlns='" NS_TLS "'/>");
	if (!st->authed) {
		auth_features(st, b);
		register_features(st, b);
	} else {
		/* after XEP-0388 <success/>: what is not done yet */
		bind_features(st, b);	/* and the roster's, in any case */
		if (!st->sm.on && !st->sm.pending)
			sm_features(st, b);
		csi_features(st, b);
		caps_features(st, b);
	}
	limits_features(st, b);
	buf_puts(b, "</stream:features>");
	stream_write(st, buf_rptr(b), buf_avail(b));
}

static void
stream_starttls(struct stream *st)
{
	if (st->tls_on) {
		/* RFC 6120 5.4.2.2: no second TLS layer */
		stream_error(st, SERR_POLICY_VIOLATION, "TLS already on");
		return;
	}
	stream_puts(st, "<proceed xmlns='" NS_TLS "'/>");
	st->state = ST_STARTTLS;
	/* RFC 6120 5.4.3.3: nothing sent in the clear after <starttls/> */
	xstream_stop(st->xs);
	/* the handshake starts once <proceed/> is out */
	tp_start_tls(&st->tp, tls_server_new(&c2s.tls, tp_fd(&st->tp)));
}

static void
stanza_reject(struct stream *st, struct xnode *el, struct arena *a,
    enum stanza_err cond, const char *text)
{
	if (stanza_is_error(el))
		return;		/* RFC 6120 8.3.1: never answer an error */
	/* the reply goes to this session, from the address it was sent to */
	if (cond == XERR_JID_MALFORMED)
		xnode_set_attr(a, el, "to", NULL);
	xnode_set_attr(a, el, "from", st->jid);
	stanza_make_error(a, el, cond, text);
	stream_send_element(st, el);
}

/* held records: stanza envelopes without from (the session's, at release) */
static int
stream_hold(struct stream *st, int kind, int type, const char *to,
    const struct buf *xml)
{
	struct link_out	m;

	link_out_buf(&m, &st->held);
	link_put_stanza(&m, kind, type, to, NULL, buf_rptr(xml),
	    buf_avail(xml));
	return link_out_buf_end(&m);
}

/*
 * More over the rate than STREAM_HELD_MAX holds: the stanza is refused,
 * never dropped unheard (RFC 6120 8.3.3.18 resource-constraint, wait);
 * what was held before it still goes, in order. An error or an IQ
 * response may not be answered with an error (RFC 6120 8.3.1, 8.2.3):
 * for one of those the stream ends (4.9.3.14 policy-violation).
 */
static void
stream_held_full(struct stream *st, struct xnode *el, struct arena *a,
    int kind, int type)
{
	if (!st->held_full)
		log_info("%016llx %s with %zu bytes held: refusing stanzas",
		    (unsigned long long)st->sid, c2s.holding ?
		    "the router restarting" : "over c2s-stanza-rate",
		    buf_avail(&st->held));
	st->held_full = true;
	if (stanza_is_error(el) || (kind == KIND_IQ && type == IQ_RESULT)) {
		stream_error(st, SERR_POLICY_VIOLATION,
		    "too many stanzas over the rate");
		return;
	}
	stanza_reject(st, el, a, XERR_RESOURCE_CONSTRAINT, c2s.holding ?
	    UPLINK_AWAY_TEXT :
	    "too many stanzas over your rate; slow down");
}

static void
stream_refuse_one(struct xnode *el, struct arena *a, void *arg)
{
	struct stream	*st = arg;

	if (stanza_kind_of(el->ns, el->name, NS_CLIENT) != KIND_PRESENCE)
		stanza_reject(st, el, a, XERR_RESOURCE_CONSTRAINT,
		    UPLINK_AWAY_TEXT);
}

/*
 * Held through a router restart that did not come back in time
 * (quiesce.c): refused as a stanza is when the router is away (a
 * presence dropped), each counted handled (XEP-0198 4).
 */
static void
stream_refuse_held(struct stream *st)
{
	static struct xparse	*xp;
	struct link_in		 in;
	struct link_stanza	 ls;

	if (xp == NULL)
		xp = xparse_new(NS_CLIENT, LINK_STANZA_MAX);
	link_in_init(&in, buf_rptr(&st->held), buf_avail(&st->held));
	while (in.left > 0 && st->state == ST_BOUND) {
		link_get_stanza(&in, &ls);
		if (in.bad)
			break;
		sm_handled(st, 1);
		(void)xparse_one(xp, ls.xml, ls.xlen, stream_refuse_one, st);
	}
	buf_reset(&st->held);
}

/*
 * The rate allows more: held stanzas go to the router in order, as the
 * tokens come; once none is left the client is read again. While the
 * router restarts they stay (quiesce.c releases them).
 */
static void
stream_throttle_cb(struct ctimer *t)
{
	struct stream	*st = container_of(t, struct stream, throttle);
	struct link_in	 in;
	struct link_stanza ls;
	struct buf	 x;
	size_t		 used;
	double		 pause;
	char		 tobuf[JID_STR_MAX + 1];

	while (buf_avail(&st->held) > 0) {
		if (c2s.holding)
			return;
		if (!uplink_up()) {
			stream_refuse_held(st);
			break;
		}
		/* a release after a restart is a burst: the drain goes on */
		if (c2s.up != NULL && link_congested(c2s.up))
			return;
		if ((pause = limits_stanza_wait(st)) > 0) {
			ctimer_start(t, pause);
			return;
		}
		link_in_init(&in, buf_rptr(&st->held), buf_avail(&st->held));
		link_get_stanza(&in, &ls);
		if (in.bad || (ls.to != NULL &&
		    !link_strcpy(tobuf, sizeof(tobuf), ls.to, ls.tolen))) {
			buf_reset(&st->held);
			break;
		}
		used = buf_avail(&st->held) - in.left;
		limits_stanza_take(st);
		sm_handled(st, 1);
		/* held only once under LINK_STANZA_MAX (stream_stanza) */
		buf_init(&x, LINK_STANZA_MAX);
		if (buf_append(&x, ls.xml, ls.xlen) == -1) {
			buf_reset(&st->held);
			break;
		}
		(void)uplink_stanza(st, ls.kind, ls.type,
		    ls.to != NULL ? tobuf : NULL, st->jid, &x);
		buf_clear(&x);
		buf_consume(&st->held, used);
	}
	st->throttled = false;
	st->held_full = false;
	stream_update_reading(st);
}

static void
stream_set_presence(struct stream *st, const char *xml, size_t len)
{
	free(st->presence);
	st->presence = NULL;
	st->presence_len = 0;
	if (xml == NULL)
		return;
	st->presence_len = len;
	st->presence = xmalloc(len);
	memcpy(st->presence, xml, len);
}

/*
 * A broadcast presence (c2s.scratch, stamped): the last available one is
 * what a new router is told after a restart (uplink_announce), so that
 * it knows the session available again and its contacts see it.
 */
static void
stream_keep_presence(struct stream *st, int type)
{
	st->presence_own = true;
	stream_set_presence(st, type == PRES_AVAILABLE ?
	    buf_rptr(&c2s.scratch) : NULL, buf_avail(&c2s.scratch));
}

/*
 * The router's LINK_SESS_KEEP: the available presence of a session
 * resumed here, which the c2s it left had kept; one the client sent
 * since is newer than the router's when it sent this
 */
void
stream_presence_kept(struct stream *st, const char *xml, size_t len)
{
	if (!st->presence_own)
		stream_set_presence(st, xml, len);
}

/* a stanza of a bound session: check, stamp and hand to the router */
static void
stream_stanza(struct stream *st, struct xnode *el, struct arena *a)
{
	struct jid	 to;
	const char	*tostr;
	char		*norm = NULL;
	double		 pause = 0;
	int		 kind, type;

	if ((kind = stanza_kind_of(el->ns, el->name, NS_CLIENT)) == -1) {
		stream_error(st, SERR_UNSUPPORTED_STANZA_TYPE, el->name);
		return;
	}
	/* XEP-0198 4: handled, whether passed on or refused */
	sm_handled(st, 1);
	if (ping_element(st, el) == 0)
		return;		/* our ping's answer: not for the router */
	type = stanza_type_of(kind, xnode_attr(el, "type"));
	if (type == STANZA_TYPE_BAD) {
		stanza_reject(st, el, a, XERR_BAD_REQUEST, "unknown type");
		return;
	}
	if (kind == KIND_IQ) {
		/* RFC 6120 8.2.3: an id, and one payload for get and set */
		if (xnode_attr(el, "id") == NULL ||
		    ((type == IQ_GET || type == IQ_SET) &&
		    xnode_only_child(el) == NULL)) {
			stanza_reject(st, el, a, XERR_BAD_REQUEST,
			    "an iq needs an id and one payload element");
			return;
		}
	}
	if ((tostr = xnode_attr(el, "to")) != NULL) {
		if (jid_parse(&to, tostr) == -1) {
			stanza_reject(st, el, a, XERR_JID_MALFORMED, NULL);
			return;
		}
		norm = jid_full(&to);
		jid_clear(&to);
		xnode_set_attr(a, el, "to", norm);
	}
	/* RFC 6120 8.1.2.1: the server stamps from; the client's is ignored */
	xnode_set_attr(a, el, "from", st->jid);
	buf_reset(&c2s.scratch);
	/* escaping can make a stanza under the limit pass the scratch cap */
	if (xnode_write(&c2s.scratch, el, NS_CLIENT) == -1) {
		stream_error(st, SERR_POLICY_VIOLATION,
		    "stanza too large once serialised");
		goto done;
	}
	if (kind == KIND_PRESENCE && norm == NULL) {
		stream_keep_presence(st, type);
		rejoin_own(st, type);
	} else if (kind == KIND_PRESENCE)
		rejoin_out(st, el, a, type, norm);
	/*
	 * Over the stanza rate, or the router restarting: kept in order,
	 * and the client is read later
	 */
	if (st->throttled || c2s.holding ||
	    (pause = limits_stanza_wait(st)) > 0) {
		if (stream_hold(st, kind, type, norm, &c2s.scratch) == -1) {
			stream_held_full(st, el, a, kind, type);
			goto done;
		}
		sm_handled(st, -1);	/* counted when it goes on */
		if (!st->throttled) {
			st->throttled = true;
			stream_update_reading(st);
			ctimer_start(&st->throttle, pause);
		}
		goto done;
	}
	limits_stanza_take(st);
	if (uplink_stanza(st, kind, type, norm, st->jid, &c2s.scratch) == -1) {
		buf_reset(&c2s.scratch);
		if (kind != KIND_PRESENCE)
			stanza_reject(st, el, a, XERR_RESOURCE_CONSTRAINT,
			    UPLINK_AWAY_TEXT);
	} else if (c2s.up != NULL && link_congested(c2s.up) && !st->paused)
		stream_pause(st);
done:
	free(norm);
}

static void
stream_on_element(void *ctx, struct xnode *el, struct arena *a)
{
	struct stream	*st = ctx;

	if (st->state == ST_CLOSING)
		return;
	log_trace(TRACE_XML, "%016llx element %s state=%d",
	    (unsigned long long)st->sid, el->name, st->state);
	switch (st->state) {
	case ST_FEATURES:
		if (strcmp(el->ns, NS_TLS) == 0 &&
		    strcmp(el->name, "starttls") == 0) {
			stream_starttls(st);
			return;
		}
		if (auth_element(st, el) == 0)
			return;
		if (sasl2_element(st, el, a) == 0)
			return;
		if (register_element(st, el, a) == 0)
			return;
		break;
	case ST_AUTH_WAIT:
		/* RFC 6120 6.4.5: <abort/> while the router looks up */
		if (auth_element(st, el) == 0)
			return;
		if (sasl2_element(st, el, a) == 0)
			return;
		break;
	case ST_AUTHED:
	case ST_BIND_WAIT:
	case ST_BOUND:
	case ST_RESUME_WAIT:
		if (sm_element(st, el) == 0)
			return;
		if (csi_element(st, el) == 0)
			return;
		if (st->state == ST_BIND_WAIT || st->state == ST_RESUME_WAIT)
			break;
		switch (bind_element(st, el, a)) {
		case 0:
		case -1:
			return;
		}
		if (st->state == ST_BOUND) {
			stream_stanza(st, el, a);
			return;
		}
		break;
	default:
		break;
	}
	/* RFC 6120 4.9.3.12: nothing else before authentication and binding */
	stream_error(st, SERR_NOT_AUTHORIZED, NULL);
}

static void
stream_on_close(void *ctx)
{
	struct stream	*st = ctx;

	log_debug("%016llx stream closed by client",
	    (unsigned long long)st->sid);
	if (st->state != ST_CLOSING)
		csi_flush(st, "stream end");
	if (st->state != ST_CLOSING) {
		stream_puts(st, "</stream:stream>");
		stream_close(st);
	}
	xstream_stop(st->xs);
}
