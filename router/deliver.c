/*
 * Routing. An online full JID is the fast path: the envelope names the
 * session and the bytes are copied, never parsed. Everything else follows
 * RFC 6121 8 (delivery rules) and RFC 6120 8.3 (errors), and is parsed
 * only when it must be read or answered.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/xmlstream.h"
#include "../storage/store.h"
#include "fanout.h"
#include "router.h"

int
deliver_parse(const char *xml, size_t len,
    void (*fn)(struct xnode *, struct arena *, void *), void *arg)
{
	if (router.parser == NULL)
		router.parser = xparse_new(NS_CLIENT,
		    router.conf.max_stanza_size + 4096);
	return xparse_one(router.parser, xml, len, fn, arg);
}

/*
 * Fan-out: while a batch is open, deliveries of the batch's stanza (the
 * same bytes, from the same sender) are collected per c2s link and sent
 * as one LINK_STANZA_MULTI per link when it closes, instead of one frame
 * per recipient. Any other delivery closes the batch first, so the order
 * of stanzas to a session never changes.
 */
struct fan_link {
	struct rlink	*rl;
	uint64_t	*sids;
	size_t		 n, cap;
};

static struct {
	bool		 open;
	bool		 stamp;		/* LINK_F_STAMP_TO: no 'to' in xml */
	int		 kind, type;
	const char	*from;
	const char	*xml;
	size_t		 len;
	struct fan_link	*links;
	size_t		 nlinks, cap;
} fan;

static void
fanout_begin(bool stamp, int kind, int type, const char *from,
    const char *xml, size_t len)
{
	deliver_fanout_end();
	fan.open = true;
	fan.stamp = stamp;
	fan.kind = kind;
	fan.type = type;
	fan.from = from;
	fan.xml = xml;
	fan.len = len;
}

void
deliver_fanout_begin(int kind, int type, const char *from, const char *xml,
    size_t len)
{
	fanout_begin(false, kind, type, from, xml, len);
}

void
deliver_fanout_begin_each(int kind, int type, const char *from,
    const char *xml, size_t len)
{
	fanout_begin(true, kind, type, from, xml, len);
}

static void
fanout_frame(const uint64_t *sids, size_t n, void *arg)
{
	struct fan_link	*fl = arg;
	struct link_out	 m;
	size_t		 i;

	if (n == 1) {
		link_begin(&m, fl->rl->l, LINK_STANZA, sids[0]);
		link_set_flags(&m, fan.stamp ? LINK_F_STAMP_TO : 0);
		link_put_stanza(&m, fan.kind, fan.type, NULL, fan.from, fan.xml,
		    fan.len);
		link_end(&m);
		return;
	}
	link_begin(&m, fl->rl->l, LINK_STANZA_MULTI, 0);
	link_set_flags(&m, fan.stamp ? LINK_F_STAMP_TO : 0);
	link_put_stanza(&m, fan.kind, fan.type, NULL, fan.from, fan.xml,
	    fan.len);
	link_put_u32(&m, (uint32_t)n);
	for (i = 0; i < n; i++)
		link_put_u64(&m, sids[i]);
	link_end(&m);
}

/*
 * One frame per c2s when the session list fits, else as many as it
 * takes: a broadcast is never dropped for the size of its list.
 */
static void
fanout_send(struct fan_link *fl)
{
	size_t	head;

	if (fl->rl->l->failed)
		return;
	head = fanout_head_len(0, fan.from != NULL ? strlen(fan.from) : 0,
	    fan.len);
	if (fanout_split(fl->sids, fl->n, head, LINK_MAX_PAYLOAD,
	    fanout_frame, fl) == -1)
		/* the stanza alone is over the limit: link_end says so */
		fanout_frame(fl->sids, 1, fl);
}

void
deliver_fanout_end(void)
{
	size_t	i;

	if (!fan.open)
		return;
	fan.open = false;
	for (i = 0; i < fan.nlinks; i++) {
		if (fan.links[i].n > 0)
			fanout_send(&fan.links[i]);
		fan.links[i].n = 0;
	}
	fan.nlinks = 0;
}

