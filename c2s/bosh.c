/*
 * BOSH (XEP-0124, XEP-0206): a client stream carried by a series of HTTP
 * requests. A session owns a struct stream without a socket (as
 * websocket.c does); the payload of each request body is fed to it in
 * rid order, and what it writes waits in the session until a held
 * request can carry it back. Every c2s process serves HTTP: a request
 * whose sid names another one goes there (boshfwd.c, docs/internals.md,
 * "Several c2s workers").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/xml.h"
#include "c2s.h"
#include "http.h"
#include "websocket.h"

#define NS_HTTPBIND	"http://jabber.org/protocol/httpbind"
#define NS_XBOSH	"urn:xmpp:xbosh"
#define BOSH_HOLD	1		/* requests held at most */
#define BOSH_REQUESTS	(BOSH_HOLD + 1)	/* XEP-0124 7.1: hold + 1 */
#define BOSH_MAXPAUSE	120		/* seconds (7.1 maxpause) */
/*
 * The sid: the owner's instance in 4 hex digits, then 128 random bits in
 * 32, so a worker knows whose session a request names
 */
#define BOSH_SID_INST	4
#define BOSH_SID_RAND	32
#define BOSH_SID_LEN	(BOSH_SID_INST + BOSH_SID_RAND)
/* one response's payload: it fits a link frame when forwarded */
#define BOSH_MAX_BODY	LINK_STANZA_MAX

struct bosh;

struct bosh_hold {
	struct http_req		*req;		/* NULL when free */
	uint64_t		 rid;
	struct ctimer		 timer;		/* the client's wait */
	struct bosh		*b;
};

/* a request that came before the rids below it (several in flight) */
struct bosh_early {
	uint64_t		 rid;
	char			*body;		/* NULL when free */
	size_t			 len;
	struct http_req		*req;
};

struct bosh {
	char			 sid[BOSH_SID_LEN + 1];
	struct stream		*st;		/* NULL once it is gone */
	char			*to;		/* our host */
	char			*lang;
	uint64_t		 rid;		/* the last processed */
	int			 wait;		/* seconds */
	int			 hold;
	bool			 created;	/* the creation answered */
	bool			 busy;		/* feeding a body: answer
						   once it is all read */
	bool			 terminate;	/* the stream ended */
	bool			 stream_error;	/* ... with an error */
	const char		*condition;	/* or ended for this (17.2) */
	struct buf		 out;		/* the stream's elements */
	struct ws_split		 split;
	struct bosh_hold	 holds[BOSH_REQUESTS];
	struct bosh_early	 early[BOSH_REQUESTS];
	struct buf		 last;		/* the last answer ... */
	uint64_t		 last_rid;	/* ... and its rid */
	struct ctimer		 idle;		/* inactivity, pause */
};

static struct map	*sessions;	/* sid -> struct bosh */
static struct xparse	*xp;

static void	bosh_pump(struct bosh *);
static void	bosh_end(struct bosh *);

/* ---- answers ----------------------------------------------------------- */

void
bosh_reply(struct http_req *r, const char *body, size_t len)
{
	http_cors(r, "GET, POST, OPTIONS", "Content-Type");
	http_respond(r, 200, "text/xml; charset=utf-8", body, len);
}

/* a terminal binding condition (XEP-0124 17.2) for a request */
void
bosh_fail(struct http_req *r, const char *condition)
{
	char	body[256];
	int	n;

	log_info("bosh: %s from %s", condition, r->client);
	n = snprintf(body, sizeof(body), "<body xmlns='" NS_HTTPBIND
	    "' type='terminate' condition='%s'/>", condition);
	bosh_reply(r, body, (size_t)n);
}

static int
bosh_held(const struct bosh *b)
{
	int	i, n = 0;

	for (i = 0; i < BOSH_REQUESTS; i++)
		if (b->holds[i].req != NULL)
			n++;
	return n;
}

/* inactivity counts while the client holds no request (XEP-0124 7.1) */
static void
bosh_idle_update(struct bosh *b, double after)
{
	if (bosh_held(b) > 0)
		ctimer_stop(&b->idle);
	else if (after > 0 || !ctimer_active(&b->idle))
		ctimer_start(&b->idle, after > 0 ? after :
		    c2s.conf.bosh_max_inactivity);
}

