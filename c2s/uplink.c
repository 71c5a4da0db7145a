/*
 * The c2s side of the router link: connect (and reconnect after a router
 * restart, announcing the sessions that survived), send requests, and
 * dispatch the router's frames to streams.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/credwire.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "c2s.h"

#define UPLINK_RETRY	0.5	/* seconds between connection attempts */

static int
uplink_frame(struct link *l, const struct link_hdr *h, const char *payload,
    void *ctx)
{
	struct link_in		 in;
	struct stream		*st;
	struct scram_creds	 creds;
	struct link_stanza	 ls;
	uint32_t		 u32, ver, role, inst;
	char			 jid[JID_STR_MAX + 1];

	(void)ctx;
	link_in_init(&in, payload, h->len);
	if (h->type == LINK_HELLO) {
		link_get_u32(&in, &ver);
		link_get_u32(&in, &role);
		link_get_u32(&in, &inst);
		if (ver != LINK_VERSION)
			return link_fail(l, "router speaks link version %u, "
			    "we speak %u", ver, LINK_VERSION);
		return 0;
	}
	st = stream_find(h->sid);
	switch (h->type) {
	case LINK_AUTH_CRED:
		link_get_u32(&in, &u32);
		if (u32 == 0 && cred_get(&in, &creds) == -1)
			return -1;
		if (!link_in_done(&in))
			return -1;
		if (st != NULL && st->auth_stale > 0) {
			/* the answer to an aborted exchange: not this one's */
			st->auth_stale--;
			explicit_bzero(&creds, sizeof(creds));
			return 0;
		}
		if (st == NULL || st->state != ST_AUTH_WAIT) {
			log_debug("%016llx credentials for a gone stream",
			    (unsigned long long)h->sid);
			return 0;
		}
		auth_creds(st, u32 > 2 ? 2 : (int)u32, &creds);
		explicit_bzero(&creds, sizeof(creds));
		return 0;
	case LINK_SESS_BOUND:
		link_get_u32(&in, &u32);
		link_get_str(&in, jid, sizeof(jid));
		if (!link_in_done(&in))
			return -1;
		if (st != NULL && st->state == ST_BIND_WAIT)
			bind_result(st, u32, jid);
		return 0;
	case LINK_SESS_KICK:
		link_get_u32(&in, &u32);
		if (!link_in_done(&in))
			return -1;
		if (st != NULL) {
			/* the router already forgot this session */
			st->registered = false;
			stream_error(st, u32 > SERR_NONE && u32 < SERR_COUNT ?
			    (enum stream_err)u32 : SERR_UNDEFINED_CONDITION,
			    u32 == SERR_CONFLICT ?
			    "replaced by a new session" : NULL);
		}
		return 0;
	case LINK_STANZA:
		link_get_stanza(&in, &ls);
		if (!link_in_done(&in))
			return -1;
		if (st != NULL && st->state == ST_BOUND)
			stream_write(st, ls.xml, ls.xlen);
		else
			log_debug("%016llx stanza for a gone session",
			    (unsigned long long)h->sid);
		return 0;
	case LINK_STANZA_MULTI:
		link_get_stanza(&in, &ls);
		link_get_u32(&in, &u32);
		if (in.bad || u32 > in.left / 8)
			return -1;
		while (u32-- > 0) {
			uint64_t	sid;

			link_get_u64(&in, &sid);
			if ((st = stream_find(sid)) != NULL &&
			    st->state == ST_BOUND)
				stream_write(st, ls.xml, ls.xlen);
		}
		return link_in_done(&in) ? 0 : -1;
	case LINK_REG_RESULT:
		link_get_u32(&in, &u32);
		if (!link_in_done(&in))
			return -1;
		register_result(h->sid, h->flags, u32);
		return 0;
	default:
		log_warnx("router sent unexpected %s", link_msg_name(h->type));
		return -1;
	}
}

bool
uplink_up(void)
{
	return c2s.up != NULL && !c2s.up->failed;
}

static int
uplink_announce(const void *key, size_t len, void *val, void *arg)
{
	struct stream	*st = val;

	(void)key;
	(void)len;
	(void)arg;
	switch (st->state) {
	case ST_BOUND:
		/* a restarted router learns the sessions that survived */
		uplink_sess_begin(st, st->jid);
		break;
	default:
		break;
	}
	return 0;
}

