/*
 * BOSH requests between c2s workers (docs/internals.md, "Several c2s
 * workers"). SO_REUSEPORT hands each HTTP request of a session to any
 * worker; one whose sid names another goes there through the router
 * (LINK_BOSH_FWD) while this worker keeps the client's connection, and
 * the answer (LINK_BOSH_ANSWER) is written to it. A request forwarded to
 * us is a struct http_req without a connection that bosh.c handles as a
 * local one; its answer goes back the same way.
 */
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "c2s.h"
#include "http.h"

/* a body that fits a frame with the fields around it */
#define BOSHFWD_BODY_MAX	LINK_STANZA_MAX
#define BOSHFWD_CLIENT_MAX	63	/* bytes of the client's address */

/* a request we forwarded: its client's connection waits here */
struct fwd_out {
	uint32_t		 id;
	uint32_t		 owner;		/* the instance holding it */
	struct http_req		*req;
	struct ctimer		 timer;		/* the owner's deadline */
};

/* a request forwarded to us, held by bosh.c like a local one */
struct fwd_in {
	struct http_req		 req;		/* conn NULL, answer set */
	uint32_t		 origin;	/* the forwarding instance */
	uint32_t		 id;		/* its request id */
	char			 client[BOSHFWD_CLIENT_MAX + 1];
};

static struct map	*outs;		/* id -> struct fwd_out */
static struct map	*ins;		/* origin << 32 | id -> struct fwd_in */
static uint32_t		 next_id;

static void
boshfwd_init(void)
{
	if (outs != NULL)
		return;
	outs = map_new();
	ins = map_new();
}

/* ---- the forwarding side ------------------------------------------- */

static void
boshfwd_out_free(struct fwd_out *f)
{
	map_del64(outs, f->id);
	ctimer_stop(&f->timer);
	free(f);
}

/* the client's connection went, or its deadline: the owner forgets it */
static void
boshfwd_cancel(struct fwd_out *f)
{
	struct link_out	m;

	if (!routerlink_ok(c2s.up))
		return;
	link_begin(&m, c2s.up, LINK_BOSH_FWD, 0);
	link_set_flags(&m, LINK_F_BOSH_CANCEL);
	link_put_u32(&m, f->owner);
	link_put_u32(&m, f->id);
	link_put_str(&m, NULL);
	link_put_str(&m, NULL);
	(void)link_end(&m);
}

static void
boshfwd_req_gone(struct http_req *r, void *arg)
{
	struct fwd_out	*f = arg;

	(void)r;
	boshfwd_cancel(f);
	boshfwd_out_free(f);
}

/* an HTTP error the client may retry (the rid was not used) */
static void
boshfwd_http_error(struct http_req *r, int status)
{
	http_cors(r, "GET, POST, OPTIONS", "Content-Type");
	http_error(r, status, false);
}

static void
boshfwd_timeout_cb(struct ctimer *t)
{
	struct fwd_out	*f = container_of(t, struct fwd_out, timer);
	struct http_req	*r = f->req;

	log_warnx("bosh request %u: no answer from c2s[%u]", f->id, f->owner);
	r->gone = NULL;
	boshfwd_cancel(f);
	boshfwd_out_free(f);
	bosh_fail(r, "internal-server-error");
}