/* answers the oldest held request with what waits (or nothing) */
static void
bosh_answer(struct bosh *b, struct bosh_hold *h)
{
	struct buf	 body;
	struct http_req	*r = h->req;

	buf_init(&body, 0);
	buf_puts(&body, "<body xmlns='" NS_HTTPBIND "'");
	if (!b->created) {
		/* XEP-0124 7.1, XEP-0206 5: the session's parameters */
		b->created = true;
		buf_printf(&body, " sid='%s' wait='%d' inactivity='%d' "
		    "polling='1' requests='%d' hold='%d' maxpause='%d' "
		    "ver='1.11' secure='true' from='", b->sid, b->wait,
		    c2s.conf.bosh_max_inactivity, BOSH_REQUESTS, b->hold,
		    BOSH_MAXPAUSE);
		xml_escape(&body, b->to, strlen(b->to));
		buf_puts(&body, "' xmpp:version='1.0' xmlns:xmpp='" NS_XBOSH
		    "' xmpp:restartlogic='true'");
	}
	if (b->terminate && b->stream_error)
		buf_puts(&body, " type='terminate' "
		    "condition='remote-stream-error'");
	else if (b->terminate && b->condition != NULL)
		buf_printf(&body, " type='terminate' condition='%s'",
		    b->condition);
	else if (b->terminate)
		buf_puts(&body, " type='terminate'");
	if (buf_avail(&b->out) == 0) {
		buf_puts(&body, "/>");
	} else {
		buf_puts(&body, " xmlns:stream='" NS_STREAM "'>");
		buf_append(&body, buf_rptr(&b->out), buf_avail(&b->out));
		buf_puts(&body, "</body>");
		buf_reset(&b->out);
	}
	h->req = NULL;
	b->last_rid = h->rid;
	ctimer_stop(&h->timer);
	/* XEP-0124 14.3: kept for a client that has to ask again */
	buf_reset(&b->last);
	(void)buf_append(&b->last, buf_rptr(&body), buf_avail(&body));
	bosh_reply(r, buf_rptr(&body), buf_avail(&body));
	buf_clear(&body);
	bosh_idle_update(b, 0);
}

static struct bosh_hold *
bosh_oldest(struct bosh *b)
{
	int	i;

	/* holds are taken in rid order from the front */
	for (i = 0; i < BOSH_REQUESTS; i++)
		if (b->holds[i].req != NULL)
			return &b->holds[i];
	return NULL;
}

static void
bosh_pump(struct bosh *b)
{
	struct bosh_hold	*h;

	if (b->busy)
		return;
	while ((h = bosh_oldest(b)) != NULL &&
	    (buf_avail(&b->out) > 0 || b->terminate ||
	    bosh_held(b) > b->hold))
		bosh_answer(b, h);
	if (b->terminate && bosh_held(b) == 0 && b->created)
		bosh_end(b);
}

static void
bosh_wait_cb(struct ctimer *t)
{
	struct bosh_hold	*h = container_of(t, struct bosh_hold, timer);

	/* XEP-0124 10: an empty answer once wait passes */
	if (h->req != NULL)
		bosh_answer(h->b, h);
}

/* the connection of a held request went */
static void
bosh_req_gone(struct http_req *r, void *arg)
{
	struct bosh	*b = arg;
	int		 i;

	for (i = 0; i < BOSH_REQUESTS; i++)
		if (b->holds[i].req == r) {
			b->holds[i].req = NULL;
			ctimer_stop(&b->holds[i].timer);
		}
	for (i = 0; i < BOSH_REQUESTS; i++)
		if (b->early[i].req == r) {
			free(b->early[i].body);
			b->early[i].body = NULL;
			b->early[i].req = NULL;
		}
	bosh_idle_update(b, 0);
}