struct pending {
	struct stream	**v;
	size_t		  n, cap;
};

static int
uplink_collect_pending(const void *key, size_t len, void *val, void *arg)
{
	struct stream	*st = val;
	struct pending	*p = arg;

	(void)key;
	(void)len;
	st->auth_stale = 0;	/* their answers died with the link */
	if (st->state != ST_AUTH_WAIT && st->state != ST_BIND_WAIT &&
	    st->reg_id == NULL)
		return 0;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n++] = st;
	return 0;
}

/* requests in flight died with the link: answer them (this may close) */
static void
uplink_fail_pending(void)
{
	struct pending	 p = { NULL, 0, 0 };
	size_t		 i;

	map_foreach(c2s.streams, uplink_collect_pending, &p);
	for (i = 0; i < p.n; i++) {
		if (p.v[i]->reg_id != NULL)
			register_result(p.v[i]->sid, 0,
			    XERR_INTERNAL_SERVER_ERROR + 1);
		if (p.v[i]->state == ST_AUTH_WAIT)
			auth_creds(p.v[i], 2, NULL);
		else if (p.v[i]->state == ST_BIND_WAIT)
			bind_result(p.v[i], XERR_INTERNAL_SERVER_ERROR + 1,
			    NULL);
	}
	free(p.v);
}

static void
uplink_closed(struct link *l, const char *why, void *ctx)
{
	(void)l;
	(void)ctx;
	log_warnx("router link lost: %s; reconnecting", why);
	c2s.up = NULL;
	uplink_fail_pending();
	register_link_lost();
	ev_timer_start(c2s.loop, &c2s.reconnect);
}

static void
uplink_connect_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	int		 fd;
	static bool	 warned, accepting;

	(void)revents;
	if ((fd = unix_connect(c2s.conf.rundir, "router.sock")) == -1) {
		if (!warned)
			log_info("waiting for the router at %s/router.sock: %s",
			    c2s.conf.rundir, strerror(errno));
		warned = true;
		return;
	}
	warned = false;
	ev_timer_stop(loop, w);
	c2s.up = link_new(loop, fd, "router", c2s.conf.link_queue_max,
	    uplink_frame, uplink_closed, NULL);
	link_hello(c2s.up, LINK_ROLE_C2S, (uint32_t)c2s.instance);
	log_info("connected to the router");
	/*
	 * Clients are accepted from the first connection on: before it no
	 * login could succeed. After a router restart the listeners stay
	 * open; logins meanwhile get temporary-auth-failure.
	 */
	if (!accepting) {
		accepting = true;
		listen_pause(false);
	}
	map_foreach(c2s.streams, uplink_announce, NULL);
}

void
uplink_start(void)
{
	ev_timer_init(&c2s.reconnect, uplink_connect_cb, 0., UPLINK_RETRY);
	ev_timer_start(c2s.loop, &c2s.reconnect);
}

void
uplink_auth_get(struct stream *st, const char *node)
{
	struct link_out	m;

	link_begin(&m, c2s.up, LINK_AUTH_GET, st->sid);
	link_put_str(&m, node);
	link_put_str(&m, st->domain);
	link_end(&m);
}

void
uplink_sess_begin(struct stream *st, const char *jid)
{
	struct link_out	m;

	link_begin(&m, c2s.up, LINK_SESS_BEGIN, st->sid);
	link_put_str(&m, jid);
	link_put_u32(&m, 0);
	link_end(&m);
}

void
uplink_sess_end(struct stream *st)
{
	struct link_out	m;

	if (!uplink_up())
		return;
	link_begin(&m, c2s.up, LINK_SESS_END, st->sid);
	link_end(&m);
}

int
uplink_stanza(struct stream *st, int kind, int type, const char *to,
    const char *from, struct buf *xml)
{
	struct link_out	m;

	if (!uplink_up())
		return -1;
	link_begin(&m, c2s.up, LINK_STANZA, st->sid);
	link_put_stanza(&m, kind, type, to, from, buf_rptr(xml),
	    buf_avail(xml));
	return link_end(&m);
}