void
boshfwd_send(struct http_req *r, uint32_t owner, const char *sid,
    const char *body, size_t len)
{
	struct fwd_out	*f;
	struct link_out	 m;
	double		 deadline;

	boshfwd_init();
	if (!routerlink_ok(c2s.up)) {
		/* XEP-0124 17.2: we cannot reach the session's holder */
		bosh_fail(r, "remote-connection-failed");
		return;
	}
	if (len > BOSHFWD_BODY_MAX) {
		boshfwd_http_error(r, 413);
		return;
	}
	/*
	 * Each holds one of our HTTP connections, which c2s-max-sessions
	 * bounds already; a congested link takes no more for now: the rid
	 * was not used, so the client may send it again
	 */
	if (map_count(outs) >= c2s.conf.c2s_max_sessions ||
	    link_congested(c2s.up)) {
		log_info("bosh %s: not forwarded now (%zu in flight)", sid,
		    map_count(outs));
		boshfwd_http_error(r, 503);
		return;
	}
	f = xcalloc(1, sizeof(*f));
	do {
		f->id = ++next_id;
	} while (f->id == 0 || map_get64(outs, f->id) != NULL);
	f->owner = owner;
	f->req = r;
	map_put64(outs, f->id, f);
	/*
	 * The owner answers within the session's wait, or once inactivity
	 * ends the session for a request that came before its turn and
	 * whose predecessor never came; past that and the time of a
	 * request, something is lost
	 */
	deadline = c2s.conf.bosh_max_wait + c2s.conf.bosh_max_inactivity +
	    c2s.conf.http_request_timeout;
	ctimer_init(&f->timer, boshfwd_timeout_cb);
	ctimer_start(&f->timer, deadline);
	http_hold(r, boshfwd_req_gone, f);
	link_begin(&m, c2s.up, LINK_BOSH_FWD, 0);
	link_put_u32(&m, owner);
	link_put_u32(&m, f->id);
	/* for the owner's logs; an X-Forwarded-For may be long */
	link_put_strn(&m, r->client, strnlen(r->client, BOSHFWD_CLIENT_MAX));
	link_put_strn(&m, body, len);
	(void)link_end(&m);
	log_debug("bosh %s forwarded to c2s[%u] id=%u", sid, owner, f->id);
}

/* the answer, or why there is none, to the client */
static void
boshfwd_done(struct fwd_out *f, uint32_t status, uint32_t http,
    const char *body, size_t len)
{
	struct http_req	*r = f->req;

	r->gone = NULL;
	boshfwd_out_free(f);
	switch (status) {
	case LINK_BOSH_OK:
		if (http == 200 && body != NULL)
			bosh_reply(r, body, len);
		else
			boshfwd_http_error(r, http >= 400 && http <= 599 ?
			    (int)http : 500);
		break;
	case LINK_BOSH_UNKNOWN:
		/* no worker of that number: no session has this sid */
		bosh_fail(r, "item-not-found");
		break;
	case LINK_BOSH_DOWN:
		bosh_fail(r, "remote-connection-failed");
		break;
	default:
		boshfwd_http_error(r, 503);
		break;
	}
}

struct owner_walk {
	uint32_t	  owner;
	void		**v;
	size_t		  n;
};

/* the requests forwarded to w->owner; with owner 0, every value */
static int
boshfwd_collect(const void *key, size_t klen, void *val, void *arg)
{
	struct owner_walk	*w = arg;

	(void)key;
	(void)klen;
	if (w->owner == 0 || ((struct fwd_out *)val)->owner == w->owner)
		w->v[w->n++] = val;
	return 0;
}

/* every request forwarded to owner (0: to anyone) gets status */
static void
boshfwd_fail_all(uint32_t owner, uint32_t status)
{
	struct owner_walk	w = { owner, NULL, 0 };
	size_t			i;

	if (outs == NULL || map_count(outs) == 0)
		return;
	w.v = xcalloc(map_count(outs), sizeof(*w.v));
	map_foreach(outs, boshfwd_collect, &w);
	for (i = 0; i < w.n; i++)
		boshfwd_done(w.v[i], status, 0, NULL, 0);
	free(w.v);
}

void
boshfwd_answer(uint32_t owner, uint32_t id, uint32_t status, uint32_t http,
    const char *body, size_t len)
{
	struct fwd_out	*f;

	boshfwd_init();
	if (id == 0) {
		/* the router lost that worker */
		boshfwd_fail_all(owner, status);
		return;
	}
	if ((f = map_get64(outs, id)) == NULL || f->owner != owner) {
		/* its connection went, or its deadline passed */
		log_debug("bosh answer %u from c2s[%u] for no request", id,
		    owner);
		return;
	}
	boshfwd_done(f, status, http, body, len);
}