static void
bosh_hold_req(struct bosh *b, struct http_req *r)
{
	int	i, j;

	/* keep rid order: move the others to the front */
	for (i = 0, j = 0; i < BOSH_REQUESTS; i++)
		if (b->holds[i].req != NULL) {
			if (i != j) {
				b->holds[j].req = b->holds[i].req;
				b->holds[j].rid = b->holds[i].rid;
				b->holds[i].req = NULL;
				ctimer_start(&b->holds[j].timer,
				    ctimer_remaining(&b->holds[i].timer));
				ctimer_stop(&b->holds[i].timer);
			}
			j++;
		}
	if (j == BOSH_REQUESTS) {
		/* more than requests in flight: the oldest goes now */
		bosh_answer(b, &b->holds[0]);
		bosh_hold_req(b, r);
		return;
	}
	b->holds[j].req = r;
	b->holds[j].rid = b->rid;
	ctimer_start(&b->holds[j].timer, b->wait);
	http_hold(r, bosh_req_gone, b);
	bosh_idle_update(b, 0);
}

/* ---- the session's stream -------------------------------------------- */

static int
bosh_element(void *arg, const char *p, size_t n, bool close)
{
	struct bosh	*b = arg;

	(void)close;
	if (n >= 7 && memcmp(p, "<close ", 7) == 0) {
		b->terminate = true;
		return 0;
	}
	if (n >= 6 && memcmp(p, "<open ", 6) == 0)
		return 0;	/* the header: the session's attributes */
	if (n >= 13 && memcmp(p, "<stream:error", 13) == 0)
		b->stream_error = true;
	return buf_append(&b->out, p, n);
}

static int
bosh_encode(struct transport *tp, const char *p, size_t n)
{
	struct stream	*st = container_of(tp, struct stream, tp);
	struct bosh	*b = st->web;

	if (b == NULL)
		return 0;
	if (ws_split_feed(&b->split, p, n, bosh_element, b) == -1)
		return -1;
	bosh_pump(b);
	return 0;
}

static const struct tp_framing bosh_framing = { NULL, bosh_encode };

static void
bosh_free(struct bosh *b)
{
	int	i;

	for (i = 0; i < BOSH_REQUESTS; i++) {
		ctimer_stop(&b->holds[i].timer);
		free(b->early[i].body);
	}
	ctimer_stop(&b->idle);
	buf_clear(&b->out);
	buf_clear(&b->last);
	ws_split_clear(&b->split);
	free(b->to);
	free(b->lang);
	free(b);
}

/* the stream is freed (stream.c) */
static void
bosh_stream_gone(void *arg)
{
	struct bosh	*b = arg;

	b->st = NULL;
	b->terminate = true;
	b->busy = false;
	if (map_get(sessions, b->sid) == b)
		bosh_end(b);	/* answers what is held, frees */
	else
		bosh_free(b);
}

/*
 * Out of the table; held requests get the end. The struct goes with its
 * stream (bosh_stream_gone), or now if that is gone already.
 */
static void
bosh_end(struct bosh *b)
{
	int	i;

	if (map_get(sessions, b->sid) != b)
		return;
	map_del(sessions, b->sid);
	b->terminate = true;
	for (i = 0; i < BOSH_REQUESTS; i++) {
		if (b->holds[i].req != NULL)
			bosh_answer(b, &b->holds[i]);
		if (b->early[i].req != NULL)
			bosh_fail(b->early[i].req, "item-not-found");
		b->early[i].req = NULL;
	}
	ctimer_stop(&b->idle);
	if (b->st != NULL) {
		log_debug("bosh %s ends", b->sid);
		/* a client that vanished: its session may resume (SM) */
		stream_lost(b->st);
		return;
	}
	bosh_free(b);
}

static void
bosh_idle_cb(struct ctimer *t)
{
	struct bosh	*b = container_of(t, struct bosh, idle);

	log_info("bosh %s inactive: ending the session", b->sid);
	bosh_end(b);
}

/* ---- requests ------------------------------------------------------- */

struct bosh_body {
	struct http_req	*req;
	const char	*p;		/* the body, borrowed */
	size_t		 len;
	struct bosh	*b;		/* NULL: a creation */
	uint64_t	 rid;
	int		 done;		/* 0 handled, -1 refused */
	bool		 called;	/* the body came: a second
					   element is not looked at */
};