/* a delivery of the open batch's stanza: collected; false if it is not */
static bool
fanout_add(struct sess *s, int kind, const char *from, const char *xml,
    size_t xlen)
{
	struct fan_link	*fl = NULL;
	size_t		 i;

	if (xml != fan.xml || xlen != fan.len || kind != fan.kind ||
	    from == NULL || fan.from == NULL || strcmp(from, fan.from) != 0) {
		deliver_fanout_end();
		return false;
	}
	/* XEP-0198: kept until acked; a hibernating session only keeps it */
	if (s->sm != NULL && sm_sent(s, kind, fan.type, fan.stamp ?
	    LINK_F_STAMP_TO : 0, NULL, from, xml, xlen))
		return true;
	for (i = 0; i < fan.nlinks; i++)
		if (fan.links[i].rl == s->rl) {
			fl = &fan.links[i];
			break;
		}
	if (fl == NULL) {
		if (fan.nlinks == fan.cap) {
			fan.cap = fan.cap ? 2 * fan.cap : 8;
			fan.links = xrealloc(fan.links, fan.cap *
			    sizeof(*fan.links));
			memset(fan.links + fan.nlinks, 0, (fan.cap -
			    fan.nlinks) * sizeof(*fan.links));
		}
		fl = &fan.links[fan.nlinks++];
		fl->rl = s->rl;
		fl->n = 0;
	}
	if (fl->n == fl->cap) {
		fl->cap = fl->cap ? 2 * fl->cap : 16;
		fl->sids = xrealloc(fl->sids, fl->cap * sizeof(*fl->sids));
	}
	fl->sids[fl->n++] = s->sid;
	return true;
}

void
deliver_to_sess(struct sess *s, int kind, int type, const char *to,
    const char *from, const char *xml, size_t xlen)
{
	struct link_out	m;

	if (fan.open && fanout_add(s, kind, from, xml, xlen))
		return;
	if (s->sm != NULL && sm_sent(s, kind, type, 0, to, from, xml, xlen))
		return;

	link_begin(&m, s->rl->l, LINK_STANZA, s->sid);
	link_put_stanza(&m, kind, type, to, from, xml,
	    xlen);
	link_end(&m);
}

void
deliver_tree(struct sess *s, const struct xnode *el)
{
	struct rstanza	 rs;
	struct buf	 b;

	memset(&rs, 0, sizeof(rs));
	if ((rs.kind = stanza_kind_of(el->ns, el->name, NS_CLIENT)) == -1)
		return;
	rs.type = stanza_type_of(rs.kind, xnode_attr(el, "type"));
	if (s != NULL) {
		buf_reset(&router.scratch);
		if (xnode_write(&router.scratch, el, NS_CLIENT) == -1) {
			log_warnx("%s: stanza to %s too large, dropped",
			    __func__, s->full);
			return;
		}
		/*
		 * With its kind and type: the c2s sorts by them (an IQ
		 * result goes out at once to an inactive client, csi.c)
		 */
		deliver_to_sess(s, rs.kind, rs.type, xnode_attr(el, "to"),
		    xnode_attr(el, "from"), buf_rptr(&router.scratch),
		    buf_avail(&router.scratch));
		return;
	}
	/* no session: routed by its address, own bytes (scratch is reused) */
	rs.to = xnode_attr(el, "to");
	rs.from = xnode_attr(el, "from");
	if (rs.to == NULL || rs.from == NULL)
		return;
	buf_init(&b, LINK_STANZA_MAX);
	if (xnode_write(&b, el, NS_CLIENT) == 0) {
		rs.xml = buf_rptr(&b);
		rs.xlen = buf_avail(&b);
		deliver_stanza(&rs);
	} else
		log_warnx("%s: stanza to %s too large, dropped", __func__,
		    log_escs(rs.to));
	buf_clear(&b);
}

struct error_job {
	struct rstanza	*rs;
	enum stanza_err	 cond;
};

static void
error_build(struct xnode *el, struct arena *a, void *arg)
{
	struct error_job	*job = arg;

	if (stanza_is_error(el))
		return;
	stanza_make_error(a, el, job->cond, NULL);
	deliver_tree(job->rs->sender, el);
}

void
deliver_error(struct rstanza *rs, enum stanza_err cond)
{
	struct error_job	job = { rs, cond };

	/* RFC 6120 8.3.1: an error is never answered with an error */
	if ((rs->kind == KIND_MESSAGE && rs->type == MTYPE_ERROR) ||
	    (rs->kind == KIND_PRESENCE && rs->type == PRES_ERROR) ||
	    (rs->kind == KIND_IQ && (rs->type == IQ_ERROR ||
	    rs->type == IQ_RESULT)))
		return;
	log_debug("%s -> %s: %s", log_escs(rs->from), log_escs(rs->to),
	    stanza_err_name(cond));
	(void)deliver_parse(rs->xml, rs->xlen, error_build, &job);
}