/* ---- the owner's side ------------------------------------------------ */

static void
boshfwd_in_free(struct fwd_in *fi)
{
	map_del64(ins, (uint64_t)fi->origin << 32 | fi->id);
	buf_clear(&fi->req.body);
	buf_clear(&fi->req.headers);
	buf_clear(&fi->req.extra);
	free(fi);
}

static void
boshfwd_reply(uint32_t origin, uint32_t id, uint32_t status, uint32_t http,
    const char *body, size_t len)
{
	struct link_out	m;

	if (!routerlink_ok(c2s.up))
		return;
	link_begin(&m, c2s.up, LINK_BOSH_ANSWER, 0);
	link_put_u32(&m, origin);
	link_put_u32(&m, id);
	link_put_u32(&m, status);
	link_put_u32(&m, http);
	link_put_strn(&m, body, len);
	(void)link_end(&m);
}

/* http_respond of a forwarded request */
static void
boshfwd_answered(struct http_req *r, int status, const char *body,
    size_t len)
{
	struct fwd_in	*fi = container_of(r, struct fwd_in, req);

	boshfwd_reply(fi->origin, fi->id, LINK_BOSH_OK, (uint32_t)status,
	    body, len);
	boshfwd_in_free(fi);
}

/* as if its connection went: bosh.c lets go of it */
static void
boshfwd_in_drop(struct fwd_in *fi)
{
	void	(*gone)(struct http_req *, void *) = fi->req.gone;

	fi->req.gone = NULL;
	if (gone != NULL)
		gone(&fi->req, fi->req.gone_arg);
	boshfwd_in_free(fi);
}

void
boshfwd_request(uint32_t origin, uint32_t id, uint16_t flags,
    const char *client, size_t clen, const char *body, size_t blen)
{
	struct fwd_in	*fi;
	uint64_t	 key = (uint64_t)origin << 32 | id;

	boshfwd_init();
	fi = map_get64(ins, key);
	if (flags & LINK_F_BOSH_CANCEL) {
		if (fi != NULL)
			boshfwd_in_drop(fi);
		return;
	}
	if (fi != NULL) {
		log_warnx("c2s[%u] forwarded request %u twice", origin, id);
		return;
	}
	/* as many as this worker would have connections */
	if (map_count(ins) >= c2s.conf.c2s_max_sessions) {
		boshfwd_reply(origin, id, LINK_BOSH_BUSY, 503, NULL, 0);
		return;
	}
	fi = xcalloc(1, sizeof(*fi));
	fi->origin = origin;
	fi->id = id;
	if (!link_strcpy(fi->client, sizeof(fi->client), client, clen))
		snprintf(fi->client, sizeof(fi->client), "c2s[%u]", origin);
	fi->req.method = HTTP_POST;
	fi->req.client = fi->client;
	buf_init(&fi->req.headers, 0);
	buf_init(&fi->req.body, 0);
	buf_init(&fi->req.extra, 4096);
	fi->req.answer = boshfwd_answered;
	map_put64(ins, key, fi);
	log_debug("bosh request %u from c2s[%u] for %s", id, origin,
	    fi->client);
	/* fi may be answered, and freed, before this returns */
	bosh_forwarded(&fi->req, body != NULL ? body : "", blen);
}

/*
 * The router link went: no answer can reach us or leave. Our clients
 * hear it now; what we held for others is let go.
 */
void
boshfwd_link_lost(void)
{
	struct owner_walk	w = { 0, NULL, 0 };
	size_t			i;

	boshfwd_fail_all(0, LINK_BOSH_DOWN);
	if (ins == NULL || map_count(ins) == 0)
		return;
	w.v = xcalloc(map_count(ins), sizeof(*w.v));
	map_foreach(ins, boshfwd_collect, &w);
	for (i = 0; i < w.n; i++)
		boshfwd_in_drop(w.v[i]);
	free(w.v);
}
