/*
 * Stream management (XEP-0198) on the client's side of the c2s: the
 * <sm/> feature, <enable/>, <r/>, <a/>, <resume/>, the counters (modulo
 * 2^32) and the map from the client's h to the router's numbers. The
 * unacked stanzas themselves are kept by the router, so that they outlive
 * this process (docs/internals.md, "Stream management").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../common/xml.h"
#include "c2s.h"

#define NS_SM		"urn:xmpp:sm:3"
#define SM_ID_MAX	64		/* the router makes 32 hex digits */

static void	sm_timer_cb(struct ctimer *);

/* a minus b as a signed distance on the circle of 2^32 (XEP-0198 4) */
static int32_t
sm_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

void
sm_init(struct stream *st)
{
	ctimer_init(&st->sm.timer, sm_timer_cb);
}

void
sm_free(struct stream *st)
{
	ctimer_stop(&st->sm.timer);
	free(st->sm.id);
	free(st->sm.marks);
	memset(&st->sm, 0, sizeof(st->sm));
}

void
sm_features(struct stream *st, struct buf *b)
{
	(void)st;
	/* XEP-0198 2: offered once the client has authenticated */
	buf_puts(b, "<sm xmlns='" NS_SM "'/>");
}

/* a decimal u32, nothing else (XEP-0198 schema: xs:unsignedInt) */
int
sm_parse_u32(const char *s, uint32_t *v)
{
	unsigned long long	n = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 10)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (unsigned)(*s - '0');
	}
	if (n > UINT32_MAX)
		return -1;
	*v = (uint32_t)n;
	return 0;
}

/*
 * An answer to <enable/> or <resume/>: inside XEP-0388 <success/> when
 * they came inline (sasl2.c), on the stream otherwise.
 */
static void
sm_answer(struct stream *st, struct buf *b, bool ok)
{
	if (sasl2_pending(st))
		sasl2_sm_result(st, buf_rptr(b), buf_avail(b), ok);
	else
		stream_write(st, buf_rptr(b), buf_avail(b));
}

/* <failed/> with a stanza condition (XEP-0198 3, 5) and h when known */
static void
sm_failed(struct stream *st, enum stanza_err cond, bool with_h)
{
	struct buf	*b = &c2s.scratch;

	buf_reset(b);
	buf_puts(b, "<failed xmlns='" NS_SM "'");
	if (with_h)
		buf_printf(b, " h='%u'", st->sm.h_in);
	buf_printf(b, "><%s xmlns='" NS_STANZAS "'/></failed>",
	    stanza_err_name(cond));
	sm_answer(st, b, false);
	log_info("%016llx sm failed: %s", (unsigned long long)st->sid,
	    stanza_err_name(cond));
}

static void
sm_send_r(struct stream *st)
{
	stream_puts(st, "<r xmlns='" NS_SM "'/>");
	st->sm.asked = true;
	st->sm.asked_at = clock_now();
	ctimer_start(&st->sm.timer, c2s.conf.sm_request_interval);
}

void
sm_request(struct stream *st)
{
	stream_puts(st, "<r xmlns='" NS_SM "'/>");
}

static void
sm_send_a(struct stream *st)
{
	struct buf	*b = &c2s.scratch;

	buf_reset(b);
	buf_printf(b, "<a xmlns='" NS_SM "' h='%u'/>", st->sm.h_in);
	stream_write(st, buf_rptr(b), buf_avail(b));
	/* the router keeps h_in too: a resume elsewhere answers with it */
	uplink_sm_ack(st);
}

/*
 * An interval passed: stanzas still unacked get an <r/>; an <r/> still
 * unanswered while nothing at all was read since it went means the
 * connection is dead (issue 14, "Dead connections"): the session is
 * kept for resumption, as when the socket fails.
 */
static void
sm_timer_cb(struct ctimer *t)
{
	struct stream	*st = container_of(t, struct stream, sm.timer);

	if (st->state != ST_BOUND || !st->sm.on)
		return;
	if (st->sm.asked) {
		if (st->last_read <= st->sm.asked_at) {
			log_info("%016llx sm: no answer to <r/> in %d s",
			    (unsigned long long)st->sid,
			    c2s.conf.sm_request_interval);
			stream_lost(st);
			return;
		}
		/* alive, only slow: ask again */
	}
	if (st->sm.h_out != st->sm.acked_h || st->sm.asked)
		sm_send_r(st);
}

void
sm_handled(struct stream *st, int n)
{
	if (st->sm.on || st->sm.pending)
		st->sm.h_in += (uint32_t)n;
}