static void
bosh_header(struct bosh *b)
{
	struct buf	h;

	buf_init(&h, 0);
	buf_puts(&h, "<stream:stream xmlns='" NS_CLIENT "' xmlns:stream='"
	    NS_STREAM "' to='");
	xml_escape(&h, b->to, strlen(b->to));
	buf_puts(&h, "' version='1.0'");
	if (b->lang != NULL) {
		buf_puts(&h, " xml:lang='");
		xml_escape(&h, b->lang, strlen(b->lang));
		buf_puts(&h, "'");
	}
	buf_puts(&h, ">");
	stream_feed(b->st, buf_rptr(&h), buf_avail(&h));
	buf_clear(&h);
}

static int
bosh_create(struct http_req *r, struct xnode *body, uint64_t rid)
{
	struct bosh	*b;
	const struct conf_host *h;
	const char	*to, *v;
	unsigned char	 rnd[BOSH_SID_RAND / 2];
	char		 dom[JID_PART_MAX + 1];
	int		 i;

	to = xnode_attr(body, "to");
	if (to == NULL || jid_nameprep(to, dom) == -1 ||
	    (h = conf_host_find(&c2s.conf, dom)) == NULL) {
		bosh_fail(r, "host-unknown");
		return 0;
	}
	if (c2s.nstreams >= c2s.conf.c2s_max_sessions) {
		bosh_fail(r, "system-shutdown");
		return 0;
	}
	b = xcalloc(1, sizeof(*b));
	random_bytes(rnd, sizeof(rnd));
	snprintf(b->sid, sizeof(b->sid), "%04x", (unsigned)c2s.instance);
	hex_encode(b->sid + BOSH_SID_INST, rnd, sizeof(rnd));
	b->to = xstrdup(h->name);
	if ((v = xnode_attr_ns(body, NS_XML, "lang")) != NULL &&
	    strlen(v) <= 35)
		b->lang = xstrdup(v);
	b->rid = rid;
	b->wait = c2s.conf.bosh_max_wait;
	if ((v = xnode_attr(body, "wait")) != NULL && atoi(v) >= 0 &&
	    atoi(v) < b->wait)
		b->wait = atoi(v) > 0 ? atoi(v) : 1;
	b->hold = BOSH_HOLD;
	if ((v = xnode_attr(body, "hold")) != NULL && atoi(v) == 0)
		b->hold = 0;
	buf_init(&b->out, BOSH_MAX_BODY);
	buf_init(&b->last, 0);
	ws_split_init(&b->split, STREAM_OUT_MAX);
	for (i = 0; i < BOSH_REQUESTS; i++) {
		ctimer_init(&b->holds[i].timer, bosh_wait_cb);
		b->holds[i].b = b;
	}
	ctimer_init(&b->idle, bosh_idle_cb);
	map_put(sessions, b->sid, b);
	b->st = stream_web_new(r->client, r->secure, &bosh_framing, b,
	    bosh_stream_gone);
	if (b->st != NULL)	/* an element travels in one request body */
		b->st->web_max = c2s.conf.http_max_body_size;
	log_debug("bosh %s created for %s", b->sid, r->client);
	bosh_hold_req(b, r);
	b->busy = true;
	if (b->st != NULL && !tp_closing(&b->st->tp))
		bosh_header(b);
	b->busy = false;
	/* the creation is answered at once (XEP-0124 7.1) */
	if (bosh_oldest(b) != NULL)
		bosh_answer(b, bosh_oldest(b));
	bosh_pump(b);
	return 0;
}

