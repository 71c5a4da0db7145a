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
#include "../common/upslot.h"
#include "../common/util.h"
#include "../common/xml.h"
#include "c2s.h"

static uint32_t	uplink_next_req;	/* LINK_AUTH_GET request ids */

/*
 * How a reply finds its request (docs/internals.md): AUTH_CRED by its
 * request id, since a stream may start SASL again while an old lookup is
 * in flight; SESS_BOUND and REG_RESULT by session id and state, since a
 * stream has at most one of each in flight and the link keeps order.
 */
/*
 * A stanza from the router for st. With LINK_F_STAMP_TO it is one that
 * several sessions get alike but for 'to', which must name each
 * (XEP-0280 carbons): the router sends it once per c2s without one, and
 * st's full JID is written in after the element name.
 */
static void
uplink_deliver(struct stream *st, uint16_t flags, const struct link_stanza *ls)
{
	static struct buf	 b;
	struct link_stanza	 stamped;
	const char		*xml = ls->xml;
	size_t			 len = ls->xlen, n;
	/* counted on arrival: stream management numbers the router's frames */
	int64_t			 rseq = sm_arrived(st);

	if (ls->kind == KIND_PRESENCE)
		rejoin_in(st, ls);
	/* not the client's, yet numbered: acknowledged with what came first */
	if (sasl2_carbons_answer(st, ls)) {
		sm_skipped(st, rseq);
		return;
	}
	if (!(flags & LINK_F_STAMP_TO)) {
		csi_deliver(st, ls, rseq);
		return;
	}
	for (n = 1; n < len && strchr(" \t\r\n/>", xml[n]) == NULL; n++)
		;
	if (b.max == 0)
		buf_init(&b, LINK_MAX_PAYLOAD);
	buf_reset(&b);
	if (len < 2 || xml[0] != '<' || n == len ||
	    buf_append(&b, xml, n) == -1 || buf_puts(&b, " to='") == -1 ||
	    xml_escape(&b, st->jid, strlen(st->jid)) == -1 ||
	    buf_puts(&b, "'") == -1 || buf_append(&b, xml + n, len - n) == -1) {
		log_warnx("%016llx stanza to stamp is not one element or too "
		    "large, dropped", (unsigned long long)st->sid);
		return;
	}
	/* client state indication sees the stanza as the client will */
	stamped = *ls;
	stamped.xml = buf_rptr(&b);
	stamped.xlen = buf_avail(&b);
	csi_deliver(st, &stamped, rseq);
}

/*
 * The router's keys (LINK_SECRETS), first after its LINK_HELLO on every
 * link. Kept across a link loss: the next router's replace them. Clients
 * are accepted from the first on: before them no login could succeed,
 * and an unknown account's salt would not be the one every c2s gives.
 * After a router restart the listeners stay open; logins meanwhile get
 * temporary-auth-failure.
 */
static int
uplink_secrets(const char *payload, size_t len)
{
	static bool		accepting;
	struct link_secrets	ks;

	_Static_assert(sizeof(ks.sasl) == SASL_SECRET_LEN &&
	    sizeof(ks.upload) == UPSLOT_KEY_LEN, "key lengths");
	if (link_secrets_parse(payload, len, &ks) == -1)
		return -1;
	sasl_secret_put(ks.sasl);
	upslot_key_set(ks.upload);
	explicit_bzero(&ks, sizeof(ks));
	/* and the frame's copy, in the link's input buffer */
	explicit_bzero((char *)payload, len);
	if (!accepting) {
		accepting = true;
		listen_pause(false);
	}
	return 0;
}