/*
 * The services on domains of their own (conf.h), a line each: the one
 * list both routes walk. route takes a stanza to the domain or any JID
 * at it (false when the domain is not the service's); presence, NULL
 * when the service takes none, a presence.
 */
static const struct svc_route {
	const struct conf_host	*(*find)(const struct conf *,
				    const char *domain);
	bool			 (*route)(struct rstanza *,
				    const struct jid *);
	bool			 (*presence)(const char *from,
				    const struct jid *, int type,
				    const char *xml, size_t len);
} svc_routes[] = {
	{ conf_pubsub_find,	pubsub_svc_route,	NULL },
	{ conf_proxy_find,	proxy_svc_route,	NULL },
	{ conf_upload_find,	upload_svc_route,	NULL },
	{ conf_muc_find,	muc_route,		muc_presence_route },
};

static bool
deliver_svc(struct rstanza *rs, const struct jid *to)
{
	size_t	i;

	for (i = 0; i < nitems(svc_routes); i++)
		if (svc_routes[i].route(rs, to))
			return true;
	return false;
}

bool
deliver_svc_presence(const char *from, const struct jid *to, int type,
    const char *xml, size_t len)
{
	const struct svc_route	*r;
	size_t			 i;

	for (i = 0; i < nitems(svc_routes); i++) {
		r = &svc_routes[i];
		if (r->presence != NULL ? r->presence(from, to, type, xml,
		    len) : r->find(&router.conf, to->domain) != NULL)
			return true;
	}
	return false;
}

static bool
domain_is_local(const char *domain)
{
	return conf_host_find(&router.conf, domain) != NULL;
}

bool
domain_is_local_jid(const char *s)
{
	char	dom[JID_PART_MAX + 1];

	/* a host's pubsub service is ours too: its notifications go out */
	return jid_domain_of(s, dom) && conf_domain_ours(&router.conf, dom);
}

static bool
account_exists(const char *node, const char *domain)
{
	struct scram_creds	c;

	return store_account_get(router.store, node, domain, &c) == 0;
}

/*
 * RFC 6121 8.5.2.1.1: a chat or normal message to a bare JID goes to the
 * available resources with the highest non-negative priority -- all of
 * them when several share it, so every device of that rank sees it.
 * Headlines go to every available non-negative resource. Returns the
 * number of sessions reached; *bestp is that priority (-1: none).
 */
static int
deliver_bare_message(struct user *u, struct rstanza *rs, int *bestp)
{
	struct sess	*s;
	int		 best = -1, n = 0;

	for (s = u->sessions; s != NULL; s = s->next)
		if (s->available && s->priority >= 0 && s->priority > best)
			best = s->priority;
	*bestp = best;
	if (best < 0)
		return 0;
	for (s = u->sessions; s != NULL; s = s->next) {
		if (!s->available || s->priority < 0)
			continue;
		if (rs->type != MTYPE_HEADLINE && s->priority != best)
			continue;
		deliver_to_sess(s, rs->kind, rs->type, rs->to, rs->from,
		    rs->xml, rs->xlen);
		n++;
	}
	return n;
}

static void
error_blocked_build(struct xnode *el, struct arena *a, void *arg)
{
	struct rstanza	*rs = arg;
	struct xnode	*err;

	stanza_make_error(a, el, XERR_NOT_ACCEPTABLE, NULL);
	if ((err = xnode_child(el, NS_CLIENT, "error")) != NULL)
		xnode_add(a, err, "urn:xmpp:blocking:errors", "blocked");
	deliver_tree(rs->sender, el);
}

/* XEP-0191 3.5: the user tried to reach a JID it blocks */
static void
deliver_error_blocked(struct rstanza *rs)
{
	if ((rs->kind == KIND_MESSAGE && rs->type == MTYPE_ERROR) ||
	    (rs->kind == KIND_IQ && (rs->type == IQ_ERROR ||
	    rs->type == IQ_RESULT)))
		return;
	(void)deliver_parse(rs->xml, rs->xlen, error_blocked_build, rs);
}