/* one body of the session, in rid order */
static void
bosh_process(struct bosh *b, struct http_req *r, struct xnode *body)
{
	struct xnode	*c;
	struct buf	 x;
	const char	*v;
	char		*end;
	long		 pause;

	b->rid++;
	if (b->st == NULL || b->terminate) {
		bosh_fail(r, "item-not-found");
		return;
	}
	b->busy = true;
	/* XEP-0206 5: xmpp:restart, after SASL */
	v = xnode_attr_ns(body, NS_XBOSH, "restart");
	buf_init(&x, LINK_STANZA_MAX);
	for (c = xnode_child(body, NULL, NULL); c != NULL && b->st != NULL;
	    c = xnode_next(c, NULL, NULL)) {
		buf_reset(&x);
		if (xnode_write(&x, c, NS_CLIENT) == -1) {
			stream_error(b->st, SERR_POLICY_VIOLATION,
			    "stanza too large");
			break;
		}
		stream_feed(b->st, buf_rptr(&x), buf_avail(&x));
	}
	buf_clear(&x);
	if (b->st != NULL && v != NULL && (strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0))
		bosh_header(b);
	b->busy = false;
	bosh_hold_req(b, r);
	v = xnode_attr(body, "type");
	if (v != NULL && strcmp(v, "terminate") == 0 && b->st != NULL) {
		/* XEP-0124 13: the client ends the session */
		stream_feed(b->st, "</stream:stream>", 16);
		b->terminate = true;
	}
	if ((v = xnode_attr(body, "pause")) != NULL && !b->terminate) {
		/* XEP-0124 10: pause; every held request is answered */
		pause = strtol(v, &end, 10);
		if (*v < '0' || *v > '9' || *end != '\0' || pause < 1) {
			/* 17.2: a binding element of the wrong form */
			b->condition = "bad-request";
			bosh_end(b);
			return;
		}
		if (pause > BOSH_MAXPAUSE) {
			/* 10: "SHOULD return a policy-violation" */
			b->condition = "policy-violation";
			bosh_end(b);
			return;
		}
		while (bosh_oldest(b) != NULL)
			bosh_answer(b, bosh_oldest(b));
		ctimer_start(&b->idle, (double)pause);
		return;
	}
	bosh_pump(b);
}

/* the instance a sid names, or -1 for what no worker makes */
static int
bosh_sid_owner(const char *sid)
{
	int	inst = 0, i;

	if (strlen(sid) != BOSH_SID_LEN ||
	    strspn(sid, "0123456789abcdef") != BOSH_SID_LEN)
		return -1;
	for (i = 0; i < BOSH_SID_INST; i++)
		inst = inst * 16 + (sid[i] <= '9' ? sid[i] - '0' :
		    sid[i] - 'a' + 10);
	return inst > 0 ? inst : -1;
}

/*
 * The session of sid, or NULL: none here, the request then forwarded
 * to the worker that holds it (*fwd) or no session has that sid.
 */
static struct bosh *
bosh_session(struct bosh_body *j, const char *sid, bool *fwd)
{
	struct http_req	*r = j->req;
	struct bosh	*b;
	int		 owner;

	*fwd = false;
	if ((b = map_get(sessions, sid)) != NULL)
		return b;
	owner = bosh_sid_owner(sid);
	/* once only: a forwarded request is never sent on */
	if (owner > 0 && owner != c2s.instance && r->answer == NULL) {
		boshfwd_send(r, (uint32_t)owner, sid, j->p, j->len);
		*fwd = true;
	}
	return NULL;
}

/*
 * A request that is no <body/> of XEP-0124 4 (another element, another
 * namespace, no or a bad rid). With no session to speak of it gets 400
 * (17.1); naming a session it is the terminal binding condition
 * bad-request (17.2) for that session, which ends: a client that sends
 * such a thing cannot go on in step.
 */
static void
bosh_malformed(struct bosh_body *j, const char *sid)
{
	struct bosh	*b;
	bool		 fwd;

	if (sid == NULL || (b = bosh_session(j, sid, &fwd)) == NULL) {
		if (sid == NULL || !fwd)
			j->done = -1;
		return;
	}
	bosh_fail(j->req, "bad-request");
	b->condition = "bad-request";
	bosh_end(b);
}