int64_t
sm_arrived(struct stream *st)
{
	if (!st->sm.on || !st->sm.synced)
		return -1;
	return ++st->sm.rseq;
}

static void
sm_mark_push(struct stream *st, uint32_t pos, uint32_t seq)
{
	struct sm_state	*sm = &st->sm;
	struct sm_mark	*v;
	size_t		 i;

	if (sm->mn == sm->mcap) {
		v = xcalloc(sm->mcap ? 2 * sm->mcap : 16, sizeof(*v));
		for (i = 0; i < sm->mn; i++)
			v[i] = sm->marks[(sm->mhead + i) % sm->mcap];
		free(sm->marks);
		sm->marks = v;
		sm->mhead = 0;
		sm->mcap = sm->mcap ? 2 * sm->mcap : 16;
	}
	sm->marks[(sm->mhead + sm->mn) % sm->mcap] = (struct sm_mark){ pos,
	    seq };
	sm->mn++;
}

void
sm_written(struct stream *st, int64_t rseq)
{
	struct sm_state	*sm = &st->sm;

	if (!sm->on || st->state != ST_BOUND)
		return;
	sm->h_out++;
	if (rseq >= 0) {
		sm_mark_push(st, sm->h_out, (uint32_t)rseq);
		sm->last = (uint32_t)rseq;
	} else
		/*
		 * Ours (a stanza error of this c2s, a stanza the router sent
		 * before it numbered them): not resumable. The router learns
		 * where it sits, so that it never takes an h for one of its
		 * own stanzas because of it.
		 */
		uplink_sm_ack(st);
	if (sm->asked)
		return;
	if (sm_diff(sm->h_out, sm->acked_h) >=
	    c2s.conf.sm_request_stanzas) {
		sm_send_r(st);
		return;
	}
	if (!ctimer_active(&sm->timer))
		ctimer_start(&sm->timer, c2s.conf.sm_request_interval);
}

/*
 * A frame of the router that the client is not given (sasl2.c's carbons
 * result), with nothing held before it (csi.c): the router may count it
 * acknowledged once the client has what was written before it.
 */
void
sm_skipped(struct stream *st, int64_t rseq)
{
	struct sm_state	*sm = &st->sm;

	if (!sm->on || st->state != ST_BOUND || rseq < 0 ||
	    st->csi.count > 0)
		return;
	sm_mark_push(st, sm->h_out, (uint32_t)rseq);
	sm->last = (uint32_t)rseq;
}

/* the client's <a h/> */
static void
sm_ack(struct stream *st, const struct xnode *el)
{
	struct sm_state	*sm = &st->sm;
	struct buf	*b = &c2s.scratch;
	uint32_t	 h, acked = sm->acked;
	struct sm_mark	*m;

	if (sm_parse_u32(xnode_attr(el, "h"), &h) == -1) {
		stream_error(st, SERR_BAD_FORMAT, "<a/> needs a number h");
		return;
	}
	if (sm_diff(h, sm->h_out) > 0) {
		/* XEP-0198 4: more than was sent is a stream error */
		log_info("%016llx sm: h=%u above %u sent",
		    (unsigned long long)st->sid, h, sm->h_out);
		csi_flush(st, "stream error");
		buf_reset(b);
		buf_printf(b, "<stream:error><undefined-condition xmlns='"
		    NS_STREAMS_ERR "'/><handled-count-too-high xmlns='" NS_SM
		    "' h='%u' send-count='%u'/><text xmlns='" NS_STREAMS_ERR
		    "'>You acknowledged %u stanzas while I sent you %u."
		    "</text></stream:error></stream:stream>", h, sm->h_out,
		    h, sm->h_out);
		(void)tp_write(&st->tp, buf_rptr(b), buf_avail(b));
		stream_close(st);
		return;
	}
	if (sm_diff(h, sm->acked_h) > 0)
		sm->acked_h = h;
	while (sm->mn > 0) {
		m = &sm->marks[sm->mhead];
		if (sm_diff(sm->acked_h, m->pos) < 0)
			break;
		acked = m->seq;
		sm->mhead = (sm->mhead + 1) % sm->mcap;
		sm->mn--;
	}
	sm->asked = false;
	if (sm->h_out == sm->acked_h)
		ctimer_stop(&sm->timer);
	else
		ctimer_start(&sm->timer, c2s.conf.sm_request_interval);
	if (acked != sm->acked) {
		sm->acked = acked;
		uplink_sm_ack(st);
	}
}