static int
uplink_frame(struct link *l, const struct link_hdr *h, const char *payload,
    void *ctx)
{
	struct link_in		 in;
	struct stream		*st;
	struct scram_creds	 creds;
	struct link_stanza	 ls;
	enum stanza_err		 err;
	enum stream_err		 cond;
	uint32_t		 u32, req;
	char			 jid[JID_STR_MAX + 1];
	const char		*fast = NULL;
	size_t			 flen = 0;

	(void)ctx;
	link_in_init(&in, payload, h->len);
	st = stream_find(h->sid);
	switch (h->type) {
	case LINK_AUTH_CRED:
		memset(&creds, 0, sizeof(creds));
		link_get_u32(&in, &req);
		link_get_u32(&in, &u32);
		if (u32 == LINK_AUTH_OK && cred_get(&in, &creds) == -1)
			return -1;
		if (u32 == LINK_AUTH_OK)
			link_get_strn(&in, &fast, &flen);
		if (!link_in_done(&in) || u32 > LINK_AUTH_DISABLED ||
		    flen > LINK_FAST_MAX)
			return -1;
		if (st == NULL || st->state != ST_AUTH_WAIT ||
		    req != st->auth_req) {
			log_debug("%016llx credentials for no lookup in flight",
			    (unsigned long long)h->sid);
			explicit_bzero(&creds, sizeof(creds));
			return 0;
		}
		st->auth_req = 0;
		fast_record(st, fast, flen);
		auth_creds(st, (int)u32, &creds);
		explicit_bzero(&creds, sizeof(creds));
		return 0;
	case LINK_AUTH_UPGRADED:
		link_get_u32(&in, &u32);
		if (!link_in_done(&in))
			return -1;
		if (st != NULL && st->state == ST_AUTH_WAIT)
			upgrade_stored(st, u32 == LINK_AUTH_OK);
		return 0;
	case LINK_SESS_BOUND:
		link_get_stanza_err(&in, &err);
		link_get_str(&in, jid, sizeof(jid));
		if (!link_in_done(&in))
			return -1;
		if (st != NULL && st->state == ST_BIND_WAIT)
			bind_result(st, err, jid);
		return 0;
	case LINK_SESS_KICK:
		link_get_stream_err(&in, &cond);
		if (!link_in_done(&in) || cond == SERR_NONE)
			return -1;
		if (st != NULL) {
			/* the router already forgot this session */
			st->registered = false;
			stream_error(st, cond, cond == SERR_CONFLICT ?
			    "replaced by a new session" : NULL);
		}
		return 0;
	case LINK_STANZA:
		link_get_stanza(&in, &ls);
		if (!link_in_done(&in))
			return -1;
		if (st != NULL && st->state == ST_BOUND)
			uplink_deliver(st, h->flags, &ls);
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
				uplink_deliver(st, h->flags, &ls);
		}
		return link_in_done(&in) ? 0 : -1;
	case LINK_DRAIN:
		link_get_u32(&in, &u32);
		if (!link_in_done(&in))
			return -1;
		drain_start(u32);
		return 0;
	case LINK_QUIESCE: {
		struct link_out	m;

		if (h->len != 0 || h->sid != 0)
			return -1;
		/* what clients send from here is held: nothing follows */
		quiesce_start();
		link_begin(&m, l, LINK_QUIESCED, 0);
		return link_end(&m);
	}
	case LINK_RELEASE:
		if (h->len != 0 || h->sid != 0)
			return -1;
		quiesce_end();
		return 0;
	case LINK_SECRETS:
		if (h->sid != 0 || uplink_secrets(payload, h->len) == -1)
			return -1;
		return 0;
	case LINK_HOST_CAPS: {
		char	domain[JID_STR_MAX + 1], ver[256];

		link_get_str(&in, domain, sizeof(domain));
		link_get_str(&in, ver, sizeof(ver));
		if (!link_in_done(&in))
			return -1;
		return caps_host_set(domain, ver);
	}
	case LINK_SM_ENABLED: {
		char	id[128];

		link_get_str(&in, id, sizeof(id));
		link_get_u32(&in, &u32);
		if (!link_in_done(&in))
			return -1;
		if (st != NULL)
			sm_enabled(st, id[0] != '\0' ? id : NULL, u32);
		return 0;
	}
	case LINK_SM_RESUMED: {
		char		id[128];
		uint32_t	h_in, acked;

		link_get_stanza_err(&in, &err);
		link_get_str(&in, jid, sizeof(jid));
		link_get_str(&in, id, sizeof(id));
		link_get_u32(&in, &h_in);
		link_get_u32(&in, &acked);
		link_get_u32(&in, &u32);
		if (!link_in_done(&in) || (err == XERR_COUNT &&
		    (jid[0] == '\0' || id[0] == '\0')))
			return -1;
		if (st != NULL)
			sm_resumed(st, err, jid, id, h_in, acked, u32);
		return 0;
	}
	case LINK_SESS_KEEP: {
		const char	*xml;
		size_t		 xlen;

		link_get_str(&in, jid, sizeof(jid));
		link_get_strn(&in, &xml, &xlen);
		if (!link_in_done(&in) || xml == NULL)
			return -1;
		if (st == NULL || st->state != ST_BOUND)
			return 0;	/* gone since */
		if (jid[0] == '\0')
			stream_presence_kept(st, xml, xlen);
		else
			rejoin_keep(st, jid, xml, xlen);
		return 0;
	}
	case LINK_METRICS: {
		const char	*text;
		size_t		 len;

		link_get_u32(&in, &req);
		link_get_strn(&in, &text, &len);
		if (!link_in_done(&in) || text == NULL)
			return -1;
		metrics_result(req, text, len);
		return 0;
	}
	case LINK_REG_RESULT:
		link_get_stanza_err(&in, &err);
		if (!link_in_done(&in))
			return -1;
		register_result(h->sid, h->flags, err);
		return 0;
	case LINK_BOSH_FWD: {
		const char	*client, *body;
		size_t		 clen, blen;

		link_get_u32(&in, &u32);
		link_get_u32(&in, &req);
		link_get_strn(&in, &client, &clen);
		link_get_strn(&in, &body, &blen);
		if (!link_in_done(&in) || u32 == 0 ||
		    u32 > LINK_INSTANCE_MAX || req == 0)
			return -1;
		boshfwd_request(u32, req, h->flags, client, clen, body, blen);
		return 0;
	}
	case LINK_BOSH_ANSWER: {
		const char	*body;
		size_t		 blen;
		uint32_t	 status, http;

		link_get_u32(&in, &u32);
		link_get_u32(&in, &req);
		link_get_u32(&in, &status);
		link_get_u32(&in, &http);
		link_get_strn(&in, &body, &blen);
		if (!link_in_done(&in) || u32 == 0 ||
		    u32 > LINK_INSTANCE_MAX || status > LINK_BOSH_BUSY)
			return -1;
		boshfwd_answer(u32, req, status, http, body, blen);
		return 0;
	}
	default:
		return routerlink_unexpected(h);
	}
}