static void
bosh_parsed(struct xnode *body, struct arena *a, void *arg)
{
	struct bosh_body	*j = arg;
	struct http_req		*r = j->req;
	struct bosh		*b;
	struct bosh_early	*e;
	const char		*sid, *rid;
	char			*end;
	uint64_t		 n;
	int			 i;
	bool			 fwd;

	(void)a;
	if (j->called)
		return;
	j->called = true;
	j->done = 0;
	sid = xnode_attr(body, "sid");
	/* XEP-0124 4: one body qualified by the httpbind namespace */
	if (strcmp(body->ns, NS_HTTPBIND) != 0 ||
	    strcmp(body->name, "body") != 0) {
		bosh_malformed(j, sid);
		return;
	}
	/* XEP-0124 7.1: rid is a positive integer under 2^53 */
	rid = xnode_attr(body, "rid");
	if (rid == NULL || *rid < '0' || *rid > '9' ||
	    (n = strtoull(rid, &end, 10)) == 0 || *end != '\0' ||
	    n >= (1ULL << 53)) {
		bosh_malformed(j, sid);
		return;
	}
	j->rid = n;
	if (sid == NULL) {
		bosh_create(r, body, n);
		return;
	}
	if ((b = bosh_session(j, sid, &fwd)) == NULL) {
		/* XEP-0124 17.2: an unknown sid */
		if (!fwd)
			bosh_fail(r, "item-not-found");
		return;
	}
	j->b = b;
	if (n == b->rid + 1) {
		bosh_process(b, r, body);
		return;
	}
	if (n == b->last_rid && n <= b->rid && buf_avail(&b->last) > 0) {
		/* XEP-0124 14.3: the answer again */
		bosh_reply(r, buf_rptr(&b->last), buf_avail(&b->last));
		return;
	}
	if (n > b->rid + 1 && n <= b->rid + BOSH_REQUESTS) {
		/* ahead of one still on its way: it waits its turn */
		for (i = 0; i < BOSH_REQUESTS; i++) {
			e = &b->early[i];
			if (e->req == NULL) {
				e->rid = n;
				e->req = r;
				e->len = j->len;
				e->body = xmalloc(e->len);
				memcpy(e->body, j->p, e->len);
				http_hold(r, bosh_req_gone, b);
				return;
			}
		}
	}
	/* XEP-0124 14.2: a rid out of the window ends the session */
	bosh_fail(r, "item-not-found");
	bosh_end(b);
}

static void	bosh_body(struct http_req *, const char *, size_t);

/* a body that waited for the rid before it */
static void
bosh_early_run(struct bosh *b)
{
	struct bosh_early	*e;
	struct http_req		*r;
	char			*p;
	size_t			 len;
	int			 i;

	for (i = 0; i < BOSH_REQUESTS; i++) {
		e = &b->early[i];
		if (e->req == NULL || e->rid != b->rid + 1)
			continue;
		r = e->req;
		p = e->body;
		len = e->len;
		e->req = NULL;
		e->body = NULL;
		r->gone = NULL;
		bosh_body(r, p, len);
		free(p);
		return;
	}
}

static void
bosh_body(struct http_req *r, const char *p, size_t len)
{
	struct bosh_body	 j = { r, p, len, NULL, 0, -1, false };
	struct bosh		*b;
	int			 rc;

	/* the request may be answered, and its body freed, while parsing */
	rc = xparse_one(xp, p, len, bosh_parsed, &j);
	if (j.done == -1 || (rc == -1 && !j.called)) {
		/* XEP-0124 17.1: 400 for what is not a body */
		http_cors(r, "GET, POST, OPTIONS", "Content-Type");
		http_error(r, 400, false);
		return;
	}
	if ((b = j.b) != NULL && map_get(sessions, b->sid) == b)
		bosh_early_run(b);
}

static void
bosh_init(void)
{
	if (sessions != NULL)
		return;
	sessions = map_new();
	/*
	 * no default namespace around the body: one without xmlns is in
	 * none, not in httpbind (XEP-0124 4)
	 */
	xp = xparse_new("", c2s.conf.http_max_body_size);
	xparse_peer(xp);
}

void
bosh_forwarded(struct http_req *r, const char *body, size_t len)
{
	bosh_init();
	bosh_body(r, body, len);
}

void
bosh_handle(struct http_req *r)
{
	struct buf	body;

	bosh_init();
	if (r->method == HTTP_OPTIONS) {
		http_cors(r, "GET, POST, OPTIONS", "Content-Type");
		http_respond(r, 204, NULL, NULL, 0);
		return;
	}
	if (r->method != HTTP_POST) {
		http_error(r, 405, false);
		return;
	}
	/* taken, not copied: answering the request clears its body */
	body = r->body;
	buf_init(&r->body, 0);
	bosh_body(r, buf_rptr(&body), buf_avail(&body));
	buf_clear(&body);
}