/*
 * <enable/>'s attributes (XEP-0198 3), here and inline in Bind2
 * (XEP-0386 2.2): resume is an xs:boolean; a bad max asks for none.
 */
void
sm_enable_parse(const struct xnode *el, bool *resumable, uint32_t *max)
{
	const char	*v;

	v = xnode_attr(el, "resume");
	*resumable = v != NULL && (strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0);
	*max = 0;
	if ((v = xnode_attr(el, "max")) != NULL && sm_parse_u32(v, max) == -1)
		*max = 0;
}

static void
sm_enable(struct stream *st, const struct xnode *el)
{
	uint32_t	 max;
	bool		 resumable;

	sm_enable_parse(el, &resumable, &max);
	sm_enable_with(st, resumable, max);
}

void
sm_enable_with(struct stream *st, bool resumable, uint32_t max)
{
	if (st->state != ST_BOUND) {
		/* XEP-0198 3: only after resource binding */
		sm_failed(st, XERR_UNEXPECTED_REQUEST, false);
		return;
	}
	if (st->sm.on || st->sm.pending) {
		sm_failed(st, XERR_UNEXPECTED_REQUEST, true);
		return;
	}
	if (!uplink_up()) {
		sm_failed(st, XERR_INTERNAL_SERVER_ERROR, false);
		return;
	}
	st->sm.resumable = resumable;
	st->sm.max = max;
	st->sm.pending = true;
	/* the client's stanzas count from its <enable/> on */
	st->sm.h_in = 0;
	uplink_sm_enable(st);
}

/* the router's LINK_SM_ENABLED: it numbers its stanzas to us from here */
void
sm_enabled(struct stream *st, const char *id, uint32_t max)
{
	struct sm_state	*sm = &st->sm;
	struct buf	*b = &c2s.scratch;

	sm->synced = true;
	if (sm->on) {
		/* re-announced (sm_link_lost numbered the marks again) */
		uplink_sm_ack(st);	/* what was acked while it was away */
		return;
	}
	sm->rseq = 0;
	sm->acked = 0;
	sm->last = 0;
	sm->mhead = sm->mn = 0;
	if (!sm->pending || st->state != ST_BOUND)
		return;
	sm->pending = false;
	sm->on = true;
	sm->h_out = sm->acked_h = 0;
	if (id == NULL)
		sm->resumable = false;
	free(sm->id);
	sm->id = id != NULL ? xstrdup(id) : NULL;
	sm->max = max;
	buf_reset(b);
	buf_puts(b, "<enabled xmlns='" NS_SM "'");
	if (sm->resumable) {
		buf_puts(b, " id='");
		xml_escape(b, id, strlen(id));
		buf_printf(b, "' resume='true' max='%u'", max);
		/*
		 * XEP-0198 3: where to come back to resume. Parley needs
		 * none (the router holds what resumes, and any c2s of any
		 * host reaches it); an operator may name this host.
		 */
		if (c2s.conf.sm_location != NULL) {
			buf_puts(b, " location='");
			xml_escape(b, c2s.conf.sm_location,
			    strlen(c2s.conf.sm_location));
			buf_puts(b, "'");
		}
	}
	buf_puts(b, "/>");
	sm_answer(st, b, true);
	log_info("%016llx sm enabled%s", (unsigned long long)st->sid,
	    sm->resumable ? " resumable" : "");
}

/*
 * <resume/>'s previd and h (XEP-0198 5), here and inline in SASL2
 * (XEP-0388 2.3); -1 when either is missing or bad.
 */
int
sm_resume_parse(const struct xnode *el, const char **previd, uint32_t *h)
{
	*previd = xnode_attr(el, "previd");
	if (*previd == NULL || strlen(*previd) > SM_ID_MAX ||
	    sm_parse_u32(xnode_attr(el, "h"), h) == -1)
		return -1;
	return 0;
}

static void
sm_resume(struct stream *st, const struct xnode *el)
{
	const char	*previd;
	uint32_t	 h;

	if (st->state != ST_AUTHED || st->sm.on || st->sm.pending) {
		/* XEP-0198 5: resumption replaces binding */
		sm_failed(st, XERR_UNEXPECTED_REQUEST, false);
		return;
	}
	if (sm_resume_parse(el, &previd, &h) == -1) {
		sm_failed(st, XERR_BAD_REQUEST, false);
		return;
	}
	sm_resume_with(st, previd, h);
}