/* XEP-0191 3.5: what a blocked entity and a blocking user get */
static bool
deliver_blocked(struct rstanza *rs, const struct jid *to)
{
	struct user	*su = rs->sender ? rs->sender->user : NULL;

	if (su != NULL && blocking_blocks(su->node, su->domain, rs->to)) {
		deliver_error_blocked(rs);
		return true;
	}
	/*
	 * Only an account of a host has a blocklist: a room of the group
	 * chat service or a remote JID is no store lookup per stanza.
	 */
	if (to->node != NULL && domain_is_local(to->domain) &&
	    blocking_blocks(to->node, to->domain, rs->from)) {
		if (rs->kind == KIND_IQ)
			deliver_error(rs, XERR_SERVICE_UNAVAILABLE);
		return true;
	}
	return false;
}

/*
 * RFC 6121 8.5.2: a message for an account with no session that can take
 * it; -1 when it was refused (the sender has the error).
 */
static int
deliver_offline(struct rstanza *rs, const char *node, const char *domain)
{
	if (rs->type != MTYPE_NORMAL && rs->type != MTYPE_CHAT)
		return 0;	/* headlines are dropped (8.5.2.1.1) */
	if (offline_store(rs, node, domain) == -1) {
		deliver_error(rs, XERR_SERVICE_UNAVAILABLE);
		return -1;
	}
	return 0;
}

/*
 * cm: a message's carbons state (XEP-0280, carbons.c), NULL for other
 * stanzas; each place a message is delivered or stored makes its copies.
 */