bool
uplink_up(void)
{
	return routerlink_ok(c2s.up);
}

static void
uplink_presence_again(struct stream *st)
{
	struct link_out	m;

	/*
	 * Every session at once after a restart: past the high-water mark
	 * the rest are not told (each client's next presence is), rather
	 * than the announcement passing the link's cap
	 */
	if (link_congested(c2s.up)) {
		log_debug("%016llx presence not announced: link congested",
		    (unsigned long long)st->sid);
		return;
	}
	link_begin(&m, c2s.up, LINK_STANZA, st->sid);
	link_put_stanza(&m, KIND_PRESENCE, PRES_AVAILABLE, NULL, st->jid,
	    st->presence, st->presence_len);
	link_end(&m);
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
		/*
		 * and which were available: it probes their contacts again.
		 * Before stream management, whose enable sets the router's
		 * count of the client's stanzas (h): this one is not the
		 * client's.
		 */
		if (st->presence != NULL)
			uplink_presence_again(st);
		/* and the rooms it was in, which a crash emptied */
		rejoin_announce(st);
		sm_link_up(st);
		break;
	default:
		break;
	}
	return 0;
}

/* requests in flight died with the link: answer them (this may close) */
static void
uplink_fail_pending(void)
{
	struct stream	**v, *st;
	size_t		  i, n;

	n = stream_list(&v);
	for (i = 0; i < n; i++) {
		st = v[i];
		if (st->reg_id != NULL)
			register_result(st->sid, 0,
			    XERR_INTERNAL_SERVER_ERROR);
		if (st->state == ST_AUTH_WAIT && upgrade_waiting(st))
			upgrade_stored(st, false);
		else if (st->state == ST_AUTH_WAIT) {
			st->auth_req = 0;
			auth_creds(st, LINK_AUTH_FAILED, NULL);
		} else if (st->state == ST_BIND_WAIT)
			bind_result(st, XERR_INTERNAL_SERVER_ERROR, NULL);
	}
	free(v);
}

static int
uplink_sm_lost(const void *key, size_t len, void *val, void *arg)
{
	(void)key;
	(void)len;
	(void)arg;
	sm_link_lost(val);
	return 0;
}

static void
uplink_lost(struct routerlink *rl, struct link *l)
{
	(void)rl;
	(void)l;
	c2s.up = NULL;
	uplink_fail_pending();
	/* the router's numbers and the resumes in flight died with it */
	map_foreach(c2s.streams, uplink_sm_lost, NULL);
	/* nothing to wait for: paused streams read (and are refused) */
	stream_resume_all();
	register_link_lost();
	metrics_link_lost();
	/* BOSH requests forwarded either way have no way back */
	boshfwd_link_lost();
}

/*
 * The router took our LINK_HELLO. Holding what clients sent while it
 * restarted, we say so after our sessions' announcement (queued at the
 * connect): the router answers LINK_RELEASE once every worker has
 * announced its sessions, so that no stanza released here finds its
 * recipient on another worker not yet announced (it would be stored
 * offline instead). Nothing is sent at the connect: a router of another
 * link version closes the link.
 */