void
sm_resume_with(struct stream *st, const char *previd, uint32_t h)
{
	if (st->state != ST_AUTHED || st->sm.on || st->sm.pending ||
	    strlen(previd) > SM_ID_MAX) {
		sm_failed(st, XERR_UNEXPECTED_REQUEST, false);
		return;
	}
	if (!uplink_up()) {
		sm_failed(st, XERR_INTERNAL_SERVER_ERROR, false);
		return;
	}
	st->sm.resume_h = h;
	st->state = ST_RESUME_WAIT;
	/* a stream that dies while it waits ends what the router moved */
	st->registered = true;
	uplink_sm_resume(st, previd, h);
}

/* the router's LINK_SM_RESUMED; the replay follows as LINK_STANZAs */
void
sm_resumed(struct stream *st, enum stanza_err err, const char *jid,
    const char *id, uint32_t h_in, uint32_t acked, uint32_t max)
{
	struct sm_state	*sm = &st->sm;
	struct buf	*b = &c2s.scratch;

	if (st->state != ST_RESUME_WAIT)
		return;
	if (err != XERR_COUNT) {
		st->state = ST_AUTHED;
		st->registered = false;
		sm_failed(st, err, false);
		return;
	}
	free(st->jid);
	st->jid = xstrdup(jid);
	st->state = ST_BOUND;
	stream_bound(st);
	/* XEP-0352 5: a resumed session starts active */
	st->inactive = false;
	sm->on = sm->resumable = sm->synced = true;
	free(sm->id);
	sm->id = xstrdup(id);
	sm->max = max;
	sm->h_in = h_in;
	/* XEP-0198 5: what the client handled is where we count from */
	sm->h_out = sm->acked_h = sm->resume_h;
	sm->rseq = sm->acked = sm->last = acked;
	sm->mhead = sm->mn = 0;
	buf_reset(b);
	buf_puts(b, "<resumed xmlns='" NS_SM "' previd='");
	xml_escape(b, id, strlen(id));
	buf_printf(b, "' h='%u'/>", h_in);
	sm_answer(st, b, true);
	log_info("%016llx sm resumed jid=%s h=%u", (unsigned long long)st->sid,
	    log_escs(jid), h_in);
}

void
sm_link_lost(struct stream *st)
{
	struct sm_state	*sm = &st->sm;
	size_t		 i;

	/*
	 * The next router numbers from 0 again; what the old one handed
	 * over (a planned restart, router/sm.c) it numbers so that the last
	 * stanza we had from the old one is 0. So the marks are kept,
	 * numbered alike from now on (an ack sent before the new router's
	 * LINK_SM_ENABLED is in its numbering too), and the client's acks
	 * of them still reach it. A router without the handover (a crash)
	 * finds them at or under 0 and drops nothing for them.
	 */
	if (sm->on && sm->synced) {
		for (i = 0; i < sm->mn; i++)
			sm->marks[(sm->mhead + i) % sm->mcap].seq -= sm->rseq;
		csi_renumber(st, sm->rseq);	/* held, not yet written */
		sm->acked -= sm->rseq;
		sm->last -= sm->rseq;
		sm->rseq = 0;
	}
	st->sm.synced = false;
	if (st->sm.pending && st->state == ST_BOUND) {
		st->sm.pending = false;
		sm_failed(st, XERR_INTERNAL_SERVER_ERROR, false);
	}
	if (st->state == ST_RESUME_WAIT)
		sm_resumed(st, XERR_INTERNAL_SERVER_ERROR, NULL, NULL, 0, 0,
		    0);
}

void
sm_link_up(struct stream *st)
{
	/* a restarted router numbers its stanzas anew (sm_enabled) */
	if (st->sm.on)
		uplink_sm_enable(st);
}

/*
 * Returns 0 when el was an SM element (handled, or the stream closed),
 * 1 when it is for the caller. Called once the client authenticated.
 */
int
sm_element(struct stream *st, struct xnode *el)
{
	if (strcmp(el->ns, NS_SM) != 0)
		return 1;
	if (strcmp(el->name, "enable") == 0)
		sm_enable(st, el);
	else if (strcmp(el->name, "resume") == 0)
		sm_resume(st, el);
	else if (strcmp(el->name, "r") == 0 && st->sm.on)
		sm_send_a(st);
	else if (strcmp(el->name, "a") == 0 && st->sm.on)
		sm_ack(st, el);
	else
		/* RFC 6120 4.9.3.22: not negotiated, or not ours to get */
		stream_error(st, SERR_UNSUPPORTED_STANZA_TYPE, el->name);
	return 0;
}