static void
deliver_route(struct rstanza *rs, struct carbons_msg *cm)
{
	struct sess	*s;
	struct user	*u;
	struct jid	 to;
	char		 bare[JID_STR_MAX + 1];
	int		 best = -1;
	bool		 local;

	/* presence from a session: its own state machine (presence.c) */
	if (rs->kind == KIND_PRESENCE && rs->sender != NULL) {
		presence_outbound(rs);
		return;
	}
	if (rs->to == NULL && rs->sender == NULL)
		return;		/* the s2s process never sends these */
	if (rs->to == NULL) {
		/* RFC 6120 10.3: no 'to' means the sender's own account */
		if (rs->kind == KIND_IQ)
			iq_to_server(rs, rs->sender->user->node,
			    rs->sender->user->domain);
		else {
			rs->to = rs->sender->user->bare;
			deliver_stanza(rs);
		}
		return;
	}
	/* presence from a remote server: the contact's side of RFC 6121 */
	if (rs->kind == KIND_PRESENCE) {
		if (jid_parse(&to, rs->to) == -1)
			return;
		local = domain_is_local(to.domain);
		if (deliver_svc_presence(rs->from, &to, rs->type, rs->xml,
		    rs->xlen))
			;	/* a remote occupant's to a room, or a service's */
		else if (to.node != NULL && local)
			presence_inbound(rs, to.node, to.domain, to.resource);
		else if (!local && (rs->component ||
		    conf_component_find(&router.conf, to.domain) != NULL))
			/* a component's to anyone, anyone's to a component */
			(void)s2s_forward(rs->kind, rs->type, rs->to, rs->from,
			    rs->xml, rs->xlen);
		jid_clear(&to);
		return;
	}
	/* the fast path: an online full JID, bytes copied as they are */
	if ((s = map_get(router.by_full, rs->to)) != NULL &&
	    !s->user->blocklist && (rs->sender == NULL ||
	    !rs->sender->user->blocklist)) {
		deliver_to_sess(s, rs->kind, rs->type, rs->to, rs->from,
		    rs->xml, rs->xlen);
		if (cm != NULL)
			carbons_copy(rs, cm, s->user, s, -1);
		/* XEP-0357: queued while it hibernates */
		if (s->rl == NULL)
			push_message(rs, s->user->node, s->user->domain);
		return;
	}
	if (jid_parse(&to, rs->to) == -1) {
		deliver_error(rs, XERR_JID_MALFORMED);
		return;
	}
	if (deliver_blocked(rs, &to) || deliver_svc(rs, &to))
		goto done;
	if (s != NULL) {
		deliver_to_sess(s, rs->kind, rs->type, rs->to, rs->from,
		    rs->xml, rs->xlen);
		if (cm != NULL)
			carbons_copy(rs, cm, s->user, s, -1);
		if (s->rl == NULL)
			push_message(rs, s->user->node, s->user->domain);
		goto done;
	}
	if (!domain_is_local(to.domain)) {
		/*
		 * A stanza from a remote server never goes back out, except
		 * to a component (XEP-0114); a component's own (flagged by
		 * the s2s process, router/s2s.c) goes anywhere.
		 */
		if (rs->sender == NULL && !domain_is_local_jid(rs->from) &&
		    !rs->component &&
		    conf_component_find(&router.conf, to.domain) == NULL)
			goto done;
		/*
		 * Federation: the s2s process bounces what it cannot deliver;
		 * what never reached it is bounced here (RFC 6120 8.3.3.19:
		 * federation is not available now, or 8.3.3.18: its queue is
		 * full).
		 */
		if (s2s_forward(rs->kind, rs->type, rs->to, rs->from,
		    rs->xml, rs->xlen) == -1)
			deliver_error(rs, s2s_forward_error(errno));
		else if (cm != NULL)
			carbons_copy(rs, cm, NULL, NULL, -1);
		goto done;
	}
	if (to.node == NULL) {
		if (to.resource == NULL && rs->kind == KIND_IQ)
			iq_to_server(rs, NULL, to.domain);
		else if (rs->kind == KIND_IQ)
			deliver_error(rs, XERR_SERVICE_UNAVAILABLE);
		goto done;
	}
	if (rs->kind == KIND_PRESENCE) {
		presence_inbound(rs, to.node, to.domain, to.resource);
		goto done;
	}
	jid_format(bare, to.node, to.domain, NULL);
	u = map_get(router.by_bare, bare);
	/* RFC 6121 8.5.1: no such user */
	if (u == NULL && !account_exists(to.node, to.domain)) {
		deliver_error(rs, XERR_SERVICE_UNAVAILABLE);
		goto done;
	}
	switch (rs->kind) {
	case KIND_MESSAGE:
		if (rs->type == MTYPE_ERROR)
			break;
		if (rs->type == MTYPE_GROUPCHAT) {
			/* RFC 6121 8.5.2.1.1, 8.5.3.2.1 */
			deliver_error(rs, XERR_SERVICE_UNAVAILABLE);
			break;
		}
		/* RFC 6121 8.5.3.2.1: a gone resource is as the bare JID */
		if (to.resource != NULL && rs->type == MTYPE_HEADLINE)
			break;
		if (u == NULL || deliver_bare_message(u, rs, &best) == 0) {
			if (deliver_offline(rs, to.node, to.domain) == -1)
				break;
			/* stored: each session gets it from storage */
			u = NULL;
		}
		/* XEP-0357: stored, or queued for hibernating sessions */
		push_message(rs, to.node, to.domain);
		if (cm != NULL)
			carbons_copy(rs, cm, u, NULL, best);
		break;
	case KIND_IQ:
		if (to.resource == NULL)
			iq_to_server(rs, to.node, to.domain);
		else
			/* RFC 6121 8.5.3.2.1 */
			deliver_error(rs, XERR_SERVICE_UNAVAILABLE);
		break;
	}
done:
	jid_clear(&to);
}

/*
 * A message is checked for carbons first (carbons.c: a forged carbon is
 * dropped, <private/> removed for a local recipient), then a chat or
 * normal one is archived on its way (mam.c: parsed once there, routed
 * with the bytes it gave back, our stanza-id added), then routed; each
 * place it is delivered or stored makes its carbons.
 */
void
deliver_stanza(struct rstanza *rs)
{
	struct carbons_msg	cm;
	struct buf		out;

	if (rs->kind >= 0 && (size_t)rs->kind < nitems(router.routed))
		router.routed[rs->kind]++;
	if (rs->kind != KIND_MESSAGE || rs->to == NULL) {
		deliver_route(rs, NULL);
		return;
	}
	carbons_msg_init(&cm);
	if (carbons_check(rs, &cm) == -1) {
		carbons_msg_clear(&cm);
		return;
	}
	/* mam_route decides what is archived; out allocates only if used */
	buf_init(&out, LINK_STANZA_MAX);
	mam_route(rs, &out);
	deliver_route(rs, &cm);
	buf_clear(&out);
	carbons_msg_clear(&cm);
}