static void
uplink_hello(struct routerlink *rl, struct link *l)
{
	struct link_out	m;

	(void)rl;
	if (!c2s.holding)
		return;
	link_begin(&m, l, LINK_QUIESCED, 0);
	link_end(&m);
}

/* below the high-water mark again: paused and held streams go on */
static void
uplink_drained(void)
{
	stream_resume_all();
	stream_release_all();
}

static void
uplink_connected(struct routerlink *rl, struct link *l)
{
	(void)rl;
	c2s.up = l;
	map_foreach(c2s.streams, uplink_announce, NULL);
}

void
uplink_start(void)
{
	struct routerlink	*rl = &c2s.uplink;

	rl->on_frame = uplink_frame;
	rl->on_up = uplink_connected;
	rl->on_lost = uplink_lost;
	rl->on_drain = uplink_drained;
	rl->on_hello = uplink_hello;
	if (routerlink_start(rl, c2s.loop, &c2s.conf, LINK_ROLE_C2S,
	    (uint32_t)c2s.instance) == -1)
		fatalx("cannot set up the router link");
}

void
uplink_auth_get(struct stream *st, const char *node)
{
	struct link_out	m;

	/* 0 is never an id: a stream with auth_req 0 waits for none */
	if (++uplink_next_req == 0)
		uplink_next_req = 1;
	st->auth_req = uplink_next_req;
	link_begin(&m, c2s.up, LINK_AUTH_GET, st->sid);
	link_put_u32(&m, st->auth_req);
	link_put_str(&m, node);
	link_put_str(&m, st->domain);
	link_put_str(&m, fast_device(st));
	link_end(&m);
}

void
uplink_fast_put(struct stream *st, const char *dev, const struct buf *rec)
{
	struct link_out	m;

	if (!uplink_up())
		return;
	link_begin(&m, c2s.up, LINK_FAST_PUT, st->sid);
	link_put_str(&m, st->node);
	link_put_str(&m, st->domain);
	link_put_str(&m, dev);
	link_put_strn(&m, buf_rptr(rec), buf_avail(rec));
	link_end(&m);
}

/* XEP-0480: SHA-256 credentials for an account with SHA-1 ones only */
void
uplink_auth_upgrade(struct stream *st, const struct scram_cred *c)
{
	struct link_out	m;
	size_t		hlen = scram_hash_len(SCRAM_SHA256);

	link_begin(&m, c2s.up, LINK_AUTH_UPGRADE, st->sid);
	link_put_str(&m, st->node);
	link_put_str(&m, st->domain);
	link_put_u32(&m, c->iter);
	link_put_strn(&m, (const char *)c->salt, c->saltlen);
	link_put_strn(&m, (const char *)c->stored_key, hlen);
	link_put_strn(&m, (const char *)c->server_key, hlen);
	link_end(&m);
}

/* a failed SASL attempt, for the router's count (/metrics) */
void
uplink_auth_fail(struct stream *st)
{
	struct link_out	m;

	if (c2s.up == NULL)
		return;
	link_begin(&m, c2s.up, LINK_AUTH_FAIL, st->sid);
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
	if (st->sm.lost)
		link_set_flags(&m, LINK_F_SESS_LOST);
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

void
uplink_sm_enable(struct stream *st)
{
	struct link_out	m;

	if (!uplink_up())
		return;
	link_begin(&m, c2s.up, LINK_SM_ENABLE, st->sid);
	link_put_u32(&m, st->sm.resumable ? LINK_SM_F_RESUME : 0);
	link_put_u32(&m, st->sm.max);
	link_put_u32(&m, st->sm.h_in);
	link_put_u32(&m, st->sm.h_out);
	link_put_str(&m, st->sm.on && st->sm.id != NULL ? st->sm.id : "");
	link_end(&m);
}

void
uplink_sm_ack(struct stream *st)
{
	struct link_out	m;

	if (!uplink_up())
		return;
	link_begin(&m, c2s.up, LINK_SM_ACK, st->sid);
	link_put_u32(&m, st->sm.acked);
	link_put_u32(&m, st->sm.h_in);
	link_put_u32(&m, st->sm.h_out);
	link_put_u32(&m, st->sm.last);
	link_end(&m);
}

void
uplink_sm_resume(struct stream *st, const char *previd, uint32_t h)
{
	struct link_out	m;
	char		bare[JID_STR_MAX + 1];

	jid_format(bare, st->node, st->domain, NULL);
	link_begin(&m, c2s.up, LINK_SM_RESUME, st->sid);
	link_put_str(&m, bare);
	link_put_str(&m, previd);
	link_put_u32(&m, h);
	link_end(&m);
}
